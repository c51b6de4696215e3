/* test_render_zfs.c — the pve_zfs_* families rendered from a canned Report:
 * exact lines, the state set, label escaping, a pool that could not be read
 * (no state series), absent counters and an absent ARC giving no series.
 *
 * With `--scrape FILE` it writes a whole scrape of that report instead, for
 * the promtool check registered next to it (zfs.cmake). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "merge.h"
#include "render.h"

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

static const struct {
    enum family_id fam;
    const char *text;
} want[] = {
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

static void t_exact_lines(void **state)
{
    (void)state;
    struct node_render *nr = render_report(canned(), NODE);
    size_t n_zfs_families = 0;
    for (int f = 0; f < FAM__COUNT; f++)
        n_zfs_families += strncmp(family_table[f].name, "pve_zfs_", 8) == 0;
    assert_int_equal(n_zfs_families, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        enum family_id f = want[i].fam;
        const char *chunk = nr->text.data + nr->start[f];
        if (nr->len[f] != strlen(want[i].text) || memcmp(chunk, want[i].text, nr->len[f]) != 0)
            fail_msg("%s:\n--- got\n%.*s--- want\n%s", family_table[f].name, (int)nr->len[f], chunk,
                     want[i].text);
    }
    node_render_unref(nr);
}

/* No pools and no ARC (ZFS not loaded): no pve_zfs_ series at all. */
static void t_no_zfs(void **state)
{
    (void)state;
    Pvescope__Report r = PVESCOPE__REPORT__INIT;
    r.node = "pve1";
    struct node_render *nr = render_report(&r, NODE);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_int_equal(nr->len[want[i].fam], 0);
    assert_null(strstr(nr->text.data ? nr->text.data : "", "pve_zfs_"));
    node_render_unref(nr);
}

/* Writes one node's whole scrape (HELP, TYPE and samples) to path. */
static int write_scrape(const char *path)
{
    struct node_render *nr = render_report(canned(), NODE);
    size_t n = pvescope__report__get_packed_size(canned());
    uint8_t *wire = malloc(n);
    pvescope__report__pack(canned(), wire);
    nr->report = decoded_report_unpack(wire, n, 1 << 20);     /* the merge reads the node from it */
    free(wire);
    if (!nr->report)
        return 1;
    struct scrape_node node = {NODE, "pve1", "prod", "0.1.0", nr, 1, true, 1};
    struct scrape_input in = {&node, 1, 1, {0}, 0, NULL, 0};
    struct merge_opts o = {false};
    struct buf out = BUF_INIT;
    scrape_write(&out, &in, &o);
    FILE *f = fopen(path, "w");
    int rc = f && fwrite(out.data, 1, out.len, f) == out.len ? 0 : 1;
    if (f && fclose(f) != 0)
        rc = 1;
    buf_free(&out);
    node_render_unref(nr);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--scrape") == 0)
        return write_scrape(argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_exact_lines),
        cmocka_unit_test(t_no_zfs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
