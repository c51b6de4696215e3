/* test_pressure.c — unit tests of the "pressure" collector and parse_pressure().
 *
 * host1/proc/pressure: cpu has an all-zero "full" line (kernel >= 5.13), io
 * and memory have both lines. edge/proc has no pressure directory (kernel
 * without PSI); edge/badpsi has a malformed io file. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "proc_test_util.h"

static void assert_resource(const Pvescope__PressureResource *r, uint64_t some_total, double some_avg10,
                            uint64_t full_total, double full_avg10)
{
    assert_non_null(r);
    assert_true(r->has_some_total_us);
    assert_true(r->some_total_us == some_total);
    assert_true(r->has_some_avg10);
    assert_true(r->some_avg10 == some_avg10);
    assert_true(r->has_full_total_us);
    assert_true(r->full_total_us == full_total);
    assert_true(r->has_full_avg10);
    assert_true(r->full_avg10 == full_avg10);
}

static void test_collect_host1(void **unused)
{
    (void)unused;
    struct fx f;
    fx_open(&f, &collector_pressure, FX_HOST1_PROC, FX_HOST1_SYS);
    assert_string_equal(collector_pressure.name, "pressure");
    assert_int_equal(fx_collect(&f), 0);
    assert_non_null(f.r.host);
    Pvescope__Pressure *p = f.r.host->pressure;
    assert_non_null(p);
    assert_resource(p->cpu, 3812644921ULL, 1.24, 0, 0.0);
    assert_resource(p->io, 1048223310ULL, 0.31, 801244817ULL, 0.18);
    assert_resource(p->memory, 18224011ULL, 0.0, 15023340ULL, 0.0);
    fx_close(&f);
}

static void test_collect_no_psi_is_not_an_error(void **unused)
{
    (void)unused;
    struct fx f;
    fx_open(&f, &collector_pressure, FX_EDGE_PROC, FX_NO_SYS);
    assert_int_equal(fx_collect(&f), 0);
    assert_string_equal(f.ctx.err, "");
    assert_null(f.r.host);          /* nothing reported, not even an empty Host */
    fx_close(&f);
}

static void test_collect_malformed_file_fails(void **unused)
{
    (void)unused;
    struct fx f;
    fx_open(&f, &collector_pressure, FIXTURES "/edge/badpsi/proc", FX_NO_SYS);
    assert_int_equal(fx_collect(&f), -1);
    assert_err_contains(f.ctx.err, "/edge/badpsi/proc/pressure/io line 1");
    assert_null(f.r.host);
    fx_close(&f);
}

static void test_parse_without_full_line(void **unused)
{
    (void)unused;
    Pvescope__PressureResource r;
    pvescope__pressure_resource__init(&r);
    struct parse_err e = {0};
    assert_int_equal(parse_pressure("some avg10=12.50 avg60=0.00 avg300=100.00 total=18446744073709551615\n",
                                    &r, &e), 0);
    assert_true(r.has_some_total_us && r.some_total_us == UINT64_MAX);
    assert_true(r.has_some_avg10 && r.some_avg10 == 12.5);
    assert_false(r.has_full_total_us);
    assert_false(r.has_full_avg10);
}

static void test_parse_rejects(void **unused)
{
    (void)unused;
    static const struct {
        const char *text;
        int line;
    } bad[] = {
        {"", 0},
        {"full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", 0},               /* no some */
        {"some avg10=0.00 avg60=0.00 avg300=0.00 total=0", 1},                 /* no newline */
        {"some avg10=0.00 avg60=0.00 total=0\n", 1},                           /* field missing */
        {"some avg10=x avg60=0.00 avg300=0.00 total=0\n", 1},
        {"some avg10=0.00 avg60=0.00 avg300=0.00 total=-1\n", 1},
        {"some avg10=0.00 avg60=0.00 avg300=0.00 total=18446744073709551616\n", 1},
        {"some avg10=0.00 avg60=0.00 avg300=0.00 total=1 x\n", 1},
        {"someavg10=0.00 avg60=0.00 avg300=0.00 total=1\n", 1},
        {"some avg60=0.00 avg10=0.00 avg300=0.00 total=1\n", 1},               /* order */
        {"some avg10=0.00 avg60=0.00avg300=0.00 total=1\n", 1},                /* glued */
        {"some avg10=0.00avg60=0.00 avg300=0.00 total=1\n", 1},
        {"some avg10=0.00 avg60=0.00 avg300=0.00 total=1\n"
         "some avg10=0.00 avg60=0.00 avg300=0.00 total=1\n", 2},               /* duplicate */
        {"some avg10=0.00 avg60=0.00 avg300=0.00 total=1\n"
         "half avg10=0.00 avg60=0.00 avg300=0.00 total=1\n", 2},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        Pvescope__PressureResource r;
        pvescope__pressure_resource__init(&r);
        struct parse_err e = {0};
        if (parse_pressure(bad[i].text, &r, &e) != -1)
            fail_msg("case %zu accepted: %s", i, bad[i].text);
        if (e.line != bad[i].line || !e.msg[0])
            fail_msg("case %zu: line %d, expected %d (%s)", i, e.line, bad[i].line, e.msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_collect_host1),
        cmocka_unit_test(test_collect_no_psi_is_not_an_error),
        cmocka_unit_test(test_collect_malformed_file_fails),
        cmocka_unit_test(test_parse_without_full_line),
        cmocka_unit_test(test_parse_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
