/* collector.h — the one interface every agent collector implements.
 *
 * A collector reads one source (a /proc file, a library) and fills its part of
 * the Report. It never blocks on another collector and never fails the whole
 * report: on error it returns -1 with a message in ctx->err, the agent marks
 * it failed in the report (pvescope_collector_success 0) and the rest of the
 * report still goes out.
 *
 * Lifecycle, driven by agent/report.c:
 *   init(&state, ctx)        once at start, optional; non-zero disables the collector
 *   collect(state, ctx, r)   every interval; allocate everything from ctx->arena
 *   fini(state)              once at exit, optional
 */
#ifndef PVESCOPE_COLLECTOR_H
#define PVESCOPE_COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "fileio.h"
#include "pvescope.pb-c.h"

struct collector_ctx {
    const char *procfs;      /* --path.procfs, default /proc */
    const char *sysfs;       /* --path.sysfs, default /sys */
    const char *pve;         /* --path.pve, default /etc/pve */
    const char *run;         /* --path.run, default /run (qemu-server pid files) */
    const char *rootfs;      /* --path.rootfs, default / (installed files: pve-manager's version) */
    struct arena *arena;     /* memory for report contents; reset after each send */
    struct buf *scratch;     /* reusable file buffer; contents undefined on entry */
    struct file_cache *files;/* open files kept across cycles; NULL = read uncached */
    double now_monotonic;    /* seconds, CLOCK_MONOTONIC, same for all collectors in a cycle */
    char err[256];           /* set by a collector that returns -1 */
};

struct collector {
    const char *name;        /* --collector.<name> / --no-collector.<name> */
    const char *help;        /* one line for --help and docs */
    bool default_enabled;
    /* Capabilities collect() needs beyond uid 0 (CAP_BIT(CAP_...), privileges.h).
     * The agent keeps the union over the enabled collectors and drops the rest
     * at start, so a collector that forgets one fails with EPERM in tests. */
    uint64_t capabilities;
    int  (*init)(void **state, struct collector_ctx *ctx);
    int  (*collect)(void *state, struct collector_ctx *ctx, Pvescope__Report *r);
    void (*fini)(void *state);
};

/* Records a collector error in ctx->err (printf style) and returns -1. */
int collector_fail(struct collector_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Returns the report's Host message, creating it on first use (several
 * collectors contribute to it). */
Pvescope__Host *report_host(Pvescope__Report *r, struct arena *a);

/* Union of the capabilities the enabled collectors declare; enabled is
 * indexed like collector_registry. */
uint64_t collectors_capabilities(const bool *enabled);

/* The registry: every collector the agent knows, in collection order. */
extern const struct collector *const collector_registry[];
extern const size_t collector_registry_len;

/* One declaration per collector file. */
extern const struct collector collector_stat;       /* proc_stat.c */
extern const struct collector collector_meminfo;    /* meminfo.c */
extern const struct collector collector_loadavg;    /* loadavg.c */
extern const struct collector collector_uptime;     /* uptime.c */
extern const struct collector collector_diskstats;  /* diskstats.c */
extern const struct collector collector_netdev;     /* netdev.c */
extern const struct collector collector_pressure;   /* pressure.c */
extern const struct collector collector_bootid;     /* bootid.c */
extern const struct collector collector_pve;        /* pve_members.c */
extern const struct collector collector_cluster;    /* pve_cluster.c */
extern const struct collector collector_guests;     /* guests.c */
extern const struct collector collector_storage;    /* storage.c; after cluster: reads Report.storages */
extern const struct collector collector_nvme;       /* nvme.c */
extern const struct collector collector_thinpool;   /* thinpool.c; after cluster and storage */
extern const struct collector collector_sensors;    /* sensors.c */
extern const struct collector collector_zfs;        /* zfs.c */

#endif
