/* storage.c — the "storage" collector: usage of this node's path-based
 * storages, in Report.storage_usage, without ever stalling the cycle.
 *
 * It runs after the cluster collector and reads what that one put into
 * Report.storages (storage.cfg). A storage is measured when it is enabled
 * (no `disable`), its `nodes` list is empty or names this node, and its type
 * keeps its volumes in a directory:
 *   dir, btrfs                         `path` from storage.cfg
 *   nfs, cifs, glusterfs, cephfs       `path`, else /mnt/pve/<storage>, as PVE
 *                                      mounts them; active only while that
 *                                      directory is a mount point
 * Paths are resolved under --path.rootfs. Mount points are looked up in
 * <procfs>/self/mountinfo, read once per cycle and only when a network
 * storage is configured: reading it never touches the mounts themselves,
 * whereas a stat() of a dead NFS mount point hangs like statvfs does.
 *
 * Values are PVE's (Plugin.pm status, via PVE::Tools::df = Filesys::Df):
 * total = f_blocks·f_frsize, used = (f_blocks−f_bfree)·f_frsize,
 * avail = f_bavail·f_frsize. A storage is `active` when statvfs answered
 * (and, for network types, the path is mounted); otherwise it is sent with
 * active=false and no numbers, as pvestatd reports an inactive storage.
 *
 * Hung mounts: statvfs runs through fsstat (fsstat.h) with a deadline of
 * STORAGE_DEADLINE_S per cycle for all storages together; a storage whose
 * statvfs has not returned is inactive for this cycle and is not asked again
 * until the stuck call returns.
 *
 * Not measured here: lvmthin (the thinpool collector appends its usage from
 * the pool's dm status), lvm, zfspool, rbd, iscsi, pbs and the other storages
 * without a local directory (no usage is sent for them). */
#include "collector.h"
#include "fsstat.h"
#include "pve_parsers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STORAGE_DEADLINE_S 0.2
#define STORAGE_PATH_MAX 4096

struct storage_state {
    struct fsstat *fs;
    struct fsstat_req *reqs;
    size_t *req_of;             /* reqs index of each usage entry, or SIZE_MAX */
    char (*paths)[STORAGE_PATH_MAX];
    size_t cap;
};

static bool type_is(const char *type, const char *const *list)
{
    for (; type && *list; list++)
        if (strcmp(type, *list) == 0)
            return true;
    return false;
}

static const char *const mounted_types[] = {"nfs", "cifs", "glusterfs", "cephfs", NULL};
static const char *const local_types[] = {"dir", "btrfs", NULL};

bool storage_enabled_on(const Pvescope__StorageConfig *s, const char *node)
{
    if (s->has_disabled && s->disabled)
        return false;
    if (s->n_nodes == 0)
        return true;
    for (size_t i = 0; i < s->n_nodes; i++)
        if (node && strcmp(s->nodes[i], node) == 0)
            return true;
    return false;
}

/* <root>/<path> with single slashes and no trailing slash, as mountinfo
 * spells mount points. */
static bool resolve(char *out, size_t cap, const char *root, const char *path)
{
    char tmp[STORAGE_PATH_MAX];
    if (!path_join(tmp, sizeof tmp, root ? root : "/", path))
        return false;
    size_t n = 0;
    for (const char *p = tmp; *p; p++) {
        if (*p == '/' && n > 0 && out[n - 1] == '/')
            continue;
        if (n + 1 >= cap)
            return false;
        out[n++] = *p;
    }
    while (n > 1 && out[n - 1] == '/')
        n--;
    out[n] = '\0';
    return n > 0;
}

/* Field 5 of a mountinfo line equals path, octal escapes (\040) decoded. */
static bool mountpoint_is(const char *f, const char *end, const char *path)
{
    const char *q = path;
    while (f < end && *f != ' ') {
        char c = *f++;
        if (c == '\\' && end - f >= 3 && f[0] >= '0' && f[0] <= '3' && f[1] >= '0' && f[1] <= '7' &&
            f[2] >= '0' && f[2] <= '7') {
            c = (char)((f[0] - '0') * 64 + (f[1] - '0') * 8 + (f[2] - '0'));
            f += 3;
        }
        if (*q++ != c)
            return false;
    }
    return *q == '\0';
}

/* Whether path is a mount point according to mountinfo text. */
bool storage_mountinfo_has(const char *text, const char *path)
{
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        if (!end)
            end = line + strlen(line);
        const char *f = line;
        for (int field = 0; field < 4 && f < end; field++) {
            f = memchr(f, ' ', (size_t)(end - f));
            f = f ? f + 1 : end;
        }
        if (f < end && mountpoint_is(f, end, path))
            return true;
        line = *end ? end + 1 : end;
    }
    return false;
}

static bool reserve(struct storage_state *st, size_t n)
{
    if (n <= st->cap)
        return true;
    size_t c = st->cap ? st->cap * 2 : 16;
    while (c < n)
        c *= 2;
    void *a = realloc(st->reqs, c * sizeof *st->reqs);
    if (a)
        st->reqs = a;
    void *b = realloc(st->req_of, c * sizeof *st->req_of);
    if (b)
        st->req_of = b;
    void *p = realloc(st->paths, c * sizeof *st->paths);
    if (p)
        st->paths = p;
    if (!a || !b || !p)
        return false;
    st->cap = c;
    return true;
}

static int storage_collect(void *state, struct collector_ctx *ctx, Pvescope__Report *r)
{
    struct storage_state *st = state;
    size_t n = 0;
    bool need_mounts = false;
    for (size_t i = 0; i < r->n_storages; i++) {
        const Pvescope__StorageConfig *s = r->storages[i];
        bool mounted = type_is(s->type, mounted_types);
        if (!storage_enabled_on(s, r->node) || !(mounted || type_is(s->type, local_types)))
            continue;
        if (!mounted && !(s->path && s->path[0]))
            continue;
        n++;
        need_mounts = need_mounts || mounted;
    }
    r->n_storage_usage = 0;
    if (n == 0)
        return 0;
    if (!reserve(st, n))
        return collector_fail(ctx, "out of memory");

    const char *mounts = NULL;
    if (need_mounts) {
        int rc = read_file_at(ctx->procfs, "self/mountinfo", ctx->scratch);
        if (rc != 0)
            return collector_fail(ctx, "%s/self/mountinfo: %s", ctx->procfs, strerror(-rc));
        mounts = ctx->scratch->data;
    }

    r->storage_usage = arena_alloc(ctx->arena, n * sizeof *r->storage_usage);
    size_t n_req = 0;
    unsigned bad_paths = 0;
    for (size_t i = 0; i < r->n_storages; i++) {
        const Pvescope__StorageConfig *s = r->storages[i];
        bool mounted = type_is(s->type, mounted_types);
        if (!storage_enabled_on(s, r->node) || !(mounted || type_is(s->type, local_types)))
            continue;
        char rel[STORAGE_PATH_MAX];
        if (s->path && s->path[0])
            snprintf(rel, sizeof rel, "%s", s->path);
        else if (mounted)
            snprintf(rel, sizeof rel, "/mnt/pve/%s", s->id);
        else
            continue;
        Pvescope__StorageUsage *u = arena_alloc(ctx->arena, sizeof *u);
        pvescope__storage_usage__init(u);
        u->id = arena_strdup(ctx->arena, s->id);
        u->has_active = true;
        u->active = false;
        size_t k = r->n_storage_usage++;
        r->storage_usage[k] = u;
        st->req_of[k] = SIZE_MAX;
        char *path = st->paths[n_req];
        if (!resolve(path, STORAGE_PATH_MAX, ctx->rootfs, rel)) {
            bad_paths++;
            continue;
        }
        if (mounted && !storage_mountinfo_has(mounts, path))
            continue;                          /* not mounted: inactive, never stat'ed */
        st->reqs[n_req].path = path;
        st->req_of[k] = n_req++;
    }

    fsstat_query(st->fs, st->reqs, n_req);

    unsigned pending = 0;
    for (size_t k = 0; k < r->n_storage_usage; k++) {
        if (st->req_of[k] == SIZE_MAX)
            continue;
        const struct fsstat_req *q = &st->reqs[st->req_of[k]];
        Pvescope__StorageUsage *u = r->storage_usage[k];
        pending += q->status == FSSTAT_PENDING;
        if (q->status != FSSTAT_OK)
            continue;
        u->active = true;
        u->has_total_bytes = u->has_used_bytes = u->has_avail_bytes = true;
        u->total_bytes = q->total;
        u->used_bytes = q->used;
        u->avail_bytes = q->avail;
    }
    if (pending || bad_paths)
        snprintf(ctx->err, sizeof ctx->err, "%u storage(s) not answering statvfs within %.0f ms%s", pending,
                 STORAGE_DEADLINE_S * 1e3, bad_paths ? ", some paths too long" : "");
    return 0;
}

int storage_collector_set_stat(void *state, fsstat_fn fn, void *arg, double deadline_s)
{
    struct storage_state *st = state;
    struct fsstat *fs = fsstat_new(fn, arg, deadline_s);
    if (!fs)
        return -1;
    fsstat_free(st->fs);
    st->fs = fs;
    return 0;
}

static int storage_init(void **state, struct collector_ctx *ctx)
{
    struct storage_state *st = calloc(1, sizeof *st);
    if (!st || !(st->fs = fsstat_new(NULL, NULL, STORAGE_DEADLINE_S))) {
        free(st);
        return collector_fail(ctx, "out of memory");
    }
    *state = st;
    return 0;
}

static void storage_fini(void *state)
{
    struct storage_state *st = state;
    if (!st)
        return;
    fsstat_free(st->fs);
    free(st->reqs);
    free(st->req_of);
    free(st->paths);
    free(st);
}

const struct collector collector_storage = {
    .name = "storage",
    .help = "Usage of this node's dir/nfs/cifs/glusterfs/cephfs/btrfs storages (statvfs with a deadline)",
    .default_enabled = true,
    .init = storage_init,
    .collect = storage_collect,
    .fini = storage_fini,
};
