/* ingest.c — see ingest.h. */
#include "ingest.h"

#include <errno.h>
#include <stdarg.h>
#include <nanomsg/nn.h>
#include <nanomsg/pipeline.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "names.h"
#include "decode.h"
#include "merge.h"
#include "render.h"

/* nanomsg drops (without telling us) anything above its own limit; we set it
 * well above ours so over-limit reports up to this factor are seen, counted
 * and logged as "oversize" instead of vanishing. */
#define HARD_LIMIT_FACTOR 4
/* Report decode may allocate at most this many times the plaintext size.
 * The worst honest case is a sparse repeated message: an empty Disk is 2
 * bytes on the wire and ~250 bytes of struct, so anything much lower would
 * refuse valid reports. Only authenticated senders get this far. */
#define DECODE_BUDGET_FACTOR 128
#define REJECT_LOG_INTERVAL 60.0

void ingest_tune_malloc(void)
{
    /* Large, short-lived buffers (a gzip body, remote_write batches: MBs)
     * still come from mmap and go back to the system when freed. */
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

void ingest_init(struct ingest *ig, struct store *store, const struct keyring *kr,
                 size_t max_message_bytes, double max_clock_skew)
{
    memset(ig, 0, sizeof *ig);
    ig->store = store;
    ig->keyring = kr;
    ig->max_message_bytes = max_message_bytes;
    ig->max_clock_skew = max_clock_skew;
    ig->sock = -1;
    for (int i = 0; i < REJECT__COUNT; i++)
        ig->last_log[i] = -1e9;
    char err[160];
    ig->report_plan = pbdecode_plan_new(&pvescope__report__descriptor, err, sizeof err);
    if (!ig->report_plan)   /* only out of memory: the schema is ours and tested */
        log_warn("%s; reports are decoded by protobuf-c instead", err);
    ig->envelope_plan = pbdecode_plan_new(&pvescope__envelope__descriptor, err, sizeof err);
    if (!ig->envelope_plan)
        log_warn("%s; envelopes are decoded by protobuf-c instead", err);
}

static void *scratch_alloc(void *data, size_t n)
{
    struct envelope_scratch *s = data;
    n = (n + 15) & ~(size_t)15;
    if (n > sizeof s->bytes - s->used)
        return NULL;
    void *p = s->bytes + s->used;
    s->used += n;
    return p;
}

static void scratch_free(void *data, void *p)
{
    (void)data;
    (void)p;
}

/* msg's envelope, its sealed report pointing into msg; *owned says whether
 * to free it with protobuf-c. Envelopes whose strings do not fit the scratch
 * (no valid one) go to protobuf-c, which then says whether they decode. */
static Pvescope__Envelope *envelope_decode(struct ingest *ig, const uint8_t *msg, size_t len, bool *owned)
{
    *owned = false;
    if (ig->envelope_plan) {
        ig->envelope_scratch.used = 0;
        ProtobufCAllocator a = {scratch_alloc, scratch_free, &ig->envelope_scratch};
        struct pbdecode_error err;
        ProtobufCMessage *m = pbdecode_unpack_borrowing(ig->envelope_plan, &a, msg, len, &err);
        if (m || err.status != PBDECODE_NO_MEMORY)
            return (Pvescope__Envelope *)m;
    }
    *owned = true;
    return pvescope__envelope__unpack(NULL, len, msg);
}

static int reject(struct ingest *ig, enum reject_reason why, double now, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int reject(struct ingest *ig, enum reject_reason why, double now, const char *fmt, ...)
{
    store_count_reject(ig->store, why);
    if (now - ig->last_log[why] < REJECT_LOG_INTERVAL) {
        ig->suppressed[why]++;
        return why;
    }
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    log_warn("report rejected (%s): %s%s", reject_reason_label[why], detail,
             ig->suppressed[why] ? " (and more of this kind since the last log line)" : "");
    ig->last_log[why] = now;
    ig->suppressed[why] = 0;
    return why;
}

static bool valid_boot_id(const char *s)
{
    if (!s)
        return true;
    size_t n = strlen(s);
    return n < 40 && strspn(s, "0123456789abcdefABCDEF-") == n;
}

static bool open_with_cluster_keys(struct ingest *ig, const Pvescope__Envelope *env)
{
    for (size_t i = 0; i < ig->keyring->len; i++) {
        const struct keyring_entry *k = &ig->keyring->entries[i];
        if (strcmp(k->cluster, env->cluster) == 0 && envelope_open(&k->key, env, &ig->plain))
            return true;
    }
    return false;
}

static bool label_ok(const char *s) { return !s || strlen(s) <= INGEST_MAX_LABEL_BYTES; }

/* The hardware sections (Report 30..34): device counts and the strings that
 * become label values. Returns -1 when fine, else REJECT_LIMITS with why. */
static int check_hardware(const Pvescope__Report *r, char *why, size_t n)
{
    size_t features = 0;
    bool ok = true;
    for (size_t i = 0; i < r->n_sensor_chips; i++) {
        const Pvescope__SensorChip *c = r->sensor_chips[i];
        features += c->n_features;
        ok = ok && label_ok(c->name) && label_ok(c->adapter);
        for (size_t j = 0; j < c->n_features; j++)
            ok = ok && label_ok(c->features[j]->name) && label_ok(c->features[j]->label);
    }
    for (size_t i = 0; i < r->n_nvme; i++) {
        const Pvescope__NvmeController *c = r->nvme[i];
        ok = ok && label_ok(c->name) && label_ok(c->model) && label_ok(c->serial) &&
             label_ok(c->firmware) && label_ok(c->transport);
    }
    for (size_t i = 0; i < r->n_thin_pools; i++) {
        const Pvescope__ThinPool *p = r->thin_pools[i];
        ok = ok && label_ok(p->dm_name) && label_ok(p->vg) && label_ok(p->lv) && label_ok(p->discards);
    }
    for (size_t i = 0; i < r->n_thin_volumes; i++) {
        const Pvescope__ThinVolume *v = r->thin_volumes[i];
        ok = ok && label_ok(v->dm_name) && label_ok(v->vg) && label_ok(v->lv) && label_ok(v->pool_dm_name);
    }
    for (size_t i = 0; i < r->n_zfs_pools; i++)
        ok = ok && label_ok(r->zfs_pools[i]->name) && label_ok(r->zfs_pools[i]->state);
    if (features > INGEST_MAX_DEVICES || r->n_nvme > INGEST_MAX_DEVICES ||
        r->n_thin_pools > INGEST_MAX_DEVICES || r->n_thin_volumes > INGEST_MAX_DEVICES ||
        r->n_zfs_pools > INGEST_MAX_DEVICES) {
        snprintf(why, n, "%zu sensor features, %zu nvme, %zu thin pools, %zu thin volumes, %zu zfs pools",
                 features, r->n_nvme, r->n_thin_pools, r->n_thin_volumes, r->n_zfs_pools);
        return REJECT_LIMITS;
    }
    if (!ok) {
        snprintf(why, n, "a hardware label value is longer than %d bytes", INGEST_MAX_LABEL_BYTES);
        return REJECT_LIMITS;
    }
    return -1;
}

static bool guest_config_ok(const Pvescope__GuestConfig *g)
{
    bool ok = label_ok(g->type) && label_ok(g->node) && label_ok(g->name) && label_ok(g->lock) &&
              label_ok(g->ha_state) && (!g->tags || strlen(g->tags) <= INGEST_MAX_TAGS_BYTES) &&
              g->n_disks <= INGEST_MAX_GUEST_DEVICES && g->n_nics <= INGEST_MAX_GUEST_DEVICES;
    for (size_t i = 0; ok && i < g->n_disks; i++)
        ok = label_ok(g->disks[i]->key) && label_ok(g->disks[i]->storage) && label_ok(g->disks[i]->volume);
    for (size_t i = 0; ok && i < g->n_nics; i++)
        ok = label_ok(g->nics[i]->key) && label_ok(g->nics[i]->bridge) && label_ok(g->nics[i]->mac);
    return ok;
}

static bool guest_runtime_ok(const Pvescope__GuestRuntime *g)
{
    bool ok = label_ok(g->type) && g->n_nics <= INGEST_MAX_GUEST_DEVICES && g->n_disks <= INGEST_MAX_GUEST_DEVICES;
    for (size_t i = 0; ok && i < g->n_nics; i++)
        ok = label_ok(g->nics[i]->name);
    for (size_t i = 0; ok && i < g->n_disks; i++)
        ok = label_ok(g->disks[i]->key);
    return ok;
}

static bool storage_ok(const Pvescope__StorageConfig *s)
{
    bool ok = label_ok(s->id) && label_ok(s->type) && label_ok(s->path) && label_ok(s->vgname) &&
              label_ok(s->thinpool) && label_ok(s->pool) && label_ok(s->content) &&
              s->n_nodes <= INGEST_MAX_MEMBERS;
    for (size_t i = 0; ok && i < s->n_nodes; i++)
        ok = label_ok(s->nodes[i]);
    return ok;
}

static bool cluster_view_ok(const Pvescope__ClusterView *c)
{
    bool ok = label_ok(c->name) && label_ok(c->pve_version) && label_ok(c->pve_release) &&
              label_ok(c->pve_repoid);
    for (size_t i = 0; ok && i < c->n_members; i++)
        ok = label_ok(c->members[i]->name) && label_ok(c->members[i]->ip) &&
             label_ok(c->members[i]->subscription_level);
    return ok;
}

/* The inventory sections (Report 20..25): counts and the strings that
 * become guest, storage and cluster labels. The .vmlist entries r goes
 * without (wire_strip.h) count as guests too. Returns -1 when fine, else
 * REJECT_LIMITS with why. */
/* The strings of the inventory sections (Report 20..22, and the stripped
 * .vmlist entries) within the label limits. */
static bool inventory_strings_ok(const Pvescope__Report *r, const struct stripped_vmlist *vmlist)
{
    bool ok = (!r->cluster || cluster_view_ok(r->cluster)) && vmlist->longest_string <= INGEST_MAX_LABEL_BYTES;
    for (size_t i = 0; ok && i < r->n_guests; i++)
        ok = guest_config_ok(r->guests[i]);
    for (size_t i = 0; ok && i < r->n_storages; i++)
        ok = storage_ok(r->storages[i]);
    return ok;
}

static int check_inventory(const struct decoded_report *d, char *why, size_t n)
{
    const Pvescope__Report *r = d->r;
    const struct stripped_vmlist *vmlist = &d->stripped;
    size_t members = r->cluster ? r->cluster->n_members : 0, guests = r->n_guests + vmlist->entries;
    if (guests > INGEST_MAX_GUESTS || r->n_guest_runtime > INGEST_MAX_GUESTS ||
        members > INGEST_MAX_MEMBERS || r->n_storages > INGEST_MAX_STORAGES ||
        r->n_storage_usage > INGEST_MAX_STORAGES) {
        snprintf(why, n, "%zu guests in .vmlist, %zu guest runtimes, %zu members, %zu storages, %zu storage usages",
                 guests, r->n_guest_runtime, members, r->n_storages, r->n_storage_usage);
        return REJECT_LIMITS;
    }
    /* an inventory shared with the node's previous report passed this then */
    bool ok = d->inventory_reused || inventory_strings_ok(r, vmlist);
    for (size_t i = 0; ok && i < r->n_guest_runtime; i++)
        ok = guest_runtime_ok(r->guest_runtime[i]);
    for (size_t i = 0; ok && i < r->n_storage_usage; i++)
        ok = label_ok(r->storage_usage[i]->id);
    if (!ok) {
        snprintf(why, n, "a guest, storage or cluster string is longer than %d bytes (tags %d), "
                 "or a guest has more than %d disks or NICs", INGEST_MAX_LABEL_BYTES, INGEST_MAX_TAGS_BYTES,
                 INGEST_MAX_GUEST_DEVICES);
        return REJECT_LIMITS;
    }
    return -1;
}

/* Checks the decoded report against its header and the limits. Returns -1
 * when fine, else the reason, with a description in why. */
static int check_report(const struct decoded_report *d, const Pvescope__Envelope *env, char *why, size_t n)
{
    const Pvescope__Report *r = d->r;
    if (!r->node || strcmp(r->node, env->node) != 0) {
        snprintf(why, n, "report names node '%.64s'", r->node ? r->node : "");
        return REJECT_INVALID_REPORT;
    }
    /* placements are decoded only when a merge asks: what the wire check
     * could not read (it reads every well-formed report) is refused now */
    if (d->stripped.problem || r->placements) {
        snprintf(why, n, "%s", d->stripped.problem ? d->stripped.problem : "placements: not checked on the wire");
        return REJECT_INVALID_REPORT;
    }
    if (r->n_disks > INGEST_MAX_DEVICES || r->n_netdevs > INGEST_MAX_DEVICES ||
        r->n_thin_pools > INGEST_MAX_DEVICES || r->n_thin_volumes > INGEST_MAX_DEVICES ||
        r->n_collectors > INGEST_MAX_COLLECTORS || (r->agent && r->agent->n_sends > INGEST_MAX_ENDPOINTS)) {
        snprintf(why, n, "%zu disks, %zu netdevs, %zu thin pools, %zu thin volumes, %zu collectors", r->n_disks,
                 r->n_netdevs, r->n_thin_pools, r->n_thin_volumes, r->n_collectors);
        return REJECT_LIMITS;
    }
    int hw = check_hardware(r, why, n);
    if (hw >= 0)
        return hw;
    int inv = check_inventory(d, why, n);
    if (inv >= 0)
        return inv;
    bool ok = true;
    for (size_t i = 0; i < r->n_disks; i++)
        ok = ok && label_ok(r->disks[i]->name) && label_ok(r->disks[i]->dm_name);
    for (size_t i = 0; i < r->n_netdevs; i++)
        ok = ok && label_ok(r->netdevs[i]->name);
    for (size_t i = 0; i < r->n_collectors; i++)
        ok = ok && label_ok(r->collectors[i]->name);
    for (size_t i = 0; i < r->n_thin_pools; i++)
        ok = ok && label_ok(r->thin_pools[i]->dm_name) && label_ok(r->thin_pools[i]->vg) &&
             label_ok(r->thin_pools[i]->lv);
    for (size_t i = 0; i < r->n_thin_volumes; i++)
        ok = ok && label_ok(r->thin_volumes[i]->dm_name) && label_ok(r->thin_volumes[i]->vg) &&
             label_ok(r->thin_volumes[i]->lv) && label_ok(r->thin_volumes[i]->pool_dm_name);
    if (r->agent) {
        ok = ok && label_ok(r->agent->version);
        for (size_t i = 0; i < r->agent->n_sends; i++)
            ok = ok && label_ok(r->agent->sends[i]->endpoint);
    }
    if (!ok) {
        snprintf(why, n, "a label value is longer than %d bytes", INGEST_MAX_LABEL_BYTES);
        return REJECT_LIMITS;
    }
    return -1;
}

/* Beyond this a node's render grows as it goes rather than reserving it:
 * one odd report must not make every later one reserve that much. */
enum { RENDER_HINT_MAX = 1 << 20 };

/* Everything after the envelope has been authenticated. */
static int accept_opened(struct ingest *ig, const Pvescope__Envelope *env, double now_mono)
{
    struct report_origin o = {env->cluster, env->node, env->boot_id ? env->boot_id : "", env->seq,
                              env->sent_unix_ms, NULL};
    if (!store_origin_is_new(ig->store, &o))
        return reject(ig, REJECT_REPLAY, now_mono, "node %s/%s: seq %llu is not newer than the last accepted",
                      env->cluster, env->node, (unsigned long long)env->seq);
    size_t budget = ig->plain.len * DECODE_BUDGET_FACTOR + 4096;
    struct pbdecode_error derr;
    struct node_render *prev = store_latest_render(ig->store, env->cluster, env->node);
    struct decoded_report *d = decoded_report_unpack_next(ig->report_plan, (const uint8_t *)ig->plain.data,
                                                          ig->plain.len, budget, prev ? prev->report : NULL, &derr);
    if (!d) {
        node_render_unref(prev);
        char what[192];
        pbdecode_error_format(&derr, what, sizeof what);
        return reject(ig, REJECT_DECODE, now_mono,
                      "node %s/%s: sealed report of %zu bytes is not a Report (%s; decode budget %zu bytes)",
                      env->cluster, env->node, ig->plain.len, what, budget);
    }
    char why[160];
    int bad = check_report(d, env, why, sizeof why);
    if (bad >= 0) {
        node_render_unref(prev);
        decoded_report_free(d);
        return reject(ig, (enum reject_reason)bad, now_mono, "node %s/%s: %s", env->cluster, env->node, why);
    }
    char *labels = node_labels(env->cluster, env->node);
    struct node_render *nr = render_report_sized(d->r, labels, ig->render_hint);
    free(labels);
    if (nr->text.len > ig->render_hint && nr->text.len < RENDER_HINT_MAX)
        ig->render_hint = nr->text.len;
    nr->report = d;                         /* kept for the scrape-time merge */
    nr->home_guests = merge_prerender_guests(d, env->cluster, &ig->merge, prev);
    node_render_unref(prev);
    o.agent_version = d->r->agent ? d->r->agent->version : NULL;
    bool published = store_publish(ig->store, &o, nr, now_mono);
    if (!published)
        return reject(ig, REJECT_LIMITS, now_mono, "node %s/%s: node limit reached (--ingest.max-nodes or --ingest.max-nodes-per-cluster)", env->cluster, env->node);
    return -1;
}

int ingest_process(struct ingest *ig, const uint8_t *msg, size_t len, double now_mono,
                   int64_t now_unix_ms)
{
    store_count_received(ig->store);
    if (len > ig->max_message_bytes)
        return reject(ig, REJECT_OVERSIZE, now_mono, "%zu bytes, limit %zu (--ingest.max-message-bytes)",
                      len, ig->max_message_bytes);
    bool owned;
    Pvescope__Envelope *env = envelope_decode(ig, msg, len, &owned);
    if (!env)
        return reject(ig, REJECT_DECODE, now_mono, "%zu bytes that are not a pvescope envelope", len);
    int rc;
    int64_t skew_ms = (int64_t)(ig->max_clock_skew * 1000);
    if (env->version != ENVELOPE_VERSION)
        rc = reject(ig, REJECT_VERSION, now_mono, "envelope version %u from node '%.64s'", env->version,
                    name_valid(env->node) ? env->node : "?");
    else if (!name_valid(env->cluster) || !name_valid(env->node) ||
             !valid_boot_id(env->boot_id))
        rc = reject(ig, REJECT_BAD_HEADER, now_mono, "cluster, node or boot id not a valid name");
    else if (!keyring_has_cluster(ig->keyring, env->cluster))
        rc = reject(ig, REJECT_UNKNOWN_CLUSTER, now_mono, "cluster '%s' (node %s) has no key in the key ring",
                    env->cluster, env->node);
    else if (!open_with_cluster_keys(ig, env))
        rc = reject(ig, REJECT_BAD_TAG, now_mono, "node %s/%s: no key of the cluster opens it "
                    "(wrong key, or forged/altered message)", env->cluster, env->node);
    else if (env->sent_unix_ms < now_unix_ms - skew_ms || env->sent_unix_ms > now_unix_ms + skew_ms)
        rc = reject(ig, REJECT_REPLAY, now_mono, "node %s/%s: sent time is %.0f s off this clock "
                    "(limit --ingest.max-clock-skew)", env->cluster, env->node,
                    (double)(env->sent_unix_ms - now_unix_ms) / 1000.0);
    else
        rc = accept_opened(ig, env, now_mono);
    if (owned)
        pvescope__envelope__free_unpacked(env, NULL);
    return rc;
}

bool ingest_listen(struct ingest *ig, const char *url, char *err, size_t errlen)
{
    int sock = nn_socket(AF_SP, NN_PULL);
    if (sock < 0) {
        snprintf(err, errlen, "nn_socket: %s", nn_strerror(nn_errno()));
        return false;
    }
    int ipv4only = 0, tmo = 500;
    int hard = ig->max_message_bytes > (size_t)(INT32_MAX / HARD_LIMIT_FACTOR)
                   ? INT32_MAX : (int)(ig->max_message_bytes * HARD_LIMIT_FACTOR);
    if (nn_setsockopt(sock, NN_SOL_SOCKET, NN_IPV4ONLY, &ipv4only, sizeof ipv4only) < 0 ||
        nn_setsockopt(sock, NN_SOL_SOCKET, NN_RCVMAXSIZE, &hard, sizeof hard) < 0 ||
        nn_setsockopt(sock, NN_SOL_SOCKET, NN_RCVTIMEO, &tmo, sizeof tmo) < 0 || nn_bind(sock, url) < 0) {
        snprintf(err, errlen, "ingest listen %s: %s", url, nn_strerror(nn_errno()));
        nn_close(sock);
        return false;
    }
    ig->sock = sock;
    return true;
}

void ingest_run(struct ingest *ig, atomic_bool *stop)
{
    while (!atomic_load(stop)) {
        void *msg = NULL;
        int n = nn_recv(ig->sock, &msg, NN_MSG, 0);
        store_set_closed_connections(ig->store, nn_get_statistic(ig->sock, NN_STAT_BROKEN_CONNECTIONS));
        if (n < 0) {
            int e = nn_errno();
            if (e == ETIMEDOUT || e == EAGAIN || e == EINTR)
                continue;
            if (e == EBADF || e == ETERM)
                break;
            log_error("ingest: nn_recv: %s", nn_strerror(e));
            continue;
        }
        ingest_process(ig, msg, (size_t)n, clock_monotonic(), clock_unix_ms());
        nn_freemsg(msg);
    }
}

void ingest_close(struct ingest *ig)
{
    if (ig->sock >= 0)
        nn_close(ig->sock);
    ig->sock = -1;
    buf_free(&ig->plain);
    pbdecode_plan_free(ig->report_plan);
    ig->report_plan = NULL;
    pbdecode_plan_free(ig->envelope_plan);
    ig->envelope_plan = NULL;
}
