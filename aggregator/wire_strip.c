/* wire_strip.c — see wire_strip.h. Protocol buffers wire format: each field
 * is a varint key (number << 3 | wire type) and a payload whose length the
 * wire type gives: 0 varint, 1 eight bytes, 2 varint length and bytes,
 * 5 four bytes. Groups (3, 4) are not used by pvescope.proto: a message with
 * one is left to the decoder. */
#include "wire_strip.h"

#include <stdlib.h>

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };
enum { REPORT_CLUSTER = 20, REPORT_GUESTS = 21, REPORT_STORAGES = 22, REPORT_PLACEMENTS = 25 };
enum { GC_VMID = 1, GC_TYPE = 2, GC_NODE = 3, GC_HAS_CONFIG = 4, GC_HA_STATE = 21 };
enum { VP_NODES = 1, VP_VMID_DELTA = 2, VP_NODE_TYPE = 3 };
#define MAX_FIELD_NUMBER ((1u << 29) - 1)

static bool varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return true;
    }
    return false;
}

/* Moves *p past one payload of wire type wt. */
static bool skip(const uint8_t **p, const uint8_t *end, unsigned wt)
{
    uint64_t n;
    switch (wt) {
    case WT_VARINT: return varint(p, end, &n);
    case WT_I64: n = 8; break;
    case WT_I32: n = 4; break;
    case WT_LEN:
        if (!varint(p, end, &n))
            return false;
        break;
    default: return false;
    }
    if (n > (uint64_t)(end - *p))
        return false;
    *p += n;
    return true;
}

static size_t max_size(size_t a, size_t b) { return a > b ? a : b; }

/* A GuestConfig that only places a guest (see wire_strip.h); *longest
 * becomes the length of its longest string. */
static bool placement_only(const uint8_t *p, const uint8_t *end, size_t *longest)
{
    bool vmid = false, type = false, has_config = false;
    *longest = 0;
    while (p < end) {
        uint64_t key, v;
        if (!varint(&p, end, &key))
            return false;
        unsigned field = (unsigned)(key >> 3), wt = (unsigned)(key & 7);
        if ((field == GC_VMID || field == GC_HAS_CONFIG) && wt == WT_VARINT) {
            if (!varint(&p, end, &v))
                return false;
            vmid = vmid || field == GC_VMID;
            if (field == GC_HAS_CONFIG)
                has_config = v != 0;           /* the last occurrence counts */
        } else if ((field == GC_TYPE || field == GC_NODE || field == GC_HA_STATE) && wt == WT_LEN) {
            if (!varint(&p, end, &v) || v > (uint64_t)(end - p))
                return false;
            p += v;
            *longest = max_size(*longest, (size_t)v);
            type = type || field == GC_TYPE;
        } else {
            return false;                      /* anything else: a configuration, or odd: keep it */
        }
    }
    return vmid && type && !has_config;
}

/* Pass 1 over a VmPlacements body: counts its nodes and measures their
 * names, and checks every field's shape. NULL when fine, else the problem. */
static const char *placement_nodes(const uint8_t *p, const uint8_t *end, size_t *n_nodes, size_t *longest)
{
    while (p < end) {
        uint64_t key, n;
        if (!varint(&p, end, &key))
            return "placements: not a well-formed message";
        uint64_t field = key >> 3;
        unsigned wt = (unsigned)(key & 7);
        if (field == 0 || field > MAX_FIELD_NUMBER)
            return "placements: not a well-formed message";
        if (field == VP_NODES && wt == WT_LEN) {
            if (!varint(&p, end, &n) || n > (uint64_t)(end - p))
                return "placements: not a well-formed message";
            p += n;
            (*n_nodes)++;
            *longest = max_size(*longest, (size_t)n);
            continue;
        }
        if ((field == VP_VMID_DELTA || field == VP_NODE_TYPE) && wt != WT_VARINT && wt != WT_LEN)
            return "placements: vmid_delta or node_type of the wrong wire type";
        if (!skip(&p, end, wt))
            return "placements: not a well-formed message";
    }
    return NULL;
}

/* What the vmid_delta and node_type fields held so far: protobuf-c
 * accepts them in several runs, packed or as plain varints. */
struct placement_values {
    size_t n_vmids, n_node_types, n_nodes;
    uint64_t vmid;                 /* sum of the deltas so far (stops at the first past 2^32-1) */
};

/* Adds value v of field (VP_VMID_DELTA or VP_NODE_TYPE); NULL when
 * pvescope.proto allows it, else the problem. */
static const char *placement_value(struct placement_values *pv, unsigned field, uint64_t v)
{
    if (v > UINT32_MAX)
        return "placements: a value beyond 32 bits";
    if (field == VP_NODE_TYPE) {
        pv->n_node_types++;
        return (v >> 1) < pv->n_nodes ? NULL : "placements: node index outside nodes";
    }
    pv->n_vmids++;
    pv->vmid += v;
    if (v == 0)
        return "placements: a vmid delta of 0 (vmid 0, or vmids not increasing)";
    return pv->vmid > UINT32_MAX ? "placements: vmid beyond 2^32-1" : NULL;
}

/* Adds the values of one field occurrence at *p (its key read): one plain
 * varint (wt 0) or a packed run (wt 2); moves *p past it. */
static const char *placement_field_values(struct placement_values *pv, unsigned field, unsigned wt,
                                          const uint8_t **p, const uint8_t *end)
{
    uint64_t v, n;
    if (wt == WT_VARINT)
        return varint(p, end, &v) ? placement_value(pv, field, v) : "placements: not a well-formed message";
    if (!varint(p, end, &n) || n > (uint64_t)(end - *p))
        return "placements: not a well-formed message";
    const uint8_t *run_end = *p + n;
    while (*p < run_end) {
        if (!varint(p, run_end, &v))
            return "placements: a packed run that ends inside a value";
        const char *problem = placement_value(pv, field, v);
        if (problem)
            return problem;
    }
    return NULL;
}

/* Checks a Report.placements body as protobuf-c would decode it and as
 * pvescope.proto defines it, without decoding it; counts its entries. */
static void scan_placements(const uint8_t *p, const uint8_t *end, struct stripped_vmlist *found)
{
    struct placement_values pv = {0};
    const char *problem = placement_nodes(p, end, &pv.n_nodes, &found->longest_string);
    while (!problem && p < end) {
        uint64_t key;
        varint(&p, end, &key);                 /* cannot fail: the first pass read it */
        uint64_t field = key >> 3;
        unsigned wt = (unsigned)(key & 7);
        if (field == VP_VMID_DELTA || field == VP_NODE_TYPE)
            problem = placement_field_values(&pv, (unsigned)field, wt, &p, end);
        else
            skip(&p, end, wt);
    }
    if (!problem && pv.n_vmids != pv.n_node_types)
        problem = "placements: vmid_delta and node_type differ in length";
    found->entries += pv.n_vmids;
    if (!found->problem)
        found->problem = problem;
}

/* Whether the Report field at payload..end is one the stripped decode goes
 * without; what it held is added to found. */
static bool strippable(uint64_t field, const uint8_t *payload, const uint8_t *end, struct stripped_vmlist *found,
                       bool *seen_placements)
{
    uint64_t n;
    const uint8_t *body = payload;
    varint(&body, end, &n);                    /* cannot fail: skip() read it */
    if (field == REPORT_PLACEMENTS) {
        if (*seen_placements && !found->problem)
            found->problem = "placements: Report.placements sent more than once";
        *seen_placements = true;
        scan_placements(body, end, found);
        return true;
    }
    size_t longest;
    if (field != REPORT_GUESTS || !placement_only(body, end, &longest))
        return false;
    found->entries++;
    found->longest_string = max_size(found->longest_string, longest);
    return true;
}

bool report_strip_placements(const uint8_t *in, size_t len, struct buf *out, struct stripped_vmlist *found)
{
    const uint8_t *p = in, *end = in + len;
    bool dropped = false, seen_placements = false;
    *found = (struct stripped_vmlist){0, 0, NULL};
    buf_reset(out);
    buf_reserve(out, len);
    while (p < end) {
        const uint8_t *field_start = p;
        uint64_t key;
        if (!varint(&p, end, &key))
            return false;
        unsigned wt = (unsigned)(key & 7);
        const uint8_t *payload = p;
        if (!skip(&p, end, wt))
            return false;
        if (wt == WT_LEN && strippable(key >> 3, payload, p, found, &seen_placements)) {
            dropped = true;
            continue;
        }
        buf_append(out, field_start, (size_t)(p - field_start));
    }
    return dropped;
}

static bool inventory_field(uint64_t field)
{
    return field == REPORT_CLUSTER || field == REPORT_GUESTS || field == REPORT_STORAGES ||
           field == REPORT_PLACEMENTS;
}

/* Adds in[off..off+len) to spans, joined to the last span when adjacent. */
static void add_span(struct inventory_spans *s, size_t off, size_t len)
{
    s->total += len;
    if (s->n && s->spans[s->n - 1].off + s->spans[s->n - 1].len == off) {
        s->spans[s->n - 1].len += len;
        return;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 4;
        struct wire_span *grown = realloc(s->spans, cap * sizeof *grown);
        if (!grown)
            abort();
        s->spans = grown;
        s->cap = cap;
    }
    s->spans[s->n++] = (struct wire_span){off, len};
}

bool report_split_inventory(const uint8_t *in, size_t len, struct inventory_spans *spans, struct buf *rest)
{
    const uint8_t *p = in, *end = in + len;
    spans->n = spans->total = 0;
    buf_reset(rest);
    buf_reserve(rest, len);
    while (p < end) {
        const uint8_t *field_start = p;
        uint64_t key;
        if (!varint(&p, end, &key) || key >> 3 == 0 || key >> 3 > MAX_FIELD_NUMBER || !skip(&p, end, key & 7))
            return false;
        if (inventory_field(key >> 3))
            add_span(spans, (size_t)(field_start - in), (size_t)(p - field_start));
        else
            buf_append(rest, field_start, (size_t)(p - field_start));
    }
    return true;
}
