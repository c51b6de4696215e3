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
#include <stdio.h>
#include <stdlib.h>
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

/* The row's "major minor name" into row; c is left at the first value. */
static int parse_row_head(struct pp_cur *c, struct diskstats_row *row, char *msg, size_t msgcap)
{
    const char *name;
    size_t nlen;
    memset(row, 0, sizeof *row);
    if (!parse_dev_numbers(c, row)) {
        snprintf(msg, msgcap, "malformed major/minor");
        return -1;
    }
    if (!pp_word(c, &name, &nlen) || nlen > DISK_NAME_MAX || !safe_component(name, nlen)) {
        snprintf(msg, msgcap, "missing, too long or unsafe device name");
        return -1;
    }
    memcpy(row->name, name, nlen);
    return 0;
}

/* The row's values after its head: 11, 15 or 17 of them (kernel 4.18 and 5.5
 * added columns). */
static int parse_row_values(struct pp_cur *c, struct diskstats_row *row, char *msg, size_t msgcap)
{
    unsigned n = 0;
    while (!pp_at_end(c)) {
        if (n == DISKSTATS_MAX_VALS || !pp_u64(c, &row->v[n])) {
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

int parse_diskstats_row(const char *line, size_t len, struct diskstats_row *row,
                        char *msg, size_t msgcap)
{
    struct pp_cur c = {line, line + len};
    if (parse_row_head(&c, row, msg, msgcap) != 0)
        return -1;
    return parse_row_values(&c, row, msg, msgcap);
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

/* pp_row_fn: filtered rows count as parsed without their values being
 * parsed (partitions, loop and ram devices are a third of the rows on a
 * typical node), so only bad rows of reported devices are warned about. */
static bool take_row(struct pp_cur *line, void *arg, char *msg, size_t msgcap)
{
    struct disk_rows *d = arg;
    struct diskstats_row row;
    if (parse_row_head(line, &row, msg, msgcap) != 0)
        return false;
    if (diskstats_name_excluded(row.name) ||
        !(d->is_whole ? d->is_whole(row.name, d->arg) : !diskstats_name_is_partition(row.name)))
        return true;
    if (parse_row_values(line, &row, msg, msgcap) != 0)
        return false;
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

/* What sysfs says about one device: looked up once, not every cycle (an
 * fstatat per row and a dm/name read per dm device were most of the
 * collector's cost). Rows come in the same order every cycle, so entry k
 * normally describes the k-th row handed to is_whole; any mismatch means the
 * device set changed and the cache is rebuilt from there. Every
 * DEVICE_REFRESH_CYCLES the cache is dropped anyway, to notice dm renames. */
#define DEVICE_REFRESH_CYCLES 40

struct device_info {
    char name[DISK_NAME_MAX + 1];
    bool whole;
    char *dm_name;                /* malloc'd; NULL when none or not dm */
};

struct diskstats_state {
    struct device_info *devs;
    size_t n, cap;
    size_t next;                  /* index the next is_whole call should hit */
    unsigned cycles;
    int dfd;                      /* <sysfs>/block, or -1: name heuristic */
    const struct collector_ctx *ctx;
};

static void forget_from(struct diskstats_state *st, size_t k)
{
    for (size_t i = k; i < st->n; i++)
        free(st->devs[i].dm_name);
    st->n = k;
}

/* True for "dm-" followed by digits. */
static bool is_dm(const char *name) { return prefix_digits(name, "dm-"); }

/* <sysfs>/block/dm-N/dm/name when readable and printable, else NULL. */
static char *read_dm_name(const struct collector_ctx *ctx, const char *dev)
{
    char rel[DISK_NAME_MAX + 32], name[DM_NAME_MAX + 2];
    snprintf(rel, sizeof rel, "block/%s/dm/name", dev);
    if (read_line_at(ctx->sysfs, rel, name, sizeof name) != 0 || name[0] == '\0')
        return NULL;
    for (const char *p = name; *p; p++)
        if (*p < ' ' || *p > '~')
            return NULL;
    return strdup(name);
}

static struct device_info *lookup_device(struct diskstats_state *st, const char *name)
{
    size_t k = st->next++;
    if (k < st->n && strcmp(st->devs[k].name, name) == 0)
        return &st->devs[k];
    forget_from(st, k);
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 64;
        struct device_info *d = realloc(st->devs, cap * sizeof *d);
        if (!d)
            abort();
        st->devs = d;
        st->cap = cap;
    }
    struct device_info *di = &st->devs[st->n++];
    snprintf(di->name, sizeof di->name, "%s", name);
    struct stat sb;
    di->whole = st->dfd >= 0 ? fstatat(st->dfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0
                             : !diskstats_name_is_partition(name);
    di->dm_name = di->whole && is_dm(name) ? read_dm_name(st->ctx, name) : NULL;
    return di;
}

/* disk_is_whole_fn backed by the device cache. */
static bool cached_is_whole(const char *name, void *arg)
{
    return lookup_device(arg, name)->whole;
}

/* Opens <sysfs>/block, or returns -1 (then the name heuristic is used). */
static int open_sys_block(const struct collector_ctx *ctx)
{
    char path[4096];
    if (!path_join(path, sizeof path, ctx->sysfs, "block"))
        return -1;
    return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static int diskstats_init(void **state, struct collector_ctx *ctx)
{
    struct diskstats_state *st = calloc(1, sizeof *st);
    if (!st)
        return collector_fail(ctx, "out of memory");
    st->dfd = open_sys_block(ctx);
    *state = st;
    return 0;
}

static void diskstats_fini(void *state)
{
    struct diskstats_state *st = state;
    forget_from(st, 0);
    free(st->devs);
    if (st->dfd >= 0)
        close(st->dfd);
    free(st);
}

/* Copies the cached dm names onto the kept disks (both lists are in row order). */
static void attach_dm_names(const struct diskstats_state *st, Pvescope__Report *r, struct arena *a)
{
    size_t k = 0;
    for (size_t i = 0; i < r->n_disks; i++) {
        while (k < st->n && strcmp(st->devs[k].name, r->disks[i]->name) != 0)
            k++;
        if (k == st->n)
            return;
        if (st->devs[k].dm_name)
            r->disks[i]->dm_name = arena_strdup(a, st->devs[k].dm_name);
    }
}

/* Reads /proc/diskstats into r->disks. Bad rows are skipped and described in
 * ctx->err while the collector still succeeds with the good ones. */
static int diskstats_collect(void *state, struct collector_ctx *ctx, Pvescope__Report *r)
{
    struct diskstats_state *st = state;
    const char *text;
    if (proc_read_records(ctx, "diskstats", &text) != 0)
        return -1;
    if (++st->cycles % DEVICE_REFRESH_CYCLES == 0)
        forget_from(st, 0);
    st->next = 0;
    st->ctx = ctx;
    struct parse_err e = {0};
    int rc = parse_diskstats(text, ctx->arena, cached_is_whole, st, &r->disks,
                             &r->n_disks, &e);
    if (rc < 0) {
        r->disks = NULL;
        r->n_disks = 0;
        return proc_fail(ctx, "diskstats", &e);
    }
    attach_dm_names(st, r, ctx->arena);
    if (e.bad_rows > 0)
        proc_fail(ctx, "diskstats", &e);   /* partial success: message only */
    return 0;
}

const struct collector collector_diskstats = {
    .name = "diskstats",
    .help = "Per-disk and per-dm-device I/O counters from /proc/diskstats (partitions, loop, ram, zram excluded)",
    .default_enabled = true,
    .init = diskstats_init,
    .collect = diskstats_collect,
    .fini = diskstats_fini,
};
