/* uptime.c — the "uptime" collector: /proc/uptime into Report.host.uptime_seconds. */
#include <string.h>

#include "collector.h"
#include "proc_parsers.h"

/* pp_line_fn: both fields are required, so a kernel format change fails loudly. */
static int take_line(struct pp_cur *c, int lineno, void *arg, struct parse_err *err)
{
    struct uptime *out = arg;
    if (!pp_decimal(c, &out->uptime_seconds) || !pp_decimal(c, &out->idle_seconds) ||
        !pp_at_end(c)) {
        pp_err(err, lineno, "malformed line, expected \"UPTIME IDLE\"");
        return -1;
    }
    return 0;
}

int parse_uptime(const char *text, struct uptime *out, struct parse_err *err)
{
    memset(out, 0, sizeof *out);
    return pp_single_line(text, take_line, out, err);
}

/* Reads /proc/uptime and sets host.uptime_seconds. */
static int uptime_collect(void *state, struct collector_ctx *ctx, Pvescope__Report *r)
{
    (void)state;
    if (proc_read(ctx, "uptime", FILE_ONE_RECORD) != 0)
        return -1;
    struct uptime u;
    struct parse_err e = {0};
    if (parse_uptime(ctx->scratch->data, &u, &e) != 0)
        return proc_fail(ctx, "uptime", &e);
    Pvescope__Host *h = report_host(r, ctx->arena);
    h->has_uptime_seconds = true;
    h->uptime_seconds = u.uptime_seconds;
    return 0;
}

const struct collector collector_uptime = {
    .name = "uptime",
    .help = "Seconds since boot from /proc/uptime",
    .default_enabled = true,
    .collect = uptime_collect,
};
