/* fuzz_report.c — arbitrary bytes as the PLAINTEXT of a correctly sealed
 * envelope, so the fuzzer reaches what only an authenticated (buggy or
 * compromised) agent can send: bounded Report decode, validation, rendering,
 * publishing, and a scrape of the result including the cluster merge (each
 * input alternates between two node names, so merges see several reports).
 * Also checks that the wire check of compact placements (wire_strip.c) and
 * the check of the decoded struct (placements.c) agree: what passes on the
 * wire must expand; and that a report decoded sharing the inventory of an
 * earlier decode of itself (decode.h) is the report decoded alone. */
#include "fuzz_common.h"
#include "decode.h"
#include "merge.h"
#include "placements.h"
#include "wire_strip.h"

/* Aborts when the wire check passed placements the decoder reads as ones
 * that do not decode. */
static void wire_check_agrees(const uint8_t *data, size_t size)
{
    struct buf stripped = BUF_INIT;
    struct stripped_vmlist found;
    if (report_strip_placements(data, size, &stripped, &found) && !found.problem) {
        Pvescope__Report *r = pvescope__report__unpack(NULL, size, data);
        if (r && r->placements && placements_problem(r->placements))
            abort();
        pvescope__report__free_unpacked(r, NULL);
    }
    buf_free(&stripped);
}

static uint8_t *repacked(const struct decoded_report *d, size_t *len)
{
    *len = pvescope__report__get_packed_size(d->r);
    uint8_t *b = malloc(*len ? *len : 1);
    if (!b)
        abort();
    pvescope__report__pack(d->r, b);
    return b;
}

/* Aborts when data decoded after itself (its inventory shared) differs from
 * data decoded alone, or only one of the two decodes. */
static void shared_decode_agrees(const struct pbdecode_plan *plan, const uint8_t *data, size_t size)
{
    size_t budget = size * 128 + 4096;
    struct decoded_report *alone = decoded_report_unpack(plan, data, size, budget, NULL);
    if (!alone)
        return;
    struct decoded_report *again = decoded_report_unpack_next(plan, data, size, budget, alone, NULL);
    if (!again || (alone->inventory && again->inventory != alone->inventory))
        abort();
    size_t a, b;
    uint8_t *pa = repacked(alone, &a), *pb = repacked(again, &b);
    if (a != b || memcmp(pa, pb, a) != 0)
        abort();
    free(pa);
    free(pb);
    decoded_report_free(alone);
    decoded_report_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_world *w = fuzz_world();
    static uint64_t seq;
    seq++;
    struct envelope_header h = {"fuzz", seq % 2 ? "pve1" : "pve2", "", seq, FUZZ_NOW_MS};
    struct buf wire = BUF_INIT;
    envelope_seal(&w->key, &h, data, size, &wire);
    ingest_process(&w->ig, (const uint8_t *)wire.data, wire.len, 1.0, FUZZ_NOW_MS);
    buf_free(&wire);
    wire_check_agrees(data, size);
    shared_decode_agrees(w->ig.report_plan, data, size);
    struct store_snapshot snap;
    store_snapshot(&w->store, 1.0, &snap);
    struct buf out = BUF_INIT;
    struct merge_opts o = {seq % 3 == 0};
    scrape_write(&out, &snap.in, &o);
    store_snapshot_release(&snap);
    buf_free(&out);
    return 0;
}
