/* rw_http.h — one remote_write endpoint's HTTP client (libcurl): POSTs a
 * batch with the remote write 1.0 headers and the endpoint's credentials,
 * and says what came back. One per sender thread; the connection is kept
 * alive between requests. */
#ifndef PVESCOPE_RW_HTTP_H
#define PVESCOPE_RW_HTTP_H

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "rw_config.h"
#include "rw_encode.h"

struct rw_http;

struct rw_http_result {
    long status;                     /* HTTP status; 0 when no answer came */
    char detail[CURL_ERROR_SIZE];     /* the curl error, or the body's first line */
};

/* Call once in main() before any thread: libcurl's global setup is not
 * thread-safe. */
bool rw_http_global_init(void);
void rw_http_global_cleanup(void);

/* Reads the endpoint's credential files now (they are not re-read). stop:
 * set it to abort a request in flight (checked several times a second).
 * NULL with a message in err when a file is unreadable or malformed. */
struct rw_http *rw_http_new(const struct rw_endpoint_config *e, double timeout, const atomic_bool *stop,
                            char *err, size_t errlen);
void rw_http_post(struct rw_http *h, const struct rw_batch *b, struct rw_http_result *res);
void rw_http_free(struct rw_http *h);

/* Whether a result is worth retrying: no answer, 429 or 5xx. */
bool rw_http_retryable(long status);

#endif
