/* merge.c — one cluster's view, merged from its nodes' latest reports.
 *
 * Every node's agent sends the same cluster-wide files (.members, .vmlist,
 * storage.cfg) plus what only it knows (its guests' configs and runtime). The
 * merge picks one authoritative copy of the cluster-wide files and joins the
 * rest to it, the way prometheus-pve-exporter's families expect:
 *   - nodes: every .members node, reporting or not; pve_up is 1 only for a
 *     node that reports (fresh) and that .members calls online;
 *   - guests: every .vmlist guest, running or not; configuration from its
 *     node's report (or, for a node that is down, from any node that read it),
 *     runtime only from the node .vmlist places it on, so a guest caught
 *     mid-migration appears once;
 *   - storages: storage.cfg entries, one series per node they are enabled on;
 *     usage and pve_up from that node's own report only.
 * It runs at scrape time because freshness changes with time, not with
 * reports. Everything a report says is untrusted text: labels are escaped. */
#include "merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "merge_internal.h"
#include "numfmt.h"
#include "render.h"

/* The exporter's fixed state lists (pve-exporter.md §2.2), as the label
 * pairs they become; the state is what follows `state="`, up to the quote. */
#define S(x) "state=\"" x "\""
#define STATE_PREFIX (sizeof "state=\"" - 1)
static const char *const lock_states[] = {S("backup"), S("clone"), S("create"), S("migrate"), S("rollback"),
                                          S("snapshot"), S("snapshot-delete"), S("suspended"), S("suspending")};
static const char *const ha_states[] = {S("stopped"), S("request_stop"), S("request_start"),
                                        S("request_start_balance"), S("started"), S("fence"), S("recovery"),
                                        S("migrate"), S("relocate"), S("freeze"), S("error")};
static const char *const node_ha_states[] = {S("online"), S("maintenance"), S("unknown"), S("fence"), S("gone")};
#undef S

/* True when the pair state="<x>" names state s. */
static bool state_is(const char *pair, const char *s)
{
    size_t n = strlen(pair) - STATE_PREFIX - 1;
    return strncmp(pair + STATE_PREFIX, s, n) == 0 && s[n] == '\0';
}

/* One cluster's input: its store nodes (fresh or stale) in node-name order. */
struct cluster_in {
    const char *cluster;
    const struct scrape_node *nodes;
    size_t n;
};

static const Pvescope__Report *report_of(const struct scrape_node *n)
{
    return n->render->report ? n->render->report->r : NULL;
}

/* The node whose report merge_authoritative() picks, or NULL. */
static const struct scrape_node *authoritative_node(const struct scrape_node *nodes, size_t n)
{
    const struct scrape_node *best = NULL;
    for (size_t i = 0; i < n; i++) {
        const Pvescope__Report *r = report_of(&nodes[i]);
        if (!nodes[i].fresh || !r || !r->cluster)
            continue;
        if (!best) {
            best = &nodes[i];
            continue;
        }
        const Pvescope__ClusterView *bv = report_of(best)->cluster;
        bool q = r->cluster->has_quorate && r->cluster->quorate;
        bool bq = bv->has_quorate && bv->quorate;
        if (q != bq ? q : r->cluster->vmlist_version > bv->vmlist_version)
            best = &nodes[i];
    }
    return best;
}

/* See merge.h. */
const Pvescope__Report *merge_authoritative(const struct scrape_node *nodes, size_t n)
{
    const struct scrape_node *best = authoritative_node(nodes, n);
    return best ? report_of(best) : NULL;
}

static const struct scrape_node *find_node(const struct cluster_in *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->nodes[i].node, name) == 0)
            return &c->nodes[i];
    return NULL;
}

static const Pvescope__ClusterMember *find_member(const Pvescope__Report *auth, const char *name)
{
    if (!auth || !auth->cluster)
        return NULL;
    for (size_t i = 0; i < auth->cluster->n_members; i++)
        if (strcmp(auth->cluster->members[i]->name, name) == 0)
            return auth->cluster->members[i];
    return NULL;
}

/* Appends `id="<prefix><id>",pve_cluster="<cluster>"` to b. */
static void id_labels(struct buf *b, const char *prefix, const char *id, const char *cluster)
{
    buf_puts(b, "id=\"");
    buf_puts(b, prefix);
    expo_escape_label(b, id);
    buf_puts(b, "\",pve_cluster=\"");
    expo_escape_label(b, cluster);
    buf_putc(b, '"');
}

/* ---- nodes --------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every node name of the cluster: .members and reporting nodes, sorted, unique. */
static const char **node_names(const struct cluster_in *c, const Pvescope__Report *auth, size_t *n)
{
    size_t cap = c->n + (auth && auth->cluster ? auth->cluster->n_members : 0);
    const char **names = malloc((cap ? cap : 1) * sizeof *names);
    if (!names)
        abort();
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++)
        names[k++] = c->nodes[i].node;
    for (size_t i = 0; auth && auth->cluster && i < auth->cluster->n_members; i++)
        names[k++] = auth->cluster->members[i]->name;
    qsort(names, k, sizeof *names, cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < k; i++)
        if (u == 0 || strcmp(names[u - 1], names[i]) != 0)
            names[u++] = names[i];
    *n = u;
    return names;
}

static bool node_is_up(const struct scrape_node *sn, const Pvescope__ClusterMember *m)
{
    return sn && sn->fresh && (!m || !m->has_online || m->online);
}

static uint32_t node_id_of(const struct scrape_node *sn, const Pvescope__ClusterMember *m)
{
    if (m && m->has_nodeid)
        return m->nodeid;
    const Pvescope__Report *r = sn ? report_of(sn) : NULL;
    return r && r->pve && r->pve->has_nodeid ? r->pve->nodeid : 0;
}

/* The exporter's five node HA states, 1 for the current one; only for nodes
 * the HA manager lists, as /cluster/resources gives hastate only for those. */
static void node_ha_state(struct node_render *nr, const char *labels, const char *current)
{
    for (size_t i = 0; i < sizeof node_ha_states / sizeof *node_ha_states; i++)
        nr_sample(nr, FAM_PVE_HA_STATE, labels, node_ha_states[i], state_is(node_ha_states[i], current) ? 1 : 0);
}

static void render_nodes(struct node_render *nr, const struct cluster_in *c, const Pvescope__Report *auth,
                         enum family_id f)
{
    size_t n;
    const char **names = node_names(c, auth, &n);
    struct buf labels = BUF_INIT, extra = BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        const struct scrape_node *sn = find_node(c, names[i]);
        const Pvescope__ClusterMember *m = find_member(auth, names[i]);
        buf_reset(&labels);
        id_labels(&labels, "node/", names[i], c->cluster);
        if (f == FAM_PVE_UP) {
            nr_sample(nr, f, labels.data, NULL, node_is_up(sn, m) ? 1 : 0);
            continue;
        }
        if (f == FAM_PVE_HA_STATE) {
            if (m && m->ha_state)
                node_ha_state(nr, labels.data, m->ha_state);
            continue;
        }
        buf_reset(&extra);
        buf_puts(&extra, "level=\"");
        if (m && m->subscription_level)
            expo_escape_label(&extra, m->subscription_level);
        buf_puts(&extra, "\",name=\"");
        expo_escape_label(&extra, names[i]);
        buf_puts(&extra, "\",nodeid=\"");
        buf_put_u64(&extra, node_id_of(sn, m));
        buf_putc(&extra, '"');
        nr_sample(nr, f, labels.data, extra.data, 1);
    }
    buf_free(&labels);
    buf_free(&extra);
    free(names);
}

/* ---- cluster ------------------------------------------------------------- */

static void render_cluster(struct node_render *nr, const struct cluster_in *c, const Pvescope__Report *auth,
                           enum family_id f)
{
    const Pvescope__ClusterView *v = auth ? auth->cluster : NULL;
    if (!v || !v->name)
        return;                               /* standalone: the exporter has no cluster object */
    struct buf labels = BUF_INIT, extra = BUF_INIT;
    id_labels(&labels, "cluster/", v->name, c->cluster);
    bool quorate = v->has_quorate && v->quorate;
    if (f == FAM_PVE_UP) {
        nr_sample(nr, f, labels.data, NULL, quorate ? 1 : 0);
    } else if (f == FAM_PVE_CLUSTER_INFO) {
        buf_printf(&extra, "nodes=\"%u\",quorate=\"%d\",version=\"%u\"", v->expected_nodes, quorate ? 1 : 0,
                   v->config_version);
        nr_sample(nr, f, labels.data, extra.data, 1);
    }
    buf_free(&labels);
    buf_free(&extra);
}

static void render_version(struct node_render *nr, const struct cluster_in *c, const Pvescope__Report *auth)
{
    const Pvescope__ClusterView *v = auth ? auth->cluster : NULL;
    if (!v || !v->pve_version)
        return;
    struct buf labels = BUF_INIT;
    buf_puts(&labels, "pve_cluster=\"");
    expo_escape_label(&labels, c->cluster);
    buf_puts(&labels, "\",release=\"");
    expo_escape_label(&labels, v->pve_release ? v->pve_release : "");
    buf_puts(&labels, "\",repoid=\"");
    expo_escape_label(&labels, v->pve_repoid ? v->pve_repoid : "");
    buf_puts(&labels, "\",version=\"");
    expo_escape_label(&labels, v->pve_version);
    buf_putc(&labels, '"');
    nr_sample(nr, FAM_PVE_VERSION_INFO, labels.data, NULL, 1);
    buf_free(&labels);
}

/* ---- guests -------------------------------------------------------------- */

static const Pvescope__GuestConfig *config_in(const struct scrape_node *n, uint32_t vmid)
{
    return n && n->render->report ? decoded_config(n->render->report, vmid) : NULL;
}

static const Pvescope__GuestRuntime *runtime_in(const struct scrape_node *n, uint32_t vmid, const char *type)
{
    return n && n->render->report ? decoded_runtime(n->render->report, vmid, type) : NULL;
}

/* The guest's configuration: from its own node if that reports, else from
 * any fresh node that read it (agents read the configs of offline nodes),
 * else from the last report of its silent node: configurations change
 * rarely, and a name from a minute ago beats "VM <vmid>". */
static const Pvescope__GuestConfig *find_config(const struct cluster_in *c, const struct scrape_node *home,
                                                uint32_t vmid)
{
    const Pvescope__GuestConfig *cfg = home && home->fresh ? config_in(home, vmid) : NULL;
    for (size_t i = 0; !cfg && i < c->n; i++)
        if (c->nodes[i].fresh)
            cfg = config_in(&c->nodes[i], vmid);
    return cfg || !home ? cfg : config_in(home, vmid);
}

static void join_guest(struct merged_guest *g, const struct cluster_in *c, const Pvescope__GuestConfig *place)
{
    const struct scrape_node *home = place->node ? find_node(c, place->node) : NULL;
    g->place = place;
    g->cfg = find_config(c, home, place->vmid);
    g->rt = home && home->fresh ? runtime_in(home, place->vmid, place->type) : NULL;
    merged_guest_prepare(g, c->cluster);
}

/* Index of current in states (state="<x>" pairs), or -1. */
static int state_index(const char *const *states, size_t n, const char *current)
{
    for (size_t i = 0; current && i < n; i++)
        if (state_is(states[i], current))
            return (int)i;
    return -1;
}

/* device="<name>" for each of rt's NICs and disks: the same six families
 * each write them, so they are escaped once. */
static void device_labels(struct merged_guest *g)
{
    size_t n = g->rt ? g->rt->n_nics + g->rt->n_disks : 0;
    if (n == 0)
        return;
    struct buf b = BUF_INIT;
    g->device_at = malloc(n * sizeof *g->device_at);
    if (!g->device_at)
        abort();
    for (size_t i = 0; i < n; i++) {
        g->device_at[i] = b.len;
        buf_puts(&b, "device=\"");
        expo_escape_label(&b, i < g->rt->n_nics ? g->rt->nics[i]->name : g->rt->disks[i - g->rt->n_nics]->key);
        buf_append(&b, "\"", 2);             /* the quote and a NUL */
    }
    g->devices = buf_steal(&b, NULL);
}

static const char *ha_state_of(const struct merged_guest *g);
static double guest_cpus(const Pvescope__GuestConfig *cfg);

void merged_guest_prepare(struct merged_guest *g, const char *cluster)
{
    g->lxc = strcmp(g->place->type, "lxc") == 0;
    /* what the runtime families need of place and cfg, so a report sharing
     * them (merge_home.c) does not read them again */
    g->vmid = g->place->vmid;
    g->type = g->lxc ? "lxc" : strcmp(g->place->type, "qemu") == 0 ? "qemu" : g->place->type;
    g->place_ha_state = g->place->ha_state;
    g->cpus = guest_cpus(g->cfg);
    g->has_boot_disk = g->cfg && g->cfg->has_boot_disk_bytes;
    g->boot_disk_bytes = g->has_boot_disk ? g->cfg->boot_disk_bytes : 0;
    const char *prefix = g->lxc ? "CT" : "VM ";
    char *p = g->default_name + strlen(prefix);
    memcpy(g->default_name, prefix, strlen(prefix));
    *numfmt_u64(p, g->place->vmid) = '\0';
    g->name = g->cfg && g->cfg->name ? g->cfg->name : g->default_name;
    char id[32];
    memcpy(id, g->lxc ? "lxc/" : "qemu/", g->lxc ? 4 : 5);
    *numfmt_u64(id + (g->lxc ? 4 : 5), g->place->vmid) = '\0';
    struct buf b = BUF_INIT;
    buf_reserve(&b, 64 + strlen(cluster));
    id_labels(&b, "", id, cluster);
    g->labels = buf_steal(&b, &g->labels_len);
    g->lock_state = state_index(lock_states, sizeof lock_states / sizeof *lock_states, g->cfg ? g->cfg->lock : NULL);
    g->ha_state = state_index(ha_states, sizeof ha_states / sizeof *ha_states, ha_state_of(g));
    device_labels(g);
}

void merged_guest_release(struct merged_guest *g)
{
    merged_guest_drop_runtime(g);
    free(g->labels);
    g->labels = NULL;
}

void merged_guest_drop_runtime(struct merged_guest *g)
{
    if (!g->devices_shared) {
        free(g->devices);
        free(g->device_at);
    }
    g->devices = NULL;
    g->device_at = NULL;
    g->devices_shared = false;
    g->rt = NULL;
}

static size_t device_count(const struct merged_guest *g)
{
    return g->rt ? g->rt->n_nics + g->rt->n_disks : 0;
}

void *merged_guests_device_labels(struct merged_guest *g, size_t n)
{
    size_t count = 0;
    for (size_t k = 0; k < n; k++)
        count += device_count(&g[k]);
    struct buf b = BUF_INIT;                 /* every offset, then every label */
    buf_reserve(&b, count * sizeof(size_t) + count * 32);
    b.len = count * sizeof(size_t);
    size_t idx = 0;
    for (size_t k = 0; k < n; k++) {
        const Pvescope__GuestRuntime *rt = g[k].rt;
        for (size_t i = 0; i < device_count(&g[k]); i++, idx++) {
            size_t at = b.len;
            buf_append(&b, "device=\"", 8);
            expo_escape_label(&b, i < rt->n_nics ? rt->nics[i]->name : rt->disks[i - rt->n_nics]->key);
            buf_append(&b, "\"", 2);            /* the quote and a NUL */
            memcpy(b.data + idx * sizeof(size_t), &at, sizeof at);
        }
    }
    idx = 0;
    for (size_t k = 0; k < n; k++) {         /* b no longer moves */
        g[k].device_at = (size_t *)(void *)b.data + idx;
        g[k].devices = b.data;
        g[k].devices_shared = true;
        idx += device_count(&g[k]);
    }
    return b.data;
}

/* HA state comes from manager_status, which every agent reads: it is on the
 * .vmlist entry even when nobody could read the guest's config. */
static const char *ha_state_of(const struct merged_guest *g)
{
    if (g->place->ha_state)
        return g->place->ha_state;
    return g->cfg ? g->cfg->ha_state : NULL;
}

static bool running(const struct merged_guest *g) { return g->rt && g->rt->has_running && g->rt->running; }

static void guest_info(struct node_render *nr, const struct merged_guest *g)
{
    struct buf extra = nr_scratch(nr);
    buf_puts(&extra, "node=\"");
    expo_escape_label(&extra, g->place->node ? g->place->node : "");
    buf_puts(&extra, "\",name=\"");
    expo_escape_label(&extra, g->name);
    buf_puts(&extra, "\",type=\"");
    expo_escape_label(&extra, g->place->type);
    buf_puts(&extra, "\",template=\"");
    buf_puts(&extra, g->cfg && g->cfg->has_template_ && g->cfg->template_ ? "1" : "0");
    buf_puts(&extra, "\",tags=\"");
    expo_escape_label(&extra, g->cfg && g->cfg->tags ? g->cfg->tags : "");
    buf_putc(&extra, '"');
    nr_sample_n(nr, FAM_PVE_GUEST_INFO, g->labels, g->labels_len, extra.data, extra.len, 1);
    nr_scratch_keep(nr, &extra);
}

/* One series per state, 1 for the current one (the exporter's layout). */
static void state_set(struct node_render *nr, enum family_id f, const struct merged_guest *g,
                      const char *const *states, size_t n, int current)
{
    nr_state_set(nr, f, g->labels, g->labels_len, states, n, current);
}

static void onboot(struct node_render *nr, const struct merged_guest *g)
{
    if (!g->cfg || !g->cfg->has_onboot)
        return;                               /* the exporter emits it only when set */
    struct buf extra = nr_scratch(nr);
    buf_puts(&extra, "node=\"");
    expo_escape_label(&extra, g->place->node ? g->place->node : "");
    buf_puts(&extra, "\",type=\"");
    expo_escape_label(&extra, g->place->type);
    buf_putc(&extra, '"');
    nr_sample_n(nr, FAM_PVE_ONBOOT_STATUS, g->labels, g->labels_len, extra.data, extra.len, g->cfg->onboot ? 1 : 0);
    nr_scratch_keep(nr, &extra);
}

/* A runtime counter: the value while running, 0 while stopped (as PVE
 * reports a stopped guest), nothing while running without the field. */
static void runtime_u64(struct node_render *nr, enum family_id f, const struct merged_guest *g, bool has,
                        uint64_t v)
{
    if (!running(g))
        nr_sample_u64_n(nr, f, g->labels, g->labels_len, NULL, 0, 0);
    else if (has)
        nr_sample_u64_n(nr, f, g->labels, g->labels_len, NULL, 0, v);
}

/* PVE's maxcpu. A container's is `cores || cpulimit || host CPUs`, so a
 * cpulimit of 1.5 without cores is 1.5, not the agent's rounded-up 2. */
static double guest_cpus(const Pvescope__GuestConfig *cfg)
{
    if (!cfg)
        return 0;
    if (strcmp(cfg->type, "lxc") == 0 && !(cfg->has_cores && cfg->cores) && cfg->has_cpulimit &&
        cfg->cpulimit > 0)
        return cfg->cpulimit;
    return cfg->has_cpus ? cfg->cpus : 0;
}

static void guest_cpu_ratio(struct node_render *nr, const struct merged_guest *g)
{
    if (!running(g)) {
        nr_sample_n(nr, FAM_PVE_CPU_USAGE_RATIO, g->labels, g->labels_len, NULL, 0, 0);
        return;
    }
    if (g->rt->has_cpu_busy && g->cpus > 0)
        nr_sample_n(nr, FAM_PVE_CPU_USAGE_RATIO, g->labels, g->labels_len, NULL, 0, g->rt->cpu_busy / g->cpus);
}

/* Keep in step with guest_sample() and guest_extra_sample(): a family listed
 * here must read g->place, g->cfg and g->labels only, never g->rt. */
bool merge_family_config_only(enum family_id f)
{
    switch (f) {
    case FAM_PVE_GUEST_INFO: case FAM_PVE_ONBOOT_STATUS: case FAM_PVE_LOCK_STATE: case FAM_PVE_HA_STATE:
    case FAM_PVE_CPU_USAGE_LIMIT: case FAM_PVE_MEMORY_SIZE_BYTES:
        return true;
    default:
        return false;
    }
}

/* Writes guest g's sample of family f, if it has one. */
static void guest_sample(struct node_render *nr, enum family_id f, const struct merged_guest *g,
                         const struct merge_opts *o)
{
    const Pvescope__GuestConfig *cfg = g->cfg;
    const Pvescope__GuestRuntime *rt = g->rt;
    bool lxc = g->lxc;
    switch (f) {
    case FAM_PVE_UP: nr_sample_n(nr, f, g->labels, g->labels_len, NULL, 0, running(g) ? 1 : 0); break;
    case FAM_PVE_GUEST_INFO: guest_info(nr, g); break;
    case FAM_PVE_ONBOOT_STATUS: onboot(nr, g); break;
    case FAM_PVE_LOCK_STATE:
        if (cfg)                              /* unknown config: unknown lock, no series */
            state_set(nr, f, g, lock_states, sizeof lock_states / sizeof *lock_states, g->lock_state);
        break;
    case FAM_PVE_HA_STATE:
        if (ha_state_of(g))
            state_set(nr, f, g, ha_states, sizeof ha_states / sizeof *ha_states, g->ha_state);
        break;
    case FAM_PVE_CPU_USAGE_RATIO: guest_cpu_ratio(nr, g); break;
    case FAM_PVE_CPU_USAGE_LIMIT:
        if (g->cpus > 0)
            nr_sample_n(nr, f, g->labels, g->labels_len, NULL, 0, g->cpus);
        break;
    case FAM_PVE_MEMORY_SIZE_BYTES:
        if (cfg && cfg->has_memory_bytes)
            nr_sample_u64_n(nr, f, g->labels, g->labels_len, NULL, 0, cfg->memory_bytes);
        break;
    case FAM_PVE_MEMORY_USAGE_BYTES: runtime_u64(nr, f, g, rt && rt->has_memory_bytes, rt ? rt->memory_bytes : 0); break;
    case FAM_PVE_DISK_SIZE_BYTES:
        if (lxc && running(g) && rt->has_rootfs_total_bytes)   /* running CT: statvfs of its rootfs */
            nr_sample_u64_n(nr, f, g->labels, g->labels_len, NULL, 0, rt->rootfs_total_bytes);
        else if (g->has_boot_disk)
            nr_sample_u64_n(nr, f, g->labels, g->labels_len, NULL, 0, g->boot_disk_bytes);
        break;
    case FAM_PVE_DISK_USAGE_BYTES:
        if (!lxc || !running(g))              /* PVE reports 0 for every VM and stopped CT */
            nr_sample_u64_n(nr, f, g->labels, g->labels_len, NULL, 0, 0);
        else if (rt->has_rootfs_used_bytes)   /* a running CT whose statvfs did not answer: none */
            nr_sample_u64_n(nr, f, g->labels, g->labels_len, NULL, 0, rt->rootfs_used_bytes);
        break;
    case FAM_PVE_UPTIME_SECONDS:
        if (!running(g))
            nr_sample_n(nr, f, g->labels, g->labels_len, NULL, 0, 0);
        else if (rt->has_uptime_seconds)
            nr_sample_n(nr, f, g->labels, g->labels_len, NULL, 0, rt->uptime_seconds);
        break;
    case FAM_PVE_NET_RX_TOTAL: case FAM_PVE_NET_RX_DEPRECATED:
        if (f == FAM_PVE_NET_RX_TOTAL || o->deprecated_gauges)
            runtime_u64(nr, f, g, rt && rt->has_net_in_bytes, rt ? rt->net_in_bytes : 0);
        break;
    case FAM_PVE_NET_TX_TOTAL: case FAM_PVE_NET_TX_DEPRECATED:
        if (f == FAM_PVE_NET_TX_TOTAL || o->deprecated_gauges)
            runtime_u64(nr, f, g, rt && rt->has_net_out_bytes, rt ? rt->net_out_bytes : 0);
        break;
    case FAM_PVE_DISK_READ_TOTAL: case FAM_PVE_DISK_READ_DEPRECATED:
        if (f == FAM_PVE_DISK_READ_TOTAL || o->deprecated_gauges)
            runtime_u64(nr, f, g, rt && rt->has_disk_read_bytes, rt ? rt->disk_read_bytes : 0);
        break;
    case FAM_PVE_DISK_WRITTEN_TOTAL: case FAM_PVE_DISK_WRITE_DEPRECATED:
        if (f == FAM_PVE_DISK_WRITTEN_TOTAL || o->deprecated_gauges)
            runtime_u64(nr, f, g, rt && rt->has_disk_written_bytes, rt ? rt->disk_written_bytes : 0);
        break;
    default: break;
    }
}

/* ---- guest series beyond the exporter (running guests only) ---------------- */

static void guest_psi(struct node_render *nr, enum family_id f, const struct merged_guest *g)
{
    const Pvescope__Pressure *p = g->rt->pressure;
    const Pvescope__PressureResource *r = !p ? NULL
        : f == FAM_GUEST_PSI_CPU_WAITING ? p->cpu
        : (f == FAM_GUEST_PSI_IO_WAITING || f == FAM_GUEST_PSI_IO_STALLED) ? p->io : p->memory;
    bool full = f == FAM_GUEST_PSI_IO_STALLED || f == FAM_GUEST_PSI_MEM_STALLED;
    if (r && (full ? r->has_full_total_us : r->has_some_total_us))
        nr_sample_micro_n(nr, f, g->labels, g->labels_len, NULL, 0, full ? r->full_total_us : r->some_total_us);
}

/* Per-device series: device="<tap100i0>" or the backing device name. */
static void guest_devices(struct node_render *nr, enum family_id f, const struct merged_guest *g)
{
    bool net = f == FAM_GUEST_NET_RX || f == FAM_GUEST_NET_TX || f == FAM_GUEST_NET_RX_DROP ||
               f == FAM_GUEST_NET_TX_DROP;
    size_t n = net ? g->rt->n_nics : g->rt->n_disks;
    for (size_t i = 0; i < n; i++) {
        const char *dev = g->devices + g->device_at[net ? i : g->rt->n_nics + i];
        size_t dn = strlen(dev);
        const Pvescope__NetDev *d = net ? g->rt->nics[i] : NULL;
        const Pvescope__GuestBlockIo *b = net ? NULL : g->rt->disks[i];
        bool has;
        uint64_t v;
        /* host-side transmit is what the guest receives, and the other way round */
        switch (f) {
        case FAM_GUEST_NET_RX: has = d->has_tx_bytes, v = d->tx_bytes; break;
        case FAM_GUEST_NET_TX: has = d->has_rx_bytes, v = d->rx_bytes; break;
        case FAM_GUEST_NET_RX_DROP: has = d->has_tx_drop, v = d->tx_drop; break;
        case FAM_GUEST_NET_TX_DROP: has = d->has_rx_drop, v = d->rx_drop; break;
        case FAM_GUEST_DISK_READ: has = b->has_read_bytes, v = b->read_bytes; break;
        default: has = b->has_written_bytes, v = b->written_bytes; break;
        }
        if (has)
            nr_sample_u64_n(nr, f, g->labels, g->labels_len, dev, dn, v);
    }
}

/* Samples of the pve_guest_* families, which only a running guest has. */
static void guest_extra_sample(struct node_render *nr, enum family_id f, const struct merged_guest *g)
{
    if (!running(g))
        return;
    const Pvescope__GuestRuntime *rt = g->rt;
    switch (f) {
    case FAM_GUEST_CPU_SECONDS:
        if (rt->has_cpu_seconds)
            nr_sample_n(nr, f, g->labels, g->labels_len, NULL, 0, rt->cpu_seconds);
        break;
    case FAM_GUEST_MEMORY_LIMIT:
        if (rt->has_memory_limit_bytes)
            nr_sample_u64_n(nr, f, g->labels, g->labels_len, NULL, 0, rt->memory_limit_bytes);
        break;
    case FAM_GUEST_SWAP_USAGE:
        if (rt->has_swap_bytes)
            nr_sample_u64_n(nr, f, g->labels, g->labels_len, NULL, 0, rt->swap_bytes);
        break;
    case FAM_GUEST_NET_RX: case FAM_GUEST_NET_TX: case FAM_GUEST_NET_RX_DROP: case FAM_GUEST_NET_TX_DROP:
    case FAM_GUEST_DISK_READ: case FAM_GUEST_DISK_WRITTEN:
        guest_devices(nr, f, g);
        break;
    case FAM_GUEST_PSI_CPU_WAITING: case FAM_GUEST_PSI_IO_WAITING: case FAM_GUEST_PSI_IO_STALLED:
    case FAM_GUEST_PSI_MEM_WAITING: case FAM_GUEST_PSI_MEM_STALLED:
        guest_psi(nr, f, g);
        break;
    default: break;
    }
}

static struct merged_guest *merge_guests(const struct cluster_in *c, const Pvescope__Report *auth, size_t *n)
{
    *n = 0;
    if (!auth || !auth->n_guests)
        return NULL;
    struct merged_guest *g = calloc(auth->n_guests, sizeof *g);
    if (!g)
        abort();
    for (size_t i = 0; i < auth->n_guests; i++)
        join_guest(&g[(*n)++], c, auth->guests[i]);
    return g;
}

/* ---- storages ------------------------------------------------------------ */

static int cmp_token(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* content="a,b,c" sorted, as the exporter does to keep the series stable. */
static void sorted_content(struct buf *out, const char *content)
{
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s", content ? content : "");
    const char *tok[32];
    size_t n = 0;
    for (char *save = NULL, *t = strtok_r(tmp, ",", &save); t && n < 32; t = strtok_r(NULL, ",", &save))
        tok[n++] = t;
    qsort(tok, n, sizeof *tok, cmp_token);
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(out, ',');
        expo_escape_label(out, tok[i]);
    }
}

static bool storage_on_node(const Pvescope__StorageConfig *s, const char *node)
{
    if (s->n_nodes == 0)
        return true;
    for (size_t i = 0; i < s->n_nodes; i++)
        if (strcmp(s->nodes[i], node) == 0)
            return true;
    return false;
}

static void render_storages(struct node_render *nr, const struct cluster_in *c, const Pvescope__Report *auth,
                            enum family_id f)
{
    if (!auth || !auth->n_storages)
        return;
    size_t n;
    const char **names = node_names(c, auth, &n);
    struct buf labels = BUF_INIT, extra = BUF_INIT, sid = BUF_INIT;
    for (size_t k = 0; k < auth->n_storages; k++) {
        const Pvescope__StorageConfig *s = auth->storages[k];
        if (s->has_disabled && s->disabled)
            continue;
        for (size_t i = 0; i < n; i++) {
            if (!storage_on_node(s, names[i]))
                continue;
            buf_reset(&sid);
            buf_printf(&sid, "%s/%s", names[i], s->id);
            buf_reset(&labels);
            id_labels(&labels, "storage/", sid.data, c->cluster);
            if (f == FAM_PVE_STORAGE_SHARED) {
                nr_sample(nr, f, labels.data, NULL, s->has_shared && s->shared ? 1 : 0);
                continue;
            }
            buf_reset(&extra);
            buf_puts(&extra, "node=\"");
            expo_escape_label(&extra, names[i]);
            buf_puts(&extra, "\",storage=\"");
            expo_escape_label(&extra, s->id);
            buf_puts(&extra, "\",plugintype=\"");
            expo_escape_label(&extra, s->type ? s->type : "");
            buf_puts(&extra, "\",content=\"");
            sorted_content(&extra, s->content);
            buf_putc(&extra, '"');
            nr_sample(nr, f, labels.data, extra.data, 1);
        }
    }
    buf_free(&labels);
    buf_free(&extra);
    buf_free(&sid);
    free(names);
}

static const Pvescope__StorageUsage *usage_in(const Pvescope__Report *r, const char *sid)
{
    for (size_t i = 0; r && i < r->n_storage_usage; i++)
        if (r->storage_usage[i]->id && strcmp(r->storage_usage[i]->id, sid) == 0)
            return r->storage_usage[i];
    return NULL;
}

/* pve_up, pve_disk_size_bytes and pve_disk_usage_bytes of storages: only the
 * node itself knows its mounts, so each comes from that node's own fresh
 * report, and is absent when the node is not fresh or measured nothing for
 * the storage (lvmthin, zfspool, rbd ...). Sizes only while active, as
 * pvestatd reports them. */
static void render_storage_usage(struct node_render *nr, const struct cluster_in *c,
                                 const Pvescope__Report *auth, enum family_id f)
{
    if (!auth || !auth->n_storages)
        return;
    size_t n;
    const char **names = node_names(c, auth, &n);
    struct buf labels = BUF_INIT, sid = BUF_INIT;
    for (size_t k = 0; k < auth->n_storages; k++) {
        const Pvescope__StorageConfig *s = auth->storages[k];
        if (s->has_disabled && s->disabled)
            continue;
        for (size_t i = 0; i < n; i++) {
            const struct scrape_node *sn = find_node(c, names[i]);
            if (!storage_on_node(s, names[i]) || !sn || !sn->fresh)
                continue;
            const Pvescope__StorageUsage *u = usage_in(report_of(sn), s->id);
            bool active = u && u->has_active && u->active;
            if (!u || (f != FAM_PVE_UP && !active))
                continue;
            if ((f == FAM_PVE_DISK_SIZE_BYTES && !u->has_total_bytes) ||
                (f == FAM_PVE_DISK_USAGE_BYTES && !u->has_used_bytes))
                continue;
            buf_reset(&sid);
            buf_printf(&sid, "%s/%s", names[i], s->id);
            buf_reset(&labels);
            id_labels(&labels, "storage/", sid.data, c->cluster);
            if (f == FAM_PVE_UP)
                nr_sample(nr, f, labels.data, NULL, active ? 1 : 0);
            else
                nr_sample_u64(nr, f, labels.data, NULL,
                              f == FAM_PVE_DISK_SIZE_BYTES ? u->total_bytes : u->used_bytes);
        }
    }
    buf_free(&labels);
    buf_free(&sid);
    free(names);
}

/* ---- one cluster, family by family --------------------------------------- */

bool merge_family(enum family_id f)
{
    return family_table[f].source == FS_MERGE || f == FAM_PVE_CPU_USAGE_RATIO || f == FAM_PVE_CPU_USAGE_LIMIT ||
           f == FAM_PVE_MEMORY_USAGE_BYTES || f == FAM_PVE_MEMORY_SIZE_BYTES || f == FAM_PVE_UPTIME_SECONDS;
}

void merged_guest_samples(struct node_render *nr, enum family_id f, const struct merged_guest *g,
                          const struct merge_opts *o)
{
    guest_sample(nr, f, g, o);
    guest_extra_sample(nr, f, g);
}

static struct node_render *merge_cluster(const struct cluster_in *c, const struct merge_opts *o)
{
    const struct scrape_node *an = authoritative_node(c->nodes, c->n);
    const Pvescope__Report *auth = an ? report_of(an) : NULL;
    size_t ng;
    /* the .vmlist placements are decoded only for the authoritative report */
    struct merged_guest *guests = merge_guests(c, an ? decoded_vmlist_report(an->render->report) : NULL, &ng);
    bool *skip = calloc(ng ? ng : 1, sizeof *skip);
    if (!skip)
        abort();
    struct node_render *nr = node_render_new();
    nr->n_parts = merge_home_select(c->nodes, c->n, guests, ng, skip, &nr->parts);
    for (int i = 0; i < FAM__COUNT; i++) {
        enum family_id f = (enum family_id)i;
        if (!merge_family(f))
            continue;
        nr_begin(nr, f);
        if (f == FAM_PVE_UP || f == FAM_PVE_NODE_INFO || f == FAM_PVE_HA_STATE)
            render_nodes(nr, c, auth, f);
        if (f == FAM_PVE_UP || f == FAM_PVE_CLUSTER_INFO)
            render_cluster(nr, c, auth, f);
        if (f == FAM_PVE_VERSION_INFO)
            render_version(nr, c, auth);
        if (f == FAM_PVE_STORAGE_INFO || f == FAM_PVE_STORAGE_SHARED)
            render_storages(nr, c, auth, f);
        if (f == FAM_PVE_UP || f == FAM_PVE_DISK_SIZE_BYTES || f == FAM_PVE_DISK_USAGE_BYTES)
            render_storage_usage(nr, c, auth, f);
        for (size_t k = 0; k < ng; k++)
            if (!skip[k])
                merged_guest_samples(nr, f, &guests[k], o);
        nr_end(nr, f);
    }
    for (size_t k = 0; k < ng; k++)
        merged_guest_release(&guests[k]);
    free(guests);
    free(skip);
    return nr;
}

size_t merge_all(const struct scrape_input *in, const struct merge_opts *o, struct node_render ***out)
{
    size_t n = 0;
    *out = malloc((in->n_nodes ? in->n_nodes : 1) * sizeof **out);
    if (!*out)
        abort();
    for (size_t i = 0; i < in->n_nodes;) {
        size_t j = i;
        while (j < in->n_nodes && strcmp(in->nodes[j].cluster, in->nodes[i].cluster) == 0)
            j++;
        struct cluster_in c = {in->nodes[i].cluster, &in->nodes[i], j - i};
        (*out)[n++] = merge_cluster(&c, o);
        i = j;
    }
    return n;
}

void scrape_write(struct buf *out, struct scrape_input *in, const struct merge_opts *o)
{
    struct node_render **merged;
    in->n_merged = merge_all(in, o, &merged);
    in->merged = merged;
    expo_write(out, in);
    merge_free(merged, in->n_merged);
    in->merged = NULL;
    in->n_merged = 0;
}

void merge_free(struct node_render **merged, size_t n)
{
    for (size_t i = 0; i < n; i++)
        node_render_unref(merged[i]);
    free(merged);
}
