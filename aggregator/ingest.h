/* ingest.h — receive, authenticate, validate and publish node reports.
 *
 * One thread owns the nanomsg PULL socket. Each message goes through
 * ingest_process(): size → Envelope decode → version → header sanity →
 * cluster key lookup → AEAD open → replay window → Report decode (bounded
 * memory) → limits → render → publish. Every rejection is counted by reason
 * and logged at most once a minute per reason, with what is known of the
 * sender (nanomsg cannot tell us the peer address). */
#ifndef PVESCOPE_INGEST_H
#define PVESCOPE_INGEST_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "keyring.h"
#include "merge.h"
#include "pbdecode.h"
#include "store.h"

/* Per-report limits: a buggy or hostile (but keyed) agent cannot make the
 * aggregator render unbounded output. */
#define INGEST_MAX_DEVICES      4096
#define INGEST_MAX_COLLECTORS   64
#define INGEST_MAX_ENDPOINTS    32
#define INGEST_MAX_LABEL_BYTES  256
/* Inventory: .vmlist is cluster-wide (every agent sends all of it), so the
 * guest limit is a cluster's; PVE allows 32 NICs and ~60 disk slots a guest. */
#define INGEST_MAX_GUESTS       16384
#define INGEST_MAX_MEMBERS      1024
#define INGEST_MAX_STORAGES     1024
#define INGEST_MAX_GUEST_DEVICES 256
#define INGEST_MAX_TAGS_BYTES   1024

struct ingest {
    struct store *store;
    const struct keyring *keyring;
    size_t max_message_bytes;       /* --ingest.max-message-bytes */
    double max_clock_skew;          /* seconds; |sent - now| beyond it = replay */
    int sock;                       /* -1 when not listening (unit tests) */
    double last_log[REJECT__COUNT];
    uint64_t suppressed[REJECT__COUNT];
    struct buf plain;               /* opened report, reused */
    size_t render_hint;             /* the largest node render so far (bytes), to size the next */
    struct merge_opts merge;        /* for the guests pre-rendered at ingest; as the HTTP side's */
    /* Report decoding tables (pbdecode.h), made once; the published reports
     * use them for their whole decode, so the store must be freed (or no
     * longer scraped) before ingest_close. NULL = protobuf-c decodes. */
    struct pbdecode_plan *report_plan;
    /* The envelope's decode: its plan (NULL = protobuf-c), and room for
     * its struct and short strings; the sealed report is not copied. */
    struct pbdecode_plan *envelope_plan;
    struct envelope_scratch {
        size_t used;
        _Alignas(16) unsigned char bytes[8192];
    } envelope_scratch;
};

/* Sets malloc up for the aggregator's pattern, once at start (main, the
 * benchmarks): every report allocates its decoded blocks and renders (100s of
 * KB) and frees its predecessor's. glibc would serve those from fresh mmaps
 * and trim its heap after frees, so each report faulted in zeroed pages (11 %
 * of ingest, perf); kept in the heap they are reused. */
void ingest_tune_malloc(void);

void ingest_init(struct ingest *ig, struct store *store, const struct keyring *kr,
                 size_t max_message_bytes, double max_clock_skew);

/* Binds the PULL socket (e.g. tcp://[::]:9716). False with a reason in err. */
bool ingest_listen(struct ingest *ig, const char *url, char *err, size_t errlen);

/* Processes one received message. Returns -1 when accepted, else the
 * reject_reason (already counted and logged). now_mono is CLOCK_MONOTONIC
 * seconds, now_unix_ms the wall clock. */
int ingest_process(struct ingest *ig, const uint8_t *msg, size_t len, double now_mono,
                   int64_t now_unix_ms);

/* Receives until *stop is set (checked at least twice a second). */
void ingest_run(struct ingest *ig, atomic_bool *stop);

/* Closes the socket and frees the decoding tables: after the last scrape. */
void ingest_close(struct ingest *ig);

#endif
