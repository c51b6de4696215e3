/* decode.h — a Report decoded under a memory budget, kept with the allocator
 * that owns its memory.
 *
 * protobuf-c unpacking can amplify: a sparse repeated message is 2 bytes on
 * the wire and hundreds in memory. The budget bounds what one report can cost,
 * and the decoded report lives as long as the node's published snapshot, so
 * the scrape-time merge (merge.c) can join it with other nodes' reports.
 *
 * Memory comes from a few large blocks owned by the decoded report (a 40-guest
 * report with its cluster's .vmlist is thousands of sub-messages: one malloc
 * and one free each cost more than the rest of ingest together), and goes
 * back all at once when the report is freed. */
#ifndef PVESCOPE_DECODE_H
#define PVESCOPE_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "pvescope.pb-c.h"

struct decode_block;

struct decoded_report {
    Pvescope__Report *r;
    ProtobufCAllocator alloc;      /* alloc.allocator_data points at this struct */
    size_t budget_left;            /* bytes of blocks still allowed */
    size_t next_block;             /* size of the next block to take */
    struct decode_block *blocks;   /* newest first; the first has room left */
    /* Indexes for the scrape-time merge, which looks guests up by vmid for
     * every guest of the cluster: r->guests entries with has_config, and
     * r->guest_runtime, each sorted by vmid (report order among equals).
     * NULL when the budget had no room for them (lookups then scan). */
    const Pvescope__GuestConfig **configs;
    size_t n_configs;
    const Pvescope__GuestRuntime **runtimes;
    size_t n_runtimes;
};

/* The first configuration (has_config) / runtime of vmid (and type) in d's
 * report, or NULL. */
const Pvescope__GuestConfig *decoded_config(const struct decoded_report *d, uint32_t vmid);
const Pvescope__GuestRuntime *decoded_runtime(const struct decoded_report *d, uint32_t vmid, const char *type);

/* Decodes data; NULL when it is not a Report or needs more than budget bytes. */
struct decoded_report *decoded_report_unpack(const uint8_t *data, size_t len, size_t budget);
void decoded_report_free(struct decoded_report *d);

#endif
