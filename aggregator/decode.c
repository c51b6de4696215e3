/* decode.c — see decode.h. */
#include "decode.h"

#include "placements.h"
#include "wire_strip.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN 16
/* Fixed-size blocks: a decoded report is kept for as long as its node's
 * render, so what a block leaves unused is resident for that long; 64 KiB
 * wastes 32 KiB per node on average, where doubling wasted half. */
#define BLOCK (64u << 10)

struct decode_block {
    struct decode_block *next;
    size_t used, cap;
    _Alignas(ALIGN) char data[];
};

/* A new block of cap bytes, charged to the budget, linked after the
 * current block (keep_current) or as the new current one; NULL over budget. */
static struct decode_block *new_block(struct decoded_report *d, size_t cap, bool keep_current)
{
    if (cap > d->budget_left)
        return NULL;
    struct decode_block *b = malloc(sizeof *b + cap);
    if (!b)
        return NULL;
    d->budget_left -= cap;
    b->used = 0;
    b->cap = cap;
    if (keep_current && d->blocks) {
        b->next = d->blocks->next;
        d->blocks->next = b;
    } else {
        b->next = d->blocks;
        d->blocks = b;
    }
    return b;
}

static void *block_alloc(void *data, size_t n)
{
    struct decoded_report *d = data;
    if (n > SIZE_MAX - ALIGN)
        return NULL;
    n = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    struct decode_block *b = d->blocks;
    if (!b || b->cap - b->used < n) {
        /* a big array gets a block of its own size, and the current block
         * stays open for what follows; the budget's last bytes likewise */
        bool own = n > BLOCK / 4 || d->budget_left < BLOCK;
        b = new_block(d, own ? n : BLOCK, own);
    }
    if (!b)
        return NULL;
    void *p = b->data + b->used;
    b->used += n;
    return p;
}

/* Single frees are not needed: everything goes with the blocks. */
static void block_free(void *data, void *ptr)
{
    (void)data;
    (void)ptr;
}

static void free_blocks(struct decoded_report *d)
{
    for (struct decode_block *b = d->blocks, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    d->blocks = NULL;
}

/* Sort keys: vmid, then position in the report, so lookups find the first. */
struct vmid_pos {
    uint32_t vmid;
    uint32_t pos;
    const void *msg;
};

static int cmp_vmid_pos(const void *a, const void *b)
{
    const struct vmid_pos *x = a, *y = b;
    if (x->vmid != y->vmid)
        return x->vmid < y->vmid ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Sorts n entries of tmp into a new array of message pointers from d's blocks. */
static const void **sorted_msgs(struct decoded_report *d, struct vmid_pos *tmp, size_t n)
{
    size_t sorted = 1;                         /* agents send guests in vmid order: check first */
    while (sorted < n && cmp_vmid_pos(&tmp[sorted - 1], &tmp[sorted]) < 0)
        sorted++;
    if (sorted < n)
        qsort(tmp, n, sizeof *tmp, cmp_vmid_pos);
    const void **out = block_alloc(d, (n ? n : 1) * sizeof *out);
    for (size_t i = 0; out && i < n; i++)
        out[i] = tmp[i].msg;
    return out;
}

static void build_indexes(struct decoded_report *d)
{
    const Pvescope__Report *r = d->r;
    size_t n = r->n_guests > r->n_guest_runtime ? r->n_guests : r->n_guest_runtime;
    if (n > UINT32_MAX)
        return;
    struct vmid_pos *tmp = malloc((n ? n : 1) * sizeof *tmp);
    if (!tmp)
        return;
    size_t k = 0;
    for (size_t i = 0; i < r->n_guests; i++)
        if (r->guests[i]->has_config)
            tmp[k++] = (struct vmid_pos){r->guests[i]->vmid, (uint32_t)i, r->guests[i]};
    d->configs = (const Pvescope__GuestConfig **)sorted_msgs(d, tmp, k);
    d->n_configs = d->configs ? k : 0;
    for (size_t i = 0; i < r->n_guest_runtime; i++)
        tmp[i] = (struct vmid_pos){r->guest_runtime[i]->vmid, (uint32_t)i, r->guest_runtime[i]};
    d->runtimes = (const Pvescope__GuestRuntime **)sorted_msgs(d, tmp, r->n_guest_runtime);
    d->n_runtimes = d->runtimes ? r->n_guest_runtime : 0;
    free(tmp);
}

/* Index of the first entry with vmid in a vmid-sorted array (n if none). */
#define LOWER_BOUND(arr, n, key, out) do {                 \
        size_t lo_ = 0, hi_ = (n);                         \
        while (lo_ < hi_) {                                \
            size_t mid_ = lo_ + (hi_ - lo_) / 2;           \
            if ((arr)[mid_]->vmid < (key)) lo_ = mid_ + 1; \
            else hi_ = mid_;                               \
        }                                                  \
        (out) = lo_;                                       \
    } while (0)

const Pvescope__GuestConfig *decoded_config(const struct decoded_report *d, uint32_t vmid)
{
    const Pvescope__Report *r = d->r;
    if (!d->configs) {
        for (size_t i = 0; i < r->n_guests; i++)
            if (r->guests[i]->vmid == vmid && r->guests[i]->has_config)
                return r->guests[i];
        return NULL;
    }
    size_t i;
    LOWER_BOUND(d->configs, d->n_configs, vmid, i);
    return i < d->n_configs && d->configs[i]->vmid == vmid ? d->configs[i] : NULL;
}

const Pvescope__GuestRuntime *decoded_runtime(const struct decoded_report *d, uint32_t vmid, const char *type)
{
    const Pvescope__Report *r = d->r;
    if (!d->runtimes) {
        for (size_t i = 0; i < r->n_guest_runtime; i++)
            if (r->guest_runtime[i]->vmid == vmid && strcmp(r->guest_runtime[i]->type, type) == 0)
                return r->guest_runtime[i];
        return NULL;
    }
    size_t i;
    LOWER_BOUND(d->runtimes, d->n_runtimes, vmid, i);
    for (; i < d->n_runtimes && d->runtimes[i]->vmid == vmid; i++)
        if (strcmp(d->runtimes[i]->type, type) == 0)
            return d->runtimes[i];
    return NULL;
}

/* Decodes data as it is, with plan or (NULL) protobuf-c. */
static struct decoded_report *unpack_as_is(const struct pbdecode_plan *plan, const uint8_t *data, size_t len,
                                           size_t budget, struct pbdecode_error *err)
{
    struct decoded_report *d = calloc(1, sizeof *d);
    if (!d) {
        if (err)
            *err = (struct pbdecode_error){PBDECODE_NO_MEMORY, 0, pvescope__report__descriptor.name, NULL};
        return NULL;
    }
    atomic_init(&d->refs, 1);
    d->budget_left = budget;
    d->alloc = (ProtobufCAllocator){block_alloc, block_free, d};
    d->plan = plan;
    if (plan) {
        d->r = (Pvescope__Report *)pbdecode_unpack(plan, &d->alloc, data, len, err);
    } else {
        d->r = pvescope__report__unpack(&d->alloc, len, data);
        if (!d->r && err)
            *err = (struct pbdecode_error){PBDECODE_TRUNCATED, 0, pvescope__report__descriptor.name, NULL};
    }
    if (!d->r) {
        free_blocks(d);
        free(d);
        return NULL;
    }
    build_indexes(d);
    return d;
}

/* Decodes data whole, without its placement-only entries (wire_strip.h). */
static struct decoded_report *unpack_stripped(const struct pbdecode_plan *plan, const uint8_t *data, size_t len,
                                              size_t budget, struct pbdecode_error *err)
{
    struct buf stripped = BUF_INIT;
    struct stripped_vmlist found;
    if (!report_strip_placements(data, len, &stripped, &found)) {
        buf_free(&stripped);
        return unpack_as_is(plan, data, len, budget, err);
    }
    struct decoded_report *d = unpack_as_is(plan, (const uint8_t *)stripped.data, stripped.len, budget, err);
    buf_free(&stripped);
    if (!d)
        return NULL;
    d->wire = malloc(len ? len : 1);
    if (!d->wire) {
        if (err)
            *err = (struct pbdecode_error){PBDECODE_NO_MEMORY, 0, pvescope__report__descriptor.name, NULL};
        decoded_report_free(d);
        return NULL;
    }
    memcpy(d->wire, data, len);
    d->wire_len = len;
    d->stripped = found;
    d->budget = budget;
    pthread_mutex_init(&d->full_lock, NULL);
    return d;
}

/* The whole report in d's kept bytes, its compact placements expanded into
 * r->guests (pvescope.proto VmPlacements gives the order), so the merge sees
 * the .vmlist as old agents sent it. NULL when it does not decode. */
static struct decoded_report *decode_whole(const struct decoded_report *d)
{
    struct decoded_report *full = unpack_as_is(d->plan, d->wire, d->wire_len, d->budget, NULL);
    if (!full || !full->r->placements)
        return full;
    Pvescope__Report *r = full->r;
    size_t n = r->placements->n_vmid_delta;
    /* Outside the decode budget: the entries are ~2 wire bytes and ~200
     * struct bytes each, and ingest has already bounded their number. */
    full->budget_left += n * sizeof(Pvescope__GuestConfig) + (r->n_guests + n) * sizeof(r->guests[0]) + ALIGN;
    if (!placements_expand(r->guests, r->n_guests, r->placements, &full->alloc, &r->guests, &r->n_guests)) {
        decoded_report_free(full);
        return NULL;
    }
    return full;
}

static size_t block_bytes(const struct decoded_report *d)
{
    size_t n = 0;
    for (const struct decode_block *b = d->blocks; b; b = b->next)
        n += b->cap;
    return n;
}

/* True when in's spans are, byte for byte, the sections inv was decoded from. */
static bool same_sections(const struct decoded_report *inv, const uint8_t *in, const struct inventory_spans *s)
{
    if (!inv || inv->sections_len != s->total)
        return false;
    size_t at = 0;
    for (size_t i = 0; i < s->n; at += s->spans[i].len, i++)
        if (memcmp(inv->sections + at, in + s->spans[i].off, s->spans[i].len) != 0)
            return false;
    return true;
}

/* A new inventory: the spans' bytes gathered and decoded. */
static struct decoded_report *unpack_inventory(const struct pbdecode_plan *plan, const uint8_t *in,
                                               const struct inventory_spans *s, size_t budget)
{
    uint8_t *sections = malloc(s->total);
    if (!sections)
        return NULL;
    size_t at = 0;
    for (size_t i = 0; i < s->n; at += s->spans[i].len, i++)
        memcpy(sections + at, in + s->spans[i].off, s->spans[i].len);
    struct decoded_report *inv = unpack_stripped(plan, sections, s->total, budget, NULL);
    if (!inv) {
        free(sections);
        return NULL;
    }
    if (inv->wire) {                           /* the strip kept the same bytes: one copy is enough */
        free(sections);
        sections = inv->wire;
    }
    inv->sections = sections;
    inv->sections_len = s->total;
    return inv;
}

/* Points d's report at inv's sections; d takes over the reference to inv. */
static void attach_inventory(struct decoded_report *d, struct decoded_report *inv)
{
    Pvescope__Report *r = d->r;
    const Pvescope__Report *ir = inv->r;
    r->cluster = ir->cluster;
    r->n_guests = ir->n_guests;
    r->guests = ir->guests;
    r->n_storages = ir->n_storages;
    r->storages = ir->storages;
    r->placements = ir->placements;
    d->configs = inv->configs;
    d->n_configs = inv->n_configs;
    d->stripped = inv->stripped;
    d->inventory = inv;
}

/* Decodes the inventory sections (or shares prev's) and the rest apart.
 * NULL when either does not decode: the caller then decodes data whole, so
 * the error it reports has the offsets of the report as sent. */
static struct decoded_report *unpack_split(const struct pbdecode_plan *plan, const uint8_t *data, size_t budget,
                                           const struct inventory_spans *s, const struct buf *rest,
                                           const struct decoded_report *prev)
{
    struct decoded_report *inv = prev ? prev->inventory : NULL;
    bool reused = same_sections(inv, data, s);
    if (reused)
        atomic_fetch_add_explicit(&inv->refs, 1, memory_order_relaxed);
    else if (!(inv = unpack_inventory(plan, data, s, budget)))
        return NULL;
    size_t used = block_bytes(inv);
    struct decoded_report *d = used < budget
        ? unpack_as_is(plan, (const uint8_t *)rest->data, rest->len, budget - used, NULL) : NULL;
    if (!d) {
        decoded_report_free(inv);
        return NULL;
    }
    attach_inventory(d, inv);
    d->inventory_reused = reused;
    return d;
}

struct decoded_report *decoded_report_unpack_next(const struct pbdecode_plan *plan, const uint8_t *data,
                                                  size_t len, size_t budget, const struct decoded_report *prev,
                                                  struct pbdecode_error *err)
{
    struct inventory_spans s = {0};
    struct buf rest = BUF_INIT;
    struct decoded_report *d = NULL;
    if (report_split_inventory(data, len, &s, &rest) && s.total > 0)
        d = unpack_split(plan, data, budget, &s, &rest, prev);
    free(s.spans);
    buf_free(&rest);
    return d ? d : unpack_stripped(plan, data, len, budget, err);
}

struct decoded_report *decoded_report_unpack(const struct pbdecode_plan *plan, const uint8_t *data, size_t len,
                                             size_t budget, struct pbdecode_error *err)
{
    return decoded_report_unpack_next(plan, data, len, budget, NULL, err);
}

const Pvescope__Report *decoded_vmlist_report(struct decoded_report *d)
{
    if (d->inventory)
        return decoded_vmlist_report(d->inventory);
    if (!d->wire)
        return d->r;
    pthread_mutex_lock(&d->full_lock);
    if (!d->full && !d->full_failed) {
        d->full = decode_whole(d);
        d->full_failed = !d->full;
    }
    pthread_mutex_unlock(&d->full_lock);
    return d->full ? d->full->r : d->r;
}

size_t decoded_report_bytes(const struct decoded_report *d)
{
    size_t own = d->wire_len + (d->sections != d->wire ? d->sections_len : 0) + block_bytes(d);
    return own + (d->full ? decoded_report_bytes(d->full) : 0) +
           (d->inventory ? decoded_report_bytes(d->inventory) : 0);
}

void decoded_report_free(struct decoded_report *d)
{
    if (!d || atomic_fetch_sub_explicit(&d->refs, 1, memory_order_acq_rel) != 1)
        return;
    decoded_report_free(d->inventory);
    if (d->sections != d->wire)
        free(d->sections);
    if (d->wire) {
        decoded_report_free(d->full);
        free(d->wire);
        pthread_mutex_destroy(&d->full_lock);
    }
    free_blocks(d);
    free(d);
}
