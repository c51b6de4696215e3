/* gzip.h — Accept-Encoding negotiation and gzip compression of responses. */
#ifndef PVESCOPE_GZIP_H
#define PVESCOPE_GZIP_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* True when an Accept-Encoding value allows gzip: a "gzip", "x-gzip" or "*"
 * token whose q-value is not 0. NULL (no header) means no. */
bool accepts_gzip(const char *accept_encoding);

/* Compresses in[0..len) into out (gzip wrapper, RFC 1952) at level 1..12.
 * False on failure. */
bool gzip_compress(const char *in, size_t len, int level, struct buf *out);

/* The same with a kept compressor (NULL: allocate one for the call). */
struct libdeflate_compressor;
bool gzip_compress_with(struct libdeflate_compressor *c, const char *in, size_t len, struct buf *out);

#endif
