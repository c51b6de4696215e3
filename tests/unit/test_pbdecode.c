/* test_pbdecode.c — the descriptor-driven decoder (aggregator/pbdecode.c):
 * hand-built wire bytes for every field type and every failure, checked
 * value by value and against protobuf-c; and the differential check on real
 * reports (the fleet model's, with and without placements stripped, and an
 * agent's report of the host1 fixture): both decoders repack to the same
 * bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet_model.h"
#include "pbdecode.h"
#include "pbdecode_diff.h"
#include "pbdecode_test.pb-c.h"
#include "pvescope.pb-c.h"
#include "wire_strip.h"

struct plans {
    struct pbdecode_plan *all, *req, *node, *report;
};

static struct pbdecode_plan *plan_of(const ProtobufCMessageDescriptor *d)
{
    char err[160];
    struct pbdecode_plan *p = pbdecode_plan_new(d, err, sizeof err);
    if (!p)
        fail_msg("%s", err);
    return p;
}

static int setup(void **state)
{
    struct plans *p = calloc(1, sizeof *p);
    p->all = plan_of(&pbtest__all__descriptor);
    p->req = plan_of(&pbtest__req__descriptor);
    p->node = plan_of(&pbtest__node__descriptor);
    p->report = plan_of(&pvescope__report__descriptor);
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    struct plans *p = *state;
    pbdecode_plan_free(p->all);
    pbdecode_plan_free(p->req);
    pbdecode_plan_free(p->node);
    pbdecode_plan_free(p->report);
    free(p);
    return 0;
}

/* Decodes bytes as a pbtest.All into arena a (freed by the caller). */
static Pbtest__All *decode_all(const struct plans *p, struct pbdiff_arena *a, const uint8_t *b, size_t n)
{
    ProtobufCAllocator al = pbdiff_allocator(a, SIZE_MAX);
    struct pbdecode_error err;
    Pbtest__All *m = (Pbtest__All *)pbdecode_unpack(p->all, &al, b, n, &err);
    if (!m) {
        char what[200];
        pbdecode_error_format(&err, what, sizeof what);
        fail_msg("decode failed: %s", what);
    }
    /* and protobuf-c reads the same bytes into the same tree */
    assert_int_equal(pbdiff_compare(p->all, &pbtest__all__descriptor, b, n, &err), PBDIFF_EQUAL);
    return m;
}

#define DECODE_ALL(p, a, ...) \
    decode_all((p), (a), (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

static void t_varint_types(void **state)
{
    struct pbdiff_arena a;
    Pbtest__All *m = DECODE_ALL(*state, &a, 0x08, 0x96, 0x01,           /* u32 = 150 */
                                0x10, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, /* u64 = 2^63 */
                                0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, /* i64 = -1 */
                                0x20, 0x01,                             /* b = true */
                                0x28, 0x05,                             /* color = 5: not in the enum */
                                0x70, 0x05,                             /* s32 = -3 */
                                0x78, 0x04,                             /* s64 = 2 */
                                0x90, 0x01, 0xfe, 0xff, 0xff, 0xff, 0x0f); /* i32 = -2 (5-byte form) */
    assert_true(m->has_u32);
    assert_int_equal(m->u32, 150);
    assert_true(m->has_u64);
    assert_true(m->u64 == 1ull << 63);
    assert_true(m->has_i64);
    assert_true(m->i64 == -1);
    assert_true(m->has_b);
    assert_true(m->b);
    assert_true(m->has_color);
    assert_int_equal(m->color, 5);
    assert_int_equal(m->s32, -3);
    assert_int_equal(m->s64, 2);
    assert_int_equal(m->i32, -2);
    assert_false(m->has_d);
    assert_int_equal(m->withdef, 7);        /* the default, from message_init */
    assert_false(m->has_withdef);
    pbdiff_arena_free(&a);
}

/* Values wider than the field are cut to its width, as protobuf-c does. */
static void t_varint_truncation(void **state)
{
    struct pbdiff_arena a;
    Pbtest__All *m = DECODE_ALL(*state, &a, 0x08, 0xff, 0xff, 0xff, 0xff, 0x7f,     /* u32 = 2^35-1 */
                                0x20, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00); /* b: 10-byte 0 */
    assert_true(m->u32 == 0xffffffffu);
    assert_true(m->has_b);
    assert_false(m->b);
    pbdiff_arena_free(&a);
}

static void t_fixed_and_length_types(void **state)
{
    struct pbdiff_arena a;
    Pbtest__All *m = DECODE_ALL(*state, &a,
                                0x31, 0, 0, 0, 0, 0, 0, 0xf8, 0x3f,     /* d = 1.5 */
                                0x3a, 0x03, 'a', 'b', 'c',              /* s = "abc" */
                                0x42, 0x02, 0x00, 0xff,                 /* by = {0, 255} */
                                0x85, 0x01, 0x78, 0x56, 0x34, 0x12,     /* f32 = 0x12345678 */
                                0x8d, 0x01, 0, 0, 0x20, 0xc0,           /* fl = -2.5 */
                                0x4a, 0x05, 0x08, 0x07, 0x12, 0x01, 'x', /* inner = {7, "x"} */
                                0xc0, 0xbb, 0x01, 0x2a);                /* big (3000) = 42 */
    assert_true(m->has_d);
    assert_true(m->d == 1.5);
    assert_string_equal(m->s, "abc");
    assert_true(m->has_by);
    assert_int_equal(m->by.len, 2);
    assert_int_equal(m->by.data[1], 0xff);
    assert_int_equal(m->f32, 0x12345678);
    assert_true(m->fl == -2.5f);
    assert_non_null(m->inner);
    assert_int_equal(m->inner->id, 7);
    assert_string_equal(m->inner->label, "x");
    assert_true(m->has_big);
    assert_int_equal(m->big, 42);
    pbdiff_arena_free(&a);
}

static void t_repeated(void **state)
{
    struct pbdiff_arena a;
    Pbtest__All *m = DECODE_ALL(*state, &a,
                                0x52, 0x02, 0x08, 0x01,                 /* inners += {1} */
                                0x5a, 0x03, 0x01, 0x96, 0x01,           /* nums (packed) = 1, 150 */
                                0x6a, 0x01, 'p',                        /* names += "p" */
                                0x52, 0x02, 0x08, 0x02,                 /* inners += {2} */
                                0x58, 0x05,                             /* nums += 5, unpacked */
                                0x60, 0x09,                             /* loose += 9, unpacked */
                                0x62, 0x02, 0x03, 0x04,                 /* loose += 3, 4 packed */
                                0x9a, 0x01, 0x08, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, /* ds = 1.0 (packed) */
                                0xa2, 0x01, 0x03, 0x01, 0x00, 0x01,     /* flags = 1, 0, 1 (packed) */
                                0xb2, 0x01, 0x00,                       /* blobs += {} */
                                0x6a, 0x00);                            /* names += "" */
    assert_int_equal(m->n_inners, 2);
    assert_int_equal(m->inners[0]->id, 1);
    assert_int_equal(m->inners[1]->id, 2);
    assert_int_equal(m->n_nums, 3);
    assert_int_equal(m->nums[0], 1);
    assert_int_equal(m->nums[1], 150);
    assert_int_equal(m->nums[2], 5);
    assert_int_equal(m->n_loose, 3);
    assert_int_equal(m->loose[2], 4);
    assert_int_equal(m->n_names, 2);
    assert_string_equal(m->names[0], "p");
    assert_string_equal(m->names[1], "");
    assert_int_equal(m->n_ds, 1);
    assert_true(m->ds[0] == 1.0);
    assert_int_equal(m->n_flags, 3);
    assert_true(m->flags[0] && !m->flags[1] && m->flags[2]);
    assert_int_equal(m->n_blobs, 1);
    assert_int_equal(m->blobs[0].len, 0);
    assert_null(m->blobs[0].data);
    pbdiff_arena_free(&a);
}

/* The last value of a singular scalar wins; unknown fields (any wire type)
 * are skipped. */
static void t_last_wins_unknown_skipped(void **state)
{
    struct pbdiff_arena a;
    Pbtest__All *m = DECODE_ALL(*state, &a, 0x08, 0x01, 0x3a, 0x01, 'a',
                                0x98, 0x06, 0x01,                       /* field 99 varint */
                                0x9a, 0x06, 0x02, 0xff, 0xff,           /* field 99 bytes */
                                0x9d, 0x06, 1, 2, 3, 4,                 /* field 99 fixed32 */
                                0x99, 0x06, 1, 2, 3, 4, 5, 6, 7, 8,     /* field 99 fixed64 */
                                0x08, 0x02, 0x3a, 0x01, 'b');
    assert_int_equal(m->u32, 2);
    assert_string_equal(m->s, "b");
    assert_int_equal(m->base.n_unknown_fields, 0);
    pbdiff_arena_free(&a);
}

static void t_required(void **state)
{
    const struct plans *p = *state;
    struct pbdiff_arena a;
    ProtobufCAllocator al = pbdiff_allocator(&a, SIZE_MAX);
    struct pbdecode_error err;
    static const uint8_t ok[] = {0x08, 0x01, 0x12, 0x01, 'z'};
    Pbtest__Req *r = (Pbtest__Req *)pbdecode_unpack(p->req, &al, ok, sizeof ok, &err);
    assert_non_null(r);
    assert_int_equal(r->a, 1);
    assert_string_equal(r->b, "z");
    assert_int_equal(r->c, 5);
    assert_int_equal(r->d, 9);      /* required, absent, but has a default: fine for protobuf-c too */
    static const uint8_t no_b[] = {0x08, 0x01, 0x20, 0x03};
    assert_null(pbdecode_unpack(p->req, &al, no_b, sizeof no_b, &err));
    assert_int_equal(err.status, PBDECODE_MISSING_REQUIRED);
    assert_string_equal(err.message, "pbtest.Req");
    assert_string_equal(err.field->name, "b");
    assert_int_equal(err.offset, sizeof no_b);
    assert_int_equal(pbdiff_compare(p->req, &pbtest__req__descriptor, no_b, sizeof no_b, &err), PBDIFF_BOTH_REJECT);
    char text[160];
    pbdecode_error_format(&err, text, sizeof text);
    assert_string_equal(text, "missing required field in pbtest.Req field b at byte 4");
    pbdiff_arena_free(&a);
}

struct bad_case {
    const char *what;
    uint8_t bytes[16];
    size_t len;
    enum pbdecode_status want;
    size_t offset;
    bool protobuf_c_accepts;        /* the strictness pbdecode.h documents */
};

/* Every failure, as pbtest.All: status, offset, and what protobuf-c says. */
static void t_failures(void **state)
{
    const struct plans *p = *state;
    static const struct bad_case cases[] = {
        {"truncated varint", {0x08, 0x96}, 2, PBDECODE_TRUNCATED, 0, false},
        {"truncated tag", {0x08, 0x01, 0x80}, 3, PBDECODE_TRUNCATED, 2, false},
        {"varint of 11 bytes", {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 12,
         PBDECODE_BAD_VARINT, 0, false},
        {"string past the end", {0x3a, 0x05, 'a'}, 3, PBDECODE_TRUNCATED, 0, false},
        {"unknown field past the end", {0x9a, 0x06, 0x04, 0x00}, 4, PBDECODE_TRUNCATED, 0, false},
        {"fixed64 cut short", {0x31, 0, 0, 0}, 4, PBDECODE_TRUNCATED, 0, false},
        {"length of 2^32", {0x3a, 0x80, 0x80, 0x80, 0x80, 0x10}, 6, PBDECODE_BAD_LENGTH, 0, false},
        {"length of 2^33-1", {0x3a, 0xff, 0xff, 0xff, 0xff, 0x1f}, 6, PBDECODE_BAD_LENGTH, 0, false},
        {"length of 6 bytes", {0x3a, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00, 'a'}, 8, PBDECODE_BAD_VARINT, 0, false},
        {"uint32 as bytes", {0x0a, 0x01, 0x00}, 3, PBDECODE_BAD_WIRE_TYPE, 0, false},
        {"string as varint", {0x38, 0x01}, 2, PBDECODE_BAD_WIRE_TYPE, 0, false},
        {"message as fixed32", {0x4d, 1, 2, 3, 4}, 5, PBDECODE_BAD_WIRE_TYPE, 0, false},
        {"repeated message as varint", {0x50, 0x01}, 2, PBDECODE_BAD_WIRE_TYPE, 0, false},
        {"bool as fixed32", {0x25, 1, 0, 0, 0}, 5, PBDECODE_BAD_WIRE_TYPE, 0, true},
        {"group", {0x0b, 0x0c}, 2, PBDECODE_BAD_WIRE_TYPE, 0, false},
        {"wire type 6", {0x9e, 0x06, 0x00}, 3, PBDECODE_BAD_WIRE_TYPE, 0, false},
        {"field number 0", {0x00, 0x01}, 2, PBDECODE_BAD_TAG, 0, false},
        {"field number 2^30", {0x80, 0x80, 0x80, 0x80, 0x20, 0x01}, 6, PBDECODE_BAD_TAG, 0, true},
        {"packed doubles of 3 bytes", {0x9a, 0x01, 0x03, 1, 2, 3}, 6, PBDECODE_BAD_PACKED, 0, false},
        {"packed bool of 2", {0xa2, 0x01, 0x01, 0x02}, 4, PBDECODE_BAD_PACKED, 3, true},
        {"packed varint cut", {0x5a, 0x02, 0x01, 0x96}, 4, PBDECODE_BAD_PACKED, 3, false},
        {"embedded message twice", {0x4a, 0x02, 0x08, 0x01, 0x4a, 0x02, 0x08, 0x02}, 8,
         PBDECODE_DUPLICATE_MESSAGE, 4, true},
        {"embedded message without its required id", {0x4a, 0x00}, 2, PBDECODE_MISSING_REQUIRED, 2, false},
        {"inner string past the inner end", {0x4a, 0x03, 0x12, 0x02, 'x'}, 5, PBDECODE_TRUNCATED, 2, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct bad_case *c = &cases[i];
        struct pbdiff_arena a;
        ProtobufCAllocator al = pbdiff_allocator(&a, SIZE_MAX);
        struct pbdecode_error err;
        if (pbdecode_unpack(p->all, &al, c->bytes, c->len, &err))
            fail_msg("%s: accepted", c->what);
        if (err.status != c->want || err.offset != c->offset)
            fail_msg("%s: %s at %zu, want %s at %zu", c->what, pbdecode_status_text(err.status), err.offset,
                     pbdecode_status_text(c->want), c->offset);
        enum pbdiff_result r = pbdiff_compare(p->all, &pbtest__all__descriptor, c->bytes, c->len, &err);
        if (r != (c->protobuf_c_accepts ? PBDIFF_ONLY_PROTOBUFC : PBDIFF_BOTH_REJECT))
            fail_msg("%s: protobuf-c %s it", c->what, c->protobuf_c_accepts ? "refuses" : "accepts");
        assert_true(!c->protobuf_c_accepts || pbdiff_refusal_documented(&err));
        pbdiff_arena_free(&a);
    }
}

/* Node{child: Node{child: ...}} levels deep, innermost v = 1. */
static uint8_t *nested(size_t levels, size_t *len)
{
    Pbtest__Node *nodes = calloc(levels + 1, sizeof *nodes);
    for (size_t i = 0; i <= levels; i++) {
        pbtest__node__init(&nodes[i]);
        nodes[i].child = i < levels ? &nodes[i + 1] : NULL;
    }
    nodes[levels].has_v = 1;
    nodes[levels].v = 1;
    *len = pbtest__node__get_packed_size(&nodes[0]);
    uint8_t *b = malloc(*len);
    pbtest__node__pack(&nodes[0], b);
    free(nodes);
    return b;
}

static void t_depth(void **state)
{
    const struct plans *p = *state;
    struct pbdiff_arena a;
    ProtobufCAllocator al = pbdiff_allocator(&a, SIZE_MAX);
    struct pbdecode_error err;
    size_t len;
    uint8_t *ok = nested(PBDECODE_MAX_DEPTH, &len);
    Pbtest__Node *n = (Pbtest__Node *)pbdecode_unpack(p->node, &al, ok, len, &err);
    assert_non_null(n);
    for (size_t i = 0; i < PBDECODE_MAX_DEPTH; i++)
        n = n->child;
    assert_int_equal(n->v, 1);
    free(ok);
    uint8_t *deep = nested(PBDECODE_MAX_DEPTH + 1, &len);
    assert_null(pbdecode_unpack(p->node, &al, deep, len, &err));
    assert_int_equal(err.status, PBDECODE_TOO_DEEP);
    assert_string_equal(err.field->name, "child");
    free(deep);
    pbdiff_arena_free(&a);
}

/* The allocator's refusal fails the decode at any point, never a crash. */
static void t_out_of_memory(void **state)
{
    const struct plans *p = *state;
    static const uint8_t b[] = {0x52, 0x02, 0x08, 0x01, 0x3a, 0x03, 'a', 'b', 'c', 0x4a, 0x02, 0x08, 0x07};
    size_t need = 0;
    for (size_t limit = 0; limit < 8192; limit++) {
        struct pbdiff_arena a;
        ProtobufCAllocator al = pbdiff_allocator(&a, limit);
        struct pbdecode_error err;
        Pbtest__All *m = (Pbtest__All *)pbdecode_unpack(p->all, &al, b, sizeof b, &err);
        pbdiff_arena_free(&a);
        if (m) {
            need = limit;
            break;
        }
        assert_int_equal(err.status, PBDECODE_NO_MEMORY);
    }
    /* the struct, one Inner with its pointer, a string chunk, the inner */
    size_t want = sizeof(Pbtest__All) + sizeof(void *) + sizeof(Pbtest__Inner) + 4096 + sizeof(Pbtest__Inner);
    assert_int_equal(need, want);
}

static void t_unsupported_schema(void **state)
{
    (void)state;
    /* a descriptor without message_init (hand-made, as protobuf-c allows) */
    ProtobufCMessageDescriptor d = pbtest__inner__descriptor;
    d.message_init = NULL;
    char err[160];
    assert_null(pbdecode_plan_new(&d, err, sizeof err));
    assert_string_equal(err, "pbdecode: no message_init in pbtest.Inner");
}

/* Repacks equal, decoded from data and from data without its placements. */
static void assert_report_same(const struct plans *p, const uint8_t *data, size_t len)
{
    struct pbdecode_error err;
    enum pbdiff_result r = pbdiff_compare(p->report, &pvescope__report__descriptor, data, len, &err);
    if (r != PBDIFF_EQUAL) {
        char what[200];
        pbdecode_error_format(&err, what, sizeof what);
        fail_msg("report of %zu bytes: result %d (%s)", len, r, what);
    }
    struct buf stripped = BUF_INIT;
    struct stripped_vmlist found;
    if (report_strip_placements(data, len, &stripped, &found))
        assert_int_equal(pbdiff_compare(p->report, &pvescope__report__descriptor, (const uint8_t *)stripped.data,
                                        stripped.len, &err), PBDIFF_EQUAL);
    buf_free(&stripped);
}

/* Fleet reports: 40 guests, with configs, runtimes, disks, NICs, sensors,
 * NVMe and thin pools, in clusters of several sizes, at two ticks. */
static void t_fleet_reports_differential(void **state)
{
    const struct plans *p = *state;
    struct fleet_opts o = {.nodes = 12, .guests = 40, .cluster_sizes = {5, 7}, .n_cluster_sizes = 2,
                           .guest_dm_disks = true};
    struct fleet f;
    fleet_init(&f, &o);
    struct arena ar;
    arena_init(&ar, 1 << 20);
    struct buf out = BUF_INIT;
    size_t checked = 0;
    for (size_t node = 0; node < o.nodes; node += 3)
        for (uint64_t tick = 1; tick <= 2; tick++) {
            arena_reset(&ar);
            fleet_report_pack(&f, node, tick, &ar, &out);
            assert_true(out.len > 10000);
            assert_report_same(p, (const uint8_t *)out.data, out.len);
            checked++;
        }
    assert_int_equal(checked, 8);
    buf_free(&out);
    arena_free(&ar);
    fleet_free(&f);
}

/* The agent's report of the host1 fixture (the fuzz_report seed). */
static void t_agent_report_differential(void **state)
{
    const struct plans *p = *state;
    FILE *fp = fopen(FUZZ_SEEDS "/fuzz_report/host1", "rb");
    assert_non_null(fp);
    uint8_t b[1 << 16];
    size_t len = fread(b, 1, sizeof b, fp);
    fclose(fp);
    assert_true(len > 100 && len < sizeof b);
    assert_report_same(p, b, len);
    /* every prefix is refused by both or decoded alike */
    for (size_t cut = 0; cut < len; cut++) {
        struct pbdecode_error err;
        enum pbdiff_result r = pbdiff_compare(p->report, &pvescope__report__descriptor, b, cut, &err);
        if (r != PBDIFF_EQUAL && r != PBDIFF_BOTH_REJECT)
            fail_msg("prefix of %zu bytes: result %d", cut, r);
    }
}

/* Borrowing: bytes fields point into the input, strings are still copies
 * (NUL-terminated), and the values are those of the copying decode. */
static void t_bytes_borrowed(void **state)
{
    const struct plans *p = *state;
    const uint8_t b[] = {0x3a, 0x03, 'a', 'b', 'c',                 /* s = "abc" */
                         0x42, 0x02, 0x00, 0xff,                    /* by = {0, 255} */
                         0x42, 0x03, 0x01, 0x02, 0x03};             /* by again: the last wins */
    struct pbdiff_arena a;
    ProtobufCAllocator al = pbdiff_allocator(&a, SIZE_MAX);
    struct pbdecode_error err;
    Pbtest__All *m = (Pbtest__All *)pbdecode_unpack_borrowing(p->all, &al, b, sizeof b, &err);
    assert_non_null(m);
    assert_true(m->has_by);
    assert_int_equal(m->by.len, 3);
    assert_ptr_equal(m->by.data, b + 11);
    assert_string_equal(m->s, "abc");
    assert_true((const uint8_t *)m->s < b || (const uint8_t *)m->s >= b + sizeof b);
    const uint8_t empty[] = {0x42, 0x00};
    m = (Pbtest__All *)pbdecode_unpack_borrowing(p->all, &al, empty, sizeof empty, &err);
    assert_non_null(m);
    assert_true(m->has_by);
    assert_int_equal(m->by.len, 0);
    assert_null(m->by.data);                                    /* as protobuf-c leaves an empty one */
    const uint8_t cut[] = {0x42, 0x05, 0x00};
    assert_null(pbdecode_unpack_borrowing(p->all, &al, cut, sizeof cut, &err));
    assert_int_equal(err.status, PBDECODE_TRUNCATED);
    pbdiff_arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_varint_types), cmocka_unit_test(t_varint_truncation),
        cmocka_unit_test(t_fixed_and_length_types), cmocka_unit_test(t_repeated),
        cmocka_unit_test(t_last_wins_unknown_skipped), cmocka_unit_test(t_required),
        cmocka_unit_test(t_failures), cmocka_unit_test(t_depth), cmocka_unit_test(t_out_of_memory),
        cmocka_unit_test(t_unsupported_schema), cmocka_unit_test(t_fleet_reports_differential),
        cmocka_unit_test(t_agent_report_differential), cmocka_unit_test(t_bytes_borrowed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
