/* test_render_zfs.c — the pve_zfs_* families rendered from a canned Report:
 * exact lines, the state set, label escaping, a pool that could not be read
 * (no state series), absent counters and an absent ARC giving no series.
 *
 * The checks are rt_family_test_main()'s (render_test_util.h), so that a
 * table here is all a family set needs. With `--scrape FILE` it writes a
 * whole scrape of that report instead, for the promtool check registered
 * next to it (zfs.cmake). */
#include <stdint.h>

#include "render_test_util.h"

#define NODE "id=\"node/pve1\",pve_cluster=\"prod\""

static Pvescope__Report *canned(void)
{
    static Pvescope__Report r = PVESCOPE__REPORT__INIT;
    static Pvescope__ZfsPool rpool = PVESCOPE__ZFS_POOL__INIT, tank = PVESCOPE__ZFS_POOL__INIT,
                             broken = PVESCOPE__ZFS_POOL__INIT;
    static Pvescope__ZfsPool *pools[3] = {&rpool, &tank, &broken};
    static Pvescope__ZfsArc arc = PVESCOPE__ZFS_ARC__INIT;
    r.node = "pve1";
    r.zfs_pools = pools;
    r.n_zfs_pools = 3;
    rpool.name = "rpool";
    rpool.state = "ONLINE";
    rpool.has_arc_read_count = true; rpool.arc_read_count = 18234411;
    rpool.has_arc_read_bytes = true; rpool.arc_read_bytes = 901223341568ULL;
    rpool.has_arc_write_count = true; rpool.arc_write_count = 9123344;
    rpool.has_arc_write_bytes = true; rpool.arc_write_bytes = UINT64_MAX;   /* exact, no float */
    tank.name = "ta\"nk";                         /* quoted in the label */
    tank.state = "DEGRADED";
    broken.name = "weird";
    broken.error = "state line 1: not a pool state: \"HEALTHY\"";
    r.zfs_arc = &arc;
    arc.has_size_bytes = true; arc.size_bytes = 16123344512ULL;
    arc.has_min_bytes = true; arc.min_bytes = 1055306880ULL;
    arc.has_max_bytes = true; arc.max_bytes = 16884910080ULL;
    arc.has_hits = true; arc.hits = 9123441223ULL;
    arc.has_misses = true; arc.misses = 88123344;
    return &r;
}

#define ST(pool, state, v) "pve_zfs_pool_state{" NODE ",pool=\"" pool "\",state=\"" state "\"} " v "\n"
#define STATES(pool, o, d, f, off, rm, un, su, sp, tr, uk)                                          \
    ST(pool, "ONLINE", o) ST(pool, "DEGRADED", d) ST(pool, "FAULTED", f) ST(pool, "OFFLINE", off)   \
    ST(pool, "REMOVED", rm) ST(pool, "UNAVAIL", un) ST(pool, "SUSPENDED", su) ST(pool, "SPLIT", sp) \
    ST(pool, "TRANSITIONING", tr) ST(pool, "UNKNOWN", uk)

static const struct rt_want want[] = {
    {FAM_ZFS_POOL_STATE, STATES("rpool", "1", "0", "0", "0", "0", "0", "0", "0", "0", "0")
                         STATES("ta\\\"nk", "0", "1", "0", "0", "0", "0", "0", "0", "0", "0")},
    {FAM_ZFS_POOL_ARC_READS, "pve_zfs_pool_arc_reads_total{" NODE ",pool=\"rpool\"} 18234411\n"},
    {FAM_ZFS_POOL_ARC_READ_BYTES, "pve_zfs_pool_arc_read_bytes_total{" NODE ",pool=\"rpool\"} 901223341568\n"},
    {FAM_ZFS_POOL_ARC_WRITES, "pve_zfs_pool_arc_writes_total{" NODE ",pool=\"rpool\"} 9123344\n"},
    {FAM_ZFS_POOL_ARC_WRITE_BYTES,
     "pve_zfs_pool_arc_write_bytes_total{" NODE ",pool=\"rpool\"} 18446744073709551615\n"},
    {FAM_ZFS_ARC_SIZE, "pve_zfs_arc_size_bytes{" NODE "} 16123344512\n"},
    {FAM_ZFS_ARC_MIN, "pve_zfs_arc_min_bytes{" NODE "} 1055306880\n"},
    {FAM_ZFS_ARC_MAX, "pve_zfs_arc_max_bytes{" NODE "} 16884910080\n"},
    {FAM_ZFS_ARC_HITS, "pve_zfs_arc_hits_total{" NODE "} 9123441223\n"},
    {FAM_ZFS_ARC_MISSES, "pve_zfs_arc_misses_total{" NODE "} 88123344\n"},
};

int main(int argc, char **argv)
{
    static const struct rt_family_test t = {canned, NODE, "pve_zfs_", want, sizeof want / sizeof want[0]};
    return rt_family_test_main(argc, argv, &t);
}
