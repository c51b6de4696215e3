/* nvme.c — the "nvme" collector: identity and SMART / health of every NVMe
 * controller, into Report.nvme; the two admin commands go straight to the
 * kernel's admin passthrough ioctl (NVME_IOCTL_ADMIN_CMD), no libnvme.
 *
 * Topology. The controllers are the nvme<N> entries of <sysfs>/class/nvme,
 * listed at the first cycle, then every NVME_RESCAN_INTERVAL_S and whenever
 * a controller's device answers ENODEV/ENXIO (hot-unplug), so a removed or
 * added drive shows up within a cycle or a minute. The identity comes from
 * the controller's sysfs attributes (model, serial, firmware_rev,
 * transport), read and trimmed as libnvme's nvme_ctrl_get_* getters (and so
 * nvme-cli) do: no ioctl, no privilege. No /sys/class/nvme (a kernel without NVMe) means zero
 * controllers, which is a success.
 *
 * Why not libnvme's nvme_scan_topology (the agent linked libnvme 1.3 for
 * the commands below until it cost too much memory): in 1.3 it opens every namespace and
 * sends it Identify Namespace and Identify Namespace Identification
 * Descriptor List (nvme_ns_init, unconditionally; the kernel sends the
 * latter only to NVMe >= 1.3 controllers). An NVMe 1.2 controller fails
 * that command, and a failed command may add an Error Information log
 * entry: num_err_log_entries would grow at every rescan, the trap
 * node_exporter#2643 describes. The scan also needs nothing but sysfs.
 *
 * Commands. Only two admin commands are ever sent, both mandatory for every
 * controller, so they cannot fail as "invalid" and add error log entries;
 * nvme_admin.c encodes them and names the statuses they can end with:
 *   - Identify Controller, for the warning and critical temperature
 *     thresholds (WCTEMP, CCTEMP): once per controller, again when the scan
 *     finds another serial or firmware under its name, and retried at the
 *     next rescan when it failed;
 *   - Get Log Page SMART / Health Information, controller-wide
 *     (NSID FFFFFFFFh), every cycle, with RAE (Retain Asynchronous Event)
 *     cleared, as nvme-cli and smartctl send it: reading the log re-arms the
 *     SMART/health asynchronous event so the controller can raise the next
 *     one (the kernel turns it into a uevent). The warning bits themselves
 *     stay in the log, so no reader loses them. A controller whose condition
 *     persists may raise the event again after each read; that is the
 *     behaviour every periodic SMART reader already has.
 * Each command has a deadline of NVME_ADMIN_TIMEOUT_MS (10 s) instead of the
 * kernel's 60 s default (see nvme.h for why not less), and transfers into
 * one 4096-byte, 4096-aligned buffer: some devices and IOMMUs DMA whole
 * pages (libnvme #684). The agent opens /dev/nvme<N> itself (O_RDONLY, as
 * nvme-cli) and keeps the fd until the controller disappears or changes.
 *
 * Failures are per controller: the controller is still listed, with its
 * identity and `error` set and no readings, and the collector succeeds with
 * a summary in ctx->err (a counted warning, logged once per change by
 * report.c). SMART needs CAP_SYS_ADMIN (Debian 12's kernel requires it for
 * every admin command): without it every controller reports "permission
 * denied (needs CAP_SYS_ADMIN)". The collector fails as a whole only when
 * <sysfs>/class/nvme exists but cannot be listed.
 *
 * Why no libnvme: the agent needed one ioctl per command and a status
 * table from it, and linking it (with libcrypto and json-c) cost ~1.8 MiB
 * of RSS, half the agent's 4 MiB budget (docs/decisions.md). */
#include "nvme.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "fileio.h"
#include "nvme_smart.h"
#include "privileges.h"

#define NVME_BUF_BYTES NVME_ADMIN_BUF_BYTES
#define NVME_ATTR_MAX 256          /* longest sysfs attribute value kept */

/* ---- the real port: sysfs, /dev/nvme<N>, the admin passthrough ioctl ---- */

static char *dup_or_null(const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        abort();
    return d;
}

static void ident_free_strings(struct nvme_ident *id)
{
    free(id->name);
    free(id->model);
    free(id->serial);
    free(id->firmware);
    free(id->transport);
}

void nvme_idents_free(struct nvme_ident *ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ident_free_strings(&ids[i]);
    free(ids);
}

/* Controller names are used as /dev/<name>: only nvme<digits>. */
static bool valid_ctrl_name(const char *name)
{
    if (!name || strncmp(name, "nvme", 4) != 0 || !name[4] || strlen(name) > 16)
        return false;
    for (const char *p = name + 4; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

/* A controller attribute as libnvme's getters (and so nvme-cli) return it:
 * the first line, trailing spaces removed; NULL when missing or empty. */
static char *read_attr(const char *sysfs, const char *ctrl, const char *attr)
{
    char rel[128], v[NVME_ATTR_MAX];
    snprintf(rel, sizeof rel, "class/nvme/%s/%s", ctrl, attr);
    if (read_line_at(sysfs, rel, v, sizeof v) != 0)
        return NULL;
    size_t n = strlen(v);
    while (n > 0 && v[n - 1] == ' ')
        v[--n] = '\0';
    return n ? dup_or_null(v) : NULL;
}

/* Appends controller name's identity to *out. */
static void ident_append(const char *sysfs, const char *name, struct nvme_ident **out, size_t *n, size_t *cap)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        *out = realloc(*out, *cap * sizeof **out);
        if (!*out)
            abort();
    }
    struct nvme_ident *id = &(*out)[(*n)++];
    id->name = dup_or_null(name);
    id->model = read_attr(sysfs, name, "model");
    id->serial = read_attr(sysfs, name, "serial");
    id->firmware = read_attr(sysfs, name, "firmware_rev");
    id->transport = read_attr(sysfs, name, "transport");
}

int nvme_sysfs_scan(const char *sysfs, struct nvme_ident **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    char path[4096];
    if (!path_join(path, sizeof path, sysfs ? sysfs : "/sys", "class/nvme")) {
        errno = ENAMETOOLONG;
        return -1;
    }
    DIR *d = opendir(path);
    if (!d)
        return -1;
    size_t cap = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (valid_ctrl_name(e->d_name))            /* not "nvme-fabrics" */
            ident_append(sysfs ? sysfs : "/sys", e->d_name, out, n, &cap);
    closedir(d);
    return 0;
}

static int sysfs_scan(void *pctx, const char *sysfs, struct nvme_ident **out, size_t *n)
{
    (void)pctx;
    return nvme_sysfs_scan(sysfs, out, n);
}

static int kernel_open(void *pctx, const char *name)
{
    (void)pctx;
    char path[64];
    snprintf(path, sizeof path, "/dev/%s", name);
    return open(path, O_RDONLY | O_CLOEXEC);
}

static void kernel_close(void *pctx, int fd)
{
    (void)pctx;
    close(fd);
}

/* The ioctl already has the port's convention: 0, the NVMe status, or -1
 * with errno. */
static int kernel_admin(void *pctx, int fd, struct nvme_admin_cmd *cmd)
{
    (void)pctx;
    return ioctl(fd, NVME_IOCTL_ADMIN_CMD, cmd);
}

const struct nvme_port nvme_port_kernel = {
    .scan = sysfs_scan,
    .open_ctrl = kernel_open,
    .close_ctrl = kernel_close,
    .admin = kernel_admin,
};

/* ---- collector state ---------------------------------------------------- */

struct nvme_dev {
    struct nvme_ident id;          /* owned */
    int fd;                        /* -1 until opened */
    bool identify_tried;           /* since the last rescan or identity change */
    bool identify_ok;
    uint32_t wctemp, cctemp;       /* Kelvin; 0 = not reported */
};

struct nvme_state {
    const struct nvme_port *port;
    struct nvme_dev *devs;
    size_t n;
    double next_scan;              /* monotonic seconds; 0 = scan at the next cycle */
    uint8_t *buf;                  /* NVME_BUF_BYTES, page aligned */
};

/* nvme2 before nvme10. */
static int cmp_ident_name(const void *a, const void *b)
{
    const struct nvme_ident *x = a, *y = b;
    size_t lx = strlen(x->name), ly = strlen(y->name);
    return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x->name, y->name);
}

static bool str_eq(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

static struct nvme_dev *find_dev(struct nvme_state *st, const char *name)
{
    for (size_t i = 0; i < st->n; i++)
        if (strcmp(st->devs[i].id.name, name) == 0)
            return &st->devs[i];
    return NULL;
}

static void close_dev(struct nvme_state *st, struct nvme_dev *d)
{
    if (d->fd >= 0)
        st->port->close_ctrl(st->port->ctx, d->fd);
    d->fd = -1;
}

/* Drops the scan entries whose name is unusable or repeated; sorts the rest. */
static size_t clean_idents(struct nvme_ident *ids, size_t n)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        bool ok = valid_ctrl_name(ids[i].name);
        for (size_t j = 0; ok && j < kept; j++)
            ok = strcmp(ids[j].name, ids[i].name) != 0;
        if (ok)
            ids[kept++] = ids[i];
        else
            ident_free_strings(&ids[i]);
    }
    if (kept > 1)
        qsort(ids, kept, sizeof *ids, cmp_ident_name);
    return kept;
}

/* A new controller table from a scan, carrying over the open fd and the
 * Identify results of every controller whose name, serial and firmware are
 * unchanged (a failed Identify is tried again). */
static struct nvme_dev *merge_scan(struct nvme_state *st, struct nvme_ident *ids, size_t n)
{
    struct nvme_dev *devs = calloc(n ? n : 1, sizeof *devs);
    if (!devs)
        abort();
    for (size_t i = 0; i < n; i++) {
        struct nvme_dev *d = &devs[i], *old = find_dev(st, ids[i].name);
        d->id = ids[i];
        d->fd = -1;
        if (old && str_eq(old->id.serial, d->id.serial) && str_eq(old->id.firmware, d->id.firmware)) {
            d->fd = old->fd;
            old->fd = -1;
            d->identify_ok = d->identify_tried = old->identify_ok;
            d->wctemp = old->wctemp;
            d->cctemp = old->cctemp;
        }
    }
    return devs;
}

static void free_devs(struct nvme_state *st)
{
    for (size_t i = 0; i < st->n; i++) {
        close_dev(st, &st->devs[i]);
        ident_free_strings(&st->devs[i].id);
    }
    free(st->devs);
    st->devs = NULL;
    st->n = 0;
}

static int rescan(struct nvme_state *st, struct collector_ctx *ctx)
{
    struct nvme_ident *ids = NULL;
    size_t n = 0;
    errno = 0;
    if (st->port->scan(st->port->ctx, ctx->sysfs, &ids, &n) != 0) {
        int e = errno;
        nvme_idents_free(ids, n);
        ids = NULL;
        n = 0;
        if (e != ENOENT)
            return collector_fail(ctx, "listing <sysfs>/class/nvme: %s", strerror(e));
    }
    n = clean_idents(ids, n);
    struct nvme_dev *devs = merge_scan(st, ids, n);
    free(ids);                     /* the strings now belong to devs */
    free_devs(st);
    st->devs = devs;
    st->n = n;
    st->next_scan = ctx->now_monotonic + NVME_RESCAN_INTERVAL_S;
    return 0;
}

/* ---- one controller per cycle ------------------------------------------- */

/* Per-cycle problems, summarised into ctx->err. */
struct problems {
    char first[200];
    size_t count;
};

static void problem(struct problems *p, const char *name, const char *msg)
{
    if (p->count++ == 0)
        snprintf(p->first, sizeof p->first, "%s: %s", name, msg);
}

/* Describes a failed command in msg. A device that is gone is closed and
 * the topology rescanned at the next cycle. Returns true when the failure
 * concerns the device as a whole (gone, no permission), not this command. */
static bool describe_failure(struct nvme_state *st, struct nvme_dev *d, const char *what, int rc, int err,
                             char *msg, size_t cap)
{
    if (rc > 0) {
        char status[96];
        nvme_status_format(status, sizeof status, rc);
        snprintf(msg, cap, "%s: %s", what, status);
        return false;
    }
    if (err == EACCES || err == EPERM) {
        snprintf(msg, cap, "permission denied (needs CAP_SYS_ADMIN)");
        return true;
    }
    snprintf(msg, cap, "%s: %s", what, strerror(err));
    if (err == ENODEV || err == ENXIO || err == ENOENT) {
        close_dev(st, d);
        st->next_scan = 0;
        return true;
    }
    return false;
}

/* Reads the thresholds once; a failure other than losing the device is only
 * a problem note (the SMART log may still work). Returns false when the
 * device as a whole failed, with msg set. */
static bool ensure_identified(struct nvme_state *st, struct nvme_dev *d, struct problems *p, char *msg,
                              size_t cap)
{
    if (d->identify_tried)
        return true;
    d->identify_tried = true;
    memset(st->buf, 0, NVME_BUF_BYTES);
    struct nvme_admin_cmd cmd;
    nvme_admin_identify_ctrl(&cmd, st->buf, NVME_ADMIN_TIMEOUT_MS);
    errno = 0;
    int rc = st->port->admin(st->port->ctx, d->fd, &cmd);
    if (rc != 0) {
        if (describe_failure(st, d, "Identify Controller", rc, errno, msg, cap)) {
            d->identify_tried = false;     /* not the command's fault: ask again next cycle */
            return false;
        }
        problem(p, d->id.name, msg);
        msg[0] = '\0';
        return true;
    }
    Pvescope__NvmeController tmp = PVESCOPE__NVME_CONTROLLER__INIT;
    nvme_id_ctrl_decode_thresholds(st->buf, &tmp);
    d->wctemp = tmp.warning_temp_threshold_kelvin;
    d->cctemp = tmp.critical_temp_threshold_kelvin;
    d->identify_ok = true;
    return true;
}

/* Reads the SMART log into c. Returns false with msg set on failure. */
static bool read_smart(struct nvme_state *st, struct nvme_dev *d, Pvescope__NvmeController *c,
                       struct problems *p, char *msg, size_t cap)
{
    if (d->fd < 0) {
        errno = 0;
        d->fd = st->port->open_ctrl(st->port->ctx, d->id.name);
        if (d->fd < 0) {
            describe_failure(st, d, "open", -1, errno, msg, cap);
            return false;
        }
    }
    if (!ensure_identified(st, d, p, msg, cap))
        return false;
    memset(st->buf, 0, NVME_BUF_BYTES);
    struct nvme_admin_cmd cmd;
    nvme_admin_smart_log(&cmd, st->buf, NVME_ADMIN_TIMEOUT_MS);
    errno = 0;
    int rc = st->port->admin(st->port->ctx, d->fd, &cmd);
    if (rc != 0) {
        describe_failure(st, d, "SMART log", rc, errno, msg, cap);
        return false;
    }
    int saturated = nvme_smart_decode(st->buf, c);
    if (saturated > 0) {
        char note[96];
        snprintf(note, sizeof note, "%d SMART counter(s) above 2^64, sent as 2^64-1", saturated);
        problem(p, d->id.name, note);
    }
    c->has_warning_temp_threshold_kelvin = d->wctemp != 0;
    c->warning_temp_threshold_kelvin = d->wctemp;
    c->has_critical_temp_threshold_kelvin = d->cctemp != 0;
    c->critical_temp_threshold_kelvin = d->cctemp;
    return true;
}

static char *arena_strdup_or_null(struct arena *a, const char *s) { return s ? arena_strdup(a, s) : NULL; }

static Pvescope__NvmeController *collect_ctrl(struct nvme_state *st, struct nvme_dev *d,
                                              struct collector_ctx *ctx, struct problems *p)
{
    Pvescope__NvmeController *c = arena_alloc(ctx->arena, sizeof *c);
    pvescope__nvme_controller__init(c);
    c->name = arena_strdup(ctx->arena, d->id.name);
    c->model = arena_strdup_or_null(ctx->arena, d->id.model);
    c->serial = arena_strdup_or_null(ctx->arena, d->id.serial);
    c->firmware = arena_strdup_or_null(ctx->arena, d->id.firmware);
    c->transport = arena_strdup_or_null(ctx->arena, d->id.transport);
    char msg[200] = "";
    if (!read_smart(st, d, c, p, msg, sizeof msg)) {
        Pvescope__NvmeController *bare = arena_alloc(ctx->arena, sizeof *bare);
        pvescope__nvme_controller__init(bare);    /* identity only: no partial readings */
        bare->name = c->name;
        bare->model = c->model;
        bare->serial = c->serial;
        bare->firmware = c->firmware;
        bare->transport = c->transport;
        bare->error = arena_strdup(ctx->arena, msg);
        problem(p, d->id.name, msg);
        return bare;
    }
    return c;
}

/* ---- the collector -------------------------------------------------------- */

int nvme_collector_init_port(void **state, struct collector_ctx *ctx, const struct nvme_port *port)
{
    struct nvme_state *st = calloc(1, sizeof *st);
    if (!st)
        abort();
    st->port = port;
    if (posix_memalign((void **)&st->buf, NVME_BUF_BYTES, NVME_BUF_BYTES) != 0) {
        free(st);
        return collector_fail(ctx, "no memory for the NVMe command buffer");
    }
    *state = st;
    return 0;
}

static int nvme_init(void **state, struct collector_ctx *ctx)
{
    return nvme_collector_init_port(state, ctx, &nvme_port_kernel);
}

static int nvme_collect(void *state, struct collector_ctx *ctx, Pvescope__Report *r)
{
    struct nvme_state *st = state;
    if (st->next_scan == 0 || ctx->now_monotonic >= st->next_scan)
        if (rescan(st, ctx) != 0)
            return -1;
    r->nvme = arena_alloc(ctx->arena, (st->n ? st->n : 1) * sizeof *r->nvme);
    r->n_nvme = 0;
    struct problems p = {{0}, 0};
    for (size_t i = 0; i < st->n; i++)
        r->nvme[r->n_nvme++] = collect_ctrl(st, &st->devs[i], ctx, &p);
    if (p.count == 1)
        snprintf(ctx->err, sizeof ctx->err, "%s", p.first);
    else if (p.count > 1)
        snprintf(ctx->err, sizeof ctx->err, "%s (and %zu more problems)", p.first, p.count - 1);
    return 0;
}

static void nvme_fini(void *state)
{
    struct nvme_state *st = state;
    if (!st)
        return;
    free_devs(st);
    free(st->buf);
    free(st);
}

const struct collector collector_nvme = {
    .name = "nvme",
    .capabilities = CAP_BIT(CAP_SYS_ADMIN),     /* NVME_IOCTL_ADMIN_CMD */
    .help = "NVMe controllers: identity from sysfs, SMART/health log and temperature thresholds (admin passthrough ioctl; needs CAP_SYS_ADMIN)",
    .default_enabled = true,
    .init = nvme_init,
    .collect = nvme_collect,
    .fini = nvme_fini,
};
