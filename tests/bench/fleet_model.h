/* fleet_model.h — a simulated Proxmox VE estate for the aggregator benchmarks:
 * clusters of nodes, each node with its guests, disks, NICs, sensors, NVMe
 * drives and an LVM thin pool, and the Report a real agent on that node would
 * send at a given tick.
 *
 * The shape follows tests/fixtures (pve7, host1, guests, nvme): a node sends
 * its cluster's whole .members and .vmlist (as every real agent does), the
 * configurations and runtime of its own guests only, and its own hardware.
 * Every value is a pure function of (node, tick), so a test can say exactly
 * what the aggregator must show after a given send: counters grow with the
 * tick, gauges move with it. */
#ifndef PVESCOPE_FLEET_MODEL_H
#define PVESCOPE_FLEET_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "pvescope.pb-c.h"

#define FLEET_NAME_MAX 48
#define FLEET_MAX_CLUSTER_SIZES 16

struct fleet_opts {
    size_t nodes;                   /* in the whole estate */
    size_t guests;                  /* per node */
    size_t cluster_sizes[FLEET_MAX_CLUSTER_SIZES];   /* used in turn until every node has a cluster */
    size_t n_cluster_sizes;
    bool guest_dm_disks;            /* each guest disk also appears as a dm-N row of diskstats */
    bool inventory_churn;           /* the cluster's config_version moves every tick: no report's
                                     * inventory equals the one before (a worst case) */
};

struct fleet_cluster {
    char name[FLEET_NAME_MAX];
    size_t first_node, n_nodes;
};

struct fleet_node {
    char name[FLEET_NAME_MAX];
    size_t cluster;                 /* index into fleet.clusters */
    uint32_t first_vmid;            /* its guests are first_vmid .. first_vmid + guests - 1 */
};

struct fleet {
    struct fleet_opts o;
    struct fleet_cluster *clusters;
    size_t n_clusters;
    struct fleet_node *nodes;
};

/* Parses "10,20,30" into o->cluster_sizes. False when empty, zero or too many. */
bool fleet_parse_cluster_sizes(const char *text, struct fleet_opts *o);

/* Lays out the estate: clusters named fc00, fc01, ... with nodes
 * <cluster>-n00, ...; vmids unique within a cluster. Aborts on OOM. */
void fleet_init(struct fleet *f, const struct fleet_opts *o);
void fleet_free(struct fleet *f);

/* Guest k (0-based) of node n: its vmid, type and whether it runs. */
uint32_t fleet_guest_vmid(const struct fleet *f, size_t node, size_t k);
bool fleet_guest_is_lxc(uint32_t vmid);
bool fleet_guest_running(uint32_t vmid);

/* The values a test checks; each a pure function of its arguments. */
uint64_t fleet_node_forks(size_t node, uint64_t tick);
uint64_t fleet_node_memory_total(size_t node);
uint64_t fleet_guest_net_in(uint32_t vmid, uint64_t tick);
double fleet_guest_cpu_seconds(uint32_t vmid, uint64_t tick);

/* Node n's Report at tick, built in a (reset by the caller between reports)
 * and packed into out (replacing its contents). */
void fleet_report_pack(const struct fleet *f, size_t node, uint64_t tick, struct arena *a, struct buf *out);

#endif
