/* fuzz_proc.c — every /proc parser of the agent. The first input byte picks
 * the parser, the rest is the file's text. A truncated or hostile /proc
 * (a container's fake procfs, a kernel bug) must never crash the agent. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_text.h"
#include "proc_parsers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run_parser(unsigned which, const char *text, struct arena *a)
{
    struct parse_err err;
    memset(&err, 0, sizeof err);
    switch (which % 8) {
    case 0: {
        struct proc_stat prev, cur;
        double usage, iowait;
        if (parse_proc_stat(text, &cur, &err) == 0) {
            prev = cur;
            prev.cpu[0] /= 2;
            proc_stat_cpu_ratio(&prev, &cur, &usage, &iowait);
        }
        break;
    }
    case 1: {
        Pvescope__Memory m = PVESCOPE__MEMORY__INIT;
        parse_meminfo(text, &m, &err);
        break;
    }
    case 2: {
        struct loadavg l;
        parse_loadavg(text, &l, &err);
        break;
    }
    case 3: {
        struct uptime u;
        parse_uptime(text, &u, &err);
        break;
    }
    case 4: {
        Pvescope__PressureResource r = PVESCOPE__PRESSURE_RESOURCE__INIT;
        parse_pressure(text, &r, &err);
        break;
    }
    case 5: {
        Pvescope__Disk **disks;
        size_t n;
        parse_diskstats(text, a, NULL, NULL, &disks, &n, &err);
        break;
    }
    case 6: {
        Pvescope__NetDev **devs;
        size_t n;
        parse_netdev(text, a, false, &devs, &n, &err);
        parse_netdev(text, a, true, &devs, &n, &err);
        break;
    }
    default: {
        char id[BOOT_ID_LEN + 1];
        parse_boot_id(text, id, &err);
        break;
    }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_mode_text(data, size);
    if (!text)
        return 0;
    struct arena a;
    arena_init(&a, 4096);
    run_parser(data[0], text, &a);
    arena_free(&a);
    free(text);
    return 0;
}
