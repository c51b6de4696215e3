/* proc_test_util.h — fixture harness for the host collector unit tests.
 *
 * Drives a real collector (init / collect / fini) against a fixture tree,
 * the way agent/report.c does, with a fresh Report, arena reset and cleared
 * ctx->err on every cycle. Include after cmocka.h. */
#ifndef PVESCOPE_PROC_TEST_UTIL_H
#define PVESCOPE_PROC_TEST_UTIL_H

#include <string.h>

#include "arena.h"
#include "buf.h"
#include "collector.h"
#include "proc_parsers.h"

#define FX_HOST1_PROC FIXTURES "/host1/proc"
#define FX_HOST1_SYS  FIXTURES "/host1/sys"
#define FX_HOST2_PROC FIXTURES "/host2/proc"
#define FX_EDGE_PROC  FIXTURES "/edge/proc"
#define FX_NO_SYS     FIXTURES "/edge/sys-does-not-exist"
#define FX_MISSING    FIXTURES "/does-not-exist/proc"

struct fx {
    const struct collector *c;
    void *state;
    struct arena arena;
    struct buf scratch;
    struct collector_ctx ctx;
    Pvescope__Report r;
};

/* Sets up ctx and runs the collector's init (which must succeed). */
static inline void fx_open(struct fx *f, const struct collector *c, const char *procfs, const char *sysfs)
{
    memset(f, 0, sizeof *f);
    f->c = c;
    arena_init(&f->arena, 4096);
    f->scratch = (struct buf)BUF_INIT;
    f->ctx.procfs = procfs;
    f->ctx.sysfs = sysfs;
    f->ctx.pve = FIXTURES "/host1/etc/pve";
    f->ctx.arena = &f->arena;
    f->ctx.scratch = &f->scratch;
    if (c->init)
        assert_int_equal(c->init(&f->state, &f->ctx), 0);
    pvescope__report__init(&f->r);
}

/* One collection cycle into a fresh report; returns collect()'s result. */
static inline int fx_collect(struct fx *f)
{
    arena_reset(&f->arena);
    pvescope__report__init(&f->r);
    f->ctx.err[0] = '\0';
    return f->c->collect(f->state, &f->ctx, &f->r);
}

/* Runs fini and frees everything fx_open allocated. */
static inline void fx_close(struct fx *f)
{
    if (f->c->fini)
        f->c->fini(f->state);
    arena_free(&f->arena);
    buf_free(&f->scratch);
}

/* Packs the current report and unpacks it again, asserting both work and
 * that the message is complete; free with pvescope__report__free_unpacked. */
static inline Pvescope__Report *fx_roundtrip(struct fx *f)
{
    assert_true(protobuf_c_message_check(&f->r.base));
    size_t len = pvescope__report__get_packed_size(&f->r);
    uint8_t *wire = test_malloc(len ? len : 1);
    assert_int_equal(pvescope__report__pack(&f->r, wire), len);
    Pvescope__Report *back = pvescope__report__unpack(NULL, len, wire);
    test_free(wire);
    assert_non_null(back);
    return back;
}

/* Asserts that err contains needle (and shows both when it does not). */
#define assert_err_contains(err, needle)                                              \
    do {                                                                              \
        if (!strstr((err), (needle)))                                                 \
            fail_msg("error \"%s\" does not contain \"%s\"", (err), (needle));        \
    } while (0)

#endif
