/* rw_stats.h — counters of the remote_write endpoints as a scrape (or a
 * remote_write snapshot) sees them: plain values copied out of the writer
 * under its lock, so rendering needs no lock (exposition.c renders them). */
#ifndef PVESCOPE_RW_STATS_H
#define PVESCOPE_RW_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Distinct HTTP status codes counted per endpoint; later ones are lumped
 * into code="other" so a misbehaving receiver cannot grow the series. */
#define RW_CODES_MAX 8
#define RW_URL_LABEL_MAX 256

/* code 0: no HTTP answer (connection refused, timeout, TLS failure). */
struct rw_code_count {
    int code;
    uint64_t requests;
};

struct rw_endpoint_stats {
    char url[RW_URL_LABEL_MAX];        /* as given, user:password@ removed */
    uint64_t samples_sent;             /* accepted by the receiver (2xx) */
    uint64_t samples_failed;           /* refused for good (4xx other than 429) */
    uint64_t samples_dropped;          /* pushed out of a full queue, or left at shutdown */
    uint64_t retries;                  /* attempts that were repeated (5xx, 429, no answer) */
    uint64_t bytes_sent;               /* compressed request bodies accepted */
    uint64_t queue_batches;            /* batches waiting, the one being sent included */
    double last_success_unix;          /* 0: never */
    struct rw_code_count codes[RW_CODES_MAX];
    size_t n_codes;
    uint64_t other_codes;
};

struct remote_write_stats {
    struct rw_endpoint_stats *endpoints;
    size_t n;
};

#endif
