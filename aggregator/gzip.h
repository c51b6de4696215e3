/* gzip.h — Accept-Encoding negotiation and gzip compression of a /metrics
 * body straight from its exposition plan (the pre-rendered pieces), so that
 * a gzip scrape never holds the whole text in one buffer. */
#ifndef PVESCOPE_GZIP_H
#define PVESCOPE_GZIP_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "exposition.h"

/* True when an Accept-Encoding value allows gzip: a "gzip", "x-gzip" or "*"
 * token whose q-value is not 0. NULL (no header) means no. */
bool accepts_gzip(const char *accept_encoding);

/* A reusable gzip compressor: the deflate state, its level buffer and a
 * small staging block, about 0.5 MB. One user at a time. */
struct gzip_deflater;

/* Allocates a compressor; aborts when memory is exhausted (as buf.h). */
struct gzip_deflater *gzip_deflater_new(void);
void gzip_deflater_free(struct gzip_deflater *d);

/* Compresses the text of plan (its pieces in order) into out (reset first)
 * as one gzip member (RFC 1952), at the fastest level. out is first sized
 * from the last body d made, so a steady scrape does not grow it in steps.
 * False on a compressor error, with out's contents undefined; the caller
 * can still serve the plan uncompressed. */
bool gzip_plan(struct gzip_deflater *d, const struct expo_plan *plan, struct buf *out);

#endif
