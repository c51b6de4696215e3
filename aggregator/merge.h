/* merge.h — a cluster's merged view (nodes from .members, guests from
 * .vmlist joined with configs and runtime, storages), rendered at scrape time
 * into the same per-family chunk layout as a node's render. See merge.c. */
#ifndef PVESCOPE_MERGE_H
#define PVESCOPE_MERGE_H

#include <stdbool.h>
#include <stddef.h>

#include "exposition.h"
#include "pvescope.pb-c.h"

struct merge_opts {
    bool deprecated_gauges;   /* --compat.deprecated-gauges: pve_network_receive_bytes & co */
};

/* Renders one merged view per cluster of in (its nodes are sorted by cluster).
 * Returns how many, in *out; release with merge_free(). */
size_t merge_all(const struct scrape_input *in, const struct merge_opts *o, struct node_render ***out);
/* The fresh report whose cluster-wide view (.members, .vmlist) a cluster's
 * merge trusts: a quorate partition over a non-quorate one, then the newest
 * .vmlist. nodes: one cluster's nodes. NULL when none is fresh with a view. */
const Pvescope__Report *merge_authoritative(const struct scrape_node *nodes, size_t n);

void merge_free(struct node_render **merged, size_t n);

/* A whole scrape: merges in's clusters and writes the exposition to out. */
void scrape_write(struct buf *out, struct scrape_input *in, const struct merge_opts *o);

#endif
