/* thinpool.h — the thinpool collector's seams for tests: the device-mapper
 * access it uses (libdm by default, thinpool.c) can be replaced by canned
 * devices, and its lvmthin storage usage is a pure function. */
#ifndef PVESCOPE_THINPOOL_H
#define PVESCOPE_THINPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "collector.h"

struct dm_device {
    const char *name;
    unsigned major, minor;
};

struct dm_target {
    uint64_t start, length;          /* 512-byte sectors */
    const char *type, *params;       /* never NULL */
};

struct dm_query {
    bool exists;                     /* false: the device vanished since the list */
    unsigned major, minor;
    const char *uuid;                /* "" when the device has none */
    size_t n_targets;
    struct dm_target *targets;
};

/* Device-mapper access; every string and array is allocated from ctx->arena.
 *   list   all devices; -1 with err when device-mapper cannot be used at all
 *   query  the STATUS (table=false; never flushing pool metadata) or TABLE
 *          of one device; -1 with err when the ioctl failed
 *   end    after each cycle (libdm: release the control fd) */
struct thinpool_dm_ops {
    int (*list)(void *arg, struct collector_ctx *ctx, struct dm_device **devs, size_t *n, char *err,
                size_t errlen);
    int (*query)(void *arg, struct collector_ctx *ctx, const char *name, bool table, struct dm_query *q,
                 char *err, size_t errlen);
    void (*end)(void *arg);
};

/* Replaces the collector's device-mapper access (NULL ops: libdm again). */
void thinpool_collector_set_dm(void *state, const struct thinpool_dm_ops *ops, void *arg);

/* Appends to r->storage_usage one StorageUsage per lvmthin storage of
 * r->storages enabled on r->node, from the pools in r->thin_pools:
 * total = data_total_blocks·block·512, used = data_used_blocks·block·512,
 * avail = total − used, active; active=false without sizes when no pool of
 * that vgname/thinpool is present; active without sizes when the pool's
 * numbers are unknown (failed pool, unreadable table). */
void thinpool_storage_usage(Pvescope__Report *r, struct arena *a);

#endif
