/* render_test_util.h — what the renderer tests (test_render_*.c) share:
 * checking a family's chunk against the wanted lines, a whole scrape of one
 * canned report, and promtool's verdict on an exposition.
 *
 * Contract: rt_expect_* and rt_promtool_check run inside a cmocka test and
 * fail it (fail_msg) rather than return; rt_family_test_main is a whole
 * main(); rt_scrape and rt_write_scrape need no cmocka. The scrape is
 * one node "pve1" of cluster "prod", fresh, as the aggregator would serve it
 * after ingest, so HELP/TYPE headers and the merge's view of the report are
 * part of what a promtool check sees. Link render_test_util.c and
 * pvescope_aggregator_core. */
#ifndef PVESCOPE_RENDER_TEST_UTIL_H
#define PVESCOPE_RENDER_TEST_UTIL_H

#include <stddef.h>

#include "buf.h"
#include "render.h"

struct rt_want {
    enum family_id fam;
    const char *text;            /* every line of the family's chunk, in order */
};

/* Family f's chunk of nr is exactly want ("" for no samples). */
void rt_expect_family(const struct node_render *nr, enum family_id f, const char *want);

/* want covers every family whose name starts with prefix (so a family added
 * later without a test fails here), and each chunk is exactly its text. */
void rt_expect_families(const struct node_render *nr, const char *prefix, const struct rt_want *want, size_t n);

/* A renderer test driven by a table: the families named prefix* of the
 * canned report rendered with labels are exactly want, and a report without
 * their section renders none of them (absent, never 0). */
struct rt_family_test {
    Pvescope__Report *(*canned)(void);
    const char *labels;
    const char *prefix;
    const struct rt_want *want;
    size_t n_want;
};

/* main() of such a test: runs both checks; with `--scrape FILE` writes the
 * canned report's scrape to FILE instead (rt_write_scrape), for the
 * NAME_promtool ctest. Returns the exit status. */
int rt_family_test_main(int argc, char **argv, const struct rt_family_test *t);

/* Appends the whole scrape of a node that sent r (labels: its escaped node
 * labels) to out. The report goes through pack and unpack, as ingest keeps
 * it next to the render. Returns 0, or -1 if it does not decode. */
int rt_scrape(const Pvescope__Report *r, const char *labels, struct buf *out);

/* rt_scrape into the file path, for a ctest that runs promtool on it
 * outside the test binary. Returns an exit status: 0, or 1 on any failure. */
int rt_write_scrape(const Pvescope__Report *r, const char *labels, const char *path);

/* `promtool check metrics` (promtool: the program to run) accepts text
 * with status 0 and without a single lint message. */
void rt_promtool_check(const char *promtool, const char *text, size_t len);

#endif
