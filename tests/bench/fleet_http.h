/* fleet_http.h — the smallest HTTP/1.1 client the benchmarks need: GET over
 * one kept-alive loopback connection, body read by Content-Length (what
 * libmicrohttpd sends for /metrics). Not a general client: no chunked
 * encoding, no redirects, no TLS. */
#ifndef PVESCOPE_FLEET_HTTP_H
#define PVESCOPE_FLEET_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct http_conn {
    int fd;                         /* -1 until the first request */
    char host[64];
    char port[8];
};

/* Parses "http://HOST:PORT" (no path) into c. False when it is not that. */
bool http_conn_init(struct http_conn *c, const char *base_url);

/* GETs path; on 200 puts the body in body (replacing it) and returns true.
 * Reconnects once when the kept connection was closed. err says why not. */
bool http_get(struct http_conn *c, const char *path, struct buf *body, char *err, size_t errlen);

void http_conn_close(struct http_conn *c);

#endif
