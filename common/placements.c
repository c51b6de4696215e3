/* placements.c — see placements.h. */
#include "placements.h"

#include <string.h>

#define NO_SLOT UINT32_MAX

void placements_begin(struct placements_builder *b, size_t max_entries, size_t n_node_ids, struct arena *a)
{
    memset(b, 0, sizeof *b);
    b->msg = arena_alloc(a, sizeof *b->msg);
    pvescope__vm_placements__init(b->msg);
    b->msg->vmid_delta = arena_alloc(a, (max_entries ? max_entries : 1) * sizeof *b->msg->vmid_delta);
    b->msg->node_type = arena_alloc(a, (max_entries ? max_entries : 1) * sizeof *b->msg->node_type);
    b->msg->nodes = arena_alloc(a, (n_node_ids ? n_node_ids : 1) * sizeof *b->msg->nodes);
    b->slot_of_node = arena_alloc(a, (n_node_ids ? n_node_ids : 1) * sizeof *b->slot_of_node);
    memset(b->slot_of_node, 0xff, (n_node_ids ? n_node_ids : 1) * sizeof *b->slot_of_node);
    b->n_node_ids = n_node_ids;
    b->max_entries = max_entries;
}

bool placements_add(struct placements_builder *b, uint32_t vmid, bool lxc, uint32_t node_id, const char *node)
{
    Pvescope__VmPlacements *m = b->msg;
    /* index << 1 must fit the uint32 node_type: beyond 2^31 nodes cannot happen */
    if (vmid <= b->last_vmid || node_id >= b->n_node_ids || m->n_vmid_delta >= b->max_entries ||
        node_id > UINT32_MAX >> 1)
        return false;
    uint32_t slot = b->slot_of_node[node_id];
    if (slot == NO_SLOT) {
        slot = (uint32_t)m->n_nodes;
        b->slot_of_node[node_id] = slot;
        m->nodes[m->n_nodes++] = (char *)node;
    }
    m->vmid_delta[m->n_vmid_delta++] = vmid - b->last_vmid;
    m->node_type[m->n_node_type++] = slot << 1 | (lxc ? 1u : 0u);
    b->last_vmid = vmid;
    return true;
}

Pvescope__VmPlacements *placements_finish(const struct placements_builder *b)
{
    return b->msg->n_vmid_delta ? b->msg : NULL;
}

bool placement_is_pure(const Pvescope__GuestConfig *g)
{
    bool qemu_or_lxc = g->type && (strcmp(g->type, "qemu") == 0 || strcmp(g->type, "lxc") == 0);
    return qemu_or_lxc && g->vmid != 0 && g->node && !g->has_config && !g->name && !g->has_sockets &&
           !g->has_cores && !g->has_vcpus && !g->has_cpulimit && !g->has_cpus && !g->has_memory_bytes &&
           !g->has_balloon_bytes && !g->has_swap_bytes && !g->tags && !g->has_template_ && !g->has_onboot &&
           !g->lock && g->n_disks == 0 && g->n_nics == 0 && !g->has_boot_disk_bytes && !g->ha_state &&
           g->base.n_unknown_fields == 0;
}

const char *placements_problem(const Pvescope__VmPlacements *p)
{
    if (p->n_vmid_delta != p->n_node_type)
        return "placements: vmid_delta and node_type differ in length";
    uint64_t vmid = 0;
    for (size_t i = 0; i < p->n_vmid_delta; i++) {
        if (p->vmid_delta[i] == 0)
            return "placements: a vmid delta of 0 (vmid 0, or vmids not increasing)";
        vmid += p->vmid_delta[i];
        if (vmid > UINT32_MAX)
            return "placements: vmid beyond 2^32-1";
        if ((p->node_type[i] >> 1) >= p->n_nodes)
            return "placements: node index outside nodes";
    }
    for (size_t i = 0; i < p->n_nodes; i++)
        if (!p->nodes[i])
            return "placements: a node without a name";
    return NULL;
}

/* Entry i of p, whose vmid is already known. */
static void expand_one(Pvescope__GuestConfig *g, const Pvescope__VmPlacements *p, size_t i, uint32_t vmid)
{
    pvescope__guest_config__init(g);
    g->vmid = vmid;
    g->type = (p->node_type[i] & 1) ? "lxc" : "qemu";
    g->node = p->nodes[p->node_type[i] >> 1];
}

bool placements_expand(Pvescope__GuestConfig *const *guests, size_t n_guests, const Pvescope__VmPlacements *p,
                       ProtobufCAllocator *alloc, Pvescope__GuestConfig ***out, size_t *n_out)
{
    size_t n = p->n_vmid_delta, total = n_guests + n;
    if (placements_problem(p) || total < n_guests ||
        total > (SIZE_MAX - n * sizeof(Pvescope__GuestConfig)) / sizeof(Pvescope__GuestConfig *))
        return false;
    /* entries first: their alignment is at least the pointers' */
    Pvescope__GuestConfig *e = alloc->alloc(alloc->allocator_data,
                                            n * sizeof *e + (total ? total : 1) * sizeof(Pvescope__GuestConfig *));
    if (!e)
        return false;
    Pvescope__GuestConfig **list = (Pvescope__GuestConfig **)(void *)(e + n);
    size_t k = 0, j = 0;
    uint32_t vmid = 0;                       /* of the last entry expanded */
    for (size_t i = 0; i < n_guests; i++) {
        while (j < n && vmid + p->vmid_delta[j] < guests[i]->vmid) {
            vmid += p->vmid_delta[j];
            expand_one(&e[j], p, j, vmid);
            list[k++] = &e[j++];
        }
        list[k++] = guests[i];
    }
    for (; j < n; j++) {
        vmid += p->vmid_delta[j];
        expand_one(&e[j], p, j, vmid);
        list[k++] = &e[j];
    }
    *out = list;
    *n_out = total;
    return true;
}
