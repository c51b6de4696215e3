/* http.c — see http.h. */
#include "http.h"

#include <arpa/inet.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <pthread.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "basicauth.h"
#include "clock.h"
#include "gzip.h"
#include "log.h"
#include "merge.h"
#include "remote_write.h"
#include "status.h"

#define CONTENT_TYPE_METRICS "text/plain; version=0.0.4; charset=utf-8"
/* Streamed /metrics is copied into MHD's per-connection buffer, whose size
 * MHD_OPTION_CONNECTION_MEMORY_LIMIT bounds: 256 KiB makes a few hundred
 * send() calls of an 80 MB body instead of thousands. */
#define STREAM_BLOCK (128u << 10)
#define CONNECTION_MEMORY (256u << 10)
#define AUTH_REALM "pvescope"        /* a constant: MHD does not escape the realm */
/* Per client address. Prometheus keeps one connection per target; 64 leaves
 * room for HA pairs and people behind one NAT or proxy while one address
 * cannot take all of the 256 connections (slowloris). */
#define PER_IP_CONNECTION_LIMIT 64

struct http_server {
    struct MHD_Daemon *daemon;
    struct store *store;
    struct merge_opts merge;
    struct remote_write *rw;         /* NULL: no --remote-write.url */
    char ingest_endpoint[256];       /* for the status page */
    double started;                  /* monotonic: the aggregator's uptime */
    const struct webconfig *web;     /* NULL: plain HTTP, no auth */
    bool auth_on;                    /* basic_auth_users is not empty */
    struct basic_auth auth;
    atomic_uint_fast64_t rejected[HTTP_REJECT__COUNT];   /* pvescope_http_requests_rejected_total */
    atomic_uint_fast64_t gzip_failures;                  /* pvescope_http_gzip_failures_total */
    char priorities[96];             /* GnuTLS priority string; MHD keeps the pointer */
    /* One gzip scrape at a time reuses the compressor (a second one makes
     * its own): its state and buffers are 0.5 MB, and the size of the last
     * gzip body sizes the next one. */
    pthread_mutex_t gzip_lock;
    struct gzip_deflater *deflater;
};

static void http_free_gzip(struct http_server *h)
{
    gzip_deflater_free(h->deflater);
    pthread_mutex_destroy(&h->gzip_lock);
}

/* Queues response r with a status and type, and lets go of it. */
static enum MHD_Result queue(struct MHD_Connection *c, unsigned status, struct MHD_Response *r, const char *type,
                             bool gzipped)
{
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (gzipped)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* Queues body (malloc'd, ownership passes to MHD) with a status and type. */
static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, char *body, size_t len,
                               const char *type, bool gzipped)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    return queue(c, status, r, type, gzipped);
}

static enum MHD_Result respond_text(struct MHD_Connection *c, unsigned status, const char *text)
{
    char *body = strdup(text);
    if (!body)
        return MHD_NO;
    return respond(c, status, body, strlen(body), "text/plain; charset=utf-8", false);
}

/* A /metrics body streamed out of the renders it points into (expo_plan):
 * the snapshot's references and the merged cluster renders are held until
 * libmicrohttpd has sent it, and no body of the output's size is built. */
struct metrics_stream {
    struct store_snapshot snap;
    struct node_render **merged;
    size_t n_merged;
    struct expo_plan plan;
    struct expo_cursor cursor;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct metrics_stream *s = cls;
    size_t n = expo_plan_read(&s->plan, &s->cursor, (size_t)pos, buf, max);
    return n ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
}

static void stream_free(void *cls)
{
    struct metrics_stream *s = cls;
    expo_plan_free(&s->plan);
    merge_free(s->merged, s->n_merged);
    store_snapshot_release(&s->snap);
    free(s);
}

/* Snapshot, merge and plan of one scrape (of one cluster when asked). */
static struct metrics_stream *plan_scrape(struct http_server *h, struct MHD_Connection *c)
{
    struct metrics_stream *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    store_snapshot(h->store, clock_monotonic(), &s->snap);
    struct remote_write_stats rw;
    remote_write_stats(h->rw, &rw);
    struct scrape_input in = s->snap.in;
    in.remote_write = h->rw ? &rw : NULL;
    in.http_guarded = h->auth_on || (h->web && h->web->client_auth != WEBCFG_NO_CLIENT_CERT);
    for (int r = 0; r < HTTP_REJECT__COUNT; r++)
        in.http_rejected[r] = atomic_load(&h->rejected[r]);
    in.http_gzip_failures = atomic_load(&h->gzip_failures);
    const char *cluster = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "cluster");
    if (cluster)
        scrape_input_only_cluster(&in, cluster);
    s->n_merged = merge_all(&in, &h->merge, &s->merged);
    in.merged = s->merged;
    in.n_merged = s->n_merged;
    expo_plan_build(&s->plan, &in);           /* self metrics are copied into the plan */
    remote_write_stats_free(&rw);
    return s;
}

/* Streams the planned text uncompressed; s passes to the response. */
static enum MHD_Result respond_stream(struct MHD_Connection *c, struct metrics_stream *s)
{
    struct MHD_Response *r = MHD_create_response_from_callback(s->plan.total, STREAM_BLOCK, stream_read, s,
                                                               stream_free);
    if (!r) {
        stream_free(s);
        return MHD_NO;
    }
    return queue(c, MHD_HTTP_OK, r, CONTENT_TYPE_METRICS, false);
}

/* Compresses the plan's pieces straight into the gzip body: the text is
 * never copied into one buffer. Should the compressor fail, the plan is
 * still there to be served uncompressed. */
static enum MHD_Result respond_gzip(struct http_server *h, struct MHD_Connection *c, struct metrics_stream *s)
{
    bool kept = pthread_mutex_trylock(&h->gzip_lock) == 0;
    struct gzip_deflater *d = kept ? h->deflater : gzip_deflater_new();
    struct buf z = BUF_INIT;
    bool ok = gzip_plan(d, &s->plan, &z);
    if (kept)
        pthread_mutex_unlock(&h->gzip_lock);
    else
        gzip_deflater_free(d);
    if (!ok) {
        atomic_fetch_add(&h->gzip_failures, 1);
        log_warn("http: gzip of a %zu-byte /metrics failed; served uncompressed", s->plan.total);
        buf_free(&z);
        return respond_stream(c, s);
    }
    stream_free(s);
    size_t zlen;
    char *body = buf_steal(&z, &zlen);
    return respond(c, MHD_HTTP_OK, body, zlen, CONTENT_TYPE_METRICS, true);
}

static enum MHD_Result serve_metrics(struct http_server *h, struct MHD_Connection *c)
{
    struct metrics_stream *s = plan_scrape(h, c);
    const char *ae = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
    if (accepts_gzip(ae))
        return respond_gzip(h, c, s);
    return respond_stream(c, s);
}

/* The status page (status.c), from the same kind of snapshot a scrape takes. */
static enum MHD_Result serve_status(struct http_server *h, struct MHD_Connection *c)
{
    struct store_snapshot snap;
    double now = clock_monotonic();
    store_snapshot(h->store, now, &snap);
    struct status_info info = {
        .version = PVESCOPE_VERSION, .ingest_endpoint = h->ingest_endpoint,
        .uptime_seconds = now - h->started, .now_unix = clock_realtime(),
        .stale_after = h->store->stale_after, .max_nodes = h->store->max_nodes,
    };
    struct buf b = BUF_INIT;
    status_write(&b, &snap.in, &info);
    store_snapshot_release(&snap);
    size_t len;
    char *body = buf_steal(&b, &len);
    return respond(c, MHD_HTTP_OK, body, len, "text/html; charset=utf-8", false);
}

/* MHD (0.9.75) asks GnuTLS for a client certificate when given a trust
 * list, but never verifies it: that is done here, per request, against the
 * client CA it was given. */
static bool client_cert_ok(const struct http_server *h, struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!ci || !ci->tls_session)
        return false;
    gnutls_session_t s = (gnutls_session_t)ci->tls_session;
    unsigned n = 0;
    if (!gnutls_certificate_get_peers(s, &n) || n == 0)
        return h->web->client_auth == WEBCFG_VERIFY_IF_GIVEN;
    unsigned status = 0;
    return gnutls_certificate_verify_peers2(s, &status) == 0 && status == 0;
}

static enum MHD_Result unauthorized(struct MHD_Connection *c)
{
    static const char text[] = "Unauthorized\n";
    struct MHD_Response *r = MHD_create_response_from_buffer(sizeof text - 1, (void *)text,
                                                             MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    enum MHD_Result ret = MHD_queue_basic_auth_fail_response(c, AUTH_REALM, r);
    MHD_destroy_response(r);
    return ret;
}

static const char *peer(struct MHD_Connection *c, char *buf, size_t cap)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    buf[0] = '\0';
    if (ci && ci->client_addr && getnameinfo(ci->client_addr, ci->client_addr->sa_family == AF_INET6
                                                 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in),
                                             buf, (socklen_t)cap, NULL, 0, NI_NUMERICHOST) != 0)
        buf[0] = '\0';
    return buf[0] ? buf : "?";
}

static const struct sockaddr *client_addr(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    return ci ? ci->client_addr : NULL;
}

/* 429 for a client refused before any password check (authlimit.h). */
static enum MHD_Result too_many_attempts(struct MHD_Connection *c)
{
    static const char text[] = "too many failed logins; try again later\n";
    struct MHD_Response *r = MHD_create_response_from_buffer(sizeof text - 1, (void *)text,
                                                             MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    char retry[16];
    snprintf(retry, sizeof retry, "%.0f", 1 / AUTH_LIMIT_SOURCE_RATE);
    MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, retry);
    enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_TOO_MANY_REQUESTS, r);
    MHD_destroy_response(r);
    return ret;
}

/* Answers a request refused by basic auth, counting why. */
static enum MHD_Result auth_refused(struct http_server *h, struct MHD_Connection *c, enum basic_auth_result res,
                                    const char *method, const char *url)
{
    static const enum http_reject_reason reason[] = {
        [BASIC_AUTH_MISSING] = HTTP_REJECT_MISSING_CREDENTIALS,
        [BASIC_AUTH_WRONG] = HTTP_REJECT_WRONG_CREDENTIALS,
        [BASIC_AUTH_LIMITED_SOURCE] = HTTP_REJECT_SOURCE_LIMITED,
        [BASIC_AUTH_LIMITED_GLOBAL] = HTTP_REJECT_GLOBAL_LIMITED,
    };
    char addr[64];
    atomic_fetch_add(&h->rejected[reason[res]], 1);
    log_debug("http: %s %s from %s: %s", method, url, peer(c, addr, sizeof addr),
              http_reject_reason_label[reason[res]]);
    if (res == BASIC_AUTH_LIMITED_SOURCE || res == BASIC_AUTH_LIMITED_GLOBAL)
        return too_many_attempts(c);
    return unauthorized(c);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload_data, size_t *upload_data_size,
                              void **con_cls)
{
    (void)version; (void)upload_data; (void)upload_data_size; (void)con_cls;
    struct http_server *h = cls;
    char addr[64];
    /* Every path is guarded, /-/healthy included, as exporter-toolkit does. */
    if (h->web && h->web->client_auth != WEBCFG_NO_CLIENT_CERT && !client_cert_ok(h, c)) {
        atomic_fetch_add(&h->rejected[HTTP_REJECT_CLIENT_CERTIFICATE], 1);
        log_debug("http: %s %s from %s: no valid client certificate", method, url, peer(c, addr, sizeof addr));
        return respond_text(c, MHD_HTTP_FORBIDDEN, "a valid client certificate is required\n");
    }
    if (h->auth_on) {
        const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        enum basic_auth_result res = basic_auth_verify(&h->auth, v, client_addr(c), clock_monotonic());
        if (res != BASIC_AUTH_OK)
            return auth_refused(h, c, res, method, url);
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return respond_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
    if (strcmp(url, "/metrics") == 0)
        return serve_metrics(h, c);
    if (strcmp(url, "/-/healthy") == 0)
        return respond_text(c, MHD_HTTP_OK, "pvescope aggregator is healthy\n");
    if (strcmp(url, "/-/ready") == 0)
        return respond_text(c, MHD_HTTP_OK, "pvescope aggregator is ready\n");
    if (strcmp(url, "/") == 0)
        return serve_status(h, c);
    return respond_text(c, MHD_HTTP_NOT_FOUND, "not found\n");
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    log_warn("http: %s", line);
}

bool http_split_listen(const char *listen, char *host, size_t hcap, char *port, size_t pcap)
{
    const char *colon = strrchr(listen, ':');
    if (!colon || !colon[1] || strlen(colon + 1) >= pcap)
        return false;
    snprintf(port, pcap, "%s", colon + 1);
    size_t hl = (size_t)(colon - listen);
    const char *hs = listen;
    if (hl >= 2 && hs[0] == '[' && hs[hl - 1] == ']') {
        hs++;
        hl -= 2;
    }
    if (hl >= hcap)
        return false;
    memcpy(host, hs, hl);
    host[hl] = '\0';
    return true;
}

struct http_server *http_start(const char *listen, struct store *store, const struct merge_opts *merge,
                               struct remote_write *rw, const char *ingest_endpoint, const struct webconfig *web, char *err,
                               size_t errlen)
{
    if (web && web->tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        snprintf(err, errlen, "the web config asks for TLS, but this libmicrohttpd is built without it");
        return NULL;
    }
    char host[256], port[16];
    if (!http_split_listen(listen, host, sizeof host, port, sizeof port)) {
        snprintf(err, errlen, "web listen address '%s': expected [host]:port", listen);
        return NULL;
    }
    struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM,
                             .ai_family = host[0] ? AF_UNSPEC : AF_INET6};
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
    if (gai != 0) {
        snprintf(err, errlen, "web listen address '%s': %s", listen, gai_strerror(gai));
        return NULL;
    }
    struct http_server *h = calloc(1, sizeof *h);
    if (!h)
        abort();
    h->store = store;
    h->merge = *merge;
    h->rw = rw;
    pthread_mutex_init(&h->gzip_lock, NULL);
    h->deflater = gzip_deflater_new();
    snprintf(h->ingest_endpoint, sizeof h->ingest_endpoint, "%s", ingest_endpoint ? ingest_endpoint : "");
    h->started = clock_monotonic();
    h->web = web;
    if (web && web->n_users) {
        if (!basic_auth_init(&h->auth, web->users, web->n_users, NULL, NULL, err, errlen)) {
            freeaddrinfo(ai);
            http_free_gzip(h);
            free(h);
            return NULL;
        }
        h->auth_on = true;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= host[0] ? MHD_USE_IPv6 : MHD_USE_DUAL_STACK;
    /* TLS options go in an array so that plain HTTP passes none of them. */
    struct MHD_OptionItem tls_opts[5] = {{MHD_OPTION_END, 0, NULL}};
    size_t nt = 0;
    if (web && web->tls) {
        flags |= MHD_USE_TLS;
        webconfig_priorities(web, h->priorities, sizeof h->priorities);
        tls_opts[nt++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, web->cert_pem};
        tls_opts[nt++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, web->key_pem};
        tls_opts[nt++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, h->priorities};
        if (web->client_ca_pem)
            tls_opts[nt++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, web->client_ca_pem};
        tls_opts[nt] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    }
    h->daemon = MHD_start_daemon(flags, 0, NULL, NULL, handle, h,
                                 MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                                 MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                                 MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)2,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned int)256,
                                 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
                                 MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)PER_IP_CONNECTION_LIMIT,
                                 MHD_OPTION_ARRAY, tls_opts,
                                 MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!h->daemon) {
        snprintf(err, errlen, "cannot listen on %s (address in use, or not a local address?%s)", listen,
                 web && web->tls ? " or TLS set-up failed: see the line above" : "");
        if (h->auth_on)
            basic_auth_free(&h->auth);
        http_free_gzip(h);
        free(h);
        return NULL;
    }
    return h;
}

unsigned http_port(const struct http_server *h)
{
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return i ? i->port : 0;
}

void http_stop(struct http_server *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->daemon);
    if (h->auth_on)
        basic_auth_free(&h->auth);
    http_free_gzip(h);
    free(h);
}
