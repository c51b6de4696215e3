/* test_diskstats.c — unit tests of the "diskstats" collector and its parsers.
 *
 * host1: /proc/diskstats has loop0, nvme0n1 (+p1..p3), nvme1n1, sda (+sda1),
 * dm-0..dm-5 and a ZFS zvol zd0 (+zd0p1), all 20-field rows; host1/sys/block
 * has the whole disks with their partitions one level down, and dm-N/dm/name.
 * zd0p1 is a partition the name heuristic does not know: only the sysfs check
 * drops it. edge/proc/diskstats is
 * read with no sysfs (name heuristic) — see tests/fixtures/edge/README.md. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "proc_test_util.h"

static void assert_names(const Pvescope__Report *r, const char *const *names, size_t n)
{
    if (r->n_disks != n)
        fail_msg("%zu disks, expected %zu", r->n_disks, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(r->disks[i]->name, names[i]);
}

static const Pvescope__Disk *find(const Pvescope__Report *r, const char *name)
{
    for (size_t i = 0; i < r->n_disks; i++)
        if (strcmp(r->disks[i]->name, name) == 0)
            return r->disks[i];
    fail_msg("disk %s not reported", name);
    return NULL;
}

static void test_collect_host1(void **unused)
{
    (void)unused;
    struct fx f;
    fx_open(&f, &collector_diskstats, FX_HOST1_PROC, FX_HOST1_SYS);
    assert_string_equal(collector_diskstats.name, "diskstats");
    assert_int_equal(fx_collect(&f), 0);
    assert_string_equal(f.ctx.err, "");
    static const char *const want[] = {"nvme0n1", "nvme1n1", "sda", "dm-0", "dm-1",
                                       "dm-2", "dm-3", "dm-4", "dm-5", "zd0"};
    assert_names(&f.r, want, sizeof want / sizeof want[0]);
    static const char *const dm[] = {"pve-swap", "pve-root", "pve-data_tmeta", "pve-data_tdata",
                                     "pve-data-tpool", "pve-vm--100--disk--0"};
    for (int i = 0; i < 6; i++) {
        assert_non_null(f.r.disks[3 + i]->dm_name);
        assert_string_equal(f.r.disks[3 + i]->dm_name, dm[i]);
    }
    for (int i = 0; i < 3; i++)
        assert_null(f.r.disks[i]->dm_name);
    assert_null(f.r.disks[9]->dm_name);
    /* nvme0n1, all 17 columns, in kernel order */
    const Pvescope__Disk *d = f.r.disks[0];
    assert_true(d->has_reads_completed && d->reads_completed == 48213377);
    assert_true(d->has_reads_merged && d->reads_merged == 1822);
    assert_true(d->has_sectors_read && d->sectors_read == 3917823042ULL);
    assert_true(d->has_read_time_ms && d->read_time_ms == 9823114);
    assert_true(d->has_writes_completed && d->writes_completed == 391822004);
    assert_true(d->has_writes_merged && d->writes_merged == 11823344);
    assert_true(d->has_sectors_written && d->sectors_written == 8823144312ULL);
    assert_true(d->has_write_time_ms && d->write_time_ms == 211834221);
    assert_true(d->has_io_in_progress && d->io_in_progress == 0);
    assert_true(d->has_io_time_ms && d->io_time_ms == 90233120);
    assert_true(d->has_io_weighted_time_ms && d->io_weighted_time_ms == 223812944);
    assert_true(d->has_discards_completed && d->discards_completed == 1822331);
    assert_true(d->has_discards_merged && d->discards_merged == 0);
    assert_true(d->has_sectors_discarded && d->sectors_discarded == 918223344);
    assert_true(d->has_discard_time_ms && d->discard_time_ms == 22101);
    assert_true(d->has_flushes_completed && d->flushes_completed == 5402201);
    assert_true(d->has_flush_time_ms && d->flush_time_ms == 31822);
    assert_true(find(&f.r, "nvme1n1")->io_in_progress == 3);
    Pvescope__Report *back = fx_roundtrip(&f);
    assert_int_equal(back->n_disks, 10);
    assert_string_equal(back->disks[8]->dm_name, "pve-vm--100--disk--0");
    pvescope__report__free_unpacked(back, NULL);
    fx_close(&f);
}

static void test_collect_edge_skips_bad_rows(void **unused)
{
    (void)unused;
    struct fx f;
    fx_open(&f, &collector_diskstats, FX_EDGE_PROC, FX_NO_SYS);
    /* partial success: the good rows are reported, the bad ones counted */
    assert_int_equal(fx_collect(&f), 0);
    assert_err_contains(f.ctx.err, "/edge/proc/diskstats: skipped 4 bad row(s), first at line 4");
    static const char *const want[] = {"nvme0n1", "sda", "sdc", "dm-0"};
    assert_names(&f.r, want, 4);

    const Pvescope__Disk *sda = find(&f.r, "sda");       /* 2^64-1 round-trips */
    assert_true(sda->reads_completed == UINT64_MAX);
    assert_true(sda->sectors_read == UINT64_MAX);
    assert_true(sda->io_weighted_time_ms == UINT64_MAX);
    assert_true(sda->flush_time_ms == UINT64_MAX - 1);

    const Pvescope__Disk *sdc = find(&f.r, "sdc");       /* 14 fields: classic only */
    assert_true(sdc->has_io_weighted_time_ms && sdc->io_weighted_time_ms == 13422);
    assert_false(sdc->has_discards_completed);
    assert_false(sdc->has_discard_time_ms);
    assert_false(sdc->has_flushes_completed);
    assert_false(sdc->has_flush_time_ms);

    const Pvescope__Disk *dm0 = find(&f.r, "dm-0");      /* 18 fields: + discards */
    assert_true(dm0->has_discard_time_ms && dm0->discard_time_ms == 102);
    assert_false(dm0->has_flushes_completed);
    assert_null(dm0->dm_name);                            /* no sysfs */

    Pvescope__Report *back = fx_roundtrip(&f);            /* ... and over the wire */
    assert_true(back->disks[1]->reads_completed == UINT64_MAX);
    assert_true(back->disks[1]->flush_time_ms == UINT64_MAX - 1);
    assert_false(back->disks[2]->has_discards_completed);
    pvescope__report__free_unpacked(back, NULL);
    fx_close(&f);
}

static void test_collect_missing_file(void **unused)
{
    (void)unused;
    struct fx f;
    fx_open(&f, &collector_diskstats, FX_MISSING, FX_NO_SYS);
    assert_int_equal(fx_collect(&f), -1);
    assert_err_contains(f.ctx.err, "/does-not-exist/proc/diskstats: No such file");
    assert_int_equal(f.r.n_disks, 0);
    fx_close(&f);
}

static void test_parse_row(void **unused)
{
    (void)unused;
    struct diskstats_row row;
    char msg[128];
    const char *ok = "   8       0 sda 1 2 3 4 5 6 7 8 9 10 11";
    assert_int_equal(parse_diskstats_row(ok, strlen(ok), &row, msg, sizeof msg), 0);
    assert_int_equal(row.major, 8);
    assert_int_equal(row.minor, 0);
    assert_string_equal(row.name, "sda");
    assert_int_equal(row.nv, 11);
    assert_int_equal(row.v[10], 11);
    /* the length bounds the row: the text after it is not read */
    const char *longer = "8 0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15";
    assert_int_equal(parse_diskstats_row(longer, 31, &row, msg, sizeof msg), 0);
    assert_int_equal(row.nv, 11);
    /* a 31-character name is the kernel maximum */
    const char *n31 = "8 0 abcdefghijklmnopqrstuvwxyz01234 1 2 3 4 5 6 7 8 9 10 11";
    assert_int_equal(parse_diskstats_row(n31, strlen(n31), &row, msg, sizeof msg), 0);
    assert_int_equal(strlen(row.name), 31);

    static const char *const bad[] = {
        "8 0 abcdefghijklmnopqrstuvwxyz012345 1 2 3 4 5 6 7 8 9 10 11",  /* 32 chars */
        "8 0 .. 1 2 3 4 5 6 7 8 9 10 11",                                /* unsafe */
        "8 0 a/b 1 2 3 4 5 6 7 8 9 10 11",
        "8 0 sda 1 2 3 4 5 6 7 8 9 10",                                  /* 13 fields */
        "8 0 sda 1 2 3 4 5 6 7 8 9 10 11 12",                            /* 15 */
        "8 0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16",                /* 19 */
        "8 0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18",          /* 21 */
        "8 0 sda 1 2 3 4 5 6 7 8 9 10 -11",
        "8 0 sda 1 2 3 4 5 6 7 8 9 10 11x",
        "8 0 sda 1 2 3 4 5 6 7 8 9 10 18446744073709551616",
        "8 0 sda 1 2 3 4 5 6 7 8 9 10 99999999999999999999999",
        "8 4294967296 sda 1 2 3 4 5 6 7 8 9 10 11",                      /* minor > UINT_MAX */
        "8 0",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        msg[0] = '\0';
        if (parse_diskstats_row(bad[i], strlen(bad[i]), &row, msg, sizeof msg) != -1)
            fail_msg("row case %zu accepted: %s", i, bad[i]);
        assert_true(msg[0] != '\0');
    }
}

static void test_name_rules(void **unused)
{
    (void)unused;
    static const char *const parts[] = {"sda1", "sdab12", "vdb2", "hdc3", "xvda1",
                                        "nvme0n1p1", "nvme12n3p45", "mmcblk0p1"};
    static const char *const wholes[] = {"sda", "vdb", "xvda", "nvme0n1", "nvme0n1p", "mmcblk0",
                                         "mmcblk0boot0", "dm-0", "md0", "md127", "sr0", "nbd0",
                                         "zd16", "rbd0", "sd1"};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        if (!diskstats_name_is_partition(parts[i]))
            fail_msg("%s should be a partition", parts[i]);
    for (size_t i = 0; i < sizeof wholes / sizeof wholes[0]; i++)
        if (diskstats_name_is_partition(wholes[i]))
            fail_msg("%s should not be a partition", wholes[i]);
    assert_true(diskstats_name_excluded("loop0"));
    assert_true(diskstats_name_excluded("loop123"));
    assert_true(diskstats_name_excluded("ram15"));
    assert_true(diskstats_name_excluded("zram0"));
    assert_true(diskstats_name_excluded("fd0"));
    assert_false(diskstats_name_excluded("sda"));
    assert_false(diskstats_name_excluded("dm-0"));
    assert_false(diskstats_name_excluded("loopy0"));
}

/* disk_is_whole_fn for the inline test: only names listed in arg. */
static bool only_listed(const char *name, void *arg)
{
    for (const char *const *p = arg; *p; p++)
        if (strcmp(*p, name) == 0)
            return true;
    return false;
}

static void test_parse_text_with_callback(void **unused)
{
    (void)unused;
    struct arena a;
    arena_init(&a, 1024);
    Pvescope__Disk **disks;
    size_t n;
    struct parse_err e = {0};
    const char *t = "8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n"
                    "8 1 sda1 1 2 3 4 5 6 7 8 9 10 11\n"
                    "7 0 loop0 1 2 3 4 5 6 7 8 9 10 11\n"
                    "43 0 nbd0 1 2 3 4 5 6 7 8 9 10 11\n"
                    "8 16 sdb 1 2 3 4 5 6 7 8 9 10 11\n";
    const char *listed[] = {"sda", "loop0", "nbd0", NULL};
    /* 5 rows parsed; sda1, sdb not whole per the callback; loop0 excluded anyway */
    assert_int_equal(parse_diskstats(t, &a, only_listed, listed, &disks, &n, &e), 5);
    assert_int_equal(e.bad_rows, 0);
    assert_int_equal(n, 2);
    assert_string_equal(disks[0]->name, "sda");
    assert_string_equal(disks[1]->name, "nbd0");
    /* heuristic: sdb is a whole disk too */
    assert_int_equal(parse_diskstats(t, &a, NULL, NULL, &disks, &n, &e), 5);
    assert_int_equal(n, 3);
    assert_string_equal(disks[2]->name, "sdb");
    /* filtered rows are not parsed past the name: a broken partition or
     * loop row costs nothing, a broken whole-disk row is a bad row */
    memset(&e, 0, sizeof e);
    assert_int_equal(parse_diskstats("8 1 sda1 x\n7 0 loop0 1 2\n8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n8 16 sdb 1 x\n",
                                     &a, NULL, NULL, &disks, &n, &e), 3);
    assert_int_equal(e.bad_rows, 1);
    assert_int_equal(e.line, 4);
    assert_int_equal(n, 1);
    assert_string_equal(disks[0]->name, "sda");
    /* nothing usable */
    memset(&e, 0, sizeof e);
    assert_int_equal(parse_diskstats("", &a, NULL, NULL, &disks, &n, &e), -1);
    assert_string_equal(e.msg, "empty file");
    memset(&e, 0, sizeof e);
    assert_int_equal(parse_diskstats("garbage\n8 0 sda 1\n8 0 sdb 1 2 3 4 5 6 7 8 9 10 11", &a, NULL,
                                     NULL, &disks, &n, &e), -1);
    assert_int_equal(n, 0);
    assert_int_equal(e.bad_rows, 3);          /* the last row lacks its newline */
    assert_int_equal(e.line, 1);
    arena_free(&a);
}

/* The device cache follows a changing device set: reordered, shrunk, grown
 * back, and across its periodic refresh. */
static void expect_disks(const struct fx *f, const char *const *names, const char *const *dm, size_t n)
{
    assert_int_equal(f->r.n_disks, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(f->r.disks[i]->name, names[i]);
        if (dm[i])
            assert_string_equal(f->r.disks[i]->dm_name, dm[i]);
        else
            assert_null(f->r.disks[i]->dm_name);
    }
}

static void t_device_cache_follows_changes(void **state)
{
    (void)state;
    static const char *const full[] = {"nvme0n1", "nvme1n1", "sda", "dm-0", "dm-1", "dm-2",
                                       "dm-3", "dm-4", "dm-5", "zd0"};
    static const char *const full_dm[] = {NULL, NULL, NULL, "pve-swap", "pve-root", "pve-data_tmeta",
                                          "pve-data_tdata", "pve-data-tpool", "pve-vm--100--disk--0", NULL};
    static const char *const changed[] = {"dm-3", "dm-0", "sda", "nvme1n1", "nvme0n1"};
    static const char *const changed_dm[] = {"pve-data_tdata", "pve-swap", NULL, NULL, NULL};
    struct fx f;
    fx_open(&f, &collector_diskstats, FX_HOST1_PROC, FX_HOST1_SYS);
    for (int cycle = 0; cycle < 90; cycle++) {          /* crosses two cache refreshes */
        bool alt = cycle % 3 == 1;
        f.ctx.procfs = alt ? FIXTURES "/host1-changed/proc" : FX_HOST1_PROC;
        assert_int_equal(fx_collect(&f), 0);
        if (alt)
            expect_disks(&f, changed, changed_dm, 5);
        else
            expect_disks(&f, full, full_dm, 10);
    }
    fx_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_device_cache_follows_changes),
        cmocka_unit_test(test_collect_host1),
        cmocka_unit_test(test_collect_edge_skips_bad_rows),
        cmocka_unit_test(test_collect_missing_file),
        cmocka_unit_test(test_parse_row),
        cmocka_unit_test(test_name_rules),
        cmocka_unit_test(test_parse_text_with_callback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
