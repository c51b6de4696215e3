/* test_gzip.c — Accept-Encoding negotiation, and gzip bodies compressed
 * straight from an exposition plan: each one inflated by zlib (one gzip
 * member, nothing after it) must equal, byte for byte, the plain body a
 * non-gzip scrape streams out of the same plan. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "exposition.h"
#include "gzip.h"

static void t_accepts_gzip(void **state)
{
    (void)state;
    assert_true(accepts_gzip("gzip"));
    assert_true(accepts_gzip("deflate, GZIP"));
    assert_true(accepts_gzip("gzip;q=0.5"));
    assert_true(accepts_gzip("x-gzip"));
    assert_true(accepts_gzip("*"));
    assert_true(accepts_gzip("identity, gzip ; q=1.0"));
    assert_false(accepts_gzip(NULL));
    assert_false(accepts_gzip(""));
    assert_false(accepts_gzip("deflate, br"));
    assert_false(accepts_gzip("gzip;q=0"));
    assert_false(accepts_gzip("*, gzip;q=0"));
    assert_false(accepts_gzip("gzipx"));
    assert_false(accepts_gzip("*;q=0"));
}

/* Appends a piece to a hand-made plan (base NULL: plan->aux). */
static void piece(struct expo_plan *plan, const char *base, size_t off, size_t len)
{
    if (plan->n == plan->cap) {
        plan->cap = plan->cap ? plan->cap * 2 : 64;
        plan->pieces = realloc(plan->pieces, plan->cap * sizeof *plan->pieces);
        assert_non_null(plan->pieces);
    }
    plan->pieces[plan->n++] = (struct expo_piece){base, off, len};
    plan->total += len;
}

/* The plain body of plan, read as the uncompressed stream reads it: in
 * blocks (an odd size, so blocks end inside pieces). */
static void plain_body(const struct expo_plan *plan, struct buf *out)
{
    char block[1000];
    struct expo_cursor cur = {0, 0};
    size_t n;
    buf_reset(out);
    while ((n = expo_plan_read(plan, &cur, out->len, block, sizeof block)) > 0)
        buf_append(out, block, n);
    assert_int_equal(out->len, plan->total);
}

/* Inflates z with zlib into out. It must be exactly one gzip member:
 * curl --compressed decodes only the first member of a body. */
static void gunzip_one_member(const struct buf *z, struct buf *out)
{
    assert_true(z->len >= 18);                                   /* 10 header + 8 trailer */
    assert_int_equal((unsigned char)z->data[0], 0x1f);            /* gzip magic */
    assert_int_equal((unsigned char)z->data[1], 0x8b);
    assert_int_equal((unsigned char)z->data[2], 8);               /* deflate */
    z_stream s;
    memset(&s, 0, sizeof s);
    assert_int_equal(inflateInit2(&s, 15 + 16), Z_OK);
    s.next_in = (Bytef *)z->data;
    s.avail_in = (uInt)z->len;
    buf_reset(out);
    int rc;
    do {
        buf_reserve(out, 1 << 16);
        s.next_out = (Bytef *)out->data + out->len;
        s.avail_out = (uInt)(out->cap - out->len - 1);
        rc = inflate(&s, Z_NO_FLUSH);
        out->len = s.total_out;
    } while (rc == Z_OK);
    assert_int_equal(rc, Z_STREAM_END);
    assert_int_equal(s.avail_in, 0);                              /* no second member, no trailing bytes */
    inflateEnd(&s);
}

/* Compresses plan with d and checks the inflated body against the plain one;
 * returns the compressed size. */
static size_t roundtrip(struct gzip_deflater *d, const struct expo_plan *plan)
{
    struct buf z = BUF_INIT, plain = BUF_INIT, inflated = BUF_INIT;
    assert_true(gzip_plan(d, plan, &z));
    gunzip_one_member(&z, &inflated);
    plain_body(plan, &plain);
    assert_int_equal(inflated.len, plain.len);
    if (plain.len)
        assert_memory_equal(inflated.data, plain.data, plain.len);
    size_t zlen = z.len;
    buf_free(&z);
    buf_free(&plain);
    buf_free(&inflated);
    return zlen;
}

/* Exposition-like lines with values from a fixed LCG (so the text repeats
 * as a scrape does, but not trivially). */
static void metric_text(struct buf *b, size_t lines, uint32_t seed)
{
    for (size_t i = 0; i < lines; i++) {
        seed = seed * 1664525u + 1013904223u;
        buf_printf(b, "pve_disk_read_bytes_total{id=\"qemu/%zu\",pve_cluster=\"c%u\"} %u\n", 100 + i % 4000,
                   (unsigned)(i % 7), seed >> 8);
    }
}

/* Bytes deflate cannot shrink: the body then outgrows the first output
 * reservation, and the compressor must grow it as it goes. */
static void noise(struct buf *b, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        buf_putc(b, (char)(seed >> 16));
    }
}

static void t_gzip_empty_plan(void **state)
{
    (void)state;
    struct gzip_deflater *d = gzip_deflater_new();
    struct expo_plan plan = EXPO_PLAN_INIT;
    size_t zlen = roundtrip(d, &plan);
    assert_true(zlen < 32);                  /* header, an empty final block, trailer */
    expo_plan_free(&plan);
    gzip_deflater_free(d);
}

static void t_gzip_one_piece(void **state)
{
    (void)state;
    struct gzip_deflater *d = gzip_deflater_new();
    struct buf text = BUF_INIT;
    metric_text(&text, 5000, 1);
    struct expo_plan plan = EXPO_PLAN_INIT;
    piece(&plan, text.data, 0, text.len);
    size_t zlen = roundtrip(d, &plan);
    assert_true(zlen < text.len / 3);        /* it did compress */
    expo_plan_free(&plan);
    buf_free(&text);
    gzip_deflater_free(d);
}

/* A plan as a scrape makes one: family headers and self metrics in aux,
 * many short chunks of several renders out of order, some long chunks
 * (which the compressor takes in place instead of staging) and noise. */
static void many_pieces(struct expo_plan *plan, const struct buf *r1, const struct buf *r2, const struct buf *junk)
{
    for (int fam = 0; fam < 40; fam++) {
        size_t mark = plan->aux.len;
        buf_printf(&plan->aux, "# HELP pve_family_%d help text\n# TYPE pve_family_%d gauge\n", fam, fam);
        piece(plan, NULL, mark, plan->aux.len - mark);
        for (size_t k = 0; k < 60; k++) {
            size_t len = 40 + (k * 37 + (size_t)fam * 101) % 1900;       /* 40..1939 bytes */
            size_t off = ((size_t)fam * 7919 + k * 104729) % (r1->len - len);
            piece(plan, k % 2 ? r1->data : r2->data, off, len);
        }
        if (fam % 8 == 3)
            piece(plan, r2->data, (size_t)fam * 1000, 20000 + (size_t)fam * 1000);   /* in place */
        if (fam == 17)
            piece(plan, junk->data, 0, junk->len);
    }
    piece(plan, r1->data, 0, r1->len);                                  /* one much longer than the stage */
}

static void t_gzip_many_pieces(void **state)
{
    (void)state;
    struct gzip_deflater *d = gzip_deflater_new();
    struct buf r1 = BUF_INIT, r2 = BUF_INIT, junk = BUF_INIT;
    metric_text(&r1, 20000, 7);
    metric_text(&r2, 20000, 99);
    noise(&junk, 300000, 5);
    struct expo_plan plan = EXPO_PLAN_INIT;
    many_pieces(&plan, &r1, &r2, &junk);
    assert_true(plan.n > 2400);
    assert_true(plan.total > 3 * (1u << 20));
    roundtrip(d, &plan);
    expo_plan_free(&plan);
    buf_free(&r1);
    buf_free(&r2);
    buf_free(&junk);
    gzip_deflater_free(d);
}

/* One compressor for bodies of very different sizes in turn, as the kept
 * one of http.c serves scrapes: each body stands alone. */
static void t_gzip_reused(void **state)
{
    (void)state;
    struct gzip_deflater *d = gzip_deflater_new();
    struct buf r1 = BUF_INIT, r2 = BUF_INIT, junk = BUF_INIT;
    metric_text(&r1, 20000, 3);
    metric_text(&r2, 20000, 4);
    noise(&junk, 100000, 6);
    struct expo_plan big = EXPO_PLAN_INIT, small = EXPO_PLAN_INIT, empty = EXPO_PLAN_INIT;
    many_pieces(&big, &r1, &r2, &junk);
    piece(&small, r2.data, 10, 3000);
    piece(&small, r1.data, 500, 20);
    size_t first = roundtrip(d, &big);
    roundtrip(d, &small);
    roundtrip(d, &empty);
    assert_int_equal(roundtrip(d, &big), first);     /* no state left over from the bodies between */
    expo_plan_free(&big);
    expo_plan_free(&small);
    expo_plan_free(&empty);
    buf_free(&r1);
    buf_free(&r2);
    buf_free(&junk);
    gzip_deflater_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_accepts_gzip), cmocka_unit_test(t_gzip_empty_plan), cmocka_unit_test(t_gzip_one_piece),
        cmocka_unit_test(t_gzip_many_pieces), cmocka_unit_test(t_gzip_reused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
