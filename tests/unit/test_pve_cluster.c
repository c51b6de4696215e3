/* test_pve_cluster.c — the "cluster" collector on the /etc/pve fixture trees
 * and on temporary trees it watches change.
 *
 * pve7:            prod-fra1, 7 nodes, 32 guests, seen from pve1; pve6 offline
 * pve7-from-pve6:  the same files (symlinks) seen from the isolated pve6
 * pve-lab:         a standalone node with two guests
 * pve-migrating:   pve2's view of guest 105 whose .vmlist entry already says
 *                  pve2 while its config is still under nodes/pve1
 * pve-malformed:   bad entries and lines in every file kind
 * pve-root:        usr/share/perl5/PVE/pvecfg.pm of pve-manager 9.1.4
 * The host CPU count (caps qemu cpus) comes from host1/proc/stat: 16. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "placements.h"
#include "proc_test_util.h"
#include "pve_parsers.h"

#define GIB (UINT64_C(1) << 30)
#define PVECFG FIXTURES "/pve-root/usr/share/perl5/PVE/pvecfg.pm"
#define NO_PVECFG FIXTURES "/does-not-exist/pvecfg.pm"

/* Opens the cluster collector on an /etc/pve tree. */
static void open_pve(struct fx *f, const char *pve, const char *pvecfg)
{
    fx_open(f, &collector_cluster, FX_HOST1_PROC, FX_HOST1_SYS);
    f->ctx.pve = pve;
    cluster_collector_set_pvecfg_path(f->state, pvecfg);
}

static void *from_arena(void *arena, size_t n) { return arena_alloc(arena, n); }
static void arena_keeps(void *arena, void *p) { (void)arena, (void)p; }

/* One cycle. The report's compact placements are checked (a GuestConfig is
 * sent only for an entry with more to say than its placement) and expanded
 * into r.guests as the aggregator expands them, so the assertions see the
 * .vmlist as one list, as it was sent before compact placements. */
static int collect_vmlist(struct fx *f)
{
    int rc = fx_collect(f);
    if (rc != 0 || !f->r.placements)
        return rc;
    assert_null(placements_problem(f->r.placements));
    for (size_t i = 0; i < f->r.n_guests; i++)
        assert_false(placement_is_pure(f->r.guests[i]));
    ProtobufCAllocator a = {from_arena, arena_keeps, &f->arena};
    assert_true(placements_expand(f->r.guests, f->r.n_guests, f->r.placements, &a, &f->r.guests, &f->r.n_guests));
    f->r.placements = NULL;
    return rc;
}

static const Pvescope__GuestConfig *guest(const Pvescope__Report *r, uint32_t vmid)
{
    for (size_t i = 0; i < r->n_guests; i++)
        if (r->guests[i]->vmid == vmid)
            return r->guests[i];
    fail_msg("guest %u not reported", vmid);
    return NULL;
}

static const Pvescope__ClusterMember *member(const Pvescope__Report *r, const char *name)
{
    for (size_t i = 0; i < r->cluster->n_members; i++)
        if (strcmp(r->cluster->members[i]->name, name) == 0)
            return r->cluster->members[i];
    fail_msg("member %s not reported", name);
    return NULL;
}

static const Pvescope__GuestDisk *disk(const Pvescope__GuestConfig *g, const char *key)
{
    for (size_t i = 0; i < g->n_disks; i++)
        if (strcmp(g->disks[i]->key, key) == 0)
            return g->disks[i];
    fail_msg("guest %u has no disk %s", g->vmid, key);
    return NULL;
}

static const Pvescope__StorageConfig *storage(const Pvescope__Report *r, const char *id)
{
    for (size_t i = 0; i < r->n_storages; i++)
        if (strcmp(r->storages[i]->id, id) == 0)
            return r->storages[i];
    fail_msg("storage %s not reported", id);
    return NULL;
}

/* The report carries nothing of this collector (a failed or non-PVE cycle). */
static void assert_nothing_reported(const Pvescope__Report *r)
{
    assert_null(r->cluster);
    assert_null(r->pve);
    assert_int_equal(r->n_guests, 0);
    assert_int_equal(r->n_storages, 0);
}

/* ---- pve7 from pve1 ---------------------------------------------------------- */

static void t_pve7_cluster_view(void **unused)
{
    (void)unused;
    struct fx f;
    open_pve(&f, FIXTURES "/pve7", PVECFG);
    assert_int_equal(fx_collect(&f), 0);
    assert_string_equal(f.ctx.err, "");
    const Pvescope__ClusterView *cv = f.r.cluster;
    assert_non_null(cv);
    assert_string_equal(cv->name, "prod-fra1");
    assert_true(cv->has_config_version && cv->config_version == 11);
    assert_true(cv->has_expected_nodes && cv->expected_nodes == 7);
    assert_true(cv->has_quorate && cv->quorate);
    assert_int_equal(cv->n_members, 7);
    for (int i = 1; i <= 7; i++) {
        char name[16], ip[24];
        snprintf(name, sizeof name, "pve%d", i);
        snprintf(ip, sizeof ip, "10.20.0.1%d", i);
        const Pvescope__ClusterMember *m = member(&f.r, name);
        assert_int_equal(m->nodeid, (uint32_t)i);
        assert_true(m->has_online);
        assert_int_equal(m->online, i != 6);
        assert_string_equal(m->ip, ip);
        assert_string_equal(m->ha_state, i == 6 ? "unknown" : "online");  /* ha/manager_status node_status */
    }
    assert_true(cv->has_vmlist_version && cv->vmlist_version == 57);
    assert_string_equal(cv->pve_version, "9.1.4");
    assert_string_equal(cv->pve_release, "9.1");
    assert_string_equal(cv->pve_repoid, "5e2d1b4c");
    assert_string_equal(f.r.pve->cluster_name, "prod-fra1");
    assert_true(f.r.pve->has_nodeid && f.r.pve->nodeid == 1);
    Pvescope__Report *back = fx_roundtrip(&f);
    assert_int_equal(back->n_guests, 12);                    /* 10 configured, 201 and 302 HA-managed */
    assert_int_equal(back->placements->n_vmid_delta, 20);    /* the rest */
    pvescope__report__free_unpacked(back, NULL);
    fx_close(&f);
}

static void t_pve7_placement(void **unused)
{
    (void)unused;
    struct fx f;
    open_pve(&f, FIXTURES "/pve7", NO_PVECFG);
    assert_int_equal(collect_vmlist(&f), 0);
    assert_int_equal(f.r.n_guests, 32);
    assert_null(f.r.cluster->pve_version);
    static const char *const nodes[] = {"pve1", "pve2", "pve3", "pve4", "pve5", "pve6", "pve7"};
    static const int per_node[] = {7, 4, 4, 4, 4, 3, 6};
    int seen[7] = {0}, lxc = 0, with_config = 0;
    uint32_t prev = 0;
    for (size_t i = 0; i < f.r.n_guests; i++) {
        const Pvescope__GuestConfig *g = f.r.guests[i];
        assert_true(g->vmid > prev);                       /* sorted by vmid */
        prev = g->vmid;
        for (int n = 0; n < 7; n++)
            seen[n] += strcmp(g->node, nodes[n]) == 0;
        lxc += strcmp(g->type, "lxc") == 0;
        bool local_or_offline = strcmp(g->node, "pve1") == 0 || strcmp(g->node, "pve6") == 0;
        assert_int_equal(g->has_has_config && g->has_config, local_or_offline);
        assert_int_equal(g->name != NULL, local_or_offline);
        with_config += g->has_config;
    }
    for (int n = 0; n < 7; n++)
        assert_int_equal(seen[n], per_node[n]);
    assert_int_equal(lxc, 12);
    assert_int_equal(with_config, 10);
    assert_string_equal(guest(&f.r, 9001)->node, "pve7");
    assert_string_equal(guest(&f.r, 9001)->type, "lxc");
    fx_close(&f);
}

/* The compact form itself: pve1 sends a GuestConfig for its own and the
 * offline pve6's guests (configured) and for 201 and 302 (HA-managed); the
 * other 20 entries are vmid deltas and node indexes, nodes named in order
 * of first use: pve2 0, pve3 1, pve4 2, pve5 3, pve7 4. */
static void t_pve7_compact_placements(void **unused)
{
    (void)unused;
    struct fx f;
    open_pve(&f, FIXTURES "/pve7", NO_PVECFG);
    assert_int_equal(fx_collect(&f), 0);
    static const uint32_t sent[] = {100, 101, 102, 103, 104, 105, 201, 302, 600, 601, 602, 9000};
    assert_int_equal(f.r.n_guests, 12);
    for (size_t i = 0; i < 12; i++)
        assert_int_equal(f.r.guests[i]->vmid, sent[i]);
    const Pvescope__VmPlacements *p = f.r.placements;
    assert_non_null(p);
    static const char *const nodes[] = {"pve2", "pve3", "pve4", "pve5", "pve7"};
    assert_int_equal(p->n_nodes, 5);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(p->nodes[i], nodes[i]);
    /* 200 202 203 | 300 301 303 | 400 401 402 403 | 500 501 502 503 | 700 701 702 703 704 | 9001 */
    static const uint32_t delta[] = {200, 2, 1, 97, 1, 2, 97, 1, 1, 1, 97, 1, 1, 1, 197, 1, 1, 1, 1, 8297};
    static const uint32_t node_type[] = {0, 0, 1, 2, 3, 2, 4, 5, 4, 5, 6, 6, 7, 6, 8, 9, 8, 9, 8, 9};
    assert_int_equal(p->n_vmid_delta, 20);
    assert_int_equal(p->n_node_type, 20);
    assert_memory_equal(p->vmid_delta, delta, sizeof delta);
    assert_memory_equal(p->node_type, node_type, sizeof node_type);
    /* 5 names of 1+1+4 bytes; 2+23 for the deltas (200, 197, 8297 take two
     * bytes); 2+20 for the indexes */
    assert_int_equal(pvescope__vm_placements__get_packed_size(p), 77);
    /* as GuestConfigs: vmid 1+2, type 1+1+4 (lxc 3), node 1+1+4, and the
     * Report's key 2 and length 1 each; 12 qemu and 8 lxc */
    ProtobufCAllocator a = {from_arena, arena_keeps, &f.arena};
    Pvescope__GuestConfig **all;
    size_t n_all, old_form = 0;
    assert_true(placements_expand(f.r.guests, f.r.n_guests, p, &a, &all, &n_all));
    assert_int_equal(n_all, 32);
    for (size_t i = 0; i < n_all; i++)
        if (placement_is_pure(all[i]))
            old_form += 3 + pvescope__guest_config__get_packed_size(all[i]);
    assert_int_equal(old_form, 12 * 18 + 8 * 17);
    fx_close(&f);
}

static void t_pve7_local_configs(void **unused)
{
    (void)unused;
    struct fx f;
    open_pve(&f, FIXTURES "/pve7", NO_PVECFG);
    assert_int_equal(collect_vmlist(&f), 0);
    /* 100: §7.6, pending "cores: 6" and the snapshots' values must not leak */
    const Pvescope__GuestConfig *g = guest(&f.r, 100);
    assert_string_equal(g->name, "web01");
    assert_int_equal(g->cores, 4);
    assert_int_equal(g->cpus, 4);
    assert_int_equal(g->memory_bytes, 8 * GIB);
    assert_int_equal(g->balloon_bytes, 4 * GIB);
    assert_string_equal(g->tags, "frontend;prod;web");
    assert_true(g->has_onboot && g->onboot);
    assert_false(g->template_);
    assert_null(g->lock);
    assert_int_equal(g->boot_disk_bytes, 32 * GIB);
    assert_int_equal(g->n_disks, 3);
    assert_true(disk(g, "ide2")->cdrom);
    assert_int_equal(disk(g, "scsi1")->size_bytes, 200 * GIB);
    assert_int_equal(g->n_nics, 2);
    assert_int_equal(g->nics[0]->vlan_tag, 120);
    assert_string_equal(g->ha_state, "started");
    /* 101: §7.7, the pending "memory: 3072" must not leak */
    g = guest(&f.r, 101);
    assert_string_equal(g->name, "ct-dns01");
    assert_int_equal(g->memory_bytes, 2 * GIB);
    assert_int_equal(g->swap_bytes, 512 * (UINT64_C(1) << 20));
    assert_int_equal(g->cpus, 2);
    assert_int_equal(g->boot_disk_bytes, 8 * GIB);
    assert_null(g->ha_state);
    /* 102: vcpus over sockets·cores, cpulimit, a backup lock, onboot absent */
    g = guest(&f.r, 102);
    assert_int_equal(g->cpus, 6);
    assert_true(g->cpulimit == 2.5);
    assert_string_equal(g->lock, "backup");
    assert_false(g->has_onboot);
    assert_int_equal(g->boot_disk_bytes, 64 * GIB);
    /* 103: raw odd name, legacy boot, memory as a property string, 4·8 capped at 16 host CPUs */
    g = guest(&f.r, 103);
    assert_string_equal(g->name, "odd\"name\\with'quotes-\xc3\xbcn\xc3\xaf%41");
    assert_int_equal(g->cpus, 16);
    assert_int_equal(g->memory_bytes, 4 * GIB);
    assert_true(g->has_balloon_bytes && g->balloon_bytes == 0);
    assert_true(g->has_onboot && !g->onboot);
    assert_int_equal(g->boot_disk_bytes, 1536 * GIB);
    assert_true(disk(g, "virtio0")->boot);
    assert_string_equal(disk(g, "unused0")->volume, "vm-103-disk-3");
    assert_string_equal(g->tags, "legacy,mixed separators;ok");
    /* 104: lxc with cpulimit 1.5 (cpus rounded up), no swap key, a bind mount */
    g = guest(&f.r, 104);
    assert_int_equal(g->cpus, 2);
    assert_true(g->has_swap_bytes && g->swap_bytes == 0);
    assert_null(disk(g, "mp0")->storage);
    assert_string_equal(disk(g, "mp0")->volume, "/mnt/shared");
    /* 105: mid-migration, still placed on pve1 */
    g = guest(&f.r, 105);
    assert_string_equal(g->node, "pve1");
    assert_string_equal(g->lock, "migrate");
    /* 9000: a template; its [special:cloudinit] name does not leak */
    g = guest(&f.r, 9000);
    assert_true(g->template_);
    assert_string_equal(g->name, "debian12-tpl");
    assert_int_equal(g->boot_disk_bytes, 3758096384ULL);
    fx_close(&f);
}

/* pve6 is offline: its guests keep their configs, read from pve1's pmxcfs. */
static void t_pve7_offline_node_configs(void **unused)
{
    (void)unused;
    struct fx f;
    open_pve(&f, FIXTURES "/pve7", NO_PVECFG);
    assert_int_equal(collect_vmlist(&f), 0);
    const Pvescope__GuestConfig *g = guest(&f.r, 600);
    assert_string_equal(g->node, "pve6");
    assert_true(g->has_config);
    assert_string_equal(g->name, "erp01");                /* not pending erp01-new / snapshot erp01-old */
    assert_int_equal(g->memory_bytes, 16 * GIB);          /* not the pending 32768 */
    assert_int_equal(g->cpus, 16);
    assert_int_equal(g->boot_disk_bytes, 100 * GIB);      /* not the snapshot's 80G */
    assert_string_equal(disk(g, "scsi1")->storage, "nas-backup");
    assert_string_equal(disk(g, "scsi1")->volume, "600/vm-600-disk-1.qcow2");
    assert_string_equal(g->ha_state, "fence");
    g = guest(&f.r, 601);
    assert_string_equal(g->name, "ct-ldap01");
    assert_int_equal(g->cores, 1);
    assert_int_equal(g->boot_disk_bytes, 4 * GIB);        /* not the snapshot's 2G */
    g = guest(&f.r, 602);
    assert_string_equal(g->name, "build01");
    assert_true(g->onboot);
    /* online nodes' guests: placement and HA only */
    g = guest(&f.r, 302);
    assert_false(g->has_config);
    assert_string_equal(g->ha_state, "stopped");
    assert_string_equal(guest(&f.r, 201)->ha_state, "started");
    for (size_t i = 0; i < f.r.n_guests; i++)
        assert_true(f.r.guests[i]->vmid != 999);          /* HA-only entry: not a guest */
    fx_close(&f);
}

static void t_pve7_storages(void **unused)
{
    (void)unused;
    struct fx f;
    open_pve(&f, FIXTURES "/pve7", NO_PVECFG);
    assert_int_equal(collect_vmlist(&f), 0);
    assert_int_equal(f.r.n_storages, 7);
    static const char *const order[] = {"local", "local-lvm", "nvmethin01", "tank", "nas-backup", "pbs01", "old-share"};
    for (int i = 0; i < 7; i++)
        assert_string_equal(f.r.storages[i]->id, order[i]);
    const Pvescope__StorageConfig *s = storage(&f.r, "local");
    assert_string_equal(s->type, "dir");
    assert_string_equal(s->path, "/var/lib/vz");
    assert_string_equal(s->content, "iso,vztmpl,backup");
    assert_false(s->shared);
    s = storage(&f.r, "nvmethin01");
    assert_string_equal(s->type, "lvmthin");
    assert_string_equal(s->vgname, "nvme01");
    assert_string_equal(s->thinpool, "nvmethin01");
    s = storage(&f.r, "tank");
    assert_string_equal(s->pool, "tank/vmdata");
    assert_int_equal(s->n_nodes, 1);
    assert_string_equal(s->nodes[0], "pve4");
    assert_true(storage(&f.r, "nas-backup")->shared);
    assert_true(storage(&f.r, "pbs01")->shared);
    s = storage(&f.r, "old-share");
    assert_true(s->has_disabled && s->disabled);
    assert_int_equal(s->n_nodes, 2);
    fx_close(&f);
}

/* ---- other views ----------------------------------------------------------------- */

static void t_pve7_from_isolated_pve6(void **unused)
{
    (void)unused;
    struct fx f;
    open_pve(&f, FIXTURES "/pve7-from-pve6", NO_PVECFG);
    assert_int_equal(collect_vmlist(&f), 0);
    assert_string_equal(f.ctx.err, "");
    assert_false(f.r.cluster->quorate);
    assert_true(member(&f.r, "pve6")->online);
    assert_false(member(&f.r, "pve1")->online);
    assert_null(member(&f.r, "pve7")->ip);
    assert_int_equal(f.r.pve->nodeid, 6);
    assert_int_equal(f.r.n_guests, 32);
    for (size_t i = 0; i < f.r.n_guests; i++)     /* every other node is offline from here */
        assert_true(f.r.guests[i]->has_config);
    assert_string_equal(guest(&f.r, 200)->name, "app01");
    fx_close(&f);
}

static void t_standalone(void **unused)
{
    (void)unused;
    struct fx f;
    open_pve(&f, FIXTURES "/pve-lab", NO_PVECFG);
    assert_int_equal(collect_vmlist(&f), 0);
    const Pvescope__ClusterView *cv = f.r.cluster;
    assert_null(cv->name);
    assert_int_equal(cv->n_members, 0);
    assert_false(cv->has_config_version);
    assert_true(cv->has_quorate && cv->quorate);
    assert_null(f.r.pve->cluster_name);
    assert_false(f.r.pve->has_nodeid);
    assert_int_equal(f.r.n_guests, 2);
    assert_string_equal(guest(&f.r, 100)->name, "lab-vm01");
    assert_string_equal(guest(&f.r, 101)->name, "lab-ct01");
    assert_int_equal(f.r.n_storages, 2);
    fx_close(&f);
}

/* .vmlist placement wins: the guest is reported once, on its new node, and
 * without a config until pmxcfs has it at nodes/pve2 (never the stale copy). */
static void t_migration(void **unused)
{
    (void)unused;
    struct fx f;
    open_pve(&f, FIXTURES "/pve-migrating", NO_PVECFG);
    assert_int_equal(collect_vmlist(&f), 0);
    assert_int_equal(f.r.n_guests, 2);
    const Pvescope__GuestConfig *g = guest(&f.r, 105);
    assert_string_equal(g->node, "pve2");
    assert_false(g->has_config);
    assert_null(g->name);
    assert_true(guest(&f.r, 200)->has_config);
    assert_err_contains(f.ctx.err, "nodes/pve2/qemu-server/105.conf: No such file or directory");
    fx_close(&f);
}

static void t_malformed_tree(void **unused)
{
    (void)unused;
    struct fx f;
    open_pve(&f, FIXTURES "/pve-malformed", NO_PVECFG);
    assert_int_equal(collect_vmlist(&f), 0);               /* skipped input is a warning */
    assert_err_contains(f.ctx.err, "/.vmlist: skipped 3 bad entries, first at line 5: guest with bad vmid");
    assert_err_contains(f.ctx.err, "(+3 more)");       /* storage.cfg, manager_status, 100.conf */
    assert_int_equal(f.r.n_guests, 3);
    const Pvescope__GuestConfig *g = guest(&f.r, 100);
    assert_string_equal(g->name, "malformed01");
    assert_false(g->has_cores);
    g = guest(&f.r, 105);                               /* no final newline, same bytes twice */
    assert_true(g->has_config);
    assert_string_equal(g->name, "no-final-newline");
    assert_string_equal(g->ha_state, "migrate");
    assert_int_equal(guest(&f.r, 104)->boot_disk_bytes, 4 * GIB);
    assert_int_equal(f.r.n_storages, 2);
    assert_true(storage(&f.r, "nas")->shared);
    fx_close(&f);
}

static void t_not_a_pve_node(void **unused)
{
    (void)unused;
    struct fx f;
    open_pve(&f, FIXTURES "/does-not-exist", NO_PVECFG);
    assert_int_equal(collect_vmlist(&f), 0);
    assert_string_equal(f.ctx.err, "");
    assert_nothing_reported(&f.r);
    fx_close(&f);
}

/* ---- temporary trees ---------------------------------------------------------------- */

static void write_file(const char *dir, const char *rel, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        mkdir(path, 0755);
        *p = '/';
    }
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void rm_tree(const char *dir) { nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

static const char lab_vmlist[] = "{\n\"version\": 4,\n\"ids\": {\n"
                                 "\"101\": { \"node\": \"lab\", \"type\": \"lxc\", \"version\": 3 },\n"
                                 "\"100\": { \"node\": \"lab\", \"type\": \"qemu\", \"version\": 2 }}\n\n}\n";

/* A standalone node "lab" with guests 100 (qemu) and 101 (lxc). */
static void make_lab(char *dir)
{
    strcpy(dir, "/tmp/pvescope-test-XXXXXX");
    assert_non_null(mkdtemp(dir));
    write_file(dir, ".members", "{\n\"nodename\": \"lab\",\n\"version\": 0\n}\n");
    write_file(dir, ".vmlist", lab_vmlist);
    write_file(dir, "nodes/lab/qemu-server/100.conf", "name: vm-a\nmemory: 1024\n");
    write_file(dir, "nodes/lab/lxc/101.conf", "hostname: ct-a\nmemory: 256\n");
    write_file(dir, "storage.cfg", "dir: local\n\tpath /var/lib/vz\n");
}

static const struct cluster_counters *counters(const struct fx *f) { return cluster_collector_counters(f->state); }

static void t_truncated_files_fail_cleanly(void **unused)
{
    (void)unused;
    static const struct { const char *rel, *text, *want; } cases[] = {
        {".members", "{\n\"nodename\": \"lab\",\n\"vers", "/.members line 3: unexpected end of JSON (truncated?)"},
        {".vmlist", "{\n\"version\": 4,\n\"ids\": {\n\"101\": { \"node\": \"lab\", \"ty",
         "/.vmlist line 4: unexpected end of JSON (truncated?)"},
        {"ha/manager_status", "{\"service_status\":{\"vm:100\":{\"state\":\"star",
         "/ha/manager_status line 1: unexpected end of JSON (truncated?)"},
        {".vmlist", "{\"version\": 4, \"ids\": [1]}", "/.vmlist line 1: JSON object expected"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char dir[64];
        make_lab(dir);
        struct fx f;
        open_pve(&f, dir, NO_PVECFG);
        assert_int_equal(collect_vmlist(&f), 0);            /* a good cycle first */
        write_file(dir, cases[i].rel, cases[i].text);
        assert_int_equal(collect_vmlist(&f), -1);
        assert_err_contains(f.ctx.err, cases[i].want);
        assert_err_contains(f.ctx.err, "(read twice)");
        assert_nothing_reported(&f.r);
        assert_int_equal(counters(&f)->rereads, 1);
        fx_close(&f);
        rm_tree(dir);
    }
}

static void t_unchanged_is_not_parsed_again(void **unused)
{
    (void)unused;
    char dir[64];
    make_lab(dir);
    struct fx f;
    open_pve(&f, dir, NO_PVECFG);
    assert_int_equal(collect_vmlist(&f), 0);
    const struct cluster_counters *c = counters(&f);
    assert_int_equal(c->members_parses, 1);
    assert_int_equal(c->vmlist_parses, 1);
    assert_int_equal(c->storage_parses, 1);
    assert_int_equal(c->ha_parses, 0);                   /* absent: no HA */
    assert_int_equal(c->config_reads, 2);
    struct cluster_counters before = *c;
    for (int i = 0; i < 3; i++)
        assert_int_equal(collect_vmlist(&f), 0);
    assert_memory_equal(&before, c, sizeof before);     /* nothing parsed, read or stat'ed again */
    assert_string_equal(guest(&f.r, 100)->name, "vm-a");   /* still reported every cycle */
    assert_int_equal(f.r.n_storages, 1);

    /* storage.cfg changed: only it is parsed */
    write_file(dir, "storage.cfg", "dir: local\n\tpath /var/lib/vz\n\nnfs: nas\n\texport /x\n");
    assert_int_equal(collect_vmlist(&f), 0);
    assert_int_equal(c->storage_parses, 2);
    assert_int_equal(c->vmlist_parses, 1);
    assert_int_equal(c->config_reads, 2);
    assert_int_equal(f.r.n_storages, 2);

    /* HA appears */
    write_file(dir, "ha/manager_status", "{\"service_status\":{\"ct:101\":{\"state\":\"started\"}}}");
    assert_int_equal(collect_vmlist(&f), 0);
    assert_int_equal(c->ha_parses, 1);
    assert_string_equal(guest(&f.r, 101)->ha_state, "started");

    /* 101.conf rewritten: pmxcfs bumps its .vmlist entry; only that config is read */
    write_file(dir, "nodes/lab/lxc/101.conf", "hostname: ct-b\nmemory: 256\n");
    write_file(dir, ".vmlist", "{\n\"version\": 5,\n\"ids\": {\n"
                               "\"101\": { \"node\": \"lab\", \"type\": \"lxc\", \"version\": 9 },\n"
                               "\"100\": { \"node\": \"lab\", \"type\": \"qemu\", \"version\": 2 }}\n\n}\n");
    assert_int_equal(collect_vmlist(&f), 0);
    assert_int_equal(c->vmlist_parses, 2);
    assert_int_equal(c->config_reads, 3);
    assert_string_equal(guest(&f.r, 101)->name, "ct-b");
    assert_string_equal(guest(&f.r, 100)->name, "vm-a");
    fx_close(&f);
    rm_tree(dir);
}

/* A config changed behind .vmlist's back (impossible through pmxcfs, but a
 * restarted pmxcfs reuses version numbers) is caught by the periodic stat. */
static void t_config_revalidated_by_stat(void **unused)
{
    (void)unused;
    char dir[64];
    make_lab(dir);
    struct fx f;
    open_pve(&f, dir, NO_PVECFG);
    f.ctx.now_monotonic = 1000;
    assert_int_equal(collect_vmlist(&f), 0);
    const struct cluster_counters *c = counters(&f);
    write_file(dir, "nodes/lab/qemu-server/100.conf", "name: vm-a-renamed\nmemory: 1024\n");
    f.ctx.now_monotonic = 1100;
    assert_int_equal(collect_vmlist(&f), 0);
    assert_int_equal(c->config_stats, 0);
    assert_string_equal(guest(&f.r, 100)->name, "vm-a");   /* trusted until re-validated */
    f.ctx.now_monotonic = 1301;
    assert_int_equal(collect_vmlist(&f), 0);
    assert_int_equal(c->config_stats, 2);
    assert_int_equal(c->config_reads, 3);
    assert_string_equal(guest(&f.r, 100)->name, "vm-a-renamed");
    assert_string_equal(guest(&f.r, 101)->name, "ct-a");
    /* .vmlist's version going backwards (pmxcfs restarted) re-validates at once */
    write_file(dir, "nodes/lab/lxc/101.conf", "hostname: ct-after-restart\n");
    write_file(dir, ".vmlist", "{\n\"version\": 1,\n\"ids\": {\n"
                               "\"101\": { \"node\": \"lab\", \"type\": \"lxc\", \"version\": 3 },\n"
                               "\"100\": { \"node\": \"lab\", \"type\": \"qemu\", \"version\": 2 }}\n\n}\n");
    f.ctx.now_monotonic = 1302;
    assert_int_equal(collect_vmlist(&f), 0);
    assert_int_equal(c->config_stats, 4);
    assert_string_equal(guest(&f.r, 101)->name, "ct-after-restart");
    fx_close(&f);
    rm_tree(dir);
}

/* ---- torn reads ------------------------------------------------------------------------ */

/* A reader that serves the real file, except that the first `torn` reads of
 * `rel` return a prefix of it (a different one each time). */
struct torn_reader {
    const char *rel;
    int torn, calls;
};

static int torn_read(void *arg, const char *root, const char *rel, struct buf *b, struct stat *st)
{
    struct torn_reader *t = arg;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    int rc = read_file_at(root, rel, b);
    if (rc != 0 || (st && stat(path, st) != 0))
        return rc ? rc : -errno;
    if (strcmp(rel, t->rel) == 0 && t->calls++ < t->torn) {
        b->len = b->len / 2 + (size_t)t->calls;
        b->data[b->len] = '\0';
    }
    return 0;
}

static void t_torn_read_is_read_again(void **unused)
{
    (void)unused;
    static const struct { const char *rel; int torn, rc; } cases[] = {
        {".members", 1, 0}, {".members", 2, -1}, {".vmlist", 1, 0}, {".vmlist", 2, -1},
        {"storage.cfg", 1, 0}, {"storage.cfg", 2, -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fx f;
        struct torn_reader t = {cases[i].rel, cases[i].torn, 0};
        open_pve(&f, FIXTURES "/pve7", NO_PVECFG);
        cluster_collector_set_reader(f.state, torn_read, &t);
        int rc = collect_vmlist(&f);
        if (rc != cases[i].rc)
            fail_msg("%s torn %d times: rc %d (%s)", cases[i].rel, cases[i].torn, rc, f.ctx.err);
        assert_int_equal(counters(&f)->rereads, 1);
        if (rc == 0) {
            assert_int_equal(f.r.n_guests, 32);          /* the complete second read was used */
            assert_int_equal(f.r.n_storages, 7);
            assert_int_equal(f.r.cluster->n_members, 7);
        } else {
            assert_nothing_reported(&f.r);
            assert_err_contains(f.ctx.err, cases[i].rel);
        }
        fx_close(&f);
    }
}

static void t_torn_config(void **unused)
{
    (void)unused;
    struct fx f;
    struct torn_reader t = {"nodes/pve1/qemu-server/100.conf", 1, 0};
    open_pve(&f, FIXTURES "/pve7", NO_PVECFG);
    cluster_collector_set_reader(f.state, torn_read, &t);
    assert_int_equal(collect_vmlist(&f), 0);
    assert_string_equal(f.ctx.err, "");
    assert_int_equal(guest(&f.r, 100)->cores, 4);
    fx_close(&f);

    t = (struct torn_reader){"nodes/pve1/qemu-server/100.conf", 2, 0};
    open_pve(&f, FIXTURES "/pve7", NO_PVECFG);
    cluster_collector_set_reader(f.state, torn_read, &t);
    assert_int_equal(collect_vmlist(&f), 0);                 /* one guest's config, not the cycle */
    assert_false(guest(&f.r, 100)->has_config);
    assert_true(guest(&f.r, 101)->has_config);
    assert_err_contains(f.ctx.err, "100.conf: changed while read twice");
    assert_int_equal(collect_vmlist(&f), 0);                 /* and read again on the next cycle */
    assert_true(guest(&f.r, 100)->has_config);
    assert_string_equal(f.ctx.err, "");
    fx_close(&f);
}

/* Serves .rrd from a string (NULL: absent), every other file from disk. */
struct rrd_reader {
    const char *rrd;
    int reads;
};

static int rrd_read(void *arg, const char *root, const char *rel, struct buf *b, struct stat *st)
{
    struct rrd_reader *t = arg;
    if (strcmp(rel, ".rrd") != 0) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", root, rel);
        int rc = read_file_at(root, rel, b);
        return rc ? rc : st && stat(path, st) != 0 ? -errno : 0;
    }
    t->reads++;
    if (!t->rrd)
        return -ENOENT;
    buf_reset(b);
    buf_puts(b, t->rrd);
    return 0;
}

/* Members carry their .rrd subscription level; .rrd is read once a minute. */
static void t_subscription_levels(void **unused)
{
    (void)unused;
    struct fx f;
    struct rrd_reader t = {"pve-node-9.0/pve1:1209843:c:1718123456:1.23\n"
                           "pve-node-9.0/pve2:2210044:p:1718123451:0.88\n"
                           "pve2-node/pve3:88123::1718123449:0.31\n"
                           "pve-vm-9.0/100:861730:web01:running\n", 0};
    open_pve(&f, FIXTURES "/pve7", NO_PVECFG);
    cluster_collector_set_reader(f.state, rrd_read, &t);
    f.ctx.now_monotonic = 1000;
    assert_int_equal(collect_vmlist(&f), 0);
    assert_string_equal(member(&f.r, "pve1")->subscription_level, "c");
    assert_string_equal(member(&f.r, "pve2")->subscription_level, "p");
    assert_string_equal(member(&f.r, "pve3")->subscription_level, "");
    assert_null(member(&f.r, "pve4")->subscription_level);        /* no fresh .rrd entry */
    assert_string_equal(f.ctx.err, "");
    t.rrd = "pve-node-9.0/pve1:1209843:b:1718123456:1.23\n";
    f.ctx.now_monotonic += 30;
    assert_int_equal(collect_vmlist(&f), 0);
    assert_int_equal(t.reads, 1);                                  /* not again within a minute */
    assert_string_equal(member(&f.r, "pve1")->subscription_level, "c");
    f.ctx.now_monotonic += 31;
    assert_int_equal(collect_vmlist(&f), 0);
    assert_int_equal(t.reads, 2);
    assert_string_equal(member(&f.r, "pve1")->subscription_level, "b");
    assert_null(member(&f.r, "pve2")->subscription_level);
    /* a bad line is a warning naming the file; absent .rrd clears the levels */
    t.rrd = "pve-node-9.0/pve1:1209843:B:1\n";
    f.ctx.now_monotonic += 61;
    assert_int_equal(collect_vmlist(&f), 0);
    assert_err_contains(f.ctx.err, ".rrd: skipped 1 bad node lines, first at line 1");
    assert_null(member(&f.r, "pve1")->subscription_level);
    t.rrd = NULL;
    f.ctx.now_monotonic += 61;
    assert_int_equal(collect_vmlist(&f), 0);
    assert_null(member(&f.r, "pve2")->subscription_level);
    fx_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_pve7_cluster_view),     cmocka_unit_test(t_pve7_placement),
        cmocka_unit_test(t_pve7_compact_placements),
        cmocka_unit_test(t_pve7_local_configs),    cmocka_unit_test(t_pve7_offline_node_configs),
        cmocka_unit_test(t_pve7_storages),         cmocka_unit_test(t_pve7_from_isolated_pve6),
        cmocka_unit_test(t_standalone),            cmocka_unit_test(t_migration),
        cmocka_unit_test(t_malformed_tree),        cmocka_unit_test(t_not_a_pve_node),
        cmocka_unit_test(t_truncated_files_fail_cleanly), cmocka_unit_test(t_unchanged_is_not_parsed_again),
        cmocka_unit_test(t_config_revalidated_by_stat), cmocka_unit_test(t_torn_read_is_read_again),
        cmocka_unit_test(t_torn_config),         cmocka_unit_test(t_subscription_levels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
