/* test_netdev.c — unit tests of the "netdev" collector and parse_netdev().
 *
 * host1/proc/net/dev: lo, eno1, eno2, bond0, vmbr0 and the guest plumbing
 * tap100i0, fwbr100i0, fwpr100p0, fwln100i0, veth101i0 (excluded by
 * default). edge/proc/net/dev: see tests/fixtures/edge/README.md. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc_test_util.h"

#define HDR "Inter-|   Receive                                                |  Transmit\n" \
            " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"

static void assert_names(const Pvescope__Report *r, const char *const *names, size_t n)
{
    if (r->n_netdevs != n)
        fail_msg("%zu interfaces, expected %zu", r->n_netdevs, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(r->netdevs[i]->name, names[i]);
}

static void test_collect_host1(void **unused)
{
    (void)unused;
    struct fx f;
    fx_open(&f, &collector_netdev, FX_HOST1_PROC, FX_HOST1_SYS);
    assert_string_equal(collector_netdev.name, "netdev");
    assert_int_equal(fx_collect(&f), 0);
    assert_string_equal(f.ctx.err, "");
    static const char *const want[] = {"lo", "eno1", "eno2", "bond0", "vmbr0"};
    assert_names(&f.r, want, 5);
    const Pvescope__NetDev *d = f.r.netdevs[1];          /* eno1, all 16 counters */
    assert_true(d->has_rx_bytes && d->rx_bytes == 982375621234ULL);
    assert_true(d->has_rx_packets && d->rx_packets == 702934112);
    assert_true(d->has_rx_errs && d->rx_errs == 0);
    assert_true(d->has_rx_drop && d->rx_drop == 12);
    assert_true(d->has_rx_fifo && d->rx_fifo == 0);
    assert_true(d->has_rx_frame && d->rx_frame == 0);
    assert_true(d->has_rx_compressed && d->rx_compressed == 0);
    assert_true(d->has_rx_multicast && d->rx_multicast == 1203443);
    assert_true(d->has_tx_bytes && d->tx_bytes == 221837461237ULL);
    assert_true(d->has_tx_packets && d->tx_packets == 410223874);
    assert_true(d->has_tx_errs && d->tx_errs == 0);
    assert_true(d->has_tx_drop && d->tx_drop == 0);
    assert_true(d->has_tx_fifo && d->tx_fifo == 0);
    assert_true(d->has_tx_colls && d->tx_colls == 0);
    assert_true(d->has_tx_carrier && d->tx_carrier == 0);
    assert_true(d->has_tx_compressed && d->tx_compressed == 0);
    assert_true(f.r.netdevs[3]->rx_bytes == 1030588998336ULL);   /* bond0 */
    Pvescope__Report *back = fx_roundtrip(&f);
    assert_int_equal(back->n_netdevs, 5);
    assert_true(back->netdevs[4]->tx_packets == 399812211);       /* vmbr0 */
    pvescope__report__free_unpacked(back, NULL);
    fx_close(&f);
}

static void test_collect_edge_skips_bad_rows(void **unused)
{
    (void)unused;
    struct fx f;
    fx_open(&f, &collector_netdev, FX_EDGE_PROC, FX_NO_SYS);
    assert_int_equal(fx_collect(&f), 0);
    assert_err_contains(f.ctx.err, "/edge/proc/net/dev: skipped 2 bad row(s), first at line 5");
    assert_err_contains(f.ctx.err, "eno2");
    static const char *const want[] = {"lo", "eno1", "vmbr0"};
    assert_names(&f.r, want, 3);
    fx_close(&f);
}

static void test_collect_missing_file(void **unused)
{
    (void)unused;
    struct fx f;
    fx_open(&f, &collector_netdev, FX_MISSING, FX_NO_SYS);
    assert_int_equal(fx_collect(&f), -1);
    assert_err_contains(f.ctx.err, "/does-not-exist/proc/net/dev: No such file");
    assert_int_equal(f.r.n_netdevs, 0);
    fx_close(&f);
}

/* Writes text as <dir>/net/dev under a fresh temporary procfs. */
static void write_tmp_netdev(char dir[64], const char *text)
{
    snprintf(dir, 64, "/tmp/pvescope-netdev-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/net", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/net/dev", dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
}

static void remove_tmp_netdev(const char *dir)
{
    char path[128];
    snprintf(path, sizeof path, "%s/net/dev", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/net", dir);
    rmdir(path);
    rmdir(dir);
}

#define ROW(n) n ": 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"

/* The default exclude pattern is ^(fwbr|fwln|fwpr|tap|veth)[0-9]: only
 * those prefixes followed by a digit, anchored at the start. */
static void test_collect_default_exclude_boundaries(void **unused)
{
    (void)unused;
    char dir[64];
    write_tmp_netdev(dir, HDR ROW("tap0") ROW("tapx") ROW("fwbr1i0") ROW("fwbrx") ROW("fwln7o0")
                              ROW("fwpr100p1") ROW("veth1") ROW("vethx") ROW("vmtap0") ROW("xtap0")
                              ROW("eth0") ROW("fw0"));
    struct fx f;
    fx_open(&f, &collector_netdev, dir, FX_NO_SYS);
    int rc = fx_collect(&f);
    remove_tmp_netdev(dir);          /* before any assert can leave the test */
    assert_int_equal(rc, 0);
    static const char *const want[] = {"tapx", "fwbrx", "vethx", "vmtap0", "xtap0", "eth0", "fw0"};
    assert_names(&f.r, want, sizeof want / sizeof want[0]);
    fx_close(&f);
}

static void test_parse_formats_and_limits(void **unused)
{
    (void)unused;
    struct arena a;
    arena_init(&a, 1024);
    Pvescope__NetDev **devs;
    size_t n;
    struct parse_err e = {0};
    /* old kernels: no blank after the colon; 15-char name is the maximum;
     * 2^64-1 counters */
    const char *t = HDR
        "  eth0:1234567890123 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
        "abcdefghijklmno: 18446744073709551615 2 3 4 5 6 7 8 9 10 11 12 13 14 15 18446744073709551615\n"
        "abcdefghijklmnop: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"       /* 16 chars */
        "  eth1: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n"              /* 17 counters */
        "  eth2: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 18446744073709551616\n"
        "  eth3 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"                  /* no colon */
        "   : 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"                    /* no name */
        "  tap9i0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n";
    assert_int_equal(parse_netdev(t, &a, false, &devs, &n, &e), 3);
    assert_int_equal(e.bad_rows, 5);
    assert_int_equal(e.line, 5);
    assert_int_equal(n, 3);                                    /* no exclude: tap kept */
    assert_string_equal(devs[0]->name, "eth0");
    assert_true(devs[0]->rx_bytes == 1234567890123ULL);
    assert_true(devs[0]->tx_compressed == 16);
    assert_string_equal(devs[1]->name, "abcdefghijklmno");
    assert_true(devs[1]->rx_bytes == UINT64_MAX);
    assert_true(devs[1]->tx_compressed == UINT64_MAX);
    assert_string_equal(devs[2]->name, "tap9i0");
    arena_free(&a);
}

/* Excluded rows are skipped before their counters are parsed: a malformed
 * tap row costs nothing with the exclusion on and is a bad row without it. */
static void test_parse_excluded_rows_unparsed(void **unused)
{
    (void)unused;
    struct arena a;
    arena_init(&a, 1024);
    Pvescope__NetDev **devs;
    size_t n;
    const char *t = HDR "  tap100i0: 1 2 x\n" ROW("  vmbr0") ROW("  fwpr100p0");
    struct parse_err e = {0};
    assert_int_equal(parse_netdev(t, &a, true, &devs, &n, &e), 3);
    assert_int_equal(e.bad_rows, 0);
    assert_int_equal(n, 1);
    assert_string_equal(devs[0]->name, "vmbr0");
    struct parse_err e2 = {0};
    assert_int_equal(parse_netdev(t, &a, false, &devs, &n, &e2), 2);
    assert_int_equal(e2.bad_rows, 1);
    assert_int_equal(n, 2);
    arena_free(&a);
}

static void test_parse_rejects_whole_file(void **unused)
{
    (void)unused;
    struct arena a;
    arena_init(&a, 1024);
    Pvescope__NetDev **devs;
    size_t n;
    static const char *const bad[] = {
        "",
        "    lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",          /* no header */
        "Inter-|   Receive\n",                                        /* half a header */
        "Inter-|   Receive\nbogus\n    lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
        "bogus\n face |bytes\n    lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n",
        HDR,                                                          /* no rows */
        HDR "    lo: 1 2 3\n",                                        /* no valid row */
        HDR "    lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16",         /* truncated */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct parse_err e = {0};
        if (parse_netdev(bad[i], &a, false, &devs, &n, &e) != -1)
            fail_msg("case %zu accepted: %s", i, bad[i]);
        assert_true(e.msg[0] != '\0');
        assert_int_equal(n, 0);
    }
    arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_collect_host1),
        cmocka_unit_test(test_collect_edge_skips_bad_rows),
        cmocka_unit_test(test_collect_missing_file),
        cmocka_unit_test(test_collect_default_exclude_boundaries),
        cmocka_unit_test(test_parse_excluded_rows_unparsed),
        cmocka_unit_test(test_parse_formats_and_limits),
        cmocka_unit_test(test_parse_rejects_whole_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
