/* report.c — see report.h. */
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"

int collector_index(const char *name)
{
    for (size_t i = 0; i < collector_registry_len; i++)
        if (strcmp(collector_registry[i]->name, name) == 0)
            return (int)i;
    return -1;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        abort();
    return p;
}

static struct collector_ctx make_ctx(struct reporter *rp)
{
    struct collector_ctx ctx = {
        .procfs = rp->paths.procfs,
        .sysfs = rp->paths.sysfs,
        .pve = rp->paths.pve,
        .run = rp->paths.run,
        .rootfs = rp->paths.rootfs,
        .arena = &rp->arena,
        .scratch = &rp->scratch,
        .files = &rp->files,
        .now_monotonic = clock_monotonic(),
    };
    return ctx;
}

size_t reporter_init(struct reporter *rp, const struct reporter_paths *paths, const bool *enabled)
{
    memset(rp, 0, sizeof *rp);
    rp->paths = *paths;
    rp->n = collector_registry_len;
    rp->enabled = xcalloc(rp->n, sizeof *rp->enabled);
    rp->state = xcalloc(rp->n, sizeof *rp->state);
    rp->errors_total = xcalloc(rp->n, sizeof *rp->errors_total);
    rp->warnings_total = xcalloc(rp->n, sizeof *rp->warnings_total);
    rp->last_error = xcalloc(rp->n, sizeof *rp->last_error);
    arena_init(&rp->arena, 64 * 1024);
    file_cache_init(&rp->files);
    size_t live = 0;
    for (size_t i = 0; i < rp->n; i++) {
        const struct collector *c = collector_registry[i];
        if (!enabled[i])
            continue;
        struct collector_ctx ctx = make_ctx(rp);
        if (c->init && c->init(&rp->state[i], &ctx) != 0) {
            log_warn("collector %s disabled: %s", c->name, ctx.err[0] ? ctx.err : "init failed");
            continue;
        }
        rp->enabled[i] = true;
        live++;
    }
    return live;
}

/* Logs a collector's outcome when it differs from the previous cycle's, so a
 * persistent fault is one log line, not one per interval. A collector that
 * succeeds with a message in err (rows it had to skip) logs a warning. */
static void note_result(struct reporter *rp, size_t i, int rc, const char *err)
{
    const char *name = collector_registry[i]->name;
    if (rc != 0)
        rp->errors_total[i]++;
    else if (err[0])
        rp->warnings_total[i]++;
    if (strcmp(rp->last_error[i], err) == 0)
        return;
    if (err[0])
        log_warn("collector %s %s: %s", name, rc ? "failed" : "succeeded with warnings", err);
    else
        log_info("collector %s recovered", name);
    snprintf(rp->last_error[i], sizeof rp->last_error[i], "%s", err);
}

Pvescope__Report *reporter_collect(struct reporter *rp, const char *node)
{
    arena_reset(&rp->arena);
    file_cache_next_cycle(&rp->files);
    Pvescope__Report *r = arena_alloc(&rp->arena, sizeof *r);
    pvescope__report__init(r);
    r->node = arena_strdup(&rp->arena, node);
    r->has_collected_unix_ms = true;
    r->collected_unix_ms = clock_unix_ms();

    r->collectors = arena_alloc(&rp->arena, rp->n * sizeof *r->collectors);
    for (size_t i = 0; i < rp->n; i++) {
        if (!rp->enabled[i])
            continue;
        const struct collector *c = collector_registry[i];
        struct collector_ctx ctx = make_ctx(rp);
        int rc = c->collect(rp->state[i], &ctx, r);
        if (rc != 0 && !ctx.err[0])
            snprintf(ctx.err, sizeof ctx.err, "failed");
        note_result(rp, i, rc, ctx.err);

        Pvescope__CollectorStatus *st = arena_alloc(&rp->arena, sizeof *st);
        pvescope__collector_status__init(st);
        st->name = (char *)c->name;
        st->success = rc == 0;
        st->has_duration_seconds = true;
        st->duration_seconds = clock_monotonic() - ctx.now_monotonic;
        st->has_errors_total = true;
        st->errors_total = rp->errors_total[i];
        st->has_warnings_total = true;
        st->warnings_total = rp->warnings_total[i];
        if (ctx.err[0])                /* failure, or rows skipped on success */
            st->error = arena_strdup(&rp->arena, ctx.err);
        r->collectors[r->n_collectors++] = st;
    }
    return r;
}

void reporter_free(struct reporter *rp)
{
    for (size_t i = 0; i < rp->n; i++)
        if (rp->enabled[i] && collector_registry[i]->fini)
            collector_registry[i]->fini(rp->state[i]);
    free(rp->enabled);
    free(rp->state);
    free(rp->errors_total);
    free(rp->warnings_total);
    free(rp->last_error);
    arena_free(&rp->arena);
    buf_free(&rp->scratch);
    file_cache_free(&rp->files);
    memset(rp, 0, sizeof *rp);
}
