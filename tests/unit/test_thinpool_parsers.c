/* test_thinpool_parsers.c — the dm-thin status/table parsers and the dm name
 * splitter (agent/thinpool_parsers.c) on the lines of pve-internals §7.10,
 * the hand-written kernel variants, and malformed input. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <linux/dm-ioctl.h>

#include "thinpool_parsers.h"

#define RW PVESCOPE__THIN_POOL_MODE__THIN_POOL_RW
#define RO PVESCOPE__THIN_POOL_MODE__THIN_POOL_RO
#define OODS PVESCOPE__THIN_POOL_MODE__THIN_POOL_OUT_OF_DATA_SPACE
#define FAIL PVESCOPE__THIN_POOL_MODE__THIN_POOL_FAIL
#define ERROR PVESCOPE__THIN_POOL_MODE__THIN_POOL_ERROR

static struct thinpool_status pool_ok(const char *params)
{
    struct thinpool_status s;
    char err[160] = "";
    bool ok = thinpool_parse_status(params, &s, err, sizeof err);
    if (!ok)
        print_error("rejected '%s': %s\n", params, err);
    assert_true(ok);
    return s;
}

static void pool_bad(const char *params, const char *why)
{
    struct thinpool_status s;
    char err[160] = "";
    assert_false(thinpool_parse_status(params, &s, err, sizeof err));
    if (!strstr(err, why))
        print_error("'%s': reason '%s' lacks '%s'\n", params, err, why);
    assert_non_null(strstr(err, why));
}

/* §7.10 pve-data-tpool and nvme2-tank-tpool, params as libdm returns them. */
static void t_pool_status_fixture(void **state)
{
    (void)state;
    struct thinpool_status s =
        pool_ok("87 32312/2125824 4872893/13021824 - rw discard_passdown queue_if_no_space - 1024 ");
    assert_int_equal(s.mode, RW);
    assert_int_equal(s.transaction_id, 87);
    assert_int_equal(s.meta_used, 32312);
    assert_int_equal(s.meta_total, 2125824);
    assert_int_equal(s.data_used, 4872893);
    assert_int_equal(s.data_total, 13021824);
    assert_false(s.has_held_root);
    assert_int_equal(s.discards, THIN_DISCARD_PASSDOWN);
    assert_true(s.has_no_space_policy);
    assert_false(s.error_if_no_space);
    assert_true(s.has_needs_check);
    assert_false(s.needs_check);
    assert_true(s.has_meta_low_watermark);
    assert_int_equal(s.meta_low_watermark, 1024);
    /* derived bytes of the §7.10 table: 64 KiB blocks, 4 KiB metadata blocks */
    assert_int_equal(s.data_used * 128 * 512, 319349915648ULL);
    assert_int_equal(s.data_total * 128 * 512, 853398257664ULL);
    assert_int_equal(s.meta_used * THIN_METADATA_BLOCK_BYTES, 132349952ULL);
    assert_int_equal(s.meta_total * THIN_METADATA_BLOCK_BYTES, 8707375104ULL);

    s = pool_ok("12 9812/262144 4091392/4194304 - rw discard_passdown error_if_no_space - 1024 ");
    assert_int_equal(s.transaction_id, 12);
    assert_true(s.error_if_no_space);
    assert_int_equal(s.data_used * 512 * 512, 1072533864448ULL);
    assert_int_equal(s.data_total * 512 * 512, 1099511627776ULL);
    assert_int_equal(s.meta_total * THIN_METADATA_BLOCK_BYTES, 1073741824ULL);
}

/* The hand-written variants of §7.10. */
static void t_pool_status_variants(void **state)
{
    (void)state;
    struct thinpool_status s =
        pool_ok("12 9812/262144 4194304/4194304 - out_of_data_space discard_passdown error_if_no_space - 1024 ");
    assert_int_equal(s.mode, OODS);
    assert_int_equal(s.data_used, s.data_total);

    s = pool_ok("91 33001/2125824 4872990/13021824 - ro discard_passdown queue_if_no_space needs_check 1024 ");
    assert_int_equal(s.mode, RO);
    assert_true(s.has_needs_check && s.needs_check);
    assert_int_equal(s.transaction_id, 91);

    s = pool_ok("87 32312/2125824 4872893/13021824 1533 rw no_discard_passdown queue_if_no_space - 1024 ");
    assert_true(s.has_held_root);
    assert_int_equal(s.held_root, 1533);
    assert_int_equal(s.discards, THIN_NO_DISCARD_PASSDOWN);

    s = pool_ok("Fail");
    assert_int_equal(s.mode, FAIL);
    assert_int_equal(s.data_total, 0);
    s = pool_ok("Fail ");
    assert_int_equal(s.mode, FAIL);
    s = pool_ok("Error");
    assert_int_equal(s.mode, ERROR);

    /* ignore_discard, which the kernel doc omits */
    s = pool_ok("3 10/100 5/50 - rw ignore_discard queue_if_no_space - 25");
    assert_int_equal(s.discards, THIN_IGNORE_DISCARD);
    /* older kernels: no metadata low watermark, no needs_check, no policy */
    s = pool_ok("3 10/100 5/50 - rw discard_passdown queue_if_no_space -");
    assert_false(s.has_meta_low_watermark);
    assert_true(s.has_needs_check);
    s = pool_ok("3 10/100 5/50 - rw discard_passdown");
    assert_false(s.has_needs_check || s.has_no_space_policy || s.has_meta_low_watermark);
    assert_int_equal(s.discards, THIN_DISCARD_PASSDOWN);
    s = pool_ok("3 10/100 5/50 - rw");
    assert_int_equal(s.discards, THIN_DISCARDS_UNKNOWN);
    /* several trailing spaces, and the largest numbers */
    s = pool_ok("18446744073709551615 0/0 18446744073709551615/18446744073709551615 - rw   ");
    assert_true(s.transaction_id == UINT64_MAX && s.data_used == UINT64_MAX);
}

static void t_pool_status_malformed(void **state)
{
    (void)state;
    pool_bad("", "field 1");
    pool_bad("   ", "field 1");
    pool_bad("x 1/2 1/2 - rw", "field 1");
    pool_bad("-1 1/2 1/2 - rw", "field 1");
    pool_bad("18446744073709551616 1/2 1/2 - rw", "field 1");          /* 2^64 */
    pool_bad("87 32312 4872893/13021824 - rw", "field 2");              /* missing slash */
    pool_bad("87 32312/2125824 4872893-13021824 - rw", "field 3");
    pool_bad("87 /2125824 4872893/13021824 - rw", "field 2");
    pool_bad("87 32312/ 4872893/13021824 - rw", "field 2");
    pool_bad("87 32312/2125824 13021825/13021824 - rw", "used <= total"); /* used > total */
    pool_bad("87 2125825/2125824 1/2 - rw", "field 2");
    pool_bad("87 1/2 1/2/3 - rw", "field 3");
    pool_bad("87 1/2 1/2", "field 4");                                 /* truncated */
    pool_bad("87 1/2 1/2 -", "field 5");
    pool_bad("87 1/2 1/2 x rw", "field 4");
    pool_bad("87 1/2 1/2 - RW", "field 5");
    pool_bad("87 1/2 1/2 - r", "field 5");
    pool_bad("87 1/2 1/2 - rw discard", "unknown word 'discard'");
    pool_bad("87 1/2 1/2 - rw discard_passdown no_discard_passdown", "second discard");
    pool_bad("87 1/2 1/2 - rw queue_if_no_space error_if_no_space", "second no-space");
    pool_bad("87 1/2 1/2 - rw - needs_check", "second needs_check");
    pool_bad("87 1/2 1/2 - rw 1024 1024", "second metadata low watermark");
    pool_bad("87 1/2 1/2 - rw\tdiscard_passdown", "field 5");          /* tabs are not separators */
    pool_bad("Failed", "field 1");
    pool_bad("Fail x", "field 1");
    pool_bad("Errors", "field 1");
}

static void t_pool_table(void **state)
{
    (void)state;
    struct thinpool_table t;
    char err[160];
    assert_true(thinpool_parse_table("252:2 252:3 128 0 0 ", &t, err, sizeof err));
    assert_int_equal(t.meta_major, 252);
    assert_int_equal(t.meta_minor, 2);
    assert_int_equal(t.data_minor, 3);
    assert_int_equal(t.block_sectors, 128);
    assert_int_equal(t.low_water_blocks, 0);
    assert_int_equal(t.features, 0);
    assert_true(thinpool_parse_table("252:11 252:12 512 838860 2 skip_block_zeroing error_if_no_space ", &t, err,
                                     sizeof err));
    assert_int_equal(t.block_sectors, 512);
    assert_int_equal(t.low_water_blocks, 838860);
    assert_int_equal(t.features, THIN_FEAT_SKIP_BLOCK_ZEROING | THIN_FEAT_ERROR_IF_NO_SPACE);
    assert_true(thinpool_parse_table("253:0 253:1 2097152 1", &t, err, sizeof err));  /* no feature count */
    assert_int_equal(t.block_sectors, 2097152);
    assert_true(thinpool_parse_table("253:0 253:1 256 1 5 skip_block_zeroing ignore_discard no_discard_passdown "
                                     "read_only error_if_no_space",
                                     &t, err, sizeof err));
    assert_int_equal(t.features, 0x1f);

    static const struct { const char *line, *why; } bad[] = {
        {"", "field 1"},
        {"252 252:3 128 0 0", "field 1"},
        {"252:2 252:x 128 0 0", "field 2"},
        {"252:2 252:3 abc 0 0", "field 3"},
        {"252:2 252:3 64 0 0", "not a multiple"},
        {"252:2 252:3 200 0 0", "not a multiple"},
        {"252:2 252:3 4194304 0 0", "not a multiple"},
        {"252:2 252:3 0 0 0", "not a multiple"},
        {"252:2 252:3 128", "field 4"},
        {"252:2 252:3 128 0 x", "field 5"},
        {"252:2 252:3 128 0 2 skip_block_zeroing", "2 features announced, 1 present"},
        {"252:2 252:3 128 0 1 zero_everything", "unknown feature"},
        {"252:2 252:3 128 0 0 read_only", "extra word"},
        {"252:2 252:3 128 0 18446744073709551615", "features announced"},
        {"4294967296:0 252:3 128 0 0", "field 1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_false(thinpool_parse_table(bad[i].line, &t, err, sizeof err));
        if (!strstr(err, bad[i].why))
            print_error("'%s': '%s' lacks '%s'\n", bad[i].line, err, bad[i].why);
        assert_non_null(strstr(err, bad[i].why));
    }
}

static void t_thin_status(void **state)
{
    (void)state;
    struct thin_status s;
    char err[160];
    assert_true(thin_parse_status("40936320 48989439", &s, err, sizeof err));
    assert_int_equal(s.mapped_sectors, 40936320);
    assert_true(s.has_highest);
    assert_int_equal(s.highest_mapped_sector, 48989439);
    assert_int_equal(s.mapped_sectors * 512, 20959395840ULL);      /* §7.10 pve/vm-100-disk-0 */
    assert_true(thin_parse_status("1812480000 1886719999", &s, err, sizeof err));
    assert_int_equal(s.mapped_sectors * 512, 927989760000ULL);     /* nvme2/vm-103-disk-0 */
    assert_true(thin_parse_status("0 -", &s, err, sizeof err));
    assert_int_equal(s.mapped_sectors, 0);
    assert_false(s.has_highest || s.fail || s.error);
    assert_true(thin_parse_status("0 - ", &s, err, sizeof err));
    assert_true(thin_parse_status("Fail", &s, err, sizeof err));
    assert_true(s.fail && !s.error);
    assert_true(thin_parse_status("Error", &s, err, sizeof err));
    assert_true(s.error && !s.fail);

    static const struct { const char *line, *why; } bad[] = {
        {"", "field 1"},          {"-", "field 1"},          {"12", "field 2"},
        {"12 x", "field 2"},      {"12 - 3", "extra word"},  {"0x10 -", "field 1"},
        {"FAIL", "field 1"},      {"Fail 0", "field 1"},     {"1 2 3", "extra word"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_false(thin_parse_status(bad[i].line, &s, err, sizeof err));
        assert_non_null(strstr(err, bad[i].why));
    }
}

static void t_thin_table(void **state)
{
    (void)state;
    struct thin_table t;
    char err[160];
    assert_true(thin_parse_table("252:4 1", &t, err, sizeof err));
    assert_int_equal(t.pool_major, 252);
    assert_int_equal(t.pool_minor, 4);
    assert_int_equal(t.dev_id, 1);
    assert_false(t.has_origin);
    assert_true(thin_parse_table("252:13 16777215 8:16 ", &t, err, sizeof err));
    assert_int_equal(t.dev_id, 16777215);
    assert_true(t.has_origin);
    assert_int_equal(t.origin_major, 8);
    assert_int_equal(t.origin_minor, 16);
    assert_false(thin_parse_table("252:4", &t, err, sizeof err));
    assert_non_null(strstr(err, "field 2"));
    assert_false(thin_parse_table("252-4 1", &t, err, sizeof err));
    assert_non_null(strstr(err, "field 1"));
    assert_false(thin_parse_table("252:4 1 origin", &t, err, sizeof err));
    assert_non_null(strstr(err, "field 3"));
    assert_false(thin_parse_table("252:4 1 8:16 x", &t, err, sizeof err));
    assert_non_null(strstr(err, "extra word"));
}

static void split_ok(const char *name, const char *vg, const char *lv, const char *layer)
{
    char v[64], l[64], y[64], err[128] = "";
    bool ok = thinpool_split_dm_name(name, v, l, y, sizeof v, err, sizeof err);
    if (!ok)
        print_error("'%s': %s\n", name, err);
    assert_true(ok);
    assert_string_equal(v, vg);
    assert_string_equal(l, lv);
    assert_string_equal(y, layer);
}

static void split_bad(const char *name, const char *why)
{
    char v[16], l[16], y[16], err[128] = "";
    assert_false(thinpool_split_dm_name(name, v, l, y, sizeof v, err, sizeof err));
    if (!strstr(err, why))
        print_error("'%s': '%s' lacks '%s'\n", name, err, why);
    assert_non_null(strstr(err, why));
}

static void t_split(void **state)
{
    (void)state;
    split_ok("pve-data-tpool", "pve", "data", "tpool");
    split_ok("pve-vm--100--disk--0", "pve", "vm-100-disk-0", "");
    split_ok("my--vg-thin_pool-tpool", "my-vg", "thin_pool", "tpool");
    split_ok("pve-data", "pve", "data", "");                  /* never-used pool mapped directly */
    split_ok("pve-data_tdata", "pve", "data_tdata", "");
    split_ok("pve-data_tmeta", "pve", "data_tmeta", "");
    split_ok("nvme2-vm--103--disk--0", "nvme2", "vm-103-disk-0", "");
    split_ok("a---b", "a-", "b", "");                         /* LV names cannot start with '-' */
    split_ok("a--b-c--d-real", "a-b", "c-d", "real");
    split_ok("vg-lv--", "vg", "lv-", "");
    split_bad("", "empty volume group");
    split_bad("-data", "empty volume group");
    split_bad("pve", "no single '-'");
    split_bad("my--vg", "no single '-'");
    split_bad("pve-", "empty LV");
    split_bad("pve--data-", "empty LV");
    split_bad("pve-data-", "empty layer");
    split_bad("pve-data-tpool-x", "layer 'tpool-x'");
    split_bad("pve-data-tp--ool", "layer");
    split_bad("a-bbbbbbbbbbbbbbbbbbbbb", "longer than 15");
    split_bad("aaaaaaaaaaaaaaaaaaaa-b", "longer than 15");
    split_bad("a-b-cccccccccccccccccccc", "longer than 15");
}

/* ---- dm ioctl replies ------------------------------------------------------ */

static bool reply_fails(const uint8_t *buf, size_t size, const char *want)
{
    struct dm_reply r;
    char err[160] = "";
    assert_false(dm_parse_reply(buf, size, &r, err, sizeof err));
    assert_string_equal(err, want);
    return true;
}

static void t_dm_reply(void **state)
{
    (void)state;
    static uint64_t storage[64];                       /* 512 aligned bytes */
    uint8_t *buf = (uint8_t *)storage;
    struct dm_ioctl io;
    memset(&io, 0, sizeof io);
    io.version[0] = 4;
    io.version[1] = 48;
    io.data_start = sizeof io;
    io.data_size = sizeof io + 16;
    io.target_count = 1;
    io.event_nr = 7;
    io.dev = (0x34u & 0xff) | (252u << 8) | ((0x1234u & ~0xffu) << 12);   /* 252:0x1234 */
    strcpy(io.name, "pve-data-tpool");
    strcpy(io.uuid, "LVM-abc-tpool");
    memcpy(buf, &io, sizeof io);
    struct dm_reply r;
    char err[160];
    assert_true(dm_parse_reply(buf, 512, &r, err, sizeof err));
    assert_int_equal(r.major, 252);
    assert_int_equal(r.minor, 0x1234);
    assert_string_equal(r.name, "pve-data-tpool");
    assert_string_equal(r.uuid, "LVM-abc-tpool");
    assert_int_equal(r.event_nr, 7);
    assert_ptr_equal(r.data, buf + sizeof io);
    assert_int_equal(r.data_len, 16);

    reply_fails(buf, sizeof io - 1, "reply of 311 bytes, shorter than its header");
    reply_fails(buf, sizeof io + 8, "data 312..328 outside the 320-byte reply");
    struct dm_ioctl bad = io;
    bad.version[0] = 5;
    memcpy(buf, &bad, sizeof bad);
    reply_fails(buf, 512, "ioctl interface 5.48.0, not 4.x");
    bad = io;
    bad.data_start = 100;
    memcpy(buf, &bad, sizeof bad);
    reply_fails(buf, 512, "data 100..328 outside the 512-byte reply");
    bad = io;
    memset(bad.uuid, 'x', sizeof bad.uuid);
    memcpy(buf, &bad, sizeof bad);
    reply_fails(buf, 512, "name or uuid not terminated");
    bad = io;
    bad.dev = 1ull << 40;
    memcpy(buf, &bad, sizeof bad);
    reply_fails(buf, 512, "dev 0x10000000000 is not a kernel dev number");
}

/* A name record at off: dev, next, name. Returns the end of the name. */
static size_t put_record(uint8_t *data, size_t off, uint64_t dev, uint32_t next, const char *name)
{
    memcpy(data + off, &dev, sizeof dev);
    memcpy(data + off + 8, &next, sizeof next);
    strcpy((char *)data + off + 12, name);
    return off + 12 + strlen(name) + 1;
}

static void name_list_fails(const uint8_t *data, size_t len, const char *want)
{
    size_t n;
    char err[160] = "";
    assert_false(dm_parse_name_list(data, len, NULL, 0, &n, err, sizeof err));
    assert_string_equal(err, want);
}

static void t_dm_name_list(void **state)
{
    (void)state;
    uint8_t data[256];
    memset(data, 0, sizeof data);
    put_record(data, 0, (252u << 8) | 4, 40, "pve-data-tpool");
    size_t end = put_record(data, 40, (252u << 8) | 5, 0, "pve-data");
    size_t len = end + 1 + 8;                          /* padding, event_nr and flags (kernel >= 5.13) */
    struct dm_name_entry e[2];
    size_t n;
    char err[160];
    assert_true(dm_parse_name_list(data, len, NULL, 0, &n, err, sizeof err));
    assert_int_equal(n, 2);
    assert_true(dm_parse_name_list(data, len, e, 2, &n, err, sizeof err));
    assert_string_equal(e[0].name, "pve-data-tpool");
    assert_int_equal(e[0].major, 252);
    assert_int_equal(e[0].minor, 4);
    assert_string_equal(e[1].name, "pve-data");
    assert_int_equal(e[1].minor, 5);

    assert_true(dm_parse_name_list(data, 0, NULL, 0, &n, err, sizeof err));   /* no devices */
    assert_int_equal(n, 0);
    uint8_t none[16] = {0};                            /* older kernels: one record with dev 0 */
    assert_true(dm_parse_name_list(none, sizeof none, NULL, 0, &n, err, sizeof err));
    assert_int_equal(n, 0);

    name_list_fails(data, 12, "record at 0 of 12 cut short");
    name_list_fails(data, 45, "record at 40 of 45 cut short");
    name_list_fails(data, 40 + 12 + 3, "record at 40: name not terminated");
    uint32_t next = 8;                                 /* into its own header */
    memcpy(data + 8, &next, sizeof next);
    name_list_fails(data, len, "record at 0: next 8 outside the 70-byte list");
    next = 200;
    memcpy(data + 8, &next, sizeof next);
    name_list_fails(data, len, "record at 0: next 200 outside the 70-byte list");
    next = 40;
    memcpy(data + 8, &next, sizeof next);
    data[40 + 12] = '\0';                              /* empty name */
    name_list_fails(data, len, "record at 40: name of 0 bytes");
    uint8_t longname[200] = {0};
    memset(longname + 12, 'a', 150);
    longname[0] = 1;
    name_list_fails(longname, sizeof longname, "record at 0: name of 150 bytes");
    put_record(data, 40, 0, 0, "zero");                /* dev 0 after the first record */
    name_list_fails(data, len, "zero: dev 0x0 is not a kernel dev number");
}

/* A target spec at off with its params; returns the end of the params. */
static size_t put_spec(uint8_t *data, size_t off, uint64_t start, uint64_t length, const char *type, uint32_t next,
                       const char *params)
{
    struct dm_target_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.sector_start = start;
    spec.length = length;
    spec.next = next;
    size_t tl = strlen(type);          /* NUL-padded, unterminated at full length, as the kernel's */
    memcpy(spec.target_type, type, tl < sizeof spec.target_type ? tl : sizeof spec.target_type);
    memcpy(data + off, &spec, sizeof spec);
    strcpy((char *)data + off + sizeof spec, params);
    return off + sizeof spec + strlen(params) + 1;
}

static void targets_fail(const uint8_t *data, size_t len, uint32_t count, const char *want)
{
    char err[160] = "";
    assert_false(dm_parse_targets(data, len, count, NULL, err, sizeof err));
    assert_string_equal(err, want);
}

static void t_dm_targets(void **state)
{
    (void)state;
    uint8_t data[256];
    memset(data, 0, sizeof data);
    size_t end = put_spec(data, 0, 0, 2048, "linear", 64, "259:3 2048");   /* 40 + 11 = 51, next at 56: use 64 */
    assert_int_equal(end, 51);
    end = put_spec(data, 64, 2048, 4096, "thin-pool", 128, "252:2 252:3 128 0 0 ");
    struct dm_target_entry t[2];
    char err[160];
    assert_true(dm_parse_targets(data, end, 2, t, err, sizeof err));
    assert_int_equal(t[0].length, 2048);
    assert_string_equal(t[0].type, "linear");
    assert_string_equal(t[0].params, "259:3 2048");
    assert_int_equal(t[1].start, 2048);
    assert_string_equal(t[1].type, "thin-pool");
    assert_string_equal(t[1].params, "252:2 252:3 128 0 0 ");
    assert_true(dm_parse_targets(data, 0, 0, NULL, err, sizeof err));      /* no table */

    targets_fail(data, end, 3, "target 2: next 128 outside 125..125");
    targets_fail(data, 140, 3, "target 3 of 3 at 128 outside the 140-byte data");   /* target_count lies */
    targets_fail(data, 40, 1, "target 1 of 1 at 0 outside the 40-byte data");
    targets_fail(data, 50, 1, "target 1: params not terminated");
    put_spec(data, 0, 0, 2048, "linear", 48, "259:3 2048");                 /* next inside its own params */
    targets_fail(data, end, 2, "target 1: next 48 outside 51..125");
    put_spec(data, 0, 0, 2048, "linear", 0, "259:3 2048");                  /* next pointing back */
    targets_fail(data, end, 2, "target 1: next 0 outside 51..125");
    put_spec(data, 0, 0, 2048, "linear", 200, "259:3 2048");
    targets_fail(data, end, 2, "target 1: next 200 outside 51..125");
    put_spec(data, 0, 0, 2048, "", 64, "259:3 2048");
    targets_fail(data, end, 2, "target 1: type not terminated or empty");
    put_spec(data, 0, 0, 2048, "linear", 64, "259:3 2048");
    memset(data + 16 + 8, 'x', DM_MAX_TYPE_NAME);                           /* type without its NUL */
    targets_fail(data, end, 2, "target 1: type not terminated or empty");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_pool_status_fixture), cmocka_unit_test(t_pool_status_variants),
        cmocka_unit_test(t_pool_status_malformed), cmocka_unit_test(t_pool_table),
        cmocka_unit_test(t_thin_status), cmocka_unit_test(t_thin_table),
        cmocka_unit_test(t_split),               cmocka_unit_test(t_dm_reply),
        cmocka_unit_test(t_dm_name_list),        cmocka_unit_test(t_dm_targets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
