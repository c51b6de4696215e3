/* rw_encode.h — remote_write request bodies: a range of parsed series as a
 * prometheus.WriteRequest (protobuf-c, proto/remote_write.proto), compressed
 * as one snappy block (not the framed format), as remote write 1.0 requires.
 *
 * A batch is encoded once and shared by every endpoint's queue, so it is
 * immutable and reference counted. */
#ifndef PVESCOPE_RW_ENCODE_H
#define PVESCOPE_RW_ENCODE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "rw_series.h"

struct rw_batch {
    atomic_int refs;
    size_t n_samples;
    int64_t timestamp_ms;
    size_t len;                      /* bytes of data: the snappy block */
    char data[];
};

/* Encodes series [first, first+count) of set, every sample at timestamp_ms,
 * into a new batch holding one reference. NULL only if snappy fails. */
struct rw_batch *rw_encode(const struct rw_series_set *set, size_t first, size_t count, int64_t timestamp_ms);

/* Splits set into batches of at most max_samples series each (the last may be
 * smaller); *out is malloc'd, each batch holds one reference. Returns how many
 * (0 for an empty set, or when encoding failed: those built are released). */
size_t rw_encode_all(const struct rw_series_set *set, size_t max_samples, int64_t timestamp_ms,
                     struct rw_batch ***out);

void rw_batch_ref(struct rw_batch *b);
void rw_batch_unref(struct rw_batch *b);

#endif
