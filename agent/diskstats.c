/* diskstats.c — the "diskstats" collector: /proc/diskstats into Report.disks.
 *
 * One Disk per whole disk and per device-mapper device; partitions are not
 * reported (their I/O is already in the disk's row), nor are loop, ram, zram
 * and floppy devices. A row is a whole disk when <sysfs>/block/<name> exists
 * (partitions live one level deeper, under /sys/block/<disk>/<part>); when
 * <sysfs>/block cannot be opened a name heuristic decides instead. dm-N
 * devices get their mapper name (e.g. pve-vm--100--disk--0) from
 * <sysfs>/block/dm-N/dm/name.
 *
 * Rows have 14, 18 or 20 fields depending on the kernel (discard columns
 * since 4.18, flush columns since 5.5); only the columns present are set.
 * A malformed row is skipped and counted in ctx->err; the collector fails
 * only when no row at all could be parsed. */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L   /* fstatat, O_DIRECTORY, O_CLOEXEC */
#endif
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector.h"
#include "fileio.h"
#include "proc_parsers.h"

#define DM_NAME_MAX 128   /* kernel DM_NAME_LEN, including the NUL */

/* True when name can be used as one path component under /sys/block:
 * printable ASCII without blanks or '/', and not "." or "..". */
static bool safe_component(const char *name, size_t len)
{
    if (len == 0 || (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
        return false;
    for (size_t i = 0; i < len; i++)
        if (name[i] <= ' ' || name[i] > '~' || name[i] == '/')
            return false;
    return true;
}

/* Parses "major minor" into row; both must fit an unsigned int. */
static bool parse_dev_numbers(struct pp_cur *c, struct diskstats_row *row)
{
    uint64_t major, minor;
    if (!pp_u64(c, &major) || !pp_u64(c, &minor) || major > UINT_MAX || minor > UINT_MAX)
        return false;
    row->major = (unsigned)major;
    row->minor = (unsigned)minor;
    return true;
}

int parse_diskstats_row(const char *line, size_t len, struct diskstats_row *row,
                        char *msg, size_t msgcap)
{
    struct pp_cur c = {line, line + len};
    const char *name;
    size_t nlen;
    memset(row, 0, sizeof *row);
    if (!parse_dev_numbers(&c, row)) {
        snprintf(msg, msgcap, "malformed major/minor");
        return -1;
    }
    if (!pp_word(&c, &name, &nlen) || nlen > DISK_NAME_MAX || !safe_component(name, nlen)) {
        snprintf(msg, msgcap, "missing, too long or unsafe device name");
        return -1;
    }
    memcpy(row->name, name, nlen);
    unsigned n = 0;
    while (!pp_at_end(&c)) {
        if (n == DISKSTATS_MAX_VALS || !pp_u64(&c, &row->v[n])) {
            snprintf(msg, msgcap, "%s: %s", row->name,
                     n == DISKSTATS_MAX_VALS ? "too many columns" : "malformed or overflowing value");
            return -1;
        }
        n++;
    }
    if (n != 11 && n != 15 && n != 17) {
        snprintf(msg, msgcap, "%s: %u fields, expected 14, 18 or 20", row->name, n + 3);
        return -1;
    }
    row->nv = n;
    return 0;
}

/* If s starts with one or more characters of the class, returns the end of
 * that run, else NULL. */
static const char *span(const char *s, bool (*cls)(char))
{
    const char *p = s;
    while (*p && cls(*p))
        p++;
    return p == s ? NULL : p;
}

static bool is_lower(char ch) { return ch >= 'a' && ch <= 'z'; }
static bool is_digit(char ch) { return pp_is_digit(ch); }

/* True when name is prefix followed by digits only ("loop0"). */
static bool prefix_digits(const char *name, const char *prefix)
{
    size_t l = strlen(prefix);
    if (strncmp(name, prefix, l) != 0)
        return false;
    const char *p = span(name + l, is_digit);
    return p && *p == '\0';
}

/* True when name is prefix, lower-case letters, digits ("sda1", "xvdb2"). */
static bool prefix_letters_digits(const char *name, const char *prefix)
{
    size_t l = strlen(prefix);
    if (strncmp(name, prefix, l) != 0)
        return false;
    const char *p = span(name + l, is_lower);
    p = p ? span(p, is_digit) : NULL;
    return p && *p == '\0';
}

/* True when name is prefix, digits, then for each char in seps: that char and
 * digits ("nvme0n1p2" with "np", "mmcblk0p1" with "p"). */
static bool prefix_numbered(const char *name, const char *prefix, const char *seps)
{
    size_t l = strlen(prefix);
    if (strncmp(name, prefix, l) != 0)
        return false;
    const char *p = span(name + l, is_digit);
    for (; p && *seps; seps++)
        p = *p == *seps ? span(p + 1, is_digit) : NULL;
    return p && *p == '\0';
}

bool diskstats_name_excluded(const char *name)
{
    return prefix_digits(name, "loop") || prefix_digits(name, "ram") ||
           prefix_digits(name, "zram") || prefix_digits(name, "fd");
}

bool diskstats_name_is_partition(const char *name)
{
    return prefix_letters_digits(name, "sd") || prefix_letters_digits(name, "vd") ||
           prefix_letters_digits(name, "hd") || prefix_letters_digits(name, "xvd") ||
           prefix_numbered(name, "nvme", "np") || prefix_numbered(name, "mmcblk", "p");
}

/* Builds a Disk from a row, setting only the columns the row has. */
static Pvescope__Disk *make_disk(const struct diskstats_row *row, struct arena *a)
{
    Pvescope__Disk *d = arena_alloc(a, sizeof *d);
    pvescope__disk__init(d);
    d->name = arena_strdup(a, row->name);
    uint64_t *val[DISKSTATS_MAX_VALS] = {
        &d->reads_completed, &d->reads_merged, &d->sectors_read, &d->read_time_ms,
        &d->writes_completed, &d->writes_merged, &d->sectors_written, &d->write_time_ms,
        &d->io_in_progress, &d->io_time_ms, &d->io_weighted_time_ms,
        &d->discards_completed, &d->discards_merged, &d->sectors_discarded, &d->discard_time_ms,
        &d->flushes_completed, &d->flush_time_ms};
    protobuf_c_boolean *has[DISKSTATS_MAX_VALS] = {
        &d->has_reads_completed, &d->has_reads_merged, &d->has_sectors_read, &d->has_read_time_ms,
        &d->has_writes_completed, &d->has_writes_merged, &d->has_sectors_written, &d->has_write_time_ms,
        &d->has_io_in_progress, &d->has_io_time_ms, &d->has_io_weighted_time_ms,
        &d->has_discards_completed, &d->has_discards_merged, &d->has_sectors_discarded,
        &d->has_discard_time_ms, &d->has_flushes_completed, &d->has_flush_time_ms};
    for (unsigned i = 0; i < row->nv; i++) {
        *val[i] = row->v[i];
        *has[i] = true;
    }
    return d;
}

/* What parse_diskstats hands each row: the filter, and the output array to fill. */
struct disk_rows {
    struct arena *a;
    disk_is_whole_fn is_whole;
    void *arg;
    Pvescope__Disk **disks;
    size_t n;
};

/* pp_row_fn: filtered rows still count as parsed, so only bad rows are warned about. */
static bool take_row(struct pp_cur *line, void *arg, char *msg, size_t msgcap)
{
    struct disk_rows *d = arg;
    struct diskstats_row row;
    if (parse_diskstats_row(line->p, (size_t)(line->end - line->p), &row, msg, msgcap) != 0)
        return false;
    if (!diskstats_name_excluded(row.name) &&
        (d->is_whole ? d->is_whole(row.name, d->arg) : !diskstats_name_is_partition(row.name)))
        d->disks[d->n++] = make_disk(&row, d->a);
    return true;
}

int parse_diskstats(const char *text, struct arena *a, disk_is_whole_fn is_whole, void *arg,
                    Pvescope__Disk ***disks, size_t *n_disks, struct parse_err *err)
{
    struct disk_rows d = {a, is_whole, arg, arena_alloc(a, pp_count_lines(text) * sizeof **disks), 0};
    int parsed = pp_each_row(text, 0, take_row, &d, err);
    *disks = d.disks;
    *n_disks = d.n;
    return parsed;
}

/* ---- collector ------------------------------------------------------------ */

/* disk_is_whole_fn over an open <sysfs>/block directory. */
static bool sysfs_is_whole(const char *name, void *arg)
{
    struct stat st;
    return fstatat(*(const int *)arg, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Opens <sysfs>/block, or returns -1 (then the name heuristic is used). */
static int open_sys_block(const struct collector_ctx *ctx)
{
    char path[4096];
    if (!path_join(path, sizeof path, ctx->sysfs, "block"))
        return -1;
    return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* True for "dm-" followed by digits. */
static bool is_dm(const char *name) { return prefix_digits(name, "dm-"); }

/* Sets d->dm_name from <sysfs>/block/<name>/dm/name when readable and
 * printable; a missing name is not an error. */
static void fill_dm_name(Pvescope__Disk *d, struct collector_ctx *ctx)
{
    char rel[DISK_NAME_MAX + 32], name[DM_NAME_MAX + 2];
    snprintf(rel, sizeof rel, "block/%s/dm/name", d->name);
    if (read_line_at(ctx->sysfs, rel, name, sizeof name) != 0 || name[0] == '\0')
        return;
    size_t len = strlen(name);
    for (size_t i = 0; i < len; i++)
        if (name[i] < ' ' || name[i] > '~')
            return;
    d->dm_name = arena_strndup(ctx->arena, name, len);
}

/* Reads /proc/diskstats into r->disks. Bad rows are skipped and described in
 * ctx->err while the collector still succeeds with the good ones. */
static int diskstats_collect(void *state, struct collector_ctx *ctx, Pvescope__Report *r)
{
    (void)state;
    if (proc_read(ctx, "diskstats") != 0)
        return -1;
    int dfd = open_sys_block(ctx);
    struct parse_err e = {0};
    int rc = parse_diskstats(ctx->scratch->data, ctx->arena, dfd >= 0 ? sysfs_is_whole : NULL,
                             &dfd, &r->disks, &r->n_disks, &e);
    if (dfd >= 0)
        close(dfd);
    if (rc < 0) {
        r->disks = NULL;
        r->n_disks = 0;
        return proc_fail(ctx, "diskstats", &e);
    }
    for (size_t i = 0; i < r->n_disks; i++)
        if (is_dm(r->disks[i]->name))
            fill_dm_name(r->disks[i], ctx);
    if (e.bad_rows > 0)
        proc_fail(ctx, "diskstats", &e);   /* partial success: message only */
    return 0;
}

const struct collector collector_diskstats = {
    .name = "diskstats",
    .help = "Per-disk and per-dm-device I/O counters from /proc/diskstats (partitions, loop, ram, zram excluded)",
    .default_enabled = true,
    .collect = diskstats_collect,
};
