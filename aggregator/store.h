/* store.h — the aggregator's state: one entry per node with its latest
 * pre-rendered report, replay state and counters, plus ingest counters.
 *
 * Ingest (one thread) updates entries; scrapes (HTTP threads) take a
 * consistent copy with store_snapshot() and render without holding the lock.
 * Each node's render is immutable and reference counted, so a scrape sees
 * every node's series from exactly one report. */
#ifndef PVESCOPE_STORE_H
#define PVESCOPE_STORE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "exposition.h"

#define NODE_NAME_MAX 64

struct node_entry {
    char cluster[NODE_NAME_MAX];
    char node[NODE_NAME_MAX];
    char *labels;                   /* id="node/<node>",pve_cluster="<cluster>", escaped */
    struct node_render *render;     /* latest report; NULL until the first */
    double last_seen;               /* monotonic seconds of the last accepted report */
    uint64_t accepted;
    char boot_id[40];
    uint64_t last_seq;
    int64_t last_sent_ms;
    char agent_version[32];
};

struct store {
    pthread_mutex_t lock;
    struct node_entry *nodes;       /* sorted by (cluster, node) */
    size_t n, cap;
    size_t max_nodes;
    size_t max_nodes_per_cluster;   /* SIZE_MAX unless set (--ingest.max-nodes-per-cluster) */
    double stale_after;
    uint64_t received;
    uint64_t rejected[REJECT__COUNT];
    uint64_t closed_connections;
};

void store_init(struct store *s, double stale_after, size_t max_nodes);
void store_free(struct store *s);

/* Where an authenticated envelope sits in its node's history. */
struct report_origin {
    const char *cluster;
    const char *node;
    const char *boot_id;            /* "" when the agent sent none */
    uint64_t seq;
    int64_t sent_unix_ms;
    const char *agent_version;      /* may be NULL */
};

/* Replay check: true when o is newer than anything accepted from its node
 * (cluster, node): a higher seq within the same boot, or a later send time
 * after a reboot (so reports of an earlier boot cannot be replayed). */
bool store_origin_is_new(struct store *s, const struct report_origin *o);

/* The node's latest render with a reference the caller drops
 * (node_render_unref), or NULL before its first report. */
struct node_render *store_latest_render(struct store *s, const char *cluster, const char *node);

/* The escaped label pairs every series of a node carries:
 * id="node/<node>",pve_cluster="<cluster>". malloc'd. */
char *node_labels(const char *cluster, const char *node);

/* Installs a node's new render (taking over its reference) and replay state.
 * Returns false when the node is new and the node limit, or its cluster's,
 * is reached. */
bool store_publish(struct store *s, const struct report_origin *o, struct node_render *nr, double now);

void store_count_received(struct store *s);
void store_count_reject(struct store *s, enum reject_reason why);
void store_set_closed_connections(struct store *s, uint64_t n);

/* A scrape's consistent view; release with store_snapshot_release(). */
struct store_snapshot {
    struct scrape_input in;
    struct scrape_node *nodes;
    char *labels;                   /* storage for the nodes' label strings */
};

void store_snapshot(struct store *s, double now, struct store_snapshot *out);
void store_snapshot_release(struct store_snapshot *snap);

/* Fresh / total nodes, for /-/ready and the status page. */
void store_counts(struct store *s, double now, size_t *fresh, size_t *total);

#endif
