/* test_render_thinpool.c — pve_thinpool_* rendering (aggregator/
 * render_thinpool.c) of a canned report holding the two pools and six
 * volumes of pve-internals §7.10 plus odd cases, line by line; the
 * exposition passes `promtool check metrics`; lvmthin storage usage reaches
 * pve_disk_*_bytes through the merge. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "exposition.h"
#include "render_test_util.h"

#define NODE "id=\"node/pve1\",pve_cluster=\"prod\""

static Pvescope__ThinPool *tpool(const char *dm, const char *vg, const char *lv, uint64_t tx, uint64_t block,
                                 uint64_t mu, uint64_t mt, uint64_t du, uint64_t dt, bool err_no_space)
{
    Pvescope__ThinPool *p = calloc(1, sizeof *p);
    pvescope__thin_pool__init(p);
    p->dm_name = (char *)dm;
    p->vg = (char *)vg;
    p->lv = (char *)lv;
    p->has_mode = true;
    p->mode = PVESCOPE__THIN_POOL_MODE__THIN_POOL_RW;
    p->has_transaction_id = p->has_data_block_sectors = p->has_data_used_blocks = true;
    p->has_data_total_blocks = p->has_metadata_used_blocks = p->has_metadata_total_blocks = true;
    p->has_needs_check = p->has_error_if_no_space = true;
    p->transaction_id = tx;
    p->data_block_sectors = block;
    p->metadata_used_blocks = mu;
    p->metadata_total_blocks = mt;
    p->data_used_blocks = du;
    p->data_total_blocks = dt;
    p->error_if_no_space = err_no_space;
    p->discards = "discard_passdown";
    return p;
}

static Pvescope__ThinVolume *tvol(const char *dm, const char *vg, const char *lv, const char *pool, uint64_t size,
                                  uint64_t mapped)
{
    Pvescope__ThinVolume *v = calloc(1, sizeof *v);
    pvescope__thin_volume__init(v);
    v->dm_name = (char *)dm;
    v->vg = (char *)vg;
    v->lv = (char *)lv;
    v->pool_dm_name = (char *)pool;
    v->has_size_sectors = v->has_mapped_sectors = v->has_fail = true;
    v->size_sectors = size;
    v->mapped_sectors = mapped;
    return v;
}

struct canned {
    Pvescope__Report r;
    Pvescope__ThinPool *pools[5];
    Pvescope__ThinVolume *vols[8];
};

/* §7.10 as the agent sends it, plus a failed pool, an unparsable one, a
 * non-LVM one, a VG name that needs escaping and a volume on a failed pool. */
static void canned_init(struct canned *c)
{
    pvescope__report__init(&c->r);
    c->r.node = "pve1";
    c->pools[0] = tpool("nvme2-tank-tpool", "nvme2", "tank", 12, 512, 9812, 262144, 4091392, 4194304, true);
    c->pools[1] = tpool("pve-data-tpool", "pve", "data", 87, 128, 32312, 2125824, 4872893, 13021824, false);
    Pvescope__ThinPool *f = tpool("we\"ird-bad-tpool", "we\"ird", "bad", 0, 0, 0, 0, 0, 0, false);
    f->mode = PVESCOPE__THIN_POOL_MODE__THIN_POOL_FAIL;
    f->has_transaction_id = f->has_data_block_sectors = f->has_data_used_blocks = false;
    f->has_data_total_blocks = f->has_metadata_used_blocks = f->has_metadata_total_blocks = false;
    f->has_needs_check = f->has_error_if_no_space = false;
    c->pools[2] = f;
    Pvescope__ThinPool *o = tpool("odd-pool-tpool", "odd", "pool", 0, 0, 0, 0, 0, 0, false);
    *o = (Pvescope__ThinPool)PVESCOPE__THIN_POOL__INIT;
    o->dm_name = "odd-pool-tpool";
    o->vg = "odd";
    o->lv = "pool";
    o->error = "status: unknown word 'sometimes'";
    c->pools[3] = o;
    Pvescope__ThinPool *d = tpool("docker-thinpool", NULL, NULL, 3, 128, 1, 4096, 2, 16384, false);
    d->has_needs_check = false;                /* an older kernel */
    c->pools[4] = d;
    c->r.thin_pools = c->pools;
    c->r.n_thin_pools = 5;
    c->vols[0] = tvol("nvme2-vm--103--disk--0", "nvme2", "vm-103-disk-0", "nvme2-tank-tpool", 1887436800, 1812480000);
    c->vols[1] = tvol("pve-vm--100--disk--0", "pve", "vm-100-disk-0", "pve-data-tpool", 67108864, 40936320);
    c->vols[2] = tvol("pve-vm--100--disk--1", "pve", "vm-100-disk-1", "pve-data-tpool", 419430400, 184549376);
    c->vols[3] = tvol("pve-vm--101--disk--0", "pve", "vm-101-disk-0", "pve-data-tpool", 16777216, 6375296);
    c->vols[4] = tvol("pve-vm--101--disk--1", "pve", "vm-101-disk-1", "pve-data-tpool", 8388608, 1677696);
    c->vols[5] = tvol("pve-vm--102--disk--0", "pve", "vm-102-disk-0", "pve-data-tpool", 134217728, 111400704);
    Pvescope__ThinVolume *fv = tvol("we\"ird-vm--9--disk--0", "we\"ird", "vm-9-disk-0", "we\"ird-bad-tpool", 4096, 0);
    fv->has_mapped_sectors = false;
    fv->fail = true;
    c->vols[6] = fv;
    c->vols[7] = tvol("docker-thin-1", NULL, NULL, "docker-thinpool", 2048, 0);
    c->r.thin_volumes = c->vols;
    c->r.n_thin_volumes = 8;
}

static void canned_free(struct canned *c)
{
    for (size_t i = 0; i < c->r.n_thin_pools; i++)
        free(c->pools[i]);
    for (size_t i = 0; i < c->r.n_thin_volumes; i++)
        free(c->vols[i]);
}

#define P(vg, lv) NODE ",vg=\"" vg "\",lv=\"" lv "\""
#define TANK P("nvme2", "tank")
#define DATA P("pve", "data")
#define BAD P("we\\\"ird", "bad")
#define ODD P("odd", "pool")
#define DOCKER P("", "docker-thinpool")

static void t_render_lines(void **state)
{
    (void)state;
    struct canned c;
    canned_init(&c);
    struct node_render *nr = render_report(&c.r, NODE);
    rt_expect_family(nr, FAM_THINPOOL_INFO,
                     "pve_thinpool_info{" TANK ",dm_name=\"nvme2-tank-tpool\"} 1\n"
                     "pve_thinpool_info{" DATA ",dm_name=\"pve-data-tpool\"} 1\n"
                     "pve_thinpool_info{" BAD ",dm_name=\"we\\\"ird-bad-tpool\"} 1\n"
                     "pve_thinpool_info{" ODD ",dm_name=\"odd-pool-tpool\"} 1\n"
                     "pve_thinpool_info{" DOCKER ",dm_name=\"docker-thinpool\"} 1\n");
    rt_expect_family(nr, FAM_THINPOOL_UP,
                     "pve_thinpool_up{" TANK "} 1\n"
                     "pve_thinpool_up{" DATA "} 1\n"
                     "pve_thinpool_up{" BAD "} 1\n"
                     "pve_thinpool_up{" ODD "} 0\n"
                     "pve_thinpool_up{" DOCKER "} 1\n");
    rt_expect_family(nr, FAM_THINPOOL_DATA_USED,
                     "pve_thinpool_data_used_bytes{" TANK "} 1072533864448\n"
                     "pve_thinpool_data_used_bytes{" DATA "} 319349915648\n"
                     "pve_thinpool_data_used_bytes{" DOCKER "} 131072\n");
    rt_expect_family(nr, FAM_THINPOOL_DATA_SIZE,
                     "pve_thinpool_data_size_bytes{" TANK "} 1099511627776\n"
                     "pve_thinpool_data_size_bytes{" DATA "} 853398257664\n"
                     "pve_thinpool_data_size_bytes{" DOCKER "} 1073741824\n");
    rt_expect_family(nr, FAM_THINPOOL_META_USED,
                     "pve_thinpool_metadata_used_bytes{" TANK "} 40189952\n"
                     "pve_thinpool_metadata_used_bytes{" DATA "} 132349952\n"
                     "pve_thinpool_metadata_used_bytes{" DOCKER "} 4096\n");
    rt_expect_family(nr, FAM_THINPOOL_META_SIZE,
                     "pve_thinpool_metadata_size_bytes{" TANK "} 1073741824\n"
                     "pve_thinpool_metadata_size_bytes{" DATA "} 8707375104\n"
                     "pve_thinpool_metadata_size_bytes{" DOCKER "} 16777216\n");
    rt_expect_family(nr, FAM_THINPOOL_BLOCK_SIZE,
                     "pve_thinpool_block_size_bytes{" TANK "} 262144\n"
                     "pve_thinpool_block_size_bytes{" DATA "} 65536\n"
                     "pve_thinpool_block_size_bytes{" DOCKER "} 65536\n");
    rt_expect_family(nr, FAM_THINPOOL_TRANSACTION,
                     "pve_thinpool_transaction_id{" TANK "} 12\n"
                     "pve_thinpool_transaction_id{" DATA "} 87\n"
                     "pve_thinpool_transaction_id{" DOCKER "} 3\n");
    rt_expect_family(nr, FAM_THINPOOL_MODE,
                     "pve_thinpool_mode{" TANK ",mode=\"rw\"} 1\n"
                     "pve_thinpool_mode{" TANK ",mode=\"ro\"} 0\n"
                     "pve_thinpool_mode{" TANK ",mode=\"out_of_data_space\"} 0\n"
                     "pve_thinpool_mode{" TANK ",mode=\"fail\"} 0\n"
                     "pve_thinpool_mode{" TANK ",mode=\"error\"} 0\n"
                     "pve_thinpool_mode{" DATA ",mode=\"rw\"} 1\n"
                     "pve_thinpool_mode{" DATA ",mode=\"ro\"} 0\n"
                     "pve_thinpool_mode{" DATA ",mode=\"out_of_data_space\"} 0\n"
                     "pve_thinpool_mode{" DATA ",mode=\"fail\"} 0\n"
                     "pve_thinpool_mode{" DATA ",mode=\"error\"} 0\n"
                     "pve_thinpool_mode{" BAD ",mode=\"rw\"} 0\n"
                     "pve_thinpool_mode{" BAD ",mode=\"ro\"} 0\n"
                     "pve_thinpool_mode{" BAD ",mode=\"out_of_data_space\"} 0\n"
                     "pve_thinpool_mode{" BAD ",mode=\"fail\"} 1\n"
                     "pve_thinpool_mode{" BAD ",mode=\"error\"} 0\n"
                     "pve_thinpool_mode{" DOCKER ",mode=\"rw\"} 1\n"
                     "pve_thinpool_mode{" DOCKER ",mode=\"ro\"} 0\n"
                     "pve_thinpool_mode{" DOCKER ",mode=\"out_of_data_space\"} 0\n"
                     "pve_thinpool_mode{" DOCKER ",mode=\"fail\"} 0\n"
                     "pve_thinpool_mode{" DOCKER ",mode=\"error\"} 0\n");
    rt_expect_family(nr, FAM_THINPOOL_NEEDS_CHECK,
                     "pve_thinpool_needs_check{" TANK "} 0\n"
                     "pve_thinpool_needs_check{" DATA "} 0\n");
    rt_expect_family(nr, FAM_THINPOOL_ERROR_IF_NO_SPACE,
                     "pve_thinpool_error_if_no_space{" TANK "} 1\n"
                     "pve_thinpool_error_if_no_space{" DATA "} 0\n"
                     "pve_thinpool_error_if_no_space{" DOCKER "} 0\n");
#define V(vg, lv, pool) NODE ",vg=\"" vg "\",lv=\"" lv "\",pool=\"" pool "\""
    rt_expect_family(nr, FAM_THINVOL_SIZE,
                     "pve_thinpool_volume_size_bytes{" V("nvme2", "vm-103-disk-0", "tank") "} 966367641600\n"
                     "pve_thinpool_volume_size_bytes{" V("pve", "vm-100-disk-0", "data") "} 34359738368\n"
                     "pve_thinpool_volume_size_bytes{" V("pve", "vm-100-disk-1", "data") "} 214748364800\n"
                     "pve_thinpool_volume_size_bytes{" V("pve", "vm-101-disk-0", "data") "} 8589934592\n"
                     "pve_thinpool_volume_size_bytes{" V("pve", "vm-101-disk-1", "data") "} 4294967296\n"
                     "pve_thinpool_volume_size_bytes{" V("pve", "vm-102-disk-0", "data") "} 68719476736\n"
                     "pve_thinpool_volume_size_bytes{" V("we\\\"ird", "vm-9-disk-0", "bad") "} 2097152\n"
                     "pve_thinpool_volume_size_bytes{" V("", "docker-thin-1", "docker-thinpool") "} 1048576\n");
    rt_expect_family(nr, FAM_THINVOL_MAPPED,
                     "pve_thinpool_volume_mapped_bytes{" V("nvme2", "vm-103-disk-0", "tank") "} 927989760000\n"
                     "pve_thinpool_volume_mapped_bytes{" V("pve", "vm-100-disk-0", "data") "} 20959395840\n"
                     "pve_thinpool_volume_mapped_bytes{" V("pve", "vm-100-disk-1", "data") "} 94489280512\n"
                     "pve_thinpool_volume_mapped_bytes{" V("pve", "vm-101-disk-0", "data") "} 3264151552\n"
                     "pve_thinpool_volume_mapped_bytes{" V("pve", "vm-101-disk-1", "data") "} 858980352\n"
                     "pve_thinpool_volume_mapped_bytes{" V("pve", "vm-102-disk-0", "data") "} 57037160448\n"
                     "pve_thinpool_volume_mapped_bytes{" V("", "docker-thin-1", "docker-thinpool") "} 0\n");
    node_render_unref(nr);

    /* no pools and no volumes: no samples at all */
    Pvescope__Report empty = PVESCOPE__REPORT__INIT;
    empty.node = "pve1";
    nr = render_report(&empty, NODE);
    for (int f = FAM_THINPOOL_INFO; f <= FAM_THINVOL_MAPPED; f++)
        assert_int_equal(nr->len[f], 0);
    node_render_unref(nr);
    canned_free(&c);
}

/* A block count times the block size beyond 2^64 is dropped, not wrapped. */
static void t_render_overflow(void **state)
{
    (void)state;
    Pvescope__ThinPool *p = tpool("x-y-tpool", "x", "y", 1, 2097152, 1, UINT64_MAX, 1, UINT64_MAX / 4, false);
    Pvescope__ThinPool *pools[] = {p};
    Pvescope__Report r = PVESCOPE__REPORT__INIT;
    r.node = "pve1";
    r.thin_pools = pools;
    r.n_thin_pools = 1;
    struct node_render *nr = render_report(&r, NODE);
    rt_expect_family(nr, FAM_THINPOOL_DATA_SIZE, "");
    rt_expect_family(nr, FAM_THINPOOL_META_SIZE, "");
    rt_expect_family(nr, FAM_THINPOOL_DATA_USED, "pve_thinpool_data_used_bytes{" P("x", "y") "} 1073741824\n");
    node_render_unref(nr);
    free(p);
}

/* The node's exposition (headers + chunks, as a scrape writes node
 * families) passes promtool check metrics. */
static void t_promtool(void **state)
{
    (void)state;
    if (system("command -v promtool >/dev/null 2>&1") != 0)
        fail_msg("promtool is not installed (scripts/deps.sh test installs it)");
    struct canned c;
    canned_init(&c);
    struct node_render *nr = render_report(&c.r, NODE);
    struct buf out = BUF_INIT;
    for (int f = FAM_THINPOOL_INFO; f <= FAM_THINVOL_MAPPED; f++) {
        expo_family_header(&out, (enum family_id)f);
        buf_append(&out, nr->text.data + nr->start[f], nr->len[f]);
    }
    rt_promtool_check("promtool", out.data, out.len);
    buf_free(&out);
    node_render_unref(nr);
    canned_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_render_lines),
        cmocka_unit_test(t_render_overflow),
        cmocka_unit_test(t_promtool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
