/* guest_parsers.h — pure parsers of the runtime files the "guests" collector
 * reads (agent/guests.c): /proc/<pid>/stat and cmdline, the cgroup v2 files
 * of a guest (cpu.stat, memory.*, io.stat), pid lists, and the host-side
 * names of guest network interfaces.
 *
 * They follow the conventions of proc_parsers.h: text is NUL-terminated
 * (except cmdline, which is NUL-separated and comes with its length), every
 * line must end in '\n', numbers are plain decimal digits without sign, and a
 * parser that fails fills *err and returns -1, leaving its outputs
 * unspecified. Unit tests (tests/unit/test_guests*.c) and the fuzz target
 * (tests/fuzz/fuzz_guests.c) call them directly on strings. */
#ifndef PVESCOPE_GUEST_PARSERS_H
#define PVESCOPE_GUEST_PARSERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fsstat.h"
#include "proc_parsers.h"

/* Proxmox VMIDs are 100..999999999; names in /run, cgroupfs and interface
 * names spell them in decimal without leading zeros. */
#define VMID_DIGITS_MAX 9

/* The largest pid Linux hands out (PID_MAX_LIMIT on 64-bit). */
#define GUEST_PID_MAX 4194304u

enum guest_kind { GUEST_QEMU, GUEST_LXC };

/* True when [s, s+len) is a VMID as Proxmox writes it: 1..9 digits, the
 * first not 0. Does not enforce the >= 100 rule of the API (files for lower
 * ids can exist and are still that guest's). */
bool parse_vmid(const char *s, size_t len, uint32_t *vmid);

/* ---- /proc/<pid>/stat ------------------------------------------------------ */

/* The fields of /proc/<pid>/stat the collector uses. */
struct pid_stat {
    uint64_t pid;
    char state;             /* R, S, D, Z, X, ... */
    uint64_t ppid;          /* field 4 */
    uint64_t utime, stime;  /* fields 14, 15: clock ticks */
    uint64_t starttime;     /* field 22: clock ticks after boot */
};

/* Parses the single line "PID (comm) S f4 ... f22 ...\n". The command name
 * may contain blanks, parentheses and newlines, so it ends at the last ')'
 * of the text. Fields 4..22 must be integers (4, 14, 15 and 22 unsigned);
 * later fields, whose number grows with the kernel, are not checked.
 * Returns 0 or -1 with *err. */
int parse_pid_stat(const char *text, struct pid_stat *out, struct parse_err *err);

/* ---- /proc/<pid>/cmdline ------------------------------------------------- */

/* True when cmdline (argv as NUL-separated strings, len bytes, the last NUL
 * optional) is the QEMU process qemu-server started for vmid, by the test of
 * qemu-server's vm_running_locally()/parse_cmdline(): argv[0] ends in "kvm"
 * or its last path component starts with "qemu-", and the value of the last
 * "-pidfile" (or "--pidfile") option is /var/run/qemu-server/<vmid>.pid
 * (/run/qemu-server/<vmid>.pid is accepted too: /var/run is a link to it). */
bool qemu_cmdline_matches(const char *cmdline, size_t len, uint32_t vmid);

/* ---- cgroup v2 files ------------------------------------------------------ */

/* Parses a flat-keyed file ("key value" per line: cpu.stat, memory.stat) and
 * returns the value of key's first line in *out. The text must end with a
 * newline (a cut-short read fails); every line up to key's must have a key
 * and a value; key's value must be one unsigned integer. Other keys' values
 * are not checked (the key sets vary by kernel), and lines after key's are
 * not read. Returns 0 or -1 with *err (also when key is missing). */
int parse_flat_keyed(const char *text, const char *key, uint64_t *out, struct parse_err *err);

/* Parses a single-value file: "N\n" (memory.current, memory.swap.current) or
 * "max\n" (memory.max without a limit: *is_max true, *out 0). Returns 0 or -1
 * with *err. */
int parse_cgroup_value(const char *text, uint64_t *out, bool *is_max, struct parse_err *err);

/* One io.stat line: the device (always a whole disk or a dm/md device:
 * the kernel accounts per disk) and its cumulative counters. */
struct io_stat_row {
    unsigned major, minor;
    uint64_t rbytes, wbytes, rios, wios;
};

typedef void (*io_stat_row_fn)(const struct io_stat_row *row, void *arg);

/* Parses io.stat ("MAJ:MIN key=value ..." per line; rbytes, wbytes, rios and
 * wios required, each once; other keys such as dbytes, dios, cost.* and
 * depth= need only a non-empty value) and calls fn for each line in order.
 * An empty text is valid: no device had I/O. Any malformed line fails the
 * whole file, since a sum over the other lines would be a wrong counter.
 * Returns the number of lines, or -1 with *err. */
int parse_io_stat(const char *text, io_stat_row_fn fn, void *arg, struct parse_err *err);

/* ---- pid lists -------------------------------------------------------------- */

/* Parses a list of pids separated by blanks or newlines (cgroup.procs: one per
 * line; /proc/<pid>/task/<tid>/children: "P1 P2 " without a newline) into
 * pids[0..cap). Each must be 1..GUEST_PID_MAX. Returns the count (0 for an
 * empty list), or -1 with *err on anything else or more than cap pids. */
int parse_pid_list(const char *text, uint32_t *pids, size_t cap, struct parse_err *err);

/* True when the cgroup v2 line ("0::/path") of a /proc/<pid>/cgroup text is
 * dir or below it ("0::/lxc/101/ns/init.scope" is below "/lxc/101/ns"). */
bool cgroup_file_in(const char *text, const char *dir);

/* ---- network ------------------------------------------------------------- */

/* Recognises the host side of a guest NIC: tap<vmid>i<N> (QEMU netN) or
 * veth<vmid>i<N> (LXC netN), as qemu-server and pve-container name them.
 * fwbr/fwln/fwpr devices are not guest NICs (they carry the same packets
 * again). Returns true with *kind and *vmid. */
bool parse_guest_ifname(const char *name, size_t len, enum guest_kind *kind, uint32_t *vmid);

/* Test hook: the statvfs the guests collector uses for LXC rootfs usage, and
 * its deadline (replaces the state's fsstat). fn NULL = the real statvfs.
 * Returns 0, or -1 on out of memory. */
int guests_collector_set_stat(void *state, fsstat_fn fn, void *arg, double deadline_s);

#endif
