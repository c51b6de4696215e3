/* test_members.c — /etc/pve/.members parsing and the "pve" collector. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "collector.h"
#include "pve_members.h"

static void t_cluster(void **state)
{
    (void)state;
    const char *text =
        "{\n\"nodename\": \"pve3\",\n\"version\": 14,\n"
        "\"cluster\": { \"name\": \"prod-fra1\", \"version\": 11, \"nodes\": 3, \"quorate\": 1 },\n"
        "\"nodelist\": {\n  \"pve1\": { \"id\": 1, \"online\": 1, \"ip\": \"10.0.0.1\"},\n"
        "  \"pve3\": { \"id\": 3, \"online\": 1},\n  \"pve2\": { \"id\": 2, \"online\": 0}\n  }\n}\n";
    struct members_local m;
    char err[128];
    assert_true(members_parse_local(text, &m, err, sizeof err));
    assert_string_equal(m.nodename, "pve3");
    assert_string_equal(m.cluster_name, "prod-fra1");
    assert_true(m.has_nodeid);
    assert_int_equal(m.nodeid, 3);
}

static void t_nodelist_before_nodename(void **state)
{
    (void)state;
    const char *text = "{\"nodelist\": {\"b\": {\"id\": 9}}, \"nodename\": \"b\"}";
    struct members_local m;
    char err[128];
    assert_true(members_parse_local(text, &m, err, sizeof err));
    assert_int_equal(m.nodeid, 9);
    assert_string_equal(m.cluster_name, "");
}

static void t_standalone(void **state)
{
    (void)state;
    struct members_local m;
    char err[128];
    assert_true(members_parse_local("{\n\"nodename\": \"pve-lab\",\n\"version\": 0\n}\n", &m, err, sizeof err));
    assert_string_equal(m.nodename, "pve-lab");
    assert_string_equal(m.cluster_name, "");
    assert_false(m.has_nodeid);
}

static void t_malformed(void **state)
{
    (void)state;
    struct members_local m;
    char err[128];
    assert_false(members_parse_local("", &m, err, sizeof err));
    assert_false(members_parse_local("{\"nodename\": \"pve1\"", &m, err, sizeof err));   /* truncated */
    assert_false(members_parse_local("{\"version\": 3}", &m, err, sizeof err));
    assert_non_null(strstr(err, "nodename"));
    assert_false(members_parse_local("[1,2]", &m, err, sizeof err));
    assert_false(members_parse_local("{\"nodename\": \"a\", \"nodelist\": {\"a\": {\"id\": 0}}}", &m, err,
                                     sizeof err));
    char longname[200];
    memset(longname, 'x', sizeof longname);
    longname[sizeof longname - 1] = '\0';
    char text[300];
    snprintf(text, sizeof text, "{\"nodename\": \"%s\"}", longname);
    assert_false(members_parse_local(text, &m, err, sizeof err));               /* too long */
}

/* One cycle of the "pve" collector with root as --path.pve (a fresh
 * collector each time unless state is given). */
static Pvescope__Report *collect_pve_state(void *state, const char *root, struct arena *a,
                                           struct buf *scratch, int *rc)
{
    struct collector_ctx ctx = {.procfs = "/nonexistent", .sysfs = "/nonexistent", .pve = root,
                                .arena = a, .scratch = scratch};
    Pvescope__Report *r = arena_alloc(a, sizeof *r);
    pvescope__report__init(r);
    *rc = collector_pve.collect(state, &ctx, r);
    return r;
}

static Pvescope__Report *collect_pve(const char *root, struct arena *a, struct buf *scratch, int *rc)
{
    void *state;
    struct collector_ctx ctx = {.arena = a, .scratch = scratch};
    assert_int_equal(collector_pve.init(&state, &ctx), 0);
    Pvescope__Report *r = collect_pve_state(state, root, a, scratch, rc);
    collector_pve.fini(state);
    return r;
}

/* One collector across cycles: a changed file is parsed again, an
 * unchanged one gives the same answer, a broken one fails and recovers. */
static void t_collector_follows_changes(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 4096);
    struct buf scratch = BUF_INIT;
    void *st;
    struct collector_ctx ctx = {.arena = &a, .scratch = &scratch};
    assert_int_equal(collector_pve.init(&st, &ctx), 0);
    static const struct { const char *root; int rc; uint32_t nodeid; } steps[] = {
        {FIXTURES "/pve-cluster", 0, 1}, {FIXTURES "/pve-cluster", 0, 1},
        {FIXTURES "/pve-isolated", 0, 6}, {FIXTURES "/pve-broken", -1, 0},
        {FIXTURES "/pve-isolated", 0, 6}, {FIXTURES "/pve-cluster", 0, 1},
    };
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        int rc;
        Pvescope__Report *r = collect_pve_state(st, steps[i].root, &a, &scratch, &rc);
        assert_int_equal(rc, steps[i].rc);
        if (rc == 0)
            assert_int_equal(r->pve->nodeid, steps[i].nodeid);
        else
            assert_null(r->pve);
    }
    collector_pve.fini(st);
    arena_free(&a);
    buf_free(&scratch);
}

static void t_collector(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a, 4096);
    struct buf scratch = BUF_INIT;
    int rc;
    Pvescope__Report *r = collect_pve(FIXTURES "/pve-cluster", &a, &scratch, &rc);
    assert_int_equal(rc, 0);
    assert_non_null(r->pve);
    assert_string_equal(r->pve->cluster_name, "prod-fra1");
    assert_int_equal(r->pve->nodeid, 1);
    r = collect_pve(FIXTURES "/pve-isolated", &a, &scratch, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(r->pve->nodeid, 6);
    r = collect_pve(FIXTURES "/pve-standalone", &a, &scratch, &rc);
    assert_int_equal(rc, 0);
    assert_null(r->pve->cluster_name);
    assert_false(r->pve->has_nodeid);
    r = collect_pve(FIXTURES "/no-such-dir", &a, &scratch, &rc);   /* not a PVE node: no error */
    assert_int_equal(rc, 0);
    assert_null(r->pve);
    r = collect_pve(FIXTURES "/pve-broken", &a, &scratch, &rc);     /* truncated file */
    assert_int_equal(rc, -1);
    assert_null(r->pve);
    arena_free(&a);
    buf_free(&scratch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_cluster), cmocka_unit_test(t_nodelist_before_nodename),
        cmocka_unit_test(t_standalone), cmocka_unit_test(t_malformed), cmocka_unit_test(t_collector),
        cmocka_unit_test(t_collector_follows_changes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
