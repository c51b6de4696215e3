/* fsstat.c — statvfs on worker threads with a deadline; see fsstat.h.
 *
 * Ownership. The hub (mutex, condition variables, job queue) is shared by the
 * owner and every live worker and is reference counted: one reference for
 * the owner, one per worker; whoever drops the last frees it. A job is
 * likewise counted: one reference for the owner (dropped when the owner has
 * read the answer, or at fsstat_free), one for the queue and then the worker
 * running it. Every count and every job field a worker writes is guarded by
 * the hub's mutex, so a worker stuck in statvfs holds no lock and no
 * reference the owner waits for. */
#include "fsstat.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WORKER_STACK (256u * 1024)

struct job {
    struct job *next;           /* queue link */
    unsigned refs;
    bool done;
    int rc;
    struct statvfs sv;
    char path[];
};

struct hub {
    pthread_mutex_t mu;
    pthread_cond_t work;        /* workers wait for jobs */
    pthread_cond_t done;        /* the owner waits for answers (CLOCK_MONOTONIC) */
    struct job *head, *tail;
    size_t queued;
    unsigned idle, starting, workers;
    unsigned refs;              /* the owner + live workers */
    bool stop;
    fsstat_fn fn;
    void *arg;
};

struct fsstat {
    struct hub *hub;
    double deadline_s;
    struct job **pending;       /* asked earlier, not returned; one owner reference each */
    size_t n_pending, cap_pending;
    struct job **batch;         /* this query's jobs, by request index */
    size_t cap_batch;
};

int fsstat_statvfs(const char *path, struct statvfs *out, void *arg)
{
    (void)arg;
    return statvfs(path, out) == 0 ? 0 : -errno;
}

static void hub_destroy(struct hub *h)
{
    pthread_cond_destroy(&h->work);
    pthread_cond_destroy(&h->done);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

/* Under h->mu. */
static void job_unref(struct job *j)
{
    if (--j->refs == 0)
        free(j);
}

static void *worker(void *p)
{
    struct hub *h = p;
    pthread_mutex_lock(&h->mu);
    h->starting--;
    for (;;) {
        while (!h->head && !h->stop) {
            if (h->idle >= FSSTAT_PARALLEL)
                goto leave;                 /* enough idle workers already */
            h->idle++;
            pthread_cond_wait(&h->work, &h->mu);
            h->idle--;
        }
        if (h->stop)
            break;
        struct job *j = h->head;
        h->head = j->next;
        if (!h->head)
            h->tail = NULL;
        h->queued--;
        pthread_mutex_unlock(&h->mu);

        struct statvfs sv;
        memset(&sv, 0, sizeof sv);
        int rc = h->fn(j->path, &sv, h->arg);

        pthread_mutex_lock(&h->mu);
        j->rc = rc;
        j->sv = sv;
        j->done = true;
        job_unref(j);
        pthread_cond_broadcast(&h->done);
    }
leave:
    h->workers--;
    bool last = --h->refs == 0;
    pthread_mutex_unlock(&h->mu);
    if (last)
        hub_destroy(h);
    return NULL;
}

/* Under h->mu: starts workers until the queued jobs (up to FSSTAT_PARALLEL)
 * have an idle or starting worker each. */
static void spawn_workers(struct hub *h)
{
    size_t want = h->queued < FSSTAT_PARALLEL ? h->queued : FSSTAT_PARALLEL;
    if (h->idle + h->starting >= want)
        return;
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0)
        return;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, WORKER_STACK);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);   /* workers inherit: signals stay with the main thread */
    while (h->idle + h->starting < want && h->workers < FSSTAT_MAX_WORKERS) {
        pthread_t t;
        h->workers++;
        h->starting++;
        h->refs++;
        if (pthread_create(&t, &attr, worker, h) != 0) {
            h->workers--;
            h->starting--;
            h->refs--;
            break;
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
}

struct fsstat *fsstat_new(fsstat_fn fn, void *arg, double deadline_s)
{
    struct fsstat *fs = calloc(1, sizeof *fs);
    struct hub *h = calloc(1, sizeof *h);
    pthread_condattr_t ca;
    if (!fs || !h || pthread_condattr_init(&ca) != 0) {
        free(fs);
        free(h);
        return NULL;
    }
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->work, NULL);
    pthread_cond_init(&h->done, &ca);
    pthread_condattr_destroy(&ca);
    h->fn = fn ? fn : fsstat_statvfs;
    h->arg = arg;
    h->refs = 1;
    fs->hub = h;
    fs->deadline_s = deadline_s > 0 ? deadline_s : 0;
    return fs;
}

static bool is_pending(const struct fsstat *fs, const char *path)
{
    for (size_t i = 0; i < fs->n_pending; i++)
        if (strcmp(fs->pending[i]->path, path) == 0)
            return true;
    return false;
}

/* Under h->mu: drops the pending jobs that have returned since. */
static void sweep_pending(struct fsstat *fs)
{
    size_t k = 0;
    for (size_t i = 0; i < fs->n_pending; i++) {
        if (fs->pending[i]->done)
            job_unref(fs->pending[i]);
        else
            fs->pending[k++] = fs->pending[i];
    }
    fs->n_pending = k;
}

static bool grow(void *pp, size_t *cap, size_t need)
{
    void **p = pp;
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap : 8;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * sizeof(struct job *));
    if (!q)
        return false;
    *p = q;
    *cap = n;
    return true;
}

static struct timespec deadline_after(double s)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    long long ns = (long long)t.tv_nsec + (long long)(s * 1e9);
    t.tv_sec += (time_t)(ns / 1000000000LL);
    t.tv_nsec = (long)(ns % 1000000000LL);
    return t;
}

static void answer(struct fsstat_req *r, const struct job *j)
{
    if (j->rc != 0) {
        r->status = FSSTAT_ERROR;
        r->err = -j->rc;
        return;
    }
    uint64_t fr = j->sv.f_frsize ? j->sv.f_frsize : j->sv.f_bsize;
    uint64_t blocks = j->sv.f_blocks, bfree = j->sv.f_bfree;
    r->status = FSSTAT_OK;
    r->total = blocks * fr;
    r->used = (blocks > bfree ? blocks - bfree : 0) * fr;
    r->avail = (uint64_t)j->sv.f_bavail * fr;
}

void fsstat_query(struct fsstat *fs, struct fsstat_req *reqs, size_t n)
{
    struct hub *h = fs->hub;
    for (size_t i = 0; i < n; i++) {
        reqs[i].status = FSSTAT_PENDING;
        reqs[i].err = 0;
        reqs[i].total = reqs[i].used = reqs[i].avail = 0;
    }
    if (n == 0 || !grow(&fs->batch, &fs->cap_batch, n) ||
        !grow(&fs->pending, &fs->cap_pending, fs->n_pending + n))
        return;

    pthread_mutex_lock(&h->mu);
    sweep_pending(fs);
    size_t asked = 0;
    for (size_t i = 0; i < n; i++) {
        fs->batch[i] = NULL;
        if (is_pending(fs, reqs[i].path))
            continue;                       /* the earlier call has not returned: not asked again */
        size_t len = strlen(reqs[i].path);
        struct job *j = calloc(1, sizeof *j + len + 1);
        if (!j)
            continue;
        memcpy(j->path, reqs[i].path, len + 1);
        j->refs = 2;                        /* owner + queue/worker */
        if (h->tail)
            h->tail->next = j;
        else
            h->head = j;
        h->tail = j;
        h->queued++;
        fs->batch[i] = j;
        asked++;
    }
    if (asked) {
        spawn_workers(h);
        pthread_cond_broadcast(&h->work);
        struct timespec until = deadline_after(fs->deadline_s);
        for (;;) {
            bool all = true;
            for (size_t i = 0; i < n && all; i++)
                all = !fs->batch[i] || fs->batch[i]->done;
            if (all || pthread_cond_timedwait(&h->done, &h->mu, &until) == ETIMEDOUT)
                break;
        }
    }
    for (size_t i = 0; i < n; i++) {
        struct job *j = fs->batch[i];
        if (!j)
            continue;
        if (j->done) {
            answer(&reqs[i], j);
            job_unref(j);
        } else {
            fs->pending[fs->n_pending++] = j;   /* keeps the owner reference */
        }
    }
    pthread_mutex_unlock(&h->mu);
}

size_t fsstat_outstanding(struct fsstat *fs)
{
    pthread_mutex_lock(&fs->hub->mu);
    sweep_pending(fs);
    size_t n = fs->n_pending;
    pthread_mutex_unlock(&fs->hub->mu);
    return n;
}

void fsstat_free(struct fsstat *fs)
{
    if (!fs)
        return;
    struct hub *h = fs->hub;
    pthread_mutex_lock(&h->mu);
    h->stop = true;
    while (h->head) {                       /* never started: drop the queue's reference */
        struct job *j = h->head;
        h->head = j->next;
        job_unref(j);
    }
    h->tail = NULL;
    h->queued = 0;
    for (size_t i = 0; i < fs->n_pending; i++)
        job_unref(fs->pending[i]);
    pthread_cond_broadcast(&h->work);
    bool last = --h->refs == 0;
    pthread_mutex_unlock(&h->mu);
    if (last)
        hub_destroy(h);
    free(fs->pending);
    free(fs->batch);
    free(fs);
}
