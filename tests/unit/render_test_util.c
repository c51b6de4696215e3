/* render_test_util.c — see render_test_util.h. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report_plan.h"
#include "decode.h"
#include "merge.h"
#include "render_test_util.h"

void rt_expect_family(const struct node_render *nr, enum family_id f, const char *want)
{
    /* an empty render may have no text buffer at all */
    const char *chunk = nr->len[f] ? nr->text.data + nr->start[f] : "";
    if (nr->len[f] != strlen(want) || memcmp(chunk, want, nr->len[f]) != 0)
        fail_msg("%s:\n--- got\n%.*s--- want\n%s", family_table[f].name, (int)nr->len[f], chunk, want);
}

void rt_expect_families(const struct node_render *nr, const char *prefix, const struct rt_want *want, size_t n)
{
    size_t n_families = 0;
    for (int f = 0; f < FAM__COUNT; f++)
        n_families += strncmp(family_table[f].name, prefix, strlen(prefix)) == 0;
    assert_int_equal(n_families, n);
    for (size_t i = 0; i < n; i++)
        rt_expect_family(nr, want[i].fam, want[i].text);
}

static void t_exact_lines(void **state)
{
    const struct rt_family_test *t = *state;
    struct node_render *nr = render_report(t->canned(), t->labels);
    rt_expect_families(nr, t->prefix, t->want, t->n_want);
    node_render_unref(nr);
}

static void t_no_series(void **state)
{
    const struct rt_family_test *t = *state;
    Pvescope__Report r = PVESCOPE__REPORT__INIT;
    r.node = "pve1";
    struct node_render *nr = render_report(&r, t->labels);
    for (size_t i = 0; i < t->n_want; i++)
        assert_int_equal(nr->len[t->want[i].fam], 0);
    assert_null(strstr(nr->text.data ? nr->text.data : "", t->prefix));
    node_render_unref(nr);
}

int rt_family_test_main(int argc, char **argv, const struct rt_family_test *t)
{
    if (argc == 3 && strcmp(argv[1], "--scrape") == 0)
        return rt_write_scrape(t->canned(), t->labels, argv[2]);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(t_exact_lines, (void *)t),
        cmocka_unit_test_prestate(t_no_series, (void *)t),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

int rt_scrape(const Pvescope__Report *r, const char *labels, struct buf *out)
{
    struct node_render *nr = render_report(r, labels);
    size_t n = pvescope__report__get_packed_size(r);
    uint8_t *wire = malloc(n);
    pvescope__report__pack(r, wire);
    nr->report = decoded_report_unpack(test_report_plan(), wire, n, 1 << 20, NULL);     /* the merge reads the node from it */
    free(wire);
    if (!nr->report) {
        node_render_unref(nr);
        return -1;
    }
    struct scrape_node node = {labels, "pve1", "prod", "0.1.0", nr, 1, true, 1};
    struct scrape_input in = {.nodes = &node, .n_nodes = 1, .received = 1};
    const struct merge_opts o = {false};
    scrape_write(out, &in, &o);
    node_render_unref(nr);
    return 0;
}

int rt_write_scrape(const Pvescope__Report *r, const char *labels, const char *path)
{
    struct buf out = BUF_INIT;
    if (rt_scrape(r, labels, &out) != 0)
        return 1;
    FILE *f = fopen(path, "w");
    int rc = f && fwrite(out.data, 1, out.len, f) == out.len ? 0 : 1;
    if (f && fclose(f) != 0)
        rc = 1;
    buf_free(&out);
    return rc;
}

void rt_promtool_check(const char *promtool, const char *text, size_t len)
{
    char path[] = "/tmp/pvescope-render-test-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "'%s' check metrics < '%s' 2>&1", promtool, path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char said[4096];
    size_t n = fread(said, 1, sizeof said - 1, p);
    said[n] = '\0';
    int rc = pclose(p);
    unlink(path);
    if (rc == 0 && n == 0)
        return;
    /* Name the line promtool points at: its number alone says little. */
    const char *at = strstr(said, "in line ");
    long line = at ? strtol(at + 8, NULL, 10) : 0;
    const char *l = text;
    for (long i = 1; i < line && l; i++)
        l = memchr(l, '\n', len - (size_t)(l - text)) ? (const char *)memchr(l, '\n', len - (size_t)(l - text)) + 1
                                                        : NULL;
    int shown = l ? (int)strcspn(l, "\n") : 0;
    fail_msg("promtool check metrics (status %d): %s (line %ld: %.*s)", rc, said, line, shown, l ? l : "");
}
