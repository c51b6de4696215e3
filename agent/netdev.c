/* netdev.c — the "netdev" collector: /proc/net/dev into Report.netdevs.
 *
 * All 16 counters of every interface, except Proxmox guest plumbing: tap*
 * (QEMU NICs) and veth* (LXC NICs) are reported per guest by the guests
 * collector, and the per-NIC firewall devices fwbr*, fwln*, fwpr* carry the
 * same packets again. Reporting them per host would multiply the series by
 * four per guest NIC (node_exporter's known blow-up on PVE hosts). */
#include <string.h>

#include "collector.h"
#include "proc_parsers.h"

/* Checks the two header lines ("Inter-|   Receive ..." / " face |bytes ...")
 * and advances *pos past them. */
static bool skip_header(const char **pos)
{
    struct pp_cur l1, l2;
    bool t1, t2;
    if (!pp_next_line(pos, &l1, &t1) || !t1 || !pp_literal(&l1, "Inter-|"))
        return false;
    if (!pp_next_line(pos, &l2, &t2) || !t2)
        return false;
    pp_skip_blanks(&l2);
    return pp_literal(&l2, "face |");
}

/* Parses "name:" at the cursor into name (NUL-terminated). The name must be
 * 1..NETDEV_NAME_MAX printable ASCII characters without blanks or '/'. */
static bool parse_ifname(struct pp_cur *c, char name[NETDEV_NAME_MAX + 1])
{
    pp_skip_blanks(c);
    const char *colon = memchr(c->p, ':', (size_t)(c->end - c->p));
    if (!colon)
        return false;
    size_t len = (size_t)(colon - c->p);
    if (len == 0 || len > NETDEV_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (c->p[i] <= ' ' || c->p[i] > '~' || c->p[i] == '/')
            return false;
    memcpy(name, c->p, len);
    name[len] = '\0';
    c->p = colon + 1;
    return true;
}

/* Parses exactly NETDEV_COUNTERS values after the colon. */
static bool parse_counters(struct pp_cur *c, uint64_t v[NETDEV_COUNTERS])
{
    for (int i = 0; i < NETDEV_COUNTERS; i++)
        if (!pp_u64(c, &v[i]))
            return false;
    return pp_at_end(c);
}

/* Builds a NetDev from a name and its counters in /proc/net/dev order. */
static Pvescope__NetDev *make_netdev(const char *name, const uint64_t v[NETDEV_COUNTERS],
                                     struct arena *a)
{
    Pvescope__NetDev *d = arena_alloc(a, sizeof *d);
    pvescope__net_dev__init(d);
    d->name = arena_strdup(a, name);
    uint64_t *val[NETDEV_COUNTERS] = {
        &d->rx_bytes, &d->rx_packets, &d->rx_errs, &d->rx_drop, &d->rx_fifo, &d->rx_frame,
        &d->rx_compressed, &d->rx_multicast, &d->tx_bytes, &d->tx_packets, &d->tx_errs,
        &d->tx_drop, &d->tx_fifo, &d->tx_colls, &d->tx_carrier, &d->tx_compressed};
    protobuf_c_boolean *has[NETDEV_COUNTERS] = {
        &d->has_rx_bytes, &d->has_rx_packets, &d->has_rx_errs, &d->has_rx_drop,
        &d->has_rx_fifo, &d->has_rx_frame, &d->has_rx_compressed, &d->has_rx_multicast,
        &d->has_tx_bytes, &d->has_tx_packets, &d->has_tx_errs, &d->has_tx_drop,
        &d->has_tx_fifo, &d->has_tx_colls, &d->has_tx_carrier, &d->has_tx_compressed};
    for (int i = 0; i < NETDEV_COUNTERS; i++) {
        *val[i] = v[i];
        *has[i] = true;
    }
    return d;
}

static bool prefix_then_digit(const char *name, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(name, prefix, n) == 0 && name[n] >= '0' && name[n] <= '9';
}

bool netdev_name_excluded(const char *name)
{
    return prefix_then_digit(name, "tap") || prefix_then_digit(name, "veth") ||
           prefix_then_digit(name, "fwbr") || prefix_then_digit(name, "fwln") ||
           prefix_then_digit(name, "fwpr");
}

/* What parse_netdev hands each row: the filter, and the output array to fill. */
struct netdev_rows {
    struct arena *a;
    bool exclude_guest_plumbing;
    Pvescope__NetDev **devs;
    size_t n;
};

/* pp_row_fn: excluded rows count as parsed without their counters being
 * parsed: on a node with hundreds of guests most rows are tap/veth/fw*, and
 * those are the guests collector's to validate. */
static bool take_row(struct pp_cur *line, void *arg, char *msg, size_t msgcap)
{
    struct netdev_rows *d = arg;
    char name[NETDEV_NAME_MAX + 1];
    uint64_t v[NETDEV_COUNTERS];
    if (!parse_ifname(line, name)) {
        snprintf(msg, msgcap, "missing, too long or invalid interface name");
        return false;
    }
    if (d->exclude_guest_plumbing && netdev_name_excluded(name))
        return true;
    if (!parse_counters(line, v)) {
        snprintf(msg, msgcap, "%s: expected %d unsigned counters", name, NETDEV_COUNTERS);
        return false;
    }
    d->devs[d->n++] = make_netdev(name, v, d->a);
    return true;
}

int parse_netdev(const char *text, struct arena *a, bool exclude_guest_plumbing,
                 Pvescope__NetDev ***devs, size_t *n_devs, struct parse_err *err)
{
    *devs = NULL;
    *n_devs = 0;
    const char *pos = text;
    if (*pos == '\0' || !skip_header(&pos)) {
        pp_err(err, *pos ? 1 : 0, *pos ? "unexpected header" : "empty file");
        return -1;
    }
    struct netdev_rows d = {a, exclude_guest_plumbing, arena_alloc(a, pp_count_lines(pos) * sizeof **devs), 0};
    int parsed = pp_each_row(pos, 2, take_row, &d, err);
    *devs = d.devs;
    *n_devs = d.n;
    return parsed;
}

/* ---- collector ------------------------------------------------------------ */

/* Reads /proc/net/dev into r->netdevs. Bad rows are skipped and described in
 * ctx->err while the collector still succeeds with the good ones. */
static int netdev_collect(void *state, struct collector_ctx *ctx, Pvescope__Report *r)
{
    (void)state;
    const char *text;
    if (proc_read_records(ctx, "net/dev", &text) != 0)
        return -1;
    struct parse_err e = {0};
    if (parse_netdev(text, ctx->arena, true, &r->netdevs, &r->n_netdevs, &e) < 0) {
        r->netdevs = NULL;
        r->n_netdevs = 0;
        return proc_fail(ctx, "net/dev", &e);
    }
    if (e.bad_rows > 0)
        proc_fail(ctx, "net/dev", &e);     /* partial success: message only */
    return 0;
}

const struct collector collector_netdev = {
    .name = "netdev",
    .help = "Per-interface network counters from /proc/net/dev (guest tap/veth/fw* devices excluded)",
    .default_enabled = true,
    .collect = netdev_collect,
};
