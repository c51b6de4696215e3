/* decode.h — a Report decoded under a memory budget, kept with the allocator
 * that owns its memory.
 *
 * protobuf-c unpacking can amplify: a sparse repeated message is 2 bytes on
 * the wire and hundreds in memory. The budget bounds what one report can cost,
 * and the decoded report lives as long as the node's published snapshot, so
 * the scrape-time merge (merge.c) can join it with other nodes' reports. */
#ifndef PVESCOPE_DECODE_H
#define PVESCOPE_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "pvescope.pb-c.h"

struct decoded_report {
    Pvescope__Report *r;
    ProtobufCAllocator alloc;      /* alloc.allocator_data points at budget_left */
    size_t budget_left;
};

/* Decodes data; NULL when it is not a Report or needs more than budget bytes. */
struct decoded_report *decoded_report_unpack(const uint8_t *data, size_t len, size_t budget);
void decoded_report_free(struct decoded_report *d);

#endif
