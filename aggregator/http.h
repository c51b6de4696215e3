/* http.h — the aggregator's HTTP side (libmicrohttpd): /metrics (gzip when
 * asked), /-/healthy, /-/ready and the status page at / (status.h).
 *
 * Handlers never wait for ingest: they take a store snapshot (a short lock to
 * copy references), render without any lock, and hand the buffer to MHD. */
#ifndef PVESCOPE_HTTP_H
#define PVESCOPE_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "merge.h"
#include "store.h"
#include "webconfig.h"

struct http_server;

/* listen: ":9715", "0.0.0.0:9715", "[::1]:9715", "localhost:9715".
 * ingest_endpoint: shown on the status page (status.h).
 * rw: the remote_write writer whose counters /metrics shows, or NULL.
 * web: the --web.config.file (TLS, client certificates, basic auth), or NULL
 * for plain HTTP; it must stay alive until http_stop (MHD keeps pointers to
 * its PEM strings). Basic auth and client certificates guard every path,
 * /-/healthy included, as exporter-toolkit does. */
struct remote_write;
struct http_server *http_start(const char *listen, struct store *store, const struct merge_opts *merge,
                               struct remote_write *rw, const char *ingest_endpoint, const struct webconfig *web, char *err,
                               size_t errlen);
/* The port actually bound (useful with port 0). */
unsigned http_port(const struct http_server *h);
void http_stop(struct http_server *h);

/* Splits a listen address "host:port" / "[v6]:port" / ":port" into its
 * parts; host is "" for any address. False when it has no port or a part
 * does not fit. */
bool http_split_listen(const char *listen, char *host, size_t hcap, char *port, size_t pcap);

#endif
