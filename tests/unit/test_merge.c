/* test_merge.c — the scrape-time cluster merge on hand-built reports:
 * offline and silent nodes, guests of a dead node, a migration caught
 * half-way, templates and stopped guests, storages, and two clusters that
 * share a vmid. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_plan.h"
#include "arena.h"
#include "decode.h"
#include "merge.h"
#include "merge_internal.h"
#include "placements.h"
#include "render.h"
#include "store.h"

#define GIB (1024ull * 1024 * 1024)

/* Everything a test report needs comes from one arena, freed at the end. */
static struct arena A;

static void *mk(size_t n) { return arena_alloc(&A, n); }

static Pvescope__ClusterMember *member(const char *name, uint32_t id, bool online)
{
    Pvescope__ClusterMember *m = mk(sizeof *m);
    pvescope__cluster_member__init(m);
    m->name = (char *)name;
    m->has_nodeid = m->has_online = true;
    m->nodeid = id;
    m->online = online;
    return m;
}

static Pvescope__GuestConfig *placed(uint32_t vmid, const char *type, const char *node)
{
    Pvescope__GuestConfig *g = mk(sizeof *g);
    pvescope__guest_config__init(g);
    g->vmid = vmid;
    g->type = (char *)type;
    g->node = (char *)node;
    return g;
}

static Pvescope__GuestConfig *config(uint32_t vmid, const char *type, const char *node, const char *name,
                                     uint32_t cpus, uint64_t mem)
{
    Pvescope__GuestConfig *g = placed(vmid, type, node);
    g->has_has_config = g->has_config = true;
    g->name = (char *)name;
    g->has_cpus = g->has_memory_bytes = true;
    g->cpus = cpus;
    g->memory_bytes = mem;
    return g;
}

static Pvescope__GuestRuntime *runtime(uint32_t vmid, const char *type, double busy, uint64_t mem)
{
    Pvescope__GuestRuntime *r = mk(sizeof *r);
    pvescope__guest_runtime__init(r);
    r->vmid = vmid;
    r->type = (char *)type;
    r->has_running = r->running = true;
    r->has_cpu_busy = r->has_memory_bytes = r->has_uptime_seconds = true;
    r->cpu_busy = busy;
    r->memory_bytes = mem;
    r->uptime_seconds = 3600;
    r->has_net_in_bytes = r->has_net_out_bytes = true;
    r->net_in_bytes = 1000;
    r->net_out_bytes = 2000;
    r->has_cpu_seconds = true;
    r->cpu_seconds = 12.5;
    /* one NIC, one disk, cpu pressure: the series beyond the exporter */
    Pvescope__NetDev *nic = mk(sizeof *nic);
    pvescope__net_dev__init(nic);
    nic->name = "tap100i0";
    nic->has_tx_bytes = nic->has_rx_bytes = nic->has_tx_drop = true;
    nic->tx_bytes = 1000;          /* host transmit = the guest receives */
    nic->rx_bytes = 2000;
    nic->tx_drop = 3;
    Pvescope__NetDev **nics = mk(sizeof *nics);
    nics[0] = nic;
    r->nics = nics;
    r->n_nics = 1;
    Pvescope__GuestBlockIo *d = mk(sizeof *d);
    pvescope__guest_block_io__init(d);
    d->key = "pve-vm--100--disk--0";
    d->has_read_bytes = d->has_written_bytes = true;
    d->read_bytes = 4096;
    d->written_bytes = 8192;
    Pvescope__GuestBlockIo **disks = mk(sizeof *disks);
    disks[0] = d;
    r->disks = disks;
    r->n_disks = 1;
    Pvescope__Pressure *p = mk(sizeof *p);
    pvescope__pressure__init(p);
    Pvescope__PressureResource *cpu = mk(sizeof *cpu);
    pvescope__pressure_resource__init(cpu);
    cpu->has_some_total_us = true;
    cpu->some_total_us = 1500000;
    p->cpu = cpu;
    r->pressure = p;
    return r;
}

static Pvescope__StorageConfig *storage(const char *id, const char *type, const char *content, bool shared)
{
    Pvescope__StorageConfig *s = mk(sizeof *s);
    pvescope__storage_config__init(s);
    s->id = (char *)id;
    s->type = (char *)type;
    s->content = (char *)content;
    s->has_shared = true;
    s->shared = shared;
    return s;
}

static Pvescope__StorageUsage *usage(const char *id, bool active, uint64_t total, uint64_t used)
{
    Pvescope__StorageUsage *u = mk(sizeof *u);
    pvescope__storage_usage__init(u);
    u->id = (char *)id;
    u->has_active = true;
    u->active = active;
    if (active) {
        u->has_total_bytes = u->has_used_bytes = u->has_avail_bytes = true;
        u->total_bytes = total;
        u->used_bytes = used;
        u->avail_bytes = total - used;
    }
    return u;
}

/* A report of node `node` in a cluster view shared by all (vmlist in `place`). */
static Pvescope__Report *report(const char *node, Pvescope__ClusterView *view, Pvescope__GuestConfig **guests,
                                size_t n_guests, Pvescope__GuestRuntime **rt, size_t n_rt)
{
    Pvescope__Report *r = mk(sizeof *r);
    pvescope__report__init(r);
    r->node = (char *)node;
    r->cluster = view;
    r->guests = guests;
    r->n_guests = n_guests;
    r->guest_runtime = rt;
    r->n_guest_runtime = n_rt;
    return r;
}

/* How a report's .vmlist goes on the wire. */
enum vmlist_wire {
    VMLIST_AS_BUILT,     /* the test's GuestConfigs in the test's order */
    VMLIST_SORTED,       /* GuestConfigs by vmid, as an agent before compact placements sent them */
    VMLIST_COMPACT,      /* as an agent sends it now: placements compact, the rest GuestConfigs */
};

static int cmp_guest_vmid(const void *a, const void *b)
{
    const Pvescope__GuestConfig *x = *(Pvescope__GuestConfig *const *)a, *y = *(Pvescope__GuestConfig *const *)b;
    return x->vmid < y->vmid ? -1 : x->vmid > y->vmid;
}

/* Rewrites r's .vmlist into form w (the test's arrays are left alone). */
static void vmlist_as(Pvescope__Report *r, enum vmlist_wire w)
{
    if (w == VMLIST_AS_BUILT || r->n_guests == 0)
        return;
    Pvescope__GuestConfig **sorted = mk(r->n_guests * sizeof *sorted);
    memcpy(sorted, r->guests, r->n_guests * sizeof *sorted);
    qsort(sorted, r->n_guests, sizeof *sorted, cmp_guest_vmid);
    r->guests = sorted;
    if (w == VMLIST_SORTED)
        return;
    struct placements_builder b;
    placements_begin(&b, r->n_guests, r->n_guests, &A);
    size_t kept = 0;
    for (size_t i = 0; i < r->n_guests; i++) {
        uint32_t id = 0;                   /* a node's number: its first entry's index */
        while (strcmp(sorted[id]->node ? sorted[id]->node : "", sorted[i]->node ? sorted[i]->node : "") != 0)
            id++;
        if (!placement_is_pure(sorted[i]) ||
            !placements_add(&b, sorted[i]->vmid, strcmp(sorted[i]->type, "lxc") == 0, id, sorted[i]->node))
            sorted[kept++] = sorted[i];
    }
    r->n_guests = kept;
    r->placements = placements_finish(&b);
}

static struct node_render *node_as(Pvescope__Report *r, const char *cluster, enum vmlist_wire w)
{
    vmlist_as(r, w);
    char *labels = node_labels(cluster, r->node);
    struct node_render *nr = render_report(r, labels);
    free(labels);
    size_t n = pvescope__report__get_packed_size(r);
    uint8_t *b = malloc(n);
    pvescope__report__pack(r, b);
    nr->report = decoded_report_unpack(test_report_plan(), b, n, 1 << 20, NULL);
    free(b);
    assert_non_null(nr->report);
    return nr;
}

static struct node_render *node(Pvescope__Report *r, const char *cluster)
{
    return node_as(r, cluster, VMLIST_AS_BUILT);
}

/* Cluster renders that took a node's pre-rendered guests whole, in the
 * last scrape_scenario(..., true). */
static size_t parts_taken;

/* The reference scenario, scraped once; returns the exposition (free it).
 * prerender: each node's own guests are rendered at "ingest"
 * (merge_prerender_guests), as the aggregator does. */
static char *scrape_scenario_as(bool deprecated, bool prerender, enum vmlist_wire w)
{
    arena_init(&A, 1 << 16);
    Pvescope__ClusterView *view = mk(sizeof *view);
    pvescope__cluster_view__init(view);
    view->name = "prod";
    view->has_quorate = view->quorate = true;
    view->has_expected_nodes = view->has_config_version = view->has_vmlist_version = true;
    view->expected_nodes = 4;
    view->config_version = 7;
    view->vmlist_version = 42;
    view->pve_version = "8.2.4";
    view->pve_release = "8.2";
    view->pve_repoid = "faa83925";
    Pvescope__ClusterMember *members[] = {member("pve1", 1, true), member("pve2", 2, true),
                                          member("pve3", 3, true), member("pve4", 4, false)};
    members[0]->subscription_level = "c";             /* from pve1's .rrd */
    members[1]->subscription_level = "";              /* no subscription; pve3, pve4: no entry */
    members[0]->ha_state = "online";                  /* manager_status node_status; pve2: none */
    members[3]->ha_state = "fence";
    view->members = members;
    view->n_members = 4;
    /* pve2's copy of the cluster files is older: the merge must use pve1's. */
    Pvescope__ClusterView *old_view = mk(sizeof *old_view);
    *old_view = *view;
    old_view->vmlist_version = 41;

    Pvescope__GuestConfig *web = config(100, "qemu", "pve1", "web \"front\"", 4, 8 * GIB);
    web->tags = "prod;web";
    web->has_onboot = web->onboot = true;
    web->lock = "backup";
    web->has_boot_disk_bytes = true;
    web->boot_disk_bytes = 32 * GIB;
    Pvescope__GuestConfig *tmpl = config(104, "qemu", "pve1", "tmpl", 2, 2 * GIB);
    tmpl->has_template_ = tmpl->template_ = true;
    Pvescope__GuestConfig *db = config(103, "qemu", "pve4", "db", 8, 16 * GIB);       /* pve4 is offline */
    /* a name longer than any fixed buffer, with multi-byte characters at the end */
    static const char long_name[] = "a-very-long-container-hostname-that-goes-on-and-on-well-past-"
                                    "ninety-six-bytes-and-ends-in-unicode-\xc3\xbc\xc3\xbc";
    tmpl->name = (char *)long_name;
    Pvescope__GuestConfig *ha_only = placed(102, "qemu", "pve3");
    ha_only->ha_state = "started";             /* manager_status knows it; its config is on silent pve3 */
    /* 106: on offline pve4, and no agent read its config */
    Pvescope__GuestConfig *ct_stopped = config(105, "lxc", "pve1", "ct-off", 1, 1 * GIB);
    ct_stopped->has_boot_disk_bytes = true;
    ct_stopped->boot_disk_bytes = 8 * GIB;     /* rootfs size= */
    Pvescope__GuestConfig *pve1_guests[] = {web, placed(101, "lxc", "pve2"), ha_only, db, tmpl,
                                            placed(106, "qemu", "pve4"), ct_stopped};
    Pvescope__GuestRuntime *pve1_rt[] = {runtime(100, "qemu", 2.0, 1 * GIB)};
    Pvescope__Report *r1 = report("pve1", view, pve1_guests, 7, pve1_rt, 1);
    /* pve1 measured local (active); nothing for local-lvm (its thinpool collector failed) */
    Pvescope__StorageUsage *u1[] = {usage("local", true, 100 * GIB, 40 * GIB)};
    r1->storage_usage = u1;
    r1->n_storage_usage = 1;
    Pvescope__StorageConfig *local = storage("local", "dir", "vztmpl,iso,backup", false);
    Pvescope__StorageConfig *thin = storage("local-lvm", "lvmthin", "rootdir,images", false);
    char *thin_nodes[] = {"pve2", "pve1"};
    thin->nodes = thin_nodes;
    thin->n_nodes = 2;
    Pvescope__StorageConfig *nfs = storage("nas", "nfs", "backup", true);
    nfs->has_disabled = nfs->disabled = true;
    Pvescope__StorageConfig *storages[] = {local, thin, nfs};
    r1->storages = storages;
    r1->n_storages = 3;

    Pvescope__GuestConfig *ct1 = config(101, "lxc", "pve2", "ct1", 2, 1 * GIB);
    ct1->has_cpulimit = true;                  /* no cores: PVE counts cpulimit, 1.25 CPUs */
    ct1->cpulimit = 1.25;
    Pvescope__GuestConfig *pve2_guests[] = {placed(100, "qemu", "pve1"), ct1};
    /* 100 is being migrated to pve2: its process runs here too, but .vmlist says pve1. */
    ct1->has_boot_disk_bytes = true;
    ct1->boot_disk_bytes = 8 * GIB;            /* config size: a running CT reports statvfs instead */
    Pvescope__GuestRuntime *ct1_rt = runtime(101, "lxc", 0.5, 256 << 20);
    ct1_rt->has_rootfs_used_bytes = ct1_rt->has_rootfs_total_bytes = true;
    ct1_rt->rootfs_used_bytes = 1234567;
    ct1_rt->rootfs_total_bytes = 8000000000ull;
    Pvescope__GuestRuntime *pve2_rt[] = {ct1_rt, runtime(100, "qemu", 9, 9)};
    Pvescope__Report *r2 = report("pve2", old_view, pve2_guests, 2, pve2_rt, 2);
    /* pve2: local is not mounted/usable; it also claims "nas", which is disabled;
     * local-lvm is the pve/data pool of pve-internals 7.10 (thinpool collector) */
    Pvescope__StorageUsage *u2[] = {usage("local", false, 0, 0), usage("nas", true, 5 * GIB, 1 * GIB),
                                    usage("local-lvm", true, 853398257664ull, 319349915648ull)};
    r2->storage_usage = u2;
    r2->n_storage_usage = 3;

    Pvescope__GuestConfig *pve3_guests[] = {config(102, "qemu", "pve3", "mail", 2, 4 * GIB)};
    Pvescope__Report *r3 = report("pve3", view, pve3_guests, 1, NULL, 0);
    Pvescope__StorageUsage *u3[] = {usage("local", true, 50 * GIB, 10 * GIB)};   /* stale: not shown */
    r3->storage_usage = u3;
    r3->n_storage_usage = 1;

    /* A second cluster with its own qemu/100 and a node named like prod's. */
    Pvescope__ClusterView *lab = mk(sizeof *lab);
    pvescope__cluster_view__init(lab);
    lab->name = "lab";
    lab->has_quorate = lab->quorate = true;
    Pvescope__ClusterMember *lab_members[] = {member("pve1", 1, true)};
    lab->members = lab_members;
    lab->n_members = 1;
    Pvescope__GuestConfig *lab_guests[] = {config(100, "qemu", "pve1", "lab-vm", 1, 1 * GIB)};
    Pvescope__Report *l1 = report("pve1", lab, lab_guests, 1, NULL, 0);

    struct scrape_node nodes[] = {
        {"", "pve1", "lab", "", node_as(l1, "lab", w), 1, true, 1},
        {"", "pve1", "prod", "", node_as(r1, "prod", w), 1, true, 1},
        {"", "pve2", "prod", "", node_as(r2, "prod", w), 1, true, 1},
        {"", "pve3", "prod", "", node_as(r3, "prod", w), 300, false, 1},   /* silent for 5 minutes */
    };
    struct merge_opts o = {deprecated};
    for (size_t i = 0; i < 4; i++) {
        nodes[i].labels = node_labels(nodes[i].cluster, nodes[i].node);
        if (prerender)
            nodes[i].render->home_guests = merge_prerender_guests(nodes[i].render->report, nodes[i].cluster, &o, NULL);
    }
    struct scrape_input in = {.nodes = nodes, .n_nodes = 4};
    struct node_render **merged;
    size_t n_merged = merge_all(&in, &o, &merged);
    parts_taken = 0;
    for (size_t i = 0; i < n_merged; i++)
        for (size_t k = 0; k < merged[i]->n_parts; k++)
            parts_taken += merged[i]->parts[k]->pre != NULL;      /* a node's guests, not a config part */
    merge_free(merged, n_merged);
    struct buf out = BUF_INIT;
    scrape_write(&out, &in, &o);
    for (size_t i = 0; i < 4; i++) {
        free((char *)nodes[i].labels);
        node_render_unref(nodes[i].render);
    }
    arena_free(&A);
    return buf_steal(&out, NULL);
}

static char *scrape_scenario(bool deprecated, bool prerender)
{
    return scrape_scenario_as(deprecated, prerender, VMLIST_AS_BUILT);
}

static void once(const char *text, const char *line);

static int cmp_line(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* text's lines, sorted, joined again: the same set of series in any order. */
static char *sorted_lines(char *text)
{
    size_t n = 0, cap = 1024;
    char **lines = malloc(cap * sizeof *lines);
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (n == cap)
            lines = realloc(lines, (cap *= 2) * sizeof *lines);
        lines[n++] = l;
    }
    qsort(lines, n, sizeof *lines, cmp_line);
    struct buf b = BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        buf_puts(&b, lines[i]);
        buf_putc(&b, '\n');
    }
    free(lines);
    return buf_steal(&b, NULL);
}

/* The scenario's reports sent with compact placements scrape exactly as
 * when every .vmlist entry was a GuestConfig in vmid order (the order the
 * agents used), and as the same series when the entries came in any order;
 * with and without the guests pre-rendered at ingest. */
static void t_compact_vmlist_same_scrape(void **state)
{
    (void)state;
    for (int mode = 0; mode < 4; mode++) {
        bool deprecated = mode & 1, prerender = mode & 2;
        char *built = scrape_scenario(deprecated, prerender);
        char *sorted = scrape_scenario_as(deprecated, prerender, VMLIST_SORTED);
        char *compact = scrape_scenario_as(deprecated, prerender, VMLIST_COMPACT);
        assert_true(strlen(compact) > 4000);
        assert_string_equal(compact, sorted);
        char *a = sorted_lines(built), *b = sorted_lines(compact);
        assert_string_equal(a, b);
        free(a);
        free(b);
        free(built);
        free(sorted);
        free(compact);
    }
}

/* Guests pre-rendered at ingest give exactly the series of the scrape-time
 * merge, in this scenario of a migration in flight (100), a stale node (pve3,
 * whose own view of 102 lacks the HA state), an offline node and two
 * clusters; and they are used: prod takes pve1's and pve2's, lab its pve1's. */
static void t_prerendered_guests_same_series(void **state)
{
    (void)state;
    for (int deprecated = 0; deprecated < 2; deprecated++) {
        char *merged = scrape_scenario(deprecated, false);
        char *pre = scrape_scenario(deprecated, true);
        assert_int_equal(parts_taken, 3);
        char *a = sorted_lines(merged), *b = sorted_lines(pre);
        assert_true(strlen(a) > 4000);
        assert_string_equal(a, b);
        free(a);
        free(b);
        free(merged);
        free(pre);
    }
}

/* A stale node's pre-rendered guest is not used even where the .vmlist
 * agrees with it: the guest must show as the merge shows a guest of a silent
 * node (pve_up 0, no runtime), not as the node last saw it (running). */
static void t_prerendered_guests_of_stale_node(void **state)
{
    (void)state;
    arena_init(&A, 1 << 16);
    Pvescope__ClusterView *view = mk(sizeof *view);
    pvescope__cluster_view__init(view);
    view->name = "c";
    view->has_quorate = view->quorate = true;
    Pvescope__ClusterMember *members[] = {member("a", 1, true), member("b", 2, true)};
    view->members = members;
    view->n_members = 2;
    Pvescope__GuestConfig *a_guests[] = {placed(200, "qemu", "b")};
    Pvescope__GuestConfig *b_guests[] = {config(200, "qemu", "b", "vm200", 2, GIB)};
    Pvescope__GuestRuntime *b_rt[] = {runtime(200, "qemu", 1.0, GIB)};
    struct scrape_node nodes[] = {
        {"", "a", "c", "", node(report("a", view, a_guests, 1, NULL, 0), "c"), 1, true, 1},
        {"", "b", "c", "", node(report("b", view, b_guests, 1, b_rt, 1), "c"), 300, false, 1},
    };
    struct merge_opts o = {false};
    for (size_t i = 0; i < 2; i++) {
        nodes[i].labels = node_labels("c", nodes[i].node);
        nodes[i].render->home_guests = merge_prerender_guests(nodes[i].render->report, "c", &o, NULL);
    }
    assert_non_null(nodes[1].render->home_guests);
    struct scrape_input in = {.nodes = nodes, .n_nodes = 2};
    struct buf out = BUF_INIT;
    scrape_write(&out, &in, &o);
    once(out.data, "pve_up{id=\"qemu/200\",pve_cluster=\"c\"} 0\n");
    once(out.data, "pve_guest_info{id=\"qemu/200\",pve_cluster=\"c\",node=\"b\",name=\"vm200\"");
    assert_null(strstr(out.data, "pve_memory_usage_bytes{id=\"qemu/200\",pve_cluster=\"c\"} 1073741824"));
    for (size_t i = 0; i < 2; i++) {
        free((char *)nodes[i].labels);
        node_render_unref(nodes[i].render);
    }
    buf_free(&out);
    arena_free(&A);
}

/* One cycle of node b: guest 200 named name, running with busy CPUs. */
static struct decoded_report *cycle_of_b(const char *name, double busy, const struct decoded_report *prev)
{
    Pvescope__ClusterView *view = mk(sizeof *view);
    pvescope__cluster_view__init(view);
    view->name = "c";
    Pvescope__GuestConfig *g[] = {config(200, "qemu", "b", name, 2, GIB), placed(201, "lxc", "a")};
    Pvescope__GuestRuntime *rt[] = {runtime(200, "qemu", busy, GIB)};
    Pvescope__Report *r = report("b", view, g, 2, rt, 1);
    size_t n = pvescope__report__get_packed_size(r);
    uint8_t *b = malloc(n);
    pvescope__report__pack(r, b);
    struct decoded_report *d = decoded_report_unpack_next(test_report_plan(), b, n, 1 << 20, prev, NULL);
    free(b);
    assert_non_null(d);
    return d;
}

/* The previous render of a node, as the store holds it. */
static struct node_render *rendered(struct decoded_report *d, const struct merge_opts *o,
                                    const struct node_render *prev)
{
    struct node_render *nr = node_render_new();
    nr->report = d;
    nr->home_guests = merge_prerender_guests(d, "c", o, prev);
    return nr;
}

static char *family_text(const struct node_render *nr, enum family_id f)
{
    return strndup(nr->text.data + nr->start[f], nr->len[f]);
}

/* A report that shares its predecessor's inventory shares the render of its
 * configuration-only families too, and renders the rest afresh; one with
 * another inventory renders all of them. */
static void t_prerendered_config_families_reused(void **state)
{
    (void)state;
    arena_init(&A, 1 << 16);
    struct merge_opts o = {false};
    struct node_render *first = rendered(cycle_of_b("vm200", 1.0, NULL), &o, NULL);
    struct node_render *alone = rendered(cycle_of_b("vm200", 0.5, first->report), &o, NULL);
    struct node_render *next = rendered(cycle_of_b("vm200", 0.5, first->report), &o, first);
    assert_ptr_equal(next->report->inventory, first->report->inventory);
    assert_ptr_not_equal(alone->home_guests->config_part, first->home_guests->config_part);
    assert_ptr_equal(next->home_guests->config_part, first->home_guests->config_part);
    for (int i = 0; i < FAM__COUNT; i++) {             /* each family in one of the two, as rendered alone */
        enum family_id f = (enum family_id)i;
        bool config = merge_family_config_only(f);
        const struct node_render *a = config ? alone->home_guests->config_part : alone->home_guests;
        const struct node_render *b = config ? next->home_guests->config_part : next->home_guests;
        char *ta = family_text(a, f), *tb = family_text(b, f), *other = family_text(config ? next->home_guests
                                                                                  : next->home_guests->config_part, f);
        assert_string_equal(ta, tb);
        assert_string_equal(other, "");
        free(ta);
        free(tb);
        free(other);
    }
    char *info = family_text(next->home_guests->config_part, FAM_PVE_GUEST_INFO);
    assert_non_null(strstr(info, "name=\"vm200\""));
    char *cpu = family_text(next->home_guests, FAM_PVE_CPU_USAGE_RATIO);
    assert_string_equal(cpu, "pve_cpu_usage_ratio{id=\"qemu/200\",pve_cluster=\"c\"} 0.25\n");
    struct node_render *renamed = rendered(cycle_of_b("db", 0.5, next->report), &o, next);
    assert_ptr_not_equal(renamed->report->inventory, next->report->inventory);
    assert_ptr_not_equal(renamed->home_guests->config_part, next->home_guests->config_part);
    char *fresh = family_text(renamed->home_guests->config_part, FAM_PVE_GUEST_INFO);
    assert_non_null(strstr(fresh, "name=\"db\""));
    free(info);
    free(cpu);
    free(fresh);
    node_render_unref(first);
    node_render_unref(alone);
    node_render_unref(next);
    node_render_unref(renamed);
    arena_free(&A);
}

/* Asserts that line occurs exactly once in text. */
static void once(const char *text, const char *line)
{
    const char *at = strstr(text, line);
    if (!at)
        fail_msg("missing: %s", line);
    if (strstr(at + 1, line))
        fail_msg("twice: %s", line);
}

/* Asserts id has exactly n pve_ha_state series in t. */
static void pve_ha_state_count(const char *t, const char *id, int n)
{
    char prefix[128];
    snprintf(prefix, sizeof prefix, "pve_ha_state{id=\"%s\",", id);
    int k = 0;
    for (const char *p = strstr(t, prefix); p; p = strstr(p + 1, prefix))
        k++;
    assert_int_equal(k, n);
}

static void t_nodes_and_cluster(void **state)
{
    (void)state;
    char *t = scrape_scenario(false, false);
    once(t, "pve_up{id=\"node/pve1\",pve_cluster=\"prod\"} 1\n");
    once(t, "pve_up{id=\"node/pve2\",pve_cluster=\"prod\"} 1\n");
    once(t, "pve_up{id=\"node/pve3\",pve_cluster=\"prod\"} 0\n");      /* silent agent */
    once(t, "pve_up{id=\"node/pve4\",pve_cluster=\"prod\"} 0\n");      /* offline, never reported */
    once(t, "pve_node_info{id=\"node/pve4\",pve_cluster=\"prod\",level=\"\",name=\"pve4\",nodeid=\"4\"} 1\n");
    once(t, "pve_node_info{id=\"node/pve1\",pve_cluster=\"prod\",level=\"c\",name=\"pve1\",nodeid=\"1\"} 1\n");
    once(t, "pve_node_info{id=\"node/pve2\",pve_cluster=\"prod\",level=\"\",name=\"pve2\",nodeid=\"2\"} 1\n");
    once(t, "pve_ha_state{id=\"node/pve1\",pve_cluster=\"prod\",state=\"online\"} 1\n");
    once(t, "pve_ha_state{id=\"node/pve1\",pve_cluster=\"prod\",state=\"fence\"} 0\n");
    once(t, "pve_ha_state{id=\"node/pve4\",pve_cluster=\"prod\",state=\"fence\"} 1\n");
    once(t, "pve_ha_state{id=\"node/pve4\",pve_cluster=\"prod\",state=\"online\"} 0\n");
    once(t, "pve_ha_state{id=\"node/pve4\",pve_cluster=\"prod\",state=\"gone\"} 0\n");
    assert_null(strstr(t, "pve_ha_state{id=\"node/pve2\""));
    pve_ha_state_count(t, "node/pve1", 5);
    once(t, "pve_up{id=\"cluster/prod\",pve_cluster=\"prod\"} 1\n");
    once(t, "pve_cluster_info{id=\"cluster/prod\",pve_cluster=\"prod\",nodes=\"4\",quorate=\"1\",version=\"7\"} 1\n");
    once(t, "pve_version_info{pve_cluster=\"prod\",release=\"8.2\",repoid=\"faa83925\",version=\"8.2.4\"} 1\n");
    once(t, "pve_up{id=\"node/pve1\",pve_cluster=\"lab\"} 1\n");
    free(t);
}

static void t_guests(void **state)
{
    (void)state;
    char *t = scrape_scenario(false, false);
    /* running on pve1; the copy running on pve2 (migration) is ignored */
    once(t, "pve_up{id=\"qemu/100\",pve_cluster=\"prod\"} 1\n");
    once(t, "pve_cpu_usage_ratio{id=\"qemu/100\",pve_cluster=\"prod\"} 0.5\n");       /* 2 CPUs busy / 4 */
    once(t, "pve_memory_usage_bytes{id=\"qemu/100\",pve_cluster=\"prod\"} 1073741824\n");
    once(t, "pve_memory_size_bytes{id=\"qemu/100\",pve_cluster=\"prod\"} 8589934592\n");
    once(t, "pve_cpu_usage_limit{id=\"qemu/100\",pve_cluster=\"prod\"} 4\n");
    once(t, "pve_disk_size_bytes{id=\"qemu/100\",pve_cluster=\"prod\"} 34359738368\n");
    once(t, "pve_network_receive_bytes_total{id=\"qemu/100\",pve_cluster=\"prod\"} 1000\n");
    once(t, "pve_guest_info{id=\"qemu/100\",pve_cluster=\"prod\",node=\"pve1\",name=\"web \\\"front\\\"\","
            "type=\"qemu\",template=\"0\",tags=\"prod;web\"} 1\n");
    once(t, "pve_lock_state{id=\"qemu/100\",pve_cluster=\"prod\",state=\"backup\"} 1\n");
    once(t, "pve_lock_state{id=\"qemu/100\",pve_cluster=\"prod\",state=\"migrate\"} 0\n");
    once(t, "pve_onboot_status{id=\"qemu/100\",pve_cluster=\"prod\",node=\"pve1\",type=\"qemu\"} 1\n");
    assert_null(strstr(t, "pve_onboot_status{id=\"qemu/104\""));      /* not set in its config */
    /* the container's config and runtime come from pve2 */
    once(t, "pve_up{id=\"lxc/101\",pve_cluster=\"prod\"} 1\n");
    once(t, "pve_cpu_usage_ratio{id=\"lxc/101\",pve_cluster=\"prod\"} 0.4\n");       /* 0.5 / 1.25 */
    once(t, "pve_cpu_usage_limit{id=\"lxc/101\",pve_cluster=\"prod\"} 1.25\n");
    /* a running CT: statvfs of its rootfs, not the config size */
    once(t, "pve_disk_usage_bytes{id=\"lxc/101\",pve_cluster=\"prod\"} 1234567\n");
    once(t, "pve_disk_size_bytes{id=\"lxc/101\",pve_cluster=\"prod\"} 8000000000\n");
    /* a stopped CT: PVE's disk 0 and the configured rootfs size */
    once(t, "pve_up{id=\"lxc/105\",pve_cluster=\"prod\"} 0\n");
    once(t, "pve_disk_usage_bytes{id=\"lxc/105\",pve_cluster=\"prod\"} 0\n");
    once(t, "pve_disk_size_bytes{id=\"lxc/105\",pve_cluster=\"prod\"} 8589934592\n");
    once(t, "pve_disk_usage_bytes{id=\"qemu/100\",pve_cluster=\"prod\"} 0\n");
    /* a silent node's guest: down, its last known config still names it */
    once(t, "pve_up{id=\"qemu/102\",pve_cluster=\"prod\"} 0\n");
    once(t, "name=\"mail\"");
    /* an offline node's guest: config read by pve1 */
    once(t, "pve_up{id=\"qemu/103\",pve_cluster=\"prod\"} 0\n");
    once(t, "pve_guest_info{id=\"qemu/103\",pve_cluster=\"prod\",node=\"pve4\",name=\"db\",type=\"qemu\","
            "template=\"0\",tags=\"\"} 1\n");
    once(t, "pve_memory_usage_bytes{id=\"qemu/103\",pve_cluster=\"prod\"} 0\n");
    /* a template: listed, down, template="1" */
    once(t, "template=\"1\"");
    once(t, "pve_up{id=\"qemu/104\",pve_cluster=\"prod\"} 0\n");
    /* the template's long name, whole */
    once(t, "name=\"a-very-long-container-hostname-that-goes-on-and-on-well-past-ninety-six-bytes-and-ends-in-unicode-\xc3\xbc\xc3\xbc\"");
    /* HA state without a config; no lock series without a config */
    once(t, "pve_ha_state{id=\"qemu/102\",pve_cluster=\"prod\",state=\"started\"} 1\n");
    assert_null(strstr(t, "pve_lock_state{id=\"qemu/106\""));       /* lock unknown: no series */
    once(t, "pve_guest_info{id=\"qemu/106\",pve_cluster=\"prod\",node=\"pve4\",name=\"VM 106\",type=\"qemu\","
            "template=\"0\",tags=\"\"} 1\n");
    once(t, "pve_lock_state{id=\"qemu/103\",pve_cluster=\"prod\",state=\"backup\"} 0\n");  /* config known */
    /* the other cluster's qemu/100 is its own series */
    once(t, "pve_up{id=\"qemu/100\",pve_cluster=\"lab\"} 0\n");
    once(t, "name=\"lab-vm\"");
    free(t);
}

static void t_guest_extras(void **state)
{
    (void)state;
    char *t = scrape_scenario(false, false);
    once(t, "pve_guest_cpu_seconds_total{id=\"qemu/100\",pve_cluster=\"prod\"} 12.5\n");
    once(t, "pve_guest_network_receive_bytes_total{id=\"qemu/100\",pve_cluster=\"prod\",device=\"tap100i0\"} 1000\n");
    once(t, "pve_guest_network_transmit_bytes_total{id=\"qemu/100\",pve_cluster=\"prod\",device=\"tap100i0\"} 2000\n");
    once(t, "pve_guest_network_receive_drop_total{id=\"qemu/100\",pve_cluster=\"prod\",device=\"tap100i0\"} 3\n");
    once(t, "pve_guest_disk_written_bytes_total{id=\"qemu/100\",pve_cluster=\"prod\",device=\"pve-vm--100--disk--0\"} 8192\n");
    once(t, "pve_guest_pressure_cpu_waiting_seconds_total{id=\"qemu/100\",pve_cluster=\"prod\"} 1.5\n");
    assert_null(strstr(t, "pve_guest_network_transmit_drop_total"));      /* not reported: no series */
    assert_null(strstr(t, "pve_guest_cpu_seconds_total{id=\"qemu/103\""));    /* stopped */
    free(t);
}

static void t_storages(void **state)
{
    (void)state;
    char *t = scrape_scenario(false, false);
    const char *nodes[] = {"pve1", "pve2", "pve3", "pve4"};
    for (size_t i = 0; i < 4; i++) {
        char line[256];
        snprintf(line, sizeof line, "pve_storage_info{id=\"storage/%s/local\",pve_cluster=\"prod\",node=\"%s\","
                 "storage=\"local\",plugintype=\"dir\",content=\"backup,iso,vztmpl\"} 1\n", nodes[i], nodes[i]);
        once(t, line);
    }
    once(t, "pve_storage_shared{id=\"storage/pve2/local-lvm\",pve_cluster=\"prod\"} 0\n");
    assert_null(strstr(t, "storage/pve3/local-lvm"));                 /* not enabled there */
    assert_null(strstr(t, "storage=\"nas\""));                        /* disabled */
    /* usage: each node's own report; sizes only while active */
    once(t, "pve_up{id=\"storage/pve1/local\",pve_cluster=\"prod\"} 1\n");
    once(t, "pve_disk_size_bytes{id=\"storage/pve1/local\",pve_cluster=\"prod\"} 107374182400\n");
    once(t, "pve_disk_usage_bytes{id=\"storage/pve1/local\",pve_cluster=\"prod\"} 42949672960\n");
    once(t, "pve_up{id=\"storage/pve2/local\",pve_cluster=\"prod\"} 0\n");
    assert_null(strstr(t, "pve_disk_size_bytes{id=\"storage/pve2/local\""));
    assert_null(strstr(t, "pve_disk_usage_bytes{id=\"storage/pve2/local\""));
    assert_null(strstr(t, "pve_up{id=\"storage/pve3/local\""));      /* pve3 is stale */
    assert_null(strstr(t, "pve_disk_size_bytes{id=\"storage/pve3/local\""));
    assert_null(strstr(t, "pve_up{id=\"storage/pve4/"));              /* never reported */
    assert_null(strstr(t, "pve_up{id=\"storage/pve1/local-lvm\""));  /* not measured */
    once(t, "pve_up{id=\"storage/pve2/local-lvm\",pve_cluster=\"prod\"} 1\n");
    once(t, "pve_disk_size_bytes{id=\"storage/pve2/local-lvm\",pve_cluster=\"prod\"} 853398257664\n");
    once(t, "pve_disk_usage_bytes{id=\"storage/pve2/local-lvm\",pve_cluster=\"prod\"} 319349915648\n");
    assert_null(strstr(t, "storage/pve2/nas"));                        /* disabled */
    free(t);
}

static void t_only_cluster(void **state)
{
    (void)state;
    struct scrape_node nodes[] = {
        {"", "a", "lab", "", NULL, 0, true, 0}, {"", "a", "prod", "", NULL, 0, true, 0},
        {"", "b", "prod", "", NULL, 0, true, 0}, {"", "c", "zoo", "", NULL, 0, true, 0},
    };
    struct scrape_input in = {.nodes = nodes, .n_nodes = 4, .received = 0, .closed_connections = 0};
    scrape_input_only_cluster(&in, "prod");
    assert_ptr_equal(in.nodes, &nodes[1]);
    assert_int_equal(in.n_nodes, 2);
    struct scrape_input none = {.nodes = nodes, .n_nodes = 4, .received = 0, .closed_connections = 0};
    scrape_input_only_cluster(&none, "nope");
    assert_int_equal(none.n_nodes, 0);
}

static void t_deprecated_gauges_flag(void **state)
{
    (void)state;
    char *off = scrape_scenario(false, false);
    assert_null(strstr(off, "pve_network_receive_bytes{"));
    free(off);
    char *on = scrape_scenario(true, false);
    once(on, "pve_network_receive_bytes{id=\"qemu/100\",pve_cluster=\"prod\"} 1000\n");
    once(on, "pve_network_transmit_bytes{id=\"qemu/100\",pve_cluster=\"prod\"} 2000\n");
    once(on, "# TYPE pve_network_receive_bytes gauge\n");
    free(on);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_nodes_and_cluster), cmocka_unit_test(t_guests), cmocka_unit_test(t_storages),
        cmocka_unit_test(t_guest_extras), cmocka_unit_test(t_prerendered_guests_same_series),
        cmocka_unit_test(t_compact_vmlist_same_scrape),
        cmocka_unit_test(t_prerendered_guests_of_stale_node), cmocka_unit_test(t_prerendered_config_families_reused),
        cmocka_unit_test(t_deprecated_gauges_flag), cmocka_unit_test(t_only_cluster),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
