/* test_pve_parsers.c — the /etc/pve parsers on inline text: .members,
 * .vmlist, ha/manager_status, guest configs (qemu and lxc), PVE sizes,
 * storage.cfg and pvecfg.pm. The texts are pve-internals.md §7's where it
 * has one. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "proc_test_util.h"
#include "pve_parsers.h"

#define GIB (UINT64_C(1) << 30)
#define MIB_ (UINT64_C(1) << 20)

/* ---- .members ---------------------------------------------------------------- */

static const char members_pve1[] =
    "{\n\"nodename\": \"pve1\",\n\"version\": 14,\n"
    "\"cluster\": { \"name\": \"prod-fra1\", \"version\": 11, \"nodes\": 7, \"quorate\": 1 },\n"
    "\"nodelist\": {\n"
    "  \"pve3\": { \"id\": 3, \"online\": 1, \"ip\": \"10.20.0.13\"},\n"
    "  \"pve1\": { \"id\": 1, \"online\": 1, \"ip\": \"10.20.0.11\"},\n"
    "  \"pve6\": { \"id\": 6, \"online\": 0, \"ip\": \"10.20.0.16\"},\n"
    "  \"pve7\": { \"id\": 7, \"online\": 1}\n  }\n}\n";

static void t_members_cluster(void **unused)
{
    (void)unused;
    struct pve_members m;
    struct parse_err err;
    assert_int_equal(parse_members(members_pve1, &m, &err), 0);
    assert_string_equal(m.nodename, "pve1");
    assert_true(m.has_cluster);
    assert_string_equal(m.cluster_name, "prod-fra1");
    assert_int_equal(m.config_version, 11);
    assert_int_equal(m.expected_nodes, 7);
    assert_true(m.quorate);
    assert_int_equal(m.n, 4);
    static const char *const names[] = {"pve1", "pve3", "pve6", "pve7"};   /* sorted */
    static const uint32_t ids[] = {1, 3, 6, 7};
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(m.v[i].name, names[i]);
        assert_int_equal(m.v[i].nodeid, ids[i]);
    }
    assert_false(m.v[2].online);
    assert_true(m.v[2].has_ip);
    assert_string_equal(m.v[2].ip, "10.20.0.16");
    assert_false(m.v[3].has_ip);
    assert_non_null(pve_members_find(&m, "pve6"));
    assert_null(pve_members_find(&m, "pve2"));
    pve_members_free(&m);
}

static void t_members_standalone_and_quorum(void **unused)
{
    (void)unused;
    struct pve_members m;
    struct parse_err err;
    assert_int_equal(parse_members("{\n\"nodename\": \"pve-lab\",\n\"version\": 0\n}\n", &m, &err), 0);
    assert_false(m.has_cluster);
    assert_true(m.quorate);                 /* standalone counts as quorate */
    assert_int_equal(m.n, 0);
    pve_members_free(&m);
    assert_int_equal(parse_members("{\"nodename\": \"pve6\", \"cluster\": {\"name\": \"c\", \"quorate\": 0},"
                                   " \"nodelist\": {\"pve6\": {\"online\": 1, \"id\": 6}}}", &m, &err), 0);
    assert_true(m.has_cluster);
    assert_false(m.quorate);
    assert_true(m.v[0].online);
    pve_members_free(&m);
    /* escapes are decoded; unknown keys and nested values skipped */
    assert_int_equal(parse_members("{\"x\": [1, {\"y\": \"}\"}], \"nodename\": \"pve\\u0031\","
                                   " \"z\": null, \"w\": -1.5e3}", &m, &err), 0);
    assert_string_equal(m.nodename, "pve1");
    pve_members_free(&m);
}

static void t_members_malformed(void **unused)
{
    (void)unused;
    struct pve_members m;
    struct parse_err err;
    char cut[sizeof members_pve1];
    memcpy(cut, members_pve1, 200);
    cut[200] = '\0';
    assert_int_equal(parse_members(cut, &m, &err), -1);    /* cut after "pve1": { "id": */
    assert_int_equal(err.line, 7);
    assert_non_null(strstr(err.msg, "truncated"));
    assert_null(m.v);
    static const char *const bad[] = {
        "", "[1]", "{\"version\": 3}", "{\"nodename\": \"a\"} x",
        "{\"nodename\": \"a\", \"nodelist\": {\"a\": {\"id\": 0}}}",
        "{\"nodename\": \"a\", \"nodelist\": {\"a\": {\"online\": 1}}}",
        "{\"nodename\": \"a\", \"nodelist\": {\"a\": {\"id\": 1}, \"a\": {\"id\": 2}}}",
        "{\"nodename\": \"a\", \"nodelist\": {\"a\": {\"id\": 1.5}}}",
        "{\"nodename\": \"a\", \"nodelist\": {\"a\": {\"id\": -1}}}",
        "{\"nodename\": \"a\\u0000b\"}", "{\"nodename\": \"a\nb\"}", "{\"nodename\": \"a\", }",
        "{\"nodename\": \"a\" \"b\": 1}",
        "{\"nodename\": \"0123456789012345678901234567890123456789012345678901234567890123456789\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (parse_members(bad[i], &m, &err) != -1)
            fail_msg("accepted: %s", bad[i]);
        assert_true(err.msg[0] != '\0');
    }
}

/* ---- .vmlist ------------------------------------------------------------------ */

static const char vmlist_doc[] =
    "{\n\"version\": 57,\n\"ids\": {\n"
    "\"100\": { \"node\": \"pve1\", \"type\": \"qemu\", \"version\": 12 },\n"
    "\"101\": { \"node\": \"pve1\", \"type\": \"lxc\", \"version\": 3 },\n"
    "\"102\": { \"node\": \"pve1\", \"type\": \"qemu\", \"version\": 44 },\n"
    "\"103\": { \"node\": \"pve1\", \"type\": \"qemu\", \"version\": 18 },\n"
    "\"9000\": { \"node\": \"pve1\", \"type\": \"qemu\", \"version\": 2 },\n"
    "\"200\": { \"node\": \"pve2\", \"type\": \"qemu\", \"version\": 25 },\n"
    "\"201\": { \"node\": \"pve2\", \"type\": \"lxc\", \"version\": 27 },\n"
    "\"300\": { \"node\": \"pve3\", \"type\": \"qemu\", \"version\": 31 },\n"
    "\"301\": { \"node\": \"pve3\", \"type\": \"lxc\", \"version\": 33 },\n"
    "\"600\": { \"node\": \"pve6\", \"type\": \"qemu\", \"version\": 40 }}\n\n}\n";

static void t_vmlist(void **unused)
{
    (void)unused;
    struct pve_vmlist vl;
    struct parse_err err;
    assert_int_equal(parse_vmlist(vmlist_doc, &vl, &err), 0);
    assert_int_equal(err.bad_rows, 0);
    assert_true(vl.has_version);
    assert_int_equal(vl.version, 57);
    assert_int_equal(vl.n, 10);
    static const uint32_t ids[] = {100, 101, 102, 103, 200, 201, 300, 301, 600, 9000};
    for (size_t i = 0; i < 10; i++)
        assert_int_equal(vl.v[i].vmid, ids[i]);
    assert_int_equal(vl.v[1].type, PVE_GUEST_LXC);
    assert_int_equal(vl.v[1].version, 3);
    assert_string_equal(vl.v[8].node, "pve6");
    assert_int_equal(vl.v[9].type, PVE_GUEST_QEMU);
    /* nodes numbered in vmid order of first use: pve1 0, pve2 1, pve3 2, pve6 3 */
    static const uint32_t node_ids[] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 0};
    for (size_t i = 0; i < 10; i++)
        assert_int_equal(vl.v[i].node_id, node_ids[i]);
    assert_int_equal(vl.n_nodes, 4);
    pve_vmlist_free(&vl);

    assert_int_equal(parse_vmlist("{\n\"version\": 3\n\n}\n", &vl, &err), 0);   /* empty cluster */
    assert_int_equal(vl.n, 0);
    assert_int_equal(vl.version, 3);
    pve_vmlist_free(&vl);
}

/* Node numbering past the hash table's first size (16 slots): 60 nodes,
 * guests dealt out in turn, so every name recurs and many collide. */
static void t_vmlist_many_nodes(void **unused)
{
    (void)unused;
    struct buf text = BUF_INIT;
    buf_puts(&text, "{\"version\": 1, \"ids\": {");
    for (int i = 0; i < 600; i++)
        buf_printf(&text, "%s\"%d\": {\"node\": \"node-%02d\", \"type\": \"qemu\"}", i ? ",\n" : "\n",
                   1000 + i, (i * 7) % 60);
    buf_puts(&text, "}}\n");
    struct pve_vmlist vl;
    struct parse_err err;
    assert_int_equal(parse_vmlist(text.data, &vl, &err), 0);
    assert_int_equal(vl.n, 600);
    assert_int_equal(vl.n_nodes, 60);
    uint32_t next = 0;
    for (size_t i = 0; i < vl.n; i++) {
        for (size_t j = 0; j < i; j++)      /* the same number exactly for the same name */
            assert_int_equal(vl.v[j].node_id == vl.v[i].node_id, strcmp(vl.v[j].node, vl.v[i].node) == 0);
        if (vl.v[i].node_id == next)         /* new numbers come in order of first use */
            next++;
        else
            assert_true(vl.v[i].node_id < next);
    }
    assert_int_equal(next, 60);
    pve_vmlist_free(&vl);
    buf_free(&text);
}

static void t_vmlist_bad_entries(void **unused)
{
    (void)unused;
    struct pve_vmlist vl;
    struct parse_err err;
    const char *text = "{\"version\": 9, \"ids\": {\n"
                       "\"100\": {\"node\": \"pve1\", \"type\": \"qemu\", \"version\": 1},\n"
                       "\"abc\": {\"node\": \"pve1\", \"type\": \"qemu\"},\n"
                       "\"0\": {\"node\": \"pve1\", \"type\": \"qemu\"},\n"
                       "\"0101\": {\"node\": \"pve1\", \"type\": \"qemu\"},\n"
                       "\"102\": {\"node\": \"../etc\", \"type\": \"qemu\"},\n"
                       "\"103\": {\"node\": \"pve1\", \"type\": \"xen\"},\n"
                       "\"104\": {\"type\": \"lxc\"},\n"
                       "\"105\": {\"node\": \"pve1\", \"type\": \"openvz\"},\n"
                       "\"4294967296\": {\"node\": \"pve1\", \"type\": \"qemu\"},\n"
                       "\"100\": {\"node\": \"pve2\", \"type\": \"lxc\"}}}\n";
    assert_int_equal(parse_vmlist(text, &vl, &err), 0);
    assert_int_equal(vl.n, 1);
    assert_int_equal(vl.v[0].vmid, 100);
    assert_string_equal(vl.v[0].node, "pve1");
    assert_int_equal(err.bad_rows, 8);          /* openvz is skipped silently */
    assert_int_equal(err.line, 3);
    assert_non_null(strstr(err.msg, "abc"));
    pve_vmlist_free(&vl);

    char cut[sizeof vmlist_doc];
    memcpy(cut, vmlist_doc, 150);
    cut[150] = '\0';
    assert_int_equal(parse_vmlist(cut, &vl, &err), -1);      /* cut inside the "102" entry */
    assert_int_equal(err.line, 6);
    assert_null(vl.v);
    assert_int_equal(parse_vmlist("{\"ids\": {\"100\": {\"node\": \"pve1\", \"type\": \"qemu\"}}", &vl, &err), -1);
    assert_int_equal(parse_vmlist("{\"ids\": {\"100\": \"pve1\"}}", &vl, &err), -1);
}

/* ---- ha/manager_status -------------------------------------------------------- */

static void t_ha(void **unused)
{
    (void)unused;
    struct pve_ha ha;
    struct parse_err err;
    const char *text =
        "{\"master_node\":\"pve2\",\"node_status\":{\"pve1\":\"online\",\"pve6\":\"unknown\"},"
        "\"service_status\":{\"vm:600\":{\"failed_nodes\":null,\"node\":\"pve6\",\"state\":\"fence\"},"
        "\"ct:201\":{\"node\":\"pve2\",\"running\":1,\"state\":\"started\",\"uid\":\"x\"},"
        "\"vm:100\":{\"state\":\"request_stop\",\"failed_nodes\":[\"pve3\",\"pve4\"]},"
        "\"fs:7\":{\"state\":\"started\"}},\"timestamp\":1718123456}";
    assert_int_equal(parse_ha_manager_status(text, &ha, &err), 0);
    assert_int_equal(err.bad_rows, 0);
    assert_int_equal(ha.n, 3);
    assert_string_equal(pve_ha_find(&ha, 600, PVE_GUEST_QEMU)->state, "fence");
    assert_string_equal(pve_ha_find(&ha, 201, PVE_GUEST_LXC)->state, "started");
    assert_string_equal(pve_ha_find(&ha, 100, PVE_GUEST_QEMU)->state, "request_stop");
    assert_null(pve_ha_find(&ha, 201, PVE_GUEST_QEMU));       /* vm:201 is not ct:201 */
    assert_null(pve_ha_find(&ha, 7, PVE_GUEST_QEMU));
    assert_int_equal(ha.n_nodes, 2);
    assert_string_equal(pve_ha_node_state(&ha, "pve1"), "online");
    assert_string_equal(pve_ha_node_state(&ha, "pve6"), "unknown");
    assert_null(pve_ha_node_state(&ha, "pve2"));
    pve_ha_free(&ha);

    assert_int_equal(parse_ha_manager_status("", &ha, &err), 0);   /* PVE reads empty as {} */
    assert_int_equal(ha.n, 0);
    assert_int_equal(parse_ha_manager_status("{\"service_status\":{\"vm:1x\":{\"state\":\"started\"},"
                                             "\"vm:2\":{\"node\":\"a\"},\"ct:3\":{\"state\":\"Up!\"},"
                                             "\"vm:4\":{\"state\":\"migrate\"}}}", &ha, &err), 0);
    assert_int_equal(ha.n, 1);
    assert_int_equal(err.bad_rows, 3);
    pve_ha_free(&ha);
    /* node_status: a bad state or an over-long name costs that entry only. */
    assert_int_equal(parse_ha_manager_status("{\"node_status\":{\"pve1\":\"Online!\",\"pve2\":\"fence\","
                                             "\"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn\":"
                                             "\"online\",\"pve3\":\"maintenance\"}}", &ha, &err), 0);
    assert_int_equal(ha.n_nodes, 2);
    assert_int_equal(err.bad_rows, 2);
    assert_string_equal(pve_ha_node_state(&ha, "pve2"), "fence");
    assert_string_equal(pve_ha_node_state(&ha, "pve3"), "maintenance");
    assert_null(pve_ha_node_state(&ha, "pve1"));
    pve_ha_free(&ha);
    assert_int_equal(parse_ha_manager_status("{\"node_status\":{\"pve1\":7}}", &ha, &err), -1);
    assert_int_equal(parse_ha_manager_status("{\"service_status\":{\"vm:100\":{\"state\":\"sta", &ha, &err), -1);
    assert_non_null(strstr(err.msg, "truncated"));
}

/* ---- sizes --------------------------------------------------------------------- */

static void t_size(void **unused)
{
    (void)unused;
    static const struct { const char *s; uint64_t v; } ok[] = {
        {"32G", 32 * GIB}, {"3584M", 3584 * MIB_}, {"707456K", 707456 * UINT64_C(1024)}, {"1536", 1536},
        {"4M", 4 * MIB_}, {"4MiB", 4 * MIB_}, {"1T", GIB * 1024}, {"1.5T", GIB * 1536}, {"0.5K", 512},
        {"1.0009765625K", 1025}, {"0.3K", 307}, {"16777215T", UINT64_C(16777215) << 40},
        {"18446744073709551615", UINT64_MAX},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        uint64_t v = 0;
        if (!pve_parse_size(ok[i].s, strlen(ok[i].s), &v) || v != ok[i].v)
            fail_msg("%s -> %llu", ok[i].s, (unsigned long long)v);
    }
    static const char *const bad[] = {"", "G", "1.G", ".5G", "-1", "12Q", "1 G", "1g", "16777216T",
                                      "18446744073709551616", "1Gi", "1GB", "1.5", "0x10"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint64_t v;
        if (pve_parse_size(bad[i], strlen(bad[i]), &v) && strcmp(bad[i], "1.5") != 0)
            fail_msg("accepted %s", bad[i]);
    }
    uint64_t v;
    assert_true(pve_parse_size("1.5", 3, &v));       /* a fraction of bytes: truncated */
    assert_int_equal(v, 1);
}

/* ---- guest configs ----------------------------------------------------------------- */

static const char conf_100[] =
    "#Production web frontend%3A nginx + php-fpm\n#Owner%3A team-web\n"
    "agent: 1,fstrim_cloned_disks=1\nballoon: 4096\nboot: order=scsi0;ide2;net0\ncores: 4\n"
    "cpu: x86-64-v2-AES\nide2: none,media=cdrom\nmemory: 8192\nmeta: creation-qemu=8.1.5,ctime=1712577410\n"
    "name: web01\nnet0: virtio=BC:24:11:5E:7A:01,bridge=vmbr0,firewall=1,tag=120\n"
    "net1: virtio=BC:24:11:5E:7A:02,bridge=vmbr1,queues=4\nnuma: 0\nonboot: 1\nostype: l26\n"
    "parent: before-php83\nscsi0: local-lvm:vm-100-disk-0,discard=on,iothread=1,size=32G\n"
    "scsi1: local-lvm:vm-100-disk-1,backup=0,iothread=1,size=200G\nscsihw: virtio-scsi-single\n"
    "sockets: 1\nstartup: order=2,up=30\ntags: frontend;prod;web\n\n"
    "[PENDING]\ncores: 6\ndelete: net1\n\n"
    "[before-php83]\ncores: 4\nmemory: 8192\nname: web01\nlock: snapshot\n\n"
    "[pre-migration]\ncores: 2\nmemory: 4096\nname: web01-old\nscsi0: local-lvm:vm-100-disk-0,size=16G\n"
    "tags: web\nsockets: 1\n";

/* Parses text as a config into a fresh GuestConfig from a. */
static Pvescope__GuestConfig *conf(const char *text, enum pve_guest_type t, struct arena *a, struct parse_err *err)
{
    Pvescope__GuestConfig *g = arena_alloc(a, sizeof *g);
    pvescope__guest_config__init(g);
    assert_int_equal(parse_guest_config(text, t, a, g, err), 0);
    return g;
}

static const Pvescope__GuestDisk *disk(const Pvescope__GuestConfig *g, const char *key)
{
    for (size_t i = 0; i < g->n_disks; i++)
        if (strcmp(g->disks[i]->key, key) == 0)
            return g->disks[i];
    fail_msg("no disk %s", key);
    return NULL;
}

static void t_qemu_config(void **unused)
{
    (void)unused;
    struct arena a;
    arena_init(&a, 4096);
    struct parse_err err;
    Pvescope__GuestConfig *g = conf(conf_100, PVE_GUEST_QEMU, &a, &err);
    assert_int_equal(err.bad_rows, 0);
    assert_true(g->has_has_config && g->has_config);
    assert_string_equal(g->name, "web01");
    assert_true(g->has_memory_bytes);
    assert_int_equal(g->memory_bytes, 8 * GIB);
    assert_true(g->has_balloon_bytes);
    assert_int_equal(g->balloon_bytes, 4 * GIB);
    assert_int_equal(g->cores, 4);                 /* not the pending 6, not the snapshot's 2 */
    assert_int_equal(g->sockets, 1);
    assert_false(g->has_vcpus);
    assert_false(g->has_cpulimit);
    assert_int_equal(pve_guest_cpus(g, PVE_GUEST_QEMU, 16), 4);
    assert_string_equal(g->tags, "frontend;prod;web");
    assert_true(g->has_onboot && g->onboot);
    assert_true(g->has_template_ && !g->template_);
    assert_null(g->lock);                          /* the snapshot's lock is not ours */
    assert_false(g->has_swap_bytes);
    assert_int_equal(g->n_disks, 3);
    const Pvescope__GuestDisk *d = disk(g, "ide2");
    assert_true(d->cdrom);
    assert_null(d->storage);
    assert_string_equal(d->volume, "none");
    d = disk(g, "scsi0");
    assert_string_equal(d->storage, "local-lvm");
    assert_string_equal(d->volume, "vm-100-disk-0");
    assert_int_equal(d->size_bytes, 32 * GIB);
    assert_true(d->has_boot && d->boot);
    assert_int_equal(disk(g, "scsi1")->size_bytes, 200 * GIB);
    assert_false(disk(g, "scsi1")->boot);
    assert_true(g->has_boot_disk_bytes);
    assert_int_equal(g->boot_disk_bytes, 34359738368ULL);
    assert_int_equal(g->n_nics, 2);
    assert_string_equal(g->nics[0]->key, "net0");
    assert_string_equal(g->nics[0]->bridge, "vmbr0");
    assert_string_equal(g->nics[0]->mac, "BC:24:11:5E:7A:01");
    assert_true(g->nics[0]->has_vlan_tag);
    assert_int_equal(g->nics[0]->vlan_tag, 120);
    assert_true(g->nics[0]->has_firewall && g->nics[0]->firewall);
    assert_string_equal(g->nics[1]->bridge, "vmbr1");
    assert_false(g->nics[1]->has_vlan_tag);
    assert_false(g->nics[1]->has_firewall);
    arena_free(&a);
}

static void t_qemu_cpus_and_lock(void **unused)
{
    (void)unused;
    struct arena a;
    arena_init(&a, 4096);
    struct parse_err err;
    Pvescope__GuestConfig *g = conf("boot: order=virtio0;net0\ncores: 4\ncpulimit: 2.5\ncpuunits: 200\n"
                                    "lock: backup\nmemory: 16384\nname: db02\nsockets: 2\ntags: db;prod\n"
                                    "vcpus: 6\nvirtio0: local-lvm:vm-102-disk-0,cache=none,size=64G\n",
                                    PVE_GUEST_QEMU, &a, &err);
    assert_int_equal(err.bad_rows, 0);
    assert_int_equal(pve_guest_cpus(g, PVE_GUEST_QEMU, 32), 6);          /* vcpus wins over 2·4 */
    assert_true(g->has_cpulimit);
    assert_true(g->cpulimit == 2.5);
    assert_string_equal(g->lock, "backup");
    assert_false(g->has_onboot);
    assert_int_equal(g->boot_disk_bytes, 64 * GIB);
    /* sockets·cores capped at the host, no cap when unknown, defaults 1·1 */
    g = conf("sockets: 4\ncores: 8\n", PVE_GUEST_QEMU, &a, &err);
    assert_int_equal(pve_guest_cpus(g, PVE_GUEST_QEMU, 16), 16);
    assert_int_equal(pve_guest_cpus(g, PVE_GUEST_QEMU, 0), 32);
    g = conf("name: x\n", PVE_GUEST_QEMU, &a, &err);
    assert_int_equal(pve_guest_cpus(g, PVE_GUEST_QEMU, 16), 1);
    assert_int_equal(g->memory_bytes, 512 * MIB_);                     /* PVE's default */
    assert_int_equal(g->boot_disk_bytes, 0);                            /* no boot disk */
    g = conf("memory: max=8192\n", PVE_GUEST_QEMU, &a, &err);         /* no current value: invalid */
    assert_int_equal(err.bad_rows, 1);
    assert_int_equal(g->memory_bytes, 512 * MIB_);
    g = conf("memory: current=4096\nballoon: 0\nonboot: no\ntemplate: YES\n", PVE_GUEST_QEMU, &a, &err);
    assert_int_equal(g->memory_bytes, 4 * GIB);
    assert_true(g->has_balloon_bytes && g->balloon_bytes == 0);
    assert_true(g->has_onboot && !g->onboot);
    assert_true(g->template_);
    arena_free(&a);
}

static void t_qemu_boot_disk(void **unused)
{
    (void)unused;
    struct arena a;
    arena_init(&a, 4096);
    struct parse_err err;
    /* legacy boot defers to bootdisk */
    Pvescope__GuestConfig *g = conf("boot: cdn\nbootdisk: virtio0\nscsi0: s:a,size=1G\nvirtio0: s:b,size=2G\n",
                                    PVE_GUEST_QEMU, &a, &err);
    assert_int_equal(g->boot_disk_bytes, 2 * GIB);
    assert_true(disk(g, "virtio0")->boot);
    /* no boot key at all: bootdisk */
    g = conf("bootdisk: scsi0\nscsi0: s:a,size=1G\n", PVE_GUEST_QEMU, &a, &err);
    assert_int_equal(g->boot_disk_bytes, GIB);
    /* CD-ROMs, missing drives, NICs and unused volumes are passed over */
    g = conf("boot: order=ide2;sata3;net0;unused0;scsi1\nide2: local:iso/x.iso,media=cdrom,size=1G\n"
             "unused0: s:u\nscsi1: s:c,size=3G\n", PVE_GUEST_QEMU, &a, &err);
    assert_int_equal(g->boot_disk_bytes, 3 * GIB);
    /* the first candidate wins even without a size (PVE returns its undef size) */
    g = conf("boot: order=scsi0;scsi1\nscsi0: s:a\nscsi1: s:b,size=3G\n", PVE_GUEST_QEMU, &a, &err);
    assert_int_equal(g->boot_disk_bytes, 0);
    assert_true(disk(g, "scsi0")->boot);
    /* a repeated key replaces the earlier line, as in PVE's hash */
    g = conf("boot: order=scsi0\nscsi0: s1:a,size=1G\nscsi0: file=tt:b,size=5G\n", PVE_GUEST_QEMU, &a, &err);
    assert_int_equal(g->n_disks, 1);
    assert_string_equal(disk(g, "scsi0")->storage, "tt");
    assert_int_equal(g->boot_disk_bytes, 5 * GIB);
    /* passthrough paths and out-of-range drive keys */
    g = conf("boot: order=scsi0\nscsi0: /dev/disk/by-id/ata-X,size=10G\nide7: s:x,size=1G\n", PVE_GUEST_QEMU, &a, &err);
    assert_int_equal(g->n_disks, 1);
    assert_null(disk(g, "scsi0")->storage);
    assert_string_equal(disk(g, "scsi0")->volume, "/dev/disk/by-id/ata-X");
    assert_int_equal(g->boot_disk_bytes, 10 * GIB);
    arena_free(&a);
}

static const char conf_101[] =
    "#DNS resolver (unbound)\narch: amd64\ncores: 2\ncpulimit: 2\nfeatures: keyctl=1,nesting=1\n"
    "hostname: ct-dns01\nmemory: 2048\nmp0: local-lvm:vm-101-disk-1,mp=/var/lib/unbound,backup=1,size=4G\n"
    "nameserver: 127.0.0.1\n"
    "net0: name=eth0,bridge=vmbr0,firewall=1,gw=10.20.1.1,hwaddr=BC:24:11:9A:C3:10,ip=10.20.1.53/24,tag=120,type=veth\n"
    "onboot: 1\nostype: debian\nparent: pre-upgrade\nrootfs: local-lvm:vm-101-disk-0,size=8G\nstartup: order=1\n"
    "swap: 512\ntags: dns;infra\nunprivileged: 1\nlxc.cgroup2.devices.allow: c 10:200 rwm\n"
    "lxc.mount.entry: /dev/net dev/net none bind,create=dir\nlxc.apparmor.profile = unconfined\n\n"
    "[pve:pending]\nmemory: 3072\n\n[pre-upgrade]\n#before bookworm -> trixie\ncores: 1\nhostname: old\n";

static void t_lxc_config(void **unused)
{
    (void)unused;
    struct arena a;
    arena_init(&a, 4096);
    struct parse_err err;
    Pvescope__GuestConfig *g = conf(conf_101, PVE_GUEST_LXC, &a, &err);
    assert_int_equal(err.bad_rows, 0);            /* raw lxc.* keys are not errors */
    assert_string_equal(g->name, "ct-dns01");
    assert_int_equal(g->memory_bytes, 2 * GIB);   /* not the pending 3072 */
    assert_true(g->has_swap_bytes);
    assert_int_equal(g->swap_bytes, 512 * MIB_);
    assert_int_equal(g->cores, 2);
    assert_true(g->cpulimit == 2.0);
    assert_int_equal(pve_guest_cpus(g, PVE_GUEST_LXC, 16), 2);
    assert_string_equal(g->tags, "dns;infra");
    assert_true(g->onboot);
    assert_int_equal(g->n_disks, 2);
    assert_int_equal(disk(g, "mp0")->size_bytes, 4 * GIB);
    assert_false(disk(g, "mp0")->boot);
    assert_true(disk(g, "rootfs")->boot);
    assert_int_equal(g->boot_disk_bytes, 8 * GIB);
    assert_int_equal(g->n_nics, 1);
    assert_string_equal(g->nics[0]->mac, "BC:24:11:9A:C3:10");
    assert_int_equal(g->nics[0]->vlan_tag, 120);
    assert_true(g->nics[0]->firewall);
    /* defaults: 512 MiB, swap 0, 4 GiB maxdisk; cpus: cores, else cpulimit rounded up, else the host */
    g = conf("hostname: ct\n", PVE_GUEST_LXC, &a, &err);
    assert_int_equal(g->memory_bytes, 512 * MIB_);
    assert_true(g->has_swap_bytes && g->swap_bytes == 0);
    assert_int_equal(g->boot_disk_bytes, 4 * GIB);
    assert_int_equal(pve_guest_cpus(g, PVE_GUEST_LXC, 16), 16);
    g = conf("cpulimit: 1.5\nrootfs: s:v\n", PVE_GUEST_LXC, &a, &err);
    assert_int_equal(pve_guest_cpus(g, PVE_GUEST_LXC, 16), 2);
    assert_int_equal(g->boot_disk_bytes, 4 * GIB);
    g = conf("cpulimit: 0\n", PVE_GUEST_LXC, &a, &err);
    assert_int_equal(pve_guest_cpus(g, PVE_GUEST_LXC, 8), 8);
    /* lxc keys have no '-': a qemu-style key is not a key */
    g = conf("amd-sev: x\n", PVE_GUEST_LXC, &a, &err);
    assert_int_equal(err.bad_rows, 1);
    arena_free(&a);
}

static void t_config_sections_and_odd_text(void **unused)
{
    (void)unused;
    struct arena a;
    arena_init(&a, 4096);
    struct parse_err err;
    static const char *const headers[] = {"[PENDING]", "[special:cloudinit]", "[snap-1]  \t", "[foo bar]",
                                          "[pve:pending]", "[]"};
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "name: main\n%s\nname: leaked\ncores: 9\n", headers[i]);
        Pvescope__GuestConfig *g = conf(text, PVE_GUEST_QEMU, &a, &err);
        assert_string_equal(g->name, "main");
        assert_false(g->has_cores);
    }
    /* "[broken" is not a header: a bad line, and parsing goes on */
    Pvescope__GuestConfig *g = conf("name: a\n[broken\ncores: 2\n", PVE_GUEST_QEMU, &a, &err);
    assert_int_equal(g->cores, 2);
    assert_int_equal(err.bad_rows, 1);
    /* raw bytes, CRLF, blanks around the value, a percent-encoded description */
    g = conf("#100%25 \"quoted\" \\ %E2%80%93\r\nname:   odd\"name\\with'ü%41  \r\n\r\n   \ntags: a,b c;d\r\n",
             PVE_GUEST_QEMU, &a, &err);
    assert_int_equal(err.bad_rows, 0);
    assert_string_equal(g->name, "odd\"name\\with'ü%41");
    assert_string_equal(g->tags, "a,b c;d");
    /* a text without its last newline still parses (the collector decides about it) */
    g = conf("name: x\ncores: 3", PVE_GUEST_QEMU, &a, &err);
    assert_int_equal(g->cores, 3);
    arena_free(&a);
}

static void t_config_malformed_lines(void **unused)
{
    (void)unused;
    struct arena a;
    arena_init(&a, 4096);
    struct parse_err err;
    Pvescope__GuestConfig *g = conf("boot: order=scsi0\ncores: abc\nmemory: 99999999999999999999\nName: Upper\n"
                                    "name: malformed01\nthis line has no colon\n"
                                    "net0: virtio=BC:24:11:00:00:01,bridge=vmbr0,tag=5000\n[broken section\n"
                                    "scsi0: local-lvm:vm-100-disk-0,size=12Q\nsockets: 0\n   indented: x\n"
                                    "onboot: maybe\ndelete: net1\nname:\nname:    \n",
                                    PVE_GUEST_QEMU, &a, &err);
    assert_int_equal(err.bad_rows, 12);
    assert_int_equal(err.line, 2);
    assert_string_equal(err.msg, "invalid value for \"cores\"");
    assert_string_equal(g->name, "malformed01");
    assert_false(g->has_cores);
    assert_false(g->has_sockets);
    assert_false(g->has_onboot);
    assert_int_equal(g->memory_bytes, 512 * MIB_);
    assert_int_equal(g->n_disks, 0);
    assert_int_equal(g->n_nics, 0);
    arena_free(&a);
}

/* ---- storage.cfg ---------------------------------------------------------------------- */

static const Pvescope__StorageConfig *storage(Pvescope__StorageConfig **v, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i]->id, id) == 0)
            return v[i];
    fail_msg("no storage %s", id);
    return NULL;
}

static void t_storage_cfg(void **unused)
{
    (void)unused;
    struct arena a;
    arena_init(&a, 4096);
    struct parse_err err;
    Pvescope__StorageConfig **v;
    size_t n;
    const char *text = "# a comment\ndir: local\n\tpath /var/lib/vz\n\tcontent iso,vztmpl,backup\n\n"
                       "lvmthin: local-lvm\n\tthinpool data\n\tvgname pve\n\tcontent rootdir,images\n\n"
                       "zfspool: tank\n\tpool tank/vmdata\n  # indented comment\n\tnodes pve4, pve5\n\tsparse 1\n\n"
                       "nfs: nas\n\texport /e\n\tpath /mnt/pve/nas\n\tserver 10.0.0.5\n\tshared 0\n\n"
                       "dir: shared-dir\n\tpath /mnt/shared\n\tshared 1\n\tdisable\n\n"
                       "pbs:pbs01\n\tdatastore main\n\tdisable 0\n";
    assert_int_equal(parse_storage_cfg(text, &a, &v, &n, &err), 6);
    assert_int_equal(err.bad_rows, 0);
    const Pvescope__StorageConfig *s = storage(v, n, "local");
    assert_string_equal(s->type, "dir");
    assert_string_equal(s->path, "/var/lib/vz");
    assert_string_equal(s->content, "iso,vztmpl,backup");
    assert_true(s->has_shared && !s->shared);
    assert_false(s->has_disabled);
    assert_int_equal(s->n_nodes, 0);
    s = storage(v, n, "local-lvm");
    assert_string_equal(s->vgname, "pve");
    assert_string_equal(s->thinpool, "data");
    s = storage(v, n, "tank");
    assert_string_equal(s->pool, "tank/vmdata");
    assert_int_equal(s->n_nodes, 2);
    assert_string_equal(s->nodes[0], "pve4");
    assert_string_equal(s->nodes[1], "pve5");
    assert_true(storage(v, n, "nas")->shared);          /* nfs is always shared in PVE */
    s = storage(v, n, "shared-dir");
    assert_true(s->shared);
    assert_true(s->has_disabled && s->disabled);
    s = storage(v, n, "pbs01");
    assert_string_equal(s->type, "pbs");
    assert_true(s->shared);
    assert_true(s->has_disabled && !s->disabled);
    arena_free(&a);
}

static void t_storage_cfg_malformed(void **unused)
{
    (void)unused;
    struct arena a;
    arena_init(&a, 4096);
    struct parse_err err;
    Pvescope__StorageConfig **v;
    size_t n;
    const char *text = "\tpath /orphan\n\ndir: local\n\tpath /var/lib/vz\n\tcontent iso\n\tpath /again\n"
                       "\tshared maybe\n\ndir local2\n\tpath /x\n\nlvmthin: 1bad\n\tvgname pve\n\n"
                       "dir: local\n\tpath /dup\n\nnfs: nas\n\texport /e\ncontent images\n\tserver 1.2.3.4\n"
                       "\tcontent\n";
    assert_int_equal(parse_storage_cfg(text, &a, &v, &n, &err), 2);
    assert_int_equal(err.bad_rows, 9);
    assert_int_equal(err.line, 1);
    assert_string_equal(storage(v, n, "local")->path, "/var/lib/vz");
    assert_false(storage(v, n, "local")->shared);
    assert_true(storage(v, n, "nas")->shared);
    assert_null(storage(v, n, "nas")->content);
    assert_int_equal(parse_storage_cfg("", &a, &v, &n, &err), 0);
    arena_free(&a);
}

/* ---- pvecfg.pm ------------------------------------------------------------------------- */

static void t_pvecfg(void **unused)
{
    (void)unused;
    struct pve_version ver;
    struct parse_err err;
    const char *text = "package PVE::pvecfg;\n\nuse strict;\n\nsub package {\n    return 'pve-manager';\n}\n\n"
                       "sub version {\n    return '9.1.4';\n}\n\nsub release {\n    return '9.1';\n}\n\n"
                       "sub repoid {\n    return '5e2d1b4c';\n}\n\nsub version_text {\n"
                       "    return '9.1.4/5e2d1b4c';\n}\n1;\n";
    assert_int_equal(parse_pvecfg(text, &ver, &err), 0);
    assert_string_equal(ver.version, "9.1.4");
    assert_string_equal(ver.release, "9.1");
    assert_string_equal(ver.repoid, "5e2d1b4c");
    assert_int_equal(parse_pvecfg("sub version_text { return '1'; }\n", &ver, &err), -1);
    assert_int_equal(parse_pvecfg("sub version { return 'a b'; }\n", &ver, &err), -1);
    assert_int_equal(parse_pvecfg("sub version { my $x; }\nsub release { return '9'; }\n", &ver, &err), -1);
    assert_int_equal(parse_pvecfg("sub version {\n return \"8.2.4\";\n}\n", &ver, &err), 0);
    assert_string_equal(ver.version, "8.2.4");
    assert_string_equal(ver.release, "");
}

/* .rrd node lines (pve-internals §7.5): the second value is the level. */
static void t_rrd_levels(void **unused)
{
    (void)unused;
    static const char text[] =
        "pve-node-9.0/pve1:1209843:c:1718123456:1.23:32:0.0412:0.0021:135083409408:61203283968\n"
        "pve-vm-9.0/100:861730:web01:running:0:1718123456:4:0.0731:8589934592:5234491392\n"
        "pve-storage-9.0/pve1/local-lvm:1718123456:853398257664:319341628017\n"
        "pve-node-9.0/pve2:2210044:p:1718123451:0.88:32\n"
        "pve2-node/pve-old:88123::1718123449:0.31:8\n";
    struct pve_rrd_level v[8];
    struct parse_err e = {0};
    assert_int_equal(parse_rrd_levels(text, v, 8, &e), 3);
    assert_int_equal(e.bad_rows, 0);
    assert_string_equal(pve_rrd_level_of(v, 3, "pve1"), "c");
    assert_string_equal(pve_rrd_level_of(v, 3, "pve2"), "p");
    assert_string_equal(pve_rrd_level_of(v, 3, "pve-old"), "");      /* PVE 8, no subscription */
    assert_null(pve_rrd_level_of(v, 3, "pve3"));
    assert_null(pve_rrd_level_of(v, 3, "100"));                      /* guests are not nodes */

    /* bad node lines are skipped and counted, the good ones kept */
    static const char bad[] =
        "pve-node-9.0/pve1:1209843:C:1\n"             /* not lowercase */
        "pve-node-9.0/pve2:2210044\n"                 /* one value */
        "pve-node-9.0/.hidden:1:c\n"                  /* invalid node name */
        "no key here\n"
        "pve-node-9.0/pve3:1:b:2\n"
        "pve-node-9.0/pve4:1:verylonglevel:2\n"
        "pve-node-9.0/pve5:1:s";                      /* cut short */
    memset(&e, 0, sizeof e);
    assert_int_equal(parse_rrd_levels(bad, v, 8, &e), 1);
    assert_string_equal(v[0].node, "pve3");
    assert_string_equal(v[0].level, "b");
    assert_int_equal(e.bad_rows, 6);
    assert_int_equal(e.line, 1);
    assert_non_null(strstr(e.msg, "lowercase"));
    /* more node lines than room: the rest are bad rows, nothing overflows */
    memset(&e, 0, sizeof e);
    assert_int_equal(parse_rrd_levels(text, v, 1, &e), 1);
    assert_int_equal(e.bad_rows, 2);
    memset(&e, 0, sizeof e);
    assert_int_equal(parse_rrd_levels("", v, 8, &e), 0);
    assert_int_equal(e.bad_rows, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_members_cluster),   cmocka_unit_test(t_members_standalone_and_quorum),
        cmocka_unit_test(t_members_malformed), cmocka_unit_test(t_vmlist), cmocka_unit_test(t_vmlist_many_nodes),
        cmocka_unit_test(t_vmlist_bad_entries), cmocka_unit_test(t_ha),
        cmocka_unit_test(t_size),              cmocka_unit_test(t_qemu_config),
        cmocka_unit_test(t_qemu_cpus_and_lock), cmocka_unit_test(t_qemu_boot_disk),
        cmocka_unit_test(t_lxc_config),        cmocka_unit_test(t_config_sections_and_odd_text),
        cmocka_unit_test(t_config_malformed_lines), cmocka_unit_test(t_storage_cfg),
        cmocka_unit_test(t_storage_cfg_malformed), cmocka_unit_test(t_pvecfg),
        cmocka_unit_test(t_rrd_levels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
