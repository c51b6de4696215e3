/* test_thinpool.c — the thinpool collector (agent/thinpool.c) on canned
 * device-mapper answers (the `dmsetup ls/table/status` pair of
 * pve-internals §7.10 and hand-written variants), its caches, its lvmthin
 * storage usage, and the real libdm on this machine. */
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

#include "collector.h"
#include "thinpool.h"
#include "thinpool_parsers.h"

/* ---- a fake device-mapper serving dmsetup text ---------------------------- */

struct fake_dm {
    const char *ls;          /* `dmsetup ls`: "name\t(MAJ:MIN)" lines */
    const char *table;       /* `dmsetup table`: "name: start length type params" */
    const char *status;      /* `dmsetup status` */
    const char *non_lvm;     /* names whose uuid is not LVM-..., space-separated */
    const char *vanish;      /* a device that is listed but gone at STATUS time */
    const char *broken;      /* a device whose ioctls fail */
    bool list_fails;
    unsigned table_queries, status_queries, ends;
};

static int fake_list(void *arg, struct collector_ctx *ctx, struct dm_device **devs, size_t *n, char *err,
                     size_t errlen)
{
    struct fake_dm *f = arg;
    if (f->list_fails) {
        snprintf(err, errlen, "listing dm devices: fake failure");
        return -1;
    }
    *n = 0;
    *devs = arena_alloc(ctx->arena, 64 * sizeof **devs);
    for (const char *p = f->ls; *p;) {
        const char *tab = strchr(p, '\t'), *eol = strchr(p, '\n');
        struct dm_device *d = &(*devs)[(*n)++];
        d->name = arena_strndup(ctx->arena, p, (size_t)(tab - p));
        assert_int_equal(sscanf(tab, "\t(%u:%u)", &d->major, &d->minor), 2);
        p = eol + 1;
    }
    return 0;
}

static bool name_in(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && (p = strstr(p, name)) != NULL; p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return true;
    return false;
}

static int fake_query(void *arg, struct collector_ctx *ctx, const char *name, bool table, struct dm_query *q,
                      char *err, size_t errlen)
{
    struct fake_dm *f = arg;
    if (table)
        f->table_queries++;
    else
        f->status_queries++;
    memset(q, 0, sizeof *q);
    q->uuid = "";
    if (name_in(f->broken, name)) {
        snprintf(err, errlen, "%s: fake ioctl failure", table ? "table" : "status");
        return -1;
    }
    if (!table && name_in(f->vanish, name))
        return 0;
    char key[160];
    snprintf(key, sizeof key, "%s\t(", name);
    const char *l = strstr(f->ls, key);
    if (!l || (l != f->ls && l[-1] != '\n'))
        return 0;
    assert_int_equal(sscanf(l + strlen(key), "%u:%u", &q->major, &q->minor), 2);
    q->exists = true;
    q->uuid = name_in(f->non_lvm, name) ? "" : arena_strdup(ctx->arena, "LVM-0123456789abcdef");
    snprintf(key, sizeof key, "%s: ", name);
    const char *text = table ? f->table : f->status;
    for (const char *p = text; (p = strstr(p, key)) != NULL; p++) {
        if (p != text && p[-1] != '\n')
            continue;
        const char *eol = strchr(p, '\n');
        char *line = arena_strndup(ctx->arena, p + strlen(key), (size_t)(eol - p) - strlen(key));
        q->targets = arena_alloc(ctx->arena, sizeof *q->targets);
        struct dm_target *t = &q->targets[0];
        int off = 0;
        char type[32];
        assert_int_equal(sscanf(line, "%" SCNu64 " %" SCNu64 " %31s%n", &t->start, &t->length, type, &off), 3);
        t->type = arena_strdup(ctx->arena, type);
        t->params = line + off + (line[off] == ' ');
        q->n_targets = 1;
        break;
    }
    return 0;
}

static void fake_end(void *arg) { ((struct fake_dm *)arg)->ends++; }

static const struct thinpool_dm_ops fake_ops = {fake_list, fake_query, fake_end};

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
};

static void world_init(struct world *w, struct fake_dm *f)
{
    memset(w, 0, sizeof *w);
    arena_init(&w->arena, 4096);
    arena_init(&w->cfg, 4096);
    w->ctx = (struct collector_ctx){.procfs = "/proc", .arena = &w->arena, .scratch = &w->scratch};
    pvescope__report__init(&w->r);
    w->r.node = "pve1";
    assert_int_equal(collector_thinpool.init(&w->st, &w->ctx), 0);
    if (f)
        thinpool_collector_set_dm(w->st, &fake_ops, f);
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
    assert_int_equal(f.ends, 1);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(world_collect(&w), 0);
        check_710(&w.r);
    }
    assert_int_equal(f.status_queries, 4 * 16);
    assert_int_equal(f.table_queries, 8);              /* cached since the first cycle */
    assert_int_equal(f.ends, 4);
    world_free(&w);
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

/* Listing fails: the collector fails with the reason, no pools. */
static void t_list_fails(void **state)
{
    (void)state;
    struct fake_dm f = {.ls = ls_710, .table = table_710, .status = status_710, .list_fails = true};
    struct world w;
    world_init(&w, &f);
    assert_int_equal(world_collect(&w), -1);
    assert_string_equal(w.ctx.err, "listing dm devices: fake failure");
    assert_int_equal(w.r.n_thin_pools, 0);
    assert_int_equal(f.ends, 1);
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
    f.list_fails = true;
    arena_reset(&w.arena);
    w.r.n_storage_usage = 0;
    assert_int_equal(collector_thinpool.collect(w.st, &w.ctx, &w.r), -1);
    assert_int_equal(w.r.n_storage_usage, 0);
    world_free(&w);
}

/* The real libdm on this machine. Without device-mapper in the kernel (or
 * without root) the collector fails with the reason, and libdm writes
 * nothing to stderr. With it, every pool dmsetup reports is found. */
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

static void real_libdm_without_dm(void)
{
    struct world w;
    world_init(&w, NULL);
    char errfile[] = "/tmp/pvescope-thin-stderr-XXXXXX";
    int fd = mkstemp(errfile);
    assert_true(fd >= 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(fd, 2);
    int rc = world_collect(&w);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    off_t written = lseek(fd, 0, SEEK_END);
    close(fd);
    unlink(errfile);
    assert_int_equal(rc, -1);
    print_message("collector error: %s\n", w.ctx.err);
    if (!kernel_has_dm())
        assert_string_equal(w.ctx.err, "no device-mapper in the kernel (/proc/misc)");
    else
        assert_non_null(strstr(w.ctx.err, "device-mapper unusable: "));
    assert_int_equal(written, 0);
    world_free(&w);
}

/* libdm itself when device-mapper is missing: a procfs whose misc claims
 * device-mapper makes the collector call libdm, whose control-device failure
 * must come back as the collector's message, not on stderr. */
static void real_libdm_control_missing(void)
{
    char dir[] = "/tmp/pvescope-thin-proc-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/misc", dir);
    FILE *m = fopen(path, "w");
    assert_non_null(m);
    fputs("236 device-mapper\n183 hw_random\n", m);
    fclose(m);
    struct world w;
    world_init(&w, NULL);
    w.ctx.procfs = dir;
    fflush(stderr);
    char errfile[] = "/tmp/pvescope-thin-stderr-XXXXXX";
    int fd = mkstemp(errfile);
    int saved = dup(2);
    dup2(fd, 2);
    int rc1 = world_collect(&w);
    char first[256];
    snprintf(first, sizeof first, "%s", w.ctx.err);
    int rc2 = world_collect(&w);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    off_t written = lseek(fd, 0, SEEK_END);
    close(fd);
    unlink(errfile);
    unlink(path);
    rmdir(dir);
    print_message("collector error: %s\n", first);
    assert_int_equal(rc1, -1);
    assert_int_equal(rc2, -1);
    assert_non_null(strstr(first, "device-mapper unusable: "));
    assert_non_null(strstr(first, "/dev/mapper/control"));
    assert_non_null(strstr(first, "CAP_SYS_ADMIN"));
    assert_string_equal(w.ctx.err, first);             /* same message every cycle: logged once */
    assert_int_equal(written, 0);
    world_free(&w);
}

/* With device-mapper (root): the collector's pools are dmsetup's. */
static void real_libdm_with_dm(void)
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

/* The real libdm on this machine, in whichever situation the machine is:
 * device-mapper usable (root), present but unusable, or absent. Every
 * situation has its assertions, so nothing is skipped. */
static void t_real_libdm(void **state)
{
    (void)state;
    bool dm = kernel_has_dm();
    print_message("device-mapper in this kernel: %s, euid %d\n", dm ? "yes" : "no", (int)geteuid());
    if (dm && geteuid() == 0) {
        real_libdm_with_dm();
        return;
    }
    real_libdm_without_dm();
    if (!dm)
        real_libdm_control_missing();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_fixture_710),         cmocka_unit_test(t_cache_refresh),
        cmocka_unit_test(t_variants),            cmocka_unit_test(t_list_fails),
        cmocka_unit_test(t_storage_usage),       cmocka_unit_test(t_real_libdm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
