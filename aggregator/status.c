/* status.c — see status.h. */
#include "status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "decode.h"
#include "merge.h"

#define ELLIPSIS "\xE2\x80\xA6"        /* … */
#define DASH "\xE2\x80\x94"            /* — : no value */
#define REPLACEMENT "\xEF\xBF\xBD"     /* U+FFFD */

/* What each reject reason means, for an admin reading the table. */
static const char *const reject_help[REJECT__COUNT] = {
    [REJECT_OVERSIZE] = "larger than --ingest.max-message-bytes",
    [REJECT_DECODE] = "not a pvescope envelope or report",
    [REJECT_VERSION] = "envelope version this aggregator does not speak",
    [REJECT_BAD_HEADER] = "node or cluster name unusable as a label",
    [REJECT_UNKNOWN_CLUSTER] = "no key for the cluster in --keyring",
    [REJECT_BAD_TAG] = "no key of the cluster opens it (wrong key?)",
    [REJECT_REPLAY] = "sequence not increasing, or sent time outside --ingest.max-clock-skew",
    [REJECT_INVALID_REPORT] = "authenticated, but inconsistent with its header",
    [REJECT_LIMITS] = "too many devices or nodes, or labels too long",
};

static const char style[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:1.2em 1.6em;"
    "color:#1d2430;background:#f5f6f8}"
    "h1{font-size:1.45em;margin:0 0 .15em}"
    "h2{font-size:1.1em;margin:1.5em 0 .45em}"
    "p{margin:.25em 0}"
    "a{color:#2456a6}"
    ".meta{color:#4a5361}"
    ".summary span{margin-right:1.1em}"
    "table{border-collapse:collapse;background:#fff;box-shadow:0 1px 3px rgba(0,0,0,.1)}"
    "th,td{padding:.3em .75em;border-bottom:1px solid #e4e7eb;text-align:left;vertical-align:top}"
    "th{background:#e9edf2;font-weight:600;white-space:nowrap}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    "td.t,td.name,tr.node td:first-child{white-space:nowrap}"
    ".st{display:inline-block;padding:0 .55em;border-radius:3px;font-size:.88em;font-weight:600;"
    "white-space:nowrap}"
    ".st.up{background:#d6f0dc;color:#17612a}"
    ".st.stale{background:#ffe3b8;color:#834700}"
    ".st.never{background:#e6e6e6;color:#50555c}"
    ".st.bad{background:#fbd5d5;color:#9b1c1c}"
    "tr.node td:first-child{border-left:4px solid #3aa655}"
    "tr.node.stale td:first-child{border-left-color:#e69500}"
    "tr.node.never td:first-child{border-left-color:#b9bec5}"
    "tr.node.never td{color:#6b7380}"
    ".dim{color:#8a929c}"
    ".err{color:#9b1c1c}"
    ".fail{margin:.1em 0;max-width:34em;overflow-wrap:anywhere}"
    ".fail b{font-weight:600}"
    "tr.zero td{color:#8a929c}"
    ".note{color:#834700;margin-top:.4em}";

/* ---- escaping -------------------------------------------------------------- */

static unsigned utf8_decode(const unsigned char *p, size_t n)
{
    static const unsigned char lead_mask[5] = {0, 0x7F, 0x1F, 0x0F, 0x07};
    unsigned cp = p[0] & lead_mask[n];
    for (size_t i = 1; i < n; i++)
        cp = (cp << 6) | (p[i] & 0x3F);
    return cp;
}

/* C1 controls and Unicode noncharacters: valid UTF-8, but parse errors in
 * HTML (and C1 discouraged in XML), so they are shown as U+FFFD. */
static bool unwanted_cp(unsigned cp)
{
    return (cp >= 0x80 && cp <= 0x9F) || (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE;
}

void status_escape(struct buf *out, const char *s, size_t max_bytes)
{
    const unsigned char *start = (const unsigned char *)s, *p = start;
    while (*p) {
        size_t n = *p < 0x80 ? 1 : utf8_seq_len(p);
        if (max_bytes && (size_t)(p - start) + (n ? n : 1) > max_bytes) {
            buf_puts(out, ELLIPSIS);
            return;
        }
        unsigned char c = *p;
        if (n == 0) {
            buf_puts(out, REPLACEMENT);
            p++;
            continue;
        }
        if (n > 1) {
            if (unwanted_cp(utf8_decode(p, n)))
                buf_puts(out, REPLACEMENT);
            else
                buf_append(out, p, n);
            p += n;
            continue;
        }
        switch (c) {
        case '<': buf_puts(out, "&lt;"); break;
        case '>': buf_puts(out, "&gt;"); break;
        case '&': buf_puts(out, "&amp;"); break;
        case '"': buf_puts(out, "&quot;"); break;
        case '\'': buf_puts(out, "&#39;"); break;
        case '\n': buf_puts(out, "\\n"); break;
        case '\r': buf_puts(out, "\\r"); break;
        case '\t': buf_puts(out, "\\t"); break;
        default:
            if (c < 0x20 || c == 0x7F)
                buf_printf(out, "\\x%02x", c);
            else
                buf_putc(out, (char)c);
        }
        p++;
    }
}

/* ---- small formatters ------------------------------------------------------ */

/* "0.4 s", "42 s", "3 min 05 s", "5 h 07 min", "12 d 03 h". */
static void put_duration(struct buf *b, double s)
{
    if (!(s >= 0))
        s = 0;
    if (s > 1e9)
        s = 1e9;
    long long t = (long long)s;
    if (s < 10)
        buf_printf(b, "%.1f s", s);
    else if (t < 60)
        buf_printf(b, "%lld s", t);
    else if (t < 3600)
        buf_printf(b, "%lld min %02lld s", t / 60, t % 60);
    else if (t < 86400)
        buf_printf(b, "%lld h %02lld min", t / 3600, t % 3600 / 60);
    else
        buf_printf(b, "%lld d %02lld h", t / 86400, t % 86400 / 3600);
}

static void put_utc(struct buf *b, double unix_s)
{
    time_t t = (time_t)unix_s;
    struct tm tm;
    char text[40];
    if (gmtime_r(&t, &tm) && strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &tm))
        buf_puts(b, text);
    else
        buf_puts(b, DASH);
}

static const Pvescope__Report *report_of(const struct scrape_node *sn)
{
    return sn && sn->render && sn->render->report ? sn->render->report->r : NULL;
}

/* ---- one cluster's rows ----------------------------------------------------- */

/* A node of the page: reporting (sn) and/or listed in .members (m). */
struct row {
    const char *name;
    const struct scrape_node *sn;
    const Pvescope__ClusterMember *m;
};

struct cluster_rows {
    const char *cluster;
    const struct scrape_node *nodes;   /* the cluster's store nodes */
    size_t n_nodes;
    const Pvescope__Report *auth;      /* merge_authoritative(), may be NULL */
    struct row *rows;                  /* sorted by name */
    size_t n_rows;
    size_t up, stale, never, failing;
};

static int cmp_row(const void *a, const void *b)
{
    return strcmp(((const struct row *)a)->name, ((const struct row *)b)->name);
}

static size_t failing_collectors(const Pvescope__Report *r)
{
    size_t n = 0;
    for (size_t i = 0; r && i < r->n_collectors; i++)
        if (!r->collectors[i]->success)
            n++;
    return n;
}

static void build_rows(struct cluster_rows *c)
{
    const Pvescope__ClusterView *v = c->auth ? c->auth->cluster : NULL;
    size_t n_members = v ? v->n_members : 0;
    c->rows = calloc(c->n_nodes + n_members + 1, sizeof *c->rows);
    if (!c->rows)
        abort();
    for (size_t i = 0; i < c->n_nodes; i++)
        c->rows[c->n_rows++] = (struct row){c->nodes[i].node, &c->nodes[i], NULL};
    qsort(c->rows, c->n_rows, sizeof *c->rows, cmp_row);
    size_t reporting = c->n_rows;
    for (size_t i = 0; i < n_members; i++) {
        const Pvescope__ClusterMember *m = v->members[i];
        struct row key = {m->name, NULL, NULL};
        struct row *hit = reporting ? bsearch(&key, c->rows, reporting, sizeof *c->rows, cmp_row) : NULL;
        if (hit) {
            hit->m = m;
            continue;
        }
        bool dup = false;                 /* a .members name listed twice */
        for (size_t k = reporting; k < c->n_rows && !dup; k++)
            dup = strcmp(c->rows[k].name, m->name) == 0;
        if (!dup)
            c->rows[c->n_rows++] = (struct row){m->name, NULL, m};
    }
    qsort(c->rows, c->n_rows, sizeof *c->rows, cmp_row);
    for (size_t i = 0; i < c->n_rows; i++) {
        const struct row *r = &c->rows[i];
        if (!r->sn)
            c->never++;
        else if (r->sn->fresh)
            c->up++;
        else
            c->stale++;
        if (failing_collectors(report_of(r->sn)))
            c->failing++;
    }
}

/* Splits in's nodes (sorted by cluster) into clusters with their rows. */
static struct cluster_rows *split_clusters(const struct scrape_input *in, size_t *n)
{
    struct cluster_rows *cs = calloc(in->n_nodes ? in->n_nodes : 1, sizeof *cs);
    if (!cs)
        abort();
    *n = 0;
    for (size_t i = 0; i < in->n_nodes;) {
        size_t j = i;
        while (j < in->n_nodes && strcmp(in->nodes[j].cluster, in->nodes[i].cluster) == 0)
            j++;
        struct cluster_rows *c = &cs[(*n)++];
        c->cluster = in->nodes[i].cluster;
        c->nodes = &in->nodes[i];
        c->n_nodes = j - i;
        c->auth = merge_authoritative(c->nodes, c->n_nodes);
        build_rows(c);
        i = j;
    }
    return cs;
}

/* ---- sections ---------------------------------------------------------------- */

static void put_state(struct buf *b, const struct row *r)
{
    if (!r->sn)
        buf_puts(b, "<span class=\"st never\">never reported</span>");
    else if (r->sn->fresh)
        buf_puts(b, "<span class=\"st up\">up</span>");
    else
        buf_puts(b, "<span class=\"st stale\">stale</span>");
}

static void put_members_state(struct buf *b, const Pvescope__ClusterMember *m)
{
    if (!m)
        buf_puts(b, "<span class=\"dim\">not listed</span>");
    else if (!m->has_online)
        buf_puts(b, DASH);
    else if (m->online)
        buf_puts(b, "online");
    else
        buf_puts(b, "<span class=\"err\">offline</span>");
}

static void put_uptime(struct buf *b, const struct row *r, const struct status_info *info)
{
    const Pvescope__Report *rep = report_of(r->sn);
    const Pvescope__Host *h = rep ? rep->host : NULL;
    if (h && h->has_boot_time_unix && h->boot_time_unix > 0 && h->boot_time_unix <= info->now_unix + 300) {
        put_duration(b, info->now_unix - (double)h->boot_time_unix);
        buf_puts(b, "<br/><span class=\"dim\">since ");
        put_utc(b, (double)h->boot_time_unix);
        buf_puts(b, "</span>");
    } else if (h && h->has_uptime_seconds) {
        put_duration(b, h->uptime_seconds + r->sn->age_seconds);
    } else {
        buf_puts(b, DASH);
    }
}

static void put_guests(struct buf *b, const struct row *r)
{
    const Pvescope__Report *rep = report_of(r->sn);
    if (!rep) {
        buf_puts(b, DASH);
        return;
    }
    size_t running = 0;
    for (size_t i = 0; i < rep->n_guest_runtime; i++)
        if (rep->guest_runtime[i]->has_running && rep->guest_runtime[i]->running)
            running++;
    buf_printf(b, "%zu", running);
}

static void put_failing(struct buf *b, const struct row *r)
{
    const Pvescope__Report *rep = report_of(r->sn);
    size_t failing = failing_collectors(rep);
    if (!rep) {
        buf_puts(b, DASH);
        return;
    }
    if (!failing) {
        buf_puts(b, "<span class=\"dim\">none</span>");
        return;
    }
    size_t shown = 0;
    for (size_t i = 0; i < rep->n_collectors && shown < STATUS_MAX_FAILING; i++) {
        const Pvescope__CollectorStatus *cs = rep->collectors[i];
        if (cs->success)
            continue;
        shown++;
        buf_puts(b, "<div class=\"fail\"><b class=\"err\">");
        status_escape(b, cs->name, STATUS_MAX_ERROR_BYTES);
        buf_puts(b, "</b>");
        if (cs->has_errors_total)
            buf_printf(b, " <span class=\"dim\">(%llu failed cycles)</span>",
                       (unsigned long long)cs->errors_total);
        if (cs->error && *cs->error) {
            buf_puts(b, ": ");
            status_escape(b, cs->error, STATUS_MAX_ERROR_BYTES);
        }
        buf_puts(b, "</div>");
    }
    if (failing > shown)
        buf_printf(b, "<div class=\"dim\">and %zu more</div>", failing - shown);
}

static void node_row(struct buf *b, const char *cluster, const struct row *r, const struct status_info *info)
{
    const char *cls = !r->sn ? "never" : r->sn->fresh ? "up" : "stale";
    buf_printf(b, "<tr class=\"node %s\"><td>", cls);
    status_escape(b, cluster, 0);
    buf_puts(b, "</td><td class=\"name\">");
    status_escape(b, r->name, 0);
    buf_puts(b, "</td><td class=\"state\">");
    put_state(b, r);
    buf_puts(b, "</td><td class=\"t\">");
    put_members_state(b, r->m);
    buf_puts(b, "</td><td class=\"n age\">");
    if (r->sn)
        put_duration(b, r->sn->age_seconds);
    else
        buf_puts(b, DASH);
    buf_puts(b, "</td><td class=\"t version\">");
    if (r->sn && r->sn->agent_version[0])
        status_escape(b, r->sn->agent_version, 0);
    else
        buf_puts(b, DASH);
    buf_puts(b, "</td><td class=\"t uptime\">");
    put_uptime(b, r, info);
    buf_puts(b, "</td><td class=\"n guests\">");
    put_guests(b, r);
    buf_puts(b, "</td><td class=\"failing\">");
    put_failing(b, r);
    buf_puts(b, "</td></tr>\n");
}

static void cluster_row(struct buf *b, const struct cluster_rows *c)
{
    const Pvescope__ClusterView *v = c->auth ? c->auth->cluster : NULL;
    buf_puts(b, "<tr class=\"cluster\"><td class=\"name\">");
    status_escape(b, c->cluster, 0);
    buf_puts(b, "</td><td class=\"quorum\">");
    if (!v)
        buf_puts(b, "<span class=\"st stale\">unknown</span> <span class=\"dim\">(no fresh report)</span>");
    else if (!v->name)
        buf_puts(b, "<span class=\"dim\">standalone</span>");
    else if (!v->has_quorate)
        buf_puts(b, "<span class=\"st stale\">unknown</span>");
    else if (v->quorate)
        buf_puts(b, "<span class=\"st up\">quorate</span>");
    else
        buf_puts(b, "<span class=\"st bad\">NO QUORUM</span>");
    buf_puts(b, "</td><td class=\"n expected\">");
    if (v && v->has_expected_nodes)
        buf_printf(b, "%u", v->expected_nodes);
    else
        buf_puts(b, DASH);
    buf_puts(b, "</td><td class=\"n members\">");
    if (v && v->n_members) {
        size_t online = 0;
        for (size_t i = 0; i < v->n_members; i++)
            if (v->members[i]->has_online && v->members[i]->online)
                online++;
        buf_printf(b, "%zu <span class=\"dim\">(%zu online)</span>", v->n_members, online);
    } else {
        buf_puts(b, DASH);
    }
    buf_printf(b, "</td><td class=\"n reporting\">%zu</td><td class=\"n stale\">%zu</td>"
                  "<td class=\"n never\">%zu</td><td class=\"t pve\">", c->up, c->stale, c->never);
    if (v && v->pve_version)
        status_escape(b, v->pve_version, 64);
    else
        buf_puts(b, DASH);
    buf_puts(b, "</td></tr>\n");
}

static void rejects_table(struct buf *b, const struct scrape_input *in)
{
    uint64_t total = 0;
    for (int r = 0; r < REJECT__COUNT; r++)
        total += in->rejected[r];
    buf_printf(b, "<h2 id=\"rejects\">Rejected reports</h2>\n<p class=\"meta\">%llu received, %llu rejected",
               (unsigned long long)in->received, (unsigned long long)total);
    if (in->closed_connections)
        buf_printf(b, ", %llu ingest connections closed",
                   (unsigned long long)in->closed_connections);
    buf_puts(b, ".</p>\n<table class=\"rejects\"><tr><th>reason</th><th>count</th><th>meaning</th></tr>\n");
    for (int r = 0; r < REJECT__COUNT; r++) {
        uint64_t n = in->rejected[r];
        buf_printf(b, "<tr class=\"%s\" id=\"reject-%s\"><td>%s</td><td class=\"n\">%s%llu%s</td><td>%s</td></tr>\n",
                   n ? "hit" : "zero", reject_reason_label[r], reject_reason_label[r],
                   n ? "<span class=\"st bad\">" : "", (unsigned long long)n, n ? "</span>" : "", reject_help[r]);
    }
    buf_puts(b, "</table>\n");
}

void status_write(struct buf *b, const struct scrape_input *in, const struct status_info *info)
{
    size_t nc;
    struct cluster_rows *cs = split_clusters(in, &nc);
    size_t up = 0, stale = 0, never = 0, failing = 0, rows = 0;
    for (size_t i = 0; i < nc; i++) {
        up += cs[i].up;
        stale += cs[i].stale;
        never += cs[i].never;
        failing += cs[i].failing;
        rows += cs[i].n_rows;
    }

    buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>"
                "<meta http-equiv=\"refresh\" content=\"30\"/>"
                "<title>pvescope aggregator</title><style>");
    buf_puts(b, style);
    buf_puts(b, "</style></head>\n<body>\n<h1>pvescope aggregator</h1>\n<p class=\"meta\">version ");
    status_escape(b, info->version, 64);
    buf_puts(b, " · up ");
    put_duration(b, info->uptime_seconds);
    buf_puts(b, " · ingest <code>");
    status_escape(b, info->ingest_endpoint ? info->ingest_endpoint : "", 256);
    buf_puts(b, "</code> · stale after ");
    put_duration(b, info->stale_after);
    buf_puts(b, " · <a href=\"/metrics\">/metrics</a> · <a href=\"/-/healthy\">/-/healthy</a>"
                " · <a href=\"/-/ready\">/-/ready</a></p>\n");
    buf_printf(b, "<p class=\"summary\" id=\"summary\"><span><b>%zu</b> nodes</span> "
                  "<span class=\"st up\">%zu up</span> <span class=\"st %s\">%zu stale</span> "
                  "<span class=\"st %s\">%zu never reported</span> "
                  "<span class=\"st %s\">%zu with failing collectors</span> "
                  "<span class=\"dim\">%zu %s, %zu of at most %zu nodes with an agent</span></p>\n",
               rows, up, stale ? "stale" : "never", stale, "never", never,
               failing ? "bad" : "never", failing, nc, nc == 1 ? "cluster" : "clusters", in->n_nodes,
               info->max_nodes);

    buf_puts(b, "<h2 id=\"clusters\">Clusters</h2>\n");
    if (!nc)
        buf_puts(b, "<p class=\"note\">No report received yet.</p>\n");
    else
        buf_puts(b, "<table class=\"clusters\"><tr><th>cluster</th><th>quorum</th><th>nodes expected</th>"
                    "<th>in .members</th><th>agents up</th><th>stale</th><th>never reported</th>"
                    "<th>PVE</th></tr>\n");
    for (size_t i = 0; i < nc && i < STATUS_MAX_ROWS; i++)
        cluster_row(b, &cs[i]);
    if (nc)
        buf_puts(b, "</table>\n");
    if (nc > STATUS_MAX_ROWS)
        buf_printf(b, "<p class=\"note\">%zu more clusters not shown.</p>\n", nc - STATUS_MAX_ROWS);

    buf_puts(b, "<h2 id=\"nodes\">Nodes</h2>\n");
    if (rows)
        buf_puts(b, "<table class=\"nodes\"><tr><th>cluster</th><th>node</th><th>state</th>"
                    "<th>.members</th><th>report age</th><th>agent</th><th>uptime</th>"
                    "<th>guests running</th><th>failing collectors (first error)</th></tr>\n");
    size_t shown = 0;
    for (size_t i = 0; i < nc; i++)
        for (size_t k = 0; k < cs[i].n_rows && shown < STATUS_MAX_ROWS; k++, shown++)
            node_row(b, cs[i].cluster, &cs[i].rows[k], info);
    if (rows)
        buf_puts(b, "</table>\n");
    if (rows > shown)
        buf_printf(b, "<p class=\"note\">%zu more nodes not shown (see /metrics).</p>\n", rows - shown);

    rejects_table(b, in);
    buf_puts(b, "</body></html>\n");
    for (size_t i = 0; i < nc; i++)
        free(cs[i].rows);
    free(cs);
}
