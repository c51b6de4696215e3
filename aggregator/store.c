/* store.c — see store.h. */
#include "store.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

void store_init(struct store *s, double stale_after, size_t max_nodes)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    s->stale_after = stale_after;
    s->max_nodes = max_nodes;
    s->max_nodes_per_cluster = SIZE_MAX;
}

void store_free(struct store *s)
{
    for (size_t i = 0; i < s->n; i++) {
        node_render_unref(s->nodes[i].render);
        free(s->nodes[i].labels);
    }
    free(s->nodes);
    pthread_mutex_destroy(&s->lock);
}


static int cmp_key(const char *cluster, const char *node, const struct node_entry *e)
{
    int c = strcmp(cluster, e->cluster);
    return c ? c : strcmp(node, e->node);
}

/* Binary search by (cluster, node); returns the index or where it would go. */
static size_t find(const struct store *s, const char *cluster, const char *node, bool *found)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_key(cluster, node, &s->nodes[mid]);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    *found = false;
    return lo;
}

char *node_labels(const char *cluster, const char *node)
{
    struct buf b = BUF_INIT;
    buf_puts(&b, "id=\"node/");
    expo_escape_label(&b, node);
    buf_puts(&b, "\",pve_cluster=\"");
    expo_escape_label(&b, cluster);
    buf_putc(&b, '"');
    return buf_steal(&b, NULL);
}

static struct node_entry *insert(struct store *s, size_t at, const char *cluster, const char *node)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        struct node_entry *n = realloc(s->nodes, s->cap * sizeof *n);
        if (!n)
            abort();
        s->nodes = n;
    }
    memmove(&s->nodes[at + 1], &s->nodes[at], (s->n - at) * sizeof *s->nodes);
    s->n++;
    struct node_entry *e = &s->nodes[at];
    memset(e, 0, sizeof *e);
    snprintf(e->cluster, sizeof e->cluster, "%s", cluster);
    snprintf(e->node, sizeof e->node, "%s", node);
    e->labels = node_labels(cluster, node);
    return e;
}

bool store_origin_is_new(struct store *s, const struct report_origin *o)
{
    pthread_mutex_lock(&s->lock);
    bool found;
    size_t i = find(s, o->cluster, o->node, &found);
    bool is_new = true;
    if (found) {
        const struct node_entry *e = &s->nodes[i];
        if (strcmp(e->boot_id, o->boot_id) == 0)
            is_new = o->seq > e->last_seq;
        else
            is_new = o->sent_unix_ms > e->last_sent_ms;
    }
    pthread_mutex_unlock(&s->lock);
    return is_new;
}

struct node_render *store_latest_render(struct store *s, const char *cluster, const char *node)
{
    pthread_mutex_lock(&s->lock);
    bool found;
    size_t i = find(s, cluster, node, &found);
    struct node_render *nr = found ? s->nodes[i].render : NULL;
    if (nr)
        node_render_ref(nr);
    pthread_mutex_unlock(&s->lock);
    return nr;
}

/* Nodes of cluster in s; at is where a node of it sits or would go (entries
 * are sorted by cluster first, so they are contiguous around it). */
static size_t cluster_size(const struct store *s, size_t at, const char *cluster)
{
    size_t lo = at, hi = at;
    while (lo > 0 && strcmp(s->nodes[lo - 1].cluster, cluster) == 0)
        lo--;
    while (hi < s->n && strcmp(s->nodes[hi].cluster, cluster) == 0)
        hi++;
    return hi - lo;
}

bool store_publish(struct store *s, const struct report_origin *o, struct node_render *nr, double now)
{
    struct node_render *old = NULL;
    pthread_mutex_lock(&s->lock);
    bool found;
    size_t i = find(s, o->cluster, o->node, &found);
    if (!found && (s->n >= s->max_nodes || cluster_size(s, i, o->cluster) >= s->max_nodes_per_cluster)) {
        pthread_mutex_unlock(&s->lock);
        node_render_unref(nr);
        return false;
    }
    struct node_entry *e = found ? &s->nodes[i] : insert(s, i, o->cluster, o->node);
    old = e->render;
    e->render = nr;
    e->last_seen = now;
    e->accepted++;
    e->last_seq = o->seq;
    e->last_sent_ms = o->sent_unix_ms;
    snprintf(e->boot_id, sizeof e->boot_id, "%s", o->boot_id);
    snprintf(e->agent_version, sizeof e->agent_version, "%s", o->agent_version ? o->agent_version : "");
    pthread_mutex_unlock(&s->lock);
    node_render_unref(old);           /* freed outside the lock */
    return true;
}

void store_count_received(struct store *s)
{
    pthread_mutex_lock(&s->lock);
    s->received++;
    pthread_mutex_unlock(&s->lock);
}

void store_count_reject(struct store *s, enum reject_reason why)
{
    pthread_mutex_lock(&s->lock);
    s->rejected[why]++;
    pthread_mutex_unlock(&s->lock);
}

void store_set_closed_connections(struct store *s, uint64_t n)
{
    pthread_mutex_lock(&s->lock);
    s->closed_connections = n;
    pthread_mutex_unlock(&s->lock);
}

void store_snapshot(struct store *s, double now, struct store_snapshot *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&s->lock);
    size_t label_bytes = 0;
    for (size_t i = 0; i < s->n; i++)
        label_bytes += strlen(s->nodes[i].labels) + strlen(s->nodes[i].node) +
                       strlen(s->nodes[i].cluster) + strlen(s->nodes[i].agent_version) + 4;
    out->nodes = calloc(s->n ? s->n : 1, sizeof *out->nodes);
    out->labels = malloc(label_bytes ? label_bytes : 1);
    if (!out->nodes || !out->labels)
        abort();
    char *p = out->labels;
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++) {
        const struct node_entry *e = &s->nodes[i];
        if (!e->render)
            continue;
        struct scrape_node *sn = &out->nodes[n++];
        sn->labels = strcpy(p, e->labels);
        p += strlen(p) + 1;
        sn->node = strcpy(p, e->node);
        p += strlen(p) + 1;
        sn->cluster = strcpy(p, e->cluster);
        p += strlen(p) + 1;
        sn->agent_version = strcpy(p, e->agent_version);
        p += strlen(p) + 1;
        node_render_ref(e->render);
        sn->render = e->render;
        sn->age_seconds = now - e->last_seen;
        sn->fresh = sn->age_seconds <= s->stale_after;
        sn->accepted = e->accepted;
    }
    out->in.nodes = out->nodes;
    out->in.n_nodes = n;
    out->in.received = s->received;
    memcpy(out->in.rejected, s->rejected, sizeof s->rejected);
    out->in.closed_connections = s->closed_connections;
    pthread_mutex_unlock(&s->lock);
}

void store_snapshot_release(struct store_snapshot *snap)
{
    for (size_t i = 0; i < snap->in.n_nodes; i++)
        node_render_unref(snap->nodes[i].render);
    free(snap->nodes);
    free(snap->labels);
    memset(snap, 0, sizeof *snap);
}

void store_counts(struct store *s, double now, size_t *fresh, size_t *total)
{
    pthread_mutex_lock(&s->lock);
    *total = s->n;
    *fresh = 0;
    for (size_t i = 0; i < s->n; i++)
        if (now - s->nodes[i].last_seen <= s->stale_after)
            (*fresh)++;
    pthread_mutex_unlock(&s->lock);
}
