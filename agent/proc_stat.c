/* proc_stat.c — the "stat" collector: /proc/stat into Report.host.
 *
 * Reports the aggregate "cpu" line as CpuTicks (only the columns the kernel
 * prints), the number of cpuN lines, USER_HZ, context switches, forks, running
 * and blocked tasks and the boot time, plus the node CPU and iowait ratios
 * over the last interval, computed from the previous cycle's sample the way
 * Proxmox's pvestatd does (see proc_stat_cpu_ratio). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collector.h"
#include "proc_parsers.h"

/* Column indexes of the aggregate cpu line. */
enum { C_USER, C_NICE, C_SYSTEM, C_IDLE, C_IOWAIT, C_IRQ, C_SOFTIRQ, C_STEAL, C_GUEST, C_GUEST_NICE };

#define CPU_MIN_COLUMNS 4   /* Linux 2.4 printed user nice system idle */

/* Parses the numeric columns of a cpu line into cols (keeping at most
 * PROC_STAT_CPU_COLUMNS, checking any further ones) and returns how many
 * there were, or -1 on a malformed value. */
static int parse_cpu_columns(struct pp_cur *c, uint64_t cols[PROC_STAT_CPU_COLUMNS])
{
    int n = 0;
    while (!pp_at_end(c)) {
        uint64_t v;
        if (!pp_u64(c, &v))
            return -1;
        if (n < PROC_STAT_CPU_COLUMNS)
            cols[n] = v;
        if (n < 1000)
            n++;            /* saturates: only "< 4" and "> 10" matter */
    }
    return n;
}

/* True when [w, w+len) is "cpu" followed by one or more digits. */
static bool is_cpuN(const char *w, size_t len)
{
    if (len < 4 || memcmp(w, "cpu", 3) != 0)
        return false;
    for (size_t i = 3; i < len; i++)
        if (!pp_is_digit(w[i]))
            return false;
    return true;
}

/* Handles a "cpu" or "cpuN" line (key already consumed). Returns 0 or -1.
 * A cpuN line is only counted: the report carries the aggregate, and a host
 * with 256 threads would otherwise parse 2,560 numbers per cycle for a count. */
static int take_cpu_line(struct pp_cur *c, bool aggregate, struct proc_stat *out,
                         int lineno, struct parse_err *err)
{
    if (!aggregate) {
        out->cpu_count++;
        return 0;
    }
    uint64_t cols[PROC_STAT_CPU_COLUMNS] = {0};
    int n = parse_cpu_columns(c, cols);
    if (n < 0) {
        pp_err(err, lineno, "malformed cpu value");
        return -1;
    }
    if (n < CPU_MIN_COLUMNS) {
        pp_err(err, lineno, "cpu line has %d columns, expected at least %d", n, CPU_MIN_COLUMNS);
        return -1;
    }
    if (out->cpu_columns) {
        pp_err(err, lineno, "duplicate aggregate cpu line");
        return -1;
    }
    memcpy(out->cpu, cols, sizeof cols);
    out->cpu_columns = n > PROC_STAT_CPU_COLUMNS ? PROC_STAT_CPU_COLUMNS : (unsigned)n;
    return 0;
}

/* Parses the single value of a "key value" line; max bounds it. */
static int take_scalar(struct pp_cur *c, uint64_t max, uint64_t *v, bool *has,
                       const char *key, int lineno, struct parse_err *err)
{
    if (*has) {
        pp_err(err, lineno, "duplicate %s line", key);
        return -1;
    }
    if (!pp_u64(c, v) || !pp_at_end(c) || *v > max) {
        pp_err(err, lineno, "malformed %s line", key);
        return -1;
    }
    *has = true;
    return 0;
}

/* pp_line_fn: dispatches on the key so unknown keys (intr, softirq, ...) stay harmless. */
static int take_line(struct pp_cur *c, int lineno, void *arg, struct parse_err *err)
{
    struct proc_stat *out = arg;
    const char *w;
    size_t len;
    if (!pp_word(c, &w, &len)) {
        pp_err(err, lineno, "empty line");
        return -1;
    }
#define KEY(k) (len == sizeof(k) - 1 && memcmp(w, k, len) == 0)
    if (KEY("cpu"))
        return take_cpu_line(c, true, out, lineno, err);
    if (is_cpuN(w, len))
        return take_cpu_line(c, false, out, lineno, err);
    if (KEY("ctxt"))
        return take_scalar(c, UINT64_MAX, &out->ctxt, &out->has_ctxt, "ctxt", lineno, err);
    if (KEY("processes"))
        return take_scalar(c, UINT64_MAX, &out->processes, &out->has_processes, "processes", lineno, err);
    if (KEY("btime"))
        return take_scalar(c, INT64_MAX, &out->btime, &out->has_btime, "btime", lineno, err);
    uint64_t v = 0;
    if (KEY("procs_running")) {
        int rc = take_scalar(c, UINT32_MAX, &v, &out->has_procs_running, "procs_running", lineno, err);
        out->procs_running = (uint32_t)v;
        return rc;
    }
    if (KEY("procs_blocked")) {
        int rc = take_scalar(c, UINT32_MAX, &v, &out->has_procs_blocked, "procs_blocked", lineno, err);
        out->procs_blocked = (uint32_t)v;
        return rc;
    }
#undef KEY
    return 0;
}

int parse_proc_stat(const char *text, struct proc_stat *out, struct parse_err *err)
{
    memset(out, 0, sizeof *out);
    if (pp_each_line(text, take_line, out, err) < 0)
        return -1;
    if (out->cpu_columns == 0 || out->cpu_count == 0) {
        pp_err(err, 0, "no %s line", out->cpu_columns == 0 ? "aggregate cpu" : "cpuN");
        return -1;
    }
    return 0;
}

/* Sums the columns of the "used" (busy) part of a sample. */
static uint64_t cpu_used(const struct proc_stat *s)
{
    const uint64_t *c = s->cpu;
    return c[C_USER] + c[C_NICE] + c[C_SYSTEM] + c[C_IRQ] + c[C_SOFTIRQ] + c[C_STEAL];
}

static double clamp01(double x) { return x < 0 ? 0 : x > 1 ? 1 : x; }

bool proc_stat_cpu_ratio(const struct proc_stat *prev, const struct proc_stat *cur,
                         double *usage, double *iowait)
{
    for (int i = C_USER; i <= C_STEAL; i++)
        if (cur->cpu[i] < prev->cpu[i])
            return false;
    /* Each column's delta is non-negative now; sums of deltas cannot wrap in
     * practice (2^64 ticks), and unsigned arithmetic keeps them exact. */
    uint64_t d_used = cpu_used(cur) - cpu_used(prev);
    uint64_t d_idle = cur->cpu[C_IDLE] - prev->cpu[C_IDLE];
    uint64_t d_iowait = cur->cpu[C_IOWAIT] - prev->cpu[C_IOWAIT];
    uint64_t d_total = d_used + d_idle + d_iowait;
    if (d_total == 0)
        return false;
    *usage = clamp01((double)d_used / (double)d_total);
    *iowait = clamp01((double)d_iowait / (double)d_total);
    return true;
}

/* ---- collector ------------------------------------------------------------ */

struct stat_state {
    struct proc_stat prev;   /* last successfully parsed sample */
    bool have_prev;
};

/* Allocates the state holding the previous sample. */
static int stat_init(void **state, struct collector_ctx *ctx)
{
    struct stat_state *st = calloc(1, sizeof *st);
    if (!st)
        return collector_fail(ctx, "out of memory");
    *state = st;
    return 0;
}

/* Copies the present columns of s into a CpuTicks from the arena. */
static Pvescope__CpuTicks *make_ticks(const struct proc_stat *s, struct arena *a)
{
    Pvescope__CpuTicks *t = arena_alloc(a, sizeof *t);
    pvescope__cpu_ticks__init(t);
    uint64_t *val[PROC_STAT_CPU_COLUMNS] = {
        &t->user, &t->nice, &t->system, &t->idle, &t->iowait,
        &t->irq, &t->softirq, &t->steal, &t->guest, &t->guest_nice};
    protobuf_c_boolean *has[PROC_STAT_CPU_COLUMNS] = {
        &t->has_user, &t->has_nice, &t->has_system, &t->has_idle, &t->has_iowait,
        &t->has_irq, &t->has_softirq, &t->has_steal, &t->has_guest, &t->has_guest_nice};
    for (unsigned i = 0; i < s->cpu_columns; i++) {
        *val[i] = s->cpu[i];
        *has[i] = true;
    }
    return t;
}

/* Fills the Host fields that come straight from one sample. */
static void fill_host(Pvescope__Host *h, const struct proc_stat *s, struct arena *a)
{
    h->cpu = make_ticks(s, a);
    h->has_cpu_count = true;
    h->cpu_count = s->cpu_count;
    long hz = sysconf(_SC_CLK_TCK);
    if (hz > 0 && hz <= (long)UINT32_MAX) {
        h->has_user_hz = true;
        h->user_hz = (uint32_t)hz;
    }
    h->has_context_switches = s->has_ctxt;
    h->context_switches = s->ctxt;
    h->has_forks = s->has_processes;
    h->forks = s->processes;
    h->has_procs_running = s->has_procs_running;
    h->procs_running = s->procs_running;
    h->has_procs_blocked = s->has_procs_blocked;
    h->procs_blocked = s->procs_blocked;
    h->has_boot_time_unix = s->has_btime;
    h->boot_time_unix = (int64_t)s->btime;   /* parser bounds btime to INT64_MAX */
}

/* Reads /proc/stat, fills Host, and derives the ratios against the previous
 * sample. On a parse error nothing is reported and the baseline is kept. */
static int stat_collect(void *state, struct collector_ctx *ctx, Pvescope__Report *r)
{
    struct stat_state *st = state;
    if (proc_read(ctx, "stat", FILE_ONE_RECORD) != 0)
        return -1;
    struct proc_stat cur;
    struct parse_err e = {0};
    if (parse_proc_stat(ctx->scratch->data, &cur, &e) != 0)
        return proc_fail(ctx, "stat", &e);
    Pvescope__Host *h = report_host(r, ctx->arena);
    fill_host(h, &cur, ctx->arena);
    double usage, iowait;
    if (st->have_prev && proc_stat_cpu_ratio(&st->prev, &cur, &usage, &iowait)) {
        h->has_cpu_usage_ratio = true;
        h->cpu_usage_ratio = usage;
        h->has_iowait_ratio = true;
        h->iowait_ratio = iowait;
    }
    st->prev = cur;          /* also re-baselines after a counter went backwards */
    st->have_prev = true;
    return 0;
}

static void stat_fini(void *state) { free(state); }

const struct collector collector_stat = {
    .name = "stat",
    .help = "CPU ticks, node CPU and iowait ratios, context switches, forks, tasks and boot time from /proc/stat",
    .default_enabled = true,
    .init = stat_init,
    .collect = stat_collect,
    .fini = stat_fini,
};
