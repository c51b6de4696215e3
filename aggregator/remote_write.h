/* remote_write.h — the aggregator pushing Prometheus remote_write.
 *
 * Every --remote-write.interval one producer thread takes a store snapshot,
 * renders the exposition a scrape would get (self metrics included), parses
 * it into series stamped with the snapshot's wall-clock time (rw_series.h),
 * encodes batches of at most --remote-write.max-samples-per-send series once
 * (rw_encode.h), and appends them to every endpoint's bounded queue; a full
 * queue drops its oldest batch. One sender thread per endpoint sends its
 * queue in order: 2xx moves on, 4xx other than 429 drops the batch (a
 * receiver that refuses it now refuses it forever), anything else retries the
 * same batch with capped exponential backoff and jitter while newer batches
 * wait behind it. */
#ifndef PVESCOPE_REMOTE_WRITE_H
#define PVESCOPE_REMOTE_WRITE_H

#include <stdbool.h>
#include <stddef.h>

#include "merge.h"
#include "rw_config.h"
#include "rw_stats.h"
#include "store.h"

struct remote_write;

/* Starts the producer and one sender per endpoint of c (c, s and m must
 * outlive the writer). rw_http_global_init() must have run. NULL with a
 * message in err when an endpoint cannot be set up (credential files). */
struct remote_write *remote_write_start(const struct rw_config *c, struct store *s, const struct merge_opts *m,
                                        char *err, size_t errlen);

/* Stops every thread, aborting requests in flight, and frees the writer. It
 * returns within about a second whatever the receivers do; batches still
 * queued are dropped (and logged). NULL is allowed. */
void remote_write_stop(struct remote_write *w);

/* The endpoints' counters now, for the exposition; release with
 * remote_write_stats_free(). w NULL gives no endpoints. */
void remote_write_stats(struct remote_write *w, struct remote_write_stats *out);
void remote_write_stats_free(struct remote_write_stats *st);

/* Backoff before retry number `attempt` (1 for the first retry): 100 ms
 * doubling up to 30 s, then a uniform draw from its upper half so that
 * aggregators behind one receiver do not retry in step. */
double rw_backoff_seconds(unsigned attempt, unsigned *seed);

#endif
