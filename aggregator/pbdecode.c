/* pbdecode.c — see pbdecode.h. */
#include "pbdecode.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "pbdecode copies fixed-width values as they are on the wire: little-endian hosts only"
#endif

/* Field numbers below this are found through the dense table; larger ones
 * (none in our schema) through protobuf-c's own lookup. */
#define DENSE_LIMIT 1024u
#define MAX_REQUIRED 64
#define MAX_REPEATED 32
#define MAX_FIELD_NUMBER 536870911u     /* 2^29 - 1 */

enum wire { WIRE_VARINT = 0, WIRE_64BIT = 1, WIRE_LEN = 2, WIRE_32BIT = 5 };

/* How a value is read and stored: one case per storage form. */
enum kind { K_VARINT32, K_VARINT64, K_SINT32, K_SINT64, K_BOOL, K_FIXED32, K_FIXED64, K_STRING, K_BYTES, K_MESSAGE };

struct message_plan;

struct field_plan {
    uint32_t offset;                /* of the value, or of the array pointer */
    uint32_t quantifier_offset;     /* has_ flag (singular) or n_ count (repeated); 0 = none */
    uint64_t required_bit;          /* this field's bit in message_plan.required_mask, or 0 */
    uint8_t kind;
    uint8_t wire;                   /* wire type of one unpacked value */
    uint8_t repeated;
    uint8_t packable;               /* a repeated scalar: LEN means a packed run */
    uint8_t repeated_slot;          /* index of its capacity in the decode's cap[] */
    uint8_t elem_size;              /* bytes per array element */
    const ProtobufCFieldDescriptor *desc;
    const struct message_plan *sub; /* K_MESSAGE */
};

/* What the decode loop does on a tag: the singular scalars inline, the rest
 * (repeated, messages, unknown fields, wrong wire types) in read_field(). */
enum op { OP_OTHER = 0, OP_VARINT32, OP_VARINT64, OP_SINT32, OP_SINT64, OP_BOOL, OP_FIXED32, OP_FIXED64,
          OP_STRING, OP_BYTES };

struct tag_entry {
    const struct field_plan *f;
    uint8_t op;
};

struct message_plan {
    const ProtobufCMessageDescriptor *desc;
    uint32_t n_dense;               /* dense[] covers field numbers 0 .. n_dense-1 */
    uint16_t *dense;                /* field number -> index + 1 into fields, 0 = unknown */
    uint32_t n_tags;                /* tags[] covers tags (number << 3 | wire) 0 .. n_tags-1 */
    struct tag_entry *tags;
    struct field_plan *fields;      /* in descriptor order */
    uint64_t required_mask;
    unsigned n_repeated;
    uint16_t repeated[MAX_REPEATED];    /* indexes into fields of the repeated ones */
};

struct pbdecode_plan {
    struct message_plan *messages;
    size_t n_messages;
};

/* ---- plan ---------------------------------------------------------------- */

static bool plan_fail(char *err, size_t n, const char *why, const ProtobufCMessageDescriptor *d)
{
    snprintf(err, n, "pbdecode: %s in %s", why, d ? d->name : "(root)");
    return false;
}

/* Index of d in the plan's message list, appending it when new; -1 on OOM. */
static long message_index(struct pbdecode_plan *p, size_t *cap, const ProtobufCMessageDescriptor *d)
{
    for (size_t i = 0; i < p->n_messages; i++)
        if (p->messages[i].desc == d)
            return (long)i;
    if (p->n_messages == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        struct message_plan *m = realloc(p->messages, ncap * sizeof *m);
        if (!m)
            return -1;
        p->messages = m;
        *cap = ncap;
    }
    memset(&p->messages[p->n_messages], 0, sizeof p->messages[0]);
    p->messages[p->n_messages].desc = d;
    return (long)p->n_messages++;
}

/* Storage kind, wire type and array element size of a field type; false for
 * types protobuf-c does not define. */
static bool kind_of(ProtobufCType t, struct field_plan *f)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_ENUM:
        *f = (struct field_plan){.kind = K_VARINT32, .wire = WIRE_VARINT, .elem_size = 4}; break;
    case PROTOBUF_C_TYPE_SINT32:
        *f = (struct field_plan){.kind = K_SINT32, .wire = WIRE_VARINT, .elem_size = 4}; break;
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_UINT64:
        *f = (struct field_plan){.kind = K_VARINT64, .wire = WIRE_VARINT, .elem_size = 8}; break;
    case PROTOBUF_C_TYPE_SINT64:
        *f = (struct field_plan){.kind = K_SINT64, .wire = WIRE_VARINT, .elem_size = 8}; break;
    case PROTOBUF_C_TYPE_BOOL:
        *f = (struct field_plan){.kind = K_BOOL, .wire = WIRE_VARINT, .elem_size = sizeof(protobuf_c_boolean)}; break;
    case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_SFIXED32: case PROTOBUF_C_TYPE_FLOAT:
        *f = (struct field_plan){.kind = K_FIXED32, .wire = WIRE_32BIT, .elem_size = 4}; break;
    case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_SFIXED64: case PROTOBUF_C_TYPE_DOUBLE:
        *f = (struct field_plan){.kind = K_FIXED64, .wire = WIRE_64BIT, .elem_size = 8}; break;
    case PROTOBUF_C_TYPE_STRING:
        *f = (struct field_plan){.kind = K_STRING, .wire = WIRE_LEN, .elem_size = sizeof(char *)}; break;
    case PROTOBUF_C_TYPE_BYTES:
        *f = (struct field_plan){.kind = K_BYTES, .wire = WIRE_LEN, .elem_size = sizeof(ProtobufCBinaryData)}; break;
    case PROTOBUF_C_TYPE_MESSAGE:
        *f = (struct field_plan){.kind = K_MESSAGE, .wire = WIRE_LEN, .elem_size = sizeof(void *)}; break;
    default:
        return false;
    }
    return true;
}

/* Fills messages[mi]'s field table, appending the message types its fields
 * embed to the plan (they are planned later by the caller's loop). */
static bool plan_message(struct pbdecode_plan *p, size_t *cap, size_t mi, char *err, size_t errlen)
{
    const ProtobufCMessageDescriptor *d = p->messages[mi].desc;
    if (!d->message_init)
        return plan_fail(err, errlen, "no message_init", d);
    if (d->n_fields >= UINT16_MAX)
        return plan_fail(err, errlen, "too many fields", d);
    uint32_t max_id = 0;
    for (unsigned i = 0; i < d->n_fields; i++)
        if (d->fields[i].id > 0 && (uint32_t)d->fields[i].id > max_id)
            max_id = (uint32_t)d->fields[i].id;
    uint32_t n_dense = max_id + 1 < DENSE_LIMIT ? max_id + 1 : DENSE_LIMIT;
    struct field_plan *fields = calloc(d->n_fields ? d->n_fields : 1, sizeof *fields);
    uint16_t *dense = calloc(n_dense, sizeof *dense);
    struct message_plan *m = &p->messages[mi];
    m->fields = fields;         /* owned by the plan from here, even on failure */
    m->dense = dense;
    if (!fields || !dense)
        return plan_fail(err, errlen, "out of memory", d);
    m->n_dense = n_dense;
    unsigned n_required = 0;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[i];
        struct field_plan *f = &fields[i];
        if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
            return plan_fail(err, errlen, "oneof fields are not supported", d);
        if (fd->id <= 0 || !kind_of(fd->type, f))
            return plan_fail(err, errlen, "a field has an invalid number or type", d);
        f->desc = fd;
        f->offset = fd->offset;
        f->quantifier_offset = fd->quantifier_offset;
        f->repeated = fd->label == PROTOBUF_C_LABEL_REPEATED;
        f->packable = f->repeated && f->kind != K_STRING && f->kind != K_BYTES && f->kind != K_MESSAGE;
        if (f->repeated) {
            if (m->n_repeated == MAX_REPEATED)
                return plan_fail(err, errlen, "too many repeated fields", d);
            f->repeated_slot = (uint8_t)m->n_repeated;
            m->repeated[m->n_repeated++] = (uint16_t)i;
        }
        /* protobuf-c lets a required field with a default be absent */
        if (fd->label == PROTOBUF_C_LABEL_REQUIRED && !fd->default_value) {
            if (n_required == MAX_REQUIRED)
                return plan_fail(err, errlen, "too many required fields", d);
            f->required_bit = 1ull << n_required++;
            m->required_mask |= f->required_bit;
        }
        if ((uint32_t)fd->id < n_dense)
            dense[fd->id] = (uint16_t)(i + 1);
        if (f->kind == K_MESSAGE) {
            long si = message_index(p, cap, fd->descriptor);
            if (si < 0)
                return plan_fail(err, errlen, "out of memory", d);
            m = &p->messages[mi];               /* the list may have moved */
            fields[i].sub = (const struct message_plan *)(intptr_t)si;   /* an index until all exist */
        }
    }
    return true;
}

/* The tag table of m: each singular scalar field's tag with its own wire
 * type maps to the op that stores it; every other tag is OP_OTHER. */
static bool plan_tags(struct message_plan *m)
{
    static const uint8_t op_of_kind[] = {
        [K_VARINT32] = OP_VARINT32, [K_VARINT64] = OP_VARINT64, [K_SINT32] = OP_SINT32, [K_SINT64] = OP_SINT64,
        [K_BOOL] = OP_BOOL, [K_FIXED32] = OP_FIXED32, [K_FIXED64] = OP_FIXED64, [K_STRING] = OP_STRING,
        [K_BYTES] = OP_BYTES, [K_MESSAGE] = OP_OTHER,
    };
    m->n_tags = m->n_dense << 3;
    m->tags = calloc(m->n_tags, sizeof *m->tags);
    if (!m->tags)
        return false;
    for (uint32_t number = 1; number < m->n_dense; number++) {
        if (!m->dense[number])
            continue;
        const struct field_plan *f = &m->fields[m->dense[number] - 1];
        for (unsigned wire = 0; wire < 8; wire++)
            m->tags[number << 3 | wire].f = f;
        if (!f->repeated)
            m->tags[number << 3 | f->wire].op = op_of_kind[f->kind];
    }
    return true;
}

void pbdecode_plan_free(struct pbdecode_plan *plan)
{
    if (!plan)
        return;
    for (size_t i = 0; i < plan->n_messages; i++) {
        free(plan->messages[i].fields);
        free(plan->messages[i].dense);
        free(plan->messages[i].tags);
    }
    free(plan->messages);
    free(plan);
}

struct pbdecode_plan *pbdecode_plan_new(const ProtobufCMessageDescriptor *root, char *err, size_t errlen)
{
    struct pbdecode_plan *p = calloc(1, sizeof *p);
    size_t cap = 0;
    if (!p || message_index(p, &cap, root) < 0) {
        plan_fail(err, errlen, "out of memory", root);
        free(p);
        return NULL;
    }
    for (size_t mi = 0; mi < p->n_messages; mi++)   /* grows as embedded types are found */
        if (!plan_message(p, &cap, mi, err, errlen)) {
            pbdecode_plan_free(p);
            return NULL;
        }
    /* the list no longer moves: turn sub-message indexes into pointers */
    for (size_t mi = 0; mi < p->n_messages; mi++)
        for (unsigned i = 0; i < p->messages[mi].desc->n_fields; i++) {
            struct field_plan *f = &p->messages[mi].fields[i];
            if (f->kind == K_MESSAGE)
                f->sub = &p->messages[(intptr_t)f->sub];
        }
    for (size_t mi = 0; mi < p->n_messages; mi++)
        if (!plan_tags(&p->messages[mi])) {
            plan_fail(err, errlen, "out of memory", p->messages[mi].desc);
            pbdecode_plan_free(p);
            return NULL;
        }
    return p;
}

/* ---- decoding ------------------------------------------------------------ */

/* Strings and bytes are carved from chunks of this size (one allocator call
 * per chunk, not per string); longer ones are allocated on their own. */
#define STRING_CHUNK 4096u

struct decoder {
    ProtobufCAllocator *alloc;
    const uint8_t *base;            /* for error offsets */
    struct pbdecode_error *err;
    uint8_t *chunk, *chunk_end;     /* room left for strings */
    bool borrow_bytes;              /* bytes fields point into the input */
};

static bool fail(struct decoder *d, enum pbdecode_status s, const uint8_t *at, const struct message_plan *m,
                 const struct field_plan *f)
{
    if (d->err)
        *d->err = (struct pbdecode_error){s, (size_t)(at - d->base), m->desc->name, f ? f->desc : NULL};
    return false;
}

/* A varint of at most max bytes at p (p < end); the byte after it, or NULL
 * with *why set. Bits beyond 64 are dropped, as protobuf-c does. */
static const uint8_t *varint_slow(const uint8_t *p, const uint8_t *end, unsigned max, uint64_t *v,
                                  enum pbdecode_status *why)
{
    uint64_t x = 0;
    if (max == 10 && end - p >= 10) {       /* the common case: no bounds check per byte */
        for (unsigned i = 0; i < 10; i++) {
            x |= (uint64_t)(p[i] & 0x7f) << (7 * i < 64 ? 7 * i : 63);
            if (!(p[i] & 0x80)) {
                *v = x;
                return p + i + 1;
            }
        }
        *why = PBDECODE_BAD_VARINT;
        return NULL;
    }
    for (unsigned i = 0; i < max; i++) {
        if (p + i >= end) {
            *why = PBDECODE_TRUNCATED;
            return NULL;
        }
        uint8_t b = p[i];
        x |= (uint64_t)(b & 0x7f) << (7 * i < 64 ? 7 * i : 63);
        if (!(b & 0x80)) {
            *v = x;
            return p + i + 1;
        }
    }
    *why = PBDECODE_BAD_VARINT;
    return NULL;
}

/* The one-byte case inline: most values, tags and lengths of a report. */
static inline const uint8_t *varint(const uint8_t *p, const uint8_t *end, unsigned max, uint64_t *v,
                                    enum pbdecode_status *why)
{
    if (p < end && *p < 0x80) {
        *v = *p;
        return p + 1;
    }
    return varint_slow(p, end, max, v, why);
}

/* A length prefix at p and the bytes it covers: [*start, *start + *len). */
static const uint8_t *length_prefixed(const uint8_t *p, const uint8_t *end, const uint8_t **start, size_t *len,
                                      enum pbdecode_status *why)
{
    uint64_t n;
    const uint8_t *q = varint(p, end, 5, &n, why);
    if (!q)
        return NULL;
    if (n > UINT32_MAX) {
        *why = PBDECODE_BAD_LENGTH;
        return NULL;
    }
    if (n > (uint64_t)(end - q)) {
        *why = PBDECODE_TRUNCATED;
        return NULL;
    }
    *start = q;
    *len = (size_t)n;
    return q + n;
}

/* The value of wire type wire at p skipped; NULL with *why when malformed. */
static const uint8_t *skip_value(unsigned wire, const uint8_t *p, const uint8_t *end, enum pbdecode_status *why)
{
    uint64_t v;
    const uint8_t *start;
    size_t len;
    switch (wire) {
    case WIRE_VARINT:
        return varint(p, end, 10, &v, why);
    case WIRE_64BIT:
    case WIRE_32BIT: {
        size_t n = wire == WIRE_64BIT ? 8 : 4;
        if ((size_t)(end - p) < n) {
            *why = PBDECODE_TRUNCATED;
            return NULL;
        }
        return p + n;
    }
    case WIRE_LEN:
        return length_prefixed(p, end, &start, &len, why);
    default:
        *why = PBDECODE_BAD_WIRE_TYPE;
        return NULL;
    }
}

/* The tag at p: field number and wire type. NULL with *why when malformed. */
static inline const uint8_t *read_tag(const uint8_t *p, const uint8_t *end, uint32_t *number, unsigned *wire,
                                      enum pbdecode_status *why)
{
    uint64_t t;
    const uint8_t *q = varint(p, end, 5, &t, why);
    if (!q)
        return NULL;
    if (t >> 3 == 0 || t >> 3 > MAX_FIELD_NUMBER) {
        *why = PBDECODE_BAD_TAG;
        return NULL;
    }
    *number = (uint32_t)(t >> 3);
    *wire = (unsigned)(t & 7);
    return q;
}

static inline const struct field_plan *find_field(const struct message_plan *m, uint32_t number)
{
    if (number < m->n_dense) {
        unsigned i = m->dense[number];
        return i ? &m->fields[i - 1] : NULL;
    }
    const ProtobufCFieldDescriptor *fd = protobuf_c_message_descriptor_get_field(m->desc, number);
    return fd ? &m->fields[fd - m->desc->fields] : NULL;
}

/* Elements in a packed run of len bytes at p, or false when the bytes do not
 * divide into them (counted as protobuf-c counts; the decode checks each). */
static bool packed_count(const struct field_plan *f, const uint8_t *p, size_t len, size_t *count)
{
    switch (f->kind) {
    case K_FIXED32:
    case K_FIXED64:
        if (len % f->elem_size)
            return false;
        *count = len / f->elem_size;
        return true;
    case K_BOOL:
        *count = len;           /* protobuf-c takes one byte per bool in a packed run */
        return true;
    default: {
        size_t n = 0;
        for (size_t i = 0; i < len; i++)
            n += !(p[i] & 0x80);
        *count = n;
        return true;
    }
    }
}

/* Pre-scan: how many values each repeated field of m holds in [p, end), into
 * the struct's n_ counts. Also checks the message's framing. */
static bool count_repeated(struct decoder *d, const struct message_plan *m, const uint8_t *p, const uint8_t *end,
                           ProtobufCMessage *msg)
{
    enum pbdecode_status why = PBDECODE_OK;
    while (p < end) {
        const uint8_t *at = p;
        uint32_t number;
        unsigned wire;
        if (!(p = read_tag(p, end, &number, &wire, &why)))
            return fail(d, why, at, m, NULL);
        const struct field_plan *f = find_field(m, number);
        const uint8_t *value = p;
        if (!(p = skip_value(wire, p, end, &why)))
            return fail(d, why, at, m, f);
        if (!f || !f->repeated)
            continue;
        size_t *n = (size_t *)((char *)msg + f->quantifier_offset);
        if (wire == WIRE_LEN && f->packable) {
            const uint8_t *start = value;
            size_t len = 0, count;
            if (!length_prefixed(value, end, &start, &len, &why) || !packed_count(f, start, len, &count))
                return fail(d, PBDECODE_BAD_PACKED, at, m, f);
            *n += count;
        } else if (wire == f->wire) {
            *n += 1;
        } else {
            return fail(d, PBDECODE_BAD_WIRE_TYPE, at, m, f);
        }
    }
    return true;
}

/* Arrays for the counted repeated fields; their capacities go to cap[] and
 * the n_ counts back to 0 for the decode pass to fill. Each repeated message
 * field gets one allocation: the pointer array followed by the structs. */
static bool alloc_arrays(struct decoder *d, const struct message_plan *m, ProtobufCMessage *msg, size_t *cap)
{
    for (unsigned r = 0; r < m->n_repeated; r++) {
        const struct field_plan *f = &m->fields[m->repeated[r]];
        size_t *n = (size_t *)((char *)msg + f->quantifier_offset);
        cap[r] = *n;
        *n = 0;
        if (!cap[r])
            continue;
        size_t each = f->elem_size + (f->kind == K_MESSAGE ? f->sub->desc->sizeof_message : 0);
        if (cap[r] > SIZE_MAX / each)
            return fail(d, PBDECODE_NO_MEMORY, d->base, m, f);
        char *a = d->alloc->alloc(d->alloc->allocator_data, cap[r] * each);
        if (!a)
            return fail(d, PBDECODE_NO_MEMORY, d->base, m, f);
        if (f->kind == K_MESSAGE) {
            char *structs = a + cap[r] * sizeof(void *);
            for (size_t i = 0; i < cap[r]; i++)
                ((void **)a)[i] = structs + i * f->sub->desc->sizeof_message;
        }
        *(void **)((char *)msg + f->offset) = a;
    }
    return true;
}

static bool decode_message(struct decoder *d, const struct message_plan *m, const uint8_t *p, const uint8_t *end,
                           ProtobufCMessage *msg, unsigned depth);

/* A string or bytes value of len bytes at p copied into dst (char * or
 * ProtobufCBinaryData), as protobuf-c copies them. */
static bool copy_bytes(struct decoder *d, const struct field_plan *f, const uint8_t *p, size_t len, void *dst)
{
    if (f->kind == K_BYTES && (len == 0 || d->borrow_bytes)) {
        *(ProtobufCBinaryData *)dst = (ProtobufCBinaryData){len, len ? (uint8_t *)p : NULL};
        return true;
    }
    size_t need = len + (f->kind == K_STRING);
    uint8_t *copy;
    if (need <= (size_t)(d->chunk_end - d->chunk)) {
        copy = d->chunk;
        d->chunk += need;
    } else if (need > STRING_CHUNK / 4) {
        if (!(copy = d->alloc->alloc(d->alloc->allocator_data, need)))
            return false;
    } else {
        if (!(copy = d->alloc->alloc(d->alloc->allocator_data, STRING_CHUNK)))
            return false;
        d->chunk = copy + need;
        d->chunk_end = copy + STRING_CHUNK;
    }
    memcpy(copy, p, len);
    if (f->kind == K_STRING) {
        copy[len] = 0;
        *(char **)dst = (char *)copy;
    } else {
        *(ProtobufCBinaryData *)dst = (ProtobufCBinaryData){len, copy};
    }
    return true;
}

/* One scalar value (every kind but K_MESSAGE) of wire type f->wire at p into
 * dst; the byte after it, or NULL after fail(). */
static const uint8_t *read_value(struct decoder *d, const struct message_plan *m, const struct field_plan *f,
                                 const uint8_t *p, const uint8_t *end, void *dst)
{
    enum pbdecode_status why = PBDECODE_OK;
    const uint8_t *at = p, *q;
    uint64_t v;
    switch (f->kind) {
    case K_VARINT32: case K_VARINT64: case K_SINT32: case K_SINT64: case K_BOOL:
        if (!(q = varint(p, end, 10, &v, &why)))
            break;
        if (f->kind == K_VARINT32)
            *(uint32_t *)dst = (uint32_t)v;
        else if (f->kind == K_VARINT64)
            *(uint64_t *)dst = v;
        else if (f->kind == K_SINT32)
            *(int32_t *)dst = (int32_t)(((uint32_t)v >> 1) ^ -((uint32_t)v & 1));
        else if (f->kind == K_SINT64)
            *(int64_t *)dst = (int64_t)((v >> 1) ^ -(v & 1));
        else    /* any payload bit counts, even one beyond the 64th (protobuf-c) */
            *(protobuf_c_boolean *)dst = v != 0 || (q - p == 10 && (p[9] & 0x7e));
        return q;
    case K_FIXED32: case K_FIXED64:
        if ((size_t)(end - p) < f->elem_size) {
            why = PBDECODE_TRUNCATED;
            break;
        }
        memcpy(dst, p, f->elem_size);
        return p + f->elem_size;
    default: {      /* K_STRING, K_BYTES */
        const uint8_t *start;
        size_t len;
        if (!(q = length_prefixed(p, end, &start, &len, &why)))
            break;
        if (!copy_bytes(d, f, start, len, dst))
            return fail(d, PBDECODE_NO_MEMORY, at, m, f), NULL;
        return q;
    }
    }
    return fail(d, why, at, m, f), NULL;
}

/* A packed run of f's values at p (after its tag) appended to its array. */
static const uint8_t *read_packed(struct decoder *d, const struct message_plan *m, const struct field_plan *f,
                                  const uint8_t *p, const uint8_t *end, ProtobufCMessage *msg, size_t cap)
{
    enum pbdecode_status why = PBDECODE_OK;
    const uint8_t *start, *at = p;
    size_t len;
    if (!(p = length_prefixed(p, end, &start, &len, &why)))
        return fail(d, why, at, m, f), NULL;
    size_t *n = (size_t *)((char *)msg + f->quantifier_offset);
    char *array = *(char **)((char *)msg + f->offset);
    const uint8_t *q = start, *qend = start + len;
    if (f->kind == K_FIXED32 || f->kind == K_FIXED64) {
        size_t count = len / f->elem_size;
        if (len % f->elem_size || count > cap - *n)
            return fail(d, PBDECODE_BAD_PACKED, at, m, f), NULL;
        memcpy(array + *n * f->elem_size, q, len);
        *n += count;
        return p;
    }
    while (q < qend) {
        if (*n == cap || (f->kind == K_BOOL && *q > 1))     /* protobuf-c: packed bools are 0 or 1 */
            return fail(d, PBDECODE_BAD_PACKED, q, m, f), NULL;
        if (!(q = read_value(d, m, f, q, qend, array + *n * f->elem_size)))
            return NULL;
        (*n)++;
    }
    return p;
}

/* The embedded message at p (after its tag) decoded into dst, a struct of
 * its type. */
static const uint8_t *read_message(struct decoder *d, const struct message_plan *m, const struct field_plan *f,
                                   const uint8_t *p, const uint8_t *end, ProtobufCMessage *dst, unsigned depth)
{
    enum pbdecode_status why = PBDECODE_OK;
    const uint8_t *start, *at = p;
    size_t len;
    if (!(p = length_prefixed(p, end, &start, &len, &why)))
        return fail(d, why, at, m, f), NULL;
    if (depth >= PBDECODE_MAX_DEPTH)
        return fail(d, PBDECODE_TOO_DEEP, at, m, f), NULL;
    return decode_message(d, f->sub, start, start + len, dst, depth + 1) ? p : NULL;
}

/* One occurrence of field f (wire type wire) at p, after its tag at at. */
static const uint8_t *read_field(struct decoder *d, const struct message_plan *m, const struct field_plan *f,
                                 unsigned wire, const uint8_t *at, const uint8_t *p, const uint8_t *end,
                                 ProtobufCMessage *msg, const size_t *cap, unsigned depth)
{
    char *member = (char *)msg + f->offset;
    if (f->repeated) {
        if (wire == WIRE_LEN && f->packable)
            return read_packed(d, m, f, p, end, msg, cap[f->repeated_slot]);
        if (wire != f->wire)
            return fail(d, PBDECODE_BAD_WIRE_TYPE, at, m, f), NULL;
        size_t *n = (size_t *)((char *)msg + f->quantifier_offset);
        if (*n == cap[f->repeated_slot])        /* the pre-scan saw fewer: cannot happen */
            return fail(d, PBDECODE_BAD_PACKED, p, m, f), NULL;
        char *slot = *(char **)member + *n * f->elem_size;
        const uint8_t *q = f->kind == K_MESSAGE ? read_message(d, m, f, p, end, *(ProtobufCMessage **)slot, depth)
                                                : read_value(d, m, f, p, end, slot);
        *n += q != NULL;
        return q;
    }
    if (wire != f->wire)
        return fail(d, PBDECODE_BAD_WIRE_TYPE, at, m, f), NULL;
    const uint8_t *q;
    if (f->kind == K_MESSAGE) {
        if (*(ProtobufCMessage **)member)
            return fail(d, PBDECODE_DUPLICATE_MESSAGE, at, m, f), NULL;
        ProtobufCMessage *sub = d->alloc->alloc(d->alloc->allocator_data, f->sub->desc->sizeof_message);
        if (!sub)
            return fail(d, PBDECODE_NO_MEMORY, at, m, f), NULL;
        if ((q = read_message(d, m, f, p, end, sub, depth)))
            *(ProtobufCMessage **)member = sub;
    } else {
        q = read_value(d, m, f, p, end, member);
    }
    if (q && f->quantifier_offset)
        *(protobuf_c_boolean *)((char *)msg + f->quantifier_offset) = 1;
    return q;
}

/* A singular scalar (op) at p stored at dst; the byte after it, or NULL with
 * *why set. */
static inline const uint8_t *read_scalar(struct decoder *d, const struct field_plan *f, unsigned op,
                                         const uint8_t *p, const uint8_t *end, char *dst, enum pbdecode_status *why)
{
    const uint8_t *q;
    uint64_t v;
    switch (op) {
    case OP_VARINT32:
        if ((q = varint(p, end, 10, &v, why)))
            *(uint32_t *)dst = (uint32_t)v;
        return q;
    case OP_VARINT64:
        if ((q = varint(p, end, 10, &v, why)))
            *(uint64_t *)dst = v;
        return q;
    case OP_SINT32:
        if ((q = varint(p, end, 10, &v, why)))
            *(int32_t *)dst = (int32_t)(((uint32_t)v >> 1) ^ -((uint32_t)v & 1));
        return q;
    case OP_SINT64:
        if ((q = varint(p, end, 10, &v, why)))
            *(int64_t *)dst = (int64_t)((v >> 1) ^ -(v & 1));
        return q;
    case OP_BOOL:   /* any payload bit counts, even one beyond the 64th (protobuf-c) */
        if ((q = varint(p, end, 10, &v, why)))
            *(protobuf_c_boolean *)dst = v != 0 || (q - p == 10 && (p[9] & 0x7e));
        return q;
    case OP_FIXED32:
    case OP_FIXED64: {
        size_t n = op == OP_FIXED32 ? 4 : 8;
        if ((size_t)(end - p) < n) {
            *why = PBDECODE_TRUNCATED;
            return NULL;
        }
        memcpy(dst, p, n);
        return p + n;
    }
    default: {      /* OP_STRING, OP_BYTES */
        const uint8_t *start;
        size_t len;
        if ((q = length_prefixed(p, end, &start, &len, why)) && !copy_bytes(d, f, start, len, dst)) {
            *why = PBDECODE_NO_MEMORY;
            return NULL;
        }
        return q;
    }
    }
}

/* The tag at p: one- and two-byte tags (field numbers below 2048) inline. */
static inline const uint8_t *next_tag(const uint8_t *p, const uint8_t *end, uint32_t *tag, enum pbdecode_status *why)
{
    if (*p < 0x80) {
        *tag = *p;
        return p + 1;
    }
    if (end - p >= 2 && p[1] < 0x80) {
        *tag = (uint32_t)(p[0] & 0x7f) | (uint32_t)p[1] << 7;
        return p + 2;
    }
    uint32_t number;
    unsigned wire;
    if (!(p = read_tag(p, end, &number, &wire, why)))
        return NULL;
    *tag = number << 3 | wire;
    return p;
}

/* The message m in [p, end) into msg (uninitialised storage of its size). */
static bool decode_message(struct decoder *d, const struct message_plan *m, const uint8_t *p, const uint8_t *end,
                           ProtobufCMessage *msg, unsigned depth)
{
    m->desc->message_init(msg);
    size_t cap[MAX_REPEATED];
    if (m->n_repeated && (!count_repeated(d, m, p, end, msg) || !alloc_arrays(d, m, msg, cap)))
        return false;
    enum pbdecode_status why = PBDECODE_OK;
    uint64_t seen = 0;
    while (p < end) {
        const uint8_t *at = p;
        uint32_t tag;
        if (!(p = next_tag(p, end, &tag, &why)))
            return fail(d, why, at, m, NULL);
        unsigned op = tag < m->n_tags ? m->tags[tag].op : OP_OTHER;
        if (op != OP_OTHER) {
            const struct field_plan *f = m->tags[tag].f;
            if (!(p = read_scalar(d, f, op, p, end, (char *)msg + f->offset, &why)))
                return fail(d, why, at, m, f);
            if (f->quantifier_offset)
                *(protobuf_c_boolean *)((char *)msg + f->quantifier_offset) = 1;
            seen |= f->required_bit;
            continue;
        }
        if (tag >> 3 == 0)
            return fail(d, PBDECODE_BAD_TAG, at, m, NULL);
        const struct field_plan *f = tag < m->n_tags ? m->tags[tag].f : find_field(m, tag >> 3);
        if (!f) {
            if (!(p = skip_value(tag & 7, p, end, &why)))
                return fail(d, why, at, m, NULL);
            continue;
        }
        if (!(p = read_field(d, m, f, tag & 7, at, p, end, msg, cap, depth)))
            return false;
        seen |= f->required_bit;
    }
    if ((seen & m->required_mask) != m->required_mask) {
        for (unsigned i = 0; i < m->desc->n_fields; i++)
            if (m->fields[i].required_bit & ~seen)
                return fail(d, PBDECODE_MISSING_REQUIRED, end, m, &m->fields[i]);
    }
    return true;
}

static ProtobufCMessage *unpack(const struct pbdecode_plan *plan, ProtobufCAllocator *alloc, const uint8_t *data,
                                size_t len, struct pbdecode_error *err, bool borrow_bytes)
{
    struct decoder d = {alloc, data, err, NULL, NULL, borrow_bytes};
    const struct message_plan *root = &plan->messages[0];
    if (err)
        *err = (struct pbdecode_error){PBDECODE_OK, 0, root->desc->name, NULL};
    ProtobufCMessage *msg = alloc->alloc(alloc->allocator_data, root->desc->sizeof_message);
    if (!msg) {
        fail(&d, PBDECODE_NO_MEMORY, data, root, NULL);
        return NULL;
    }
    return decode_message(&d, root, data, data + len, msg, 0) ? msg : NULL;
}

ProtobufCMessage *pbdecode_unpack(const struct pbdecode_plan *plan, ProtobufCAllocator *alloc,
                                  const uint8_t *data, size_t len, struct pbdecode_error *err)
{
    return unpack(plan, alloc, data, len, err, false);
}

ProtobufCMessage *pbdecode_unpack_borrowing(const struct pbdecode_plan *plan, ProtobufCAllocator *alloc,
                                            const uint8_t *data, size_t len, struct pbdecode_error *err)
{
    return unpack(plan, alloc, data, len, err, true);
}

const char *pbdecode_status_text(enum pbdecode_status status)
{
    switch (status) {
    case PBDECODE_OK: return "ok";
    case PBDECODE_TRUNCATED: return "truncated";
    case PBDECODE_BAD_VARINT: return "varint too long";
    case PBDECODE_BAD_LENGTH: return "length prefix too large";
    case PBDECODE_BAD_TAG: return "invalid field number";
    case PBDECODE_BAD_WIRE_TYPE: return "invalid wire type";
    case PBDECODE_BAD_PACKED: return "malformed packed array";
    case PBDECODE_MISSING_REQUIRED: return "missing required field";
    case PBDECODE_DUPLICATE_MESSAGE: return "embedded message given twice";
    case PBDECODE_TOO_DEEP: return "nested too deep";
    case PBDECODE_NO_MEMORY: return "over the memory budget";
    }
    return "unknown error";
}

void pbdecode_error_format(const struct pbdecode_error *err, char *out, size_t n)
{
    snprintf(out, n, "%s in %s%s%s at byte %zu", pbdecode_status_text(err->status),
             err->message ? err->message : "?", err->field ? " field " : "", err->field ? err->field->name : "",
             err->offset);
}
