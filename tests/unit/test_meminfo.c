/* test_meminfo.c — unit tests of the "meminfo" collector and parse_meminfo().
 *
 * Fixture host1/proc/meminfo is a 128 GiB Proxmox node; every expected value
 * below is the fixture's kB figure × 1024. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "proc_test_util.h"

static int parse(const char *text, Pvescope__Memory *m, struct parse_err *e)
{
    pvescope__memory__init(m);
    memset(e, 0, sizeof *e);
    return parse_meminfo(text, m, e);
}

static void test_collect_host1(void **unused)
{
    (void)unused;
    struct fx f;
    fx_open(&f, &collector_meminfo, FX_HOST1_PROC, FX_HOST1_SYS);
    assert_string_equal(collector_meminfo.name, "meminfo");
    assert_int_equal(fx_collect(&f), 0);
    assert_non_null(f.r.host);
    Pvescope__Memory *m = f.r.host->memory;
    assert_non_null(m);
    assert_true(m->has_total && m->total == 135055532032ULL);              /* 131890168 kB */
    assert_true(m->has_free && m->free == 6404419584ULL);                  /*   6254316 kB */
    assert_true(m->has_available && m->available == 60121337856ULL);       /*  58712244 kB */
    assert_true(m->has_buffers && m->buffers == 422817792ULL);             /*    412908 kB */
    assert_true(m->has_cached && m->cached == 49271840768ULL);             /*  48117032 kB */
    assert_true(m->has_swap_total && m->swap_total == 8589930496ULL);      /*   8388604 kB */
    assert_true(m->has_swap_free && m->swap_free == 8500277248ULL);        /*   8301052 kB */
    assert_true(m->has_shmem && m->shmem == 916713472ULL);                 /*    895228 kB */
    assert_true(m->has_sreclaimable && m->sreclaimable == 5415297024ULL);  /*   5288376 kB */
    fx_close(&f);
}

static void test_collect_empty_file(void **unused)
{
    (void)unused;
    struct fx f;
    fx_open(&f, &collector_meminfo, FX_EDGE_PROC, FX_NO_SYS);
    assert_int_equal(fx_collect(&f), -1);
    assert_err_contains(f.ctx.err, "/edge/proc/meminfo");
    assert_err_contains(f.ctx.err, "empty file");
    assert_null(f.r.host);
    fx_close(&f);
}

static void test_collect_missing_file(void **unused)
{
    (void)unused;
    struct fx f;
    fx_open(&f, &collector_meminfo, FX_MISSING, FX_NO_SYS);
    assert_int_equal(fx_collect(&f), -1);
    assert_err_contains(f.ctx.err, "/does-not-exist/proc/meminfo: No such file");
    fx_close(&f);
}

static void test_parse_missing_keys_stay_unset(void **unused)
{
    (void)unused;
    Pvescope__Memory m;
    struct parse_err e;
    /* An old kernel without MemAvailable/SReclaimable, and a unitless line. */
    const char *t = "MemTotal:        2048 kB\n"
                    "MemFree:            1 kB\n"
                    "HugePages_Total:       0\n"
                    "Active(anon):      12 kB\n";
    assert_int_equal(parse(t, &m, &e), 0);
    assert_true(m.has_total && m.total == 2097152);   /* 2048 × 1024 */
    assert_true(m.has_free && m.free == 1024);
    assert_false(m.has_available);
    assert_false(m.has_buffers);
    assert_false(m.has_cached);
    assert_false(m.has_swap_total);
    assert_false(m.has_swap_free);
    assert_false(m.has_shmem);
    assert_false(m.has_sreclaimable);
}

static void test_parse_largest_value(void **unused)
{
    (void)unused;
    Pvescope__Memory m;
    struct parse_err e;
    /* floor((2^64-1)/1024) kB is the largest value that fits in bytes */
    assert_int_equal(parse("MemTotal: 18014398509481983 kB\n", &m, &e), 0);
    assert_true(m.total == 18446744073709550592ULL);
    assert_int_equal(parse("MemTotal: 18014398509481984 kB\n", &m, &e), -1);
    assert_int_equal(e.line, 1);
}

static void test_parse_rejects(void **unused)
{
    (void)unused;
    Pvescope__Memory m;
    struct parse_err e;
    static const struct {
        const char *text;
        int line;
    } bad[] = {
        {"", 0},
        {"MemFree: 1 kB\n", 0},                                 /* no MemTotal */
        {"MemTotal: 1 kB\nMemFree: 1 kB", 2},                   /* no final newline */
        {"MemTotal: 1 MB\n", 1},                                /* wrong unit */
        {"MemTotal: 1\n", 1},                                   /* missing unit */
        {"MemTotal: 1 kBytes\n", 1},
        {"MemTotal: 1kB\n", 1},                                 /* number glued to unit */
        {"MemTotal: 1 kB extra\n", 1},
        {"MemTotal: -1 kB\n", 1},
        {"MemTotal: 0x10 kB\n", 1},
        {"MemTotal: kB\n", 1},
        {"MemTotal: 1 kB\nMemTotal: 2 kB\n", 2},                /* duplicate */
        {"MemTotal: 1 kB\nno colon here\n", 2},
        {"MemTotal: 1 kB\n: 5 kB\n", 2},                        /* empty key */
        {"MemTotal: 1 kB\nCached: 99999999999999999999 kB\n", 2},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (parse(bad[i].text, &m, &e) != -1)
            fail_msg("case %zu accepted: %s", i, bad[i].text);
        if (e.line != bad[i].line || !e.msg[0])
            fail_msg("case %zu: line %d, expected %d (%s)", i, e.line, bad[i].line, e.msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_collect_host1),
        cmocka_unit_test(test_collect_empty_file),
        cmocka_unit_test(test_collect_missing_file),
        cmocka_unit_test(test_parse_missing_keys_stay_unset),
        cmocka_unit_test(test_parse_largest_value),
        cmocka_unit_test(test_parse_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
