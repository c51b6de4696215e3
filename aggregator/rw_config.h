/* rw_config.h — the aggregator's --remote-write.* flags.
 *
 * Endpoint options (credentials, headers) belong to the --remote-write.url
 * before them, so two endpoints (VictoriaMetrics and Mimir, say) can carry
 * different credentials without a configuration file. Secrets come from
 * files, never from the command line, so they stay out of ps. */
#ifndef PVESCOPE_RW_CONFIG_H
#define PVESCOPE_RW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "rw_series.h"

struct rw_endpoint_config {
    const char *url;
    const char *basic_auth_file;     /* one line "user:password" */
    const char *bearer_token_file;   /* one line: the token */
    const char **headers;            /* "Name: value", e.g. X-Scope-OrgID for Mimir */
    size_t n_headers;
};

struct rw_config {
    struct rw_endpoint_config *endpoints;
    size_t n_endpoints;
    struct rw_label *external;       /* name and value point into argv */
    size_t n_external;
    double interval;                 /* seconds between snapshots */
    double timeout;                  /* seconds per request */
    size_t queue_max;                /* batches waiting per endpoint */
    size_t max_samples_per_send;     /* series per request */
};

#define RW_DEFAULT_INTERVAL 15.0
#define RW_DEFAULT_TIMEOUT 30.0
#define RW_DEFAULT_QUEUE_MAX 256
#define RW_DEFAULT_MAX_SAMPLES 10000

void rw_config_init(struct rw_config *c);
void rw_config_free(struct rw_config *c);

/* Consumes argv[*i] when it is a --remote-write.* flag (advancing *i past a
 * separate value), returning true; on a bad value or an endpoint option
 * without a preceding --remote-write.url also writes a message to err and
 * sets *bad. Returns false for any other flag. */
bool rw_config_flag(struct rw_config *c, int argc, char **argv, int *i, bool *bad, char *err, size_t errlen);

/* The --help lines of these flags. */
extern const char rw_config_usage[];

#endif
