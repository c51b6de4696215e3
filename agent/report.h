/* report.h — one collection cycle: run every enabled collector into a Report.
 *
 * The reporter owns the collectors' states, the per-cycle arena and the
 * per-collector error counters. A Report returned by reporter_collect() lives
 * in the arena until the next reporter_collect() or reporter_free(). */
#ifndef PVESCOPE_REPORT_H
#define PVESCOPE_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "collector.h"

struct reporter_paths {
    const char *procfs;
    const char *sysfs;
    const char *pve;
    const char *run;
    const char *rootfs;
};

struct reporter {
    struct reporter_paths paths;
    size_t n;                          /* == collector_registry_len */
    bool *enabled;                     /* per registry entry, after init */
    void **state;
    uint64_t *errors_total;
    uint64_t *warnings_total;
    char (*last_error)[256];           /* last logged error, to log changes once */
    struct arena arena;
    struct buf scratch;
    struct file_cache files;
};

/* enabled[i] selects registry entry i. Collectors whose init fails are
 * disabled with a warning; returns the number left enabled. */
size_t reporter_init(struct reporter *rp, const struct reporter_paths *paths, const bool *enabled);

/* Runs one cycle. node is copied into the report. */
Pvescope__Report *reporter_collect(struct reporter *rp, const char *node);

void reporter_free(struct reporter *rp);

/* Looks a collector up by name; returns its registry index or -1. */
int collector_index(const char *name);

#endif
