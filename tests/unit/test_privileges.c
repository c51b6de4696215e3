/* test_privileges.c — the pure parts of least privilege: which capabilities
 * the collector registry asks for (the union over enabled collectors: nvme and
 * thinpool CAP_SYS_ADMIN, guests CAP_SYS_PTRACE, nothing else), and how a set
 * is written in the start-up log. Dropping them is a kernel matter and is
 * read back from /proc by the e2e_privileges test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "collector.h"
#include "privileges.h"
#include "report.h"

static void enable_only(bool *enabled, const char *const *names, size_t n)
{
    for (size_t i = 0; i < collector_registry_len; i++)
        enabled[i] = false;
    for (size_t k = 0; k < n; k++) {
        int idx = collector_index(names[k]);
        assert_true(idx >= 0);
        enabled[idx] = true;
    }
}

static void t_wanted(void **state)
{
    (void)state;
    bool enabled[64];
    assert_true(collector_registry_len <= 64);
    for (size_t i = 0; i < collector_registry_len; i++)
        enabled[i] = true;
    assert_int_equal(collectors_capabilities(enabled), 0x280000);      /* bits 21 and 19 */
    enable_only(enabled, (const char *[]){"guests"}, 1);
    assert_int_equal(collectors_capabilities(enabled), 0x80000);
    enable_only(enabled, (const char *[]){"nvme"}, 1);
    assert_int_equal(collectors_capabilities(enabled), 0x200000);
    enable_only(enabled, (const char *[]){"thinpool", "nvme"}, 2);
    assert_int_equal(collectors_capabilities(enabled), 0x200000);
    static const char *const unprivileged[] = {"stat", "meminfo", "loadavg", "uptime", "pressure", "diskstats",
                                               "netdev", "bootid", "cluster", "storage", "sensors", "zfs"};
    enable_only(enabled, unprivileged, sizeof unprivileged / sizeof unprivileged[0]);
    assert_int_equal(collectors_capabilities(enabled), 0);
}

static void t_format(void **state)
{
    (void)state;
    char out[256];
    privileges_format(0, out, sizeof out);
    assert_string_equal(out, "none");
    privileges_format(CAP_BIT(CAP_SYS_ADMIN) | CAP_BIT(CAP_SYS_PTRACE), out, sizeof out);
    assert_string_equal(out, "CAP_SYS_PTRACE,CAP_SYS_ADMIN");
    privileges_format(CAP_BIT(0) | CAP_BIT(40) | CAP_BIT(63), out, sizeof out);
    assert_string_equal(out, "CAP_CHOWN,CAP_CHECKPOINT_RESTORE,cap_63");
    privileges_format(CAP_BIT(CAP_NET_BIND_SERVICE), out, 8);           /* truncated, still terminated */
    assert_string_equal(out, "CAP_NET");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_wanted),
        cmocka_unit_test(t_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
