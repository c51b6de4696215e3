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
 * back all at once when the report is freed.
 *
 * The report is decoded by pbdecode.c, with the plan the caller made once
 * (pbdecode_plan_new(&pvescope__report__descriptor)); without one, by
 * protobuf-c's pvescope__report__unpack.
 *
 * The placement-only .vmlist entries are not decoded (wire_strip.h): r has
 * the report without them, and decoded_vmlist_report() the whole report,
 * decoded from the kept packed bytes the first time the merge asks, with
 * its compact placements (Report.placements) expanded into r->guests.
 *
 * The inventory sections (wire_strip.h: cluster view, guests' configs and
 * .vmlist, storage.cfg) are decoded on their own, into a decoded report of
 * their own that r's cluster, guests and storages point into. A node's next
 * report whose sections are byte for byte the same shares it instead of
 * decoding them again (decoded_report_unpack_next()), and merge_home.c then
 * shares the render of its configuration-only series too. */
#ifndef PVESCOPE_DECODE_H
#define PVESCOPE_DECODE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdint.h>

#include "pbdecode.h"
#include "pvescope.pb-c.h"
#include "wire_strip.h"

struct decode_block;

struct decoded_report {
    atomic_uint refs;              /* an inventory is shared by successive reports of a node */
    Pvescope__Report *r;
    ProtobufCAllocator alloc;      /* alloc.allocator_data points at this struct */
    size_t budget_left;            /* bytes of blocks still allowed */
    struct decode_block *blocks;   /* newest first; the first has room left */
    /* Indexes for the scrape-time merge, which looks guests up by vmid for
     * every guest of the cluster: r->guests entries with has_config, and
     * r->guest_runtime, each sorted by vmid (report order among equals).
     * NULL when the budget had no room for them (lookups then scan). */
    const Pvescope__GuestConfig **configs;
    size_t n_configs;
    const Pvescope__GuestRuntime **runtimes;
    size_t n_runtimes;
    const struct pbdecode_plan *plan;  /* for the whole decode; NULL = protobuf-c */
    /* When placements were stripped: the packed report, and its whole
     * decode once asked for (under full_lock: scrapes run in parallel). */
    uint8_t *wire;
    size_t wire_len, budget;
    struct stripped_vmlist stripped;   /* what r goes without; zero when nothing was stripped */
    pthread_mutex_t full_lock;
    struct decoded_report *full;
    bool full_failed;
    /* A report: its inventory sections' decode (shared; NULL when it has
     * none or they could not be split off). An inventory: the sections'
     * bytes as sent, to recognise them in the node's next report. */
    struct decoded_report *inventory;
    bool inventory_reused;         /* shared with prev (decoded_report_unpack_next()) */
    uint8_t *sections;
    size_t sections_len;
};

/* The whole report, with every .vmlist entry in r->guests: d->r when
 * nothing was stripped; else decoded now or earlier. Falls back to d->r
 * (configured guests only) if the whole report cannot be decoded. Safe to
 * call from several threads. */
const Pvescope__Report *decoded_vmlist_report(struct decoded_report *d);

/* Bytes the decoded report holds (its blocks, the kept packed report and a
 * whole decode made for the merge), for the benchmarks' memory breakdown. */
size_t decoded_report_bytes(const struct decoded_report *d);

/* The first configuration (has_config) / runtime of vmid (and type) in d's
 * report, or NULL. */
const Pvescope__GuestConfig *decoded_config(const struct decoded_report *d, uint32_t vmid);
const Pvescope__GuestRuntime *decoded_runtime(const struct decoded_report *d, uint32_t vmid, const char *type);

/* Decodes data with plan (a plan of pvescope.Report, or NULL for protobuf-c),
 * which must outlive the result. NULL when it is not a Report or needs more
 * than budget bytes; then *err (when not NULL) says why and where
 * (PBDECODE_NO_MEMORY for the budget; protobuf-c's failures all come out as
 * PBDECODE_TRUNCATED at byte 0, since it does not tell). Offsets count in the
 * bytes decoded: data without its placement-only entries. */
struct decoded_report *decoded_report_unpack(const struct pbdecode_plan *plan, const uint8_t *data, size_t len,
                                             size_t budget, struct pbdecode_error *err);

/* The same, for a node whose previous report is prev (or NULL): when the
 * inventory sections are the same bytes as prev's, the result shares prev's
 * decode of them (d->inventory == prev->inventory) instead of decoding them. */
struct decoded_report *decoded_report_unpack_next(const struct pbdecode_plan *plan, const uint8_t *data,
                                                  size_t len, size_t budget, const struct decoded_report *prev,
                                                  struct pbdecode_error *err);

/* Drops a reference; the last frees it (with its inventory's reference). */
void decoded_report_free(struct decoded_report *d);

#endif
