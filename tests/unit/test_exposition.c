/* test_exposition.c — label escaping, node rendering, staleness in a scrape,
 * and the family table's naming rules (gzip: test_gzip.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "report_plan.h"
#include "exposition.h"
#include "merge.h"

static const struct merge_opts no_compat = {false};
#include "decode.h"
#include "render.h"

static void escaped(const char *in, const char *want)
{
    struct buf b = BUF_INIT;
    expo_escape_label(&b, in);
    assert_string_equal(b.data ? b.data : "", want);
    buf_free(&b);
}

static void t_escape(void **state)
{
    (void)state;
    escaped("plain", "plain");
    escaped("a\"b", "a\\\"b");
    escaped("back\\slash", "back\\\\slash");
    escaped("two\nlines", "two\\nlines");
    escaped("caf\xc3\xa9 \xe2\x9c\x93", "caf\xc3\xa9 \xe2\x9c\x93");      /* valid UTF-8 kept */
    escaped("bad\xff", "bad\xef\xbf\xbd");                               /* invalid byte replaced */
    escaped("\xc3", "\xef\xbf\xbd");                                     /* truncated sequence */
    escaped("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");     /* UTF-16 surrogate */
    escaped("", "");
}

/* A report exercising every unit conversion the renderer does. */
static Pvescope__Report *sample_report(void)
{
    static Pvescope__Report r = PVESCOPE__REPORT__INIT;
    static Pvescope__Host h = PVESCOPE__HOST__INIT;
    static Pvescope__CpuTicks t = PVESCOPE__CPU_TICKS__INIT;
    static Pvescope__Memory m = PVESCOPE__MEMORY__INIT;
    static Pvescope__Disk d0 = PVESCOPE__DISK__INIT, d1 = PVESCOPE__DISK__INIT;
    static Pvescope__Disk *disks[2] = {&d0, &d1};
    static Pvescope__PveLocal pl = PVESCOPE__PVE_LOCAL__INIT;
    static Pvescope__CollectorStatus cs = PVESCOPE__COLLECTOR_STATUS__INIT;
    static Pvescope__CollectorStatus *css[1] = {&cs};
    r.node = "pve1";
    r.host = &h;
    h.cpu = &t;
    h.has_user_hz = true; h.user_hz = 100;
    t.has_user = true; t.user = 12345;          /* 123.45 s */
    t.has_guest = true; t.guest = 200;          /* 2 s */
    h.has_cpu_count = true; h.cpu_count = 16;
    h.has_cpu_usage_ratio = true; h.cpu_usage_ratio = 0.25;
    h.memory = &m;
    m.has_total = m.has_available = true;
    m.total = 135055532032ull;
    m.available = 100000000000ull;
    m.has_swap_total = m.has_swap_free = true;
    m.swap_total = 8589934592ull; m.swap_free = 8589934592ull - 4096;
    d0.name = "nvme0n1";
    d0.has_sectors_read = true; d0.sectors_read = 1000;              /* 512000 bytes */
    d0.has_read_time_ms = true; d0.read_time_ms = 1500;              /* 1.5 s */
    d0.has_reads_completed = true; d0.reads_completed = UINT64_MAX;  /* exact */
    d1.name = "dm-3";
    d1.dm_name = "pve-vm--100--disk--0";
    d1.has_reads_completed = true; d1.reads_completed = 7;
    r.disks = disks;
    r.n_disks = 2;
    r.pve = &pl;
    pl.has_nodeid = true; pl.nodeid = 4;
    cs.name = "diskstats";
    cs.success = true;
    cs.has_errors_total = cs.has_warnings_total = true;
    cs.errors_total = 2;
    cs.warnings_total = 3;
    r.collectors = css;
    r.n_collectors = 1;
    return &r;
}

/* A decoded copy of r, as ingest keeps it with a node's render. */
static struct decoded_report *decoded_copy(const Pvescope__Report *r)
{
    size_t n = pvescope__report__get_packed_size(r);
    uint8_t *b = malloc(n);
    pvescope__report__pack(r, b);
    struct decoded_report *d = decoded_report_unpack(test_report_plan(), b, n, 1 << 20, NULL);
    free(b);
    assert_non_null(d);
    return d;
}

static void t_render(void **state)
{
    (void)state;
    struct node_render *nr = render_report(sample_report(), "id=\"node/pve1\"");
    const char *t = nr->text.data;
    assert_non_null(strstr(t, "pve_cpu_usage_ratio{id=\"node/pve1\"} 0.25\n"));
    assert_non_null(strstr(t, "pve_cpu_usage_limit{id=\"node/pve1\"} 16\n"));
    assert_non_null(strstr(t, "pve_memory_size_bytes{id=\"node/pve1\"} 135055532032\n"));
    assert_non_null(strstr(t, "pve_memory_usage_bytes{id=\"node/pve1\"} 35055532032\n"));
    assert_non_null(strstr(t, "pve_node_swap_usage_bytes{id=\"node/pve1\"} 4096\n"));
    assert_non_null(strstr(t, "pve_node_cpu_seconds_total{id=\"node/pve1\",mode=\"user\"} 123.45\n"));
    assert_non_null(strstr(t, "pve_node_cpu_guest_seconds_total{id=\"node/pve1\",mode=\"user\"} 2\n"));
    assert_non_null(strstr(t, "pve_node_disk_read_bytes_total{id=\"node/pve1\",device=\"nvme0n1\"} 512000\n"));
    assert_non_null(strstr(t, "pve_node_disk_read_time_seconds_total{id=\"node/pve1\",device=\"nvme0n1\"} 1.5\n"));
    assert_non_null(strstr(t, "pve_node_disk_reads_completed_total{id=\"node/pve1\",device=\"nvme0n1\"} 18446744073709551615\n"));
    assert_non_null(strstr(t, "pve_node_disk_device_mapper_info{id=\"node/pve1\",device=\"dm-3\",name=\"pve-vm--100--disk--0\"} 1\n"));
    assert_non_null(strstr(t, "pvescope_collector_success{id=\"node/pve1\",collector=\"diskstats\"} 1\n"));
    assert_non_null(strstr(t, "pvescope_collector_errors_total{id=\"node/pve1\",collector=\"diskstats\"} 2\n"));
    assert_non_null(strstr(t, "pvescope_collector_warnings_total{id=\"node/pve1\",collector=\"diskstats\"} 3\n"));
    /* fields the report does not carry produce no series */
    assert_null(strstr(t, "pve_uptime_seconds"));
    assert_null(strstr(t, "device=\"dm-3\"} 0"));
    /* each family's chunk holds only that family's lines */
    const char *chunk = t + nr->start[FAM_DISK_READS];
    assert_int_equal(strncmp(chunk, "pve_node_disk_reads_completed_total{", 36), 0);
    assert_int_equal(chunk[nr->len[FAM_DISK_READS] - 1], '\n');
    node_render_unref(nr);
}

static void t_scrape_staleness(void **state)
{
    (void)state;
    struct node_render *a = render_report(sample_report(), "id=\"node/pve1\",pve_cluster=\"prod\"");
    struct node_render *b = render_report(sample_report(), "id=\"node/pve2\",pve_cluster=\"prod\"");
    a->report = decoded_copy(sample_report());      /* the merge reads node ids from reports */
    b->report = decoded_copy(sample_report());
    struct scrape_node nodes[2] = {
        {"id=\"node/pve1\",pve_cluster=\"prod\"", "pve1", "prod", "0.1.0", a, 2.5, true, 7},
        {"id=\"node/pve2\",pve_cluster=\"prod\"", "pve2", "prod", "0.1.0", b, 75, false, 3},
    };
    struct scrape_input in = {.nodes = nodes, .n_nodes = 2, .received = 12, .closed_connections = 0};
    in.rejected[REJECT_BAD_TAG] = 2;
    in.http_gzip_failures = 3;
    struct buf out = BUF_INIT;
    scrape_write(&out, &in, &no_compat);
    const char *t = out.data;
    assert_non_null(strstr(t, "pve_up{id=\"node/pve1\",pve_cluster=\"prod\"} 1\n"));
    assert_non_null(strstr(t, "pve_up{id=\"node/pve2\",pve_cluster=\"prod\"} 0\n"));
    /* node_info stays for a stale node (the exporter lists offline nodes too) */
    assert_non_null(strstr(t, "pve_node_info{id=\"node/pve1\",pve_cluster=\"prod\",level=\"\",name=\"pve1\",nodeid=\"4\"} 1\n"));
    assert_non_null(strstr(t, "pve_node_info{id=\"node/pve2\",pve_cluster=\"prod\",level=\"\",name=\"pve2\",nodeid=\"4\"} 1\n"));
    assert_non_null(strstr(t, "pve_memory_size_bytes{id=\"node/pve1\",pve_cluster=\"prod\"}"));
    assert_null(strstr(t, "pve_memory_size_bytes{id=\"node/pve2\",pve_cluster=\"prod\"}"));      /* stale: vanished */
    assert_null(strstr(t, "pve_node_disk_read_bytes_total{id=\"node/pve2\""));
    assert_non_null(strstr(t, "pvescope_node_report_age_seconds{id=\"node/pve2\",pve_cluster=\"prod\"} 75\n"));
    assert_non_null(strstr(t, "pvescope_node_reports_accepted_total{id=\"node/pve1\",pve_cluster=\"prod\"} 7\n"));
    assert_non_null(strstr(t, "pvescope_reports_received_total 12\n"));
    assert_non_null(strstr(t, "pvescope_reports_rejected_total{reason=\"bad_tag\"} 2\n"));
    assert_non_null(strstr(t, "# TYPE pvescope_http_gzip_failures_total counter\npvescope_http_gzip_failures_total 3\n"));
    /* each family header exactly once */
    const char *first = strstr(t, "# TYPE pve_memory_size_bytes gauge\n");
    assert_non_null(first);
    assert_null(strstr(first + 1, "# TYPE pve_memory_size_bytes gauge\n"));
    buf_free(&out);
    node_render_unref(a);
    node_render_unref(b);
}

static void t_family_names(void **state)
{
    (void)state;
    regex_t re;
    assert_int_equal(regcomp(&re, "^(pve|pvescope)_[a-z0-9_]+$", REG_EXTENDED | REG_NOSUB), 0);
    for (int i = 0; i < FAM__COUNT; i++) {
        const struct family_desc *d = &family_table[i];
        assert_non_null(d->name);
        assert_int_equal(regexec(&re, d->name, 0, NULL, 0), 0);
        size_t n = strlen(d->name);
        bool total = n > 6 && strcmp(d->name + n - 6, "_total") == 0;
        if ((d->type == FT_COUNTER) != total)
            fail_msg("%s: counters, and only counters, end in _total", d->name);
        assert_null(strchr(d->help, '\n'));
        assert_null(strchr(d->help, '\\'));
        for (int j = 0; j < i; j++)
            assert_string_not_equal(d->name, family_table[j].name);
    }
    regfree(&re);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_escape), cmocka_unit_test(t_render), cmocka_unit_test(t_scrape_staleness),
        cmocka_unit_test(t_family_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
