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

/* At ingest: the cluster-family series of the guests a report places on its
 * own node and has the configuration of, rendered as the scrape-time merge
 * renders them when the cluster's authoritative .vmlist places them on this
 * node too, with the same type and HA state, and the node is fresh. The
 * merge then takes them whole (all of a node's or none) instead of joining
 * them again at every scrape. NULL when the report has no such guest.
 * cluster is the envelope's (the label every guest series carries).
 * prev is the node's previous render (or NULL): when its report shares d's
 * inventory (decode.h), the families that depend on the configurations only
 * are copied from its pre-rendered guests instead of rendered again. */
struct decoded_report;
struct node_render *merge_prerender_guests(const struct decoded_report *d, const char *cluster,
                                           const struct merge_opts *o, const struct node_render *prev);

/* Frees a config part's prepared guests (node_render_unref() calls it). */
void merge_prepared_free(struct merged_guest *g);

/* A whole scrape: merges in's clusters and writes the exposition to out. */
void scrape_write(struct buf *out, struct scrape_input *in, const struct merge_opts *o);

#endif
