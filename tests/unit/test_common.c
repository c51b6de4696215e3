/* test_common.c — flags, buffers, keys, key ring and envelope sealing. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "buf.h"
#include "numfmt.h"
#include "fileio.h"
#include "flags.h"
#include "keyring.h"
#include "seal.h"

static void t_parse_duration(void **state)
{
    (void)state;
    double s;
    assert_true(parse_duration("15s", &s)); assert_float_equal(s, 15, 1e-9);
    assert_true(parse_duration("500ms", &s)); assert_float_equal(s, 0.5, 1e-9);
    assert_true(parse_duration("1m30s", &s)); assert_float_equal(s, 90, 1e-9);
    assert_true(parse_duration("2h", &s)); assert_float_equal(s, 7200, 1e-9);
    assert_true(parse_duration("7", &s)); assert_float_equal(s, 7, 1e-9);
    assert_false(parse_duration("", &s));
    assert_false(parse_duration("-1s", &s));
    assert_false(parse_duration("15x", &s));
    assert_false(parse_duration("s", &s));
    assert_false(parse_duration("1mss", &s));
}

static void t_parse_bytes(void **state)
{
    (void)state;
    uint64_t b;
    assert_true(parse_bytes("1MiB", &b)); assert_int_equal(b, 1048576);
    assert_true(parse_bytes("64KiB", &b)); assert_int_equal(b, 65536);
    assert_true(parse_bytes("4MB", &b)); assert_int_equal(b, 4000000);
    assert_true(parse_bytes("123", &b)); assert_int_equal(b, 123);
    assert_false(parse_bytes("1PiB", &b));
    assert_false(parse_bytes("-1", &b));
    assert_false(parse_bytes("99999999999999999999GiB", &b));
}

static void t_flag_value(void **state)
{
    (void)state;
    char *argv[] = {"prog", "--interval=5s", "--node", "pve1", "--nodeX=1", "--once"};
    int i = 1;
    const char *v;
    assert_true(flag_value(6, argv, &i, "interval", &v)); assert_string_equal(v, "5s");
    i = 2;
    assert_true(flag_value(6, argv, &i, "node", &v)); assert_string_equal(v, "pve1");
    assert_int_equal(i, 3);
    i = 4;
    assert_false(flag_value(6, argv, &i, "node", &v));
    assert_true(flag_bool(argv[5], "once"));
    assert_false(flag_bool(argv[5], "on"));
}

static void t_buf_numbers(void **state)
{
    (void)state;
    struct buf b = BUF_INIT;
    buf_put_u64(&b, UINT64_MAX);
    assert_string_equal(b.data, "18446744073709551615");
    buf_reset(&b);
    buf_put_double(&b, 0.1);
    assert_string_equal(b.data, "0.1");
    buf_reset(&b);
    buf_put_double(&b, 1e300);
    assert_string_equal(b.data, "1e+300");
    buf_reset(&b);
    buf_put_double(&b, NAN);
    buf_putc(&b, ' ');
    buf_put_double(&b, -INFINITY);
    assert_string_equal(b.data, "NaN -Inf");
    buf_reset(&b);
    buf_put_double(&b, 25276502016.0);
    assert_string_equal(b.data, "25276502016");
    buf_reset(&b);
    buf_put_double(&b, 1.0 / 3.0);                /* must round-trip */
    assert_true(strtod(b.data, NULL) == 1.0 / 3.0);
    buf_free(&b);
}

/* The reference numfmt_double must equal: integers below 2^53 in full,
 * else "%.15g" when it parses back, else "%.17g". */
static void reference_double(char *out, size_t cap, double v)
{
    if (fabs(v) < 9007199254740992.0 && v == trunc(v)) {
        snprintf(out, cap, "%.0f", v == 0 ? 0.0 : v);
        return;
    }
    snprintf(out, cap, "%.15g", v);
    if (strtod(out, NULL) != v)
        snprintf(out, cap, "%.17g", v);
}

static void expect_like_printf(double v)
{
    char want[64], got[NUMFMT_MAX + 1];
    reference_double(want, sizeof want, v);
    *numfmt_double(got, v) = '\0';
    if (strcmp(want, got) != 0)
        fail_msg("numfmt_double(%a): got %s, printf %s", v, got, want);
}

/* The exact path against glibc over every decade it covers, at random
 * bit patterns (full 17-digit values), short decimals, and the edges:
 * powers of two (the narrower gap below), ties, decades. */
static void t_numfmt_matches_printf(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < 400000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double scale = pow(10, (double)(i % 21) - 5);              /* 1e-5 .. 1e15 */
        double v = (double)(x >> 11) / 9007199254740992.0 * scale;
        expect_like_printf(v);
        expect_like_printf(-v);
        expect_like_printf((double)(int64_t)(x % 100000000) / pow(10, (double)(i % 9)));
    }
    for (int e = -20; e < 60; e++) {
        expect_like_printf(ldexp(1, e));
        expect_like_printf(nextafter(ldexp(1, e), 0));
        expect_like_printf(nextafter(ldexp(1, e), INFINITY));
    }
    for (int d = -6; d < 17; d++) {
        double p = pow(10, d);
        expect_like_printf(p);
        expect_like_printf(nextafter(p, 0));
        expect_like_printf(nextafter(p, INFINITY));
        expect_like_printf(p * 0.5);
        expect_like_printf(p * 9.999999999999999);
    }
    const double edges[] = {0.1, 0.2, 0.3, 0.1 + 0.2, 1.0 / 3.0, 2.0 / 3.0, 1e-4, 0.000123456789012345,
                            999999999999999.9, 123456.1234567, 5e-324, 1e300, 12.345, 0.5, 1.5, -0.0,
                            9007199254740993.0, 4503599627370495.5, 33.6, 0.05};
    for (size_t i = 0; i < sizeof edges / sizeof *edges; i++) {
        expect_like_printf(edges[i]);
        expect_like_printf(-edges[i]);
    }
    char out[NUMFMT_MAX + 1], want[32];
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint64_t u = x >> (i % 64);                    /* every length from 1 to 20 digits */
        snprintf(want, sizeof want, "%" PRIu64, u);
        *numfmt_u64(out, u) = '\0';
        assert_string_equal(out, want);
    }
    for (int i = 0; i < 300000; i++) {                /* numfmt_micro: as the division would print */
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint64_t us = i < 1000 ? (uint64_t)i * 999999 : x >> (i % 64);
        char via_double[NUMFMT_MAX + 1];
        *numfmt_double(via_double, (double)us / 1e6) = '\0';
        *numfmt_micro(out, us) = '\0';
        assert_string_equal(out, via_double);
    }
    *numfmt_u64(out, 0) = '\0';
    assert_string_equal(out, "0");
    *numfmt_u64(out, 1234567890123456789u) = '\0';
    assert_string_equal(out, "1234567890123456789");
    *numfmt_double(out, 25276502016.0) = '\0';
    assert_string_equal(out, "25276502016");
    *numfmt_double(out, -7.0) = '\0';
    assert_string_equal(out, "-7");
}

static void t_key_roundtrip(void **state)
{
    (void)state;
    struct cluster_key k, k2;
    for (size_t i = 0; i < sizeof k.bytes; i++)
        k.bytes[i] = (uint8_t)(i * 7);
    char text[KEY_TEXT_MAX];
    key_format(&k, text);
    assert_int_equal(strncmp(text, KEY_TEXT_PREFIX, strlen(KEY_TEXT_PREFIX)), 0);
    assert_true(key_parse(text, &k2));
    assert_memory_equal(k.bytes, k2.bytes, sizeof k.bytes);
    assert_false(key_parse("pvescope-key-1:AAAA", &k2));            /* too short */
    assert_false(key_parse("other-key:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", &k2));
    char junk[KEY_TEXT_MAX + 8];
    snprintf(junk, sizeof junk, "%s extra", text);
    assert_false(key_parse(junk, &k2));
}

static void t_key_file_create(void **state)
{
    (void)state;
    char dir[] = "/tmp/pvescope-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], err[256];
    snprintf(path, sizeof path, "%s/cluster.key", dir);
    assert_true(key_create_file(path, err, sizeof err));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    struct cluster_key k;
    assert_true(key_load_file(path, &k, err, sizeof err));
    assert_false(key_create_file(path, err, sizeof err));       /* refuses to overwrite */
    assert_non_null(strstr(err, "refusing to overwrite"));
    struct cluster_key k2;
    assert_true(key_load_file(path, &k2, err, sizeof err));     /* unchanged */
    assert_memory_equal(k.bytes, k2.bytes, sizeof k.bytes);
    unlink(path);
    rmdir(dir);
}

static void t_keyring(void **state)
{
    (void)state;
    struct cluster_key a, b;
    memset(a.bytes, 1, sizeof a.bytes);
    memset(b.bytes, 2, sizeof b.bytes);
    char ta[KEY_TEXT_MAX], tb[KEY_TEXT_MAX], text[512], err[256];
    key_format(&a, ta);
    key_format(&b, tb);
    snprintf(text, sizeof text, "# comment\n\nprod-fra1 %s\nprod-fra1 %s\r\nlab\t%s\n", ta, tb, ta);
    struct keyring kr;
    assert_true(keyring_parse(text, &kr, err, sizeof err));
    assert_int_equal(kr.len, 3);
    assert_string_equal(kr.entries[1].cluster, "prod-fra1");
    assert_memory_equal(kr.entries[1].key.bytes, b.bytes, sizeof b.bytes);
    assert_true(keyring_has_cluster(&kr, "lab"));
    assert_false(keyring_has_cluster(&kr, "prod"));
    keyring_free(&kr);

    snprintf(text, sizeof text, "prod %s\nbad line here\n", ta);
    assert_false(keyring_parse(text, &kr, err, sizeof err));
    assert_non_null(strstr(err, "line 2"));
    assert_false(keyring_parse("# only comments\n", &kr, err, sizeof err));
    snprintf(text, sizeof text, "we\"ird %s\n", ta);
    assert_false(keyring_parse(text, &kr, err, sizeof err));
}

/* Seals a small payload and returns the decoded envelope. */
static Pvescope__Envelope *seal_sample(const struct cluster_key *k, struct buf *wire)
{
    struct envelope_header h = {"prod", "pve1", "0b5e1d4c-0000-4000-8000-000000000001", 42, 1700000000123};
    buf_reset(wire);
    envelope_seal(k, &h, (const uint8_t *)"report-bytes", 12, wire);
    return pvescope__envelope__unpack(NULL, wire->len, (const uint8_t *)wire->data);
}

static void t_seal_open(void **state)
{
    (void)state;
    assert_true(seal_library_init());
    struct cluster_key k, other;
    memset(k.bytes, 9, sizeof k.bytes);
    memset(other.bytes, 8, sizeof other.bytes);
    struct buf wire = BUF_INIT, plain = BUF_INIT;
    Pvescope__Envelope *env = seal_sample(&k, &wire);
    assert_non_null(env);
    assert_int_equal(env->version, ENVELOPE_VERSION);
    assert_int_equal(env->seq, 42);
    assert_true(envelope_open(&k, env, &plain));
    assert_int_equal(plain.len, 12);
    assert_memory_equal(plain.data, "report-bytes", 12);
    assert_false(envelope_open(&other, env, &plain));

    /* Every header field is authenticated: changing any one breaks the tag. */
    env->seq = 43;
    assert_false(envelope_open(&k, env, &plain));
    env->seq = 42;
    env->sent_unix_ms++;
    assert_false(envelope_open(&k, env, &plain));
    env->sent_unix_ms--;
    char *node = env->node;
    env->node = "pve2";
    assert_false(envelope_open(&k, env, &plain));
    env->node = node;
    char *boot = env->boot_id;
    env->boot_id = NULL;
    assert_false(envelope_open(&k, env, &plain));
    env->boot_id = boot;
    env->sealed_report.data[0] ^= 1;
    assert_false(envelope_open(&k, env, &plain));
    env->sealed_report.data[0] ^= 1;
    assert_true(envelope_open(&k, env, &plain));
    env->nonce.len = 12;                                        /* wrong nonce size */
    assert_false(envelope_open(&k, env, &plain));
    env->nonce.len = 24;
    pvescope__envelope__free_unpacked(env, NULL);
    buf_free(&wire);
    buf_free(&plain);
}

/* Builds an envelope in place (envelope_frame_*) around plain[0..len) and
 * checks it byte for byte against the classic encoding of the same fields:
 * protobuf-c's pack of the decoded envelope, whose sealed report must open to
 * plain under the header as associated data. */
static void check_frame(const struct cluster_key *k, const struct envelope_header *h, const uint8_t *plain,
                        size_t len)
{
    struct envelope_frame f;
    size_t n = envelope_frame_init(&f, h, len);
    uint8_t *dst = malloc(n);                 /* exactly n: ASan sees any write past it */
    assert_non_null(dst);
    memcpy(envelope_frame_report(&f, dst), plain, len);
    envelope_frame_seal(&f, k, dst);
    Pvescope__Envelope *env = pvescope__envelope__unpack(NULL, n, dst);
    assert_non_null(env);
    assert_string_equal(env->cluster, h->cluster);
    assert_string_equal(env->node, h->node);
    assert_int_equal(env->seq, h->seq);
    assert_true(env->sent_unix_ms == h->sent_unix_ms);
    assert_int_equal(env->sealed_report.len, len + 16);
    if (h->boot_id && *h->boot_id)
        assert_string_equal(env->boot_id, h->boot_id);
    else
        assert_null(env->boot_id);
    assert_int_equal(pvescope__envelope__get_packed_size(env), n);
    uint8_t *ref = malloc(n);
    assert_non_null(ref);
    assert_int_equal(pvescope__envelope__pack(env, ref), n);
    assert_memory_equal(dst, ref, n);
    struct buf opened = BUF_INIT;
    assert_true(envelope_open(k, env, &opened));
    assert_int_equal(opened.len, len);
    if (len)
        assert_memory_equal(opened.data, plain, len);
    buf_free(&opened);
    pvescope__envelope__free_unpacked(env, NULL);
    free(ref);
    free(dst);
}

static void t_seal_in_place(void **state)
{
    (void)state;
    assert_true(seal_library_init());
    struct cluster_key k;
    memset(k.bytes, 7, sizeof k.bytes);
    char long_name[200];
    memset(long_name, 'n', sizeof long_name - 1);      /* a 2-byte length varint */
    long_name[sizeof long_name - 1] = '\0';
    const struct envelope_header hs[] = {
        {"prod", "pve1", "0b5e1d4c-0000-4000-8000-000000000001", 42, 1700000000123},
        {"c", "n", "", 0, 0},                          /* boot id left out */
        {long_name, long_name, NULL, UINT64_MAX, -1},  /* 10-byte varints */
    };
    /* Sealed lengths 16, 17, 127/128 and 16383/16384 cross varint widths. */
    const size_t lens[] = {0, 1, 111, 112, 16367, 16368, 90000};
    uint8_t *plain = malloc(90000);
    assert_non_null(plain);
    for (size_t i = 0; i < 90000; i++)
        plain[i] = (uint8_t)(i * 131 + 7);
    for (size_t h = 0; h < sizeof hs / sizeof hs[0]; h++)
        for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++)
            check_frame(&k, &hs[h], plain, lens[l]);

    /* envelope_seal (the copying form) appends the same layout to a buffer. */
    struct buf wire = BUF_INIT;
    buf_puts(&wire, "xy");
    envelope_seal(&k, &hs[0], plain, 300, &wire);
    Pvescope__Envelope *env = pvescope__envelope__unpack(NULL, wire.len - 2, (const uint8_t *)wire.data + 2);
    assert_non_null(env);
    struct buf opened = BUF_INIT;
    assert_true(envelope_open(&k, env, &opened));
    assert_int_equal(opened.len, 300);
    assert_memory_equal(opened.data, plain, 300);
    pvescope__envelope__free_unpacked(env, NULL);
    buf_free(&opened);
    buf_free(&wire);
    free(plain);
}

static void t_arena(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 1024);
    char *s1 = arena_strdup(&a, "abc");
    char *s2 = arena_strndup(&a, "defgh", 2);
    assert_ptr_equal(s2, s1 + 4);                  /* strings packed, no padding */
    assert_string_equal(s2, "de");
    unsigned char *p = arena_alloc(&a, 24);
    assert_int_equal((uintptr_t)p % 16, 0);         /* structs stay 16-byte aligned */
    assert_true(p >= (unsigned char *)s2 + 3);
    for (int i = 0; i < 24; i++)
        assert_int_equal(p[i], 0);
    memset(p, 0xff, 24);
    unsigned char *big = arena_alloc(&a, 3000);     /* larger than a block: its own */
    assert_int_equal((uintptr_t)big % 16, 0);
    big[2999] = 1;
    char *s3 = arena_strdup(&a, "after");
    assert_string_equal(s1, "abc");
    assert_string_equal(s3, "after");
    assert_int_equal(p[23], 0xff);
    size_t reserved = arena_bytes_reserved(&a);
    arena_reset(&a);
    char *again = arena_strdup(&a, "xyz");
    assert_ptr_equal(again, s1);                    /* reused from the first block */
    unsigned char *q = arena_alloc(&a, 24);
    assert_ptr_equal(q, p);                         /* same layout, re-zeroed */
    assert_int_equal(q[0], 0);
    assert_int_equal(arena_bytes_reserved(&a), reserved);
    arena_free(&a);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");      /* truncates in place: same inode, like /proc */
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void t_file_cache(void **state)
{
    (void)state;
    char dir[] = "/tmp/pvescope-fc-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[160];
    snprintf(path, sizeof path, "%s/stat", dir);
    struct file_cache fc;
    file_cache_init(&fc);
    struct buf b = BUF_INIT;
    assert_int_equal(file_cache_read(&fc, dir, "stat", &b, FILE_MULTI_RECORD), -ENOENT);
    assert_int_equal(fc.n, 0);                               /* a miss is not cached */
    write_text(path, "cpu 1 2 3\n");
    assert_int_equal(file_cache_read(&fc, dir, "stat", &b, FILE_ONE_RECORD), 0);
    assert_string_equal(b.data, "cpu 1 2 3\n");
    assert_int_equal(fc.n, 1);
    write_text(path, "cpu 4 5 6 7\n");                      /* re-read from offset 0 */
    assert_int_equal(file_cache_read(&fc, dir, "/stat", &b, FILE_ONE_RECORD), 0);
    assert_string_equal(b.data, "cpu 4 5 6 7\n");
    assert_int_equal(fc.n, 1);
    /* A multi-record file is read once per cycle: a second read in the same
     * cycle is served from memory, the next cycle reads the file again. */
    assert_int_equal(file_cache_read(&fc, dir, "stat", &b, FILE_MULTI_RECORD), 0);
    assert_string_equal(b.data, "cpu 4 5 6 7\n");
    write_text(path, "cpu 8\n");
    assert_int_equal(file_cache_read(&fc, dir, "stat", &b, FILE_MULTI_RECORD), 0);
    assert_string_equal(b.data, "cpu 4 5 6 7\n");
    assert_int_equal(file_cache_read(&fc, dir, "stat", &b, FILE_ONE_RECORD), 0);
    assert_string_equal(b.data, "cpu 8\n");              /* one-record reads are never memoized */
    file_cache_next_cycle(&fc);
    assert_int_equal(file_cache_read(&fc, dir, "stat", &b, FILE_MULTI_RECORD), 0);
    assert_string_equal(b.data, "cpu 8\n");
    /* file_cache_records hands out the cache's own text: the same bytes to
     * every reader of a cycle, nothing copied into the fallback buffer. */
    const char *t1, *t2;
    size_t l1, l2;
    struct buf fallback = BUF_INIT;
    write_text(path, "cpu 9 10\n");
    assert_int_equal(file_cache_records(&fc, dir, "stat", &fallback, &t1, &l1), 0);
    assert_string_equal(t1, "cpu 8\n");                   /* read earlier this cycle */
    file_cache_next_cycle(&fc);
    assert_int_equal(file_cache_records(&fc, dir, "stat", &fallback, &t1, &l1), 0);
    assert_string_equal(t1, "cpu 9 10\n");
    assert_int_equal(l1, 9);
    assert_int_equal(file_cache_records(&fc, dir, "stat", &fallback, &t2, &l2), 0);
    assert_ptr_equal(t1, t2);
    assert_int_equal(l2, 9);
    assert_null(fallback.data);
    assert_int_equal(file_cache_records(&fc, dir, "missing", &fallback, &t1, &l1), -ENOENT);
    assert_string_equal(t1, "");
    /* More files than the cache holds are still read, uncached. */
    for (int i = 0; i < FILE_CACHE_MAX + 3; i++) {
        char rel[32], full[200], want[32];
        snprintf(rel, sizeof rel, "f%d", i);
        snprintf(full, sizeof full, "%s/%s", dir, rel);
        snprintf(want, sizeof want, "file %d\n", i);
        write_text(full, want);
        assert_int_equal(file_cache_read(&fc, dir, rel, &b, FILE_MULTI_RECORD), 0);
        assert_string_equal(b.data, want);
    }
    assert_int_equal(fc.n, FILE_CACHE_MAX);
    char last_rel[32], last_want[32];                    /* not cached: read into the fallback */
    snprintf(last_rel, sizeof last_rel, "f%d", FILE_CACHE_MAX + 2);
    snprintf(last_want, sizeof last_want, "file %d\n", FILE_CACHE_MAX + 2);
    assert_int_equal(file_cache_records(&fc, dir, last_rel, &fallback, &t1, &l1), 0);
    assert_ptr_equal(t1, fallback.data);
    assert_string_equal(t1, last_want);
    assert_int_equal(l1, strlen(last_want));
    buf_free(&fallback);
    for (int i = 0; i < FILE_CACHE_MAX + 3; i++) {
        char full[200];
        snprintf(full, sizeof full, "%s/f%d", dir, i);
        unlink(full);
    }
    file_cache_free(&fc);
    buf_free(&b);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_parse_duration), cmocka_unit_test(t_parse_bytes),
        cmocka_unit_test(t_flag_value), cmocka_unit_test(t_buf_numbers),
        cmocka_unit_test(t_numfmt_matches_printf),
        cmocka_unit_test(t_key_roundtrip), cmocka_unit_test(t_key_file_create),
        cmocka_unit_test(t_keyring), cmocka_unit_test(t_seal_open), cmocka_unit_test(t_seal_in_place), cmocka_unit_test(t_arena), cmocka_unit_test(t_file_cache),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
