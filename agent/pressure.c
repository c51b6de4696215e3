/* pressure.c — the "pressure" collector: PSI from /proc/pressure into Report.host.pressure.
 *
 * Reads /proc/pressure/{cpu,io,memory}: the cumulative stall time (µs) and
 * avg10 of the "some" and "full" lines. A kernel without PSI (CONFIG_PSI off,
 * or psi=0 on the command line) has no /proc/pressure directory: that is not
 * an error, the collector then reports nothing. A missing or malformed file
 * inside an existing directory fails the collector, and nothing is reported. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "collector.h"
#include "fileio.h"
#include "proc_parsers.h"

/* Parses " avg10=A avg60=B avg300=C total=N" after "some"/"full". */
static bool parse_psi_fields(struct pp_cur *c, double *avg10, uint64_t *total)
{
    double avg60, avg300;
    pp_skip_blanks(c);
    if (!pp_literal(c, "avg10=") || !pp_decimal_raw(c, avg10) || !pp_at_boundary(c))
        return false;
    pp_skip_blanks(c);
    if (!pp_literal(c, "avg60=") || !pp_decimal_raw(c, &avg60) || !pp_at_boundary(c))
        return false;
    pp_skip_blanks(c);
    if (!pp_literal(c, "avg300=") || !pp_decimal_raw(c, &avg300) || !pp_at_boundary(c))
        return false;
    pp_skip_blanks(c);
    return pp_literal(c, "total=") && pp_u64(c, total) && pp_at_end(c);
}

/* pp_line_fn: each kind may appear once, so a repeat is an error, not an update. */
static int take_line(struct pp_cur *c, int lineno, void *arg, struct parse_err *err)
{
    Pvescope__PressureResource *res = arg;
    bool some = pp_literal(c, "some");
    if (!some && !pp_literal(c, "full")) {
        pp_err(err, lineno, "expected \"some\" or \"full\"");
        return -1;
    }
    protobuf_c_boolean *has_avg = some ? &res->has_some_avg10 : &res->has_full_avg10;
    protobuf_c_boolean *has_total = some ? &res->has_some_total_us : &res->has_full_total_us;
    if (*has_total) {
        pp_err(err, lineno, "duplicate \"%s\" line", some ? "some" : "full");
        return -1;
    }
    if (!pp_at_boundary(c) ||
        !parse_psi_fields(c, some ? &res->some_avg10 : &res->full_avg10,
                          some ? &res->some_total_us : &res->full_total_us)) {
        pp_err(err, lineno, "malformed line, expected \"avg10=A avg60=B avg300=C total=N\"");
        return -1;
    }
    *has_avg = *has_total = true;
    return 0;
}

int parse_pressure(const char *text, Pvescope__PressureResource *res, struct parse_err *err)
{
    if (pp_each_line(text, take_line, res, err) < 0)
        return -1;
    if (!res->has_some_total_us) {
        pp_err(err, 0, "no \"some\" line");
        return -1;
    }
    return 0;
}

/* Returns 1 when <procfs>/pressure exists, 0 when it does not, and -1 with
 * ctx->err set when it cannot be checked. */
static int psi_present(struct collector_ctx *ctx)
{
    char path[4096];
    struct stat st;
    if (!path_join(path, sizeof path, ctx->procfs, "pressure"))
        return collector_fail(ctx, "%s/pressure: path too long", ctx->procfs);
    if (stat(path, &st) == 0)
        return 1;
    if (errno == ENOENT || errno == ENOTDIR)
        return 0;
    return collector_fail(ctx, "%s: %s", path, strerror(errno));
}

/* Reads and parses pressure/<name> into a resource from the arena, or NULL
 * with ctx->err set. */
static Pvescope__PressureResource *read_resource(struct collector_ctx *ctx, const char *name)
{
    char rel[32];
    snprintf(rel, sizeof rel, "pressure/%s", name);
    if (proc_read(ctx, rel, FILE_ONE_RECORD) != 0)
        return NULL;
    Pvescope__PressureResource *res = arena_alloc(ctx->arena, sizeof *res);
    pvescope__pressure_resource__init(res);
    struct parse_err e = {0};
    if (parse_pressure(ctx->scratch->data, res, &e) != 0) {
        proc_fail(ctx, rel, &e);
        return NULL;
    }
    return res;
}

/* Whether the kernel has PSI is fixed at boot (CONFIG_PSI, psi=0), so it is
 * checked once here rather than with a stat() every cycle. */
struct pressure_state {
    bool present;
};

static int pressure_init(void **state, struct collector_ctx *ctx)
{
    int present = psi_present(ctx);
    if (present < 0)
        return -1;
    struct pressure_state *st = malloc(sizeof *st);
    if (!st)
        return collector_fail(ctx, "out of memory");
    st->present = present == 1;
    *state = st;
    return 0;
}

static void pressure_fini(void *state) { free(state); }

/* Reads the three PSI files and attaches host.pressure when all parse. */
static int pressure_collect(void *state, struct collector_ctx *ctx, Pvescope__Report *r)
{
    const struct pressure_state *st = state;
    if (!st->present)
        return 0;                /* kernel without PSI: nothing to report */
    Pvescope__Pressure *p = arena_alloc(ctx->arena, sizeof *p);
    pvescope__pressure__init(p);
    if (!(p->cpu = read_resource(ctx, "cpu")) || !(p->io = read_resource(ctx, "io")) ||
        !(p->memory = read_resource(ctx, "memory")))
        return -1;
    report_host(r, ctx->arena)->pressure = p;
    return 0;
}

const struct collector collector_pressure = {
    .name = "pressure",
    .help = "Pressure stall information (cpu, io, memory: total stall time and avg10) from /proc/pressure",
    .default_enabled = true,
    .init = pressure_init,
    .collect = pressure_collect,
    .fini = pressure_fini,
};
