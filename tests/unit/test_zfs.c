/* test_zfs.c — the zfs collector's kstat parsers on inline text, and the
 * collector on the tests/fixtures/zfs trees (see the README there). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "proc_test_util.h"
#include "zfs_parsers.h"

#define FX_ZFS_MIXED  FIXTURES "/zfs/mixed/proc"
#define FX_ZFS_BADARC FIXTURES "/zfs/badarc/proc"

/* ---- named kstat parser ------------------------------------------------------ */

struct rows {
    int n;
    char names[8][32];
    struct zfs_kstat_row row[8];
};

static void keep_row(const struct zfs_kstat_row *row, void *arg)
{
    struct rows *r = arg;
    assert_true(r->n < 8);
    snprintf(r->names[r->n], sizeof r->names[0], "%.*s", (int)row->name_len, row->name);
    r->row[r->n++] = *row;
}

static void t_kstat_every_type(void **state)
{
    (void)state;
    const char *text =
        "41 1 0x01 8 7072 21987350112 1209843413377271\n"
        "name                            type data\n"
        "arc_read_count                  4    18446744073709551615\n"
        "i32                             1    -2147483648\n"
        "u32                             2    4294967295\n"
        "i64                             3    -9223372036854775808\n"
        "long                            5    9223372036854775807\n"
        "ulong                           6    0\n"
        "dataset_name                    7    rpool/data/vm 200 disk\n"
        "chr                             0    abc             \n";
    struct rows r = {0};
    struct parse_err e = {0};
    assert_int_equal(zfs_parse_named_kstat(text, keep_row, &r, &e), 8);
    assert_int_equal(r.n, 8);
    assert_string_equal(r.names[0], "arc_read_count");
    assert_int_equal(r.row[0].type, ZFS_KSTAT_UINT64);
    assert_true(r.row[0].u64 == UINT64_MAX);
    assert_true(r.row[1].i64 == INT32_MIN);
    assert_true(r.row[2].u64 == UINT32_MAX);
    assert_true(r.row[3].i64 == INT64_MIN);
    assert_true(r.row[4].i64 == INT64_MAX);
    assert_true(r.row[5].u64 == 0);
    assert_int_equal(r.row[6].type, ZFS_KSTAT_STRING);
    assert_int_equal(r.row[6].str_len, strlen("rpool/data/vm 200 disk"));
    assert_memory_equal(r.row[6].str, "rpool/data/vm 200 disk", r.row[6].str_len);
    assert_int_equal(r.row[7].str_len, 3);            /* CHAR padding removed */
    assert_memory_equal(r.row[7].str, "abc", 3);
}

/* Each malformed file fails as a whole, with its reason and line, and the
 * callback never runs (no partial counters). */
static void rejects(const char *text, int line, const char *msg)
{
    struct rows r = {0};
    struct parse_err e = {0};
    assert_int_equal(zfs_parse_named_kstat(text, keep_row, &r, &e), -1);
    assert_int_equal(r.n, 0);
    if (e.line != line || strcmp(e.msg, msg) != 0)
        fail_msg("got line %d \"%s\", expected line %d \"%s\"", e.line, e.msg, line, msg);
}

#define HDR1 "9 1 0x01 1 96 4876598223 1209843411283321\n"
#define COLS "name                            type data\n"

static void t_kstat_rejects(void **state)
{
    (void)state;
    rejects("", 0, "empty file");
    rejects(HDR1, 1, "no column line");
    rejects(HDR1 COLS "hits 4 12\n" "misses 4 3\n", 0, "header announces 1 stats, file has 2");
    rejects(HDR1 COLS, 0, "header announces 1 stats, file has 0");
    rejects(HDR1 COLS "hits 4 12", 3, "truncated (last line has no newline)");
    rejects("9 3 0x01 1 96 4876598223 1209843411283321\n" COLS "hits 4 12\n", 1,
            "kstat type 3, not a named kstat (1)");
    rejects("9 1 01 1 96 4876598223 1209843411283321\n" COLS "hits 4 12\n", 1, "malformed kstat header");
    rejects("9 1 0x 1 96 4876598223 1209843411283321\n" COLS "hits 4 12\n", 1, "malformed kstat header");
    rejects("9 1 0x01 1 96 4876598223\n" COLS "hits 4 12\n", 1, "malformed kstat header");
    rejects("9 1 0x01 1 96 4876598223 1 extra\n" COLS "hits 4 12\n", 1, "malformed kstat header");
    rejects(HDR1 "name type value\n" "hits 4 12\n", 2, "expected the column line \"name type data\"");
    rejects(HDR1 COLS "hits 9 12\n", 3, "hits: unknown data type");
    rejects(HDR1 COLS "hits 4 -1\n", 3, "hits: malformed or out-of-range value for type 4");
    rejects(HDR1 COLS "hits 4 18446744073709551616\n", 3, "hits: malformed or out-of-range value for type 4");
    rejects(HDR1 COLS "hits 4 12 13\n", 3, "hits: malformed or out-of-range value for type 4");
    rejects(HDR1 COLS "hits 4 12x\n", 3, "hits: malformed or out-of-range value for type 4");
    rejects(HDR1 COLS "hits 4\n", 3, "hits: malformed or out-of-range value for type 4");
    rejects(HDR1 COLS "u32 2 4294967296\n", 3, "u32: malformed or out-of-range value for type 2");
    rejects(HDR1 COLS "i32 1 -2147483649\n", 3, "i32: malformed or out-of-range value for type 1");
    rejects(HDR1 COLS "i64 3 -9223372036854775809\n", 3, "i64: malformed or out-of-range value for type 3");
    rejects(HDR1 COLS "i64 3 --1\n", 3, "i64: malformed or out-of-range value for type 3");
    rejects(HDR1 COLS "\n", 3, "missing or unprintable stat name");
    rejects(HDR1 COLS "h\x01ts 4 1\n", 3, "missing or unprintable stat name");
}

static void state_is(const char *text, const char *want)
{
    int s = -1;
    struct parse_err e = {0};
    assert_int_equal(zfs_parse_state(text, &s, &e), 0);
    assert_in_range(s, 0, ZFS_STATE_COUNT - 1);
    assert_string_equal(zfs_pool_state_names[s], want);
}

static void state_rejected(const char *text, const char *msg)
{
    int s = -1;
    struct parse_err e = {0};
    assert_int_equal(zfs_parse_state(text, &s, &e), -1);
    assert_string_equal(e.msg, msg);
}

static void t_state(void **state)
{
    (void)state;
    static const char *const all[] = {"ONLINE", "DEGRADED", "FAULTED", "OFFLINE", "REMOVED",
                                      "UNAVAIL", "SUSPENDED", "SPLIT", "TRANSITIONING", "UNKNOWN"};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        char line[32];
        snprintf(line, sizeof line, "%s\n", all[i]);
        state_is(line, all[i]);
    }
    state_rejected("HEALTHY\n", "not a pool state: \"HEALTHY\"");
    state_rejected("online\n", "not a pool state: \"online\"");
    state_rejected("ONLINE DEGRADED\n", "not a pool state: \"ONLINE DEGRADED\"");
    state_rejected("ONLINEX\n", "not a pool state: \"ONLINEX\"");
    state_rejected("\n", "not a pool state: \"\"");
    state_rejected("ON\x1bLINE\n", "not a pool state: \"ON?LINE\"");
    state_rejected("ONLINE", "truncated (no newline)");
    state_rejected("ONLINE\nONLINE\n", "unexpected second line");
    state_rejected("", "empty file");
}

/* ---- collector ----------------------------------------------------------------- */

static const Pvescope__ZfsPool *pool(const Pvescope__Report *r, size_t i, const char *name)
{
    assert_true(i < r->n_zfs_pools);
    assert_string_equal(r->zfs_pools[i]->name, name);
    return r->zfs_pools[i];
}

static void t_collect_mixed(void **state)
{
    (void)state;
    struct fx f;
    fx_open(&f, &collector_zfs, FX_ZFS_MIXED, FX_NO_SYS);
    assert_string_equal(collector_zfs.name, "zfs");
    assert_true(collector_zfs.default_enabled);
    assert_int_equal(fx_collect(&f), 0);
    /* sorted by name; notapool (no state) and the kstat files are not pools */
    assert_int_equal(f.r.n_zfs_pools, 4);
    const Pvescope__ZfsPool *cut = pool(&f.r, 0, "cut");
    assert_string_equal(cut->state, "ONLINE");
    assert_string_equal(cut->error, "iostats: header announces 26 stats, file has 20");
    assert_false(cut->has_arc_read_count || cut->has_arc_read_bytes || cut->has_arc_write_count ||
                 cut->has_arc_write_bytes);
    const Pvescope__ZfsPool *rpool = pool(&f.r, 1, "rpool");
    assert_string_equal(rpool->state, "ONLINE");
    assert_null(rpool->error);
    assert_true(rpool->has_arc_read_count && rpool->arc_read_count == 18234411);
    assert_true(rpool->has_arc_read_bytes && rpool->arc_read_bytes == 901223341568ULL);
    assert_true(rpool->has_arc_write_count && rpool->arc_write_count == 9123344);
    assert_true(rpool->has_arc_write_bytes && rpool->arc_write_bytes == 612334122496ULL);
    const Pvescope__ZfsPool *tank = pool(&f.r, 2, "tank");
    assert_string_equal(tank->state, "DEGRADED");
    assert_null(tank->error);
    assert_false(tank->has_arc_read_count);               /* no iostats: absent, no error */
    const Pvescope__ZfsPool *weird = pool(&f.r, 3, "weird");
    assert_null(weird->state);
    assert_string_equal(weird->error, "state line 1: not a pool state: \"HEALTHY\"");
    /* the node's ARC */
    const Pvescope__ZfsArc *arc = f.r.zfs_arc;
    assert_non_null(arc);
    assert_null(arc->error);
    assert_true(arc->has_size_bytes && arc->size_bytes == 16123344512ULL);
    assert_true(arc->has_min_bytes && arc->min_bytes == 1055306880ULL);
    assert_true(arc->has_max_bytes && arc->max_bytes == 16884910080ULL);
    assert_true(arc->has_hits && arc->hits == 9123441223ULL);
    assert_true(arc->has_misses && arc->misses == 88123344ULL);
    /* a warning naming the first broken pool */
    assert_string_equal(f.ctx.err, "2 of 4 pools unreadable (cut: iostats: header announces 26 stats, file has 20)");
    Pvescope__Report *back = fx_roundtrip(&f);
    assert_int_equal(back->n_zfs_pools, 4);
    assert_true(back->zfs_arc->has_hits);
    pvescope__report__free_unpacked(back, NULL);
    /* the same again on the next cycle (arcstats now from the file cache) */
    struct file_cache fc;
    file_cache_init(&fc);
    f.ctx.files = &fc;
    for (int cycle = 0; cycle < 2; cycle++) {
        file_cache_next_cycle(&fc);
        assert_int_equal(fx_collect(&f), 0);
        assert_int_equal(f.r.n_zfs_pools, 4);
        assert_true(f.r.zfs_arc->has_misses && f.r.zfs_arc->misses == 88123344ULL);
    }
    file_cache_free(&fc);
    fx_close(&f);
}

static void t_collect_bad_arcstats(void **state)
{
    (void)state;
    struct fx f;
    fx_open(&f, &collector_zfs, FX_ZFS_BADARC, FX_NO_SYS);
    assert_int_equal(fx_collect(&f), 0);
    assert_int_equal(f.r.n_zfs_pools, 1);
    assert_string_equal(pool(&f.r, 0, "rpool")->state, "ONLINE");
    assert_null(f.r.zfs_pools[0]->error);
    const Pvescope__ZfsArc *arc = f.r.zfs_arc;
    assert_non_null(arc);
    assert_string_equal(arc->error, "arcstats line 4: misses: malformed or out-of-range value for type 4");
    assert_false(arc->has_hits || arc->has_size_bytes || arc->has_misses);   /* nothing partial */
    assert_string_equal(f.ctx.err, arc->error);
    fx_close(&f);
}

/* ZFS not loaded: no /proc/spl at all. */
static void t_collect_no_zfs(void **state)
{
    (void)state;
    struct fx f;
    fx_open(&f, &collector_zfs, FX_HOST1_PROC, FX_NO_SYS);
    assert_int_equal(fx_collect(&f), 0);
    assert_int_equal(f.r.n_zfs_pools, 0);
    assert_null(f.r.zfs_arc);
    assert_string_equal(f.ctx.err, "");
    fx_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_kstat_every_type), cmocka_unit_test(t_kstat_rejects), cmocka_unit_test(t_state),
        cmocka_unit_test(t_collect_mixed), cmocka_unit_test(t_collect_bad_arcstats),
        cmocka_unit_test(t_collect_no_zfs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
