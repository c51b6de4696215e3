/* fleet_model.c — see fleet_model.h. Report layout after agent/report.c and
 * the collectors; sizes after the fixtures (a node has 2 SATA disks, 2 NVMe
 * drives, LVM root/swap/thin pool, 2 bonded NICs with 2 bridges, a CPU
 * package with 8 cores and the drives' sensors). */
#include "fleet_model.h"

#include "placements.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VMID_BASE 100u
#define NIC_NAMES_N 5
#define SENSOR_CORES 8
#define NVME_N 2
#define GIB (1024ull * 1024 * 1024)

static const char *const nic_names[NIC_NAMES_N] = {"eno1", "eno2", "bond0", "vmbr0", "vmbr1"};
static const char *const collector_names[] = {"stat", "meminfo", "loadavg", "uptime", "pressure", "diskstats",
                                              "netdev", "bootid", "pve", "cluster", "guests", "storage",
                                              "sensors", "nvme", "thinpool"};

bool fleet_parse_cluster_sizes(const char *text, struct fleet_opts *o)
{
    o->n_cluster_sizes = 0;
    const char *p = text;
    while (*p) {
        char *end;
        unsigned long v = strtoul(p, &end, 10);
        if (end == p || v == 0 || v > 10000 || o->n_cluster_sizes == FLEET_MAX_CLUSTER_SIZES)
            return false;
        o->cluster_sizes[o->n_cluster_sizes++] = v;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            return false;
    }
    return o->n_cluster_sizes > 0;
}

void fleet_init(struct fleet *f, const struct fleet_opts *o)
{
    memset(f, 0, sizeof *f);
    f->o = *o;
    f->nodes = calloc(o->nodes ? o->nodes : 1, sizeof *f->nodes);
    f->clusters = calloc(o->nodes ? o->nodes : 1, sizeof *f->clusters);
    if (!f->nodes || !f->clusters)
        abort();
    size_t n = 0;
    while (n < o->nodes) {
        struct fleet_cluster *c = &f->clusters[f->n_clusters];
        size_t want = o->cluster_sizes[f->n_clusters % o->n_cluster_sizes];
        snprintf(c->name, sizeof c->name, "fc%02zu", f->n_clusters % 10000);
        c->first_node = n;
        c->n_nodes = want < o->nodes - n ? want : o->nodes - n;
        for (size_t i = 0; i < c->n_nodes; i++) {
            struct fleet_node *nd = &f->nodes[n + i];
            snprintf(nd->name, sizeof nd->name, "%.16s-n%02zu", c->name, i);
            nd->cluster = f->n_clusters;
            nd->first_vmid = VMID_BASE + (uint32_t)(i * o->guests);
        }
        n += c->n_nodes;
        f->n_clusters++;
    }
}

void fleet_free(struct fleet *f)
{
    free(f->nodes);
    free(f->clusters);
    memset(f, 0, sizeof *f);
}

uint32_t fleet_guest_vmid(const struct fleet *f, size_t node, size_t k)
{
    return f->nodes[node].first_vmid + (uint32_t)k;
}

/* One guest in four is a container, one in ten is stopped: a typical mix. */
bool fleet_guest_is_lxc(uint32_t vmid) { return vmid % 4 == 3; }
bool fleet_guest_running(uint32_t vmid) { return vmid % 10 != 7; }

uint64_t fleet_node_forks(size_t node, uint64_t tick) { return 5000000 + node * 10007 + tick * 131; }
uint64_t fleet_node_memory_total(size_t node) { return 128 * GIB + node * 1048576; }
uint64_t fleet_guest_net_in(uint32_t vmid, uint64_t tick) { return 1000000000ull + vmid * 1000ull + tick * 4096; }
/* Multiples of 0.5 print exactly, so a test can compare text. */
double fleet_guest_cpu_seconds(uint32_t vmid, uint64_t tick) { return 1000.0 + vmid + (double)tick * 0.5; }

/* A value that moves with the tick and differs per object, for gauges. */
static uint64_t wobble(uint64_t a, uint64_t tick, uint64_t range)
{
    uint64_t x = (a + 1) * 0x9E3779B97F4A7C15ull ^ (tick + 7) * 0xC2B2AE3D27D4EB4Full;
    x ^= x >> 29;
    return range ? x % range : x;
}

#define NEW(a, T, init) ({ T *p_ = arena_alloc((a), sizeof(T)); init(p_); p_; })
#define SET(m, f, v) ((m)->has_##f = 1, (m)->f = (v))

static char *fmt(struct arena *a, const char *f, ...) __attribute__((format(printf, 2, 3)));
static char *fmt(struct arena *a, const char *f, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, f);
    vsnprintf(tmp, sizeof tmp, f, ap);
    va_end(ap);
    return arena_strdup(a, tmp);
}

static void **ptrs(struct arena *a, size_t n) { return arena_alloc(a, (n ? n : 1) * sizeof(void *)); }

static Pvescope__PressureResource *psi(struct arena *a, uint64_t base, uint64_t tick, bool full)
{
    Pvescope__PressureResource *r = NEW(a, Pvescope__PressureResource, pvescope__pressure_resource__init);
    SET(r, some_total_us, base + tick * 1500);
    if (full)
        SET(r, full_total_us, base / 2 + tick * 700);
    return r;
}

static Pvescope__Pressure *pressure(struct arena *a, uint64_t base, uint64_t tick)
{
    Pvescope__Pressure *p = NEW(a, Pvescope__Pressure, pvescope__pressure__init);
    p->cpu = psi(a, base, tick, false);
    p->io = psi(a, base * 2, tick, true);
    p->memory = psi(a, base / 3, tick, true);
    return p;
}

static Pvescope__Host *host(struct arena *a, size_t node, uint64_t tick)
{
    Pvescope__Host *h = NEW(a, Pvescope__Host, pvescope__host__init);
    Pvescope__CpuTicks *c = NEW(a, Pvescope__CpuTicks, pvescope__cpu_ticks__init);
    uint64_t base = 10000000 + node * 1000;
    SET(c, user, base + tick * 300); SET(c, nice, base / 100 + tick); SET(c, system, base / 4 + tick * 80);
    SET(c, idle, base * 20 + tick * 2800); SET(c, iowait, base / 50 + tick * 5); SET(c, irq, 0);
    SET(c, softirq, base / 200 + tick * 3); SET(c, steal, 0); SET(c, guest, base / 2 + tick * 250);
    SET(c, guest_nice, 0);
    h->cpu = c;
    h->boot_id = fmt(a, "6f1c2e4a-0000-4000-8000-%012zx", node);
    SET(h, cpu_count, 32); SET(h, user_hz, 100);
    SET(h, cpu_usage_ratio, (double)wobble(node, tick, 1000) / 1000);
    SET(h, iowait_ratio, (double)wobble(node + 1, tick, 50) / 1000);
    Pvescope__Memory *m = NEW(a, Pvescope__Memory, pvescope__memory__init);
    uint64_t total = fleet_node_memory_total(node);
    SET(m, total, total); SET(m, available, total / 2 + wobble(node, tick, GIB));
    SET(m, free, total / 8 + wobble(node, tick, GIB / 2)); SET(m, buffers, 512 * 1048576ull);
    SET(m, cached, 16 * GIB + wobble(node + 2, tick, GIB)); SET(m, swap_total, 8 * GIB);
    SET(m, swap_free, 7 * GIB);
    h->memory = m;
    SET(h, load1, (double)wobble(node, tick, 1600) / 100); SET(h, load5, 7.5); SET(h, load15, 6.25);
    SET(h, uptime_seconds, 1206362.5 + (double)tick * 10);
    h->pressure = pressure(a, 4000000 + node, tick);
    SET(h, context_switches, 90000000000ull + node * 1000 + tick * 420000);
    SET(h, forks, fleet_node_forks(node, tick));
    SET(h, procs_running, 3); SET(h, procs_blocked, 0);
    SET(h, boot_time_unix, 1760000000 + (int64_t)node);
    return h;
}

static Pvescope__Disk *disk(struct arena *a, const char *name, const char *dm_name, uint64_t seed, uint64_t tick)
{
    Pvescope__Disk *d = NEW(a, Pvescope__Disk, pvescope__disk__init);
    d->name = arena_strdup(a, name);
    d->dm_name = dm_name ? arena_strdup(a, dm_name) : NULL;
    uint64_t b = 1000000 + seed * 7919;
    SET(d, reads_completed, b + tick * 40); SET(d, reads_merged, b / 10 + tick * 3);
    SET(d, sectors_read, b * 64 + tick * 2560); SET(d, read_time_ms, b / 2 + tick * 20);
    SET(d, writes_completed, b * 2 + tick * 90); SET(d, writes_merged, b / 5 + tick * 9);
    SET(d, sectors_written, b * 128 + tick * 9000); SET(d, write_time_ms, b + tick * 45);
    SET(d, io_in_progress, wobble(seed, tick, 4)); SET(d, io_time_ms, b + tick * 60);
    SET(d, io_weighted_time_ms, b * 3 + tick * 70); SET(d, discards_completed, b / 100);
    SET(d, discards_merged, 0); SET(d, sectors_discarded, b * 8); SET(d, discard_time_ms, b / 1000);
    SET(d, flushes_completed, b / 20 + tick); SET(d, flush_time_ms, b / 40 + tick);
    return d;
}

/* sda, sdb, nvme0n1, nvme1n1, the LVM devices of a default PVE install, and
 * with guest_dm_disks one dm-N per guest disk (what diskstats shows on an
 * LVM-thin node). */
static void disks(struct arena *a, Pvescope__Report *r, const struct fleet *f, size_t node, uint64_t tick)
{
    static const char *const phys[] = {"sda", "sdb", "nvme0n1", "nvme1n1"};
    static const char *const lvm[] = {"pve-swap", "pve-root", "pve-data_tmeta", "pve-data_tdata", "pve-data-tpool"};
    size_t n = 4 + 5 + (f->o.guest_dm_disks ? f->o.guests : 0);
    r->disks = (Pvescope__Disk **)ptrs(a, n);
    size_t k = 0;
    for (size_t i = 0; i < 4; i++)
        { r->disks[k] = disk(a, phys[i], NULL, node * 64 + k, tick); k++; }
    for (size_t i = 0; i < 5; i++) {
        char name[16];
        snprintf(name, sizeof name, "dm-%zu", i);
        r->disks[k] = disk(a, name, lvm[i], node * 64 + k, tick);
        k++;
    }
    for (size_t g = 0; f->o.guest_dm_disks && g < f->o.guests; g++) {
        char name[16], dm[48];
        uint32_t vmid = fleet_guest_vmid(f, node, g);
        snprintf(name, sizeof name, "dm-%zu", 5 + g);
        snprintf(dm, sizeof dm, "pve-vm--%u--disk--0", vmid);
        r->disks[k] = disk(a, name, dm, node * 64 + k, tick);
        k++;
    }
    r->n_disks = k;
}

static Pvescope__NetDev *netdev(struct arena *a, const char *name, uint64_t seed, uint64_t tick)
{
    Pvescope__NetDev *d = NEW(a, Pvescope__NetDev, pvescope__net_dev__init);
    d->name = arena_strdup(a, name);
    uint64_t b = 5000000000ull + seed * 104729;
    SET(d, rx_bytes, b + tick * 1250000); SET(d, rx_packets, b / 900 + tick * 1000); SET(d, rx_errs, 0);
    SET(d, rx_drop, seed % 7); SET(d, rx_fifo, 0); SET(d, rx_frame, 0); SET(d, rx_compressed, 0);
    SET(d, rx_multicast, b / 100000);
    SET(d, tx_bytes, b * 2 + tick * 2500000); SET(d, tx_packets, b / 800 + tick * 1900); SET(d, tx_errs, 0);
    SET(d, tx_drop, 0); SET(d, tx_fifo, 0); SET(d, tx_colls, 0); SET(d, tx_carrier, 0); SET(d, tx_compressed, 0);
    return d;
}

static void netdevs(struct arena *a, Pvescope__Report *r, size_t node, uint64_t tick)
{
    r->netdevs = (Pvescope__NetDev **)ptrs(a, NIC_NAMES_N);
    for (size_t i = 0; i < NIC_NAMES_N; i++)
        r->netdevs[i] = netdev(a, nic_names[i], node * 8 + i, tick);
    r->n_netdevs = NIC_NAMES_N;
}

static void collectors_and_agent(struct arena *a, Pvescope__Report *r, size_t node, uint64_t tick)
{
    size_t n = sizeof collector_names / sizeof *collector_names;
    r->collectors = (Pvescope__CollectorStatus **)ptrs(a, n);
    for (size_t i = 0; i < n; i++) {
        Pvescope__CollectorStatus *s = NEW(a, Pvescope__CollectorStatus, pvescope__collector_status__init);
        s->name = (char *)collector_names[i];
        s->success = 1;
        SET(s, duration_seconds, (double)(10 + wobble(node * 32 + i, tick, 400)) / 1e6);
        SET(s, errors_total, 0);
        SET(s, warnings_total, 0);
        r->collectors[i] = s;
    }
    r->n_collectors = n;
    Pvescope__AgentSelf *ag = NEW(a, Pvescope__AgentSelf, pvescope__agent_self__init);
    ag->version = PVESCOPE_VERSION;
    SET(ag, cpu_seconds, 12.5 + (double)tick * 0.002);
    SET(ag, rss_bytes, 3600000 + wobble(node, tick, 100000));
    SET(ag, start_time_unix, 1760000000 + (int64_t)node);
    SET(ag, interval_seconds, 10);
    SET(ag, reports_oversize, 0);
    Pvescope__SendStats *s = NEW(a, Pvescope__SendStats, pvescope__send_stats__init);
    s->endpoint = "tcp://aggregator:9716";
    SET(s, reports_sent, 1000 + tick);
    SET(s, reports_dropped, 0);
    ag->sends = (Pvescope__SendStats **)ptrs(a, 1);
    ag->sends[0] = s;
    ag->n_sends = 1;
    r->agent = ag;
}

/* .members as the cluster sees it: every node online, quorate. */
static Pvescope__ClusterView *cluster_view(struct arena *a, const struct fleet *f, const struct fleet_cluster *c,
                                           uint64_t tick)
{
    Pvescope__ClusterView *v = NEW(a, Pvescope__ClusterView, pvescope__cluster_view__init);
    v->name = (char *)c->name;
    SET(v, config_version, (uint32_t)(12 + (f->o.inventory_churn ? tick : 0)));
    SET(v, expected_nodes, (uint32_t)c->n_nodes);
    SET(v, quorate, 1);
    SET(v, vmlist_version, 42);
    v->pve_version = "8.2.4";
    v->pve_release = "8.2";
    v->pve_repoid = "faa83925c9641325";
    v->members = (Pvescope__ClusterMember **)ptrs(a, c->n_nodes);
    for (size_t i = 0; i < c->n_nodes; i++) {
        Pvescope__ClusterMember *m = NEW(a, Pvescope__ClusterMember, pvescope__cluster_member__init);
        m->name = (char *)f->nodes[c->first_node + i].name;
        SET(m, nodeid, (uint32_t)i + 1);
        SET(m, online, 1);
        m->ip = fmt(a, "10.%zu.%zu.%zu", (c->first_node / 250) % 250, c->first_node % 250, i + 10);
        m->subscription_level = "c";
        v->members[i] = m;
    }
    v->n_members = c->n_nodes;
    return v;
}

/* The guest's configuration, as the agent reads its own node's .conf files. */
static void guest_config(struct arena *a, Pvescope__GuestConfig *g, uint32_t vmid)
{
    bool lxc = fleet_guest_is_lxc(vmid);
    SET(g, has_config, 1);
    g->name = fmt(a, "%s%u", lxc ? "ct-app" : "vm-web", vmid);
    SET(g, cores, 2 + vmid % 3);
    SET(g, sockets, 1);
    SET(g, cpus, 2 + vmid % 3);
    SET(g, memory_bytes, (uint64_t)(2 + vmid % 4) * GIB);
    g->tags = vmid % 3 ? "prod;web" : NULL;
    SET(g, template_, 0);
    if (vmid % 2)
        SET(g, onboot, 1);
    if (vmid % 50 == 13)
        g->lock = "backup";
    SET(g, boot_disk_bytes, 32 * GIB);
    Pvescope__GuestDisk *d = NEW(a, Pvescope__GuestDisk, pvescope__guest_disk__init);
    d->key = lxc ? "rootfs" : "scsi0";
    d->storage = "local-lvm";
    d->volume = fmt(a, "local-lvm:vm-%u-disk-0", vmid);
    SET(d, size_bytes, 32 * GIB);
    SET(d, boot, 1);
    g->disks = (Pvescope__GuestDisk **)ptrs(a, 1);
    g->disks[0] = d;
    g->n_disks = 1;
    Pvescope__GuestNic *n = NEW(a, Pvescope__GuestNic, pvescope__guest_nic__init);
    n->key = "net0";
    n->bridge = "vmbr0";
    n->mac = fmt(a, "BC:24:11:%02X:%02X:%02X", (vmid >> 16) & 0xff, (vmid >> 8) & 0xff, vmid & 0xff);
    SET(n, firewall, 1);
    g->nics = (Pvescope__GuestNic **)ptrs(a, 1);
    g->nics[0] = n;
    g->n_nics = 1;
}

/* The cluster's whole .vmlist, with configurations for this node's guests,
 * as the agent sends it: entries with a configuration or an HA state as
 * GuestConfig, the rest in compact placements (vmids increase with the
 * node index, so both come in vmid order). */
static void guests(struct arena *a, Pvescope__Report *r, const struct fleet *f, size_t node)
{
    const struct fleet_cluster *c = &f->clusters[f->nodes[node].cluster];
    size_t n = c->n_nodes * f->o.guests;
    r->guests = (Pvescope__GuestConfig **)ptrs(a, n);
    struct placements_builder placed;
    placements_begin(&placed, n, c->n_nodes, a);
    for (size_t i = 0; i < c->n_nodes; i++) {
        size_t nd = c->first_node + i;
        for (size_t k = 0; k < f->o.guests; k++) {
            uint32_t vmid = fleet_guest_vmid(f, nd, k);
            bool ha = vmid % 10 == 1;
            if (!ha && nd != node &&
                placements_add(&placed, vmid, fleet_guest_is_lxc(vmid), (uint32_t)i, f->nodes[nd].name))
                continue;
            Pvescope__GuestConfig *g = NEW(a, Pvescope__GuestConfig, pvescope__guest_config__init);
            g->vmid = vmid;
            g->type = fleet_guest_is_lxc(vmid) ? "lxc" : "qemu";
            g->node = (char *)f->nodes[nd].name;
            if (ha)
                g->ha_state = "started";
            if (nd == node)
                guest_config(a, g, vmid);
            r->guests[r->n_guests++] = g;
        }
    }
    r->placements = placements_finish(&placed);
}

static Pvescope__GuestRuntime *runtime(struct arena *a, uint32_t vmid, uint64_t tick)
{
    Pvescope__GuestRuntime *g = NEW(a, Pvescope__GuestRuntime, pvescope__guest_runtime__init);
    bool lxc = fleet_guest_is_lxc(vmid);
    g->vmid = vmid;
    g->type = lxc ? "lxc" : "qemu";
    SET(g, running, fleet_guest_running(vmid));
    if (!g->running)
        return g;
    SET(g, pid, 10000 + vmid);
    SET(g, uptime_seconds, 86400.0 + vmid + (double)tick * 10);
    SET(g, cpu_seconds, fleet_guest_cpu_seconds(vmid, tick));
    SET(g, cpu_busy, (double)wobble(vmid, tick, 200) / 100);
    SET(g, memory_bytes, GIB + wobble(vmid, tick, GIB));
    SET(g, memory_limit_bytes, (uint64_t)(2 + vmid % 4) * GIB);
    SET(g, swap_bytes, 0);
    SET(g, disk_read_bytes, 10 * GIB + vmid * 4096ull + tick * 65536);
    SET(g, disk_written_bytes, 20 * GIB + vmid * 4096ull + tick * 131072);
    SET(g, net_in_bytes, fleet_guest_net_in(vmid, tick));
    SET(g, net_out_bytes, 2000000000ull + vmid * 1000ull + tick * 1024);
    Pvescope__NetDev *nic = netdev(a, "", vmid, tick);
    nic->name = fmt(a, lxc ? "veth%ui0" : "tap%ui0", vmid);
    SET(nic, tx_bytes, g->net_in_bytes);
    SET(nic, rx_bytes, g->net_out_bytes);
    g->nics = (Pvescope__NetDev **)ptrs(a, 1);
    g->nics[0] = nic;
    g->n_nics = 1;
    Pvescope__GuestBlockIo *b = NEW(a, Pvescope__GuestBlockIo, pvescope__guest_block_io__init);
    b->key = lxc ? "rootfs" : "scsi0";
    SET(b, read_bytes, g->disk_read_bytes);
    SET(b, written_bytes, g->disk_written_bytes);
    SET(b, reads, g->disk_read_bytes / 4096);
    SET(b, writes, g->disk_written_bytes / 8192);
    g->disks = (Pvescope__GuestBlockIo **)ptrs(a, 1);
    g->disks[0] = b;
    g->n_disks = 1;
    g->pressure = pressure(a, 100000 + vmid, tick);
    if (lxc) {
        SET(g, rootfs_total_bytes, 32 * GIB);
        SET(g, rootfs_used_bytes, 4 * GIB + wobble(vmid, tick, GIB));
    }
    return g;
}

static void guest_runtime(struct arena *a, Pvescope__Report *r, const struct fleet *f, size_t node, uint64_t tick)
{
    r->guest_runtime = (Pvescope__GuestRuntime **)ptrs(a, f->o.guests);
    for (size_t k = 0; k < f->o.guests; k++)
        r->guest_runtime[k] = runtime(a, fleet_guest_vmid(f, node, k), tick);
    r->n_guest_runtime = f->o.guests;
}

static void storages(struct arena *a, Pvescope__Report *r, size_t node, uint64_t tick)
{
    static const struct { const char *id, *type, *content; bool shared; } cfg[] = {
        {"local", "dir", "iso,vztmpl,backup", false},
        {"local-lvm", "lvmthin", "rootdir,images", false},
        {"nfs-backup", "nfs", "backup", true},
    };
    r->storages = (Pvescope__StorageConfig **)ptrs(a, 3);
    r->storage_usage = (Pvescope__StorageUsage **)ptrs(a, 3);
    for (size_t i = 0; i < 3; i++) {
        Pvescope__StorageConfig *s = NEW(a, Pvescope__StorageConfig, pvescope__storage_config__init);
        s->id = (char *)cfg[i].id;
        s->type = (char *)cfg[i].type;
        s->content = (char *)cfg[i].content;
        SET(s, shared, cfg[i].shared);
        r->storages[i] = s;
        Pvescope__StorageUsage *u = NEW(a, Pvescope__StorageUsage, pvescope__storage_usage__init);
        u->id = (char *)cfg[i].id;
        SET(u, active, 1);
        SET(u, total_bytes, (uint64_t)(100 + 900 * i) * GIB);
        SET(u, used_bytes, (uint64_t)(20 + 100 * i) * GIB + wobble(node * 3 + i, tick, GIB));
        SET(u, avail_bytes, u->total_bytes - u->used_bytes);
        r->storage_usage[i] = u;
    }
    r->n_storages = r->n_storage_usage = 3;
}

static Pvescope__SensorFeature *temp(struct arena *a, const char *name, const char *label, double v)
{
    Pvescope__SensorFeature *s = NEW(a, Pvescope__SensorFeature, pvescope__sensor_feature__init);
    s->name = (char *)name;
    s->label = (char *)label;
    SET(s, kind, PVESCOPE__SENSOR_KIND__SENSOR_TEMPERATURE);
    SET(s, input, v);
    SET(s, max, 84);
    SET(s, crit, 100);
    SET(s, alarm, 0);
    return s;
}

static void sensors(struct arena *a, Pvescope__Report *r, size_t node, uint64_t tick)
{
    static const char *const core_names[SENSOR_CORES + 1] = {"temp1", "temp2", "temp3", "temp4", "temp5",
                                                             "temp6", "temp7", "temp8", "temp9"};
    r->sensor_chips = (Pvescope__SensorChip **)ptrs(a, 1 + NVME_N);
    Pvescope__SensorChip *cpu = NEW(a, Pvescope__SensorChip, pvescope__sensor_chip__init);
    cpu->name = "coretemp-isa-0000";
    cpu->adapter = "ISA adapter";
    cpu->features = (Pvescope__SensorFeature **)ptrs(a, SENSOR_CORES + 1);
    for (size_t i = 0; i <= SENSOR_CORES; i++)
        cpu->features[i] = temp(a, core_names[i], i ? fmt(a, "Core %zu", i - 1) : "Package id 0",
                                40 + (double)wobble(node * 16 + i, tick, 200) / 10);
    cpu->n_features = SENSOR_CORES + 1;
    r->sensor_chips[0] = cpu;
    for (size_t d = 0; d < NVME_N; d++) {
        Pvescope__SensorChip *c = NEW(a, Pvescope__SensorChip, pvescope__sensor_chip__init);
        c->name = fmt(a, "nvme-pci-0%zu00", d + 1);
        c->adapter = "PCI adapter";
        c->features = (Pvescope__SensorFeature **)ptrs(a, 1);
        c->features[0] = temp(a, "temp1", "Composite", 35 + (double)wobble(node * 4 + d, tick, 100) / 10);
        c->n_features = 1;
        r->sensor_chips[1 + d] = c;
    }
    r->n_sensor_chips = 1 + NVME_N;
}

static void nvme(struct arena *a, Pvescope__Report *r, size_t node, uint64_t tick)
{
    r->nvme = (Pvescope__NvmeController **)ptrs(a, NVME_N);
    for (size_t d = 0; d < NVME_N; d++) {
        Pvescope__NvmeController *c = NEW(a, Pvescope__NvmeController, pvescope__nvme_controller__init);
        c->name = fmt(a, "nvme%zu", d);
        c->model = "Samsung SSD 980 PRO 2TB";
        c->serial = fmt(a, "S6B0NL0W%06zu", node * 2 + d);
        c->firmware = "5B2QGXA7";
        c->transport = "pcie";
        SET(c, warning_temp_threshold_kelvin, 355); SET(c, critical_temp_threshold_kelvin, 358);
        SET(c, critical_warning, 0); SET(c, temperature_kelvin, 308 + (uint32_t)wobble(node + d, tick, 10));
        SET(c, available_spare_percent, 100); SET(c, available_spare_threshold_percent, 10);
        SET(c, percentage_used, 3); SET(c, data_units_read, 90000000 + node * 1000 + tick * 30);
        SET(c, data_units_written, 120000000 + node * 1000 + tick * 60);
        SET(c, host_read_commands, 900000000 + tick * 3000); SET(c, host_write_commands, 1500000000 + tick * 5000);
        SET(c, controller_busy_minutes, 4000 + tick / 6); SET(c, power_cycles, 41); SET(c, power_on_hours, 9000);
        SET(c, unsafe_shutdowns, 12); SET(c, media_errors, 0); SET(c, error_log_entries, 3);
        SET(c, warning_temp_minutes, 0); SET(c, critical_temp_minutes, 0);
        r->nvme[d] = c;
    }
    r->n_nvme = NVME_N;
}

/* local-lvm: one thin pool with a volume per guest disk. */
static void thin(struct arena *a, Pvescope__Report *r, const struct fleet *f, size_t node, uint64_t tick)
{
    Pvescope__ThinPool *p = NEW(a, Pvescope__ThinPool, pvescope__thin_pool__init);
    p->dm_name = "pve-data-tpool";
    p->vg = "pve";
    p->lv = "data";
    SET(p, mode, PVESCOPE__THIN_POOL_MODE__THIN_POOL_RW);
    SET(p, transaction_id, 100 + tick / 100);
    SET(p, data_block_sectors, 128);
    SET(p, data_total_blocks, 30000000);
    SET(p, data_used_blocks, 9000000 + wobble(node, tick, 100000));
    SET(p, metadata_total_blocks, 4000000);
    SET(p, metadata_used_blocks, 500000 + wobble(node + 1, tick, 1000));
    SET(p, needs_check, 0);
    SET(p, error_if_no_space, 0);
    p->discards = "discard_passdown";
    r->thin_pools = (Pvescope__ThinPool **)ptrs(a, 1);
    r->thin_pools[0] = p;
    r->n_thin_pools = 1;
    r->thin_volumes = (Pvescope__ThinVolume **)ptrs(a, f->o.guests);
    for (size_t k = 0; k < f->o.guests; k++) {
        uint32_t vmid = fleet_guest_vmid(f, node, k);
        Pvescope__ThinVolume *v = NEW(a, Pvescope__ThinVolume, pvescope__thin_volume__init);
        v->dm_name = fmt(a, "pve-vm--%u--disk--0", vmid);
        v->vg = "pve";
        v->lv = fmt(a, "vm-%u-disk-0", vmid);
        v->pool_dm_name = "pve-data-tpool";
        SET(v, size_sectors, 67108864);
        SET(v, mapped_sectors, 8000000 + wobble(vmid, tick, 100000));
        r->thin_volumes[k] = v;
    }
    r->n_thin_volumes = f->o.guests;
}

void fleet_report_pack(const struct fleet *f, size_t node, uint64_t tick, struct arena *a, struct buf *out)
{
    const struct fleet_node *nd = &f->nodes[node];
    const struct fleet_cluster *c = &f->clusters[nd->cluster];
    Pvescope__Report *r = NEW(a, Pvescope__Report, pvescope__report__init);
    r->node = (char *)nd->name;
    SET(r, collected_unix_ms, 1760000000000 + (int64_t)tick * 10000);
    r->host = host(a, node, tick);
    disks(a, r, f, node, tick);
    netdevs(a, r, node, tick);
    collectors_and_agent(a, r, node, tick);
    Pvescope__PveLocal *pl = NEW(a, Pvescope__PveLocal, pvescope__pve_local__init);
    pl->cluster_name = (char *)c->name;
    SET(pl, nodeid, (uint32_t)(node - c->first_node) + 1);
    r->pve = pl;
    r->cluster = cluster_view(a, f, c, tick);
    guests(a, r, f, node);
    guest_runtime(a, r, f, node, tick);
    storages(a, r, node, tick);
    sensors(a, r, node, tick);
    nvme(a, r, node, tick);
    thin(a, r, f, node, tick);
    buf_reset(out);
    size_t len = pvescope__report__get_packed_size(r);
    buf_reserve(out, len);
    out->len = pvescope__report__pack(r, (uint8_t *)out->data);
}
