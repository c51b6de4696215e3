/* zfs.c — the "zfs" collector: imported ZFS pools and the node's ARC, from
 * the OpenZFS kstats under <procfs>/spl/kstat/zfs/, into Report.zfs_pools
 * and Report.zfs_arc. No fork of zpool(8) and no /dev/zfs ioctl: the state
 * kstat is a lockless read meant as a heartbeat that never blocks the way
 * `zpool status` can on a suspended pool.
 *
 * A pool is a directory there with a `state` file (ONLINE, DEGRADED, ...).
 * Its `iostats` named kstat, when present, gives the pool's I/O through the
 * ARC (arc_read_count/bytes, arc_write_count/bytes; older modules have no
 * iostats, or no such rows: the fields stay absent). `arcstats` gives the
 * node's ARC size, its c_min/c_max bounds and hits/misses.
 *
 * A pool whose state word is unknown, or whose iostats cannot be parsed, is
 * sent with `error` set (and whatever else read fine) and makes the cycle a
 * warning; a broken arcstats likewise sets ZfsArc.error. No
 * <procfs>/spl/kstat/zfs (ZFS not loaded) means no pools and no ARC:
 * success. Per-pool files are read uncached (read_file_at): pools come and
 * go with import/export, and the shared file cache should not keep
 * descriptors of exported pools; arcstats goes through the cache. */
#include "zfs_parsers.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"

#define KSTAT_DIR "spl/kstat/zfs"
#define POOL_NAME_MAX 256

/* ---- parsers ---------------------------------------------------------------- */

#define ZFS_STATE_NAME(s) #s,
const char *const zfs_pool_state_names[ZFS_STATE_COUNT] = {ZFS_POOL_STATES(ZFS_STATE_NAME)};

/* True when [s, s+len) equals the NUL-terminated word. */
static bool word_is(const char *s, size_t len, const char *word)
{
    return strlen(word) == len && memcmp(s, word, len) == 0;
}

/* A stat name: printable ASCII without blanks (pp_word already excludes blanks). */
static bool valid_name(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] <= ' ' || s[i] > '~')
            return false;
    return true;
}

/* Parses "[-]digits" ending at a blank or the line end, within [min, max]. */
static bool parse_signed(struct pp_cur *c, int64_t min, int64_t max, int64_t *out)
{
    pp_skip_blanks(c);
    bool neg = pp_literal(c, "-");
    uint64_t mag;
    if (!pp_digits_u64(c, &mag) || !pp_at_boundary(c))
        return false;
    uint64_t limit = neg ? (uint64_t)(-(min + 1)) + 1 : (uint64_t)max;
    if (mag > limit)
        return false;
    *out = !neg ? (int64_t)mag : mag == 0 ? 0 : -(int64_t)(mag - 1) - 1;
    return true;
}

/* The value of a CHAR or STRING stat: the rest of the line after the blanks
 * that follow the type column (CHAR values are space-padded to 16). */
static void parse_text_value(struct pp_cur *c, struct zfs_kstat_row *row)
{
    pp_skip_blanks(c);
    const char *end = c->end;
    if (row->type == ZFS_KSTAT_CHAR)
        while (end > c->p && pp_is_blank(end[-1]))
            end--;
    row->str = c->p;
    row->str_len = (size_t)(end - c->p);
    c->p = c->end;
}

/* Parses the value column according to the row's type. */
static bool parse_value(struct pp_cur *c, struct zfs_kstat_row *row)
{
    switch (row->type) {
    case ZFS_KSTAT_UINT32:
        return pp_u64(c, &row->u64) && row->u64 <= UINT32_MAX && pp_at_end(c);
    case ZFS_KSTAT_UINT64: case ZFS_KSTAT_ULONG:
        return pp_u64(c, &row->u64) && pp_at_end(c);
    case ZFS_KSTAT_INT32:
        return parse_signed(c, INT32_MIN, INT32_MAX, &row->i64) && pp_at_end(c);
    case ZFS_KSTAT_INT64: case ZFS_KSTAT_LONG:
        return parse_signed(c, INT64_MIN, INT64_MAX, &row->i64) && pp_at_end(c);
    case ZFS_KSTAT_CHAR: case ZFS_KSTAT_STRING:
        parse_text_value(c, row);
        return true;
    }
    return false;
}

/* One "<name> <type> <data>" row; false with the reason in msg. */
static bool parse_row(struct pp_cur *c, struct zfs_kstat_row *row, char *msg, size_t cap)
{
    memset(row, 0, sizeof *row);
    uint64_t type;
    if (!pp_word(c, &row->name, &row->name_len) || !valid_name(row->name, row->name_len)) {
        snprintf(msg, cap, "missing or unprintable stat name");
        return false;
    }
    int shown = (int)(row->name_len > 64 ? 64 : row->name_len);   /* printable: valid_name */
    if (!pp_u64(c, &type) || type > ZFS_KSTAT_STRING) {
        snprintf(msg, cap, "%.*s: unknown data type", shown, row->name);
        return false;
    }
    row->type = (enum zfs_kstat_type)type;
    if (!parse_value(c, row)) {
        snprintf(msg, cap, "%.*s: malformed or out-of-range value for type %u", shown, row->name,
                 (unsigned)type);
        return false;
    }
    return true;
}

/* "<kid> 1 0x<flags> <ndata> <data_size> <crtime> <snaptime>": sets *ndata. */
static bool parse_header(struct pp_cur *c, uint64_t *ndata, char *msg, size_t cap)
{
    uint64_t kid, type, data_size, crtime, snaptime;
    if (!pp_u64(c, &kid) || !pp_u64(c, &type)) {
        snprintf(msg, cap, "malformed kstat header");
        return false;
    }
    if (type != 1) {
        snprintf(msg, cap, "kstat type %llu, not a named kstat (1)", (unsigned long long)type);
        return false;
    }
    pp_skip_blanks(c);
    if (!pp_literal(c, "0x"))
        goto bad;
    const char *hex = c->p;
    while (c->p < c->end && *c->p && strchr("0123456789abcdefABCDEF", *c->p))
        c->p++;
    if (c->p == hex || !pp_at_boundary(c))
        goto bad;
    if (!pp_u64(c, ndata) || !pp_u64(c, &data_size) || !pp_u64(c, &crtime) || !pp_u64(c, &snaptime) ||
        !pp_at_end(c))
        goto bad;
    return true;
bad:
    snprintf(msg, cap, "malformed kstat header");
    return false;
}

/* The column line: exactly the words name, type, data. */
static bool parse_columns(struct pp_cur *c)
{
    static const char *const words[] = {"name", "type", "data"};
    for (size_t i = 0; i < 3; i++) {
        const char *w;
        size_t len;
        if (!pp_word(c, &w, &len) || !word_is(w, len, words[i]))
            return false;
    }
    return pp_at_end(c);
}

/* Walks header, columns and rows; calls fn per row when fn is not NULL.
 * Returns the row count, or -1 with *err. */
static int walk_named_kstat(const char *text, zfs_kstat_fn fn, void *arg, struct parse_err *err)
{
    const char *pos = text;
    struct pp_cur line;
    bool terminated;
    uint64_t ndata = 0, rows = 0;
    int lineno = 0;
    char msg[sizeof err->msg];
    while (pp_next_line(&pos, &line, &terminated)) {
        if (++lineno == INT_MAX)
            break;
        if (!terminated) {
            pp_err(err, lineno, "truncated (last line has no newline)");
            return -1;
        }
        struct zfs_kstat_row row;
        if (lineno == 1 && !parse_header(&line, &ndata, msg, sizeof msg)) {
            pp_err(err, lineno, "%s", msg);
            return -1;
        }
        if (lineno == 2 && !parse_columns(&line)) {
            pp_err(err, lineno, "expected the column line \"name type data\"");
            return -1;
        }
        if (lineno <= 2)
            continue;
        if (!parse_row(&line, &row, msg, sizeof msg)) {
            pp_err(err, lineno, "%s", msg);
            return -1;
        }
        rows++;
        if (fn)
            fn(&row, arg);
    }
    if (lineno < 2) {
        pp_err(err, lineno, lineno == 0 ? "empty file" : "no column line");
        return -1;
    }
    if (rows != ndata || rows > INT_MAX) {
        pp_err(err, 0, "header announces %llu stats, file has %llu", (unsigned long long)ndata,
               (unsigned long long)rows);
        return -1;
    }
    return (int)rows;
}

int zfs_parse_named_kstat(const char *text, zfs_kstat_fn fn, void *arg, struct parse_err *err)
{
    int rows = walk_named_kstat(text, NULL, NULL, err);
    if (rows < 0 || !fn)
        return rows;
    return walk_named_kstat(text, fn, arg, err);
}

/* Copies up to cap-1 bytes of [s, s+len) with anything but printable ASCII
 * replaced by '?', so kernel garbage cannot reach a log line or a report
 * string as control characters or invalid UTF-8. */
static void printable(char *out, size_t cap, const char *s, size_t len)
{
    size_t n = len < cap - 1 ? len : cap - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = s[i] >= ' ' && s[i] <= '~' ? s[i] : '?';
    out[n] = '\0';
}

/* pp_line_fn for the state file: the whole line is one known state word. */
static int take_state(struct pp_cur *line, int lineno, void *arg, struct parse_err *err)
{
    const char *start = line->p;
    size_t total = (size_t)(line->end - line->p);
    const char *w;
    size_t len;
    if (pp_word(line, &w, &len) && pp_at_end(line))
        for (int i = 0; i < ZFS_STATE_COUNT; i++)
            if (word_is(w, len, zfs_pool_state_names[i])) {
                *(int *)arg = i;
                return 0;
            }
    char shown[33];
    printable(shown, sizeof shown, start, total);
    pp_err(err, lineno, "not a pool state: \"%s\"", shown);
    return -1;
}

int zfs_parse_state(const char *text, int *state, struct parse_err *err)
{
    return pp_single_line(text, take_state, state, err);
}

/* ---- collector -------------------------------------------------------------- */

/* zfs_kstat_fn for <pool>/iostats: the ARC read and write counters. */
static void take_iostat(const struct zfs_kstat_row *row, void *arg)
{
    Pvescope__ZfsPool *p = arg;
    if (row->type != ZFS_KSTAT_UINT64)
        return;
    const struct { const char *name; protobuf_c_boolean *has; uint64_t *v; } fields[] = {
        {"arc_read_count", &p->has_arc_read_count, &p->arc_read_count},
        {"arc_read_bytes", &p->has_arc_read_bytes, &p->arc_read_bytes},
        {"arc_write_count", &p->has_arc_write_count, &p->arc_write_count},
        {"arc_write_bytes", &p->has_arc_write_bytes, &p->arc_write_bytes},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (word_is(row->name, row->name_len, fields[i].name)) {
            *fields[i].has = true;
            *fields[i].v = row->u64;
        }
}

/* zfs_kstat_fn for arcstats. */
static void take_arcstat(const struct zfs_kstat_row *row, void *arg)
{
    Pvescope__ZfsArc *a = arg;
    if (row->type != ZFS_KSTAT_UINT64)
        return;
    const struct { const char *name; protobuf_c_boolean *has; uint64_t *v; } fields[] = {
        {"size", &a->has_size_bytes, &a->size_bytes}, {"c_min", &a->has_min_bytes, &a->min_bytes},
        {"c_max", &a->has_max_bytes, &a->max_bytes}, {"hits", &a->has_hits, &a->hits},
        {"misses", &a->has_misses, &a->misses},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (word_is(row->name, row->name_len, fields[i].name)) {
            *fields[i].has = true;
            *fields[i].v = row->u64;
        }
}

/* "<file> line N: msg" for a pool's or the ARC's error field. */
static char *describe(struct arena *a, const char *file, const struct parse_err *e)
{
    char msg[256];
    if (e->line > 0)
        snprintf(msg, sizeof msg, "%s line %d: %s", file, e->line, e->msg);
    else
        snprintf(msg, sizeof msg, "%s: %s", file, e->msg[0] ? e->msg : "parse error");
    return arena_strdup(a, msg);
}

static char *describe_errno(struct arena *a, const char *file, int neg_errno)
{
    char msg[256];
    snprintf(msg, sizeof msg, "%s: %s", file, strerror(-neg_errno));
    return arena_strdup(a, msg);
}

/* Reads <pool>/iostats into p; absent is fine (modules before iostats). */
static void read_iostats(struct collector_ctx *ctx, const char *pool, Pvescope__ZfsPool *p)
{
    char rel[POOL_NAME_MAX + 64];
    snprintf(rel, sizeof rel, KSTAT_DIR "/%s/iostats", pool);
    int rc = read_file_at(ctx->procfs, rel, ctx->scratch);
    if (rc == -ENOENT)
        return;
    struct parse_err e = {0};
    if (rc < 0)
        p->error = describe_errno(ctx->arena, "iostats", rc);
    else if (zfs_parse_named_kstat(ctx->scratch->data, take_iostat, p, &e) < 0)
        p->error = describe(ctx->arena, "iostats", &e);
}

/* The pool in directory name, or NULL when it is not a pool (no state file). */
static Pvescope__ZfsPool *read_pool(struct collector_ctx *ctx, const char *name)
{
    char rel[POOL_NAME_MAX + 64];
    snprintf(rel, sizeof rel, KSTAT_DIR "/%s/state", name);
    int rc = read_file_at(ctx->procfs, rel, ctx->scratch);
    if (rc == -ENOENT || rc == -ENOTDIR)
        return NULL;
    Pvescope__ZfsPool *p = arena_alloc(ctx->arena, sizeof *p);
    pvescope__zfs_pool__init(p);
    p->name = arena_strdup(ctx->arena, name);
    struct parse_err e = {0};
    int state;
    if (rc < 0)
        p->error = describe_errno(ctx->arena, "state", rc);
    else if (zfs_parse_state(ctx->scratch->data, &state, &e) < 0)
        p->error = describe(ctx->arena, "state", &e);
    else
        p->state = (char *)zfs_pool_state_names[state];
    char *state_error = p->error;
    read_iostats(ctx, name, p);
    if (state_error && p->error != state_error) {      /* keep both problems */
        char msg[512];
        snprintf(msg, sizeof msg, "%s; %s", state_error, p->error);
        p->error = arena_strdup(ctx->arena, msg);
    }
    return p;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Directory entries of <procfs>/spl/kstat/zfs that could be pools, sorted
 * (readdir order is the kernel's; sorted output is stable). Returns the
 * count, or -1 with errno (ENOENT: ZFS not loaded). */
static long list_candidates(struct collector_ctx *ctx, char ***names)
{
    char dir[4096];
    if (!path_join(dir, sizeof dir, ctx->procfs, KSTAT_DIR)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    size_t n = 0, cap = 16;
    char **v = malloc(cap * sizeof *v);
    for (struct dirent *de; v && (de = readdir(d)) != NULL;) {
        if (de->d_name[0] == '.' || strlen(de->d_name) >= POOL_NAME_MAX)
            continue;
        if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
            continue;
        if (n == cap) {
            char **w = realloc(v, (cap *= 2) * sizeof *v);
            if (!w)
                break;
            v = w;
        }
        v[n++] = arena_strdup(ctx->arena, de->d_name);
    }
    closedir(d);
    if (!v)
        abort();
    qsort(v, n, sizeof *v, by_name);
    *names = v;
    return (long)n;
}

static Pvescope__ZfsArc *read_arc(struct collector_ctx *ctx)
{
    Pvescope__ZfsArc *a = arena_alloc(ctx->arena, sizeof *a);
    pvescope__zfs_arc__init(a);
    int rc = ctx->files ? file_cache_read(ctx->files, ctx->procfs, KSTAT_DIR "/arcstats", ctx->scratch,
                                          FILE_MULTI_RECORD)
                        : read_file_at(ctx->procfs, KSTAT_DIR "/arcstats", ctx->scratch);
    struct parse_err e = {0};
    if (rc < 0)
        a->error = describe_errno(ctx->arena, "arcstats", rc);
    else if (zfs_parse_named_kstat(ctx->scratch->data, take_arcstat, a, &e) < 0)
        a->error = describe(ctx->arena, "arcstats", &e);
    return a;
}

/* The cycle's warning: the first pool with an error, how many, and the ARC's. */
static void describe_faults(const Pvescope__Report *r, struct collector_ctx *ctx)
{
    size_t bad = 0;
    const Pvescope__ZfsPool *first = NULL;
    for (size_t i = 0; i < r->n_zfs_pools; i++)
        if (r->zfs_pools[i]->error && bad++ == 0)
            first = r->zfs_pools[i];
    const char *arc = r->zfs_arc && r->zfs_arc->error ? r->zfs_arc->error : NULL;
    if (first && arc)
        snprintf(ctx->err, sizeof ctx->err, "%zu of %zu pools unreadable (%s: %s); %s", bad, r->n_zfs_pools,
                 first->name, first->error, arc);
    else if (first)
        snprintf(ctx->err, sizeof ctx->err, "%zu of %zu pools unreadable (%s: %s)", bad, r->n_zfs_pools,
                 first->name, first->error);
    else if (arc)
        snprintf(ctx->err, sizeof ctx->err, "%s", arc);
}

static int zfs_collect(void *state, struct collector_ctx *ctx, Pvescope__Report *r)
{
    (void)state;
    char **names;
    long n = list_candidates(ctx, &names);
    if (n < 0) {
        if (errno == ENOENT)
            return 0;                       /* ZFS not loaded */
        return collector_fail(ctx, "%s/" KSTAT_DIR ": %s", ctx->procfs, strerror(errno));
    }
    r->zfs_pools = arena_alloc(ctx->arena, (size_t)n * sizeof *r->zfs_pools);
    for (long i = 0; i < n; i++) {
        Pvescope__ZfsPool *p = read_pool(ctx, names[i]);
        if (p)
            r->zfs_pools[r->n_zfs_pools++] = p;
    }
    free(names);
    r->zfs_arc = read_arc(ctx);
    describe_faults(r, ctx);
    return 0;
}

const struct collector collector_zfs = {
    .name = "zfs",
    .help = "ZFS pool states and ARC I/O per pool, and the node's ARC size and hit counters (OpenZFS kstats)",
    .default_enabled = true,
    .collect = zfs_collect,
};
