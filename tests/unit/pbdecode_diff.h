/* pbdecode_diff.h — decodes the same bytes with pbdecode and with protobuf-c
 * (protobuf_c_message_unpack) and compares the two trees by repacking both
 * with protobuf_c_message_pack: equal bytes, equal trees. Unknown fields,
 * which only protobuf-c keeps, are dropped from its tree first. Shared by
 * test_pbdecode and the fuzz target fuzz_pbdecode. */
#ifndef PVESCOPE_PBDECODE_DIFF_H
#define PVESCOPE_PBDECODE_DIFF_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pbdecode.h"

/* Every allocation kept until pbdiff_arena_free, at most left bytes in all
 * (so a test can run either decoder out of memory). */
struct pbdiff_arena {
    void **ptrs;
    size_t n, cap;
    size_t left;
};

static inline void *pbdiff_alloc(void *data, size_t size)
{
    struct pbdiff_arena *a = data;
    if (size > a->left)
        return NULL;
    if (a->n == a->cap) {
        size_t ncap = a->cap ? a->cap * 2 : 64;
        void **p = realloc(a->ptrs, ncap * sizeof *p);
        if (!p)
            return NULL;
        a->ptrs = p;
        a->cap = ncap;
    }
    void *p = malloc(size ? size : 1);
    if (p) {
        a->ptrs[a->n++] = p;
        a->left -= size;
    }
    return p;
}

/* protobuf-c frees what it replaces or gives up; the arena frees it all. */
static inline void pbdiff_no_free(void *data, void *ptr)
{
    (void)data;
    (void)ptr;
}

static inline void pbdiff_arena_free(struct pbdiff_arena *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->ptrs[i]);
    free(a->ptrs);
    memset(a, 0, sizeof *a);
}

static inline ProtobufCAllocator pbdiff_allocator(struct pbdiff_arena *a, size_t limit)
{
    memset(a, 0, sizeof *a);
    a->left = limit;
    return (ProtobufCAllocator){pbdiff_alloc, pbdiff_no_free, a};
}

/* Forgets m's unknown fields, and its sub-messages' (they stay in the arena). */
static inline void pbdiff_drop_unknown(ProtobufCMessage *m)
{
    m->n_unknown_fields = 0;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(size_t *)((char *)m + f->quantifier_offset);
            ProtobufCMessage **subs = *(ProtobufCMessage ***)((char *)m + f->offset);
            for (size_t k = 0; k < n; k++)
                pbdiff_drop_unknown(subs[k]);
        } else {
            ProtobufCMessage *sub = *(ProtobufCMessage **)((char *)m + f->offset);
            if (sub)
                pbdiff_drop_unknown(sub);
        }
    }
}

enum pbdiff_result {
    PBDIFF_BOTH_REJECT,
    PBDIFF_EQUAL,               /* both accept, and repack to the same bytes */
    PBDIFF_ONLY_PROTOBUFC,      /* pbdecode refused (why in *err) what protobuf-c took */
    PBDIFF_ONLY_PBDECODE,       /* a bug */
    PBDIFF_DIFFERENT,           /* a bug */
};

/* The repacked bytes of m in a new malloc'd buffer, its size in *len. */
static inline uint8_t *pbdiff_repack(const ProtobufCMessage *m, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *b = malloc(*len ? *len : 1);
    if (b && protobuf_c_message_pack(m, b) != *len) {
        free(b);
        return NULL;
    }
    return b;
}

/* data decoded by both (desc must be the plan's root type); err gets
 * pbdecode's reason when it refuses. */
static inline enum pbdiff_result pbdiff_compare(const struct pbdecode_plan *plan,
                                                const ProtobufCMessageDescriptor *desc, const uint8_t *data,
                                                size_t len, struct pbdecode_error *err)
{
    struct pbdiff_arena mine_arena, theirs_arena;
    ProtobufCAllocator mine_alloc = pbdiff_allocator(&mine_arena, SIZE_MAX);
    ProtobufCAllocator theirs_alloc = pbdiff_allocator(&theirs_arena, SIZE_MAX);
    ProtobufCMessage *mine = pbdecode_unpack(plan, &mine_alloc, data, len, err);
    ProtobufCMessage *theirs = protobuf_c_message_unpack(desc, &theirs_alloc, len, data);
    enum pbdiff_result r;
    if (!mine || !theirs) {
        r = mine ? PBDIFF_ONLY_PBDECODE : theirs ? PBDIFF_ONLY_PROTOBUFC : PBDIFF_BOTH_REJECT;
    } else {
        pbdiff_drop_unknown(theirs);
        size_t n1, n2;
        uint8_t *b1 = pbdiff_repack(mine, &n1), *b2 = pbdiff_repack(theirs, &n2);
        r = b1 && b2 && n1 == n2 && memcmp(b1, b2, n1) == 0 ? PBDIFF_EQUAL : PBDIFF_DIFFERENT;
        free(b1);
        free(b2);
    }
    pbdiff_arena_free(&mine_arena);
    pbdiff_arena_free(&theirs_arena);
    return r;
}

/* Whether pbdecode may refuse what protobuf-c accepts for this reason: the
 * strictness pbdecode.h documents, nothing else. */
static inline bool pbdiff_refusal_documented(const struct pbdecode_error *err)
{
    switch (err->status) {
    case PBDECODE_DUPLICATE_MESSAGE:
    case PBDECODE_BAD_TAG:
    case PBDECODE_TOO_DEEP:
        return true;
    case PBDECODE_BAD_WIRE_TYPE:        /* protobuf-c reads a bool from any wire type */
    case PBDECODE_BAD_PACKED:           /* and takes any byte of a packed run as a bool */
        return err->field && err->field->type == PROTOBUF_C_TYPE_BOOL;
    default:
        return false;
    }
}

#endif
