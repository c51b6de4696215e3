/* render_zfs.c — Report.zfs_pools and Report.zfs_arc as the pve_zfs_*
 * families.
 *
 * pve_zfs_pool_state is a state set: one series per known state
 * (zfs_state_names below, the same ten words the agent accepts) with 1 on
 * the pool's current state, so `pve_zfs_pool_state{state="ONLINE"} == 0`
 * alerts on any other state and a pool that could not be read (no state
 * sent) has no state series at all. Counters and sizes are bytes and counts
 * as the kstats give them. */
#include "render.h"

#include <stddef.h>
#include <string.h>

static const char *const zfs_state_names[] = {"ONLINE", "DEGRADED", "FAULTED", "OFFLINE", "REMOVED",
                                              "UNAVAIL", "SUSPENDED", "SPLIT", "TRANSITIONING", "UNKNOWN"};

/* Escaped `pool="<name>"`. */
static void pool_label(struct buf *b, const char *name)
{
    buf_reset(b);
    buf_puts(b, "pool=\"");
    expo_escape_label(b, name);
    buf_putc(b, '"');
}

static void render_states(struct node_render *nr, const char *labels, const Pvescope__Report *r)
{
    struct buf l = BUF_INIT;
    size_t base;
    nr_begin(nr, FAM_ZFS_POOL_STATE);
    for (size_t i = 0; i < r->n_zfs_pools; i++) {
        const Pvescope__ZfsPool *p = r->zfs_pools[i];
        if (!p->state)
            continue;
        pool_label(&l, p->name);
        base = l.len;
        for (size_t s = 0; s < sizeof zfs_state_names / sizeof zfs_state_names[0]; s++) {
            l.len = base;
            buf_puts(&l, ",state=\"");
            buf_puts(&l, zfs_state_names[s]);
            buf_putc(&l, '"');
            nr_sample(nr, FAM_ZFS_POOL_STATE, labels, l.data, strcmp(p->state, zfs_state_names[s]) == 0);
        }
    }
    nr_end(nr, FAM_ZFS_POOL_STATE);
    buf_free(&l);
}

/* A uint64 ZfsPool field, by offset, for the per-pool counter families. */
struct pool_counter {
    enum family_id fam;
    size_t has_off, val_off;
};

#define PC(fam, field) {FAM_##fam, offsetof(Pvescope__ZfsPool, has_##field), offsetof(Pvescope__ZfsPool, field)}
static const struct pool_counter pool_counters[] = {
    PC(ZFS_POOL_ARC_READS, arc_read_count), PC(ZFS_POOL_ARC_READ_BYTES, arc_read_bytes),
    PC(ZFS_POOL_ARC_WRITES, arc_write_count), PC(ZFS_POOL_ARC_WRITE_BYTES, arc_write_bytes),
};

static void render_pool_counters(struct node_render *nr, const char *labels, const Pvescope__Report *r)
{
    struct buf l = BUF_INIT;
    for (size_t c = 0; c < sizeof pool_counters / sizeof pool_counters[0]; c++) {
        nr_begin(nr, pool_counters[c].fam);
        for (size_t i = 0; i < r->n_zfs_pools; i++) {
            const char *p = (const char *)r->zfs_pools[i];
            if (!*(const protobuf_c_boolean *)(p + pool_counters[c].has_off))
                continue;
            pool_label(&l, r->zfs_pools[i]->name);
            nr_sample_u64(nr, pool_counters[c].fam, labels, l.data,
                          *(const uint64_t *)(p + pool_counters[c].val_off));
        }
        nr_end(nr, pool_counters[c].fam);
    }
    buf_free(&l);
}

static void single(struct node_render *nr, const char *labels, enum family_id f, bool has, uint64_t v)
{
    if (!has)
        return;
    nr_begin(nr, f);
    nr_sample_u64(nr, f, labels, NULL, v);
    nr_end(nr, f);
}

void render_zfs(struct node_render *nr, const char *labels, const Pvescope__Report *r)
{
    if (r->n_zfs_pools) {
        render_states(nr, labels, r);
        render_pool_counters(nr, labels, r);
    }
    const Pvescope__ZfsArc *a = r->zfs_arc;
    if (!a)
        return;
    single(nr, labels, FAM_ZFS_ARC_SIZE, a->has_size_bytes, a->size_bytes);
    single(nr, labels, FAM_ZFS_ARC_MIN, a->has_min_bytes, a->min_bytes);
    single(nr, labels, FAM_ZFS_ARC_MAX, a->has_max_bytes, a->max_bytes);
    single(nr, labels, FAM_ZFS_ARC_HITS, a->has_hits, a->hits);
    single(nr, labels, FAM_ZFS_ARC_MISSES, a->has_misses, a->misses);
}
