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

#include "decode.h"
#include "wire_strip.h"

#define MAX_GUESTS 8

/* A report of node n1 with .vmlist entries: 100 configured on n1, 101
 * placed on n2, 102 placed on n3 with an HA state, 103 configured on n1. */
static uint8_t *packed_report(size_t *len, Pvescope__GuestConfig *g, size_t n)
{
    Pvescope__Report r = PVESCOPE__REPORT__INIT;
    Pvescope__GuestConfig *ptrs[MAX_GUESTS];
    for (size_t i = 0; i < n; i++)
        ptrs[i] = &g[i];
    r.node = "n1";
    r.guests = ptrs;
    r.n_guests = n;
    *len = pvescope__report__get_packed_size(&r);
    uint8_t *b = malloc(*len);
    pvescope__report__pack(&r, b);
    return b;
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
    struct decoded_report *d = decoded_report_unpack(wire, len, 1 << 20);
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
    struct decoded_report *d = decoded_report_unpack(wire, len, 1 << 20);
    free(wire);
    assert_non_null(d);
    assert_null(d->wire);
    assert_ptr_equal(decoded_vmlist_report(d), d->r);
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
    assert_null(decoded_report_unpack(bad, sizeof bad, 1 << 20));
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_placements_decoded_on_demand), cmocka_unit_test(t_nothing_to_strip),
        cmocka_unit_test(t_invalid_entry_still_refused), cmocka_unit_test(t_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
