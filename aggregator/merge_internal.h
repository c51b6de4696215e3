/* merge_internal.h — what merge.c (the scrape-time cluster merge) shares with
 * merge_home.c (the same series of a node's own guests, rendered at ingest),
 * so that both write a guest's series with the same code. */
#ifndef PVESCOPE_MERGE_INTERNAL_H
#define PVESCOPE_MERGE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "merge.h"

/* One .vmlist guest joined with its configuration and runtime. */
struct merged_guest {
    const Pvescope__GuestConfig *place;     /* the .vmlist entry */
    const Pvescope__GuestConfig *cfg;       /* has_config entry, or NULL */
    const Pvescope__GuestRuntime *rt;       /* from the placement node, or NULL */
    char *labels;                           /* id="qemu/100",pve_cluster="..." (malloc'd) */
    size_t labels_len;
    const char *name;                       /* the config's, or default_name */
    char default_name[32];                  /* PVE's "VM <vmid>" / "CT<vmid>" */
    /* Worked out once, not in each of the ~40 families a guest writes: */
    bool lxc;                               /* place->type is "lxc" */
    uint32_t vmid;                          /* place's */
    const char *type;                       /* place's type ("qemu" and "lxc" as literals) */
    const char *place_ha_state;             /* place's, or NULL */
    double cpus;                            /* PVE's maxcpu from cfg (guest_cpus()), 0 unknown */
    bool has_boot_disk;                     /* cfg's boot disk size */
    uint64_t boot_disk_bytes;
    int lock_state, ha_state;               /* index of the current state in merge.c's lists, -1 for none */
    char *devices;                          /* device="<name>" of rt's NICs, then disks, NUL-terminated each */
    size_t *device_at;                      /* where each one starts in devices */
    bool devices_shared;                    /* devices and device_at belong to a block of several guests */
};

/* Sets what g's series need from g->place, g->cfg and g->rt: name, labels,
 * type, states, device labels. merged_guest_release() frees them. */
void merged_guest_prepare(struct merged_guest *g, const char *cluster);
void merged_guest_release(struct merged_guest *g);

/* Frees g's device labels and forgets its runtime. */
void merged_guest_drop_runtime(struct merged_guest *g);

/* The device labels of n guests whose rt is set and who have none yet, in
 * one block for all of them (returned: free() it after the guests' last
 * use, having dropped their runtimes). */
void *merged_guests_device_labels(struct merged_guest *g, size_t n);

/* True for the families a cluster merge writes (guests, nodes, storages,
 * the cluster itself). */
bool merge_family(enum family_id f);

/* True for the families whose guest samples depend on nothing but the
 * guest's .vmlist entry, its configuration and the cluster's name: equal
 * inventories (decode.h) give them equal text. */
bool merge_family_config_only(enum family_id f);

/* Writes guest g's samples of family f. */
void merged_guest_samples(struct node_render *nr, enum family_id f, const struct merged_guest *g,
                          const struct merge_opts *o);

/* A guest pre-rendered at ingest, as merge_home.c checks it at a scrape. */
struct prerendered_guest {
    uint32_t vmid;
    const char *type;
    const char *ha_state;                   /* the report's .vmlist entry's; may be NULL */
};

/* Of a cluster's n merged guests (g, joined from auth's .vmlist), marks in
 * skip[] those a node's home_guests render holds exactly as the merge would
 * write them, for the nodes all of whose pre-rendered guests are so placed,
 * and returns those renders and their config_parts (one reference each)
 * in *parts. */
size_t merge_home_select(const struct scrape_node *nodes, size_t n_nodes, const struct merged_guest *g, size_t n,
                         bool *skip, struct node_render ***parts);

#endif
