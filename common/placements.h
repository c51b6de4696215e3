/* placements.h — the compact .vmlist placements (Report.placements,
 * pvescope.proto VmPlacements): written by the agent (and the fleet
 * simulator, which must send what an agent sends), expanded back into
 * GuestConfig entries by the aggregator.
 *
 * Every agent sends its cluster's whole .vmlist so each report stands on its
 * own. In a 37-node cluster that is ~1,500 entries, almost all of them "guest
 * V is a qemu/lxc guest on node N": 37 KB as GuestConfig messages, which the
 * aggregator had to authenticate and skip in every report. As vmid deltas
 * and node indexes they are ~3 KB. */
#ifndef PVESCOPE_PLACEMENTS_H
#define PVESCOPE_PLACEMENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "pvescope.pb-c.h"

/* Builds one VmPlacements from entries given in increasing vmid order. The
 * caller numbers its node names 0..n_node_ids-1 (an agent: once per .vmlist);
 * the message names only the nodes its entries use, in order of first use. */
struct placements_builder {
    Pvescope__VmPlacements *msg;
    uint32_t *slot_of_node;        /* caller's node id -> index in msg->nodes, or UINT32_MAX */
    size_t n_node_ids, max_entries;
    uint32_t last_vmid;
};

/* Starts an empty message with room for max_entries entries, everything in a
 * (valid until the arena is reset, like the rest of the report). */
void placements_begin(struct placements_builder *b, size_t max_entries, size_t n_node_ids, struct arena *a);

/* Appends guest vmid (lxc or qemu) placed on node node_id, named node (not
 * copied: it must live until the report is packed). Returns false, adding
 * nothing, when the entry cannot be sent compactly: vmid 0 or not above the
 * last one added, node_id out of range, or the room is used up. The caller
 * then sends that entry as a GuestConfig, so nothing is ever lost. */
bool placements_add(struct placements_builder *b, uint32_t vmid, bool lxc, uint32_t node_id, const char *node);

/* The message, or NULL when no entry was added (the field is then left out). */
Pvescope__VmPlacements *placements_finish(const struct placements_builder *b);

/* Whether g carries nothing but vmid, node and type "qemu" or "lxc" (no
 * configuration, no HA state, no unknown fields), so it may be sent in
 * compact form without losing anything. */
bool placement_is_pure(const Pvescope__GuestConfig *g);

/* NULL when p decodes (see pvescope.proto VmPlacements), else what is wrong
 * with it, for the reject log. */
const char *placements_problem(const Pvescope__VmPlacements *p);

/* The .vmlist of a report: guests and p's entries merged by vmid (the order
 * pvescope.proto defines), as one array of n_guests + entries pointers. The
 * expanded entries are GuestConfigs with vmid, type and node set and
 * has_config false, as an old agent would have sent them; their strings
 * point into p (and at static "qemu"/"lxc"), so they live as long as p.
 * Memory (array and entries) comes from one alloc->alloc call. Returns
 * false, with *out untouched, when p does not decode or memory is short. */
bool placements_expand(Pvescope__GuestConfig *const *guests, size_t n_guests, const Pvescope__VmPlacements *p,
                       ProtobufCAllocator *alloc, Pvescope__GuestConfig ***out, size_t *n_out);

#endif
