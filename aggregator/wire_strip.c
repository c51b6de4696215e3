/* wire_strip.c — see wire_strip.h. Protocol buffers wire format: each field
 * is a varint key (number << 3 | wire type) and a payload whose length the
 * wire type gives: 0 varint, 1 eight bytes, 2 varint length and bytes,
 * 5 four bytes. Groups (3, 4) are not used by pvescope.proto: a message with
 * one is left to the decoder. */
#include "wire_strip.h"

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };
enum { REPORT_GUESTS = 21 };
enum { GC_VMID = 1, GC_TYPE = 2, GC_NODE = 3, GC_HAS_CONFIG = 4, GC_HA_STATE = 21 };

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

/* A GuestConfig that only places a guest (see wire_strip.h). */
static bool placement_only(const uint8_t *p, const uint8_t *end)
{
    bool vmid = false, type = false, has_config = false;
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
            if (!skip(&p, end, wt))
                return false;
            type = type || field == GC_TYPE;
        } else {
            return false;                      /* anything else: a configuration, or odd: keep it */
        }
    }
    return vmid && type && !has_config;
}

bool report_strip_placements(const uint8_t *in, size_t len, struct buf *out)
{
    const uint8_t *p = in, *end = in + len;
    size_t dropped = 0;
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
        if ((key >> 3) == REPORT_GUESTS && wt == WT_LEN) {
            uint64_t n;
            const uint8_t *body = payload;
            varint(&body, end, &n);            /* cannot fail: skip() read it */
            if (placement_only(body, p)) {
                dropped++;
                continue;
            }
        }
        buf_append(out, field_start, (size_t)(p - field_start));
    }
    return dropped > 0;
}
