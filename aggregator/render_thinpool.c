/* render_thinpool.c — pve_thinpool_* families from a report's thin pools and
 * thin volumes (agent/thinpool.c).
 *
 * Block counts become bytes here: data blocks × data_block_sectors × 512,
 * metadata blocks × 4096, sectors × 512. A pool or volume that is not an LVM
 * device (no vg/lv from the agent) is labelled vg="" and lv=<dm name>, so its
 * series stay distinct. A volume's `pool` label is its pool's LV name (its
 * dm name for a non-LVM pool), "" when the agent could not tell. */
#include "render.h"

#include <stdlib.h>
#include <string.h>

#define METADATA_BLOCK_BYTES 4096u

static void escaped_pair(struct buf *b, const char *name, const char *value)
{
    buf_puts(b, name);
    buf_puts(b, "=\"");
    expo_escape_label(b, value ? value : "");
    buf_putc(b, '"');
}

/* `vg="..",lv=".."` of an LVM device, or vg="" and the dm name. */
static void vg_lv_labels(struct buf *b, const char *vg, const char *lv, const char *dm_name)
{
    bool lvm = vg && lv;
    escaped_pair(b, "vg", lvm ? vg : "");
    buf_putc(b, ',');
    escaped_pair(b, "lv", lvm ? lv : dm_name);
}

/* The LV name of the pool with that dm name, for a volume's pool label. */
static const char *pool_label(const Pvescope__Report *r, const char *pool_dm_name)
{
    for (size_t i = 0; pool_dm_name && i < r->n_thin_pools; i++) {
        const Pvescope__ThinPool *p = r->thin_pools[i];
        if (strcmp(p->dm_name, pool_dm_name) == 0)
            return p->vg && p->lv ? p->lv : p->dm_name;
    }
    return "";
}

/* a × b × c when it fits in 64 bits. */
static bool bytes_of(uint64_t a, uint64_t b, uint64_t c, uint64_t *out)
{
    uint64_t ab;
    return !__builtin_mul_overflow(a, b, &ab) && !__builtin_mul_overflow(ab, c, out);
}

/* Escaped extra labels of each element, NUL-separated in one buffer. */
struct label_set {
    struct buf text;
    size_t *off;
};

static const char *label_at(const struct label_set *ls, size_t i) { return ls->text.data + ls->off[i]; }

static void pool_labels(struct label_set *ls, const Pvescope__Report *r)
{
    ls->off = malloc((r->n_thin_pools ? r->n_thin_pools : 1) * sizeof *ls->off);
    if (!ls->off)
        abort();
    for (size_t i = 0; i < r->n_thin_pools; i++) {
        const Pvescope__ThinPool *p = r->thin_pools[i];
        ls->off[i] = ls->text.len;
        vg_lv_labels(&ls->text, p->vg, p->lv, p->dm_name);
        buf_putc(&ls->text, '\0');
    }
}

static void volume_labels(struct label_set *ls, const Pvescope__Report *r)
{
    ls->off = malloc((r->n_thin_volumes ? r->n_thin_volumes : 1) * sizeof *ls->off);
    if (!ls->off)
        abort();
    for (size_t i = 0; i < r->n_thin_volumes; i++) {
        const Pvescope__ThinVolume *v = r->thin_volumes[i];
        ls->off[i] = ls->text.len;
        vg_lv_labels(&ls->text, v->vg, v->lv, v->dm_name);
        buf_putc(&ls->text, ',');
        escaped_pair(&ls->text, "pool", pool_label(r, v->pool_dm_name));
        buf_putc(&ls->text, '\0');
    }
}

static void render_info(struct node_render *nr, const char *labels, const Pvescope__Report *r,
                        const struct label_set *ls)
{
    struct buf extra = BUF_INIT;
    nr_begin(nr, FAM_THINPOOL_INFO);
    for (size_t i = 0; i < r->n_thin_pools; i++) {
        buf_reset(&extra);
        buf_puts(&extra, label_at(ls, i));
        buf_putc(&extra, ',');
        escaped_pair(&extra, "dm_name", r->thin_pools[i]->dm_name);
        nr_sample(nr, FAM_THINPOOL_INFO, labels, extra.data, 1);
    }
    nr_end(nr, FAM_THINPOOL_INFO);
    buf_free(&extra);
}

static void render_modes(struct node_render *nr, const char *labels, const Pvescope__Report *r,
                         const struct label_set *ls)
{
    static const struct {
        Pvescope__ThinPoolMode mode;
        const char *label;
    } modes[] = {
        {PVESCOPE__THIN_POOL_MODE__THIN_POOL_RW, "rw"},
        {PVESCOPE__THIN_POOL_MODE__THIN_POOL_RO, "ro"},
        {PVESCOPE__THIN_POOL_MODE__THIN_POOL_OUT_OF_DATA_SPACE, "out_of_data_space"},
        {PVESCOPE__THIN_POOL_MODE__THIN_POOL_FAIL, "fail"},
        {PVESCOPE__THIN_POOL_MODE__THIN_POOL_ERROR, "error"},
    };
    struct buf extra = BUF_INIT;
    nr_begin(nr, FAM_THINPOOL_MODE);
    for (size_t i = 0; i < r->n_thin_pools; i++) {
        const Pvescope__ThinPool *p = r->thin_pools[i];
        if (!p->has_mode)
            continue;
        for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
            buf_reset(&extra);
            buf_puts(&extra, label_at(ls, i));
            buf_puts(&extra, ",mode=\"");
            buf_puts(&extra, modes[m].label);
            buf_putc(&extra, '"');
            nr_sample(nr, FAM_THINPOOL_MODE, labels, extra.data, p->mode == modes[m].mode ? 1 : 0);
        }
    }
    nr_end(nr, FAM_THINPOOL_MODE);
    buf_free(&extra);
}

/* One value of a pool for family f; false when the report does not carry it. */
static bool pool_value(const Pvescope__ThinPool *p, enum family_id f, uint64_t *v)
{
    switch (f) {
    case FAM_THINPOOL_UP:
        *v = p->has_mode;
        return true;
    case FAM_THINPOOL_DATA_USED:
        return p->has_data_used_blocks && p->has_data_block_sectors &&
               bytes_of(p->data_used_blocks, p->data_block_sectors, 512, v);
    case FAM_THINPOOL_DATA_SIZE:
        return p->has_data_total_blocks && p->has_data_block_sectors &&
               bytes_of(p->data_total_blocks, p->data_block_sectors, 512, v);
    case FAM_THINPOOL_META_USED:
        return p->has_metadata_used_blocks && bytes_of(p->metadata_used_blocks, METADATA_BLOCK_BYTES, 1, v);
    case FAM_THINPOOL_META_SIZE:
        return p->has_metadata_total_blocks && bytes_of(p->metadata_total_blocks, METADATA_BLOCK_BYTES, 1, v);
    case FAM_THINPOOL_BLOCK_SIZE:
        return p->has_data_block_sectors && bytes_of(p->data_block_sectors, 512, 1, v);
    case FAM_THINPOOL_TRANSACTION:
        *v = p->transaction_id;
        return p->has_transaction_id;
    case FAM_THINPOOL_NEEDS_CHECK:
        *v = p->needs_check;
        return p->has_needs_check;
    case FAM_THINPOOL_ERROR_IF_NO_SPACE:
        *v = p->error_if_no_space;
        return p->has_error_if_no_space;
    default:
        return false;
    }
}

static bool volume_value(const Pvescope__ThinVolume *v, enum family_id f, uint64_t *out)
{
    if (f == FAM_THINVOL_SIZE)
        return v->has_size_sectors && bytes_of(v->size_sectors, 512, 1, out);
    return v->has_mapped_sectors && bytes_of(v->mapped_sectors, 512, 1, out);
}

void render_thinpool(struct node_render *nr, const char *labels, const Pvescope__Report *r)
{
    static const enum family_id pool_fams[] = {
        FAM_THINPOOL_UP,       FAM_THINPOOL_DATA_USED,   FAM_THINPOOL_DATA_SIZE,
        FAM_THINPOOL_META_USED, FAM_THINPOOL_META_SIZE,  FAM_THINPOOL_BLOCK_SIZE,
        FAM_THINPOOL_TRANSACTION, FAM_THINPOOL_NEEDS_CHECK, FAM_THINPOOL_ERROR_IF_NO_SPACE,
    };
    if (!r->n_thin_pools && !r->n_thin_volumes)
        return;
    struct label_set pools = {BUF_INIT, NULL}, vols = {BUF_INIT, NULL};
    pool_labels(&pools, r);
    volume_labels(&vols, r);
    render_info(nr, labels, r, &pools);
    for (size_t k = 0; k < sizeof pool_fams / sizeof pool_fams[0]; k++) {
        nr_begin(nr, pool_fams[k]);
        for (size_t i = 0; i < r->n_thin_pools; i++) {
            uint64_t v;
            if (pool_value(r->thin_pools[i], pool_fams[k], &v))
                nr_sample_u64(nr, pool_fams[k], labels, label_at(&pools, i), v);
        }
        nr_end(nr, pool_fams[k]);
    }
    render_modes(nr, labels, r, &pools);
    for (int k = 0; k < 2; k++) {
        enum family_id f = k == 0 ? FAM_THINVOL_SIZE : FAM_THINVOL_MAPPED;
        nr_begin(nr, f);
        for (size_t i = 0; i < r->n_thin_volumes; i++) {
            uint64_t v;
            if (volume_value(r->thin_volumes[i], f, &v))
                nr_sample_u64(nr, f, labels, label_at(&vols, i), v);
        }
        nr_end(nr, f);
    }
    buf_free(&pools.text);
    buf_free(&vols.text);
    free(pools.off);
    free(vols.off);
}
