/* test_thinpool.c — the thinpool collector (agent/thinpool.c) on canned
 * device-mapper answers (the `dmsetup ls/table/status` pair of
 * pve-internals §7.10 and hand-written variants) served as kernel-layout
 * ioctl reply buffers through the collector's port, its caches, its lvmthin
 * storage usage, the port's failures, and the real control device here. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <errno.h>
#include <linux/dm-ioctl.h>
#include <sys/ioctl.h>

#include "collector.h"
#include "thinpool.h"
#include "thinpool_parsers.h"

/* ---- canned ioctl replies, laid out as drivers/md/dm-ioctl.c does ---------- */

static size_t align8(size_t v) { return (v + 7) & ~(size_t)7; }

static uint64_t encode_dev(unsigned major_, unsigned minor_)
{
    return (minor_ & 0xffu) | ((uint64_t)major_ << 8) | ((uint64_t)(minor_ & ~0xffu) << 12);
}

struct canned_dev {
    char name[DM_NAME_LEN];
    unsigned major, minor;
};

struct canned_target {
    uint64_t start, length;
    char type[DM_MAX_TYPE_NAME];
    const char *params;
};

/* A DM_LIST_DEVICES reply in io (kernel >= 5.13: event_nr and flags after
 * each name), or DM_BUFFER_FULL_FLAG when it does not fit. */
static void put_name_list(struct dm_ioctl *io, const struct canned_dev *d, size_t n)
{
    const size_t name_at = offsetof(struct dm_name_list, name);
    size_t len = io->data_size - sizeof *io, needed = 0;
    for (size_t i = 0; i < n; i++)
        needed += align8(name_at + strlen(d[i].name) + 1) + 2 * sizeof(uint32_t);
    io->data_start = sizeof *io;
    if (needed > len) {
        io->flags |= DM_BUFFER_FULL_FLAG;
        return;
    }
    io->data_size = (uint32_t)(sizeof *io + needed);
    uint8_t *data = (uint8_t *)io + io->data_start;
    memset(data, 0, needed);
    size_t off = 0;
    struct dm_name_list *prev = NULL;
    for (size_t i = 0; i < n; i++) {
        struct dm_name_list *nl = (struct dm_name_list *)(data + off);
        if (prev)
            prev->next = (uint32_t)((uint8_t *)nl - (uint8_t *)prev);
        nl->dev = encode_dev(d[i].major, d[i].minor);
        nl->next = 0;
        strcpy(nl->name, d[i].name);
        off = align8(off + name_at + strlen(d[i].name) + 1) + 2 * sizeof(uint32_t);
        prev = nl;
    }
}

/* A DM_TABLE_STATUS reply's targets in io, as retrieve_status() writes them. */
static void put_targets(struct dm_ioctl *io, const struct canned_target *t, size_t n)
{
    io->data_start = sizeof *io;
    size_t len = io->data_size - io->data_start, off = 0, used = 0;
    uint8_t *data = (uint8_t *)io + io->data_start;
    for (size_t i = 0; i < n; i++) {
        if (len - off <= sizeof(struct dm_target_spec)) {
            io->flags |= DM_BUFFER_FULL_FLAG;
            break;
        }
        struct dm_target_spec *spec = (struct dm_target_spec *)(data + off);
        memset(spec, 0, sizeof *spec);
        spec->sector_start = t[i].start;
        spec->length = t[i].length;
        strncpy(spec->target_type, t[i].type, sizeof spec->target_type - 1);
        off += sizeof *spec;
        size_t l = strlen(t[i].params) + 1;
        if (l >= len - off) {
            io->flags |= DM_BUFFER_FULL_FLAG;
            break;
        }
        memcpy(data + off, t[i].params, l);
        off += l;
        used = io->data_start + off;
        off = align8(off);
        spec->next = (uint32_t)off;
    }
    if (used)
        io->data_size = (uint32_t)used;
    io->target_count = (uint32_t)n;
}

/* ---- a fake device-mapper serving dmsetup text through the port ----------- */

#define FAKE_FD 42

struct fake_dm {
    const char *ls;          /* `dmsetup ls`: "name\t(MAJ:MIN)" lines */
    const char *table;       /* `dmsetup table`: "name: start length type params" */
    const char *status;      /* `dmsetup status` */
    const char *non_lvm;     /* names whose uuid is not LVM-..., space-separated */
    const char *vanish;      /* devices that are listed but gone at STATUS time */
    const char *broken;      /* devices whose ioctls fail (EIO) */
    int open_errno;          /* open fails with it */
    int ioctl_errno;         /* every ioctl fails with it */
    int list_errno;          /* DM_LIST_DEVICES fails with it */
    unsigned kernel_major;   /* 0: 4 */
    size_t extra_linear;     /* that many linear targets more on "big" (a listed device) */
    void (*mangle)(unsigned long request, struct dm_ioctl *io);   /* corrupts a reply */
    unsigned opens, closes, versions, lists, table_queries, status_queries;
    size_t largest_buffer;
};

static bool name_in(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && (p = strstr(p, name)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return true;
    return false;
}

static size_t parse_ls(const char *ls, struct canned_dev *d, size_t cap)
{
    size_t n = 0;
    for (const char *p = ls; *p; n++) {
        const char *tab = strchr(p, '\t'), *eol = strchr(p, '\n');
        assert_true(n < cap && tab && eol && (size_t)(tab - p) < sizeof d->name);
        memcpy(d[n].name, p, (size_t)(tab - p));
        d[n].name[tab - p] = '\0';
        assert_int_equal(sscanf(tab, "\t(%u:%u)", &d[n].major, &d[n].minor), 2);
        p = eol + 1;
    }
    return n;
}

/* The `name: start length type params` line of name in text, as a target. */
static bool find_target(const char *text, const char *name, struct canned_target *t, char *params, size_t cap)
{
    char key[160];
    snprintf(key, sizeof key, "%s: ", name);
    for (const char *p = text; (p = strstr(p, key)) != NULL; p++) {
        if (p != text && p[-1] != '\n')
            continue;
        const char *eol = strchr(p, '\n');
        int off = 0;
        assert_int_equal(sscanf(p + strlen(key), "%" SCNu64 " %" SCNu64 " %15s%n", &t->start, &t->length, t->type,
                                &off), 3);
        const char *ps = p + strlen(key) + off;
        ps += *ps == ' ';
        assert_true((size_t)(eol - ps) < cap);
        memcpy(params, ps, (size_t)(eol - ps));
        params[eol - ps] = '\0';
        t->params = params;
        return true;
    }
    return false;
}

static int fake_open(void *arg)
{
    struct fake_dm *f = arg;
    assert_int_equal(f->opens, f->closes);            /* never two fds at once */
    if (f->open_errno)
        return -f->open_errno;
    f->opens++;
    return FAKE_FD;
}

static void fake_close(void *arg, int fd)
{
    struct fake_dm *f = arg;
    assert_int_equal(fd, FAKE_FD);
    f->closes++;
    assert_int_equal(f->opens, f->closes);
}

static int fake_table_status(struct fake_dm *f, struct dm_ioctl *io)
{
    bool table = io->flags & DM_STATUS_TABLE_FLAG;
    assert_true(table || (io->flags & DM_NOFLUSH_FLAG));   /* a status never flushes pool metadata */
    if (table)
        f->table_queries++;
    else
        f->status_queries++;
    if (name_in(f->broken, io->name))
        return -EIO;
    if (!table && name_in(f->vanish, io->name))
        return -ENXIO;
    struct canned_dev devs[64];
    size_t n = parse_ls(f->ls, devs, 64), i = 0;
    while (i < n && strcmp(devs[i].name, io->name) != 0)
        i++;
    if (i == n)
        return -ENXIO;
    io->dev = encode_dev(devs[i].major, devs[i].minor);
    io->event_nr = 3;
    snprintf(io->uuid, sizeof io->uuid, "%s", name_in(f->non_lvm, io->name) ? "" : "LVM-0123456789abcdef");
    char params[512];
    struct canned_target t[1 + 2000];
    size_t nt = find_target(table ? f->table : f->status, io->name, &t[0], params, sizeof params);
    if (strcmp(io->name, "big") == 0) {
        assert_true(f->extra_linear <= 2000);
        for (size_t k = 0; k < f->extra_linear; k++, nt++)
            t[nt] = (struct canned_target){k * 8, 8, "linear", table ? "259:3 218105856" : ""};
    }
    put_targets(io, t, nt);
    return 0;
}

static int fake_ioctl(void *arg, int fd, unsigned long request, struct dm_ioctl *io)
{
    struct fake_dm *f = arg;
    assert_int_equal(fd, FAKE_FD);
    assert_int_equal(f->opens, f->closes + 1);
    assert_int_equal(io->version[0], 4);
    assert_int_equal(io->data_start, sizeof *io);
    if (io->data_size > f->largest_buffer)
        f->largest_buffer = io->data_size;
    unsigned major_ = f->kernel_major ? f->kernel_major : 4;
    io->version[0] = major_;                            /* check_version() answers with the kernel's */
    io->version[1] = 48;
    io->version[2] = 0;
    if (major_ != 4)
        return -EINVAL;
    if (f->ioctl_errno)
        return -f->ioctl_errno;
    int rc;
    if (request == DM_VERSION) {
        f->versions++;
        return 0;
    } else if (request == DM_LIST_DEVICES) {
        f->lists++;
        if (f->list_errno)
            return -f->list_errno;
        struct canned_dev devs[64];
        put_name_list(io, devs, parse_ls(f->ls, devs, 64));
        rc = 0;
    } else {
        assert_true(request == DM_TABLE_STATUS);
        rc = fake_table_status(f, io);
    }
    if (rc == 0 && f->mangle)
        f->mangle(request, io);
    return rc;
}

static const struct thinpool_dm_port fake_port = {fake_open, fake_ioctl, fake_close};

/* pve-internals §7.10, verbatim (trailing spaces as the kernel emits them). */
static const char ls_710[] =
    "pve-swap\t(252:0)\npve-root\t(252:1)\npve-data_tmeta\t(252:2)\npve-data_tdata\t(252:3)\n"
    "pve-data-tpool\t(252:4)\npve-data\t(252:5)\npve-vm--100--disk--0\t(252:6)\n"
    "pve-vm--100--disk--1\t(252:7)\npve-vm--101--disk--0\t(252:8)\npve-vm--101--disk--1\t(252:9)\n"
    "pve-vm--102--disk--0\t(252:10)\nnvme2-tank_tmeta\t(252:11)\nnvme2-tank_tdata\t(252:12)\n"
    "nvme2-tank-tpool\t(252:13)\nnvme2-tank\t(252:14)\nnvme2-vm--103--disk--0\t(252:15)\n";
static const char table_710[] =
    "nvme2-tank: 0 2147483648 linear 252:13 0\n"
    "nvme2-tank-tpool: 0 2147483648 thin-pool 252:11 252:12 512 838860 2 skip_block_zeroing error_if_no_space \n"
    "nvme2-tank_tdata: 0 2147483648 linear 259:4 2048\n"
    "nvme2-tank_tmeta: 0 2097152 linear 259:4 2147485696\n"
    "nvme2-vm--103--disk--0: 0 1887436800 thin 252:13 1\n"
    "pve-data: 0 1666793472 linear 252:4 0\n"
    "pve-data-tpool: 0 1666793472 thin-pool 252:2 252:3 128 0 0 \n"
    "pve-data_tdata: 0 1666793472 linear 259:3 218105856\n"
    "pve-data_tmeta: 0 17006592 linear 259:3 1884899328\n"
    "pve-root: 0 201326592 linear 259:3 16779264\n"
    "pve-swap: 0 16777216 linear 259:3 2048\n"
    "pve-vm--100--disk--0: 0 67108864 thin 252:4 1\n"
    "pve-vm--100--disk--1: 0 419430400 thin 252:4 4\n"
    "pve-vm--101--disk--0: 0 16777216 thin 252:4 2\n"
    "pve-vm--101--disk--1: 0 8388608 thin 252:4 6\n"
    "pve-vm--102--disk--0: 0 134217728 thin 252:4 7\n";
static const char status_710[] =
    "nvme2-tank: 0 2147483648 linear \n"
    "nvme2-tank-tpool: 0 2147483648 thin-pool 12 9812/262144 4091392/4194304 - rw discard_passdown "
    "error_if_no_space - 1024 \n"
    "nvme2-tank_tdata: 0 2147483648 linear \n"
    "nvme2-tank_tmeta: 0 2097152 linear \n"
    "nvme2-vm--103--disk--0: 0 1887436800 thin 1812480000 1886719999\n"
    "pve-data: 0 1666793472 linear \n"
    "pve-data-tpool: 0 1666793472 thin-pool 87 32312/2125824 4872893/13021824 - rw discard_passdown "
    "queue_if_no_space - 1024 \n"
    "pve-data_tdata: 0 1666793472 linear \n"
    "pve-data_tmeta: 0 17006592 linear \n"
    "pve-root: 0 201326592 linear \n"
    "pve-swap: 0 16777216 linear \n"
    "pve-vm--100--disk--0: 0 67108864 thin 40936320 48989439\n"
    "pve-vm--100--disk--1: 0 419430400 thin 184549376 234881023\n"
    "pve-vm--101--disk--0: 0 16777216 thin 6375296 8388607\n"
    "pve-vm--101--disk--1: 0 8388608 thin 1677696 2621439\n"
    "pve-vm--102--disk--0: 0 134217728 thin 111400704 127506815\n";

/* ---- helpers --------------------------------------------------------------- */

struct world {
    struct arena arena, cfg;
    struct buf scratch;
    struct collector_ctx ctx;
    Pvescope__Report r;
    void *st;
    char procfs[40];         /* a procfs holding only misc ("" for /proc) */
};

/* Writes <dir>/misc with that text. */
static void write_misc(const char *dir, const char *text)
{
    char path[128];
    snprintf(path, sizeof path, "%s/misc", dir);
    FILE *m = fopen(path, "w");
    assert_non_null(m);
    fputs(text, m);
    fclose(m);
}

/* With a fake: a procfs whose misc lists device-mapper, and the fake as
 * port. Without: the real port and /proc. */
static void world_init(struct world *w, struct fake_dm *f)
{
    memset(w, 0, sizeof *w);
    arena_init(&w->arena, 4096);
    arena_init(&w->cfg, 4096);
    w->ctx = (struct collector_ctx){.procfs = "/proc", .arena = &w->arena, .scratch = &w->scratch};
    if (f) {
        snprintf(w->procfs, sizeof w->procfs, "/tmp/pvescope-thin-proc-XXXXXX");
        assert_non_null(mkdtemp(w->procfs));
        write_misc(w->procfs, "236 device-mapper\n183 hw_random\n");
        w->ctx.procfs = w->procfs;
    }
    pvescope__report__init(&w->r);
    w->r.node = "pve1";
    assert_int_equal(collector_thinpool.init(&w->st, &w->ctx), 0);
    if (f)
        thinpool_collector_set_port(w->st, &fake_port, f);
}

static int world_collect(struct world *w)
{
    arena_reset(&w->arena);
    w->ctx.err[0] = '\0';
    w->r.n_storage_usage = 0;
    return collector_thinpool.collect(w->st, &w->ctx, &w->r);
}

static void world_free(struct world *w)
{
    collector_thinpool.fini(w->st);
    if (w->procfs[0]) {
        char path[128];
        snprintf(path, sizeof path, "%s/misc", w->procfs);
        unlink(path);
        rmdir(w->procfs);
    }
    arena_free(&w->arena);
    arena_free(&w->cfg);
    buf_free(&w->scratch);
}

static const Pvescope__ThinPool *pool(const Pvescope__Report *r, const char *dm_name)
{
    for (size_t i = 0; i < r->n_thin_pools; i++)
        if (strcmp(r->thin_pools[i]->dm_name, dm_name) == 0)
            return r->thin_pools[i];
    fail_msg("no pool %s", dm_name);
    return NULL;
}

static const Pvescope__ThinVolume *volume(const Pvescope__Report *r, const char *dm_name)
{
    for (size_t i = 0; i < r->n_thin_volumes; i++)
        if (strcmp(r->thin_volumes[i]->dm_name, dm_name) == 0)
            return r->thin_volumes[i];
    fail_msg("no volume %s", dm_name);
    return NULL;
}

static const Pvescope__StorageUsage *usage(const Pvescope__Report *r, const char *id)
{
    for (size_t i = 0; i < r->n_storage_usage; i++)
        if (strcmp(r->storage_usage[i]->id, id) == 0)
            return r->storage_usage[i];
    return NULL;
}

static Pvescope__StorageConfig *scfg(struct arena *a, const char *id, const char *type, const char *vg,
                                     const char *pool_lv)
{
    Pvescope__StorageConfig *s = arena_alloc(a, sizeof *s);
    pvescope__storage_config__init(s);
    s->id = arena_strdup(a, id);
    s->type = arena_strdup(a, type);
    s->vgname = vg ? arena_strdup(a, vg) : NULL;
    s->thinpool = pool_lv ? arena_strdup(a, pool_lv) : NULL;
    return s;
}

/* ---- tests ----------------------------------------------------------------- */

static void check_710(const Pvescope__Report *r)
{
    assert_int_equal(r->n_thin_pools, 2);
    assert_int_equal(r->n_thin_volumes, 6);
    const Pvescope__ThinPool *p = pool(r, "pve-data-tpool");
    assert_string_equal(p->vg, "pve");
    assert_string_equal(p->lv, "data");
    assert_null(p->error);
    assert_true(p->has_mode && p->mode == PVESCOPE__THIN_POOL_MODE__THIN_POOL_RW);
    assert_true(p->has_transaction_id && p->transaction_id == 87);
    assert_true(p->has_data_block_sectors && p->data_block_sectors == 128);
    assert_int_equal(p->data_used_blocks, 4872893);
    assert_int_equal(p->data_total_blocks, 13021824);
    assert_int_equal(p->metadata_used_blocks, 32312);
    assert_int_equal(p->metadata_total_blocks, 2125824);
    assert_true(p->has_needs_check && !p->needs_check);
    assert_true(p->has_error_if_no_space && !p->error_if_no_space);
    assert_string_equal(p->discards, "discard_passdown");
    p = pool(r, "nvme2-tank-tpool");
    assert_string_equal(p->vg, "nvme2");
    assert_string_equal(p->lv, "tank");
    assert_int_equal(p->data_block_sectors, 512);
    assert_int_equal(p->transaction_id, 12);
    assert_true(p->error_if_no_space);

    static const struct { const char *dm, *lv, *pool; uint64_t size_b, mapped_b; } vols[] = {
        {"pve-vm--100--disk--0", "vm-100-disk-0", "pve-data-tpool", 34359738368ULL, 20959395840ULL},
        {"pve-vm--100--disk--1", "vm-100-disk-1", "pve-data-tpool", 214748364800ULL, 94489280512ULL},
        {"pve-vm--101--disk--0", "vm-101-disk-0", "pve-data-tpool", 8589934592ULL, 3264151552ULL},
        {"pve-vm--101--disk--1", "vm-101-disk-1", "pve-data-tpool", 4294967296ULL, 858980352ULL},
        {"pve-vm--102--disk--0", "vm-102-disk-0", "pve-data-tpool", 68719476736ULL, 57037160448ULL},
        {"nvme2-vm--103--disk--0", "vm-103-disk-0", "nvme2-tank-tpool", 966367641600ULL, 927989760000ULL},
    };
    for (size_t i = 0; i < sizeof vols / sizeof vols[0]; i++) {
        const Pvescope__ThinVolume *v = volume(r, vols[i].dm);
        assert_string_equal(v->lv, vols[i].lv);
        assert_string_equal(v->pool_dm_name, vols[i].pool);
        assert_true(v->has_size_sectors && v->has_mapped_sectors);
        assert_int_equal(v->size_sectors * 512, vols[i].size_b);
        assert_int_equal(v->mapped_sectors * 512, vols[i].mapped_b);
        assert_true(v->has_fail && !v->fail);
        assert_null(v->error);
    }
}

/* The §7.10 host: two pools, six volumes, tables read once and cached. */
static void t_fixture_710(void **state)
{
    (void)state;
    struct fake_dm f = {.ls = ls_710, .table = table_710, .status = status_710};
    struct world w;
    world_init(&w, &f);
    assert_int_equal(world_collect(&w), 0);
    assert_string_equal(w.ctx.err, "");
    check_710(&w.r);
    assert_int_equal(f.status_queries, 16);            /* every device, once */
    assert_int_equal(f.table_queries, 2 + 6);          /* each pool and each volume, once */
    assert_int_equal(f.opens, 1);
    assert_int_equal(f.versions, 1);
    assert_int_equal(f.lists, 1);
    assert_int_equal(f.largest_buffer, 16384);         /* the first buffer was enough */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(world_collect(&w), 0);
        check_710(&w.r);
    }
    assert_int_equal(f.status_queries, 4 * 16);
    assert_int_equal(f.table_queries, 8);              /* cached since the first cycle */
    assert_int_equal(f.opens, 1);                      /* the control fd stays open ... */
    assert_int_equal(f.versions, 1);
    assert_int_equal(f.closes, 0);
    world_free(&w);
    assert_int_equal(f.closes, 1);                     /* ... until fini */
}

/* A pool whose table was reloaded with another block size under the same
 * name and dev (its block count no longer matches): the table is read again.
 * A pool re-created under another dev number: read again, and its volumes'
 * tables too (their cached pool dev is gone). */
static void t_cache_refresh(void **state)
{
    (void)state;
    static const char ls[] = "vg-pool-tpool\t(252:4)\nvg-vm--1--disk--0\t(252:6)\n";
    static const char ls2[] = "vg-pool-tpool\t(252:9)\nvg-vm--1--disk--0\t(252:6)\n";
    static const char table1[] = "vg-pool-tpool: 0 1048576 thin-pool 252:2 252:3 128 0 0 \n"
                                 "vg-vm--1--disk--0: 0 2097152 thin 252:4 1\n";
    static const char status1[] = "vg-pool-tpool: 0 1048576 thin-pool 1 10/1000 100/8192 - rw discard_passdown "
                                  "queue_if_no_space - 250 \nvg-vm--1--disk--0: 0 2097152 thin 1024 4095\n";
    static const char table2[] = "vg-pool-tpool: 0 1048576 thin-pool 252:2 252:3 256 0 0 \n"
                                 "vg-vm--1--disk--0: 0 2097152 thin 252:9 1\n";
    static const char status2[] = "vg-pool-tpool: 0 1048576 thin-pool 1 10/1000 100/4096 - rw discard_passdown "
                                  "queue_if_no_space - 250 \nvg-vm--1--disk--0: 0 2097152 thin 1024 4095\n";
    struct fake_dm f = {.ls = ls, .table = table1, .status = status1};
    struct world w;
    world_init(&w, &f);
    assert_int_equal(world_collect(&w), 0);
    assert_int_equal(pool(&w.r, "vg-pool-tpool")->data_block_sectors, 128);
    assert_string_equal(volume(&w.r, "vg-vm--1--disk--0")->pool_dm_name, "vg-pool-tpool");
    assert_int_equal(f.table_queries, 2);
    assert_int_equal(world_collect(&w), 0);
    assert_int_equal(f.table_queries, 2);
    f.table = table2;                                  /* reloaded: 1048576/256 = 4096 blocks */
    f.status = status2;
    assert_int_equal(world_collect(&w), 0);
    assert_int_equal(pool(&w.r, "vg-pool-tpool")->data_block_sectors, 256);
    assert_int_equal(f.table_queries, 3);
    f.ls = ls2;                                        /* re-created as 252:9 */
    assert_int_equal(world_collect(&w), 0);
    assert_int_equal(f.table_queries, 5);              /* the pool's and the volume's table */
    assert_string_equal(volume(&w.r, "vg-vm--1--disk--0")->pool_dm_name, "vg-pool-tpool");
    assert_int_equal(world_collect(&w), 0);
    assert_int_equal(f.table_queries, 5);
    assert_string_equal(w.ctx.err, "");
    world_free(&w);
}

/* Fresh pool mapped directly, held root, failed pool and its volume, a
 * non-LVM pool, a malformed status, a vanished and a broken device. */
static void t_variants(void **state)
{
    (void)state;
    static const char ls[] = "pve-fresh\t(252:0)\nmy--vg-thin_pool-tpool\t(252:1)\nbad-pool-tpool\t(252:2)\n"
                             "bad-vm--9--disk--0\t(252:3)\ndocker-thinpool\t(252:4)\nodd-pool-tpool\t(252:5)\n"
                             "gone-pool-tpool\t(252:6)\nbroken-pool-tpool\t(252:7)\nmy--vg-empty\t(252:8)\n"
                             "err-pool-tpool\t(252:9)\nerr-vm--5--disk--0\t(252:10)\n";
    static const char table[] = "pve-fresh: 0 2097152 thin-pool 252:20 252:21 128 0 0 \n"
                                "my--vg-thin_pool-tpool: 0 2097152 thin-pool 252:22 252:23 128 0 0 \n"
                                "bad-pool-tpool: 0 2097152 thin-pool 252:24 252:25 1024 0 0 \n"
                                "bad-vm--9--disk--0: 0 4096 thin 252:2 1\n"
                                "docker-thinpool: 0 2097152 thin-pool 7:0 7:1 128 32768 1 skip_block_zeroing \n"
                                "odd-pool-tpool: 0 2097152 thin-pool 252:26 252:27 128 0 0 \n"
                                "my--vg-empty: 0 65536 thin 252:1 3\n"
                                "err-pool-tpool: 0 2097152 thin-pool 252:28 252:29 96 0 0 \n"
                                "err-vm--5--disk--0: 0 4096 thin 252:9 1\n";
    static const char status[] =
        "pve-fresh: 0 2097152 thin-pool 0 11/4096 0/16384 - rw discard_passdown queue_if_no_space - 1024 \n"
        "my--vg-thin_pool-tpool: 0 2097152 thin-pool 5 20/4096 10/16384 1533 rw no_discard_passdown "
        "queue_if_no_space - 1024 \n"
        "bad-pool-tpool: 0 2097152 thin-pool Fail\n"
        "bad-vm--9--disk--0: 0 4096 thin Fail\n"
        "docker-thinpool: 0 2097152 thin-pool 1 1/4096 2/16384 - rw discard_passdown queue_if_no_space - 1024 \n"
        "odd-pool-tpool: 0 2097152 thin-pool 1 1/4096 2/16384 - rw discard_passdown sometimes - 1024 \n"
        "gone-pool-tpool: 0 2097152 thin-pool 1 1/4096 2/16384 - rw\n"
        "my--vg-empty: 0 65536 thin 0 -\n"
        "err-pool-tpool: 0 2097152 thin-pool 1 1/4096 2/16384 - rw\n"
        "err-vm--5--disk--0: 0 4096 thin Error\n";
    struct fake_dm f = {.ls = ls, .table = table, .status = status, .non_lvm = "docker-thinpool",
                        .vanish = "gone-pool-tpool", .broken = "broken-pool-tpool"};
    struct world w;
    world_init(&w, &f);
    assert_int_equal(world_collect(&w), 0);            /* bad devices are warnings */
    assert_int_equal(w.r.n_thin_pools, 6);
    assert_int_equal(w.r.n_thin_volumes, 3);

    const Pvescope__ThinPool *p = pool(&w.r, "pve-fresh");
    assert_string_equal(p->vg, "pve");
    assert_string_equal(p->lv, "fresh");
    assert_int_equal(p->transaction_id, 0);
    assert_int_equal(p->data_block_sectors, 128);

    p = pool(&w.r, "my--vg-thin_pool-tpool");
    assert_string_equal(p->vg, "my-vg");
    assert_string_equal(p->lv, "thin_pool");
    assert_string_equal(p->discards, "no_discard_passdown");
    const Pvescope__ThinVolume *v = volume(&w.r, "my--vg-empty");
    assert_string_equal(v->vg, "my-vg");
    assert_string_equal(v->lv, "empty");
    assert_string_equal(v->pool_dm_name, "my--vg-thin_pool-tpool");
    assert_true(v->has_mapped_sectors && v->mapped_sectors == 0);
    assert_int_equal(v->size_sectors, 65536);

    p = pool(&w.r, "bad-pool-tpool");
    assert_true(p->has_mode && p->mode == PVESCOPE__THIN_POOL_MODE__THIN_POOL_FAIL);
    assert_false(p->has_data_total_blocks || p->has_transaction_id || p->has_data_block_sectors);
    assert_null(p->error);
    v = volume(&w.r, "bad-vm--9--disk--0");
    assert_true(v->has_fail && v->fail);
    assert_false(v->has_mapped_sectors);
    assert_true(v->has_size_sectors);
    assert_string_equal(v->pool_dm_name, "bad-pool-tpool");

    p = pool(&w.r, "docker-thinpool");                 /* not LVM: no vg/lv guessed */
    assert_null(p->vg);
    assert_null(p->lv);
    assert_int_equal(p->data_block_sectors, 128);

    p = pool(&w.r, "odd-pool-tpool");
    assert_false(p->has_mode);
    assert_string_equal(p->error, "status: unknown word 'sometimes'");
    assert_false(p->has_data_used_blocks);

    p = pool(&w.r, "err-pool-tpool");                  /* status fine, table unusable */
    assert_true(p->has_mode && p->has_data_used_blocks);
    assert_false(p->has_data_block_sectors);
    assert_non_null(strstr(p->error, "table: data block size 96 sectors"));
    v = volume(&w.r, "err-vm--5--disk--0");
    assert_false(v->has_mapped_sectors);
    assert_false(v->fail);
    assert_non_null(strstr(v->error, "Error"));

    /* the vanished pool is simply absent; the broken one is a warning */
    for (size_t i = 0; i < w.r.n_thin_pools; i++) {
        assert_string_not_equal(w.r.thin_pools[i]->dm_name, "gone-pool-tpool");
        assert_string_not_equal(w.r.thin_pools[i]->dm_name, "broken-pool-tpool");
    }
    assert_non_null(strstr(w.ctx.err, "odd-pool-tpool: status: unknown word 'sometimes'"));
    assert_non_null(strstr(w.ctx.err, "(and more devices)"));
    world_free(&w);
}

/* Listing fails: the collector fails with the reason, no pools; the
 * control fd is closed and opened afresh at the next cycle. */
static void t_list_fails(void **state)
{
    (void)state;
    struct fake_dm f = {.ls = ls_710, .table = table_710, .status = status_710, .list_errno = EIO};
    struct world w;
    world_init(&w, &f);
    assert_int_equal(world_collect(&w), -1);
    assert_string_equal(w.ctx.err, "listing dm devices: Input/output error");
    assert_int_equal(w.r.n_thin_pools, 0);
    assert_int_equal(f.opens, 1);
    assert_int_equal(f.closes, 1);
    f.list_errno = 0;
    assert_int_equal(world_collect(&w), 0);
    check_710(&w.r);
    assert_int_equal(f.opens, 2);
    assert_int_equal(f.versions, 2);
    world_free(&w);
}

/* lvmthin storages: the one on this node gets the pool's exact bytes, a
 * missing pool is inactive without sizes, others are left alone, and the
 * storage collector's entries are kept. */
static void t_storage_usage(void **state)
{
    (void)state;
    struct fake_dm f = {.ls = ls_710, .table = table_710, .status = status_710};
    struct world w;
    world_init(&w, &f);
    Pvescope__StorageConfig *other = scfg(&w.cfg, "elsewhere", "lvmthin", "pve", "data");
    char *pve2[] = {"pve2"};
    other->nodes = pve2;
    other->n_nodes = 1;
    Pvescope__StorageConfig *off = scfg(&w.cfg, "off", "lvmthin", "pve", "data");
    off->has_disabled = off->disabled = true;
    Pvescope__StorageConfig *cfgs[] = {
        scfg(&w.cfg, "local", "dir", NULL, NULL),       scfg(&w.cfg, "local-lvm", "lvmthin", "pve", "data"),
        scfg(&w.cfg, "tank", "lvmthin", "nvme2", "tank"), scfg(&w.cfg, "missing", "lvmthin", "pve", "gone"),
        scfg(&w.cfg, "novg", "lvmthin", NULL, "data"),  scfg(&w.cfg, "plain", "lvm", "pve", NULL),
        other, off};
    w.r.storages = cfgs;
    w.r.n_storages = sizeof cfgs / sizeof cfgs[0];
    /* what the storage collector (which runs first) left */
    Pvescope__StorageUsage dir = PVESCOPE__STORAGE_USAGE__INIT, *dirs[] = {&dir};
    dir.id = "local";
    dir.has_active = dir.active = true;

    assert_int_equal(collector_thinpool.collect(w.st, &w.ctx, &w.r), 0);  /* no usage yet: none kept */
    assert_int_equal(w.r.n_storage_usage, 3);
    arena_reset(&w.arena);
    w.r.storage_usage = dirs;
    w.r.n_storage_usage = 1;
    assert_int_equal(collector_thinpool.collect(w.st, &w.ctx, &w.r), 0);
    assert_int_equal(w.r.n_storage_usage, 4);
    assert_ptr_equal(usage(&w.r, "local"), &dir);

    const Pvescope__StorageUsage *u = usage(&w.r, "local-lvm");
    assert_non_null(u);
    assert_true(u->has_active && u->active);
    assert_true(u->has_total_bytes && u->has_used_bytes && u->has_avail_bytes);
    assert_int_equal(u->total_bytes, 853398257664ULL);
    assert_int_equal(u->used_bytes, 319349915648ULL);
    assert_int_equal(u->avail_bytes, 853398257664ULL - 319349915648ULL);
    u = usage(&w.r, "tank");
    assert_int_equal(u->total_bytes, 1099511627776ULL);
    assert_int_equal(u->used_bytes, 1072533864448ULL);
    assert_int_equal(u->avail_bytes, 26977763328ULL);
    u = usage(&w.r, "missing");
    assert_true(u->has_active && !u->active);
    assert_false(u->has_total_bytes || u->has_used_bytes || u->has_avail_bytes);
    assert_null(usage(&w.r, "novg"));
    assert_null(usage(&w.r, "plain"));
    assert_null(usage(&w.r, "elsewhere"));
    assert_null(usage(&w.r, "off"));

    /* device-mapper unusable: nothing is known about the pools, so no usage
     * (an inactive storage would claim they are down) */
    f.list_errno = EIO;
    arena_reset(&w.arena);
    w.r.n_storage_usage = 0;
    assert_int_equal(collector_thinpool.collect(w.st, &w.ctx, &w.r), -1);
    assert_int_equal(w.r.n_storage_usage, 0);
    world_free(&w);
}

/* ---- the port's failures and the reply checks --------------------------- */

/* More devices than the first 16 KiB buffer holds (the list), and a device
 * whose reply does not fit either (its status): both are asked again with a
 * larger buffer. A kernel that never has room stops at 4 MiB. */
static void t_buffer_growth(void **state)
{
    (void)state;
    char *ls = malloc(64 * 64);
    size_t off = 0;
    off += (size_t)sprintf(ls + off, "%s", "pve-data-tpool\t(252:4)\nbig\t(252:5)\n");
    for (unsigned i = 0; i < 60; i++)
        off += (size_t)sprintf(ls + off, "pve-vm--%u--disk--0\t(252:%u)\n", 1000 + i, 300 + i);
    static const char table[] = "pve-data-tpool: 0 1666793472 thin-pool 252:2 252:3 128 0 0 \n";
    static const char status[] = "pve-data-tpool: 0 1666793472 thin-pool 87 32312/2125824 4872893/13021824 - rw "
                                 "discard_passdown queue_if_no_space - 1024 \n";
    /* 60 listed devices are only 2.6 KiB: make the names list need more */
    struct fake_dm f = {.ls = ls, .table = table, .status = status, .extra_linear = 1000};
    struct world w;
    world_init(&w, &f);
    assert_int_equal(world_collect(&w), 0);
    assert_string_equal(w.ctx.err, "");
    assert_int_equal(w.r.n_thin_pools, 1);
    assert_int_equal(pool(&w.r, "pve-data-tpool")->data_block_sectors, 128);
    assert_int_equal(f.largest_buffer, 65536);         /* 1000 linear targets of 48 bytes: 16 KiB, then 64 KiB */
    assert_int_equal(f.status_queries, 62 + 1);        /* big's status was asked twice */
    unsigned statuses = f.status_queries;
    assert_int_equal(world_collect(&w), 0);
    assert_int_equal(f.status_queries, statuses + 62); /* the buffer kept its size */
    world_free(&w);
    free(ls);
}

static void always_full(unsigned long request, struct dm_ioctl *io)
{
    if (request == DM_LIST_DEVICES)
        io->flags |= DM_BUFFER_FULL_FLAG;
}

static void t_buffer_bounded(void **state)
{
    (void)state;
    struct fake_dm f = {.ls = ls_710, .table = table_710, .status = status_710, .mangle = always_full};
    struct world w;
    world_init(&w, &f);
    assert_int_equal(world_collect(&w), -1);
    assert_string_equal(w.ctx.err, "listing dm devices: reply larger than 4194304 bytes");
    assert_int_equal(f.largest_buffer, 4194304);
    assert_int_equal(f.lists, 5);                      /* 16 KiB, 64 KiB, 256 KiB, 1 MiB, 4 MiB */
    world_free(&w);
}

/* Opening /dev/mapper/control fails: the reason, with what to do about it;
 * and no open at all when the kernel has no device-mapper. */
static void t_open_errors(void **state)
{
    (void)state;
    struct fake_dm f = {.ls = ls_710, .table = table_710, .status = status_710, .open_errno = EACCES};
    struct world w;
    world_init(&w, &f);
    assert_int_equal(world_collect(&w), -1);
    assert_string_equal(w.ctx.err, "device-mapper unusable: /dev/mapper/control: Permission denied "
                                   "(dm ioctls need root / CAP_SYS_ADMIN)");
    f.open_errno = ENOENT;
    assert_int_equal(world_collect(&w), -1);
    assert_string_equal(w.ctx.err, "device-mapper unusable: /dev/mapper/control: No such file or directory "
                                   "(device-mapper is loaded but its control node is missing; `dmsetup mknodes` "
                                   "creates it)");
    write_misc(w.procfs, "183 hw_random\n227 mcelog\n");
    f.open_errno = 0;
    assert_int_equal(world_collect(&w), 0);            /* no device-mapper: no pools, no error */
    assert_string_equal(w.ctx.err, "");
    assert_int_equal(w.r.n_thin_pools, 0);
    assert_int_equal(f.opens, 0);                      /* never asked to load dm_mod */
    write_misc(w.procfs, "236 device-mapper\n");       /* loaded later: seen at the next cycle */
    assert_int_equal(world_collect(&w), 0);
    check_710(&w.r);
    world_free(&w);
}

/* The control node is open but the ioctls are refused (not CAP_SYS_ADMIN),
 * or the kernel speaks another interface version. */
static void t_ioctl_refused(void **state)
{
    (void)state;
    struct fake_dm f = {.ls = ls_710, .table = table_710, .status = status_710, .ioctl_errno = EACCES};
    struct world w;
    world_init(&w, &f);
    assert_int_equal(world_collect(&w), -1);
    assert_string_equal(w.ctx.err,
                        "device-mapper unusable: DM_VERSION: Permission denied (dm ioctls need root / CAP_SYS_ADMIN)");
    assert_int_equal(f.opens, 1);
    assert_int_equal(f.closes, 1);
    f.ioctl_errno = 0;
    f.kernel_major = 5;
    assert_int_equal(world_collect(&w), -1);
    assert_string_equal(w.ctx.err, "device-mapper unusable: kernel ioctl interface 5.48.0, this agent speaks 4.x");
    assert_int_equal(f.closes, 2);
    f.kernel_major = 0;
    assert_int_equal(world_collect(&w), 0);
    check_710(&w.r);
    world_free(&w);
}

/* Replies that break the layout: a list record pointing past the data, and
 * one device's targets pointing outside its reply. */
static void bad_list_next(unsigned long request, struct dm_ioctl *io)
{
    if (request != DM_LIST_DEVICES)
        return;
    struct dm_name_list *nl = (struct dm_name_list *)((uint8_t *)io + io->data_start);
    nl->next = io->data_size;                          /* past the end of the data */
}

static void bad_target_next(unsigned long request, struct dm_ioctl *io)
{
    if (request != DM_TABLE_STATUS || strcmp(io->name, "pve-vm--101--disk--0") != 0)
        return;
    io->target_count = 2;                              /* a second target that is not there */
}

static void other_device(unsigned long request, struct dm_ioctl *io)
{
    if (request == DM_TABLE_STATUS && strcmp(io->name, "pve-vm--102--disk--0") == 0)
        snprintf(io->name, sizeof io->name, "pve-swap");
}

static void t_malformed_replies(void **state)
{
    (void)state;
    struct fake_dm f = {.ls = ls_710, .table = table_710, .status = status_710, .mangle = bad_list_next};
    struct world w;
    world_init(&w, &f);
    assert_int_equal(world_collect(&w), -1);
    assert_string_equal(w.ctx.err, "listing dm devices: record at 0: next 968 outside the 656-byte list");
    f.mangle = bad_target_next;
    assert_int_equal(world_collect(&w), 0);
    assert_string_equal(w.ctx.err, "pve-vm--101--disk--0: status: target 2 of 2 at 56 outside the 56-byte data");
    assert_int_equal(w.r.n_thin_volumes, 5);
    f.mangle = other_device;
    assert_int_equal(world_collect(&w), 0);
    assert_string_equal(w.ctx.err, "pve-vm--102--disk--0: status: malformed reply: for device 'pve-swap'");
    assert_int_equal(w.r.n_thin_volumes, 5);
    world_free(&w);
}

/* A device whose ioctl fails: a warning for it, the fd reopened for the
 * next device, every other device reported. */
static void t_broken_device(void **state)
{
    (void)state;
    struct fake_dm f = {.ls = ls_710, .table = table_710, .status = status_710, .broken = "pve-vm--100--disk--1"};
    struct world w;
    world_init(&w, &f);
    assert_int_equal(world_collect(&w), 0);
    assert_string_equal(w.ctx.err, "pve-vm--100--disk--1: status: Input/output error");
    assert_int_equal(w.r.n_thin_pools, 2);
    assert_int_equal(w.r.n_thin_volumes, 5);
    assert_int_equal(f.opens, 2);
    assert_int_equal(f.closes, 1);
    world_free(&w);
}

/* ---- the real control device ------------------------------------------------ */

/* The real port on this machine. Without device-mapper in the kernel (or
 * without root) the collector fails with the reason, and writes nothing to
 * stderr. With it, every pool dmsetup reports is found. */
static bool kernel_has_dm(void)
{
    FILE *m = fopen("/proc/misc", "r");
    char line[128];
    bool dm = false;
    while (m && fgets(line, sizeof line, m))
        dm = dm || strstr(line, " device-mapper\n") != NULL;
    if (m)
        fclose(m);
    return dm;
}

/* The collector must say why through ctx.err only: the agent logs that
 * once, so anything printed on stderr would repeat every cycle. */
struct stderr_capture {
    char path[40];
    int fd, saved;
};

static void stderr_capture_begin(struct stderr_capture *c)
{
    snprintf(c->path, sizeof c->path, "/tmp/pvescope-thin-stderr-XXXXXX");
    c->fd = mkstemp(c->path);
    assert_true(c->fd >= 0);
    fflush(stderr);
    c->saved = dup(2);
    dup2(c->fd, 2);
}

/* Restores stderr; how many bytes were written to it in between. */
static off_t stderr_capture_end(struct stderr_capture *c)
{
    fflush(stderr);
    dup2(c->saved, 2);
    close(c->saved);
    off_t written = lseek(c->fd, 0, SEEK_END);
    close(c->fd);
    unlink(c->path);
    return written;
}

static void real_dm_without_dm(void)
{
    struct world w;
    world_init(&w, NULL);
    struct stderr_capture cap;
    stderr_capture_begin(&cap);
    int rc = world_collect(&w);
    off_t written = stderr_capture_end(&cap);
    print_message("collector result %d: %s\n", rc, w.ctx.err);
    if (!kernel_has_dm()) {
        assert_int_equal(rc, 0);       /* no device-mapper: no pools, no error */
        assert_string_equal(w.ctx.err, "");
        assert_int_equal(w.r.n_thin_pools, 0);
    } else {
        assert_int_equal(rc, -1);
        assert_non_null(strstr(w.ctx.err, "device-mapper unusable: "));
    }
    assert_int_equal(written, 0);
    world_free(&w);
}

/* The real control node when device-mapper is missing: a procfs whose misc
 * claims device-mapper makes the collector open /dev/mapper/control, and
 * the open's failure (the same errno the test gets itself) comes back as the
 * collector's message, the same every cycle, nothing on stderr. */
static void real_dm_control_missing(void)
{
    char dir[] = "/tmp/pvescope-thin-proc-XXXXXX";
    assert_non_null(mkdtemp(dir));
    write_misc(dir, "236 device-mapper\n183 hw_random\n");
    int probe = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
    int open_errno = errno;
    assert_true(probe < 0);                            /* no device-mapper: the open cannot succeed */
    char want[200];
    snprintf(want, sizeof want, "device-mapper unusable: /dev/mapper/control: %s", strerror(open_errno));
    struct world w;
    world_init(&w, NULL);
    w.ctx.procfs = dir;
    struct stderr_capture cap;
    stderr_capture_begin(&cap);
    int rc1 = world_collect(&w);
    char first[256];
    snprintf(first, sizeof first, "%s", w.ctx.err);
    int rc2 = world_collect(&w);
    off_t written = stderr_capture_end(&cap);
    char path[128];
    snprintf(path, sizeof path, "%s/misc", dir);
    unlink(path);
    rmdir(dir);
    print_message("collector error: %s\n", first);
    assert_int_equal(rc1, -1);
    assert_int_equal(rc2, -1);
    assert_memory_equal(first, want, strlen(want));
    assert_string_equal(w.ctx.err, first);             /* same message every cycle: logged once */
    assert_int_equal(written, 0);
    world_free(&w);
}

/* With device-mapper (root): the collector's pools are dmsetup's. */
static void real_dm_with_dm(void)
{
    struct world w;
    world_init(&w, NULL);
    assert_int_equal(world_collect(&w), 0);
    FILE *p = popen("dmsetup status --target thin-pool --noflush 2>/dev/null", "r");
    assert_non_null(p);
    char line[512];
    size_t n = 0;
    while (fgets(line, sizeof line, p)) {
        char *colon = strstr(line, ": ");
        if (!colon)
            continue;                  /* "No devices found" */
        *colon = '\0';
        const Pvescope__ThinPool *tp = pool(&w.r, line);
        assert_true(tp->has_mode);
        /* totals do not move under a running pool (used blocks may) */
        char *params = strstr(colon + 2, " thin-pool ");
        assert_non_null(params);
        params[strcspn(params, "\n")] = '\0';
        struct thinpool_status ds;
        char why[160];
        assert_true(thinpool_parse_status(params + strlen(" thin-pool "), &ds, why, sizeof why));
        assert_int_equal(tp->mode, ds.mode);
        assert_int_equal(tp->data_total_blocks, ds.data_total);
        assert_int_equal(tp->metadata_total_blocks, ds.meta_total);
        n++;
    }
    pclose(p);
    assert_int_equal(w.r.n_thin_pools, n);
    world_free(&w);
}

/* The real control device on this machine, in whichever situation it is:
 * device-mapper usable (root), present but unusable, or absent. Every
 * situation has its assertions, so nothing is skipped. */
static void t_real_dm(void **state)
{
    (void)state;
    bool dm = kernel_has_dm();
    print_message("device-mapper in this kernel: %s, euid %d\n", dm ? "yes" : "no", (int)geteuid());
    if (dm && geteuid() == 0) {
        real_dm_with_dm();
        return;
    }
    real_dm_without_dm();
    if (!dm)
        real_dm_control_missing();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_fixture_710),         cmocka_unit_test(t_cache_refresh),
        cmocka_unit_test(t_variants),            cmocka_unit_test(t_list_fails),
        cmocka_unit_test(t_storage_usage),       cmocka_unit_test(t_buffer_growth),
        cmocka_unit_test(t_buffer_bounded),      cmocka_unit_test(t_open_errors),
        cmocka_unit_test(t_ioctl_refused),       cmocka_unit_test(t_malformed_replies),
        cmocka_unit_test(t_broken_device),       cmocka_unit_test(t_real_dm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
