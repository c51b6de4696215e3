/* test_proc_stat.c — unit tests of the "stat" collector and parse_proc_stat().
 *
 * Fixtures: host1/proc/stat (16 CPUs, 10-column cpu line) and host2/proc/stat,
 * the same host 15 s later. Aggregate deltas host1 → host2 (USER_HZ 100,
 * 16 CPUs: Δtotal = 15 s × 100 × 16 = 24000 ticks):
 *   user +4200, nice +300, system +1200, idle +17400, iowait +600,
 *   irq +60, softirq +240, steal +0 (guest +900, guest_nice +0)
 *   used  = 4200 + 300 + 1200 + 60 + 240 + 0 = 6000
 *   total = 6000 + 17400 + 600 = 24000
 *   cpu_usage_ratio = 6000 / 24000 = 0.25, iowait_ratio = 600 / 24000 = 0.025 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <unistd.h>

#include "proc_test_util.h"

/* ---- parser on inline text ---------------------------------------------- */

static int parse(const char *text, struct proc_stat *s, struct parse_err *e)
{
    memset(e, 0, sizeof *e);
    return parse_proc_stat(text, s, e);
}

static void test_parse_minimal_modern(void **unused)
{
    (void)unused;
    struct proc_stat s;
    struct parse_err e;
    const char *t = "cpu  10 20 30 40 50 60 70 80 90 100\n"
                    "cpu0 10 20 30 40 50 60 70 80 90 100\n"
                    "cpu1 0 0 0 0 0 0 0 0 0 0\n"
                    "intr 5 1 2 2\n"
                    "ctxt 18446744073709551615\n"
                    "btime 1768573712\n"
                    "processes 7\n"
                    "procs_running 3\n"
                    "procs_blocked 4294967295\n";
    assert_int_equal(parse(t, &s, &e), 0);
    assert_int_equal(s.cpu_columns, 10);
    assert_int_equal(s.cpu_count, 2);
    for (int i = 0; i < 10; i++)
        assert_int_equal(s.cpu[i], (uint64_t)(10 * (i + 1)));
    assert_true(s.has_ctxt);
    assert_true(s.ctxt == UINT64_MAX);            /* 2^64-1 round-trips */
    assert_int_equal(s.btime, 1768573712);
    assert_int_equal(s.processes, 7);
    assert_int_equal(s.procs_running, 3);
    assert_int_equal(s.procs_blocked, UINT32_MAX);
}

static void test_parse_old_kernel_four_columns(void **unused)
{
    (void)unused;
    struct proc_stat s;
    struct parse_err e;
    assert_int_equal(parse("cpu  1 2 3 4\ncpu0 1 2 3 4\n", &s, &e), 0);
    assert_int_equal(s.cpu_columns, 4);
    assert_int_equal(s.cpu[3], 4);
    assert_int_equal(s.cpu[4], 0);
    assert_false(s.has_ctxt);
    assert_false(s.has_btime);
    /* 8 columns (2.6.11 .. 2.6.23: steal, no guest) */
    assert_int_equal(parse("cpu 1 2 3 4 5 6 7 8\ncpu0 1 2 3 4 5 6 7 8\n", &s, &e), 0);
    assert_int_equal(s.cpu_columns, 8);
}

static void test_parse_future_extra_column_ignored(void **unused)
{
    (void)unused;
    struct proc_stat s;
    struct parse_err e;
    assert_int_equal(parse("cpu 1 2 3 4 5 6 7 8 9 10 11\ncpu0 1 2 3 4 5 6 7 8 9 10 11\n", &s, &e), 0);
    assert_int_equal(s.cpu_columns, 10);
    assert_int_equal(s.cpu[9], 10);
    /* ... but a malformed extra column is still an error */
    assert_int_equal(parse("cpu 1 2 3 4 5 6 7 8 9 10 1x\ncpu0 1 2 3 4\n", &s, &e), -1);
    assert_int_equal(e.line, 1);
}

static void test_parse_rejects(void **unused)
{
    (void)unused;
    struct proc_stat s;
    struct parse_err e;
    static const struct {
        const char *text;
        int line;
    } bad[] = {
        {"", 0},                                                   /* empty */
        {"cpu 1 2 3 4\ncpu0 1 2 3", 2},                            /* no final newline */
        {"cpu 1 2 3\ncpu0 1 2 3 4\n", 1},                          /* 3 columns */
        {"cpu 1 2 -3 4\ncpu0 1 2 3 4\n", 1},                       /* sign */
        {"cpu 1 2 18446744073709551616 4\ncpu0 1 2 3 4\n", 1},     /* 2^64 */
        {"cpu 1 2 3 4x\ncpu0 1 2 3 4\n", 1},                       /* suffix */
        {"cpu 1 2 3 4\ncpu 1 2 3 4\ncpu0 1 2 3 4\n", 2},           /* duplicate cpu */
        {"cpu0 1 2 3 4\n", 0},                                     /* no aggregate */
        {"cpu 1 2 3 4\n", 0},                                      /* no cpuN */
        {"cpu 1 2 3 4\ncpu0 1 2 3 4\nctxt\n", 3},                  /* no value */
        {"cpu 1 2 3 4\ncpu0 1 2 3 4\nctxt 1 2\n", 3},              /* two values */
        {"cpu 1 2 3 4\ncpu0 1 2 3 4\nprocs_running 4294967296\n", 3},
        {"cpu 1 2 3 4\ncpu0 1 2 3 4\nbtime 9223372036854775808\n", 3},
        {"cpu 1 2 3 4\ncpu0 1 2 3 4\nbtime 1\nbtime 2\n", 4},
        {"cpu 1 2 3 4\n\ncpu0 1 2 3 4\n", 2},                      /* empty line */
    };
    /* cpuN lines are counted, not parsed: their values are never used */
    assert_int_equal(parse("cpu 1 2 3 4\ncpu0 1 2 3 4x\ncpu1 x\n", &s, &e), 0);
    assert_int_equal(s.cpu_count, 2);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (parse(bad[i].text, &s, &e) != -1)
            fail_msg("case %zu accepted: %s", i, bad[i].text);
        assert_true(e.msg[0] != '\0');
        if (e.line != bad[i].line)
            fail_msg("case %zu: line %d, expected %d (%s)", i, e.line, bad[i].line, e.msg);
    }
}

/* ---- ratio --------------------------------------------------------------- */

static void test_ratio_pure(void **unused)
{
    (void)unused;
    struct proc_stat a = {.cpu = {100, 0, 100, 700, 100, 0, 0, 0}, .cpu_columns = 8};
    struct proc_stat b = a;
    double u = -1, w = -1;
    /* Δ: user 30, system 10, idle 50, iowait 10 → used 40/100, iowait 10/100 */
    b.cpu[0] += 30, b.cpu[2] += 10, b.cpu[3] += 50, b.cpu[4] += 10;
    assert_true(proc_stat_cpu_ratio(&a, &b, &u, &w));
    assert_true(u == 0.4);
    assert_true(w == 0.1);
    /* Δtotal 0 → no ratio, outputs untouched */
    u = w = -1;
    assert_false(proc_stat_cpu_ratio(&b, &b, &u, &w));
    assert_true(u == -1 && w == -1);
    /* idle went backwards (e.g. CPU hot-unplug) → no ratio */
    struct proc_stat c = b;
    c.cpu[0] += 1000;
    c.cpu[3] -= 1;
    assert_false(proc_stat_cpu_ratio(&b, &c, &u, &w));
    /* steal counts as used */
    struct proc_stat d = b;
    d.cpu[7] += 25, d.cpu[3] += 75;
    assert_true(proc_stat_cpu_ratio(&b, &d, &u, &w));
    assert_true(u == 0.25);
    assert_true(w == 0.0);
}

/* ---- collector on the fixtures -------------------------------------------- */

static void test_collect_host1(void **unused)
{
    (void)unused;
    struct fx f;
    fx_open(&f, &collector_stat, FX_HOST1_PROC, FX_HOST1_SYS);
    assert_string_equal(collector_stat.name, "stat");
    assert_int_equal(fx_collect(&f), 0);
    Pvescope__Host *h = f.r.host;
    assert_non_null(h);
    assert_non_null(h->cpu);
    /* aggregate line of host1/proc/stat */
    assert_true(h->cpu->has_user && h->cpu->user == 158380520);
    assert_true(h->cpu->has_nice && h->cpu->nice == 660440);
    assert_true(h->cpu->has_system && h->cpu->system == 50200360);
    assert_true(h->cpu->has_idle && h->cpu->idle == 1714760000);
    assert_true(h->cpu->has_iowait && h->cpu->iowait == 4985320);
    assert_true(h->cpu->has_irq && h->cpu->irq == 336840);
    assert_true(h->cpu->has_softirq && h->cpu->softirq == 843640);
    assert_true(h->cpu->has_steal && h->cpu->steal == 0);
    assert_true(h->cpu->has_guest && h->cpu->guest == 65709320);
    assert_true(h->cpu->has_guest_nice && h->cpu->guest_nice == 0);
    assert_true(h->has_cpu_count && h->cpu_count == 16);
    assert_true(h->has_user_hz);
    assert_int_equal(h->user_hz, (uint32_t)sysconf(_SC_CLK_TCK));
    assert_true(h->has_context_switches && h->context_switches == 48211734213ULL);
    assert_true(h->has_forks && h->forks == 91823344);
    assert_true(h->has_procs_running && h->procs_running == 5);
    assert_true(h->has_procs_blocked && h->procs_blocked == 1);
    assert_true(h->has_boot_time_unix && h->boot_time_unix == 1768573712);
    /* first cycle: no previous sample, no ratio */
    assert_false(h->has_cpu_usage_ratio);
    assert_false(h->has_iowait_ratio);
    Pvescope__Report *back = fx_roundtrip(&f);
    assert_true(back->host->cpu->idle == 1714760000);
    pvescope__report__free_unpacked(back, NULL);
    fx_close(&f);
}

static void assert_ratio(struct fx *f, const char *procfs, bool present)
{
    f->ctx.procfs = procfs;
    assert_int_equal(fx_collect(f), 0);
    assert_non_null(f->r.host);
    assert_int_equal(f->r.host->has_cpu_usage_ratio, present);
    assert_int_equal(f->r.host->has_iowait_ratio, present);
    if (present) {
        assert_true(f->r.host->cpu_usage_ratio == 0.25);   /* 6000 / 24000 */
        assert_true(f->r.host->iowait_ratio == 0.025);     /*  600 / 24000 */
    }
}

static void test_collect_ratio_over_interval(void **unused)
{
    (void)unused;
    struct fx f;
    fx_open(&f, &collector_stat, FX_HOST1_PROC, FX_HOST1_SYS);
    assert_ratio(&f, FX_HOST1_PROC, false);   /* first sample */
    assert_ratio(&f, FX_HOST2_PROC, true);    /* host1 → host2: 0.25 / 0.025 */
    assert_ratio(&f, FX_HOST2_PROC, false);   /* Δtotal = 0 */
    assert_ratio(&f, FX_HOST1_PROC, false);   /* counters went backwards: re-baseline */
    assert_ratio(&f, FX_HOST2_PROC, true);    /* from the new baseline */
    fx_close(&f);
}

static void test_collect_truncated(void **unused)
{
    (void)unused;
    struct fx f;
    fx_open(&f, &collector_stat, FX_HOST1_PROC, FX_HOST1_SYS);
    assert_int_equal(fx_collect(&f), 0);
    f.ctx.procfs = FX_EDGE_PROC;
    assert_int_equal(fx_collect(&f), -1);
    assert_err_contains(f.ctx.err, "/edge/proc/stat line 9");   /* cut inside cpu7 */
    assert_err_contains(f.ctx.err, "truncated");
    assert_null(f.r.host);                                     /* nothing reported */
    /* the failed cycle kept the host1 baseline */
    assert_ratio(&f, FX_HOST2_PROC, true);
    fx_close(&f);
}

static void test_collect_missing_file(void **unused)
{
    (void)unused;
    struct fx f;
    fx_open(&f, &collector_stat, FX_MISSING, FX_HOST1_SYS);
    assert_int_equal(fx_collect(&f), -1);
    assert_err_contains(f.ctx.err, "/does-not-exist/proc/stat: ");
    assert_err_contains(f.ctx.err, "No such file");
    assert_null(f.r.host);
    fx_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_minimal_modern),
        cmocka_unit_test(test_parse_old_kernel_four_columns),
        cmocka_unit_test(test_parse_future_extra_column_ignored),
        cmocka_unit_test(test_parse_rejects),
        cmocka_unit_test(test_ratio_pure),
        cmocka_unit_test(test_collect_host1),
        cmocka_unit_test(test_collect_ratio_over_interval),
        cmocka_unit_test(test_collect_truncated),
        cmocka_unit_test(test_collect_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
