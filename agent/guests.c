/* guests.c — the "guests" collector: one GuestRuntime per guest running on
 * this node, in Report.guest_runtime, read from /run, /proc and cgroup v2
 * alone: no /etc/pve (inventory is the cluster collector's), no QMP socket,
 * no API.
 *
 * Which guests run
 *   QEMU: each <run>/qemu-server/<vmid>.pid that passes qemu-server's own
 *   test (Helpers.pm vm_running_locally): the file holds a decimal pid, that
 *   process's cmdline is a kvm/qemu binary started with
 *   "-pidfile /var/run/qemu-server/<vmid>.pid", and its stat state is not Z.
 *   A stale pid file (no such process, another process, a zombie) is a
 *   stopped VM. It is left out of the report like every stopped guest, and
 *   the aggregator shows it stopped from the inventory. PVE's vmstatus reports
 *   such a VM as "stopped" too.
 *   LXC: each <sysfs>/fs/cgroup/lxc/<vmid> whose container has an init
 *   process. The init is the child of the lxc-start monitor (the process in
 *   lxc.monitor/<vmid>) that runs under lxc/<vmid>/ns. That is the pid
 *   `lxc-info -p` prints and PVE reports.
 *
 * What each field is
 *   uptime_seconds  /proc/uptime minus the pid's starttime/HZ (stat field 22)
 *   cpu_seconds     cgroup cpu.stat usage_usec / 1e6. This is the whole scope:
 *                   QEMU with its I/O threads, plus swtpm and virtiofsd.
 *   cpu_busy        Δcpu_seconds/Δt since the previous cycle. It is absent on
 *                   the first sample of a guest process, after a restart (pid
 *                   or start time changed), and when the counter went back.
 *   memory_bytes    memory.current − memory.stat "file": PVE 9's memhost for
 *                   VMs and mem for CTs (page cache is not guest memory)
 *   memory_limit_bytes  memory.max; absent when "max" (VMs have no limit)
 *   swap_bytes      memory.swap.current
 *   disk_*_bytes    Σ rbytes / wbytes of io.stat, each I/O counted once (below)
 *   disks           one GuestBlockIo per io.stat device counted. The key is
 *                   the device-mapper name (pve-vm--100--disk--0), else the
 *                   kernel name (zd16, rbd0, sdb).
 *   net_in/net_out  Σ host-side TRANSMIT / RECEIVE bytes of the tap<vmid>i<N>
 *                   (QEMU) or veth<vmid>i<N> (LXC) rows of /proc/net/dev.
 *                   What the host transmits into the tap, the guest receives,
 *                   so it is PVE's netin (and receive is netout).
 *   nics            those rows, with all 16 host-side counters
 *   pressure        cpu/io/memory.pressure of the guest's cgroup
 *   rootfs_*_bytes  LXC: statvfs of <procfs>/<init>/root, through fsstat.h
 *                   (a deadline per cycle; a hung mount is not asked again)
 *
 * Counted once
 *   io.stat has one line per device that a bio of the cgroup was submitted
 *   to. Device-mapper clones keep the bio's cgroup, so a write to a thin LV
 *   also shows on the pool's tdata device and on the NVMe below it. A line is
 *   left out when another line of the same io.stat sits above it in the
 *   device stack: its device is reachable from the other's
 *   <sysfs>/dev/block/M:m/slaves/, followed transitively, with a partition
 *   standing for its disk (the kernel accounts per disk). The lines at the top
 *   of a stack are the guest's own I/O, whatever the storage: thin or thick
 *   LVs, zvols, krbd, passthrough disks, or the filesystem under qcow2/raw
 *   files. Storage without a block device (NFS, CIFS, librbd) has no line.
 *
 * Cost
 *   Per guest and cycle there is one pread on the kept /proc/<pid>/stat and
 *   one on each kept cgroup file: no open and no path walk. /proc/uptime and
 *   /proc/net/dev are read once per cycle. <run>/qemu-server is listed again
 *   only when its mtime changes. Each device's stack is looked up once. Kept
 *   files are bounded by half the RLIMIT_NOFILE soft limit; beyond that,
 *   files are opened for each read.
 *
 * Failures are per guest
 *   A guest whose files vanish mid-cycle (it stopped) is left out without a
 *   word. A missing file (controller not enabled, swap accounting or PSI off)
 *   leaves its fields unset. A malformed or unreadable file also leaves its
 *   fields unset, but it is counted and the first one is described in
 *   ctx->err. The collector still succeeds. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "collector.h"
#include "fileio.h"
#include "guest_parsers.h"
#include "proc_parsers.h"
#include "privileges.h"

/* ==== parsers (guest_parsers.h) =========================================== */

bool parse_vmid(const char *s, size_t len, uint32_t *vmid)
{
    if (len == 0 || len > VMID_DIGITS_MAX || s[0] == '0')
        return false;
    uint32_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!pp_is_digit(s[i]))
            return false;
        v = v * 10 + (uint32_t)(s[i] - '0');
    }
    *vmid = v;
    return true;
}

/* Skips one integer field that the kernel prints signed (tty_nr, tpgid,
 * priority, nice, ...). */
static bool skip_int_field(struct pp_cur *c)
{
    uint64_t v;
    pp_skip_blanks(c);
    if (c->p < c->end && *c->p == '-')
        c->p++;
    return pp_digits_u64(c, &v) && pp_at_boundary(c);
}

/* Fields 3..22, after the ')' that ends the command name. */
static bool pid_stat_fields(struct pp_cur *c, struct pid_stat *out)
{
    if (!pp_literal(c, " ") || c->p == c->end || pp_is_blank(*c->p))
        return false;
    out->state = *c->p++;
    if (!pp_at_boundary(c))
        return false;
    for (int field = 4; field <= 22; field++) {
        uint64_t *want = field == 4    ? &out->ppid
                         : field == 14 ? &out->utime
                         : field == 15 ? &out->stime
                         : field == 22 ? &out->starttime
                                       : NULL;
        if (want ? !pp_u64(c, want) : !skip_int_field(c))
            return false;
    }
    return true;
}

int parse_pid_stat(const char *text, struct pid_stat *out, struct parse_err *err)
{
    memset(out, 0, sizeof *out);
    struct pp_cur c = {text, text + strlen(text)};
    if (!pp_digits_u64(&c, &out->pid) || !pp_literal(&c, " (")) {
        pp_err(err, 1, "expected \"PID (comm)\"");
        return -1;
    }
    const char *close = strrchr(c.p, ')');
    const char *nl = close ? strchr(close, '\n') : NULL;
    if (!nl) {
        pp_err(err, 1, close ? "truncated (no newline)" : "no ')' after the command name");
        return -1;
    }
    if (nl[1] != '\0') {
        pp_err(err, 2, "unexpected second line");
        return -1;
    }
    c.p = close + 1;
    c.end = nl;
    if (!pid_stat_fields(&c, out)) {
        pp_err(err, 1, "malformed fields 3..22 (state, ppid, times, starttime)");
        return -1;
    }
    return 0;
}

/* One argument of a NUL-separated argv. */
struct arg {
    const char *p;
    size_t len;
};

/* Takes the next argument from [*pos, end); false at the end. */
static bool next_arg(const char **pos, const char *end, struct arg *a)
{
    if (*pos >= end)
        return false;
    const char *nul = memchr(*pos, '\0', (size_t)(end - *pos));
    const char *stop = nul ? nul : end;
    a->p = *pos;
    a->len = (size_t)(stop - *pos);
    *pos = nul ? nul + 1 : end;
    return true;
}

static bool arg_is(const struct arg *a, const char *s)
{
    size_t l = strlen(s);
    return a->len == l && memcmp(a->p, s, l) == 0;
}

/* qemu-server's argv[0] test: m|kvm$| or m@(?:^|/)qemu-[^/]+$@. */
static bool qemu_binary(const struct arg *a)
{
    if (a->len >= 3 && memcmp(a->p + a->len - 3, "kvm", 3) == 0)
        return true;
    const char *slash = memrchr(a->p, '/', a->len);
    const char *base = slash ? slash + 1 : a->p;
    size_t blen = (size_t)(a->p + a->len - base);
    return blen > 5 && memcmp(base, "qemu-", 5) == 0;
}

/* The value qemu-server's parse_cmdline() gives "pidfile": an argument after
 * "-pidfile"/"--pidfile"; an option right after it leaves it without value;
 * the last occurrence wins; empty arguments and "0" are skipped, as Perl's
 * `next if !$p` does. */
static bool pidfile_value(const char *cmdline, size_t len, struct arg *value)
{
    const char *pos = cmdline, *end = cmdline + len;
    struct arg a;
    bool pending = false, pending_pidfile = false, has = false;
    while (next_arg(&pos, end, &a)) {
        if (a.len == 0 || arg_is(&a, "0"))
            continue;
        if (a.p[0] == '-') {
            struct arg name = {a.p + 1, a.len - 1};
            if (name.len > 0 && name.p[0] == '-')
                name = (struct arg){name.p + 1, name.len - 1};
            has = has && !pending_pidfile;
            pending = true;
            pending_pidfile = arg_is(&name, "pidfile");
        } else if (pending) {
            if (pending_pidfile) {
                *value = a;
                has = true;
            }
            pending = pending_pidfile = false;
        }
    }
    return has;
}

bool qemu_cmdline_matches(const char *cmdline, size_t len, uint32_t vmid)
{
    const char *pos = cmdline;
    struct arg argv0, value = {NULL, 0};
    if (!next_arg(&pos, cmdline + len, &argv0) || !qemu_binary(&argv0) ||
        !pidfile_value(cmdline, len, &value))
        return false;
    char want[64];
    snprintf(want, sizeof want, "/var/run/qemu-server/%" PRIu32 ".pid", vmid);
    if (arg_is(&value, want))
        return true;
    snprintf(want, sizeof want, "/run/qemu-server/%" PRIu32 ".pid", vmid);
    return arg_is(&value, want);
}

/* One "key value" line; true with the key in *w, *wl and the cursor at the
 * value, false (with err) for an empty line. */
static bool flat_key_word(struct pp_cur *c, int lineno, const char **w, size_t *wl, struct parse_err *err)
{
    if (pp_word(c, w, wl))
        return true;
    pp_err(err, lineno, "empty line");
    return false;
}

int parse_flat_keyed(const char *text, const char *key, uint64_t *out, struct parse_err *err)
{
    size_t klen = strlen(key);
    size_t len = strlen(text);
    *out = 0;
    if (len == 0) {
        pp_err(err, 0, "empty file");
        return -1;
    }
    /* A read cut short anywhere is caught here; lines after the key are
     * not parsed (memory.stat's 40 lines for its 2nd, "file", on every
     * guest every cycle), so nothing after the key is checked beyond that. */
    if (text[len - 1] != '\n') {
        int last = 1;
        for (const char *p = text; (p = strchr(p, '\n')) != NULL; p++)
            last++;
        pp_err(err, last, "truncated (last line has no newline)");
        return -1;
    }
    const char *pos = text;
    struct pp_cur c;
    bool terminated;
    for (int lineno = 1; pp_next_line(&pos, &c, &terminated); lineno++) {
        const char *w, *v;
        size_t wl, vl;
        if (!flat_key_word(&c, lineno, &w, &wl, err))
            return -1;
        if (wl == klen && memcmp(w, key, wl) == 0) {
            if (pp_u64(&c, out) && pp_at_end(&c))
                return 0;
            pp_err(err, lineno, "\"%s\": not one unsigned value", key);
            return -1;
        }
        if (!pp_word(&c, &v, &vl) || !pp_at_end(&c)) {
            pp_err(err, lineno, "expected \"key value\"");
            return -1;
        }
    }
    pp_err(err, 0, "no \"%s\" line", key);
    return -1;
}

/* Outputs of parse_cgroup_value. */
struct cg_value {
    uint64_t *out;
    bool *is_max;
};

/* pp_line_fn: "N" or "max", nothing else on the line. */
static int value_line(struct pp_cur *c, int lineno, void *arg, struct parse_err *err)
{
    struct cg_value *v = arg;
    if (pp_literal(c, "max")) {
        if (pp_at_end(c)) {
            *v->is_max = true;
            return 0;
        }
    } else if (pp_u64(c, v->out) && pp_at_end(c)) {
        return 0;
    }
    pp_err(err, lineno, "expected an unsigned value or \"max\"");
    return -1;
}

int parse_cgroup_value(const char *text, uint64_t *out, bool *is_max, struct parse_err *err)
{
    struct cg_value v = {out, is_max};
    *out = 0;
    *is_max = false;
    return pp_single_line(text, value_line, &v, err);
}

/* Parses "MAJ:MIN" at the start of an io.stat line. */
static bool io_dev(struct pp_cur *c, struct io_stat_row *row)
{
    uint64_t major, minor;
    if (!pp_digits_u64(c, &major) || !pp_literal(c, ":") || !pp_digits_u64(c, &minor) ||
        !pp_at_boundary(c) || major > UINT_MAX || minor > UINT_MAX)
        return false;
    row->major = (unsigned)major;
    row->minor = (unsigned)minor;
    return true;
}

/* Index of a required io.stat key in row order, or -1 for any other key. */
static int io_key(const char *k, size_t len)
{
    static const char *const keys[] = {"rbytes", "wbytes", "rios", "wios"};
    for (int i = 0; i < 4; i++)
        if (strlen(keys[i]) == len && memcmp(keys[i], k, len) == 0)
            return i;
    return -1;
}

/* What parse_io_stat hands each line. */
struct io_walk {
    io_stat_row_fn fn;
    void *arg;
};

/* Parses the "key=value" tokens of one line into row; false after pp_err. */
static bool io_fields(struct pp_cur *c, int lineno, struct io_stat_row *row, struct parse_err *err)
{
    uint64_t *vals[4] = {&row->rbytes, &row->wbytes, &row->rios, &row->wios};
    unsigned seen = 0;
    const char *w;
    size_t wl;
    while (pp_word(c, &w, &wl)) {
        const char *eq = memchr(w, '=', wl);
        if (!eq || eq == w || eq + 1 == w + wl) {
            pp_err(err, lineno, "expected \"key=value\"");
            return false;
        }
        int k = io_key(w, (size_t)(eq - w));
        if (k < 0)
            continue;
        struct pp_cur v = {eq + 1, w + wl};
        if ((seen & (1u << k)) || !pp_digits_u64(&v, vals[k]) || v.p != v.end) {
            pp_err(err, lineno, "%.*s: duplicate, or not an unsigned value", (int)(eq - w), w);
            return false;
        }
        seen |= 1u << k;
    }
    if (seen != 0xf) {
        pp_err(err, lineno, "missing rbytes, wbytes, rios or wios");
        return false;
    }
    return true;
}

/* pp_line_fn: one device line. */
static int io_line(struct pp_cur *c, int lineno, void *arg, struct parse_err *err)
{
    struct io_walk *wk = arg;
    struct io_stat_row row = {0};
    if (!io_dev(c, &row)) {
        pp_err(err, lineno, "expected \"MAJ:MIN\"");
        return -1;
    }
    if (!io_fields(c, lineno, &row, err))
        return -1;
    wk->fn(&row, wk->arg);
    return 0;
}

int parse_io_stat(const char *text, io_stat_row_fn fn, void *arg, struct parse_err *err)
{
    if (*text == '\0')
        return 0;
    struct io_walk wk = {fn, arg};
    return pp_each_line(text, io_line, &wk, err);
}

int parse_pid_list(const char *text, uint32_t *pids, size_t cap, struct parse_err *err)
{
    size_t n = 0;
    int lineno = 1;
    for (const char *p = text;;) {
        for (; *p == ' ' || *p == '\t' || *p == '\n'; p++)
            lineno += *p == '\n';
        if (*p == '\0')
            return (int)n;
        uint64_t v = 0;
        const char *s = p;
        for (; pp_is_digit(*p) && p - s < 8; p++)
            v = v * 10 + (uint64_t)(*p - '0');
        bool ends = *p == '\0' || *p == ' ' || *p == '\t' || *p == '\n';
        if (p == s || !ends || v == 0 || v > GUEST_PID_MAX || n == cap || n >= INT_MAX) {
            pp_err(err, lineno, n == cap ? "more than %zu pids" : "expected pids (1..%zu)",
                   n == cap ? cap : (size_t)GUEST_PID_MAX);
            return -1;
        }
        pids[n++] = (uint32_t)v;
    }
}

bool cgroup_file_in(const char *text, const char *dir)
{
    size_t dl = strlen(dir);
    const char *pos = text;
    struct pp_cur line;
    bool terminated;
    while (pp_next_line(&pos, &line, &terminated)) {
        if (!pp_literal(&line, "0::"))
            continue;
        size_t len = (size_t)(line.end - line.p);
        return len >= dl && memcmp(line.p, dir, dl) == 0 && (len == dl || line.p[dl] == '/');
    }
    return false;
}

bool parse_guest_ifname(const char *name, size_t len, enum guest_kind *kind, uint32_t *vmid)
{
    size_t pre;
    if (len > 3 && memcmp(name, "tap", 3) == 0) {
        *kind = GUEST_QEMU;
        pre = 3;
    } else if (len > 4 && memcmp(name, "veth", 4) == 0) {
        *kind = GUEST_LXC;
        pre = 4;
    } else {
        return false;
    }
    const char *i = memchr(name + pre, 'i', len - pre);
    if (!i || !parse_vmid(name + pre, (size_t)(i - name) - pre, vmid) || i + 1 == name + len)
        return false;
    for (const char *p = i + 1; p < name + len; p++)
        if (!pp_is_digit(*p))
            return false;
    return true;
}

/* ==== collector state ======================================================= */

#define DEFAULT_RUN          "/run"
#define REFRESH_CYCLES       40    /* missing files tried, pid files listed again */
#define DEV_REFRESH_CYCLES   240   /* device stacks looked up again (a new instance's at once) */
#define QDIR_SETTLE_SECONDS  2.0   /* a listing this close to the dir's mtime is redone */
#define MONITOR_PIDS_MAX     8
#define CHILD_PIDS_MAX       64
#define NS_PIDS_MAX          1024
#define DEV_LOWER_MAX        32
#define DEV_DEPTH_MAX        8
#define DEV_KEY_MAX          128   /* dm names are at most 127 characters */
#define ROOTFS_DEADLINE_S    0.2   /* LXC rootfs statvfs: the most a cycle waits for all */
#define FD_BUDGET_UNLIMITED  65536
#define FD_CLOSED            (-1)
#define FD_MISSING           (-2)  /* ENOENT when last opened; retried at the next refresh */

/* The files kept open per guest: its process's stat, then its cgroup files. */
enum gfile { GF_STAT, GF_CPU, GF_MEMCUR, GF_MEMSTAT, GF_MEMMAX, GF_SWAP, GF_IO,
             GF_PCPU, GF_PIO, GF_PMEM, GF_COUNT };

static const char *const gfile_name[GF_COUNT] = {
    "stat", "cpu.stat", "memory.current", "memory.stat", "memory.max",
    "memory.swap.current", "io.stat", "cpu.pressure", "io.pressure", "memory.pressure"};

/* One guest seen by discovery (running or not), across cycles. */
struct guest {
    uint32_t vmid;
    enum guest_kind kind;
    bool listed;                    /* found by this cycle's discovery */
    uint32_t pid;                   /* the running instance: pid and start time; 0 = none */
    uint64_t starttime;
    uint32_t rejected_pid;          /* a stale pid file's process, refused already */
    uint64_t rejected_start;
    int fd[GF_COUNT];
    bool has_prev;                  /* CPU history of this instance */
    uint64_t prev_usage_usec;
    double prev_t;
    Pvescope__GuestRuntime *out;    /* this cycle's report, or NULL */
    size_t n_nics;                  /* this cycle's NICs, while they are attached */
    bool net_bad;                   /* a NIC row of this guest was malformed */
    bool fresh_devs;                /* a new instance: its io.stat devices are looked up anew */
};

struct devnum {
    unsigned major, minor;
};

/* What sysfs says about one block device seen in io.stat. A node with 100
 * guests has ~190 of these for good, so they hold only what was found: the
 * fixed-size draft below is for the lookup. */
struct devinfo {
    struct devnum dev;
    unsigned n_lower;
    struct devnum *lower;                 /* every device below it in the stack; one
                                             allocation with key, owned by the cache */
    char *key;
};

/* A device being looked up. */
struct devinfo_draft {
    struct devnum dev;
    char key[DEV_KEY_MAX];
    unsigned n_lower;
    struct devnum lower[DEV_LOWER_MAX];
};

struct guests_state {
    struct guest *g;                /* sorted by (vmid, kind) */
    size_t n, cap;
    uint32_t *qemu_ids;             /* <vmid>.pid names at the last listing */
    size_t n_qemu, cap_qemu;
    bool qdir_valid;
    struct stat qdir_sb;
    struct devinfo *devs;
    size_t n_devs, cap_devs;
    struct io_stat_row *io_rows;    /* one guest's io.stat lines, while they are read */
    size_t cap_io_rows;
    long hz;
    unsigned fd_budget, fds_kept;
    unsigned cycles;
    char *roots[3];                 /* procfs, sysfs, run the kept files belong to */
    const char *run;                /* this cycle's <run> */
    unsigned warnings;
    char first_warning[200];
    struct fsstat *fs;              /* LXC rootfs statvfs, with a deadline */
    struct fsstat_req *rootfs_reqs;
    size_t *rootfs_guest;           /* index in g of each request */
    size_t cap_rootfs;
};

/* Returns p (an array of *cap elements of size sz) grown to hold at least
 * need elements; aborts on OOM, like buf.c. */
static void *grow(void *p, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap * 2 : 16;
    while (c < need)
        c *= 2;
    void *q = realloc(p, c * sz);
    if (!q)
        abort();
    *cap = c;
    return q;
}

/* ==== warnings ============================================================== */

/* Counts one skipped file; the first is described (ctx->err at the end). */
static void warn(struct guests_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(struct guests_state *st, const char *fmt, ...)
{
    if (st->warnings++ > 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->first_warning, sizeof st->first_warning, fmt, ap);
    va_end(ap);
}

static void warn_read(struct guests_state *st, const char *root, const char *rel, int rc)
{
    warn(st, "%s/%s: %s", root, rel, strerror(-rc));
}

static void warn_parse(struct guests_state *st, const char *root, const char *rel,
                       const struct parse_err *e)
{
    const char *msg = e->msg[0] ? e->msg : "parse error";
    if (e->line > 0)
        warn(st, "%s/%s line %d: %s", root, rel, e->line, msg);
    else
        warn(st, "%s/%s: %s", root, rel, msg);
}

/* ==== files ================================================================= */

/* Reads all of a one-record kernel file (see FILE_ONE_RECORD) from offset 0
 * into b. Returns 0 or a negative errno. */
static int pread_whole(int fd, struct buf *b)
{
    buf_reset(b);
    for (;;) {
        buf_reserve(b, 4096);
        size_t room = b->cap - b->len - 1;
        ssize_t n = pread(fd, b->data + b->len, room, (off_t)b->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || b->len + (size_t)n > FILEIO_MAX_BYTES) {
            b->data[b->len] = '\0';
            return n < 0 ? -errno : -EFBIG;
        }
        b->len += (size_t)n;
        if ((size_t)n < room)
            break;
    }
    b->data[b->len] = '\0';
    return 0;
}

/* Reads <procfs>/<rel> into ctx->scratch through the agent's file cache
 * (shared with the host collectors) when there is one. */
static int proc_file(struct collector_ctx *ctx, const char *rel, enum file_shape shape)
{
    return ctx->files ? file_cache_read(ctx->files, ctx->procfs, rel, ctx->scratch, shape)
                      : read_file_at(ctx->procfs, rel, ctx->scratch);
}

/* Opens <root>/<rel>; returns the descriptor or a negative errno. */
static int open_rel(const char *root, const char *rel)
{
    char path[4096];
    if (!path_join(path, sizeof path, root, rel))
        return -ENAMETOOLONG;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    return fd >= 0 ? fd : -errno;
}

static void slot_close(struct guests_state *st, int *slot)
{
    if (*slot >= 0) {
        close(*slot);
        st->fds_kept--;
    }
    *slot = FD_CLOSED;
}

static void close_slots(struct guests_state *st, struct guest *g)
{
    for (int f = 0; f < GF_COUNT; f++)
        slot_close(st, &g->fd[f]);
}

/* Opens and reads <root>/<rel> for a slot without a kept descriptor, and
 * keeps the descriptor while the budget allows. Returns 0, or a negative
 * errno. -ENOENT is remembered (FD_MISSING) until the next refresh, so a file
 * the kernel does not provide (swap accounting off) costs no syscall per
 * cycle. */
static int slot_open_read(struct guests_state *st, int *slot, const char *root, const char *rel,
                          struct buf *b)
{
    if (*slot == FD_MISSING)
        return -ENOENT;
    int fd = open_rel(root, rel);
    if (fd == -ENOENT || fd == -ENOTDIR) {
        *slot = FD_MISSING;
        return -ENOENT;
    }
    if (fd < 0)
        return fd;
    int rc = pread_whole(fd, b);
    if (rc == 0 && st->fds_kept < st->fd_budget) {
        *slot = fd;
        st->fds_kept++;
    } else {
        close(fd);
    }
    return rc;
}

/* Reads a small file whole into out (NUL-terminated, cut at cap-1 bytes). */
static int read_small(const char *root, const char *rel, char *out, size_t cap)
{
    int fd = open_rel(root, rel);
    if (fd < 0)
        return fd;
    ssize_t n;
    do {
        n = read(fd, out, cap - 1);
    } while (n < 0 && errno == EINTR);
    int rc = n < 0 ? -errno : 0;
    close(fd);
    out[n > 0 ? n : 0] = '\0';
    return rc;
}

/* ==== device stacks (the counted-once rule) ============================== */

/* Parses "M:m" with an optional newline, as sysfs dev files hold it. */
static bool parse_devnum(const char *s, struct devnum *d)
{
    struct io_stat_row row;
    struct pp_cur c = {s, s + strcspn(s, "\n")};
    if (!io_dev(&c, &row) || c.p != c.end)
        return false;
    *d = (struct devnum){row.major, row.minor};
    return true;
}

static bool read_devnum(const struct collector_ctx *ctx, const char *rel, struct devnum *d)
{
    char line[32];
    return read_small(ctx->sysfs, rel, line, sizeof line) == 0 && parse_devnum(line, d);
}

/* A name from sysfs usable as one path component (and as a key): 1..max-1
 * printable ASCII characters without blanks or '/', not "." or "..". */
static bool safe_name(const char *s, size_t max)
{
    size_t len = strlen(s);
    if (len == 0 || len >= max || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (; *s; s++)
        if (*s <= ' ' || *s > '~' || *s == '/')
            return false;
    return true;
}

/* The whole disk a slave name stands for: itself when it is in
 * <sysfs>/block, else the disk holding it as a partition
 * (<sysfs>/block/<disk>/<name>/partition, where disk is the name without its
 * trailing digits and, after a digit, a 'p': nvme0n1p3, sda3, md0p1). */
static bool disk_of(const struct collector_ctx *ctx, const char *name, struct devnum *d)
{
    char rel[2 * sizeof ((struct dirent *)0)->d_name + 32], tmp[16];
    snprintf(rel, sizeof rel, "block/%s/dev", name);
    if (read_devnum(ctx, rel, d))
        return true;
    size_t len = strlen(name), k = len;
    while (k > 0 && pp_is_digit(name[k - 1]))
        k--;
    if (k >= 2 && k < len && name[k - 1] == 'p' && pp_is_digit(name[k - 2]))
        k--;
    if (k == 0 || k == len)
        return false;
    snprintf(rel, sizeof rel, "block/%.*s/%s/partition", (int)k, name, name);
    if (read_small(ctx->sysfs, rel, tmp, sizeof tmp) != 0)
        return false;
    snprintf(rel, sizeof rel, "block/%.*s/dev", (int)k, name);
    return read_devnum(ctx, rel, d);
}

static int devnum_cmp(struct devnum a, struct devnum b)
{
    if (a.major != b.major)
        return a.major < b.major ? -1 : 1;
    return a.minor == b.minor ? 0 : a.minor < b.minor ? -1 : 1;
}

/* Adds x to d->lower unless it is there or the list is full. */
static void add_lower(struct devinfo_draft *d, struct devnum x)
{
    for (unsigned i = 0; i < d->n_lower; i++)
        if (devnum_cmp(d->lower[i], x) == 0)
            return;
    if (d->n_lower < DEV_LOWER_MAX)
        d->lower[d->n_lower++] = x;
}

static bool has_lower(const struct devinfo *d, struct devnum x)
{
    for (unsigned i = 0; i < d->n_lower; i++)
        if (devnum_cmp(d->lower[i], x) == 0)
            return true;
    return false;
}

/* The name a device's I/O is reported under: its device-mapper name, else
 * its kernel name (DEVNAME in uevent), else "M:m". */
static void dev_key(const struct collector_ctx *ctx, struct devnum dev, char key[DEV_KEY_MAX])
{
    char rel[64], text[512];
    snprintf(rel, sizeof rel, "dev/block/%u:%u/dm/name", dev.major, dev.minor);
    if (read_small(ctx->sysfs, rel, text, DEV_KEY_MAX) == 0) {
        text[strcspn(text, "\n")] = '\0';
        if (safe_name(text, DEV_KEY_MAX)) {
            memcpy(key, text, strlen(text) + 1);
            return;
        }
    }
    snprintf(rel, sizeof rel, "dev/block/%u:%u/uevent", dev.major, dev.minor);
    if (read_small(ctx->sysfs, rel, text, sizeof text) == 0) {
        const char *n = strstr(text, "DEVNAME=");
        if (n && (n == text || n[-1] == '\n')) {
            n += 8;
            size_t len = strcspn(n, "\n");
            snprintf(key, DEV_KEY_MAX, "%.*s", (int)len, n);
            if (len < DEV_KEY_MAX && safe_name(key, DEV_KEY_MAX))
                return;
        }
    }
    snprintf(key, DEV_KEY_MAX, "%u:%u", dev.major, dev.minor);
}

/* Position of dev in the sorted device cache; *found tells whether it is there. */
static size_t dev_pos(const struct guests_state *st, struct devnum dev, bool *found)
{
    size_t lo = 0, hi = st->n_devs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = devnum_cmp(dev, st->devs[mid].dev);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    *found = false;
    return lo;
}

static const struct devinfo *dev_get(struct guests_state *st, const struct collector_ctx *ctx,
                                     struct devnum dev, int depth);

/* The cache's copy of a finished lookup: its lower devices and key in one
 * allocation of the size they need. Aborts on OOM, like buf.c. */
static struct devinfo devinfo_keep(const struct devinfo_draft *d)
{
    size_t lower_bytes = d->n_lower * sizeof *d->lower, key_bytes = strlen(d->key) + 1;
    struct devnum *mem = malloc(lower_bytes + key_bytes);
    if (!mem)
        abort();
    memcpy(mem, d->lower, lower_bytes);
    char *key = (char *)mem + lower_bytes;
    memcpy(key, d->key, key_bytes);
    return (struct devinfo){.dev = d->dev, .n_lower = d->n_lower, .lower = mem, .key = key};
}

/* Adds every device below d (its slaves, and everything below them, which
 * the cache knows once a pool has been seen) to d->lower. */
/* Opens <sysfs>/dev/block/M:m/slaves, or NULL. Its own frame, so the path
 * buffer is not on the stack once per level of add_lowers' recursion. */
__attribute__((noinline)) static DIR *open_slaves(const struct collector_ctx *ctx, struct devnum dev)
{
    char rel[64], path[4096];
    snprintf(rel, sizeof rel, "dev/block/%u:%u/slaves", dev.major, dev.minor);
    return path_join(path, sizeof path, ctx->sysfs, rel) ? opendir(path) : NULL;
}

static void add_lowers(struct guests_state *st, const struct collector_ctx *ctx, struct devinfo_draft *d,
                       int depth)
{
    DIR *dir = depth < DEV_DEPTH_MAX ? open_slaves(ctx, d->dev) : NULL;
    if (!dir)
        return;
    struct dirent *e;
    while ((e = readdir(dir))) {
        struct devnum low;
        if (!safe_name(e->d_name, 64) || !disk_of(ctx, e->d_name, &low))
            continue;
        add_lower(d, low);
        const struct devinfo *ld = dev_get(st, ctx, low, depth + 1);
        for (unsigned i = 0; ld && i < ld->n_lower; i++)
            add_lower(d, ld->lower[i]);
    }
    closedir(dir);
}

/* The cache entry of dev, looked up in sysfs on first sight; NULL only past
 * DEV_DEPTH_MAX (a stack that deep is not a real one). The pointer is valid
 * until the next dev_get. */
static const struct devinfo *dev_get(struct guests_state *st, const struct collector_ctx *ctx,
                                     struct devnum dev, int depth)
{
    bool found;
    size_t i = dev_pos(st, dev, &found);
    if (found)
        return &st->devs[i];
    if (depth > DEV_DEPTH_MAX)
        return NULL;
    struct devinfo_draft d = {.dev = dev};
    dev_key(ctx, dev, d.key);
    add_lowers(st, ctx, &d, depth);
    i = dev_pos(st, dev, &found);           /* the walk below may have added entries */
    if (!found) {
        st->devs = grow(st->devs, &st->cap_devs, st->n_devs + 1, sizeof *st->devs);
        memmove(&st->devs[i + 1], &st->devs[i], (st->n_devs - i) * sizeof *st->devs);
        st->devs[i] = devinfo_keep(&d);
        st->n_devs++;
    }
    return &st->devs[i];
}

/* Empties the device cache. */
static void devs_clear(struct guests_state *st)
{
    for (size_t i = 0; i < st->n_devs; i++)
        free(st->devs[i].lower);
    st->n_devs = 0;
}

/* Forgets dev. A new guest instance's volumes were activated for it, and
 * qemu-server deactivates volumes when a VM stops, so their dm minors may
 * have named another guest's volume when they were cached. */
static void dev_forget(struct guests_state *st, struct devnum dev)
{
    bool found;
    size_t i = dev_pos(st, dev, &found);
    if (!found)
        return;
    free(st->devs[i].lower);
    memmove(&st->devs[i], &st->devs[i + 1], (st->n_devs - i - 1) * sizeof *st->devs);
    st->n_devs--;
}

/* The cache entry of a device already looked up, or NULL. */
static const struct devinfo *dev_find(const struct guests_state *st, struct devnum dev)
{
    bool found;
    size_t i = dev_pos(st, dev, &found);
    return found ? &st->devs[i] : NULL;
}

/* ==== discovery ============================================================ */

static int guest_cmp(uint32_t vmid, enum guest_kind kind, const struct guest *g)
{
    if (vmid != g->vmid)
        return vmid < g->vmid ? -1 : 1;
    return kind == g->kind ? 0 : kind < g->kind ? -1 : 1;
}

/* Position of (vmid, kind) in the sorted table; *found tells whether it is there. */
static size_t guest_find(const struct guests_state *st, uint32_t vmid, enum guest_kind kind,
                         bool *found)
{
    size_t lo = 0, hi = st->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = guest_cmp(vmid, kind, &st->g[mid]);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    *found = false;
    return lo;
}

/* Marks (kind, vmid) as found by discovery, adding it when new. */
static void guest_mark(struct guests_state *st, enum guest_kind kind, uint32_t vmid)
{
    bool found;
    size_t i = guest_find(st, vmid, kind, &found);
    if (!found) {
        st->g = grow(st->g, &st->cap, st->n + 1, sizeof *st->g);
        memmove(&st->g[i + 1], &st->g[i], (st->n - i) * sizeof *st->g);
        st->n++;
        memset(&st->g[i], 0, sizeof st->g[i]);
        st->g[i].vmid = vmid;
        st->g[i].kind = kind;
        for (int f = 0; f < GF_COUNT; f++)
            st->g[i].fd[f] = FD_CLOSED;
    }
    st->g[i].listed = true;
}

/* Forgets the guests discovery no longer finds (their pid file or cgroup went). */
static void drop_unlisted(struct guests_state *st)
{
    size_t k = 0;
    for (size_t i = 0; i < st->n; i++) {
        if (!st->g[i].listed) {
            close_slots(st, &st->g[i]);
            continue;
        }
        st->g[k++] = st->g[i];
    }
    st->n = k;
}

static bool same_stamp(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* Lists <path> into st->qemu_ids: the vmids of its <vmid>.pid entries. */
static bool list_pid_files(struct guests_state *st, const char *path)
{
    DIR *dir = opendir(path);
    if (!dir)
        return false;
    st->n_qemu = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        size_t len = strlen(e->d_name);
        uint32_t vmid;
        if (len > 4 && strcmp(e->d_name + len - 4, ".pid") == 0 &&
            parse_vmid(e->d_name, len - 4, &vmid)) {
            st->qemu_ids = grow(st->qemu_ids, &st->cap_qemu, st->n_qemu + 1, sizeof *st->qemu_ids);
            st->qemu_ids[st->n_qemu++] = vmid;
        }
    }
    closedir(dir);
    return true;
}

/* Brings st->qemu_ids up to date. tmpfs stamps a directory on every create
 * and unlink, so the listing is redone only when the stamp changed, or when
 * it was taken within QDIR_SETTLE_SECONDS of the stamp: the stamp has a clock
 * tick's granularity, and two changes in one tick leave one stamp. */
static void qemu_discover(struct guests_state *st)
{
    char path[4096];
    struct stat sb;
    if (!path_join(path, sizeof path, st->run, "qemu-server"))
        errno = ENAMETOOLONG;
    else if (stat(path, &sb) == 0)
        errno = 0;
    if (errno != 0) {
        if (errno != ENOENT && errno != ENOTDIR)
            warn(st, "%s/qemu-server: %s", st->run, strerror(errno));
        st->n_qemu = 0;
        st->qdir_valid = false;
        return;
    }
    double stamp = (double)sb.st_mtim.tv_sec + (double)sb.st_mtim.tv_nsec / 1e9;
    if (st->qdir_valid && same_stamp(&sb, &st->qdir_sb) &&
        clock_realtime() - stamp > QDIR_SETTLE_SECONDS)
        return;
    st->qdir_valid = list_pid_files(st, path);
    st->qdir_sb = sb;
    if (!st->qdir_valid) {
        warn(st, "%s: %s", path, strerror(errno));
        st->n_qemu = 0;
    }
}

/* Marks every container with a cgroup directory <sysfs>/fs/cgroup/lxc/<vmid>.
 * kernfs updates a directory's mtime only in some cases, so this is listed
 * every cycle (open, getdents, close: a few microseconds). */
static void lxc_discover(struct guests_state *st, const struct collector_ctx *ctx)
{
    char path[4096];
    if (!path_join(path, sizeof path, ctx->sysfs, "fs/cgroup/lxc"))
        return;
    DIR *dir = opendir(path);
    if (!dir) {
        if (errno != ENOENT && errno != ENOTDIR)
            warn(st, "%s: %s", path, strerror(errno));
        return;
    }
    struct dirent *e;
    while ((e = readdir(dir))) {
        uint32_t vmid;
        bool dir_like = e->d_type == DT_DIR || e->d_type == DT_UNKNOWN;
        if (dir_like && parse_vmid(e->d_name, strlen(e->d_name), &vmid))
            guest_mark(st, GUEST_LXC, vmid);
    }
    closedir(dir);
}

/* Updates the guest table to this cycle's pid files and container cgroups. */
static void discover(struct guests_state *st, const struct collector_ctx *ctx)
{
    for (size_t i = 0; i < st->n; i++)
        st->g[i].listed = false;
    qemu_discover(st);
    for (size_t i = 0; i < st->n_qemu; i++)
        guest_mark(st, GUEST_QEMU, st->qemu_ids[i]);
    lxc_discover(st, ctx);
    drop_unlisted(st);
}

/* ==== which process is the guest =========================================== */

static bool running_state(char s) { return s != 'Z' && s != 'X' && s != 'x'; }

/* True when the process the guest's kept /proc/<pid>/stat was opened for
 * still lives (proc gives ESRCH once it is reaped, even if the pid is reused)
 * and is not a zombie; *ps is its stat. Otherwise the descriptor is closed. */
static bool instance_alive(struct guests_state *st, struct collector_ctx *ctx, struct guest *g,
                           struct pid_stat *ps)
{
    if (g->fd[GF_STAT] < 0)
        return false;
    struct parse_err e = {0};
    if (pread_whole(g->fd[GF_STAT], ctx->scratch) == 0 &&
        parse_pid_stat(ctx->scratch->data, ps, &e) == 0 && ps->pid == g->pid &&
        ps->starttime == g->starttime && running_state(ps->state))
        return true;
    slot_close(st, &g->fd[GF_STAT]);
    return false;
}

/* Opens and parses /proc/<pid>/stat of a candidate process. Returns the
 * descriptor with *ps, or -1: no such process (silently), a zombie, or an
 * unreadable or malformed file (warned). */
static int open_pid_stat(struct guests_state *st, struct collector_ctx *ctx, uint32_t pid,
                         struct pid_stat *ps)
{
    char rel[32];
    snprintf(rel, sizeof rel, "%" PRIu32 "/stat", pid);
    int fd = open_rel(ctx->procfs, rel);
    if (fd < 0) {
        if (fd != -ENOENT && fd != -ESRCH)
            warn_read(st, ctx->procfs, rel, fd);
        return -1;
    }
    struct parse_err e = {0};
    int rc = pread_whole(fd, ctx->scratch);
    if (rc == 0 && parse_pid_stat(ctx->scratch->data, ps, &e) == 0 && ps->pid == pid &&
        running_state(ps->state))
        return fd;
    if (rc != 0 && rc != -ESRCH)
        warn_read(st, ctx->procfs, rel, rc);
    else if (rc == 0 && e.msg[0])
        warn_parse(st, ctx->procfs, rel, &e);
    else if (rc == 0 && ps->pid != pid)
        warn(st, "%s/%s: pid %" PRIu64 " inside", ctx->procfs, rel, ps->pid);
    close(fd);
    return -1;
}

/* True while fd (a /proc/<pid>/stat) still belongs to a live process. */
static bool fd_alive(int fd, struct buf *b) { return pread_whole(fd, b) == 0; }

/* Makes (pid, ps->starttime) the guest's running instance, with fd as its
 * kept /proc/<pid>/stat (kept whatever the budget: it is what makes the next
 * cycle cheap). A different instance than before (a restart, another
 * process) starts over: no CPU history, cgroup files opened anew. */
static void adopt(struct guests_state *st, struct guest *g, uint32_t pid, const struct pid_stat *ps,
                  int fd)
{
    if (pid != g->pid || ps->starttime != g->starttime) {
        close_slots(st, g);
        g->has_prev = false;
        g->fresh_devs = true;
        g->pid = pid;
        g->starttime = ps->starttime;
    }
    slot_close(st, &g->fd[GF_STAT]);
    g->fd[GF_STAT] = fd;
    st->fds_kept++;
    g->rejected_pid = 0;
}

/* The guest has no running instance. */
static void not_running(struct guests_state *st, struct guest *g)
{
    close_slots(st, g);
    g->pid = 0;
    g->starttime = 0;
    g->has_prev = false;
}

/* The pid in <run>/qemu-server/<vmid>.pid: one line of digits (qemu-server's
 * m/^(\d+)$/). A missing file is a VM stopped since the listing; a malformed
 * one is a stale pid file. Neither is warned about. */
static bool read_pid_file(struct guests_state *st, uint32_t vmid, uint32_t *pid)
{
    char rel[64], line[32];
    snprintf(rel, sizeof rel, "qemu-server/%" PRIu32 ".pid", vmid);
    int rc = read_line_at(st->run, rel, line, sizeof line);
    if (rc != 0) {
        if (rc != -ENOENT)
            warn_read(st, st->run, rel, rc);
        return false;
    }
    uint64_t v = 0;
    size_t i = 0;
    for (; pp_is_digit(line[i]) && i < 8; i++)
        v = v * 10 + (uint64_t)(line[i] - '0');
    *pid = (uint32_t)v;
    return i > 0 && line[i] == '\0' && v > 0 && v <= GUEST_PID_MAX;
}

/* Whether /proc/<pid>/cmdline is VM vmid's QEMU (qemu_cmdline_matches). */
static bool qemu_cmdline_ok(struct guests_state *st, struct collector_ctx *ctx, uint32_t pid,
                            uint32_t vmid)
{
    char rel[32];
    snprintf(rel, sizeof rel, "%" PRIu32 "/cmdline", pid);
    int rc = read_file_at(ctx->procfs, rel, ctx->scratch);
    if (rc != 0) {
        if (rc != -ENOENT && rc != -ESRCH)
            warn_read(st, ctx->procfs, rel, rc);
        return false;
    }
    return qemu_cmdline_matches(ctx->scratch->data, ctx->scratch->len, vmid);
}

/* Whether VM g runs, by qemu-server's test, and as which process (*ps). While
 * the known QEMU process lives this is one pread; the pid file, stat and
 * cmdline are read only when it does not. A stale pid file's process is
 * examined once, not again while it keeps its start time. */
static bool qemu_identify(struct guests_state *st, struct collector_ctx *ctx, struct guest *g,
                          struct pid_stat *ps)
{
    if (instance_alive(st, ctx, g, ps))
        return true;
    uint32_t pid;
    int fd;
    if (!read_pid_file(st, g->vmid, &pid) || (fd = open_pid_stat(st, ctx, pid, ps)) < 0) {
        not_running(st, g);
        return false;
    }
    bool refused = pid == g->rejected_pid && ps->starttime == g->rejected_start;
    if (refused || !qemu_cmdline_ok(st, ctx, pid, g->vmid) || !fd_alive(fd, ctx->scratch)) {
        g->rejected_pid = pid;
        g->rejected_start = ps->starttime;
        close(fd);
        not_running(st, g);
        return false;
    }
    adopt(st, g, pid, ps, fd);
    return true;
}

/* Reads a pid list file. Returns the count, or -1: missing (silently),
 * unreadable or malformed (warned). */
static int read_pids(struct guests_state *st, const char *root, const char *rel, struct buf *b,
                     uint32_t *pids, size_t cap)
{
    int rc = read_file_at(root, rel, b);
    if (rc != 0) {
        if (rc != -ENOENT && rc != -ENOTDIR && rc != -ESRCH)
            warn_read(st, root, rel, rc);
        return -1;
    }
    struct parse_err e = {0};
    int n = parse_pid_list(b->data, pids, cap, &e);
    if (n < 0)
        warn_parse(st, root, rel, &e);
    return n;
}

/* The init among the monitor's children (/proc/<m>/task/<m>/children): the
 * one whose cgroup is under /lxc/<vmid>/ns. Returns 1 with *init, 0 when no
 * child is, -1 when there is no children list (kernel without
 * CONFIG_PROC_CHILDREN, or the monitor is gone). */
static int init_from_children(struct guests_state *st, struct collector_ctx *ctx, uint32_t vmid,
                              uint32_t monitor, uint32_t *init)
{
    uint32_t kids[CHILD_PIDS_MAX];
    char rel[64], dir[48];
    snprintf(rel, sizeof rel, "%" PRIu32 "/task/%" PRIu32 "/children", monitor, monitor);
    int n = read_pids(st, ctx->procfs, rel, ctx->scratch, kids, CHILD_PIDS_MAX);
    if (n < 0)
        return -1;
    snprintf(dir, sizeof dir, "/lxc/%" PRIu32 "/ns", vmid);
    for (int i = 0; i < n; i++) {
        snprintf(rel, sizeof rel, "%" PRIu32 "/cgroup", kids[i]);
        if (read_file_at(ctx->procfs, rel, ctx->scratch) == 0 &&
            cgroup_file_in(ctx->scratch->data, dir)) {
            *init = kids[i];
            return 1;
        }
    }
    return 0;
}

static bool is_monitor(uint64_t ppid, const uint32_t *mon, int n_mon)
{
    for (int i = 0; i < n_mon; i++)
        if (ppid == mon[i])
            return true;
    return false;
}

/* Without children lists: the process in lxc/<vmid>/ns, or in ns/init.scope
 * where a systemd init moves itself, whose parent is a monitor. */
static bool init_from_cgroup(struct guests_state *st, struct collector_ctx *ctx, uint32_t vmid,
                             const uint32_t *mon, int n_mon, uint32_t *init)
{
    static const char *const sub[] = {"", "/init.scope"};
    uint32_t pids[NS_PIDS_MAX];
    for (size_t s = 0; s < sizeof sub / sizeof sub[0]; s++) {
        char rel[96];
        snprintf(rel, sizeof rel, "fs/cgroup/lxc/%" PRIu32 "/ns%s/cgroup.procs", vmid, sub[s]);
        int n = read_pids(st, ctx->sysfs, rel, ctx->scratch, pids, NS_PIDS_MAX);
        for (int i = 0; i < n; i++) {
            struct pid_stat ps;
            struct parse_err e = {0};
            snprintf(rel, sizeof rel, "%" PRIu32 "/stat", pids[i]);
            if (read_file_at(ctx->procfs, rel, ctx->scratch) == 0 &&
                parse_pid_stat(ctx->scratch->data, &ps, &e) == 0 && is_monitor(ps.ppid, mon, n_mon)) {
                *init = pids[i];
                return true;
            }
        }
    }
    return false;
}

/* The init pid of container vmid, found from its lxc-start monitor
 * (<sysfs>/fs/cgroup/lxc.monitor/<vmid>/cgroup.procs). */
static bool lxc_find_init(struct guests_state *st, struct collector_ctx *ctx, uint32_t vmid,
                          uint32_t *init)
{
    uint32_t mon[MONITOR_PIDS_MAX];
    char rel[64];
    snprintf(rel, sizeof rel, "fs/cgroup/lxc.monitor/%" PRIu32 "/cgroup.procs", vmid);
    int n = read_pids(st, ctx->sysfs, rel, ctx->scratch, mon, MONITOR_PIDS_MAX);
    bool have_children = false;
    for (int i = 0; i < n; i++) {
        int rc = init_from_children(st, ctx, vmid, mon[i], init);
        if (rc == 1)
            return true;
        have_children |= rc == 0;
    }
    return n > 0 && !have_children && init_from_cgroup(st, ctx, vmid, mon, n, init);
}

/* Whether container g runs, and its init (*ps). One pread while the known
 * init lives; the monitor is consulted only when it does not. */
static bool lxc_identify(struct guests_state *st, struct collector_ctx *ctx, struct guest *g,
                         struct pid_stat *ps)
{
    if (instance_alive(st, ctx, g, ps))
        return true;
    uint32_t init;
    int fd;
    if (!lxc_find_init(st, ctx, g->vmid, &init) || (fd = open_pid_stat(st, ctx, init, ps)) < 0) {
        not_running(st, g);
        return false;
    }
    adopt(st, g, init, ps, fd);
    return true;
}

/* ==== one guest's report ==================================================== */

/* What every guest's report needs from the host this cycle. */
struct host_now {
    bool has_uptime;
    double uptime;
};

/* <sysfs>-relative path of one of g's cgroup files. */
static void cgroup_rel(const struct guest *g, enum gfile f, char *rel, size_t cap)
{
    if (g->kind == GUEST_QEMU)
        snprintf(rel, cap, "fs/cgroup/qemu.slice/%" PRIu32 ".scope/%s", g->vmid, gfile_name[f]);
    else
        snprintf(rel, cap, "fs/cgroup/lxc/%" PRIu32 "/%s", g->vmid, gfile_name[f]);
}

/* Reads one of g's cgroup files into ctx->scratch. Returns 0; 1 when it is
 * not there (a controller or PSI is off, or the guest is going away: no
 * warning); -1 when it could not be read (warned). */
static int cg_read(struct guests_state *st, struct collector_ctx *ctx, struct guest *g, enum gfile f)
{
    char rel[96];
    if (g->fd[f] >= 0) {
        if (pread_whole(g->fd[f], ctx->scratch) == 0)
            return 0;                       /* the common case: no path to build */
        slot_close(st, &g->fd[f]);          /* kernfs: ENODEV once the cgroup is removed; */
    }                                       /* the guest may be back under the same name */
    cgroup_rel(g, f, rel, sizeof rel);
    int rc = slot_open_read(st, &g->fd[f], ctx->sysfs, rel, ctx->scratch);
    if (rc == 0)
        return 0;
    if (rc == -ENOENT || rc == -ENODEV || rc == -EOPNOTSUPP)
        return 1;
    warn_read(st, ctx->sysfs, rel, rc);
    return -1;
}

static void warn_cg(struct guests_state *st, const struct collector_ctx *ctx, const struct guest *g,
                    enum gfile f, const struct parse_err *e)
{
    char rel[96];
    cgroup_rel(g, f, rel, sizeof rel);
    warn_parse(st, ctx->sysfs, rel, e);
}

/* A single-value cgroup file; false when absent, unreadable or malformed
 * (the last two warned). "max" is accepted only where allow_max says so. */
static bool cg_value(struct guests_state *st, struct collector_ctx *ctx, struct guest *g, enum gfile f,
                     bool allow_max, uint64_t *v, bool *is_max)
{
    struct parse_err e = {0};
    if (cg_read(st, ctx, g, f) != 0)
        return false;
    if (parse_cgroup_value(ctx->scratch->data, v, is_max, &e) == 0 && (allow_max || !*is_max))
        return true;
    pp_err(&e, 1, "\"max\" where a value was expected");
    warn_cg(st, ctx, g, f, &e);
    return false;
}

/* One key of a flat-keyed cgroup file already in ctx->scratch. */
static bool cg_keyed_text(struct guests_state *st, struct collector_ctx *ctx, const struct guest *g,
                          enum gfile f, const char *key, uint64_t *v)
{
    struct parse_err e = {0};
    if (parse_flat_keyed(ctx->scratch->data, key, v, &e) == 0)
        return true;
    warn_cg(st, ctx, g, f, &e);
    return false;
}

/* A guest whose cgroup is gone although its process lived at identification
 * stopped in between: the kept stat descriptor fails once it is reaped. */
static bool vanished(struct collector_ctx *ctx, const struct guest *g)
{
    return g->fd[GF_STAT] < 0 || !fd_alive(g->fd[GF_STAT], ctx->scratch);
}

/* The fields every running guest has: identity, pid, uptime. */
static Pvescope__GuestRuntime *new_runtime(struct arena *a, const struct guest *g,
                                           const struct host_now *now, long hz)
{
    Pvescope__GuestRuntime *out = arena_alloc(a, sizeof *out);
    pvescope__guest_runtime__init(out);
    out->vmid = g->vmid;
    out->type = (char *)(g->kind == GUEST_QEMU ? "qemu" : "lxc");
    out->has_running = out->running = true;
    out->has_pid = true;
    out->pid = g->pid;
    if (now->has_uptime) {
        double up = now->uptime - (double)g->starttime / (double)hz;
        out->has_uptime_seconds = true;
        out->uptime_seconds = up > 0 ? up : 0;
    }
    return out;
}

/* cpu_seconds from cpu.stat (already in ctx->scratch when have), and
 * cpu_busy against this instance's previous sample. */
static void guest_cpu(struct guests_state *st, struct collector_ctx *ctx, struct guest *g, bool have,
                      Pvescope__GuestRuntime *out)
{
    uint64_t usec;
    if (!have || !cg_keyed_text(st, ctx, g, GF_CPU, "usage_usec", &usec)) {
        g->has_prev = false;
        return;
    }
    out->has_cpu_seconds = true;
    out->cpu_seconds = (double)usec / 1e6;
    double dt = ctx->now_monotonic - g->prev_t;
    if (g->has_prev && usec >= g->prev_usage_usec && dt > 0) {
        out->has_cpu_busy = true;
        out->cpu_busy = (double)(usec - g->prev_usage_usec) / 1e6 / dt;
    }
    g->has_prev = true;
    g->prev_usage_usec = usec;
    g->prev_t = ctx->now_monotonic;
}

/* memory_bytes (memhost), memory_limit_bytes and swap_bytes. */
static void guest_memory(struct guests_state *st, struct collector_ctx *ctx, struct guest *g,
                         Pvescope__GuestRuntime *out)
{
    uint64_t cur, file, v;
    bool max;
    if (cg_value(st, ctx, g, GF_MEMCUR, false, &cur, &max) && cg_read(st, ctx, g, GF_MEMSTAT) == 0 &&
        cg_keyed_text(st, ctx, g, GF_MEMSTAT, "file", &file)) {
        out->has_memory_bytes = true;
        out->memory_bytes = cur > file ? cur - file : 0;
    }
    if (cg_value(st, ctx, g, GF_MEMMAX, true, &v, &max) && !max) {
        out->has_memory_limit_bytes = true;
        out->memory_limit_bytes = v;
    }
    if (cg_value(st, ctx, g, GF_SWAP, false, &v, &max)) {
        out->has_swap_bytes = true;
        out->swap_bytes = v;
    }
}

/* A guest's io.stat lines. */
struct io_rows {
    struct io_stat_row *row;
    size_t n, cap;
};

/* io_stat_row_fn: keeps the line (cap is the line count, so it always fits). */
static void take_io_row(const struct io_stat_row *row, void *arg)
{
    struct io_rows *r = arg;
    if (r->n < r->cap)
        r->row[r->n++] = *row;
}

static struct devnum row_dev(const struct io_stat_row *row)
{
    return (struct devnum){row->major, row->minor};
}

/* True when line i's device lies below another line's device: its I/O is
 * already counted in that line. */
static bool io_row_below(const struct guests_state *st, const struct io_rows *r, size_t i)
{
    for (size_t j = 0; j < r->n; j++) {
        const struct devinfo *above = j != i ? dev_find(st, row_dev(&r->row[j])) : NULL;
        if (above && has_lower(above, row_dev(&r->row[i])))
            return true;
    }
    return false;
}

/* Adds one counted io.stat line to the guest's disks and totals. */
static void add_disk(struct arena *a, const struct io_stat_row *row, const char *key,
                     Pvescope__GuestRuntime *out)
{
    Pvescope__GuestBlockIo *d = arena_alloc(a, sizeof *d);
    pvescope__guest_block_io__init(d);
    d->key = arena_strdup(a, key);
    d->has_read_bytes = d->has_written_bytes = d->has_reads = d->has_writes = true;
    d->read_bytes = row->rbytes;
    d->written_bytes = row->wbytes;
    d->reads = row->rios;
    d->writes = row->wios;
    out->disks[out->n_disks++] = d;
    out->disk_read_bytes += row->rbytes;
    out->disk_written_bytes += row->wbytes;
}

/* disk_read/written_bytes and disks from io.stat, each I/O counted once. */
static void guest_disks(struct guests_state *st, struct collector_ctx *ctx, struct guest *g,
                        Pvescope__GuestRuntime *out)
{
    if (cg_read(st, ctx, g, GF_IO) != 0)
        return;
    /* One guest's lines at a time, in a buffer kept across guests and
     * cycles: in the report arena they added up to 200 bytes per guest. */
    struct io_rows r = {0};
    r.cap = pp_count_lines(ctx->scratch->data);
    st->io_rows = grow(st->io_rows, &st->cap_io_rows, r.cap, sizeof *st->io_rows);
    r.row = st->io_rows;
    struct parse_err e = {0};
    if (parse_io_stat(ctx->scratch->data, take_io_row, &r, &e) < 0) {
        warn_cg(st, ctx, g, GF_IO, &e);
        return;
    }
    for (size_t i = 0; i < r.n && g->fresh_devs; i++)
        dev_forget(st, row_dev(&r.row[i]));
    g->fresh_devs = false;
    for (size_t i = 0; i < r.n; i++)           /* all looked up first: the cache moves */
        dev_get(st, ctx, row_dev(&r.row[i]), 0);
    out->disks = arena_alloc(ctx->arena, r.n * sizeof *out->disks);
    out->has_disk_read_bytes = out->has_disk_written_bytes = true;
    for (size_t i = 0; i < r.n; i++) {
        const struct devinfo *d = dev_find(st, row_dev(&r.row[i]));
        if (!io_row_below(st, &r, i))
            add_disk(ctx->arena, &r.row[i], d ? d->key : "?", out);
    }
}

/* One PSI file of the guest's cgroup, or NULL (absent, or warned). */
static Pvescope__PressureResource *cg_pressure(struct guests_state *st, struct collector_ctx *ctx,
                                               struct guest *g, enum gfile f)
{
    if (cg_read(st, ctx, g, f) != 0)
        return NULL;
    Pvescope__PressureResource *res = arena_alloc(ctx->arena, sizeof *res);
    pvescope__pressure_resource__init(res);
    struct parse_err e = {0};
    if (parse_pressure(ctx->scratch->data, res, &e) == 0)
        return res;
    warn_cg(st, ctx, g, f, &e);
    return NULL;
}

static void guest_pressure(struct guests_state *st, struct collector_ctx *ctx, struct guest *g,
                           Pvescope__GuestRuntime *out)
{
    Pvescope__Pressure *p = arena_alloc(ctx->arena, sizeof *p);
    pvescope__pressure__init(p);
    p->cpu = cg_pressure(st, ctx, g, GF_PCPU);
    p->io = cg_pressure(st, ctx, g, GF_PIO);
    p->memory = cg_pressure(st, ctx, g, GF_PMEM);
    if (p->cpu || p->io || p->memory)
        out->pressure = p;
}

/* The report of a running guest, or NULL when it turned out to have stopped
 * since identification (its cgroup and its process are gone). */
static Pvescope__GuestRuntime *guest_report(struct guests_state *st, struct collector_ctx *ctx,
                                            struct guest *g, const struct host_now *now)
{
    int cpu_rc = cg_read(st, ctx, g, GF_CPU);
    if (cpu_rc == 1 && vanished(ctx, g))
        return NULL;
    Pvescope__GuestRuntime *out = new_runtime(ctx->arena, g, now, st->hz);
    guest_cpu(st, ctx, g, cpu_rc == 0, out);
    guest_memory(st, ctx, g, out);
    guest_disks(st, ctx, g, out);
    guest_pressure(st, ctx, g, out);
    return out;
}

/* ==== network ================================================================ */

/* Checks the two /proc/net/dev header lines; returns the text after them, or NULL. */
static const char *netdev_rows(const char *text)
{
    const char *pos = text;
    struct pp_cur l;
    bool t;
    if (!pp_next_line(&pos, &l, &t) || !t || !pp_literal(&l, "Inter-|"))
        return NULL;
    if (!pp_next_line(&pos, &l, &t) || !t)
        return NULL;
    pp_skip_blanks(&l);
    return pp_literal(&l, "face |") ? pos : NULL;
}

/* A NetDev with the 16 counters in /proc/net/dev order, which is the order
 * of NetDev's field numbers 2..17. */
static Pvescope__NetDev *make_nic(struct arena *a, const char *name, size_t len,
                                  const uint64_t v[NETDEV_COUNTERS])
{
    Pvescope__NetDev *d = arena_alloc(a, sizeof *d);
    pvescope__net_dev__init(d);
    d->name = arena_strndup(a, name, len);
    for (unsigned i = 0; i < NETDEV_COUNTERS; i++) {
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field(&pvescope__net_dev__descriptor, i + 2);
        *(uint64_t *)(void *)((char *)d + f->offset) = v[i];
        *(protobuf_c_boolean *)(void *)((char *)d + f->quantifier_offset) = true;
    }
    return d;
}

/* One guest NIC row, before NICs are grouped per guest. */
struct nic {
    size_t guest;
    Pvescope__NetDev *dev;
};

struct nic_walk {
    struct guests_state *st;
    struct arena *a;
    struct nic *nics;
    size_t n;
    const char *procfs;
};

/* Parses the 16 counters after the colon. */
static bool nic_counters(struct pp_cur *c, uint64_t v[NETDEV_COUNTERS])
{
    for (int i = 0; i < NETDEV_COUNTERS; i++)
        if (!pp_u64(c, &v[i]))
            return false;
    return pp_at_end(c);
}

/* Takes one /proc/net/dev row when it is a NIC of a reported guest. Other
 * rows are not parsed: they are the netdev collector's. */
static void nic_row(struct nic_walk *w, struct pp_cur *c, bool terminated, int lineno)
{
    pp_skip_blanks(c);
    const char *name = c->p;
    const char *colon = memchr(c->p, ':', (size_t)(c->end - c->p));
    enum guest_kind kind;
    uint32_t vmid;
    bool found;
    if (!colon || !parse_guest_ifname(name, (size_t)(colon - name), &kind, &vmid))
        return;
    size_t i = guest_find(w->st, vmid, kind, &found);
    if (!found || !w->st->g[i].out)
        return;
    uint64_t v[NETDEV_COUNTERS];
    c->p = colon + 1;
    if (!terminated || !nic_counters(c, v)) {
        w->st->g[i].net_bad = true;
        warn(w->st, "%s/net/dev line %d: %.*s: expected %d unsigned counters", w->procfs, lineno,
             (int)(colon - name), name, NETDEV_COUNTERS);
        return;
    }
    w->nics[w->n++] = (struct nic){i, make_nic(w->a, name, (size_t)(colon - name), v)};
}

/* Hands each guest its NICs and sums them: net_in is what the host side
 * transmitted (into the guest), net_out what it received. */
static void group_nics(struct guests_state *st, struct arena *a, const struct nic *nics, size_t n)
{
    for (size_t k = 0; k < n; k++)
        st->g[nics[k].guest].n_nics++;
    for (size_t i = 0; i < st->n; i++) {
        Pvescope__GuestRuntime *out = st->g[i].out;
        if (!out)
            continue;
        out->nics = arena_alloc(a, st->g[i].n_nics * sizeof *out->nics);
        out->has_net_in_bytes = out->has_net_out_bytes = !st->g[i].net_bad;
    }
    for (size_t k = 0; k < n; k++) {
        Pvescope__GuestRuntime *out = st->g[nics[k].guest].out;
        out->nics[out->n_nics++] = nics[k].dev;
        out->net_in_bytes += nics[k].dev->tx_bytes;
        out->net_out_bytes += nics[k].dev->rx_bytes;
    }
}

/* Reads /proc/net/dev once and attaches the NICs of every reported guest. */
static void attach_nics(struct guests_state *st, struct collector_ctx *ctx)
{
    const char *text = NULL;
    size_t len;
    int rc = ctx->files ? file_cache_records(ctx->files, ctx->procfs, "net/dev", ctx->scratch, &text, &len)
                        : read_file_at(ctx->procfs, "net/dev", ctx->scratch);
    if (rc == 0 && !text)
        text = ctx->scratch->data;
    const char *rows = rc == 0 ? netdev_rows(text) : NULL;
    if (!rows) {
        if (rc != 0)
            warn_read(st, ctx->procfs, "net/dev", rc);
        else
            warn(st, "%s/net/dev: unexpected header", ctx->procfs);
        return;
    }
    for (size_t i = 0; i < st->n; i++) {
        st->g[i].n_nics = 0;
        st->g[i].net_bad = false;
    }
    struct nic_walk w = {st, ctx->arena, NULL, 0, ctx->procfs};
    w.nics = arena_alloc(ctx->arena, pp_count_lines(rows) * sizeof *w.nics);
    const char *pos = rows;
    struct pp_cur line;
    bool terminated;
    for (int lineno = 3; pp_next_line(&pos, &line, &terminated) && lineno < INT_MAX; lineno++)
        nic_row(&w, &line, terminated, lineno);
    group_nics(st, ctx->arena, w.nics, w.n);
}

/* ==== the cycle ============================================================== */

/* Closes every kept file. Guests, their CPU history and the device cache
 * stay: they describe the node, whichever path it is read under (a guest
 * whose process is the same one keeps its history). */
static void drop_files(struct guests_state *st)
{
    for (size_t i = 0; i < st->n; i++)
        close_slots(st, &st->g[i]);
    st->qdir_valid = false;
}

/* Every REFRESH_CYCLES: missing files are tried again and pid files listed. */
static void refresh(struct guests_state *st)
{
    st->qdir_valid = false;
    for (size_t i = 0; i < st->n; i++)
        for (int f = 0; f < GF_COUNT; f++)
            if (st->g[i].fd[f] == FD_MISSING)
                st->g[i].fd[f] = FD_CLOSED;
}

/* Kept files belong to the roots they were opened under; when the roots
 * change (tests switch between snapshots of a node) they are dropped. */
static void check_roots(struct guests_state *st, const char *const roots[3])
{
    bool same = true;
    for (int i = 0; i < 3; i++)
        same = same && st->roots[i] && strcmp(st->roots[i], roots[i]) == 0;
    if (same)
        return;
    drop_files(st);
    for (int i = 0; i < 3; i++) {
        free(st->roots[i]);
        if (!(st->roots[i] = strdup(roots[i])))
            abort();
    }
}

/* /proc/uptime, for every guest's uptime. */
static void read_uptime(struct guests_state *st, struct collector_ctx *ctx, struct host_now *now)
{
    int rc = proc_file(ctx, "uptime", FILE_ONE_RECORD);
    struct uptime u;
    struct parse_err e = {0};
    if (rc != 0)
        warn_read(st, ctx->procfs, "uptime", rc);
    else if (parse_uptime(ctx->scratch->data, &u, &e) != 0)
        warn_parse(st, ctx->procfs, "uptime", &e);
    else
        *now = (struct host_now){true, u.uptime_seconds};
}

/* Identifies each discovered guest and builds the reports of those running. */
static bool report_guests(struct guests_state *st, struct collector_ctx *ctx,
                          const struct host_now *now)
{
    bool any = false;
    for (size_t i = 0; i < st->n; i++) {
        struct guest *g = &st->g[i];
        struct pid_stat ps;
        g->out = NULL;
        bool running = g->kind == GUEST_QEMU ? qemu_identify(st, ctx, g, &ps)
                                             : lxc_identify(st, ctx, g, &ps);
        if (running && !(g->out = guest_report(st, ctx, g, now)))
            not_running(st, g);
        any = any || g->out;
    }
    return any;
}

/* ==== LXC rootfs usage ======================================================== */

/* Running containers: statvfs of <procfs>/<init>/root, as pve-container's
 * vmstatus does (used = (blocks−bfree)·frsize, total = blocks·frsize). It goes
 * through fsstat: a rootfs on a dead NFS server leaves the fields out for
 * this cycle and is not asked again until the stuck call returns. */
static void lxc_rootfs(struct guests_state *st, struct collector_ctx *ctx)
{
    size_t n = 0;
    for (size_t i = 0; i < st->n; i++)
        n += st->g[i].out && st->g[i].kind == GUEST_LXC;
    if (n == 0 || !st->fs)
        return;
    if (n > st->cap_rootfs) {
        size_t cap = st->cap_rootfs;
        st->rootfs_reqs = grow(st->rootfs_reqs, &st->cap_rootfs, n, sizeof *st->rootfs_reqs);
        st->rootfs_guest = grow(st->rootfs_guest, &cap, n, sizeof *st->rootfs_guest);
    }
    size_t k = 0;
    for (size_t i = 0; i < st->n; i++) {
        const struct guest *g = &st->g[i];
        if (!g->out || g->kind != GUEST_LXC)
            continue;
        char rel[32], path[4096];
        snprintf(rel, sizeof rel, "%" PRIu32 "/root", g->pid);
        if (!path_join(path, sizeof path, ctx->procfs, rel)) {
            warn(st, "%s/%s: path too long", ctx->procfs, rel);
            continue;
        }
        st->rootfs_reqs[k].path = arena_strdup(ctx->arena, path);
        st->rootfs_guest[k++] = i;
    }
    fsstat_query(st->fs, st->rootfs_reqs, k);
    for (size_t j = 0; j < k; j++) {
        const struct fsstat_req *q = &st->rootfs_reqs[j];
        Pvescope__GuestRuntime *out = st->g[st->rootfs_guest[j]].out;
        if (q->status == FSSTAT_OK) {
            out->has_rootfs_used_bytes = out->has_rootfs_total_bytes = true;
            out->rootfs_used_bytes = q->used;
            out->rootfs_total_bytes = q->total;
        } else if (q->status == FSSTAT_ERROR && q->err != ENOENT) {
            warn(st, "%s: statvfs: %s", q->path, strerror(q->err));
        }
    }
}

/* Puts the reports into r, in vmid order. */
static void emit(const struct guests_state *st, struct arena *a, Pvescope__Report *r)
{
    size_t n = 0;
    for (size_t i = 0; i < st->n; i++)
        n += st->g[i].out != NULL;
    r->guest_runtime = arena_alloc(a, n * sizeof *r->guest_runtime);
    r->n_guest_runtime = 0;
    for (size_t i = 0; i < st->n; i++)
        if (st->g[i].out)
            r->guest_runtime[r->n_guest_runtime++] = st->g[i].out;
}

static int guests_collect(void *state, struct collector_ctx *ctx, Pvescope__Report *r)
{
    struct guests_state *st = state;
    st->run = ctx->run ? ctx->run : DEFAULT_RUN;
    const char *const roots[3] = {ctx->procfs, ctx->sysfs, st->run};
    check_roots(st, roots);
    if (++st->cycles % REFRESH_CYCLES == 0)
        refresh(st);
    if (st->cycles % DEV_REFRESH_CYCLES == 0)
        devs_clear(st);
    st->warnings = 0;
    st->first_warning[0] = '\0';

    discover(st, ctx);
    struct host_now now = {0};
    if (st->n > 0)
        read_uptime(st, ctx, &now);
    if (report_guests(st, ctx, &now)) {
        attach_nics(st, ctx);
        lxc_rootfs(st, ctx);
    }
    emit(st, ctx->arena, r);
    if (st->warnings > 0)
        snprintf(ctx->err, sizeof ctx->err, "%u guest file(s) skipped, first: %s", st->warnings,
                 st->first_warning);
    return 0;
}

static int guests_init(void **state, struct collector_ctx *ctx)
{
    struct guests_state *st = calloc(1, sizeof *st);
    if (!st)
        return collector_fail(ctx, "out of memory");
    st->hz = sysconf(_SC_CLK_TCK);
    if (st->hz <= 0)
        st->hz = 100;
    st->fd_budget = fd_share(2, FD_BUDGET_UNLIMITED, 256);   /* half the soft limit */
    st->fs = fsstat_new(NULL, NULL, ROOTFS_DEADLINE_S);
    if (!st->fs) {
        free(st);
        return collector_fail(ctx, "out of memory");
    }
    *state = st;
    return 0;
}

static void guests_fini(void *state)
{
    struct guests_state *st = state;
    if (!st)
        return;
    drop_files(st);
    for (int i = 0; i < 3; i++)
        free(st->roots[i]);
    free(st->g);
    free(st->qemu_ids);
    devs_clear(st);
    free(st->devs);
    free(st->io_rows);
    fsstat_free(st->fs);
    free(st->rootfs_reqs);
    free(st->rootfs_guest);
    free(st);
}

int guests_collector_set_stat(void *state, fsstat_fn fn, void *arg, double deadline_s)
{
    struct guests_state *st = state;
    struct fsstat *fs = fsstat_new(fn, arg, deadline_s);
    if (!fs)
        return -1;
    fsstat_free(st->fs);
    st->fs = fs;
    return 0;
}

const struct collector collector_guests = {
    .name = "guests",
    .capabilities = CAP_BIT(CAP_SYS_PTRACE),    /* statvfs of /proc/<init>/root: ptrace access check */
    .help = "Running guests: QEMU pid files, LXC cgroups; CPU, memory, I/O, PSI, tap/veth counters",
    .default_enabled = true,
    .init = guests_init,
    .collect = guests_collect,
    .fini = guests_fini,
};
