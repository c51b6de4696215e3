/* test_fsstat.c — hang-proof statvfs (agent/fsstat.c) with an injected stat
 * function that blocks on a condition variable, and the "storage" collector
 * (agent/storage.c) on a temporary tree. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "collector.h"
#include "fsstat.h"
#include "pve_parsers.h"

/* The injected stat: paths containing "hung" block until released. */
struct hook {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool released;
    unsigned hung_calls, hung_returns, calls;
};

static int hook_stat(const char *path, struct statvfs *out, void *arg)
{
    struct hook *h = arg;
    pthread_mutex_lock(&h->mu);
    h->calls++;
    if (strstr(path, "hung")) {
        h->hung_calls++;
        while (!h->released)
            pthread_cond_wait(&h->cv, &h->mu);
        h->hung_returns++;
    }
    pthread_mutex_unlock(&h->mu);
    if (strstr(path, "missing"))
        return -ENOENT;
    memset(out, 0, sizeof *out);
    out->f_frsize = 4096;
    out->f_bsize = 65536;
    out->f_blocks = 100;
    out->f_bfree = 30;
    out->f_bavail = 20;
    return 0;
}

static void hook_init(struct hook *h)
{
    memset(h, 0, sizeof *h);
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
}

static void hook_release(struct hook *h)
{
    pthread_mutex_lock(&h->mu);
    h->released = true;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

static unsigned hook_get(struct hook *h, const unsigned *field)
{
    pthread_mutex_lock(&h->mu);
    unsigned v = *field;
    pthread_mutex_unlock(&h->mu);
    return v;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static void t_real_statvfs(void **state)
{
    (void)state;
    struct fsstat *fs = fsstat_new(NULL, NULL, 2.0);
    assert_non_null(fs);
    struct fsstat_req q[2] = {{.path = "/"}, {.path = "/nonexistent-pvescope-path"}};
    fsstat_query(fs, q, 2);
    assert_int_equal(q[0].status, FSSTAT_OK);
    struct statvfs sv;
    assert_int_equal(statvfs("/", &sv), 0);
    assert_true(q[0].total > 0);
    assert_true(q[0].total == (uint64_t)sv.f_blocks * sv.f_frsize);
    assert_true(q[0].used <= q[0].total);
    assert_int_equal(q[1].status, FSSTAT_ERROR);
    assert_int_equal(q[1].err, ENOENT);
    fsstat_free(fs);
}

static void t_hung_path(void **state)
{
    (void)state;
    struct hook h;
    hook_init(&h);
    struct fsstat *fs = fsstat_new(hook_stat, &h, 0.1);
    assert_non_null(fs);
    struct fsstat_req q[3] = {{.path = "/a"}, {.path = "/mnt/pve/hung"}, {.path = "/missing"}};

    double t0 = now_s();
    fsstat_query(fs, q, 3);
    double took = now_s() - t0;
    assert_true(took >= 0.09 && took < 0.5);          /* waited for the deadline, not more */
    assert_int_equal(q[0].status, FSSTAT_OK);
    assert_int_equal(q[0].total, 409600);             /* blocks·frsize, not bsize */
    assert_int_equal(q[0].used, 286720);              /* (blocks−bfree)·frsize */
    assert_int_equal(q[0].avail, 81920);              /* bavail·frsize */
    assert_int_equal(q[1].status, FSSTAT_PENDING);
    assert_int_equal(q[2].status, FSSTAT_ERROR);
    assert_int_equal(q[2].err, ENOENT);
    assert_int_equal(fsstat_outstanding(fs), 1);

    /* next cycles: the stuck path is not asked again, and nothing waits for it */
    for (int i = 0; i < 3; i++) {
        t0 = now_s();
        fsstat_query(fs, q, 3);
        took = now_s() - t0;
        assert_true(took < 0.09);
        assert_int_equal(q[0].status, FSSTAT_OK);
        assert_int_equal(q[1].status, FSSTAT_PENDING);
    }
    assert_int_equal(hook_get(&h, &h.hung_calls), 1);
    /* only the stuck path pending: the batch returns at once */
    struct fsstat_req only = {.path = "/mnt/pve/hung"};
    t0 = now_s();
    fsstat_query(fs, &only, 1);
    assert_true(now_s() - t0 < 0.05);
    assert_int_equal(only.status, FSSTAT_PENDING);

    /* the call returns: the path is asked again on the next cycle */
    hook_release(&h);
    for (int i = 0; i < 200 && fsstat_outstanding(fs) > 0; i++)
        sleep_ms(10);
    assert_int_equal(fsstat_outstanding(fs), 0);
    fsstat_query(fs, q, 3);
    assert_int_equal(q[1].status, FSSTAT_OK);
    assert_int_equal(q[1].total, 409600);
    assert_int_equal(hook_get(&h, &h.hung_calls), 2);
    fsstat_free(fs);
}

static void t_free_while_stuck(void **state)
{
    (void)state;
    struct hook h;
    hook_init(&h);
    struct fsstat *fs = fsstat_new(hook_stat, &h, 0.05);
    struct fsstat_req q[2] = {{.path = "/hung1"}, {.path = "/hung2"}};
    fsstat_query(fs, q, 2);
    assert_int_equal(q[0].status, FSSTAT_PENDING);
    assert_int_equal(q[1].status, FSSTAT_PENDING);
    double t0 = now_s();
    fsstat_free(fs);                                   /* must not wait for the stuck workers */
    assert_true(now_s() - t0 < 0.05);
    hook_release(&h);
    for (int i = 0; i < 200 && hook_get(&h, &h.hung_returns) < 2; i++)
        sleep_ms(10);
    assert_int_equal(hook_get(&h, &h.hung_returns), 2);
    sleep_ms(50);                                      /* the last worker frees the shared state */
}

static void t_many_paths(void **state)
{
    (void)state;
    struct hook h;
    hook_init(&h);
    struct fsstat *fs = fsstat_new(hook_stat, &h, 1.0);
    enum { N = 200 };
    static char paths[N][32];
    static struct fsstat_req q[N];
    for (int i = 0; i < N; i++) {
        snprintf(paths[i], sizeof paths[i], "/proc/%d/root", 1000 + i);
        q[i].path = paths[i];
    }
    for (int cycle = 0; cycle < 5; cycle++) {
        fsstat_query(fs, q, N);
        for (int i = 0; i < N; i++)
            assert_int_equal(q[i].status, FSSTAT_OK);
    }
    assert_int_equal(hook_get(&h, &h.calls), 5 * N);
    fsstat_free(fs);
    sleep_ms(20);
}

/* ---- the storage collector ---------------------------------------------------- */

static char root[256];

static void mkdirs(const char *rel)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    for (char *s = p + strlen(root) + 1; *s; s++) {
        if (*s == '/') {
            *s = '\0';
            mkdir(p, 0755);
            *s = '/';
        }
    }
    mkdir(p, 0755);
}

static Pvescope__StorageConfig *scfg(struct arena *a, const char *id, const char *type, const char *path)
{
    Pvescope__StorageConfig *s = arena_alloc(a, sizeof *s);
    pvescope__storage_config__init(s);
    s->id = (char *)id;
    s->type = (char *)type;
    s->path = (char *)path;
    return s;
}

static const Pvescope__StorageUsage *usage_of(const Pvescope__Report *r, const char *id)
{
    for (size_t i = 0; i < r->n_storage_usage; i++)
        if (strcmp(r->storage_usage[i]->id, id) == 0)
            return r->storage_usage[i];
    return NULL;
}

static void t_storage_collector(void **state)
{
    (void)state;
    snprintf(root, sizeof root, "/tmp/pvescope-fsstat-XXXXXX");
    assert_non_null(mkdtemp(root));
    mkdirs("srv/dir1");
    mkdirs("mnt/pve/nas");
    mkdirs("mnt/pve/nas2");
    mkdirs("mnt/pve/hung");
    mkdirs("proc/self");
    char p[512];
    snprintf(p, sizeof p, "%s/proc/self/mountinfo", root);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fprintf(f, "22 1 0:21 / / rw shared:1 - ext4 /dev/sda1 rw\n"
               "90 22 0:50 / %s/mnt/pve/nas rw,relatime shared:60 - nfs 10.0.0.5:/export rw\n"
               "91 22 0:51 / %s/mnt/pve/hung rw,relatime shared:61 - nfs 10.0.0.6:/export rw\n"
               "92 22 0:52 / %s/mnt/pve/with\\040space rw - cifs //x/y rw\n", root, root, root);
    fclose(f);
    char procfs[300];
    snprintf(procfs, sizeof procfs, "%s/proc", root);

    struct arena a, cfg;
    arena_init(&a, 1 << 14);
    arena_init(&cfg, 1 << 14);
    struct buf scratch = BUF_INIT;
    struct collector_ctx ctx = {.procfs = procfs, .rootfs = root, .arena = &a, .scratch = &scratch};
    Pvescope__Report r;
    pvescope__report__init(&r);
    r.node = "pve1";
    Pvescope__StorageConfig *other = scfg(&cfg, "other", "dir", "/srv/dir1");
    char *other_nodes[] = {"pve2"};
    other->nodes = other_nodes;
    other->n_nodes = 1;
    Pvescope__StorageConfig *off = scfg(&cfg, "off", "dir", "/srv/dir1");
    off->has_disabled = off->disabled = true;
    Pvescope__StorageConfig *mine = scfg(&cfg, "mine", "dir", "/srv/dir1/");
    char *mine_nodes[] = {"pve2", "pve1"};
    mine->nodes = mine_nodes;
    mine->n_nodes = 2;
    Pvescope__StorageConfig *all[] = {
        scfg(&cfg, "local", "dir", "/srv/dir1"), scfg(&cfg, "gone", "dir", "/srv/gone"),
        scfg(&cfg, "nas", "nfs", NULL),          scfg(&cfg, "nas2", "nfs", "/mnt/pve/nas2"),
        scfg(&cfg, "hung", "nfs", NULL),         scfg(&cfg, "local-lvm", "lvmthin", NULL),
        other, off, mine};
    r.storages = all;
    r.n_storages = sizeof all / sizeof *all;

    void *st = NULL;
    assert_int_equal(collector_storage.init(&st, &ctx), 0);
    struct hook h;
    hook_init(&h);
    /* the real statvfs first */
    assert_int_equal(storage_collector_set_stat(st, NULL, NULL, 2.0), 0);
    assert_int_equal(collector_storage.collect(st, &ctx, &r), 0);
    assert_int_equal(r.n_storage_usage, 6);            /* local gone nas nas2 hung mine */
    struct statvfs sv;
    snprintf(p, sizeof p, "%s/srv/dir1", root);
    assert_int_equal(statvfs(p, &sv), 0);
    const Pvescope__StorageUsage *u = usage_of(&r, "local");
    assert_non_null(u);
    assert_true(u->active && u->has_total_bytes && u->total_bytes > 0);
    assert_true(u->total_bytes == (uint64_t)sv.f_blocks * sv.f_frsize);
    assert_true(u->used_bytes <= u->total_bytes);
    assert_true(usage_of(&r, "mine")->active);
    u = usage_of(&r, "gone");
    assert_true(u->has_active && !u->active && !u->has_total_bytes);
    assert_true(usage_of(&r, "nas")->active);          /* mounted per mountinfo */
    assert_false(usage_of(&r, "nas2")->active);        /* a plain directory, not a mount */
    assert_true(usage_of(&r, "hung")->active);
    assert_null(usage_of(&r, "local-lvm"));
    assert_null(usage_of(&r, "other"));
    assert_null(usage_of(&r, "off"));

    /* now the "hung" mount stops answering: the cycle keeps its deadline */
    assert_int_equal(storage_collector_set_stat(st, hook_stat, &h, 0.1), 0);
    for (int i = 0; i < 3; i++) {
        arena_reset(&a);
        double t0 = now_s();
        assert_int_equal(collector_storage.collect(st, &ctx, &r), 0);
        assert_true(now_s() - t0 < 0.5);
        assert_false(usage_of(&r, "hung")->active);
        assert_true(usage_of(&r, "nas")->active);
        assert_int_equal(usage_of(&r, "nas")->total_bytes, 409600);
        assert_non_null(strstr(ctx.err, "not answering"));
    }
    assert_int_equal(hook_get(&h, &h.hung_calls), 1);
    collector_storage.fini(st);
    hook_release(&h);
    for (int i = 0; i < 200 && hook_get(&h, &h.hung_returns) < 1; i++)
        sleep_ms(10);
    sleep_ms(50);
    arena_free(&a);
    arena_free(&cfg);
    buf_free(&scratch);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

static void t_mountinfo(void **state)
{
    (void)state;
    const char *mi = "22 1 0:21 / / rw - ext4 /dev/sda1 rw\n"
                     "92 22 0:52 / /mnt/pve/with\\040space rw - cifs //x/y rw\n"
                     "93 22 0:53 / /mnt/pve/nas rw - nfs a:/b rw";
    assert_true(storage_mountinfo_has(mi, "/"));
    assert_true(storage_mountinfo_has(mi, "/mnt/pve/with space"));
    assert_true(storage_mountinfo_has(mi, "/mnt/pve/nas"));
    assert_false(storage_mountinfo_has(mi, "/mnt/pve"));
    assert_false(storage_mountinfo_has(mi, "/mnt/pve/na"));
    assert_false(storage_mountinfo_has("", "/"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_real_statvfs),   cmocka_unit_test(t_hung_path),
        cmocka_unit_test(t_free_while_stuck), cmocka_unit_test(t_many_paths),
        cmocka_unit_test(t_mountinfo),      cmocka_unit_test(t_storage_collector),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
