/* wire_strip.h — drops the placement-only .vmlist entries from a packed
 * Report before it is decoded.
 *
 * Every agent sends its cluster's whole .vmlist (Report.placements, or
 * Report.guests from agents before issue 7), but only
 * one report per cluster is the merge's authoritative placement at a time.
 * Decoding the placement entries of every report costs most of ingest and
 * most of the aggregator's memory (thousands of 200-byte structs a report,
 * for 40 guests of its own). So ingest decodes the report without them and
 * keeps the packed bytes; the merge decodes the whole report only for the
 * report it makes authoritative (decode.h: decoded_vmlist_report()). */
#ifndef PVESCOPE_WIRE_STRIP_H
#define PVESCOPE_WIRE_STRIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* What the stripped decode goes without, for the ingest limits: the
 * entries of Report.placements are checked here, on the wire, because
 * nothing else looks at them before a merge asks for the whole report. */
struct stripped_vmlist {
    size_t entries;                /* placement-only GuestConfigs + Report.placements entries */
    size_t longest_string;         /* bytes of the longest node, type or HA state among them */
    const char *problem;           /* why Report.placements does not decode as pvescope.proto
                                    * says (static text), or NULL */
};

/* Writes in[0..len) to out without its placement-only guests: Report field
 * 21 entries made of vmid, type, node and ha_state only, with the required
 * vmid and type present and has_config unset or false; and without field 25
 * (placements), whatever it holds: found says what that was. Returns false,
 * with out and found unspecified, when there was nothing to drop, or when
 * the bytes are not a well-formed message (the caller then decodes them as
 * they are, and the decoder says what is wrong). */
bool report_strip_placements(const uint8_t *in, size_t len, struct buf *out, struct stripped_vmlist *found);

/* A report's inventory sections: the Report fields that change only when
 * the cluster's configuration does (20 cluster, 21 guests, 22 storages,
 * 25 placements), as spans of the packed report, adjacent fields joined. An
 * agent sends them unchanged cycle after cycle, so ingest recognises them by
 * their bytes and reuses what it made of them last time (decode.h). */
struct wire_span {
    size_t off, len;
};

struct inventory_spans {
    struct wire_span *spans;       /* malloc'd; free() when done */
    size_t n, cap;
    size_t total;                  /* bytes in all spans */
};

/* Splits in[0..len) into its inventory spans and, copied to rest in order,
 * every other field. False, with spans and rest unspecified, when the bytes
 * are not a sequence of well-formed fields (the caller then decodes them
 * whole, and the decoder says what is wrong). */
bool report_split_inventory(const uint8_t *in, size_t len, struct inventory_spans *spans, struct buf *rest);

#endif
