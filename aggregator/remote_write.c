/* remote_write.c — see remote_write.h.
 *
 * Threads: one producer, one sender per endpoint. They share the endpoints'
 * queues and counters under one lock; a batch itself is immutable and
 * reference counted, so requests are made without the lock. */
#include "remote_write.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "rw_encode.h"
#include "rw_http.h"
#include "rw_series.h"

#define BACKOFF_FIRST 0.1            /* seconds */
#define BACKOFF_MAX 30.0
#define LOG_EVERY 60.0               /* failures of one endpoint: one log line per minute */

struct rw_endpoint {
    struct remote_write *w;
    const struct rw_endpoint_config *cfg;
    struct rw_http *http;
    pthread_t thread;
    bool started;
    /* under w->lock */
    struct rw_batch **ring;          /* queue_max slots; the oldest at head */
    size_t head, len;
    const struct rw_batch *inflight; /* the head while a request for it runs */
    bool inflight_dropped;           /* the producer pushed it out meanwhile */
    struct rw_endpoint_stats stats;
    /* the sender thread's own */
    unsigned seed;
    unsigned failures;               /* retryable failures in a row */
    double last_log;                 /* monotonic; 0: never */
    uint64_t unlogged;               /* failures not logged since */
};

struct remote_write {
    const struct rw_config *cfg;
    struct store *store;
    const struct merge_opts *merge;
    pthread_mutex_t lock;
    pthread_cond_t wake;             /* new batches, or stop */
    atomic_bool stop;
    struct rw_endpoint *eps;
    size_t n;
    pthread_t producer;
    bool producer_started;
    bool bad_lines_logged;           /* producer only */
};

double rw_backoff_seconds(unsigned attempt, unsigned *seed)
{
    double d = BACKOFF_FIRST;
    for (unsigned i = 1; i < attempt && d < BACKOFF_MAX; i++)
        d *= 2;
    if (d > BACKOFF_MAX)
        d = BACKOFF_MAX;
    return d / 2 + d / 2 * ((double)rand_r(seed) / RAND_MAX);
}

/* The URL as a label: user:password@ never reaches /metrics. */
static void url_label(char *dst, size_t cap, const char *url)
{
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    const char *at = strchr(host, '@');
    const char *slash = strchr(host, '/');
    if (at && (!slash || at < slash))
        snprintf(dst, cap, "%.*s%s", (int)(host - url), url, at + 1);
    else
        snprintf(dst, cap, "%s", url);
}

/* Waits on w->wake until the monotonic deadline or stop; lock held.
 * Returns false once stopping. */
static bool sleep_until(struct remote_write *w, double deadline)
{
    time_t sec = (time_t)deadline;
    struct timespec ts = {sec, (long)((deadline - (double)sec) * 1e9)};
    while (!atomic_load(&w->stop) && clock_monotonic() < deadline)
        pthread_cond_timedwait(&w->wake, &w->lock, &ts);
    return !atomic_load(&w->stop);
}

/* ---- queue (lock held) ---------------------------------------------------- */

static void pop_head(struct rw_endpoint *e)
{
    rw_batch_unref(e->ring[e->head]);
    e->ring[e->head] = NULL;
    e->head = (e->head + 1) % e->w->cfg->queue_max;
    e->len--;
    e->stats.queue_batches = e->len;
}

/* Appends b (taking a reference); a full queue first loses its oldest batch.
 * One in flight is counted by its sender when the request ends, since it may
 * still arrive. */
static void enqueue(struct rw_endpoint *e, struct rw_batch *b)
{
    size_t cap = e->w->cfg->queue_max;
    if (e->len == cap) {
        if (e->ring[e->head] == e->inflight)
            e->inflight_dropped = true;
        else
            e->stats.samples_dropped += e->ring[e->head]->n_samples;
        pop_head(e);
    }
    rw_batch_ref(b);
    e->ring[(e->head + e->len) % cap] = b;
    e->len++;
    e->stats.queue_batches = e->len;
}

/* ---- producer ------------------------------------------------------------- */

/* The exposition of one store snapshot, with the writer's own counters. */
static char *render_snapshot(struct remote_write *w)
{
    struct store_snapshot snap;
    store_snapshot(w->store, clock_monotonic(), &snap);
    struct remote_write_stats st;
    remote_write_stats(w, &st);
    struct scrape_input in = snap.in;
    in.remote_write = &st;
    struct buf text = BUF_INIT;
    buf_reserve(&text, 1);          /* a NUL-terminated string even with no series */
    scrape_write(&text, &in, w->merge);
    store_snapshot_release(&snap);
    remote_write_stats_free(&st);
    size_t len;
    return buf_steal(&text, &len);
}

static void produce(struct remote_write *w)
{
    int64_t ts = clock_unix_ms();
    struct rw_series_set set;
    rw_series_parse(&set, render_snapshot(w), w->cfg->external, w->cfg->n_external);
    if (set.bad_lines && !w->bad_lines_logged) {
        /* our own renderer wrote it: a bug, logged once rather than every interval */
        log_error("remote write: %llu line(s) of the exposition did not parse and are not sent; the first "
                  "starts '%s'", (unsigned long long)set.bad_lines, set.first_bad);
        w->bad_lines_logged = true;
    }
    struct rw_batch **batches;
    size_t n = rw_encode_all(&set, w->cfg->max_samples_per_send, ts, &batches);
    if (n == 0 && set.n)
        log_error("remote write: snappy failed to compress a batch; snapshot of %zu series not sent", set.n);
    rw_series_free(&set);
    pthread_mutex_lock(&w->lock);
    for (size_t e = 0; e < w->n; e++)
        for (size_t i = 0; i < n; i++)
            enqueue(&w->eps[e], batches[i]);
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->lock);
    for (size_t i = 0; i < n; i++)
        rw_batch_unref(batches[i]);
    free(batches);
}

/* One snapshot per interval from start-up on; ticks missed while a snapshot
 * ran long are skipped, not caught up. */
static void *producer_main(void *p)
{
    struct remote_write *w = p;
    double next = clock_monotonic();
    pthread_mutex_lock(&w->lock);
    while (sleep_until(w, next)) {
        pthread_mutex_unlock(&w->lock);
        produce(w);
        pthread_mutex_lock(&w->lock);
        next += w->cfg->interval;
        double now = clock_monotonic();
        if (next <= now)
            next = now + w->cfg->interval;
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* ---- senders -------------------------------------------------------------- */

static void count_code(struct rw_endpoint_stats *st, long status)
{
    for (size_t i = 0; i < st->n_codes; i++)
        if (st->codes[i].code == status) {
            st->codes[i].requests++;
            return;
        }
    if (st->n_codes == RW_CODES_MAX) {
        st->other_codes++;
        return;
    }
    st->codes[st->n_codes++] = (struct rw_code_count){(int)status, 1};
}

/* At most one line per LOG_EVERY per endpoint, saying how many were not. */
static void log_failure(struct rw_endpoint *e, const struct rw_http_result *r, const struct rw_batch *b,
                        const char *outcome)
{
    double now = clock_monotonic();
    if (e->last_log > 0 && now - e->last_log < LOG_EVERY) {
        e->unlogged++;
        return;
    }
    char status[32];
    if (r->status)
        snprintf(status, sizeof status, "HTTP %ld", r->status);
    else
        snprintf(status, sizeof status, "no answer");
    log_warn("remote write to %s: %s: %s; batch of %zu samples %s (%llu more failures not logged in the "
             "last minute)", e->stats.url, status, r->detail[0] ? r->detail : "(empty body)", b->n_samples,
             outcome, (unsigned long long)e->unlogged);
    e->last_log = now;
    e->unlogged = 0;
}

/* Books the outcome of a request for b and takes b off the queue unless it
 * is retried. Returns the delay before the next request (0: none). */
static double settle(struct rw_endpoint *e, const struct rw_batch *b, const struct rw_http_result *r)
{
    bool dropped = e->inflight_dropped;
    if (r->status >= 200 && r->status < 300) {
        if (!dropped)
            pop_head(e);
        e->stats.samples_sent += b->n_samples;
        e->stats.bytes_sent += b->len;
        e->stats.last_success_unix = clock_realtime();
        if (e->failures)
            log_info("remote write to %s: accepted again after %u failed attempts", e->stats.url, e->failures);
        e->failures = 0;
        return 0;
    }
    if (!rw_http_retryable(r->status)) {
        if (!dropped)
            pop_head(e);
        e->stats.samples_failed += b->n_samples;
        log_failure(e, r, b, "refused, dropped");
        e->failures = 0;
        return 0;
    }
    e->failures++;
    if (dropped) {
        e->stats.samples_dropped += b->n_samples;
        log_failure(e, r, b, "dropped (queue full)");
    } else {
        e->stats.retries++;
        log_failure(e, r, b, "will be retried");
    }
    return rw_backoff_seconds(e->failures, &e->seed);
}

static void *sender_main(void *p)
{
    struct rw_endpoint *e = p;
    struct remote_write *w = e->w;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!atomic_load(&w->stop) && e->len == 0)
            pthread_cond_wait(&w->wake, &w->lock);
        if (atomic_load(&w->stop))
            break;
        struct rw_batch *b = e->ring[e->head];
        rw_batch_ref(b);
        e->inflight = b;
        e->inflight_dropped = false;
        pthread_mutex_unlock(&w->lock);
        struct rw_http_result res;
        rw_http_post(e->http, b, &res);
        pthread_mutex_lock(&w->lock);
        double delay = 0;
        if (!(atomic_load(&w->stop) && res.status == 0)) {     /* not our own abort */
            count_code(&e->stats, res.status);
            delay = settle(e, b, &res);
        }
        e->inflight = NULL;
        rw_batch_unref(b);
        if (delay > 0)
            sleep_until(w, clock_monotonic() + delay);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* ---- life cycle ----------------------------------------------------------- */

static bool init_sync(struct remote_write *w)
{
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0)
        return false;
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);   /* deadlines are monotonic */
    bool ok = pthread_cond_init(&w->wake, &ca) == 0;
    pthread_condattr_destroy(&ca);
    if (ok && pthread_mutex_init(&w->lock, NULL) != 0) {
        pthread_cond_destroy(&w->wake);
        ok = false;
    }
    return ok;
}

static bool setup_endpoints(struct remote_write *w, char *err, size_t errlen)
{
    w->eps = calloc(w->cfg->n_endpoints, sizeof *w->eps);
    if (!w->eps)
        abort();
    for (size_t i = 0; i < w->cfg->n_endpoints; i++) {
        struct rw_endpoint *e = &w->eps[i];
        e->w = w;
        e->cfg = &w->cfg->endpoints[i];
        e->ring = calloc(w->cfg->queue_max, sizeof *e->ring);
        if (!e->ring)
            abort();
        e->seed = (unsigned)clock_unix_ms() ^ (unsigned)getpid() ^ (unsigned)(i * 2654435761u);
        url_label(e->stats.url, sizeof e->stats.url, e->cfg->url);
        w->n = i + 1;
        if (!(e->http = rw_http_new(e->cfg, w->cfg->timeout, &w->stop, err, errlen)))
            return false;
    }
    return true;
}

static bool start_threads(struct remote_write *w)
{
    for (size_t i = 0; i < w->n; i++) {
        if (pthread_create(&w->eps[i].thread, NULL, sender_main, &w->eps[i]) != 0)
            return false;
        w->eps[i].started = true;
    }
    if (pthread_create(&w->producer, NULL, producer_main, w) != 0)
        return false;
    w->producer_started = true;
    return true;
}

struct remote_write *remote_write_start(const struct rw_config *c, struct store *s, const struct merge_opts *m,
                                        char *err, size_t errlen)
{
    struct remote_write *w = calloc(1, sizeof *w);
    if (!w)
        abort();
    w->cfg = c;
    w->store = s;
    w->merge = m;
    atomic_init(&w->stop, false);
    if (!init_sync(w)) {
        snprintf(err, errlen, "remote write: cannot set up a lock");
        free(w);
        return NULL;
    }
    if (!setup_endpoints(w, err, errlen)) {
        remote_write_stop(w);
        return NULL;
    }
    if (!start_threads(w)) {
        snprintf(err, errlen, "remote write: cannot start its threads");
        remote_write_stop(w);
        return NULL;
    }
    return w;
}

/* What is left in e's queue at shutdown: dropped. */
static void drain(struct rw_endpoint *e)
{
    size_t batches = e->len, samples = 0;
    while (e->len) {
        samples += e->ring[e->head]->n_samples;
        pop_head(e);
    }
    e->stats.samples_dropped += samples;
    if (batches)
        log_info("remote write to %s: %zu batch(es), %zu samples, not sent before shutdown", e->stats.url,
                 batches, samples);
}

void remote_write_stop(struct remote_write *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    atomic_store(&w->stop, true);
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->lock);
    if (w->producer_started)
        pthread_join(w->producer, NULL);
    for (size_t i = 0; i < w->n; i++) {
        struct rw_endpoint *e = &w->eps[i];
        if (e->started)
            pthread_join(e->thread, NULL);
        if (e->ring)
            drain(e);
        free(e->ring);
        rw_http_free(e->http);
    }
    free(w->eps);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

void remote_write_stats(struct remote_write *w, struct remote_write_stats *out)
{
    out->n = w ? w->n : 0;
    out->endpoints = calloc(out->n ? out->n : 1, sizeof *out->endpoints);
    if (!out->endpoints)
        abort();
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    for (size_t i = 0; i < w->n; i++)
        out->endpoints[i] = w->eps[i].stats;
    pthread_mutex_unlock(&w->lock);
}

void remote_write_stats_free(struct remote_write_stats *st)
{
    free(st->endpoints);
    st->endpoints = NULL;
    st->n = 0;
}
