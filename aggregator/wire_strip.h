/* wire_strip.h — drops the placement-only .vmlist entries from a packed
 * Report before it is decoded.
 *
 * Every agent sends its cluster's whole .vmlist (Report.guests), but only
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

/* Writes in[0..len) to out without its placement-only guests: Report field
 * 21 entries made of vmid, type, node and ha_state only, with the required
 * vmid and type present and has_config unset or false. Returns false, with
 * out unspecified, when there was none, or when the bytes are not a
 * well-formed message (the caller then decodes them as they are, and the
 * decoder says what is wrong). */
bool report_strip_placements(const uint8_t *in, size_t len, struct buf *out);

#endif
