/* pve_parsers.h — pure parsers of the /etc/pve (pmxcfs) files the "cluster"
 * collector reads, and the collector's test seams.
 *
 * The parsers follow the conventions of proc_parsers.h: text is
 * NUL-terminated, problems are described in a struct parse_err with a 1-based
 * line number, and a parser that fails leaves nothing its caller may use.
 * Parsers of files made of independent entries (.vmlist entries, config
 * lines, storage sections, HA services) skip bad entries and count them in
 * err->bad_rows, describing the first; the collector then succeeds with a
 * warning. A document that is not one (cut JSON, no "nodename") fails.
 *
 *   pve_members.c  .members, .vmlist, ha/manager_status (JSON, a small scanner)
 *   pve_cluster.c  guest configs, storage.cfg, pvecfg.pm, and the collector
 *
 * Formats: ../shared/reference/pve-internals.md §1–2; the Perl sources they
 * cite are the authority where this file says "as PVE does". */
#ifndef PVESCOPE_PVE_PARSERS_H
#define PVESCOPE_PVE_PARSERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "arena.h"
#include "buf.h"
#include "fsstat.h"
#include "proc_parsers.h"
#include "pvescope.pb-c.h"

/* Node and cluster names, NUL included. PVE names nodes by DNS labels (≤ 63). */
#define PVE_NAME_MAX 64

enum pve_guest_type { PVE_GUEST_QEMU, PVE_GUEST_LXC };

/* "qemu" or "lxc", as .vmlist and the report spell them. */
const char *pve_guest_type_name(enum pve_guest_type t);

/* True for a node name that is safe as a path component of
 * nodes/<node>/...: 1..63 bytes of [A-Za-z0-9._-], not starting with '.'. */
bool pve_node_name_ok(const char *name);

/* ---- .members (pve_members.c) --------------------------------------------- */

struct pve_member {
    char     name[PVE_NAME_MAX];
    uint32_t nodeid;             /* never 0 */
    bool     online;
    bool     has_ip;
    char     ip[48];             /* INET6_ADDRSTRLEN fits */
};

struct pve_members {
    char     nodename[PVE_NAME_MAX];   /* the local node */
    bool     has_cluster;              /* false: standalone (or clinfo not loaded yet) */
    char     cluster_name[PVE_NAME_MAX];
    uint32_t config_version;           /* corosync totem.config_version */
    uint32_t expected_nodes;           /* "nodes": entries in corosync.conf */
    bool     quorate;                  /* true when standalone, as pmxcfs forces it */
    struct pve_member *v;              /* malloc'ed, sorted by name */
    size_t   n;
};

/* Parses .members. Requires a JSON object with "nodename"; "cluster" and
 * "nodelist" are optional (standalone). Every node needs a non-zero "id".
 * Returns 0, or -1 with *err (out then owns nothing). Free with
 * pve_members_free(). */
int parse_members(const char *text, struct pve_members *out, struct parse_err *err);
void pve_members_free(struct pve_members *m);
const struct pve_member *pve_members_find(const struct pve_members *m, const char *name);

/* ---- .rrd (pve_rrd.c) ---------------------------------------------------------- */

/* One node's subscription level from its .rrd entry. */
struct pve_rrd_level {
    char node[PVE_NAME_MAX];
    char level[8];               /* c, b, s, p, or "" (none) */
};

/* Parses .rrd's node entries ("pve-node-9.0/<node>:" and PVE 8's
 * "pve2-node/<node>:"; other keys are skipped) into out (at most cap),
 * keeping each node's second value, the subscription level. A node line
 * with an invalid name or level, a line without a key, and a last line
 * without its newline are bad rows (counted in err, first one described);
 * the rest is kept. Returns the number of levels. */
int parse_rrd_levels(const char *text, struct pve_rrd_level *out, size_t cap, struct parse_err *err);

/* The level parse_rrd_levels found for node, or NULL. */
const char *pve_rrd_level_of(const struct pve_rrd_level *v, size_t n, const char *node);

/* ---- .vmlist (pve_members.c) ----------------------------------------------- */

struct vmlist_entry {
    uint32_t vmid;
    uint32_t version;            /* per entry: bumped by pmxcfs on every write of the config */
    enum pve_guest_type type;
    char     node[PVE_NAME_MAX];
    uint32_t seq;                /* position in the file (keeps the first of a repeated vmid) */
    uint32_t node_id;            /* node numbered 0..n_nodes-1 in vmid order of first use (for
                                  * the compact placements, without name compares every cycle) */
};

struct pve_vmlist {
    bool     has_version;
    uint64_t version;            /* bumped on any guest add, move, delete or config write */
    struct vmlist_entry *v;      /* malloc'ed, sorted by vmid, unique */
    size_t   n;
    size_t   n_nodes;            /* distinct node names */
};

/* Parses .vmlist. Entries with a bad vmid, node name or type, or a vmid seen
 * before, are skipped and counted in err->bad_rows; "openvz" entries (PVE < 4)
 * are skipped silently. Returns 0, or -1 with *err when the text is not a
 * complete JSON object. Free with pve_vmlist_free(). */
int parse_vmlist(const char *text, struct pve_vmlist *out, struct parse_err *err);
void pve_vmlist_free(struct pve_vmlist *vl);

/* ---- ha/manager_status (pve_members.c) ------------------------------------- */

struct ha_service {
    uint32_t vmid;
    enum pve_guest_type type;    /* "vm:<vmid>" qemu, "ct:<vmid>" lxc */
    char     state[32];          /* started, stopped, fence, recovery, ... (raw) */
};

struct ha_node {
    char name[64];
    char state[16];              /* online, maintenance, unknown, fence, gone (raw) */
};

struct pve_ha {
    struct ha_service *v;        /* malloc'ed, sorted by vmid */
    size_t n;
    struct ha_node *nodes;       /* "node_status", malloc'ed, sorted by name */
    size_t n_nodes;
};

/* Parses the HA manager's status (written by pve-ha-crm with encode_json).
 * "service_status" (guests; services of other kinds are ignored) and
 * "node_status" are read, bad entries counted in err->bad_rows. An empty text is "no HA" (as PVE reads
 * it). Returns 0, or -1 with *err. Free with pve_ha_free(). */
int parse_ha_manager_status(const char *text, struct pve_ha *out, struct parse_err *err);
void pve_ha_free(struct pve_ha *ha);
const struct ha_service *pve_ha_find(const struct pve_ha *ha, uint32_t vmid, enum pve_guest_type t);
/* The HA manager's view of node name, or NULL when it has none. */
const char *pve_ha_node_state(const struct pve_ha *ha, const char *name);

/* ---- guest configs (pve_cluster.c) ----------------------------------------- */

/* PVE's parse_size: "<digits>[.<digits>][K|M|G|T[iB]]", binary units, no unit
 * = bytes, fractions truncated to whole bytes. False on anything else or
 * overflow. */
bool pve_parse_size(const char *s, size_t len, uint64_t *bytes);

/* Parses the main section of a qemu-server or lxc config into g (an
 * initialised GuestConfig; strings, disks and nics allocated from a).
 * Parsing stops at the first "[section]" line, so pending changes, special
 * sections and snapshots never leak in. Sets has_config, name (qemu "name",
 * lxc "hostname", raw bytes), sockets, cores, vcpus, cpulimit, memory_bytes
 * (PVE's maxmem: default 512 MiB), balloon_bytes, swap_bytes (lxc; default 0),
 * tags (raw), template, onboot (only when present), lock, disks, nics and
 * boot_disk_bytes (PVE's maxdisk for a stopped guest). cpus is left to
 * pve_guest_cpus(), which needs the host. Lines that are neither blank, a
 * description, a raw lxc.* key nor a valid "key: value", and known keys with
 * invalid values, are skipped and counted in err->bad_rows. Unknown keys are
 * ignored. Always returns 0 (a config has no structure to break). */
int parse_guest_config(const char *text, enum pve_guest_type type, struct arena *a,
                       Pvescope__GuestConfig *g, struct parse_err *err);

/* What PVE's vmstatus calls cpus (maxcpu). qemu: sockets·cores (defaults 1),
 * capped at host_cpus, replaced by vcpus when set. lxc: cores, else cpulimit
 * rounded up, else host_cpus. host_cpus 0 = unknown (no cap; lxc then 0). */
uint32_t pve_guest_cpus(const Pvescope__GuestConfig *g, enum pve_guest_type type, uint32_t host_cpus);

/* ---- storage.cfg (pve_cluster.c) ------------------------------------------- */

/* Parses storage.cfg (SectionConfig: "<type>: <id>" headers, indented
 * "key value" lines, a blank line ends a section) into StorageConfig messages
 * allocated from a. Types PVE always treats as shared (nfs, cifs, pbs, rbd,
 * cephfs, iscsi, ...) get shared = true. Bad lines, bad ids and duplicate ids
 * are skipped and counted in err->bad_rows. Returns the number of storages. */
int parse_storage_cfg(const char *text, struct arena *a, Pvescope__StorageConfig ***out, size_t *n,
                      struct parse_err *err);

/* ---- pve-manager version (pve_cluster.c) ----------------------------------- */

/* pve-manager installs its version as Perl constants; reading them costs a
 * stat per minute instead of a fork of pveversion. */
#define PVECFG_REL "usr/share/perl5/PVE/pvecfg.pm"   /* under --path.rootfs */

struct pve_version {
    char version[32];            /* "9.1.4" */
    char release[32];            /* "9.1" */
    char repoid[32];             /* "5e2d1b4c" */
};

/* Reads the strings returned by "sub version", "sub release" and
 * "sub repoid" of PVE/pvecfg.pm. version is required. Returns 0 or -1 with *err. */
int parse_pvecfg(const char *text, struct pve_version *out, struct parse_err *err);

/* ---- the "cluster" collector's test seams (pve_cluster.c) ------------------ */

/* How the collector reads a file: <root>/<rel> into b, NUL-terminated, and
 * the opened file's stat into *st unless st is NULL. Returns 0 or a
 * negative errno. */
typedef int (*pmxcfs_reader_fn)(void *arg, const char *root, const char *rel, struct buf *b,
                                struct stat *st);

/* Work done since init, for tests and benchmarks. */
struct cluster_counters {
    uint64_t members_parses, vmlist_parses, storage_parses, ha_parses, version_parses;
    uint64_t config_reads;       /* guest configs read and parsed */
    uint64_t config_stats;       /* guest configs re-validated by stat */
    uint64_t rereads;            /* second reads after a text looked torn */
};

const struct cluster_counters *cluster_collector_counters(const void *state);
void cluster_collector_set_reader(void *state, pmxcfs_reader_fn fn, void *arg);
void cluster_collector_set_pvecfg_path(void *state, const char *path);

/* storage.c: whether a storage.cfg entry is enabled (no `disable`) and its
 * `nodes` list is empty or names node. */
bool storage_enabled_on(const Pvescope__StorageConfig *s, const char *node);

/* storage.c: whether path is a mount point (field 5) in mountinfo text. */
bool storage_mountinfo_has(const char *text, const char *path);

/* Test hook: the statvfs the storage collector uses, and its deadline
 * (replaces the state's fsstat). fn NULL = the real statvfs. Returns 0, or -1
 * on out of memory. */
int storage_collector_set_stat(void *state, fsstat_fn fn, void *arg, double deadline_s);

#endif
