/* proc_parsers.h — pure parsers of the /proc files the host collectors read.
 *
 * Each collector (proc_stat.c, meminfo.c, loadavg.c, uptime.c, pressure.c,
 * diskstats.c, netdev.c, bootid.c) is split into a parser declared here, which
 * takes the file's text and fills a plain struct or a protobuf message, and a
 * thin collect() that reads the file and calls it. Unit tests and fuzz targets
 * call the parsers directly on strings.
 *
 * Conventions shared by every parser:
 *   - text is NUL-terminated; nothing past the NUL is read, and no line is
 *     read past its '\n'.
 *   - the kernel ends every line with '\n', so a last line without one means
 *     the file was cut short: it is reported as truncated.
 *   - numbers are plain decimal digits; a sign, a suffix, or a value above
 *     UINT64_MAX makes the line malformed (strtoull would turn "-1" into
 *     UINT64_MAX, which is why the token helpers below do not use it).
 *   - single-record files fail as a whole on any malformed line we consume;
 *     multi-row files (diskstats, net/dev) skip bad rows and count them.
 *   - on failure a parser fills *err and returns -1; what it wrote to its
 *     output is then unspecified and must not be reported.
 *
 * The static inline helpers at the end are the tokenizer all parsers share,
 * the line walkers that apply the conventions above (pp_each_line,
 * pp_single_line, pp_each_row), and the collect()-side helpers (proc_read,
 * proc_read_records, proc_fail) that give every collector the same error text:
 * "<procfs>/<file> line N: what".
 *
 * Multi-row collectors that skipped bad rows still return 0, with ctx->err
 * describing the skipped rows (a warning, not a failure). */
#ifndef PVESCOPE_PROC_PARSERS_H
#define PVESCOPE_PROC_PARSERS_H

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "collector.h"
#include "fileio.h"
#include "pvescope.pb-c.h"

/* First problem a parser met. line is 1-based (0: not about one line);
 * bad_rows counts the rows a multi-row parser skipped. */
struct parse_err {
    int line;
    unsigned bad_rows;
    char msg[160];
};

/* ---- /proc/stat (proc_stat.c) ------------------------------------------- */

#define PROC_STAT_CPU_COLUMNS 10   /* user nice system idle iowait irq softirq steal guest guest_nice */

struct proc_stat {
    uint64_t cpu[PROC_STAT_CPU_COLUMNS]; /* aggregate "cpu" line; unset columns are 0 */
    unsigned cpu_columns;                /* columns present: 4..10 (older kernels print fewer) */
    uint32_t cpu_count;                  /* number of "cpuN" lines */
    uint64_t ctxt, processes, btime;
    uint32_t procs_running, procs_blocked;
    bool has_ctxt, has_processes, has_btime, has_procs_running, has_procs_blocked;
};

/* Parses /proc/stat text. Requires the aggregate "cpu" line (4..10 columns;
 * extra columns of a future kernel are checked and ignored) and at least one
 * "cpuN" line; ctxt, processes, btime, procs_running and procs_blocked are
 * taken when present. Lines with other keys (intr, softirq, ...) are skipped.
 * Returns 0, or -1 with *err set on an empty, truncated or malformed file. */
int parse_proc_stat(const char *text, struct proc_stat *out, struct parse_err *err);

/* Node CPU ratios between two /proc/stat samples, computed as Proxmox does:
 * used = user+nice+system+irq+softirq+steal, total = used+idle+iowait.
 * Sets *usage = Δused/Δtotal and *iowait = Δiowait/Δtotal, clamped to [0,1],
 * and returns true; returns false (outputs untouched) when Δtotal is 0 or any
 * of those eight counters went backwards (the caller then re-baselines). */
bool proc_stat_cpu_ratio(const struct proc_stat *prev, const struct proc_stat *cur,
                         double *usage, double *iowait);

/* ---- /proc/meminfo (meminfo.c) ------------------------------------------ */

/* Parses /proc/meminfo into m (an initialised Pvescope__Memory), in bytes:
 * MemTotal, MemFree, MemAvailable, Buffers, Cached, SwapTotal, SwapFree,
 * Shmem and SReclaimable, each "<n> kB" × 1024; keys that are absent stay
 * unset. Other lines only need the "Key:" shape. Returns 0, or -1 with *err
 * set when the text is empty, truncated or malformed, a wanted key repeats,
 * a value overflows, or MemTotal is missing. */
int parse_meminfo(const char *text, Pvescope__Memory *m, struct parse_err *err);

/* ---- /proc/loadavg (loadavg.c) ------------------------------------------ */

struct loadavg {
    double load1, load5, load15;
    uint64_t running, total;   /* the "R/T" field: runnable / total scheduling entities */
    uint64_t last_pid;
};

/* Parses the single line "L1 L5 L15 R/T PID\n". Returns 0 or -1 with *err. */
int parse_loadavg(const char *text, struct loadavg *out, struct parse_err *err);

/* ---- /proc/uptime (uptime.c) -------------------------------------------- */

struct uptime {
    double uptime_seconds;
    double idle_seconds;   /* summed over all CPUs */
};

/* Parses the single line "UPTIME IDLE\n". Returns 0 or -1 with *err. */
int parse_uptime(const char *text, struct uptime *out, struct parse_err *err);

/* ---- /proc/pressure/<resource> (pressure.c) ----------------------------- */

/* Parses one PSI file into res (an initialised Pvescope__PressureResource):
 *   some avg10=A avg60=B avg300=C total=N
 *   full avg10=A avg60=B avg300=C total=N      (absent on older kernels' cpu)
 * "some" is required; each kind may appear once. Returns 0 or -1 with *err. */
int parse_pressure(const char *text, Pvescope__PressureResource *res, struct parse_err *err);

/* ---- /proc/diskstats (diskstats.c) -------------------------------------- */

#define DISK_NAME_MAX      31   /* kernel DISK_NAME_LEN 32, including the NUL */
#define DISKSTATS_MAX_VALS 17   /* 11 classic + 4 discard + 2 flush columns */

/* One parsed /proc/diskstats row. */
struct diskstats_row {
    unsigned major, minor;
    char name[DISK_NAME_MAX + 1];
    uint64_t v[DISKSTATS_MAX_VALS];   /* columns after the name, kernel order */
    unsigned nv;                      /* 11 (kernel < 4.18), 15 (< 5.5) or 17 */
};

/* Parses one row [line, line+len) (no '\n'). Rejects a name longer than
 * DISK_NAME_MAX or one that is not a safe path component, a column count
 * other than 11, 15 or 17, and any non-numeric or overflowing value.
 * Returns 0, or -1 with a message in msg. */
int parse_diskstats_row(const char *line, size_t len, struct diskstats_row *row,
                        char *msg, size_t msgcap);

/* True for loop*, ram*, zram* and fd* devices, which are never reported. */
bool diskstats_name_excluded(const char *name);

/* Name heuristic used when sysfs is unreadable: true for partitions
 * (sdXN, vdXN, hdXN, xvdXN, nvmeXnYpZ, mmcblkXpY). */
bool diskstats_name_is_partition(const char *name);

/* Decides whether a row is a whole disk (or dm device); arg is caller data. */
typedef bool (*disk_is_whole_fn)(const char *name, void *arg);

/* Parses all of /proc/diskstats into Disk messages allocated from a, keeping
 * rows that are not excluded and for which is_whole says yes (NULL: use the
 * name heuristic). dm_name is left unset (it comes from sysfs). Bad rows are
 * skipped and counted in err->bad_rows, the first one described in err.
 * Returns the number of rows parsed (kept or filtered out), or -1 when the
 * text is empty or no row could be parsed. */
int parse_diskstats(const char *text, struct arena *a, disk_is_whole_fn is_whole, void *arg,
                    Pvescope__Disk ***disks, size_t *n_disks, struct parse_err *err);

/* ---- /proc/net/dev (netdev.c) ------------------------------------------- */

#define NETDEV_NAME_MAX 15      /* kernel IFNAMSIZ 16, including the NUL */
#define NETDEV_COUNTERS 16

/* True for Proxmox guest plumbing, ^(tap|veth|fwbr|fwln|fwpr)[0-9]: QEMU and
 * LXC NICs and their firewall bridges, reported per guest instead. */
bool netdev_name_excluded(const char *name);

/* Parses /proc/net/dev (two header lines, then "name: 16 counters" rows,
 * with or without blanks after the colon) into NetDev messages allocated
 * from a. With exclude_guest_plumbing, rows of interfaces netdev_name_excluded()
 * names are skipped unparsed. Bad rows are skipped and counted in err->bad_rows. Returns the number of
 * rows parsed (kept or excluded), or -1 when the text is empty, the header is
 * not the expected one, or no row could be parsed. */
int parse_netdev(const char *text, struct arena *a, bool exclude_guest_plumbing,
                 Pvescope__NetDev ***devs, size_t *n_devs, struct parse_err *err);

/* ---- /proc/sys/kernel/random/boot_id (bootid.c) ------------------------- */

#define BOOT_ID_LEN 36          /* 8-4-4-4-12 hex digits and dashes */

/* Parses a boot id line into out (NUL-terminated, lower-case). Returns 0, or
 * -1 with *err unless the text is exactly a UUID followed by '\n'. */
int parse_boot_id(const char *text, char out[BOOT_ID_LEN + 1], struct parse_err *err);

/* ---- shared tokenizer ---------------------------------------------------- */

/* A cursor over one line: characters [p, end), end exclusive, no '\n'. */
struct pp_cur {
    const char *p;
    const char *end;
};

/* Fills *err with a line number and a printf-style message, unless an
 * earlier error is already recorded (the first problem is the useful one). */
static inline void pp_err(struct parse_err *err, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline void pp_err(struct parse_err *err, int line, const char *fmt, ...)
{
    if (!err || err->msg[0])
        return;
    err->line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
}

/* Moves *pos to the next line: sets *line to it (without '\n'), sets
 * *terminated to whether it ended with '\n', and returns false at the end of
 * text. An empty text has no lines. */
static inline bool pp_next_line(const char **pos, struct pp_cur *line, bool *terminated)
{
    const char *s = *pos;
    if (*s == '\0')
        return false;
    const char *e = strchrnul(s, '\n');   /* vectorised in glibc: the hot loop of every parser */
    line->p = s;
    line->end = e;
    *terminated = *e == '\n';
    *pos = *terminated ? e + 1 : e;
    return true;
}

static inline bool pp_is_blank(char c) { return c == ' ' || c == '\t'; }
static inline bool pp_is_digit(char c) { return c >= '0' && c <= '9'; }

/* Skips spaces and tabs. */
static inline void pp_skip_blanks(struct pp_cur *c)
{
    while (c->p < c->end && pp_is_blank(*c->p))
        c->p++;
}

/* True when only blanks remain. */
static inline bool pp_at_end(struct pp_cur *c)
{
    pp_skip_blanks(c);
    return c->p == c->end;
}

/* True when the cursor stands at a blank or the end (a token boundary). */
static inline bool pp_at_boundary(const struct pp_cur *c)
{
    return c->p == c->end || pp_is_blank(*c->p);
}

/* Skips blanks, then takes the token up to the next blank as [*w, *w+*len).
 * Returns false when no token remains. */
static inline bool pp_word(struct pp_cur *c, const char **w, size_t *len)
{
    pp_skip_blanks(c);
    const char *s = c->p;
    while (c->p < c->end && !pp_is_blank(*c->p))
        c->p++;
    *w = s;
    *len = (size_t)(c->p - s);
    return *len > 0;
}

/* Consumes lit when the cursor starts with it (no blank skipping). */
static inline bool pp_literal(struct pp_cur *c, const char *lit)
{
    const char *q = c->p;
    for (; *lit; lit++, q++)
        if (q == c->end || *q != *lit)
            return false;
    c->p = q;
    return true;
}

/* Parses a run of decimal digits at the cursor (no blank skipping) into *out.
 * Fails on no digit or a value above UINT64_MAX; the cursor is then
 * unspecified. Does not check what follows. */
static inline bool pp_digits_u64(struct pp_cur *c, uint64_t *out)
{
    if (c->p == c->end || !pp_is_digit(*c->p))
        return false;
    const char *start = c->p;
    uint64_t v = 0;
    /* 19 digits cannot overflow, so only a 20th digit needs the check. */
    while (c->p < c->end && pp_is_digit(*c->p) && c->p - start < 19)
        v = v * 10 + (uint64_t)(*c->p++ - '0');
    while (c->p < c->end && pp_is_digit(*c->p)) {
        unsigned d = (unsigned)(*c->p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
        c->p++;
    }
    *out = v;
    return true;
}

/* Skips blanks, then parses one unsigned decimal token that must end at a
 * blank or the line end ("12x", "-1", "+1" and overflow fail). */
static inline bool pp_u64(struct pp_cur *c, uint64_t *out)
{
    pp_skip_blanks(c);
    return pp_digits_u64(c, out) && pp_at_boundary(c);
}

/* Parses "D+[.D+]" at the cursor (no blank skipping) into *out, as the kernel
 * prints load averages, uptime and PSI averages. Locale-independent; at most
 * 19 significant digits. Does not check what follows. */
static inline bool pp_decimal_raw(struct pp_cur *c, double *out)
{
    uint64_t mant = 0;
    unsigned digits = 0, frac = 0;
    bool dot = false;
    if (c->p == c->end || !pp_is_digit(*c->p))
        return false;
    for (; c->p < c->end; c->p++) {
        char ch = *c->p;
        if (ch == '.' && !dot) {
            dot = true;
            continue;
        }
        if (!pp_is_digit(ch))
            break;
        if (++digits > 19)
            return false;
        mant = mant * 10 + (uint64_t)(ch - '0');
        frac += dot;
    }
    if (dot && frac == 0)
        return false;                     /* "1." */
    double scale = 1.0;
    for (unsigned i = 0; i < frac; i++)
        scale *= 10.0;
    *out = (double)mant / scale;
    return true;
}

/* Skips blanks, then parses one decimal token ending at a blank or line end. */
static inline bool pp_decimal(struct pp_cur *c, double *out)
{
    pp_skip_blanks(c);
    return pp_decimal_raw(c, out) && pp_at_boundary(c);
}

/* ---- line walkers ---------------------------------------------------------- */

/* One complete line (1-based lineno) of a single-record file: 0, or -1 after pp_err. */
typedef int (*pp_line_fn)(struct pp_cur *line, int lineno, void *arg, struct parse_err *err);

/* Single-record files fail as a whole: the first truncated or rejected line (or
 * no line at all) ends the walk with -1 and *err; else returns the line count. */
static inline int pp_each_line(const char *text, pp_line_fn fn, void *arg, struct parse_err *err)
{
    const char *pos = text;
    struct pp_cur line;
    bool terminated;
    int lineno = 0;
    while (pp_next_line(&pos, &line, &terminated)) {
        lineno++;
        if (!terminated) {
            pp_err(err, lineno, "truncated (last line has no newline)");
            return -1;
        }
        if (fn(&line, lineno, arg, err) != 0)
            return -1;
    }
    if (lineno == 0) {
        pp_err(err, 0, "empty file");
        return -1;
    }
    return lineno;
}

/* One-line files must be exactly one terminated line, and the line's own
 * problem is reported before a stray second line's. Returns 0, or -1 with *err. */
static inline int pp_single_line(const char *text, pp_line_fn fn, void *arg, struct parse_err *err)
{
    const char *pos = text;
    struct pp_cur line;
    bool terminated;
    if (!pp_next_line(&pos, &line, &terminated)) {
        pp_err(err, 0, "empty file");
        return -1;
    }
    if (!terminated) {
        pp_err(err, 1, "truncated (no newline)");
        return -1;
    }
    if (fn(&line, 1, arg, err) != 0)
        return -1;
    if (*pos != '\0') {
        pp_err(err, 2, "unexpected second line");
        return -1;
    }
    return 0;
}

/* One terminated row of a multi-row file: true when it parsed (kept or filtered
 * out), false with the reason in msg when it is to be skipped. */
typedef bool (*pp_row_fn)(struct pp_cur *row, void *arg, char *msg, size_t msgcap);

/* Multi-row files lose only their bad rows: each counts in err->bad_rows, the
 * first is described in *err. Rows are numbered after the lineno header lines
 * already consumed. Returns the rows parsed, or -1 when none ("empty file" when
 * the file had no line at all, header included). */
static inline int pp_each_row(const char *text, int lineno, pp_row_fn fn, void *arg,
                              struct parse_err *err)
{
    const char *pos = text;
    struct pp_cur row;
    bool terminated;
    int parsed = 0;
    while (lineno < INT_MAX && pp_next_line(&pos, &row, &terminated)) {
        char msg[sizeof err->msg];
        lineno++;
        if (!terminated)
            snprintf(msg, sizeof msg, "truncated row (no newline)");
        else if (fn(&row, arg, msg, sizeof msg)) {
            parsed++;
            continue;
        }
        err->bad_rows++;
        pp_err(err, lineno, "%s", msg);
    }
    if (parsed == 0)
        pp_err(err, 0, lineno == 0 ? "empty file" : "no valid row");
    return parsed > 0 ? parsed : -1;
}

/* Lines of text plus one: an upper bound on the rows, so an output array is allocated once. */
static inline size_t pp_count_lines(const char *text)
{
    size_t n = 0;
    for (const char *p = text; (p = strchr(p, '\n')) != NULL; p++)   /* libc's vectorised scan */
        n++;
    return n + 1;
}

/* ---- helpers for the collect() side ------------------------------------- */

/* Reads <ctx->procfs>/<rel> into ctx->scratch (see enum file_shape). Returns 0, or -1 with ctx->err
 * naming the file and the errno text. */
static inline int proc_read(struct collector_ctx *ctx, const char *rel, enum file_shape shape)
{
    int rc = ctx->files ? file_cache_read(ctx->files, ctx->procfs, rel, ctx->scratch, shape)
                        : read_file_at(ctx->procfs, rel, ctx->scratch);
    if (rc < 0)
        return collector_fail(ctx, "%s/%s: %s", ctx->procfs, rel, strerror(-rc));
    return 0;
}

/* Reads the multi-record file <ctx->procfs>/<rel> (diskstats, net/dev) and
 * points *text at its content: the file cache's own copy when there is a
 * cache (read once per cycle whoever asks, never copied), else ctx->scratch.
 * Returns 0, or -1 with ctx->err naming the file and the errno text. */
static inline int proc_read_records(struct collector_ctx *ctx, const char *rel, const char **text)
{
    size_t len;
    int rc = 0;
    if (ctx->files) {
        rc = file_cache_records(ctx->files, ctx->procfs, rel, ctx->scratch, text, &len);
    } else {
        rc = read_file_at(ctx->procfs, rel, ctx->scratch);
        *text = ctx->scratch->data;
    }
    if (rc < 0)
        return collector_fail(ctx, "%s/%s: %s", ctx->procfs, rel, strerror(-rc));
    return 0;
}

/* Formats a parser error into ctx->err as "<procfs>/<rel> line N: msg" and
 * returns -1. For multi-row files the skipped-row count is included. */
static inline int proc_fail(struct collector_ctx *ctx, const char *rel, const struct parse_err *e)
{
    const char *msg = e->msg[0] ? e->msg : "parse error";
    if (e->bad_rows > 0)
        return collector_fail(ctx, "%s/%s: skipped %u bad row(s), first at line %d: %s",
                              ctx->procfs, rel, e->bad_rows, e->line, msg);
    if (e->line > 0)
        return collector_fail(ctx, "%s/%s line %d: %s", ctx->procfs, rel, e->line, msg);
    return collector_fail(ctx, "%s/%s: %s", ctx->procfs, rel, msg);
}

#endif
