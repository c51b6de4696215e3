/* merge_home.c — a node's own guests, merged at ingest.
 *
 * Almost every guest of a healthy cluster is placed by .vmlist on the node
 * that runs it, and that node's report carries its configuration and
 * runtime. Such a guest's series depend on that one report only, so they are
 * rendered once when the report arrives, not at every scrape. A scrape checks
 * them against the cluster's authoritative .vmlist (merge.c): when the node
 * is fresh and every guest it pre-rendered is placed there with the same type
 * and HA state, its chunks are used whole; otherwise the merge renders those
 * guests itself, as before (migrations, stale nodes, split views). */
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "merge_internal.h"
#include "render.h"

/* The report places this configured guest on its own node, and it is the
 * configuration the merge would find for its vmid in this report. */
static bool own_guest(const struct decoded_report *d, const Pvescope__GuestConfig *e)
{
    return e->has_config && e->node && strcmp(e->node, d->r->node) == 0 && decoded_config(d, e->vmid) == e;
}

static int cmp_pre(const void *a, const void *b)
{
    const struct prerendered_guest *x = a, *y = b;
    return x->vmid < y->vmid ? -1 : x->vmid > y->vmid;
}

/* The configuration-only part of prev's pre-rendered guests when prev's
 * report had d's very inventory: the same guests with the same
 * configurations, hence the same text in every configuration-only family. */
static struct node_render *same_config_part(const struct decoded_report *d, const struct node_render *prev)
{
    if (!d->inventory || !prev || !prev->report || prev->report->inventory != d->inventory || !prev->home_guests)
        return NULL;
    return prev->home_guests->config_part;
}

/* Renders the n guests' families into nr, the configuration-only ones into
 * config (or none of those when config is NULL). */
static void render_families(struct node_render *nr, struct node_render *config, const struct merged_guest *g,
                            size_t n, const struct merge_opts *o)
{
    for (int i = 0; i < FAM__COUNT; i++) {
        enum family_id f = (enum family_id)i;
        if (!merge_family(f))
            continue;
        struct node_render *to = merge_family_config_only(f) ? config : nr;
        if (!to)
            continue;
        nr_begin(to, f);
        for (size_t j = 0; j < n; j++)
            merged_guest_samples(to, f, &g[j], o);
        nr_end(to, f);
    }
}

static void render_done(struct node_render *nr)
{
    buf_fit(&nr->text);
    buf_free(&nr->scratch);
}

/* d's own guests, prepared for cluster, in *n (0: NULL). */
static struct merged_guest *prepare_own_guests(const struct decoded_report *d, const char *cluster, size_t *n)
{
    const Pvescope__Report *r = d->r;
    *n = 0;
    for (size_t i = 0; r->node && i < r->n_guests; i++)
        *n += own_guest(d, r->guests[i]);
    if (*n == 0)
        return NULL;
    struct merged_guest *g = calloc(*n, sizeof *g);
    if (!g)
        abort();
    size_t k = 0;
    for (size_t i = 0; i < r->n_guests; i++) {
        const Pvescope__GuestConfig *e = r->guests[i];
        if (!own_guest(d, e))
            continue;
        g[k].place = g[k].cfg = e;
        merged_guest_prepare(&g[k], cluster);         /* no runtime yet: no device labels */
        g[k].rt = decoded_runtime(d, e->vmid, e->type);
        k++;
    }
    return g;
}

/* *to = *from, its name kept pointing into its own struct when it is the
 * default name ("VM 100"). */
static void copy_guest(struct merged_guest *to, const struct merged_guest *from)
{
    *to = *from;
    if (from->name == from->default_name)
        to->name = to->default_name;
}

/* The prepared guests of config (a part of a report with d's inventory),
 * copied, with d's runtimes: their labels stay config's. Reads nothing of
 * the inventory, which the node's reports in between have left cold. */
static struct merged_guest *reuse_prepared(const struct decoded_report *d, const struct node_render *config)
{
    struct merged_guest *g = malloc(config->n_prepared * sizeof *g);
    if (!g)
        abort();
    for (size_t k = 0; k < config->n_prepared; k++) {
        copy_guest(&g[k], &config->prepared[k]);
        g[k].rt = decoded_runtime(d, g[k].vmid, g[k].type);
    }
    return g;
}

/* g[0..n) (runtimes dropped) in one block with their labels, for a config
 * part to keep: one allocation, read in one sweep by the next report. */
static struct merged_guest *pack_prepared(struct merged_guest *g, size_t n)
{
    size_t text = 0;
    for (size_t k = 0; k < n; k++)
        text += g[k].labels_len + 1;
    struct merged_guest *packed = malloc(n * sizeof *packed + text);
    if (!packed)
        abort();
    char *p = (char *)(packed + n);
    for (size_t k = 0; k < n; k++) {
        copy_guest(&packed[k], &g[k]);
        memcpy(p, g[k].labels, g[k].labels_len + 1);
        packed[k].labels = p;
        p += g[k].labels_len + 1;
        merged_guest_release(&g[k]);
    }
    free(g);
    return packed;
}

void merge_prepared_free(struct merged_guest *g)
{
    free(g);                                /* labels are in the same block */
}

/* Guests' vmid, type and HA state, sorted by vmid, for merge_home_select(). */
static struct prerendered_guest *prerendered_list(const struct merged_guest *g, size_t n)
{
    struct prerendered_guest *pre = malloc(n * sizeof *pre);
    if (!pre)
        abort();
    for (size_t k = 0; k < n; k++)
        pre[k] = (struct prerendered_guest){g[k].vmid, g[k].type, g[k].place_ha_state};
    size_t sorted = 1;                         /* usually in vmid order already */
    while (sorted < n && cmp_pre(&pre[sorted - 1], &pre[sorted]) <= 0)
        sorted++;
    if (sorted < n)
        qsort(pre, n, sizeof *pre, cmp_pre);
    return pre;
}

struct node_render *merge_prerender_guests(const struct decoded_report *d, const char *cluster,
                                           const struct merge_opts *o, const struct node_render *prev)
{
    struct node_render *config = same_config_part(d, prev), *new_config = NULL;
    size_t n;
    struct merged_guest *g;
    if (config && config->prepared) {
        n = config->n_prepared;
        g = reuse_prepared(d, config);
        node_render_ref(config);
    } else {
        if (!(g = prepare_own_guests(d, cluster, &n)))
            return NULL;
        config = new_config = node_render_new();
        buf_reserve(&config->text, n * 2048);   /* ~15 series of ~110 bytes a guest */
    }
    void *devices = merged_guests_device_labels(g, n);
    struct node_render *nr = node_render_new();
    buf_reserve(&nr->text, n * 3072);           /* ~25 series of ~100 bytes a guest */
    render_families(nr, new_config, g, n, o);
    render_done(nr);
    nr->pre = prerendered_list(g, n);
    nr->n_pre = n;
    nr->config_part = config;
    for (size_t j = 0; j < n; j++)
        merged_guest_drop_runtime(&g[j]);
    free(devices);
    if (new_config) {
        render_done(new_config);
        new_config->prepared = pack_prepared(g, n);
        new_config->n_prepared = n;
    } else {
        free(g);                                /* the copies; config keeps the labels */
    }
    return nr;
}

static bool same_opt_str(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

/* Index of the node named name (nodes of one cluster are in name order), or -1. */
static long node_index(const struct scrape_node *nodes, size_t n, const char *name)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, nodes[mid].node);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

/* Index in home's pre-rendered list of the guest g, when it is there as
 * placed (type, HA state); else -1. */
static long prerendered_at(const struct node_render *home, const Pvescope__GuestConfig *place)
{
    struct prerendered_guest key = {place->vmid, NULL, NULL};
    const struct prerendered_guest *p = bsearch(&key, home->pre, home->n_pre, sizeof key, cmp_pre);
    if (!p || strcmp(p->type, place->type) != 0 || !same_opt_str(p->ha_state, place->ha_state))
        return -1;
    return p - home->pre;
}

size_t merge_home_select(const struct scrape_node *nodes, size_t n_nodes, const struct merged_guest *g, size_t n,
                         bool *skip, struct node_render ***parts)
{
    size_t *base = calloc(n_nodes + 1, sizeof *base), *hits = calloc(n_nodes + 1, sizeof *hits);
    long *home_of = malloc((n ? n : 1) * sizeof *home_of);
    if (!base || !hits || !home_of)
        abort();
    size_t total = 0;
    for (size_t i = 0; i < n_nodes; i++) {
        base[i] = total;
        total += nodes[i].fresh && nodes[i].render->home_guests ? nodes[i].render->home_guests->n_pre : 0;
    }
    bool *seen = calloc(total ? total : 1, sizeof *seen);
    if (!seen)
        abort();
    for (size_t k = 0; k < n; k++) {
        home_of[k] = -1;
        long i = g[k].place->node ? node_index(nodes, n_nodes, g[k].place->node) : -1;
        if (i < 0 || !nodes[i].fresh || !nodes[i].render->home_guests)
            continue;
        long j = prerendered_at(nodes[i].render->home_guests, g[k].place);
        if (j < 0 || seen[base[i] + (size_t)j])
            continue;                       /* a second .vmlist entry of one vmid: the merge writes it */
        seen[base[i] + (size_t)j] = true;
        hits[i]++;
        home_of[k] = i;
    }
    size_t count = 0;
    *parts = malloc((n_nodes ? 2 * n_nodes : 1) * sizeof **parts);
    if (!*parts)
        abort();
    for (size_t i = 0; i < n_nodes; i++) {
        struct node_render *h = nodes[i].render->home_guests;
        if (!nodes[i].fresh || !h || hits[i] != h->n_pre)
            continue;
        node_render_ref(h);
        (*parts)[count++] = h;
        if (h->config_part) {
            node_render_ref(h->config_part);
            (*parts)[count++] = h->config_part;
        }
    }
    for (size_t k = 0; k < n; k++)
        skip[k] = home_of[k] >= 0 && hits[home_of[k]] == nodes[home_of[k]].render->home_guests->n_pre;
    free(base);
    free(hits);
    free(home_of);
    free(seen);
    return count;
}
