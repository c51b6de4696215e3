/* loadavg.c — the "loadavg" collector: /proc/loadavg into Report.host.load1/5/15. */
#include <string.h>

#include "collector.h"
#include "proc_parsers.h"

/* Parses the "R/T" field at the cursor. */
static bool parse_ratio_field(struct pp_cur *c, uint64_t *running, uint64_t *total)
{
    pp_skip_blanks(c);
    return pp_digits_u64(c, running) && pp_literal(c, "/") && pp_digits_u64(c, total) &&
           pp_at_boundary(c);
}

/* pp_line_fn: all five fields are required, so a kernel format change fails loudly. */
static int take_line(struct pp_cur *c, int lineno, void *arg, struct parse_err *err)
{
    struct loadavg *out = arg;
    if (!pp_decimal(c, &out->load1) || !pp_decimal(c, &out->load5) ||
        !pp_decimal(c, &out->load15) || !parse_ratio_field(c, &out->running, &out->total) ||
        !pp_u64(c, &out->last_pid) || !pp_at_end(c)) {
        pp_err(err, lineno, "malformed line, expected \"L1 L5 L15 R/T PID\"");
        return -1;
    }
    return 0;
}

int parse_loadavg(const char *text, struct loadavg *out, struct parse_err *err)
{
    memset(out, 0, sizeof *out);
    return pp_single_line(text, take_line, out, err);
}

/* Reads /proc/loadavg and sets host.load1/5/15. */
static int loadavg_collect(void *state, struct collector_ctx *ctx, Pvescope__Report *r)
{
    (void)state;
    if (proc_read(ctx, "loadavg", FILE_ONE_RECORD) != 0)
        return -1;
    struct loadavg la;
    struct parse_err e = {0};
    if (parse_loadavg(ctx->scratch->data, &la, &e) != 0)
        return proc_fail(ctx, "loadavg", &e);
    Pvescope__Host *h = report_host(r, ctx->arena);
    h->has_load1 = h->has_load5 = h->has_load15 = true;
    h->load1 = la.load1;
    h->load5 = la.load5;
    h->load15 = la.load15;
    return 0;
}

const struct collector collector_loadavg = {
    .name = "loadavg",
    .help = "1, 5 and 15 minute load averages from /proc/loadavg",
    .default_enabled = true,
    .collect = loadavg_collect,
};
