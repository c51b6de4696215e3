/* thinpool.c — the "thinpool" collector: LVM thin pools and thin volumes
 * from device-mapper ioctls, in Report.thin_pools / thin_volumes,
 * and the usage of this node's lvmthin storages in Report.storage_usage.
 *
 * Each cycle lists the dm devices and reads every device's STATUS, with
 * no-flush (without it the kernel commits pool metadata on every status
 * call) and without open counts. Pools are the targets of type `thin-pool`
 * and volumes those of type `thin`, never guessed from names. Two things
 * are only in the TABLE and are cached across cycles:
 *   - a pool's data block size, keyed by dm name + dev number + uuid, and
 *     read again when the status's data block count no longer matches the
 *     target length (the table was reloaded);
 *   - a thin volume's pool dev number, keyed by dm name + dev number, and
 *     read again when no pool has that dev number any more.
 * LVM names come from splitting the dm name (thinpool_split_dm_name), only
 * for devices whose dm uuid starts with "LVM-".
 *
 * It runs after the cluster collector (storage.cfg in Report.storages) and
 * after storage, whose usage entries it appends to.
 *
 * Privileges: every dm ioctl needs CAP_SYS_ADMIN. Without device-mapper in
 * the kernel (no `device-mapper` in <procfs>/misc) or without the capability
 * the collector fails with that reason, one log line while it persists.
 *
 * Device-mapper is spoken to directly (kernel UAPI <linux/dm-ioctl.h> on
 * /dev/mapper/control: DM_VERSION, DM_LIST_DEVICES, DM_TABLE_STATUS), not
 * through libdevmapper, whose dependencies cost ~1.4 MiB of RSS and which
 * keeps process-wide state (docs/decisions.md). The replies are walked by
 * the strict parsers of thinpool_parsers.c; the control fd is collector
 * state, reopened after an error.
 */
#include "thinpool.h"
#include "thinpool_parsers.h"
#include "pve_parsers.h"
#include "privileges.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define NAME_CAP 256                   /* DM_NAME_LEN 128; vg/lv parts are shorter */

/* ---- device-mapper ioctls ---------------------------------------------------- */

#define DM_CONTROL_PATH "/dev/mapper/control"
#define DM_BUF_FIRST (16u * 1024)
#define DM_BUF_MAX (4u * 1024 * 1024)   /* a reply that needs more is refused */

struct dm_device {
    const char *name;
    unsigned major, minor;
};

struct dm_target {
    uint64_t start, length;          /* 512-byte sectors */
    const char *type, *params;       /* never NULL */
};

struct dm_query {
    bool exists;                     /* false: the device vanished since the list */
    unsigned major, minor;
    const char *uuid;                /* "" when the device has none */
    size_t n_targets;
    struct dm_target *targets;
};

static int real_open(void *arg)
{
    (void)arg;
    int fd = open(DM_CONTROL_PATH, O_RDWR | O_CLOEXEC);
    return fd >= 0 ? fd : -errno;
}

static int real_ioctl(void *arg, int fd, unsigned long request, struct dm_ioctl *io)
{
    (void)arg;
    return ioctl(fd, request, io) == 0 ? 0 : -errno;
}

static void real_close(void *arg, int fd)
{
    (void)arg;
    close(fd);
}

static const struct thinpool_dm_port real_port = {real_open, real_ioctl, real_close};

/* The control device as collector state: opened at first use (and again
 * after an error closed it), closed at fini. buf is the ioctl buffer, kept
 * at the largest size a reply needed. */
struct dm_control {
    const struct thinpool_dm_port *port;
    void *arg;
    int fd;                          /* -1: closed */
    uint8_t *buf;
    size_t cap;
};

static void control_close(struct dm_control *dc)
{
    if (dc->fd >= 0)
        dc->port->close(dc->arg, dc->fd);
    dc->fd = -1;
}

/* What an errno from the control device means for the operator. */
static const char *errno_hint(int e)
{
    switch (e) {
    case EACCES:
    case EPERM: return " (dm ioctls need root / CAP_SYS_ADMIN)";
    case ENOENT: return " (device-mapper is loaded but its control node is missing; `dmsetup mknodes` creates it)";
    case ENODEV:
    case ENXIO: return " (no device-mapper driver behind it)";
    default: return "";
    }
}

/* Whether the kernel has device-mapper (its misc device is registered).
 * Asked before opening the control node, which would otherwise make the
 * kernel load dm_mod for us. */
static bool kernel_has_dm(struct collector_ctx *ctx)
{
    if (read_file_at(ctx->procfs, "misc", ctx->scratch) != 0)
        return true;                   /* cannot tell: let the open find out */
    for (const char *p = ctx->scratch->data; (p = strstr(p, "device-mapper")) != NULL; p++)
        if (p[13] == '\n' || p[13] == '\0')
            return true;
    return false;
}

/* One ioctl on dc->buf for the device `name` ("" for none), the buffer
 * grown and the ioctl repeated while the kernel says the reply did not fit.
 * 0 with *rep; 1 when the device does not exist (ENXIO); -1 with err. Any
 * other failure closes the control fd, so the next call opens it afresh. */
static int dm_call(struct dm_control *dc, unsigned long request, const char *name, uint32_t flags,
                   struct dm_reply *rep, char *err, size_t errlen)
{
    size_t name_len = strlen(name);
    if (name_len >= DM_NAME_LEN) {
        snprintf(err, errlen, "name of %zu bytes", name_len);
        return -1;
    }
    for (;;) {
        if (!dc->buf) {
            if (!(dc->buf = malloc(DM_BUF_FIRST))) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            dc->cap = DM_BUF_FIRST;
        }
        struct dm_ioctl *io = (struct dm_ioctl *)dc->buf;
        memset(io, 0, sizeof *io);
        io->version[0] = DM_VERSION_MAJOR;   /* any 4.x kernel: minor 0 */
        io->data_size = (uint32_t)dc->cap;
        io->data_start = sizeof *io;
        io->flags = flags;
        memcpy(io->name, name, name_len + 1);
        int rc = dc->port->ioctl(dc->arg, dc->fd, request, io);
        if (rc == -ENXIO && name_len)
            return 1;
        if (rc < 0) {
            snprintf(err, errlen, "%s%s", strerror(-rc), errno_hint(-rc));
            control_close(dc);
            return -1;
        }
        char why[128];
        if (!dm_parse_reply(dc->buf, dc->cap, rep, why, sizeof why)) {
            snprintf(err, errlen, "malformed reply: %s", why);
            return -1;
        }
        if (name_len && strcmp(rep->name, name) != 0) {
            snprintf(err, errlen, "malformed reply: for device '%s'", rep->name);
            return -1;
        }
        if (!(rep->flags & DM_BUFFER_FULL_FLAG))
            return 0;
        if (dc->cap >= DM_BUF_MAX) {
            snprintf(err, errlen, "reply larger than %u bytes", DM_BUF_MAX);
            return -1;
        }
        uint8_t *bigger = realloc(dc->buf, dc->cap * 4);
        if (!bigger) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        dc->buf = bigger;
        dc->cap *= 4;
    }
}

/* Opens the control device unless open, and checks the kernel speaks
 * interface version 4. 0, or -1 with err. */
static int control_open(struct dm_control *dc, struct collector_ctx *ctx, char *err, size_t errlen)
{
    if (dc->fd >= 0)
        return 0;
    if (!kernel_has_dm(ctx)) {
        snprintf(err, errlen, "no device-mapper in the kernel (%s/misc)", ctx->procfs);
        return -1;
    }
    int fd = dc->port->open(dc->arg);
    if (fd < 0) {
        snprintf(err, errlen, "device-mapper unusable: " DM_CONTROL_PATH ": %s%s", strerror(-fd), errno_hint(-fd));
        return -1;
    }
    dc->fd = fd;
    struct dm_reply rep;
    char why[160];
    if (dm_call(dc, DM_VERSION, "", 0, &rep, why, sizeof why) == 0)
        return 0;
    const struct dm_ioctl *io = (const struct dm_ioctl *)dc->buf;
    if (io && io->version[0] != DM_VERSION_MAJOR)   /* the kernel answers a mismatch with its version */
        snprintf(err, errlen, "device-mapper unusable: kernel ioctl interface %u.%u.%u, this agent speaks %d.x",
                 io->version[0], io->version[1], io->version[2], DM_VERSION_MAJOR);
    else
        snprintf(err, errlen, "device-mapper unusable: DM_VERSION: %s", why);
    control_close(dc);
    return -1;
}

/* All dm devices (names and dev numbers); -1 with err when device-mapper
 * cannot be used at all. */
static int dm_list(struct dm_control *dc, struct collector_ctx *ctx, struct dm_device **devs, size_t *n, char *err,
                   size_t errlen)
{
    *devs = NULL;
    *n = 0;
    if (control_open(dc, ctx, err, errlen) != 0)
        return -1;
    struct dm_reply rep;
    char why[160];
    size_t count;
    if (dm_call(dc, DM_LIST_DEVICES, "", 0, &rep, why, sizeof why) != 0 ||
        !dm_parse_name_list(rep.data, rep.data_len, NULL, 0, &count, why, sizeof why)) {
        snprintf(err, errlen, "listing dm devices: %s", why);
        return -1;
    }
    struct dm_name_entry *e = arena_alloc(ctx->arena, (count ? count : 1) * sizeof *e);
    dm_parse_name_list(rep.data, rep.data_len, e, count, &count, why, sizeof why);
    *devs = arena_alloc(ctx->arena, (count ? count : 1) * sizeof **devs);
    for (size_t i = 0; i < count; i++)
        (*devs)[i] = (struct dm_device){arena_strdup(ctx->arena, e[i].name), e[i].major, e[i].minor};
    *n = count;
    return 0;
}

/* The STATUS (table=false; with no-flush: a plain status makes dm-thin
 * commit the pool's metadata) or TABLE of one device, copied into
 * ctx->arena; q->exists false when it vanished. -1 with err. */
static int dm_query(struct dm_control *dc, struct collector_ctx *ctx, const char *name, bool table,
                    struct dm_query *q, char *err, size_t errlen)
{
    memset(q, 0, sizeof *q);
    q->uuid = "";
    const char *what = table ? "table" : "status";
    char why[200];
    struct dm_reply rep;
    if (control_open(dc, ctx, why, sizeof why) != 0) {
        snprintf(err, errlen, "%s: %s", what, why);
        return -1;
    }
    int rc = dm_call(dc, DM_TABLE_STATUS, name, table ? DM_STATUS_TABLE_FLAG : DM_NOFLUSH_FLAG, &rep, why,
                     sizeof why);
    if (rc == 1)
        return 0;
    if (rc != 0 || !dm_parse_targets(rep.data, rep.data_len, rep.target_count, NULL, why, sizeof why)) {
        snprintf(err, errlen, "%s: %s", what, why);
        return -1;
    }
    struct dm_target_entry *t = arena_alloc(ctx->arena, (rep.target_count ? rep.target_count : 1) * sizeof *t);
    dm_parse_targets(rep.data, rep.data_len, rep.target_count, t, why, sizeof why);
    q->exists = true;
    q->major = rep.major;
    q->minor = rep.minor;
    q->uuid = arena_strdup(ctx->arena, rep.uuid);
    q->n_targets = rep.target_count;
    q->targets = arena_alloc(ctx->arena, (q->n_targets ? q->n_targets : 1) * sizeof *q->targets);
    for (size_t i = 0; i < q->n_targets; i++)
        q->targets[i] = (struct dm_target){t[i].start, t[i].length, arena_strdup(ctx->arena, t[i].type),
                                           arena_strdup(ctx->arena, t[i].params)};
    return 0;
}

/* ---- caches ------------------------------------------------------------------ */

struct pool_entry {
    char *name, *uuid;
    unsigned major, minor;
    uint64_t block_sectors;            /* 0: table not read (or unusable) */
    bool seen;
};

struct thin_entry {
    char *name;
    unsigned major, minor;
    unsigned pool_major, pool_minor;
    bool has_pool;
    bool seen;
};

struct thinpool_state {
    struct dm_control dm;
    struct pool_entry *pools;
    size_t n_pools, cap_pools, hint_pool;
    struct thin_entry *thins;
    size_t n_thins, cap_thins, hint_thin;
};

/* Grows *arr (element size sz) to hold one more; false on OOM. */
static bool grow(void **arr, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap)
        return true;
    size_t c = *cap ? *cap * 2 : 16;
    void *p = realloc(*arr, c * sz);
    if (!p)
        return false;
    *arr = p;
    *cap = c;
    return true;
}

/* The cache entry of a pool device, created empty when new or when its dev
 * number or uuid changed (another device under the same name). Lookups start
 * after the previous hit: the kernel lists devices in the same order every
 * cycle, so this is one comparison per device. NULL on OOM. */
static struct pool_entry *pool_entry(struct thinpool_state *st, const char *name, const struct dm_query *q)
{
    for (size_t k = 0; k < st->n_pools; k++) {
        size_t i = (st->hint_pool + k) % st->n_pools;
        struct pool_entry *e = &st->pools[i];
        if (strcmp(e->name, name) != 0)
            continue;
        if (e->major != q->major || e->minor != q->minor || strcmp(e->uuid, q->uuid) != 0) {
            char *u = strdup(q->uuid);
            if (!u)
                return NULL;
            free(e->uuid);
            e->uuid = u;
            e->major = q->major;
            e->minor = q->minor;
            e->block_sectors = 0;
        }
        st->hint_pool = i + 1;
        return e;
    }
    if (!grow((void **)&st->pools, &st->cap_pools, st->n_pools, sizeof *st->pools))
        return NULL;
    struct pool_entry *e = &st->pools[st->n_pools];
    *e = (struct pool_entry){strdup(name), strdup(q->uuid), q->major, q->minor, 0, false};
    if (!e->name || !e->uuid) {
        free(e->name);
        free(e->uuid);
        return NULL;
    }
    st->hint_pool = ++st->n_pools;
    return e;
}

static struct thin_entry *thin_entry(struct thinpool_state *st, const char *name, const struct dm_query *q)
{
    for (size_t k = 0; k < st->n_thins; k++) {
        size_t i = (st->hint_thin + k) % st->n_thins;
        struct thin_entry *e = &st->thins[i];
        if (strcmp(e->name, name) != 0)
            continue;
        if (e->major != q->major || e->minor != q->minor) {
            e->major = q->major;
            e->minor = q->minor;
            e->has_pool = false;
        }
        st->hint_thin = i + 1;
        return e;
    }
    if (!grow((void **)&st->thins, &st->cap_thins, st->n_thins, sizeof *st->thins))
        return NULL;
    struct thin_entry *e = &st->thins[st->n_thins];
    *e = (struct thin_entry){strdup(name), q->major, q->minor, 0, 0, false, false};
    if (!e->name)
        return NULL;
    st->hint_thin = ++st->n_thins;
    return e;
}

/* Drops the entries of devices not seen this cycle and clears the marks. */
static void sweep(struct thinpool_state *st)
{
    size_t k = 0;
    for (size_t i = 0; i < st->n_pools; i++) {
        if (!st->pools[i].seen) {
            free(st->pools[i].name);
            free(st->pools[i].uuid);
            continue;
        }
        st->pools[i].seen = false;
        st->pools[k++] = st->pools[i];
    }
    st->n_pools = k;
    k = 0;
    for (size_t i = 0; i < st->n_thins; i++) {
        if (!st->thins[i].seen) {
            free(st->thins[i].name);
            continue;
        }
        st->thins[i].seen = false;
        st->thins[k++] = st->thins[i];
    }
    st->n_thins = k;
    st->hint_pool = st->hint_thin = 0;
}

/* ---- one cycle ----------------------------------------------------------------- */

/* Problems with single devices: counted, the first one kept for ctx->err. */
struct warnings {
    unsigned n;
    char first[200];
};

__attribute__((format(printf, 2, 3))) static void warn(struct warnings *w, const char *fmt, ...)
{
    if (w->n++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->first, sizeof w->first, fmt, ap);
        va_end(ap);
    }
}

struct cycle {
    struct thinpool_state *st;
    struct collector_ctx *ctx;
    Pvescope__Report *r;
    struct warnings w;
    size_t cap_pools, cap_vols;
    unsigned *pool_major, *pool_minor;       /* dev of r->thin_pools[i] */
    struct thin_entry **vol_cache;           /* cache entry of r->thin_volumes[i] */
};

static char *arena_printf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *arena_printf(struct arena *a, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    return arena_strdup(a, tmp);
}

/* vg and lv of an LVM device (dm uuid "LVM-..."), else left absent. */
static void lvm_names(struct arena *a, const char *name, const char *uuid, char **vg, char **lv)
{
    char v[NAME_CAP], l[NAME_CAP], layer[NAME_CAP], why[96];
    if (strncmp(uuid, "LVM-", 4) != 0 || !thinpool_split_dm_name(name, v, l, layer, NAME_CAP, why, sizeof why))
        return;
    *vg = arena_strdup(a, v);
    *lv = arena_strdup(a, l);
}

static const char *discards_word(enum thin_discards d)
{
    switch (d) {
    case THIN_DISCARD_PASSDOWN: return "discard_passdown";
    case THIN_NO_DISCARD_PASSDOWN: return "no_discard_passdown";
    case THIN_IGNORE_DISCARD: return "ignore_discard";
    default: return NULL;
    }
}

/* The pool's data block size, from the cache or its table. 0 and a warning
 * when the table cannot be read. */
static uint64_t pool_block_sectors(struct cycle *c, struct pool_entry *e, const char *name, uint64_t length,
                                   const struct thinpool_status *s, char **error)
{
    if (e->block_sectors && length / e->block_sectors == s->data_total)
        return e->block_sectors;       /* the kernel's block count: floor(length / block) */
    e->block_sectors = 0;
    struct dm_query q;
    char why[256];
    struct thinpool_table tb;
    if (dm_query(&c->st->dm, c->ctx, name, true, &q, why, sizeof why) != 0) {
        *error = arena_printf(c->ctx->arena, "%s", why);
    } else if (!q.exists) {
        return 0;                      /* vanished since its status: nothing to say */
    } else if (q.n_targets != 1 || strcmp(q.targets[0].type, "thin-pool") != 0) {
        *error = arena_printf(c->ctx->arena, "table: not one thin-pool target");
    } else if (!thinpool_parse_table(q.targets[0].params, &tb, why, sizeof why)) {
        *error = arena_printf(c->ctx->arena, "table: %s", why);
    } else {
        e->block_sectors = tb.block_sectors;
        return tb.block_sectors;
    }
    warn(&c->w, "%s: %s", name, *error);
    return 0;
}

static void add_pool(struct cycle *c, const struct dm_device *d, const struct dm_query *q)
{
    struct arena *a = c->ctx->arena;
    const struct dm_target *tg = &q->targets[0];
    Pvescope__ThinPool *p = arena_alloc(a, sizeof *p);
    pvescope__thin_pool__init(p);
    p->dm_name = arena_strdup(a, d->name);
    lvm_names(a, d->name, q->uuid, &p->vg, &p->lv);
    size_t i = c->r->n_thin_pools++;
    c->r->thin_pools[i] = p;
    c->pool_major[i] = q->major;
    c->pool_minor[i] = q->minor;

    struct pool_entry *e = pool_entry(c->st, d->name, q);
    if (e)
        e->seen = true;
    struct thinpool_status s;
    char why[160];
    if (q->n_targets != 1) {
        p->error = arena_printf(a, "status: %zu targets, expected one thin-pool", q->n_targets);
        warn(&c->w, "%s: %s", d->name, p->error);
        return;
    }
    if (!thinpool_parse_status(tg->params, &s, why, sizeof why)) {
        p->error = arena_printf(a, "status: %s", why);
        warn(&c->w, "%s: %s", d->name, p->error);
        return;
    }
    p->has_mode = true;
    p->mode = s.mode;
    if (s.mode >= PVESCOPE__THIN_POOL_MODE__THIN_POOL_FAIL)
        return;                        /* Fail / Error: the kernel says nothing else */
    p->has_transaction_id = p->has_data_used_blocks = p->has_data_total_blocks = true;
    p->has_metadata_used_blocks = p->has_metadata_total_blocks = true;
    p->transaction_id = s.transaction_id;
    p->data_used_blocks = s.data_used;
    p->data_total_blocks = s.data_total;
    p->metadata_used_blocks = s.meta_used;
    p->metadata_total_blocks = s.meta_total;
    p->has_needs_check = s.has_needs_check;
    p->needs_check = s.needs_check;
    p->has_error_if_no_space = s.has_no_space_policy;
    p->error_if_no_space = s.error_if_no_space;
    const char *dw = discards_word(s.discards);
    if (dw)
        p->discards = (char *)dw;
    if (!e)
        return;
    uint64_t block = pool_block_sectors(c, e, d->name, tg->length, &s, &p->error);
    if (block) {
        p->has_data_block_sectors = true;
        p->data_block_sectors = block;
    }
}

static void add_volume(struct cycle *c, const struct dm_device *d, const struct dm_query *q)
{
    struct arena *a = c->ctx->arena;
    Pvescope__ThinVolume *v = arena_alloc(a, sizeof *v);
    pvescope__thin_volume__init(v);
    v->dm_name = arena_strdup(a, d->name);
    lvm_names(a, d->name, q->uuid, &v->vg, &v->lv);
    size_t i = c->r->n_thin_volumes++;
    c->r->thin_volumes[i] = v;
    struct thin_entry *e = thin_entry(c->st, d->name, q);
    if (e)
        e->seen = true;
    c->vol_cache[i] = e;
    if (q->n_targets != 1) {
        v->error = arena_printf(a, "status: %zu targets, expected one thin", q->n_targets);
        warn(&c->w, "%s: %s", d->name, v->error);
        return;
    }
    v->has_size_sectors = true;
    v->size_sectors = q->targets[0].length;
    struct thin_status s;
    char why[160];
    if (!thin_parse_status(q->targets[0].params, &s, why, sizeof why)) {
        v->error = arena_printf(a, "status: %s", why);
        warn(&c->w, "%s: %s", d->name, v->error);
        return;
    }
    v->has_fail = true;
    v->fail = s.fail;
    if (s.error) {
        v->error = arena_strdup(a, "status: Error (the kernel could not read the mapping)");
        return;
    }
    if (!s.fail) {
        v->has_mapped_sectors = true;
        v->mapped_sectors = s.mapped_sectors;
    }
}

/* Index of the pool with that dev number in r->thin_pools, or -1. */
static long pool_index(const struct cycle *c, unsigned major_, unsigned minor_)
{
    for (size_t i = 0; i < c->r->n_thin_pools; i++)
        if (c->pool_major[i] == major_ && c->pool_minor[i] == minor_)
            return (long)i;
    return -1;
}

/* Sets pool_dm_name of every volume from its table's pool dev number
 * (cached; read again when no current pool has the cached one). */
static void link_volumes(struct cycle *c)
{
    for (size_t i = 0; i < c->r->n_thin_volumes; i++) {
        Pvescope__ThinVolume *v = c->r->thin_volumes[i];
        struct thin_entry *e = c->vol_cache[i];
        if (!e)
            continue;
        if (e->has_pool && pool_index(c, e->pool_major, e->pool_minor) >= 0) {
            v->pool_dm_name = c->r->thin_pools[pool_index(c, e->pool_major, e->pool_minor)]->dm_name;
            continue;
        }
        struct dm_query q;
        struct thin_table tb;
        char why[256];
        e->has_pool = false;
        if (dm_query(&c->st->dm, c->ctx, v->dm_name, true, &q, why, sizeof why) != 0) {
            warn(&c->w, "%s: %s", v->dm_name, why);
            continue;
        }
        if (!q.exists)
            continue;
        if (q.n_targets != 1 || strcmp(q.targets[0].type, "thin") != 0) {
            warn(&c->w, "%s: table: not one thin target", v->dm_name);
            continue;
        }
        if (!thin_parse_table(q.targets[0].params, &tb, why, sizeof why)) {
            warn(&c->w, "%s: table: %s", v->dm_name, why);
            continue;
        }
        e->has_pool = true;
        e->pool_major = tb.pool_major;
        e->pool_minor = tb.pool_minor;
        long k = pool_index(c, tb.pool_major, tb.pool_minor);
        if (k >= 0)
            v->pool_dm_name = c->r->thin_pools[k]->dm_name;
    }
}

/* The first target type of a device that the collector cares about. */
static const char *thin_type(const struct dm_query *q)
{
    for (size_t i = 0; i < q->n_targets; i++)
        if (strcmp(q->targets[i].type, "thin-pool") == 0 || strcmp(q->targets[i].type, "thin") == 0)
            return q->targets[i].type;
    return NULL;
}

static int thinpool_collect(void *state, struct collector_ctx *ctx, Pvescope__Report *r)
{
    struct thinpool_state *st = state;
    struct dm_device *devs;
    size_t n;
    char why[256];
    r->n_thin_pools = r->n_thin_volumes = 0;
    /* A kernel without device-mapper has no thin pools: zero, like a host
     * without NVMe. lvmthin usage stays absent (unknown), as below. */
    if (!kernel_has_dm(ctx))
        return 0;
    if (dm_list(&st->dm, ctx, &devs, &n, why, sizeof why) != 0)
        return collector_fail(ctx, "%s", why);   /* lvmthin usage unknown: absent, not inactive */
    struct cycle c = {.st = st, .ctx = ctx, .r = r};
    struct arena *a = ctx->arena;
    r->thin_pools = arena_alloc(a, (n ? n : 1) * sizeof *r->thin_pools);
    r->thin_volumes = arena_alloc(a, (n ? n : 1) * sizeof *r->thin_volumes);
    c.pool_major = arena_alloc(a, (n ? n : 1) * sizeof *c.pool_major);
    c.pool_minor = arena_alloc(a, (n ? n : 1) * sizeof *c.pool_minor);
    c.vol_cache = arena_alloc(a, (n ? n : 1) * sizeof *c.vol_cache);
    for (size_t i = 0; i < n; i++) {
        struct dm_query q;
        if (dm_query(&st->dm, ctx, devs[i].name, false, &q, why, sizeof why) != 0) {
            warn(&c.w, "%s: %s", devs[i].name, why);
            continue;
        }
        const char *type = q.exists ? thin_type(&q) : NULL;
        if (!type)
            continue;                  /* vanished, or not thin */
        if (strcmp(type, "thin-pool") == 0)
            add_pool(&c, &devs[i], &q);
        else
            add_volume(&c, &devs[i], &q);
    }
    link_volumes(&c);
    sweep(st);
    thinpool_storage_usage(r, a);
    if (c.w.n)
        snprintf(ctx->err, sizeof ctx->err, "%s%s", c.w.first, c.w.n > 1 ? " (and more devices)" : "");
    return 0;
}

/* ---- lvmthin storages ----------------------------------------------------------- */

static const Pvescope__ThinPool *pool_of(const Pvescope__Report *r, const char *vg, const char *lv)
{
    for (size_t i = 0; i < r->n_thin_pools; i++) {
        const Pvescope__ThinPool *p = r->thin_pools[i];
        if (p->vg && p->lv && strcmp(p->vg, vg) == 0 && strcmp(p->lv, lv) == 0)
            return p;
    }
    return NULL;
}

static bool is_lvmthin_here(const Pvescope__StorageConfig *s, const char *node)
{
    return s->type && strcmp(s->type, "lvmthin") == 0 && s->vgname && s->thinpool &&
           storage_enabled_on(s, node);
}

void thinpool_storage_usage(Pvescope__Report *r, struct arena *a)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_storages; i++)
        n += is_lvmthin_here(r->storages[i], r->node);
    if (n == 0)
        return;
    Pvescope__StorageUsage **all = arena_alloc(a, (r->n_storage_usage + n) * sizeof *all);
    if (r->n_storage_usage)
        memcpy(all, r->storage_usage, r->n_storage_usage * sizeof *all);
    r->storage_usage = all;
    for (size_t i = 0; i < r->n_storages; i++) {
        const Pvescope__StorageConfig *s = r->storages[i];
        if (!is_lvmthin_here(s, r->node))
            continue;
        Pvescope__StorageUsage *u = arena_alloc(a, sizeof *u);
        pvescope__storage_usage__init(u);
        u->id = arena_strdup(a, s->id);
        u->has_active = true;
        r->storage_usage[r->n_storage_usage++] = u;
        const Pvescope__ThinPool *p = pool_of(r, s->vgname, s->thinpool);
        u->active = p != NULL;
        if (!p || !p->has_data_block_sectors || !p->has_data_total_blocks)
            continue;
        uint64_t block = p->data_block_sectors * 512;
        u->has_total_bytes = u->has_used_bytes = u->has_avail_bytes = true;
        u->total_bytes = p->data_total_blocks * block;
        u->used_bytes = p->data_used_blocks * block;
        u->avail_bytes = u->total_bytes - u->used_bytes;
    }
}

/* ---- lifecycle ----------------------------------------------------------------- */

void thinpool_collector_set_port(void *state, const struct thinpool_dm_port *port, void *arg)
{
    struct thinpool_state *st = state;
    control_close(&st->dm);
    st->dm.port = port ? port : &real_port;
    st->dm.arg = port ? arg : NULL;
}

static int thinpool_init(void **state, struct collector_ctx *ctx)
{
    struct thinpool_state *st = calloc(1, sizeof *st);
    if (!st)
        return collector_fail(ctx, "out of memory");
    st->dm = (struct dm_control){.port = &real_port, .fd = -1};
    *state = st;
    return 0;
}

static void thinpool_fini(void *state)
{
    struct thinpool_state *st = state;
    if (!st)
        return;
    sweep(st);                         /* nothing is marked seen between cycles: frees all */
    free(st->pools);
    free(st->thins);
    control_close(&st->dm);
    free(st->dm.buf);
    free(st);
}

const struct collector collector_thinpool = {
    .name = "thinpool",
    .capabilities = CAP_BIT(CAP_SYS_ADMIN),     /* every DM_* ioctl on /dev/mapper/control */
    .help = "LVM thin pools and thin volumes (device-mapper status, no flush) and lvmthin storage usage",
    .default_enabled = true,
    .init = thinpool_init,
    .collect = thinpool_collect,
    .fini = thinpool_fini,
};
