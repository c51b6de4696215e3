/* pve_members.c — the "pve" collector: cluster name and node id from
 * <path.pve>/.members, also used at start-up for the --cluster default.
 *
 * pmxcfs prints .members with a fixed printf layout, but we do not depend on
 * the layout: a small JSON scanner finds keys by name at the right depth. Only
 * the fields the agent reports are read; the full member list comes with the
 * cluster/inventory capability. */
#include "pve_members.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collector.h"
#include "fileio.h"

struct scan {
    const char *p;
    const char *end;
};

static void skip_ws(struct scan *s)
{
    while (s->p < s->end && isspace((unsigned char)*s->p))
        s->p++;
}

/* Reads a JSON string without escapes beyond \" and \\ (pmxcfs never emits
 * others for names); copies at most cap-1 bytes. */
static bool read_string(struct scan *s, char *out, size_t cap)
{
    skip_ws(s);
    if (s->p >= s->end || *s->p != '"')
        return false;
    s->p++;
    size_t n = 0;
    while (s->p < s->end && *s->p != '"') {
        char c = *s->p++;
        if (c == '\\') {
            if (s->p >= s->end)
                return false;
            c = *s->p++;
        }
        if (n + 1 >= cap)
            return false;
        out[n++] = c;
    }
    if (s->p >= s->end)
        return false;
    s->p++;
    out[n] = '\0';
    return true;
}

static bool expect(struct scan *s, char c)
{
    skip_ws(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return true;
    }
    return false;
}

static bool read_number(struct scan *s, unsigned long long *v)
{
    skip_ws(s);
    char tmp[24];
    size_t n = 0;
    while (s->p < s->end && isdigit((unsigned char)*s->p) && n + 1 < sizeof tmp)
        tmp[n++] = *s->p++;
    if (n == 0)
        return false;
    tmp[n] = '\0';
    errno = 0;
    *v = strtoull(tmp, NULL, 10);
    return errno == 0;
}

/* Skips any JSON value (string, number, object, array, literal). */
static bool skip_value(struct scan *s)
{
    skip_ws(s);
    if (s->p >= s->end)
        return false;
    if (*s->p == '"') {
        char junk[256];
        return read_string(s, junk, sizeof junk);
    }
    if (*s->p == '{' || *s->p == '[') {
        int depth = 0;
        bool in_str = false;
        for (; s->p < s->end; s->p++) {
            char c = *s->p;
            if (in_str) {
                if (c == '\\')
                    s->p++;
                else if (c == '"')
                    in_str = false;
            } else if (c == '"') {
                in_str = true;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if ((c == '}' || c == ']') && --depth == 0) {
                s->p++;
                return true;
            }
        }
        return false;
    }
    while (s->p < s->end && *s->p != ',' && *s->p != '}' && *s->p != ']')
        s->p++;
    return true;
}

/* Iterates the members of the object at s->p, calling fn for each key with
 * the scanner positioned at the value; fn must consume the value. */
typedef bool (*member_fn)(struct scan *s, const char *key, void *arg);

static bool each_member(struct scan *s, member_fn fn, void *arg)
{
    if (!expect(s, '{'))
        return false;
    if (expect(s, '}'))
        return true;
    do {
        char key[128];
        if (!read_string(s, key, sizeof key) || !expect(s, ':') || !fn(s, key, arg))
            return false;
    } while (expect(s, ','));
    return expect(s, '}');
}

static bool on_cluster_member(struct scan *s, const char *key, void *arg)
{
    struct members_local *m = arg;
    if (strcmp(key, "name") == 0)
        return read_string(s, m->cluster_name, sizeof m->cluster_name);
    return skip_value(s);
}

static bool on_node_member(struct scan *s, const char *key, void *arg)
{
    unsigned long long *id = arg;
    if (strcmp(key, "id") == 0)
        return read_number(s, id);
    return skip_value(s);
}

static bool on_nodelist_member(struct scan *s, const char *key, void *arg)
{
    struct members_local *m = arg;
    if (strcmp(key, m->nodename) != 0)
        return skip_value(s);
    unsigned long long id = 0;
    if (!each_member(s, on_node_member, &id) || id == 0 || id > UINT32_MAX)
        return false;
    m->nodeid = (uint32_t)id;
    m->has_nodeid = true;
    return true;
}

struct top_state {
    struct members_local *m;
    const char *nodelist_at;   /* nodelist may precede nodename in theory */
};

static bool on_top_member(struct scan *s, const char *key, void *arg)
{
    struct top_state *t = arg;
    if (strcmp(key, "nodename") == 0)
        return read_string(s, t->m->nodename, sizeof t->m->nodename);
    if (strcmp(key, "cluster") == 0)
        return each_member(s, on_cluster_member, t->m);
    if (strcmp(key, "nodelist") == 0) {
        skip_ws(s);
        t->nodelist_at = s->p;
    }
    return skip_value(s);
}

bool members_parse_local(const char *text, struct members_local *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct scan s = {text, text + strlen(text)};
    struct top_state t = {out, NULL};
    if (!each_member(&s, on_top_member, &t)) {
        snprintf(err, errlen, "not a .members document (JSON object expected) near offset %ld",
                 (long)(s.p - text));
        return false;
    }
    if (!out->nodename[0]) {
        snprintf(err, errlen, "no \"nodename\"");
        return false;
    }
    if (t.nodelist_at) {
        struct scan ns = {t.nodelist_at, s.end};
        if (!each_member(&ns, on_nodelist_member, out)) {
            snprintf(err, errlen, "malformed \"nodelist\"");
            return false;
        }
    }
    return true;
}

/* The last .members text and what it said: the file changes only when the
 * cluster does, so an unchanged text is not parsed again. */
struct pve_state {
    struct buf text;
    struct members_local m;
    bool valid;
};

static int pve_init(void **state, struct collector_ctx *ctx)
{
    struct pve_state *st = calloc(1, sizeof *st);
    if (!st)
        return collector_fail(ctx, "out of memory");
    *state = st;
    return 0;
}

static void pve_fini(void *state)
{
    struct pve_state *st = state;
    buf_free(&st->text);
    free(st);
}

/* Parses ctx->scratch unless it equals the last text. */
static int pve_parse_if_changed(struct pve_state *st, struct collector_ctx *ctx)
{
    const struct buf *b = ctx->scratch;
    if (st->valid && b->len == st->text.len && memcmp(b->data, st->text.data, b->len) == 0)
        return 0;
    char why[128];
    st->valid = members_parse_local(b->data, &st->m, why, sizeof why);
    buf_reset(&st->text);
    buf_append(&st->text, b->data, b->len);
    return st->valid ? 0 : collector_fail(ctx, "%s/.members: %s", ctx->pve, why);
}

static int pve_collect(void *state, struct collector_ctx *ctx, Pvescope__Report *r)
{
    struct pve_state *st = state;
    int rc = ctx->files ? file_cache_read(ctx->files, ctx->pve, ".members", ctx->scratch, FILE_MULTI_RECORD)
                        : read_file_at(ctx->pve, ".members", ctx->scratch);
    if (rc == -ENOENT)
        return 0;                 /* not a Proxmox node (or pmxcfs not mounted) */
    if (rc < 0)
        return collector_fail(ctx, "%s/.members: %s", ctx->pve, strerror(-rc));
    if (pve_parse_if_changed(st, ctx) != 0)
        return -1;
    Pvescope__PveLocal *pl = arena_alloc(ctx->arena, sizeof *pl);
    pvescope__pve_local__init(pl);
    if (st->m.cluster_name[0])
        pl->cluster_name = arena_strdup(ctx->arena, st->m.cluster_name);
    pl->has_nodeid = st->m.has_nodeid;
    pl->nodeid = st->m.nodeid;
    r->pve = pl;
    return 0;
}

const struct collector collector_pve = {
    .name = "pve",
    .help = "cluster name and node id from /etc/pve/.members",
    .default_enabled = true,
    .init = pve_init,
    .collect = pve_collect,
    .fini = pve_fini,
};
