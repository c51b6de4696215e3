/* test_decode.c — decoding a report under a budget, without its
 * placement-only .vmlist entries (wire_strip.c), and the whole report
 * decoded again when the merge asks for it. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "report_plan.h"
#include "arena.h"
#include "decode.h"
#include "placements.h"
#include "wire_strip.h"

/* A report of node n1 with .vmlist entries g[0..n) and, unless NULL,
 * compact placements p. */
static uint8_t *packed_compact(size_t *len, Pvescope__GuestConfig *g, size_t n, Pvescope__VmPlacements *p)
{
    Pvescope__Report r = PVESCOPE__REPORT__INIT;
    r.placements = p;
    Pvescope__GuestConfig **ptrs = malloc((n ? n : 1) * sizeof *ptrs);
    for (size_t i = 0; i < n; i++)
        ptrs[i] = &g[i];
    r.node = "n1";
    r.guests = ptrs;
    r.n_guests = n;
    *len = pvescope__report__get_packed_size(&r);
    uint8_t *b = malloc(*len);
    pvescope__report__pack(&r, b);
    free(ptrs);
    return b;
}

static uint8_t *packed_report(size_t *len, Pvescope__GuestConfig *g, size_t n)
{
    return packed_compact(len, g, n, NULL);
}

static void guest(Pvescope__GuestConfig *g, uint32_t vmid, const char *node, bool configured)
{
    pvescope__guest_config__init(g);
    g->vmid = vmid;
    g->type = "qemu";
    g->node = (char *)node;
    if (configured) {
        g->has_has_config = g->has_config = true;
        g->name = "vm";
        g->has_cores = true;
        g->cores = 4;
    }
}

static void t_placements_decoded_on_demand(void **state)
{
    (void)state;
    Pvescope__GuestConfig g[4];
    guest(&g[0], 100, "n1", true);
    guest(&g[1], 101, "n2", false);
    guest(&g[2], 102, "n3", false);
    g[2].ha_state = "started";
    guest(&g[3], 103, "n1", true);
    size_t len;
    uint8_t *wire = packed_report(&len, g, 4);
    struct decoded_report *d = decoded_report_unpack(test_report_plan(), wire, len, 1 << 20, NULL);
    free(wire);
    assert_non_null(d);
    assert_int_equal(d->r->n_guests, 2);              /* the configured ones only */
    assert_int_equal(d->r->guests[0]->vmid, 100);
    assert_int_equal(d->r->guests[1]->vmid, 103);
    assert_ptr_equal(decoded_config(d, 103), d->r->guests[1]);
    assert_null(decoded_config(d, 101));
    const Pvescope__Report *full = decoded_vmlist_report(d);
    assert_ptr_not_equal(full, d->r);
    assert_int_equal(full->n_guests, 4);              /* every entry, in the report's order */
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(full->guests[i]->vmid, 100 + i);
    assert_string_equal(full->guests[2]->node, "n3");
    assert_string_equal(full->guests[2]->ha_state, "started");
    assert_int_equal(full->guests[3]->cores, 4);
    assert_ptr_equal(decoded_vmlist_report(d), full);  /* decoded once */
    decoded_report_free(d);
}

/* Nothing to strip: decoded once, the report is its own full view. */
static void t_nothing_to_strip(void **state)
{
    (void)state;
    Pvescope__GuestConfig g[1];
    guest(&g[0], 100, "n1", true);
    size_t len;
    uint8_t *wire = packed_report(&len, g, 1);
    struct decoded_report *d = decoded_report_unpack(test_report_plan(), wire, len, 1 << 20, NULL);
    free(wire);
    assert_non_null(d);
    assert_null(d->wire);
    assert_non_null(d->inventory);
    assert_null(d->inventory->wire);
    assert_ptr_equal(decoded_vmlist_report(d)->guests, d->r->guests);   /* no second decode */
    decoded_report_free(d);
}

/* A .vmlist entry without its required type is not stripped: the decoder
 * refuses the whole report, as it did before stripping existed. */
static void t_invalid_entry_still_refused(void **state)
{
    (void)state;
    /* field 21 (LEN): { vmid (1) = 100 } — no type */
    static const uint8_t bad[] = {0x0a, 0x02, 'n', '1', 0xaa, 0x01, 0x02, 0x08, 0x64};
    struct buf out = BUF_INIT;
    struct stripped_vmlist found;
    assert_false(report_strip_placements(bad, sizeof bad, &out, &found));
    assert_null(decoded_report_unpack(test_report_plan(), bad, sizeof bad, 1 << 20, NULL));
    /* the same entry with its type is a placement, and goes */
    static const uint8_t good[] = {0x0a, 0x02, 'n', '1', 0xaa, 0x01, 0x08, 0x08, 0x64, 0x12, 0x04, 'q', 'e', 'm', 'u'};
    assert_true(report_strip_placements(good, sizeof good, &out, &found));
    assert_int_equal(found.entries, 1);
    assert_int_equal(found.longest_string, 4);
    assert_null(found.problem);
    assert_int_equal(out.len, 4);
    assert_memory_equal(out.data, good, 4);
    buf_free(&out);
}

/* Truncated or malformed bytes: nothing stripped, the decoder decides. */
static void t_malformed(void **state)
{
    (void)state;
    static const uint8_t cut[] = {0xaa, 0x01, 0x10, 0x08};          /* says 16 bytes, has 1 */
    static const uint8_t group[] = {0x0b, 0x0c};                   /* wire type 3 */
    static const uint8_t long_varint[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    struct buf out = BUF_INIT;
    struct stripped_vmlist found;
    assert_false(report_strip_placements(cut, sizeof cut, &out, &found));
    assert_false(report_strip_placements(group, sizeof group, &out, &found));
    assert_false(report_strip_placements(long_varint, sizeof long_varint, &out, &found));
    assert_false(report_strip_placements(cut, 0, &out, &found));
    buf_free(&out);
}

/* ---- compact placements (Report.placements) ------------------------------ */

/* A .vmlist entry for the tests below. */
struct entry {
    uint32_t vmid;
    const char *node;
    bool lxc, configured;
    const char *ha;
};

/* e[0..n) as GuestConfigs, from a. */
static Pvescope__GuestConfig *configs_of(const struct entry *e, size_t n, struct arena *a)
{
    Pvescope__GuestConfig *g = arena_alloc(a, (n ? n : 1) * sizeof *g);
    for (size_t i = 0; i < n; i++) {
        guest(&g[i], e[i].vmid, e[i].node, e[i].configured);
        g[i].type = e[i].lxc ? "lxc" : "qemu";
        g[i].ha_state = (char *)e[i].ha;
    }
    return g;
}

/* The report an agent sends for e[0..n) (in vmid order): what only places
 * a guest in compact placements, the rest as GuestConfigs. Node ids: the
 * index of the first entry with the same node name. */
static uint8_t *agent_report(size_t *len, const struct entry *e, size_t n, struct arena *a)
{
    Pvescope__GuestConfig *all = configs_of(e, n, a), *kept = arena_alloc(a, (n ? n : 1) * sizeof *kept);
    size_t n_kept = 0;
    struct placements_builder b;
    placements_begin(&b, n, n, a);
    for (size_t i = 0; i < n; i++) {
        size_t id = 0;
        while (strcmp(e[id].node, e[i].node) != 0)
            id++;
        if (!placement_is_pure(&all[i]) || !placements_add(&b, e[i].vmid, e[i].lxc, (uint32_t)id, e[i].node))
            kept[n_kept++] = all[i];
    }
    return packed_compact(len, kept, n_kept, placements_finish(&b));
}

static void assert_same_entry(const Pvescope__GuestConfig *g, const struct entry *e)
{
    assert_int_equal(g->vmid, e->vmid);
    assert_string_equal(g->type, e->lxc ? "lxc" : "qemu");
    assert_string_equal(g->node, e->node);
    assert_int_equal(g->has_config, e->configured);
    if (e->ha)
        assert_string_equal(g->ha_state, e->ha);
    else
        assert_null(g->ha_state);
    assert_int_equal(g->cores, e->configured ? 4 : 0);
}

/* 100 configured on n1, 101 on n2, 102 on n3 with an HA state, 103
 * configured on n1, 104 a container on n4, 105 on n2: three go compact
 * (nodes n2, n4: deltas 101 3 1, node_type 0 3 0), 102 as a GuestConfig
 * that the stripped decode goes without too. */
static void t_compact_expanded_in_vmid_order(void **state)
{
    (void)state;
    static const struct entry e[] = {{100, "n1", false, true, NULL}, {101, "n2", false, false, NULL},
                                     {102, "n3", false, false, "started"}, {103, "n1", false, true, NULL},
                                     {104, "n4", true, false, NULL}, {105, "n2", false, false, NULL}};
    struct arena a;
    arena_init(&a, 4096);
    size_t len;
    uint8_t *wire = agent_report(&len, e, 6, &a);
    Pvescope__Report *sent = pvescope__report__unpack(NULL, len, wire);
    assert_int_equal(sent->n_guests, 3);
    assert_int_equal(sent->placements->n_nodes, 2);
    assert_string_equal(sent->placements->nodes[1], "n4");
    static const uint32_t delta[] = {101, 3, 1}, node_type[] = {0, 3, 0};
    assert_int_equal(sent->placements->n_vmid_delta, 3);
    assert_memory_equal(sent->placements->vmid_delta, delta, sizeof delta);
    assert_memory_equal(sent->placements->node_type, node_type, sizeof node_type);
    pvescope__report__free_unpacked(sent, NULL);

    struct decoded_report *d = decoded_report_unpack(test_report_plan(), wire, len, 1 << 20, NULL);
    free(wire);
    assert_non_null(d);
    assert_int_equal(d->stripped.entries, 4);          /* 3 compact + 102 */
    assert_int_equal(d->stripped.longest_string, 7);   /* "started" */
    assert_null(d->stripped.problem);
    assert_null(d->r->placements);
    assert_int_equal(d->r->n_guests, 2);
    const Pvescope__Report *full = decoded_vmlist_report(d);
    assert_int_equal(full->n_guests, 6);
    for (size_t i = 0; i < 6; i++)
        assert_same_entry(full->guests[i], &e[i]);
    assert_ptr_equal(decoded_config(d, 103), d->r->guests[1]);
    decoded_report_free(d);
    arena_free(&a);
}

/* The same .vmlist sent both ways decodes to the same list: 300 guests on 7
 * nodes, pve1's configured, one in eleven HA-managed. */
static void t_compact_same_as_old_form(void **state)
{
    (void)state;
    enum { N = 300 };
    static const char *const nodes[] = {"pve1", "pve2", "pve3", "pve4", "pve5", "pve6", "pve7"};
    struct entry e[N];
    for (size_t i = 0; i < N; i++) {
        const char *node = nodes[(i * 5) % 7];
        e[i] = (struct entry){100 + 3 * (uint32_t)i, node, i % 4 == 3, node == nodes[0], i % 11 ? NULL : "started"};
    }
    struct arena a;
    arena_init(&a, 1 << 16);
    size_t old_len, new_len;
    uint8_t *old_wire = packed_compact(&old_len, configs_of(e, N, &a), N, NULL);
    uint8_t *new_wire = agent_report(&new_len, e, N, &a);
    /* 2,327 and 5,943 bytes: 67 of the 300 entries say more than where they are */
    assert_true(new_len * 2 < old_len);
    struct decoded_report *old = decoded_report_unpack(test_report_plan(), old_wire, old_len, 1 << 22, NULL);
    struct decoded_report *new = decoded_report_unpack(test_report_plan(), new_wire, new_len, 1 << 22, NULL);
    assert_int_equal(old->stripped.entries, new->stripped.entries);
    assert_int_equal(old->r->n_guests, new->r->n_guests);
    const Pvescope__Report *a_full = decoded_vmlist_report(old), *b_full = decoded_vmlist_report(new);
    assert_int_equal(a_full->n_guests, N);
    assert_int_equal(b_full->n_guests, N);
    for (size_t i = 0; i < N; i++) {
        assert_same_entry(a_full->guests[i], &e[i]);
        assert_same_entry(b_full->guests[i], &e[i]);
    }
    decoded_report_free(old);
    decoded_report_free(new);
    free(old_wire);
    free(new_wire);
    arena_free(&a);
}

/* Guests out of vmid order (not what agents send): each placement goes
 * right before the first GuestConfig with a larger vmid. */
static void t_compact_order_with_unsorted_guests(void **state)
{
    (void)state;
    Pvescope__GuestConfig g[2];
    guest(&g[0], 500, "n1", true);
    guest(&g[1], 100, "n1", true);
    char *nodes[] = {"n2"};
    uint32_t delta[] = {200, 100, 500}, node_type[] = {0, 1, 0};
    Pvescope__VmPlacements p = PVESCOPE__VM_PLACEMENTS__INIT;
    p.nodes = nodes;
    p.n_nodes = 1;
    p.vmid_delta = delta;
    p.n_vmid_delta = 3;
    p.node_type = node_type;
    p.n_node_type = 3;
    size_t len;
    uint8_t *wire = packed_compact(&len, g, 2, &p);
    struct decoded_report *d = decoded_report_unpack(test_report_plan(), wire, len, 1 << 20, NULL);
    free(wire);
    const Pvescope__Report *full = decoded_vmlist_report(d);
    static const uint32_t order[] = {200, 300, 500, 100, 800};
    assert_int_equal(full->n_guests, 5);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(full->guests[i]->vmid, order[i]);
    assert_string_equal(full->guests[1]->type, "lxc");
    assert_string_equal(full->guests[4]->node, "n2");
    assert_false(full->guests[4]->has_config);
    decoded_report_free(d);
}

/* A report with placements p: the problem the wire check finds, which must
 * be the one placements_problem() finds in the decoded struct. */
static const char *problem_of(Pvescope__VmPlacements *p)
{
    size_t len;
    uint8_t *wire = packed_compact(&len, NULL, 0, p);
    struct decoded_report *d = decoded_report_unpack(test_report_plan(), wire, len, 1 << 20, NULL);
    Pvescope__Report *r = pvescope__report__unpack(NULL, len, wire);
    free(wire);
    assert_non_null(d);
    assert_non_null(r);
    const char *problem = d->stripped.problem;
    if (problem) {
        assert_string_equal(placements_problem(r->placements), problem);
        assert_ptr_equal(decoded_vmlist_report(d)->guests, d->r->guests);   /* not expanded: the configured guests only */
    } else {
        assert_null(placements_problem(r->placements));
    }
    pvescope__report__free_unpacked(r, NULL);
    decoded_report_free(d);
    return problem;
}

static void t_compact_malformed(void **state)
{
    (void)state;
    char *nodes[] = {"n2"};
    uint32_t delta[] = {100, 1}, node_type[] = {0, 1};
    Pvescope__VmPlacements p = PVESCOPE__VM_PLACEMENTS__INIT;
    p.nodes = nodes;
    p.n_nodes = 1;
    p.vmid_delta = delta;
    p.n_vmid_delta = 2;
    p.node_type = node_type;
    p.n_node_type = 2;
    assert_null(problem_of(&p));
    p.n_node_type = 1;
    assert_string_equal(problem_of(&p), "placements: vmid_delta and node_type differ in length");
    p.n_node_type = 2;
    node_type[1] = 2;                                  /* index 1 of one node */
    assert_string_equal(problem_of(&p), "placements: node index outside nodes");
    node_type[1] = 1;
    delta[0] = 0;                                      /* vmid 0 */
    assert_string_equal(problem_of(&p), "placements: a vmid delta of 0 (vmid 0, or vmids not increasing)");
    delta[0] = 100;
    delta[1] = 0;                                      /* 100 twice */
    assert_string_equal(problem_of(&p), "placements: a vmid delta of 0 (vmid 0, or vmids not increasing)");
    delta[0] = UINT32_MAX;
    delta[1] = 1;
    assert_string_equal(problem_of(&p), "placements: vmid beyond 2^32-1");
}

/* What only the wire check sees: the field twice, plain (unpacked) varints,
 * broken packed runs, a wrong wire type. */
static void t_compact_wire_forms(void **state)
{
    (void)state;
    struct buf out = BUF_INIT;
    struct stripped_vmlist found;
    /* node "n1"; field 25 { nodes "n2"; vmid_delta 101 (plain varint); node_type 1 (plain) } */
    static const uint8_t plain[] = {0x0a, 0x02, 'n', '1', 0xca, 0x01, 0x08, 0x0a, 0x02, 'n', '2',
                                    0x10, 0x65, 0x18, 0x01};
    assert_true(report_strip_placements(plain, sizeof plain, &out, &found));
    assert_null(found.problem);
    assert_int_equal(found.entries, 1);
    assert_int_equal(out.len, 4);
    struct decoded_report *d = decoded_report_unpack(test_report_plan(), plain, sizeof plain, 1 << 20, NULL);
    const Pvescope__Report *full = decoded_vmlist_report(d);
    assert_int_equal(full->n_guests, 1);
    assert_int_equal(full->guests[0]->vmid, 101);
    assert_string_equal(full->guests[0]->type, "lxc");
    decoded_report_free(d);
    /* the same field twice */
    uint8_t twice[sizeof plain + sizeof plain - 4];
    memcpy(twice, plain, sizeof plain);
    memcpy(twice + sizeof plain, plain + 4, sizeof plain - 4);
    assert_true(report_strip_placements(twice, sizeof twice, &out, &found));
    assert_string_equal(found.problem, "placements: Report.placements sent more than once");
    /* a packed run of vmid_delta whose last varint does not end in it */
    static const uint8_t cut_run[] = {0xca, 0x01, 0x04, 0x12, 0x02, 0x65, 0x80};
    assert_true(report_strip_placements(cut_run, sizeof cut_run, &out, &found));
    assert_string_equal(found.problem, "placements: a packed run that ends inside a value");
    /* vmid_delta as a fixed32 */
    static const uint8_t fixed[] = {0xca, 0x01, 0x05, 0x15, 0x65, 0x00, 0x00, 0x00};
    assert_true(report_strip_placements(fixed, sizeof fixed, &out, &found));
    assert_string_equal(found.problem, "placements: vmid_delta or node_type of the wrong wire type");
    /* a length past the end of the placements */
    static const uint8_t cut_node[] = {0xca, 0x01, 0x02, 0x0a, 0x05};
    assert_true(report_strip_placements(cut_node, sizeof cut_node, &out, &found));
    assert_string_equal(found.problem, "placements: not a well-formed message");
    /* field number 0, which protobuf-c refuses */
    static const uint8_t field0[] = {0xca, 0x01, 0x02, 0x00, 0x00};
    assert_true(report_strip_placements(field0, sizeof field0, &out, &found));
    assert_string_equal(found.problem, "placements: not a well-formed message");
    /* a node_type beyond 32 bits */
    static const uint8_t wide[] = {0xca, 0x01, 0x0e, 0x0a, 0x00, 0x10, 0x01, 0x18,
                                   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};   /* 2^57-1 */
    assert_true(report_strip_placements(wide, sizeof wide, &out, &found));
    assert_string_equal(found.problem, "placements: a value beyond 32 bits");
    buf_free(&out);
}

/* Node n1's report: guest 100 named name (configured, here), 101 placed on
 * n2 with an HA state, 100's runtime with cpu_seconds, and the time. The
 * runtime and the time sit between and around the inventory fields. */
static uint8_t *packed_cycle(size_t *len, const char *name, double cpu_seconds, int64_t at_ms)
{
    Pvescope__GuestConfig g[2], *gp[2] = {&g[0], &g[1]};
    guest(&g[0], 100, "n1", true);
    g[0].name = (char *)name;
    guest(&g[1], 101, "n2", false);
    g[1].ha_state = "started";
    Pvescope__GuestRuntime rt = PVESCOPE__GUEST_RUNTIME__INIT, *rtp = &rt;
    rt.vmid = 100;
    rt.type = "qemu";
    rt.has_cpu_seconds = true;
    rt.cpu_seconds = cpu_seconds;
    Pvescope__Report r = PVESCOPE__REPORT__INIT;
    r.node = "n1";
    r.has_collected_unix_ms = true;
    r.collected_unix_ms = at_ms;
    r.guests = gp;
    r.n_guests = 2;
    r.guest_runtime = &rtp;
    r.n_guest_runtime = 1;
    *len = pvescope__report__get_packed_size(&r);
    uint8_t *b = malloc(*len);
    pvescope__report__pack(&r, b);
    return b;
}

/* d's report packed again, to compare two decodes field by field. */
static uint8_t *repacked(const struct decoded_report *d, size_t *len)
{
    *len = pvescope__report__get_packed_size(d->r);
    uint8_t *b = malloc(*len ? *len : 1);
    pvescope__report__pack(d->r, b);
    return b;
}

/* The decode of next, sharing prev's inventory or not, must be the decode
 * of next on its own. */
static void assert_same_as_alone(const struct decoded_report *d, const uint8_t *wire, size_t len)
{
    struct decoded_report *alone = decoded_report_unpack(test_report_plan(), wire, len, 1 << 20, NULL);
    assert_non_null(alone);
    size_t a, b;
    uint8_t *pa = repacked(d, &a), *pb = repacked(alone, &b);
    assert_int_equal(a, b);
    assert_memory_equal(pa, pb, a);
    free(pa);
    free(pb);
    decoded_report_free(alone);
}

/* A node's next report with the same inventory bytes shares the decode of
 * them, and outlives the report it shared them with; a changed config is
 * decoded anew. */
static void t_inventory_shared_while_unchanged(void **state)
{
    (void)state;
    size_t l1, l2, l3;
    uint8_t *w1 = packed_cycle(&l1, "web", 1.5, 1000), *w2 = packed_cycle(&l2, "web", 2.5, 2000),
            *w3 = packed_cycle(&l3, "db", 3.5, 3000);
    struct decoded_report *d1 = decoded_report_unpack_next(test_report_plan(), w1, l1, 1 << 20, NULL, NULL);
    struct decoded_report *d2 = decoded_report_unpack_next(test_report_plan(), w2, l2, 1 << 20, d1, NULL);
    assert_non_null(d1);
    assert_non_null(d2);
    assert_non_null(d1->inventory);
    assert_ptr_equal(d2->inventory, d1->inventory);
    assert_false(d1->inventory_reused);
    assert_true(d2->inventory_reused);
    assert_ptr_equal(d2->r->guests, d1->r->guests);
    assert_same_as_alone(d2, w2, l2);
    decoded_report_free(d1);                          /* d2 keeps the inventory alive */
    assert_int_equal(d2->r->n_guests, 1);
    assert_string_equal(decoded_config(d2, 100)->name, "web");
    assert_true(decoded_runtime(d2, 100, "qemu")->cpu_seconds == 2.5);
    assert_int_equal(d2->r->collected_unix_ms, 2000);
    const Pvescope__Report *full = decoded_vmlist_report(d2);
    assert_int_equal(full->n_guests, 2);
    assert_string_equal(full->guests[1]->ha_state, "started");
    struct decoded_report *d3 = decoded_report_unpack_next(test_report_plan(), w3, l3, 1 << 20, d2, NULL);
    assert_non_null(d3);
    assert_ptr_not_equal(d3->inventory, d2->inventory);
    assert_false(d3->inventory_reused);
    assert_string_equal(decoded_config(d3, 100)->name, "db");
    assert_string_equal(decoded_config(d2, 100)->name, "web");
    assert_same_as_alone(d3, w3, l3);
    decoded_report_free(d2);
    decoded_report_free(d3);
    free(w1);
    free(w2);
    free(w3);
}

/* A report whose rest does not decode is refused with the offsets of the
 * report as sent, shared inventory or not. */
static void t_split_error_offsets(void **state)
{
    (void)state;
    size_t l1, l2;
    uint8_t *w1 = packed_cycle(&l1, "web", 1.5, 1000), *w2 = packed_cycle(&l2, "web", 2.5, 2000);
    struct decoded_report *d1 = decoded_report_unpack_next(test_report_plan(), w1, l1, 1 << 20, NULL, NULL);
    assert_non_null(d1);
    /* field 3 (host), well-formed outside, a cut varint inside: the split
     * reads it, the decode of the rest refuses it */
    const uint8_t host[] = {0x1a, 0x02, 0x08, 0x80};
    uint8_t *bad = malloc(l2 + sizeof host);
    memcpy(bad, w2, l2);
    memcpy(bad + l2, host, sizeof host);
    struct pbdecode_error e1, e2;
    assert_null(decoded_report_unpack_next(test_report_plan(), bad, l2 + sizeof host, 1 << 20, d1, &e1));
    assert_null(decoded_report_unpack(test_report_plan(), bad, l2 + sizeof host, 1 << 20, &e2));
    assert_int_equal(e1.status, e2.status);
    assert_int_equal(e1.offset, e2.offset);
    assert_true(e1.offset > 20);                      /* in the host field, after the guests */
    decoded_report_free(d1);
    free(bad);
    free(w1);
    free(w2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_placements_decoded_on_demand), cmocka_unit_test(t_nothing_to_strip),
        cmocka_unit_test(t_invalid_entry_still_refused), cmocka_unit_test(t_malformed),
        cmocka_unit_test(t_compact_expanded_in_vmid_order), cmocka_unit_test(t_compact_same_as_old_form),
        cmocka_unit_test(t_compact_order_with_unsorted_guests), cmocka_unit_test(t_compact_malformed),
        cmocka_unit_test(t_compact_wire_forms), cmocka_unit_test(t_inventory_shared_while_unchanged),
        cmocka_unit_test(t_split_error_offsets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
