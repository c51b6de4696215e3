/* test_proc_small.c — unit tests of the one-line collectors: "loadavg",
 * "uptime" and "bootid" (collectors on the fixtures, parsers on strings).
 *
 * host1: loadavg "2.41 2.87 3.02 5/2134 981234", uptime "1206362.58
 * 17147921.33", boot_id 3f6c2a9e-8d41-4b7e-9a15-c02e7d5b4f18. The edge tree
 * has none of these files. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "proc_test_util.h"

/* ---- loadavg ---------------------------------------------------------------- */

static void test_loadavg_collect_host1(void **unused)
{
    (void)unused;
    struct fx f;
    fx_open(&f, &collector_loadavg, FX_HOST1_PROC, FX_HOST1_SYS);
    assert_string_equal(collector_loadavg.name, "loadavg");
    assert_int_equal(fx_collect(&f), 0);
    Pvescope__Host *h = f.r.host;
    assert_non_null(h);
    assert_true(h->has_load1 && h->load1 == 2.41);
    assert_true(h->has_load5 && h->load5 == 2.87);
    assert_true(h->has_load15 && h->load15 == 3.02);
    fx_close(&f);
}

static void test_loadavg_collect_missing(void **unused)
{
    (void)unused;
    struct fx f;
    fx_open(&f, &collector_loadavg, FX_EDGE_PROC, FX_NO_SYS);
    assert_int_equal(fx_collect(&f), -1);
    assert_err_contains(f.ctx.err, "/edge/proc/loadavg: No such file");
    assert_null(f.r.host);
    fx_close(&f);
}

static void test_loadavg_parse(void **unused)
{
    (void)unused;
    struct loadavg la;
    struct parse_err e = {0};
    assert_int_equal(parse_loadavg("0.00 10.50 123.07 1/1 1\n", &la, &e), 0);
    assert_true(la.load1 == 0.0 && la.load5 == 10.5 && la.load15 == 123.07);
    assert_int_equal(la.running, 1);
    assert_int_equal(la.total, 1);
    static const char *const bad[] = {
        "",
        "0.00 0.01 0.05 1/100 42",           /* no newline */
        "0.00 0.01 0.05\n",                  /* short */
        "0.00 0.01 0.05 1/100\n",
        "0.00 0.01 0.05 1-100 42\n",
        "0.00 0.01 0.05 1/100 42 7\n",       /* extra field */
        "0,00 0.01 0.05 1/100 42\n",         /* locale comma */
        "-1.00 0.01 0.05 1/100 42\n",
        "1. 0.01 0.05 1/100 42\n",
        ".5 0.01 0.05 1/100 42\n",
        "nan 0.01 0.05 1/100 42\n",
        "1.0.0 0.01 0.05 1/100 42\n",
        "0.00 0.01 0.05 1/100 42\nextra\n",  /* second line */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&e, 0, sizeof e);
        if (parse_loadavg(bad[i], &la, &e) != -1)
            fail_msg("loadavg case %zu accepted: %s", i, bad[i]);
        assert_true(e.msg[0] != '\0');
    }
}

/* ---- uptime ----------------------------------------------------------------- */

static void test_uptime_collect_host1(void **unused)
{
    (void)unused;
    struct fx f;
    fx_open(&f, &collector_uptime, FX_HOST1_PROC, FX_HOST1_SYS);
    assert_string_equal(collector_uptime.name, "uptime");
    assert_int_equal(fx_collect(&f), 0);
    assert_non_null(f.r.host);
    assert_true(f.r.host->has_uptime_seconds);
    assert_true(f.r.host->uptime_seconds == 1206362.58);
    fx_close(&f);
}

static void test_uptime_collect_missing(void **unused)
{
    (void)unused;
    struct fx f;
    fx_open(&f, &collector_uptime, FX_EDGE_PROC, FX_NO_SYS);
    assert_int_equal(fx_collect(&f), -1);
    assert_err_contains(f.ctx.err, "/edge/proc/uptime: No such file");
    assert_null(f.r.host);
    fx_close(&f);
}

static void test_uptime_parse(void **unused)
{
    (void)unused;
    struct uptime u;
    struct parse_err e = {0};
    assert_int_equal(parse_uptime("350735.47 234388.90\n", &u, &e), 0);
    assert_true(u.uptime_seconds == 350735.47);
    assert_true(u.idle_seconds == 234388.90);
    static const char *const bad[] = {
        "", "350735.47\n", "350735.47 234388.90", "350735.47 234388.90 1\n",
        "350735,47 234388.90\n", "350735.47 2343x8.90\n", "inf 1.0\n",
        "12345678901234567890.1 1.0\n",   /* more than 19 digits */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&e, 0, sizeof e);
        if (parse_uptime(bad[i], &u, &e) != -1)
            fail_msg("uptime case %zu accepted: %s", i, bad[i]);
    }
}

/* ---- bootid ----------------------------------------------------------------- */

static void test_bootid_collect_host1(void **unused)
{
    (void)unused;
    struct fx f;
    fx_open(&f, &collector_bootid, FX_HOST1_PROC, FX_HOST1_SYS);
    assert_string_equal(collector_bootid.name, "bootid");
    assert_int_equal(fx_collect(&f), 0);
    assert_non_null(f.r.host);
    assert_non_null(f.r.host->boot_id);
    assert_string_equal(f.r.host->boot_id, "3f6c2a9e-8d41-4b7e-9a15-c02e7d5b4f18");
    fx_close(&f);
}

static void test_bootid_collect_missing(void **unused)
{
    (void)unused;
    struct fx f;
    fx_open(&f, &collector_bootid, FX_EDGE_PROC, FX_NO_SYS);
    assert_int_equal(fx_collect(&f), -1);
    assert_err_contains(f.ctx.err, "/edge/proc/sys/kernel/random/boot_id: No such file");
    assert_null(f.r.host);
    fx_close(&f);
}

static void test_bootid_parse(void **unused)
{
    (void)unused;
    char id[BOOT_ID_LEN + 1];
    struct parse_err e = {0};
    assert_int_equal(parse_boot_id("00000000-0000-4000-8000-0123456789ab\n", id, &e), 0);
    assert_string_equal(id, "00000000-0000-4000-8000-0123456789ab");
    static const char *const bad[] = {
        "",
        "00000000-0000-4000-8000-0123456789ab",        /* no newline */
        "00000000-0000-4000-8000-0123456789AB\n",      /* upper case */
        "00000000-0000-4000-8000-0123456789a\n",       /* short */
        "00000000-0000-4000-8000-0123456789abc\n",     /* long */
        "000000000-000-4000-8000-0123456789ab\n",      /* dash misplaced */
        "00000000-0000-4000-8000-0123456789ab\nx",     /* trailing text */
        "00000000-0000-4000-8000-01234567\n",          /* newline inside */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&e, 0, sizeof e);
        if (parse_boot_id(bad[i], id, &e) != -1)
            fail_msg("boot id case %zu accepted: %s", i, bad[i]);
        assert_string_equal(id, "");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loadavg_collect_host1),
        cmocka_unit_test(test_loadavg_collect_missing),
        cmocka_unit_test(test_loadavg_parse),
        cmocka_unit_test(test_uptime_collect_host1),
        cmocka_unit_test(test_uptime_collect_missing),
        cmocka_unit_test(test_uptime_parse),
        cmocka_unit_test(test_bootid_collect_host1),
        cmocka_unit_test(test_bootid_collect_missing),
        cmocka_unit_test(test_bootid_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
