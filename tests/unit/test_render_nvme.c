/* test_render_nvme.c — the pve_nvme_* families rendered from a canned report
 * with a healthy and a failed controller: every line exact, and the whole
 * scrape checked by `promtool check metrics` when promtool was found at
 * configure time (PROMTOOL). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "render_test_util.h"

#define LABELS "id=\"node/pve1\",pve_cluster=\"prod\""

static Pvescope__Report *canned_report(void)
{
    static Pvescope__Report r = PVESCOPE__REPORT__INIT;
    static Pvescope__NvmeController ok = PVESCOPE__NVME_CONTROLLER__INIT, bad = PVESCOPE__NVME_CONTROLLER__INIT;
    static Pvescope__NvmeController *ctrls[2] = {&ok, &bad};
    r.node = "pve1";
    r.nvme = ctrls;
    r.n_nvme = 2;

    ok.name = "nvme0";
    ok.model = "Lab \"Worn\" C:\\NVMe";     /* quotes and backslashes get escaped */
    ok.serial = "lab-healthy";
    ok.firmware = "7.2.22";
    ok.transport = "pcie";
    ok.has_warning_temp_threshold_kelvin = true; ok.warning_temp_threshold_kelvin = 343;
    ok.has_critical_temp_threshold_kelvin = true; ok.critical_temp_threshold_kelvin = 373;
    ok.has_critical_warning = true; ok.critical_warning = 0x05;          /* spare + degraded */
    ok.has_temperature_kelvin = true; ok.temperature_kelvin = 323;
    ok.has_available_spare_percent = true; ok.available_spare_percent = 3;
    ok.has_available_spare_threshold_percent = true; ok.available_spare_threshold_percent = 10;
    ok.has_percentage_used = true; ok.percentage_used = 255;
    ok.has_data_units_read = true; ok.data_units_read = UINT64_MAX;     /* saturated: float */
    ok.has_data_units_written = true; ok.data_units_written = 68;
    ok.has_host_read_commands = true; ok.host_read_commands = UINT64_MAX;
    ok.has_host_write_commands = true; ok.host_write_commands = 4297;
    ok.has_controller_busy_minutes = true; ok.controller_busy_minutes = 7;
    ok.has_power_cycles = true; ok.power_cycles = 3;
    ok.has_power_on_hours = true; ok.power_on_hours = 2;
    ok.has_unsafe_shutdowns = true; ok.unsafe_shutdowns = 1;
    ok.has_media_errors = true; ok.media_errors = 0;
    ok.has_error_log_entries = true; ok.error_log_entries = 17;
    ok.has_warning_temp_minutes = true; ok.warning_temp_minutes = 9;
    ok.has_critical_temp_minutes = true; ok.critical_temp_minutes = 1;

    bad.name = "nvme1";
    bad.model = "QEMU NVMe Ctrl";
    bad.serial = "lab-worn";
    bad.transport = "pcie";                 /* no firmware attribute */
    bad.error = "permission denied (needs CAP_SYS_ADMIN)";
    bad.has_temperature_kelvin = true;      /* a reading sent with an error is not rendered */
    bad.temperature_kelvin = 300;
    bad.has_critical_warning = true;
    bad.critical_warning = 1;
    return &r;
}

static const char want[] =
    "pve_nvme_info{" LABELS ",device=\"nvme0\",model=\"Lab \\\"Worn\\\" C:\\\\NVMe\",serial=\"lab-healthy\",firmware=\"7.2.22\",transport=\"pcie\"} 1\n"
    "pve_nvme_info{" LABELS ",device=\"nvme1\",model=\"QEMU NVMe Ctrl\",serial=\"lab-worn\",firmware=\"\",transport=\"pcie\"} 1\n"
    "pve_nvme_up{" LABELS ",device=\"nvme0\"} 1\n"
    "pve_nvme_up{" LABELS ",device=\"nvme1\"} 0\n"
    "pve_nvme_temperature_celsius{" LABELS ",device=\"nvme0\"} 49.85\n"
    "pve_nvme_temperature_warning_threshold_celsius{" LABELS ",device=\"nvme0\"} 69.85\n"
    "pve_nvme_temperature_critical_threshold_celsius{" LABELS ",device=\"nvme0\"} 99.85\n"
    "pve_nvme_critical_warning{" LABELS ",device=\"nvme0\"} 5\n"
    "pve_nvme_critical_warning_flag{" LABELS ",device=\"nvme0\",flag=\"spare\"} 1\n"
    "pve_nvme_critical_warning_flag{" LABELS ",device=\"nvme0\",flag=\"temperature\"} 0\n"
    "pve_nvme_critical_warning_flag{" LABELS ",device=\"nvme0\",flag=\"degraded\"} 1\n"
    "pve_nvme_critical_warning_flag{" LABELS ",device=\"nvme0\",flag=\"read_only\"} 0\n"
    "pve_nvme_critical_warning_flag{" LABELS ",device=\"nvme0\",flag=\"volatile_memory\"} 0\n"
    "pve_nvme_critical_warning_flag{" LABELS ",device=\"nvme0\",flag=\"pmr_read_only\"} 0\n"
    "pve_nvme_available_spare_ratio{" LABELS ",device=\"nvme0\"} 0.03\n"
    "pve_nvme_available_spare_threshold_ratio{" LABELS ",device=\"nvme0\"} 0.1\n"
    "pve_nvme_percentage_used_ratio{" LABELS ",device=\"nvme0\"} 2.55\n"
    "pve_nvme_data_read_bytes_total{" LABELS ",device=\"nvme0\"} 9.44473296573929e+24\n"
    "pve_nvme_data_written_bytes_total{" LABELS ",device=\"nvme0\"} 34816000\n"
    "pve_nvme_host_read_commands_total{" LABELS ",device=\"nvme0\"} 18446744073709551615\n"
    "pve_nvme_host_write_commands_total{" LABELS ",device=\"nvme0\"} 4297\n"
    "pve_nvme_controller_busy_seconds_total{" LABELS ",device=\"nvme0\"} 420\n"
    "pve_nvme_power_cycles_total{" LABELS ",device=\"nvme0\"} 3\n"
    "pve_nvme_power_on_seconds_total{" LABELS ",device=\"nvme0\"} 7200\n"
    "pve_nvme_unsafe_shutdowns_total{" LABELS ",device=\"nvme0\"} 1\n"
    "pve_nvme_media_errors_total{" LABELS ",device=\"nvme0\"} 0\n"
    "pve_nvme_error_log_entries_total{" LABELS ",device=\"nvme0\"} 17\n"
    "pve_nvme_warning_temperature_seconds_total{" LABELS ",device=\"nvme0\"} 540\n"
    "pve_nvme_critical_temperature_seconds_total{" LABELS ",device=\"nvme0\"} 60\n";

/* The pve_nvme_ lines of text, in order. */
static char *nvme_lines(const char *text)
{
    struct buf b = BUF_INIT;
    for (const char *p = text; p && *p;) {
        const char *end = strchr(p, '\n');
        size_t n = end ? (size_t)(end - p) + 1 : strlen(p);
        if (strncmp(p, "pve_nvme_", 9) == 0)
            buf_append(&b, p, n);
        p += n;
    }
    size_t len;
    return buf_steal(&b, &len);
}

static void t_render_exact(void **state)
{
    (void)state;
    struct node_render *nr = render_report(canned_report(), LABELS);
    char *got = nvme_lines(nr->text.data);
    assert_non_null(got);
    assert_string_equal(got, want);
    /* each family's chunk holds exactly its own lines */
    const char *chunk = nr->text.data + nr->start[FAM_NVME_UP];
    assert_int_equal(nr->len[FAM_NVME_UP], strlen("pve_nvme_up{" LABELS ",device=\"nvme0\"} 1\n") * 2);
    assert_int_equal(strncmp(chunk, "pve_nvme_up{", 12), 0);
    free(got);
    node_render_unref(nr);
}

/* No controllers: no pve_nvme_ family at all (not even empty headers). */
static void t_render_none(void **state)
{
    (void)state;
    Pvescope__Report r = PVESCOPE__REPORT__INIT;
    r.node = "pve1";
    struct node_render *nr = render_report(&r, LABELS);
    assert_null(strstr(nr->text.data ? nr->text.data : "", "pve_nvme_"));
    for (int f = FAM_NVME_INFO; f <= FAM_NVME_CRITICAL_TEMP_TIME; f++)
        assert_int_equal(nr->len[f], 0);
    node_render_unref(nr);
}

/* Temperatures below 0 °C and a threshold of 0 K (not reported). */
static void t_render_edges(void **state)
{
    (void)state;
    Pvescope__Report r = PVESCOPE__REPORT__INIT;
    Pvescope__NvmeController c = PVESCOPE__NVME_CONTROLLER__INIT, *cs[1] = {&c};
    r.node = "pve1";
    r.nvme = cs;
    r.n_nvme = 1;
    c.name = "nvme0";
    c.has_temperature_kelvin = true; c.temperature_kelvin = 263;
    c.has_warning_temp_threshold_kelvin = true; c.warning_temp_threshold_kelvin = 0;
    c.has_data_units_written = true; c.data_units_written = UINT64_MAX / 512000;  /* largest exact */
    struct node_render *nr = render_report(&r, LABELS);
    char *got = nvme_lines(nr->text.data);
    assert_string_equal(got,
        "pve_nvme_info{" LABELS ",device=\"nvme0\",model=\"\",serial=\"\",firmware=\"\",transport=\"\"} 1\n"
        "pve_nvme_up{" LABELS ",device=\"nvme0\"} 1\n"
        "pve_nvme_temperature_celsius{" LABELS ",device=\"nvme0\"} -10.15\n"
        "pve_nvme_data_written_bytes_total{" LABELS ",device=\"nvme0\"} 18446744073709056000\n");
    free(got);
    node_render_unref(nr);
}

#ifdef PROMTOOL
static void t_promtool(void **state)
{
    (void)state;
    struct buf out = BUF_INIT;
    assert_int_equal(rt_scrape(canned_report(), LABELS, &out), 0);
    assert_non_null(strstr(out.data, "# TYPE pve_nvme_data_written_bytes_total counter\n"));
    assert_non_null(strstr(out.data, "pve_nvme_up{" LABELS ",device=\"nvme1\"} 0\n"));
    rt_promtool_check(PROMTOOL, out.data, out.len);
    buf_free(&out);
}
#endif

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_render_exact),
        cmocka_unit_test(t_render_none),
        cmocka_unit_test(t_render_edges),
#ifdef PROMTOOL
        cmocka_unit_test(t_promtool),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
