/* test_status.c — the status page (aggregator/status.c) on a canned store:
 * exact escaping of hostile names, versions and errors (<script>, quotes, &,
 * newline, UTF-8, invalid UTF-8, C1 controls), node states (up, stale, never
 * reported from .members), quorum, uptime from boot time, failing collectors,
 * guests running, reject counts, and the bounds on rows and error text.
 *
 * `test_status --html FILE` writes the canned page to FILE instead, for the
 * test_status_wellformed ctest (check_html.py: strict XML parse, no script, no
 * external resources). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_plan.h"
#include "arena.h"
#include "decode.h"
#include "render.h"
#include "status.h"
#include "store.h"

static struct arena A;

static void *mk(size_t n) { return arena_alloc(&A, n); }

#define NOW 1700000000.0                  /* 2023-11-14 22:13:20 UTC */
#define HOSTILE_NODE "<script>alert(1)</script>"
#define HOSTILE_CLUSTER "a&b \"c\""
#define HOSTILE_VERSION "1.0 \"beta\" <x> & 'y'"
/* a newline, ü, an invalid byte, a C1 control (U+0085), a tab, U+FFFF */
#define HOSTILE_ERROR "open /proc/meminfo: No such file\nthen \xc3\xbc \xff \xc2\x85\t\xef\xbf\xbf end"

static Pvescope__ClusterMember *member(const char *name, bool online)
{
    Pvescope__ClusterMember *m = mk(sizeof *m);
    pvescope__cluster_member__init(m);
    m->name = (char *)name;
    m->has_online = true;
    m->online = online;
    return m;
}

static Pvescope__ClusterView *view(const char *name, bool quorate, uint32_t expected,
                                   Pvescope__ClusterMember **members, size_t n)
{
    Pvescope__ClusterView *v = mk(sizeof *v);
    pvescope__cluster_view__init(v);
    v->name = (char *)name;
    v->has_quorate = true;
    v->quorate = quorate;
    if (expected) {
        v->has_expected_nodes = true;
        v->expected_nodes = expected;
    }
    v->members = members;
    v->n_members = n;
    v->pve_version = "9.1.4";
    return v;
}

static Pvescope__CollectorStatus *collector(const char *name, bool ok, const char *error, uint64_t errors)
{
    Pvescope__CollectorStatus *c = mk(sizeof *c);
    pvescope__collector_status__init(c);
    c->name = (char *)name;
    c->success = ok;
    c->error = (char *)error;
    if (errors) {
        c->has_errors_total = true;
        c->errors_total = errors;
    }
    return c;
}

static Pvescope__GuestRuntime *guest(uint32_t vmid, bool running)
{
    Pvescope__GuestRuntime *g = mk(sizeof *g);
    pvescope__guest_runtime__init(g);
    g->vmid = vmid;
    g->type = "qemu";
    g->has_running = true;
    g->running = running;
    return g;
}

static Pvescope__Report *report(const char *node, Pvescope__ClusterView *v)
{
    Pvescope__Report *r = mk(sizeof *r);
    pvescope__report__init(r);
    r->node = (char *)node;
    r->cluster = v;
    return r;
}

/* The report as ingest keeps it: rendered, and decoded from its wire form. */
static struct node_render *render(const Pvescope__Report *r, const char *cluster)
{
    char *labels = node_labels(cluster, r->node);
    struct node_render *nr = render_report(r, labels);
    free(labels);
    size_t n = pvescope__report__get_packed_size(r);
    uint8_t *b = malloc(n);
    pvescope__report__pack(r, b);
    nr->report = decoded_report_unpack(test_report_plan(), b, n, 1 << 20, NULL);
    free(b);
    if (!nr->report)
        abort();
    return nr;
}

static const struct status_info INFO = {
    .version = "0.1.0", .ingest_endpoint = "tcp://[::]:9716", .uptime_seconds = 3725,
    .now_unix = NOW, .stale_after = 60, .max_nodes = 10000,
};

/* The canned store:
 *   prod       quorate, 4 expected; members pve1 pve2 HOSTILE_NODE pve9 (offline)
 *     pve1           up, boot 3 d 4 h ago, 2 of 3 guests running, meminfo failing
 *     pve2           stale (125 s), uptime only (no boot time)
 *     HOSTILE_NODE   up, hostile agent version, 6 failing collectors
 *     pve9           no agent: never reported
 *   HOSTILE_CLUSTER  standalone node "solo"
 *   split            one fresh node without quorum
 *   lost             one stale node: quorum unknown */
static char *canned_page(void)
{
    arena_init(&A, 1 << 16);
    Pvescope__ClusterMember *pm[] = {member("pve1", true), member("pve2", true), member(HOSTILE_NODE, true),
                                     member("pve9", false)};
    Pvescope__ClusterView *prod = view("prod", true, 4, pm, 4);

    Pvescope__Report *r1 = report("pve1", prod);
    Pvescope__Host *h1 = mk(sizeof *h1);
    pvescope__host__init(h1);
    h1->has_boot_time_unix = true;
    h1->boot_time_unix = (int64_t)NOW - (3 * 86400 + 4 * 3600);
    h1->has_uptime_seconds = true;
    h1->uptime_seconds = 5;                 /* ignored: boot time wins */
    r1->host = h1;
    Pvescope__CollectorStatus *c1[] = {collector("stat", true, NULL, 0),
                                       collector("meminfo", false, HOSTILE_ERROR, 7)};
    r1->collectors = c1;
    r1->n_collectors = 2;
    Pvescope__GuestRuntime *g1[] = {guest(100, true), guest(101, false), guest(102, true)};
    r1->guest_runtime = g1;
    r1->n_guest_runtime = 3;

    Pvescope__Report *r2 = report("pve2", prod);
    Pvescope__Host *h2 = mk(sizeof *h2);
    pvescope__host__init(h2);
    h2->has_uptime_seconds = true;
    h2->uptime_seconds = 7200;
    r2->host = h2;

    Pvescope__Report *r3 = report(HOSTILE_NODE, prod);
    static char long_error[400];
    memset(long_error, 'x', sizeof long_error - 1);
    memcpy(long_error, "first ", 6);
    Pvescope__CollectorStatus *c3[] = {
        collector("nvme", false, long_error, 1), collector("sensors", false, "no <chips> & \"none\"", 2),
        collector("zfs", false, "", 0), collector("thinpool", false, NULL, 0),
        collector("storage", false, "hidden 5th", 0), collector("guests", false, "hidden 6th", 0)};
    r3->collectors = c3;
    r3->n_collectors = 6;

    Pvescope__Report *solo = report("solo", view(NULL, false, 0, NULL, 0));
    Pvescope__Report *sp = report("sp1", view("split", false, 3, NULL, 0));
    Pvescope__Report *lost = report("l1", view("lost", true, 2, NULL, 0));

    struct scrape_node nodes[] = {
        {"", "solo", HOSTILE_CLUSTER, "0.1.0", render(solo, HOSTILE_CLUSTER), 1.5, true, 10},
        {"", "l1", "lost", "0.1.0", render(lost, "lost"), 4000, false, 3},
        {"", HOSTILE_NODE, "prod", HOSTILE_VERSION, render(r3, "prod"), 0.3, true, 5},
        {"", "pve1", "prod", "0.1.0", render(r1, "prod"), 0.8, true, 100},
        {"", "pve2", "prod", "", render(r2, "prod"), 125, false, 50},
        {"", "sp1", "split", "0.1.0", render(sp, "split"), 2, true, 1},
    };
    size_t n = sizeof nodes / sizeof *nodes;
    struct scrape_input in = {.nodes = nodes, .n_nodes = n, .received = 1234, .closed_connections = 2};
    in.rejected[REJECT_BAD_TAG] = 3;
    in.rejected[REJECT_DECODE] = 1;
    struct buf out = BUF_INIT;
    status_write(&out, &in, &INFO);
    for (size_t i = 0; i < n; i++)
        node_render_unref(nodes[i].render);
    arena_free(&A);
    return buf_steal(&out, NULL);
}

static void has(const char *text, const char *want)
{
    if (!strstr(text, want))
        fail_msg("missing: %s", want);
}

static void once(const char *text, const char *want)
{
    const char *at = strstr(text, want);
    if (!at)
        fail_msg("missing: %s", want);
    if (strstr(at + 1, want))
        fail_msg("twice: %s", want);
}

/* The <tr> of node `escaped_name` (as the page writes it) in cluster
 * `escaped_cluster`; malloc'd. */
static char *node_row(const char *page, const char *escaped_cluster, const char *escaped_name)
{
    char key[256];
    snprintf(key, sizeof key, "<td>%s</td><td class=\"name\">%s</td>", escaped_cluster, escaped_name);
    const char *at = strstr(page, key);
    if (!at)
        fail_msg("no row for node %s of %s", escaped_name, escaped_cluster);
    const char *start = at;
    while (start > page && strncmp(start, "<tr", 3) != 0)
        start--;
    const char *end = strstr(at, "</tr>");
    assert_non_null(end);
    return strndup(start, (size_t)(end - start));
}

static void t_escape(void **state)
{
    (void)state;
    static const struct { const char *in; size_t max; const char *want; } cases[] = {
        {"<script>alert(1)</script>", 0, "&lt;script&gt;alert(1)&lt;/script&gt;"},
        {"a&b \"c\" 'd'", 0, "a&amp;b &quot;c&quot; &#39;d&#39;"},
        {"line1\nline2\r\tx\x01\x7f", 0, "line1\\nline2\\r\\tx\\x01\\x7f"},
        {"gr\xc3\xbc\xc3\x9f \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x96\xa5", 0,
         "gr\xc3\xbc\xc3\x9f \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x96\xa5"},              /* kept as is */
        {"bad \xff \xc3 \xed\xa0\x80 \xc0\xaf end", 0,                                 /* invalid, surrogate, overlong */
         "bad \xef\xbf\xbd \xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd end"},
        {"c1 \xc2\x85 nonchar \xef\xbf\xbe \xef\xb7\x90 ok \xc2\xa0", 0,
         "c1 \xef\xbf\xbd nonchar \xef\xbf\xbd \xef\xbf\xbd ok \xc2\xa0"},
        {"abcdef", 4, "abcd\xe2\x80\xa6"},
        {"abcd", 4, "abcd"},
        {"ab\xc3\xbc\xc3\xbc", 3, "ab\xe2\x80\xa6"},                                   /* never half a character */
        {"a<b", 2, "a&lt;\xe2\x80\xa6"},
        {"", 0, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        struct buf b = BUF_INIT;
        status_escape(&b, cases[i].in, cases[i].max);
        if (strcmp(b.data ? b.data : "", cases[i].want) != 0)
            fail_msg("case %zu: got '%s', want '%s'", i, b.data ? b.data : "", cases[i].want);
        buf_free(&b);
    }
}

static void t_hostile_values(void **state)
{
    (void)state;
    char *p = canned_page();
    /* nothing from a report ever becomes markup */
    assert_null(strstr(p, "<script"));
    assert_null(strstr(p, "<x>"));
    assert_null(strstr(p, "<chips>"));
    once(p, "<td class=\"name\">&lt;script&gt;alert(1)&lt;/script&gt;</td>");
    once(p, "<td class=\"t version\">1.0 &quot;beta&quot; &lt;x&gt; &amp; &#39;y&#39;</td>");
    has(p, "<td>a&amp;b &quot;c&quot;</td><td class=\"name\">solo</td>");
    once(p, "<tr class=\"cluster\"><td class=\"name\">a&amp;b &quot;c&quot;</td>");
    once(p, "<b class=\"err\">meminfo</b> <span class=\"dim\">(7 failed cycles)</span>: "
            "open /proc/meminfo: No such file\\nthen \xc3\xbc \xef\xbf\xbd \xef\xbf\xbd\\t\xef\xbf\xbd end</div>");
    once(p, "<b class=\"err\">sensors</b> <span class=\"dim\">(2 failed cycles)</span>: "
            "no &lt;chips&gt; &amp; &quot;none&quot;</div>");
    /* the long error is cut at STATUS_MAX_ERROR_BYTES */
    char want[STATUS_MAX_ERROR_BYTES + 64];
    snprintf(want, sizeof want, "first %.*s\xe2\x80\xa6</div>", STATUS_MAX_ERROR_BYTES - 6,
             "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
             "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    once(p, want);
    free(p);
}

static void t_nodes(void **state)
{
    (void)state;
    char *p = canned_page();
    char *r = node_row(p, "prod", "pve1");
    has(r, "<tr class=\"node up\">");
    has(r, "<span class=\"st up\">up</span>");
    has(r, "<td class=\"t\">online</td>");
    has(r, "<td class=\"n age\">0.8 s</td>");
    has(r, "<td class=\"t version\">0.1.0</td>");
    has(r, "<td class=\"t uptime\">3 d 04 h<br/><span class=\"dim\">since 2023-11-11 18:13 UTC</span></td>");
    has(r, "<td class=\"n guests\">2</td>");
    free(r);

    r = node_row(p, "prod", "pve2");
    has(r, "<tr class=\"node stale\">");
    has(r, "<span class=\"st stale\">stale</span>");
    has(r, "<td class=\"n age\">2 min 05 s</td>");
    has(r, "<td class=\"t version\">\xe2\x80\x94</td>");               /* sent none */
    has(r, "<td class=\"t uptime\">2 h 02 min</td>");                    /* 7200 s + 125 s since */
    has(r, "<td class=\"n guests\">0</td>");
    has(r, "<td class=\"failing\"><span class=\"dim\">none</span></td>");
    free(r);

    r = node_row(p, "prod", "pve9");
    has(r, "<tr class=\"node never\">");
    has(r, "<span class=\"st never\">never reported</span>");
    has(r, "<span class=\"err\">offline</span>");
    has(r, "<td class=\"n age\">\xe2\x80\x94</td>");
    free(r);

    r = node_row(p, "prod", "&lt;script&gt;alert(1)&lt;/script&gt;");
    has(r, "<tr class=\"node up\">");
    has(r, "<td class=\"n age\">0.3 s</td>");
    /* four of six failing collectors listed, then a count */
    has(r, "<b class=\"err\">nvme</b>");
    has(r, "<b class=\"err\">zfs</b></div>");                           /* empty error: name only */
    has(r, "<b class=\"err\">thinpool</b></div>");
    assert_null(strstr(r, "hidden 5th"));
    has(r, "<div class=\"dim\">and 2 more</div>");
    free(r);

    r = node_row(p, "split", "sp1");
    has(r, "<span class=\"dim\">not listed</span>");                     /* not in its own .members */
    free(r);
    /* 4 prod rows + solo + l1 + sp1: every node once */
    size_t rows = 0;
    for (const char *at = p; (at = strstr(at, "<tr class=\"node ")); at++)
        rows++;
    assert_int_equal(rows, 7);
    once(p, "<b>7</b> nodes</span> <span class=\"st up\">4 up</span> <span class=\"st stale\">2 stale</span> "
            "<span class=\"st never\">1 never reported</span> <span class=\"st bad\">2 with failing collectors</span>");
    free(p);
}

static void t_clusters_and_aggregator(void **state)
{
    (void)state;
    char *p = canned_page();
    once(p, "<tr class=\"cluster\"><td class=\"name\">prod</td><td class=\"quorum\"><span class=\"st up\">quorate</span>"
            "</td><td class=\"n expected\">4</td><td class=\"n members\">4 <span class=\"dim\">(3 online)</span></td>"
            "<td class=\"n reporting\">2</td><td class=\"n stale\">1</td><td class=\"n never\">1</td>"
            "<td class=\"t pve\">9.1.4</td></tr>");
    has(p, "<td class=\"name\">split</td><td class=\"quorum\"><span class=\"st bad\">NO QUORUM</span></td>"
           "<td class=\"n expected\">3</td>");
    has(p, "<td class=\"name\">lost</td><td class=\"quorum\"><span class=\"st stale\">unknown</span> "
           "<span class=\"dim\">(no fresh report)</span></td><td class=\"n expected\">\xe2\x80\x94</td>");
    has(p, "<td class=\"quorum\"><span class=\"dim\">standalone</span></td>");
    /* aggregator line and rejects */
    once(p, "version 0.1.0 \xc2\xb7 up 1 h 02 min \xc2\xb7 ingest <code>tcp://[::]:9716</code> \xc2\xb7 stale after 1 min 00 s");
    once(p, "<p class=\"meta\">1234 received, 4 rejected, 2 ingest connections closed.</p>");
    once(p, "<tr class=\"hit\" id=\"reject-bad_tag\"><td>bad_tag</td><td class=\"n\"><span class=\"st bad\">3</span></td>");
    once(p, "<tr class=\"hit\" id=\"reject-decode\"><td>decode</td><td class=\"n\"><span class=\"st bad\">1</span></td>");
    once(p, "<tr class=\"zero\" id=\"reject-replay\"><td>replay</td><td class=\"n\">0</td>");
    size_t reasons = 0;
    for (const char *at = p; (at = strstr(at, " id=\"reject-")); at++)
        reasons++;
    assert_int_equal(reasons, REJECT__COUNT);
    /* no external resource, no script, one document */
    assert_null(strstr(p, "src="));
    assert_null(strstr(p, "<link"));
    assert_null(strstr(p, "http://"));
    assert_null(strstr(p, "https://"));
    assert_true(strncmp(p, "<!DOCTYPE html>\n<html lang=\"en\">", 32) == 0);
    assert_non_null(strstr(p, "</body></html>\n"));
    free(p);
}

/* An empty store, and one with more nodes than the page lists. */
static void t_bounds(void **state)
{
    (void)state;
    struct scrape_input empty = {.nodes = NULL, .n_nodes = 0, .received = 0, .closed_connections = 0};
    struct buf b = BUF_INIT;
    status_write(&b, &empty, &INFO);
    has(b.data, "No report received yet.");
    assert_null(strstr(b.data, "<table class=\"nodes\">"));
    buf_free(&b);

    arena_init(&A, 1 << 16);
    size_t n = STATUS_MAX_ROWS + 500;
    struct scrape_node *nodes = calloc(n, sizeof *nodes);
    char (*names)[16] = calloc(n, sizeof *names);
    struct node_render *nr = render(report("x", NULL), "big");
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], sizeof names[i], "n%05zu", i);
        nodes[i] = (struct scrape_node){"", names[i], "big", "0.1.0", nr, 1, true, 1};
    }
    struct scrape_input in = {.nodes = nodes, .n_nodes = n, .received = 0, .closed_connections = 0};
    status_write(&b, &in, &INFO);
    size_t rows = 0;
    for (const char *at = b.data; (at = strstr(at, "<tr class=\"node ")); at++)
        rows++;
    assert_int_equal(rows, STATUS_MAX_ROWS);
    has(b.data, "<p class=\"note\">500 more nodes not shown (see /metrics).</p>");
    has(b.data, "<b>1500</b> nodes");
    assert_true(b.len < 600 * (size_t)STATUS_MAX_ROWS);
    buf_free(&b);
    node_render_unref(nr);
    free(nodes);
    free(names);
    arena_free(&A);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--html") == 0) {
        char *p = canned_page();
        FILE *f = fopen(argv[2], "w");
        if (!f || fputs(p, f) < 0 || fclose(f) != 0) {
            perror(argv[2]);
            return 1;
        }
        free(p);
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_escape), cmocka_unit_test(t_hostile_values), cmocka_unit_test(t_nodes),
        cmocka_unit_test(t_clusters_and_aggregator), cmocka_unit_test(t_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
