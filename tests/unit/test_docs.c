/* test_docs.c — docs/metrics.md documents every metric family the
 * aggregator can serve (and no family that does not exist). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "exposition.h"
#include "fileio.h"

static void t_every_family_documented(void **state)
{
    (void)state;
    struct buf doc = BUF_INIT;
    assert_int_equal(read_file_at("/", METRICS_DOC, &doc), 0);
    int missing = 0;
    for (int i = 0; i < FAM__COUNT; i++) {
        char needle[160];
        snprintf(needle, sizeof needle, "| `%s` |", family_table[i].name);
        if (!strstr(doc.data, needle)) {
            print_error("docs/metrics.md has no row for %s\n", family_table[i].name);
            missing++;
        }
    }
    assert_int_equal(missing, 0);
    buf_free(&doc);
}

static void t_no_undocumented_extras(void **state)
{
    (void)state;
    struct buf doc = BUF_INIT;
    assert_int_equal(read_file_at("/", METRICS_DOC, &doc), 0);
    int unknown = 0;
    for (const char *p = doc.data; (p = strstr(p, "| `")) != NULL; p += 3) {
        const char *end = strchr(p + 3, '`');
        if (!end || strncmp(p + 3, "pve", 3) != 0)
            continue;
        size_t n = (size_t)(end - (p + 3));
        bool found = false;
        for (int i = 0; i < FAM__COUNT && !found; i++)
            found = strlen(family_table[i].name) == n && strncmp(family_table[i].name, p + 3, n) == 0;
        if (!found) {
            print_error("docs/metrics.md lists %.*s, which the aggregator does not serve\n", (int)n, p + 3);
            unknown++;
        }
    }
    assert_int_equal(unknown, 0);
    buf_free(&doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_every_family_documented), cmocka_unit_test(t_no_undocumented_extras),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
