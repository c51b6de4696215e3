/* collectors.c — the collector registry and helpers shared by collectors.
 *
 * Adding a collector: write agent/<name>.c exporting `const struct collector
 * collector_<name>`, declare it in collector.h, list it here, add it to
 * CMakeLists.txt. Flags (--collector.<name>) and --help follow from this table. */
#include "collector.h"

#include <stdarg.h>
#include <stdio.h>

const struct collector *const collector_registry[] = {
    &collector_stat,
    &collector_meminfo,
    &collector_loadavg,
    &collector_uptime,
    &collector_pressure,
    &collector_diskstats,
    &collector_netdev,
    &collector_bootid,
    &collector_pve,
    &collector_cluster,
    &collector_guests,
    &collector_storage,
    &collector_nvme,
    &collector_thinpool,   /* appends lvmthin usage to storage's */
    &collector_sensors,
    &collector_zfs,
};
const size_t collector_registry_len = sizeof collector_registry / sizeof collector_registry[0];

int collector_fail(struct collector_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->err, sizeof ctx->err, fmt, ap);
    va_end(ap);
    return -1;
}

Pvescope__Host *report_host(Pvescope__Report *r, struct arena *a)
{
    if (!r->host) {
        r->host = arena_alloc(a, sizeof *r->host);
        pvescope__host__init(r->host);
    }
    return r->host;
}

uint64_t collectors_capabilities(const bool *enabled)
{
    uint64_t wanted = 0;
    for (size_t i = 0; i < collector_registry_len; i++)
        if (enabled[i])
            wanted |= collector_registry[i]->capabilities;
    return wanted;
}
