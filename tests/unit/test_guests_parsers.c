/* test_guests_parsers.c — unit tests of the parsers in agent/guest_parsers.h
 * on inline text: /proc/<pid>/stat and cmdline, cgroup v2 files, pid lists,
 * /proc/<pid>/cgroup and guest interface names. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "guest_parsers.h"

/* Fails the test with the parser's message when rc is not 0. */
#define assert_parsed(rc, e)                                                   \
    do {                                                                       \
        if ((rc) != 0)                                                         \
            fail_msg("parse failed: line %d: %s", (e).line, (e).msg);          \
    } while (0)

static void test_vmid(void **unused)
{
    (void)unused;
    uint32_t v = 0;
    assert_true(parse_vmid("100", 3, &v) && v == 100);
    assert_true(parse_vmid("999999999", 9, &v) && v == 999999999);
    assert_true(parse_vmid("7", 1, &v) && v == 7);
    assert_false(parse_vmid("", 0, &v));
    assert_false(parse_vmid("0", 1, &v));
    assert_false(parse_vmid("0100", 4, &v));
    assert_false(parse_vmid("1000000000", 10, &v));
    assert_false(parse_vmid("12a", 3, &v));
    assert_false(parse_vmid("-1", 2, &v));
}

/* The reference line of pve-internals §7.8. */
#define STAT_2143 "2143 (kvm) S 1 2142 2142 0 -1 138412352 4881204 0 1803 0 69211145 9211786 0 0 20 0 11 0 " \
                  "34811322 10285813760 1826988 18446744073709551615 1 1 0 0 0 0 268444224 4096 16963 0 0 0 " \
                  "17 7 0 0 0 0 0 0 0 0 0 0 0 0 0\n"

static void test_pid_stat(void **unused)
{
    (void)unused;
    struct pid_stat s;
    struct parse_err e = {0};
    int rc = parse_pid_stat(STAT_2143, &s, &e);
    assert_parsed(rc, e);
    assert_int_equal(s.pid, 2143);
    assert_int_equal(s.state, 'S');
    assert_int_equal(s.ppid, 1);
    assert_int_equal(s.utime, 69211145);
    assert_int_equal(s.stime, 9211786);
    assert_int_equal(s.starttime, 34811322);

    /* A command name with blanks, parentheses and a newline ends at the last
     * ')'; negative priority and nice (real-time, niced) are fine. */
    memset(&e, 0, sizeof e);
    rc = parse_pid_stat("77 (a) (b\n) c) R 5 77 77 0 -1 0 0 0 0 0 3 4 0 0 -2 -5 1 0 99 0\n", &s, &e);
    assert_parsed(rc, e);
    assert_int_equal(s.state, 'R');
    assert_int_equal(s.ppid, 5);
    assert_int_equal(s.utime, 3);
    assert_int_equal(s.stime, 4);
    assert_int_equal(s.starttime, 99);

    /* Exactly 22 fields is enough (old kernels); a zombie parses. */
    memset(&e, 0, sizeof e);
    rc = parse_pid_stat("9 (x) Z 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1 0 12\n", &s, &e);
    assert_parsed(rc, e);
    assert_int_equal(s.state, 'Z');
    assert_int_equal(s.starttime, 12);
}

static void test_pid_stat_rejects(void **unused)
{
    (void)unused;
    static const char *const bad[] = {
        "",
        "x (kvm) S 1\n",
        "2143 kvm S 1\n",                                      /* no parentheses */
        "2143 (kvm S 1 2 3\n",                                 /* no ')' */
        "2143 (kvm) S 1 2142 2142 0 -1 0 0 0 0 0 1 2 0 0 20 0 11 0 34811322",      /* no newline */
        "2143 (kvm) S 1 2142 2142 0 -1 0 0 0 0 0 1 2 0 0 20 0 11 0\n",              /* 21 fields */
        "2143 (kvm) S -1 2142 2142 0 -1 0 0 0 0 0 1 2 0 0 20 0 11 0 5\n",           /* ppid < 0 */
        "2143 (kvm) S 1 2142 2142 0 -1 0 0 0 0 0 -1 2 0 0 20 0 11 0 5\n",           /* utime < 0 */
        "2143 (kvm) S 1 2142 2142 0 -1 0 0 0 0 0 1 2 0 0 20 0 11 0 18446744073709551616\n",
        "2143 (kvm) S 1 2142 2142 0 -1 0 0 0 0 0 1 2 0 0 2x 0 11 0 5\n",
        "2143 (kvm)  1 2142 2142 0 -1 0 0 0 0 0 1 2 0 0 20 0 11 0 5\n",            /* no state */
        "2143 (kvm) SS 1 2142 2142 0 -1 0 0 0 0 0 1 2 0 0 20 0 11 0 5\n",
        STAT_2143 "2143 (kvm) S\n",                                                /* second line */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct pid_stat s;
        struct parse_err e = {0};
        if (parse_pid_stat(bad[i], &s, &e) != -1)
            fail_msg("accepted bad stat #%zu", i);
        assert_true(e.msg[0] != '\0');
    }
}

/* Builds a NUL-separated argv from a list ending in NULL. Returns its length. */
static size_t argv_of(char *out, size_t cap, const char *const *args)
{
    size_t n = 0;
    for (; *args; args++) {
        size_t l = strlen(*args) + 1;
        assert_true(n + l <= cap);
        memcpy(out + n, *args, l);
        n += l;
    }
    return n;
}

static bool cmdline_matches(uint32_t vmid, const char *const *args)
{
    char buf[1024];
    size_t n = argv_of(buf, sizeof buf, args);
    return qemu_cmdline_matches(buf, n, vmid);
}

static void test_qemu_cmdline(void **unused)
{
    (void)unused;
    static const char *const kvm[] = {"/usr/bin/kvm", "-id", "100", "-name", "web01,debug-threads=on",
                                      "-pidfile", "/var/run/qemu-server/100.pid", "-daemonize", NULL};
    assert_true(cmdline_matches(100, kvm));
    assert_false(cmdline_matches(101, kvm));                  /* another VM's pid file */
    static const char *const sys[] = {"/usr/bin/qemu-system-x86_64", "-pidfile", "/run/qemu-server/7.pid", NULL};
    assert_true(cmdline_matches(7, sys));                    /* /run spelling, qemu-* binary */
    static const char *const bare[] = {"qemu-system-aarch64", "--pidfile", "/var/run/qemu-server/7.pid", NULL};
    assert_true(cmdline_matches(7, bare));
    static const char *const kvmsuffix[] = {"/opt/qemu-kvm", "-pidfile", "/var/run/qemu-server/7.pid", NULL};
    assert_true(cmdline_matches(7, kvmsuffix));
    static const char *const sshd[] = {"/usr/sbin/sshd", "-pidfile", "/var/run/qemu-server/7.pid", NULL};
    assert_false(cmdline_matches(7, sshd));
    static const char *const qemudir[] = {"/usr/qemu-x/bin", "-pidfile", "/var/run/qemu-server/7.pid", NULL};
    assert_false(cmdline_matches(7, qemudir));                /* "qemu-" must be the last component */
    static const char *const noval[] = {"/usr/bin/kvm", "-pidfile", "-daemonize", "/var/run/qemu-server/7.pid", NULL};
    assert_false(cmdline_matches(7, noval));                  /* an option right after: no value */
    static const char *const last[] = {"/usr/bin/kvm", "-pidfile", "/var/run/qemu-server/7.pid",
                                       "-pidfile", "/var/run/qemu-server/8.pid", NULL};
    assert_false(cmdline_matches(7, last));                   /* the last one wins */
    assert_true(cmdline_matches(8, last));
    static const char *const skip0[] = {"/usr/bin/kvm", "-pidfile", "", "0", "/var/run/qemu-server/7.pid", NULL};
    assert_true(cmdline_matches(7, skip0));                   /* Perl's `next if !$p` */
    static const char *const other[] = {"/usr/bin/kvm", "-pidfile", "/x/var/run/qemu-server/7.pid", NULL};
    assert_false(cmdline_matches(7, other));
    static const char *const none[] = {"/usr/bin/kvm", "-id", "7", NULL};
    assert_false(cmdline_matches(7, none));

    const char raw[] = "/usr/bin/kvm\0-pidfile\0/var/run/qemu-server/9.pid";   /* no final NUL */
    assert_true(qemu_cmdline_matches(raw, sizeof raw - 1, 9));
    assert_false(qemu_cmdline_matches(raw, 0, 9));             /* a zombie's empty cmdline */
    assert_false(qemu_cmdline_matches(raw, 20, 9));            /* cut inside the path */
}

#define CPU_STAT "usage_usec 7842293117\nuser_usec 6921114532\nsystem_usec 921178585\n" \
                 "core_sched.force_idle_usec 0\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n"

static void test_flat_keyed(void **unused)
{
    (void)unused;
    uint64_t v;
    struct parse_err e = {0};
    int rc = parse_flat_keyed(CPU_STAT, "usage_usec", &v, &e);
    assert_parsed(rc, e);
    assert_true(v == 7842293117ULL);
    rc = parse_flat_keyed("anon 7398354944\nfile 35651584\nfuture_key some-text\n", "file", &v, &e);
    assert_parsed(rc, e);
    assert_int_equal(v, 35651584);
    /* the first line of the key counts; what follows it is not read */
    rc = parse_flat_keyed("file 1\nfile 2\nnot a key value line at all\n", "file", &v, &e);
    assert_parsed(rc, e);
    assert_int_equal(v, 1);

    static const struct { const char *text, *msg; } bad[] = {
        {"", "empty file"},
        {"user_usec 1\n", "no \"usage_usec\" line"},
        {"usage_usec 12x\n", "not one unsigned value"},
        {"usage_usec -1\n", "not one unsigned value"},
        {"usage_usec 1 2\n", "not one unsigned value"},
        {"user_usec\nusage_usec 1\n", "expected \"key value\""},
        {"user_usec 1 2\nusage_usec 1\n", "expected \"key value\""},
        {"\nusage_usec 1\n", "empty line"},
        {"usage_usec 123456789\nuser_usec 100000000\nsystem_us", "truncated"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&e, 0, sizeof e);
        if (parse_flat_keyed(bad[i].text, "usage_usec", &v, &e) != -1)
            fail_msg("accepted bad cpu.stat #%zu", i);
        if (!strstr(e.msg, bad[i].msg))
            fail_msg("#%zu: \"%s\" lacks \"%s\"", i, e.msg, bad[i].msg);
    }
}

static void test_cgroup_value(void **unused)
{
    (void)unused;
    uint64_t v;
    bool max;
    struct parse_err e = {0};
    assert_int_equal(parse_cgroup_value("7483297792\n", &v, &max, &e), 0);
    assert_true(v == 7483297792ULL && !max);
    assert_int_equal(parse_cgroup_value("max\n", &v, &max, &e), 0);
    assert_true(max && v == 0);
    assert_int_equal(parse_cgroup_value("18446744073709551615\n", &v, &max, &e), 0);
    assert_true(v == UINT64_MAX);
    static const char *const bad[] = {"", "12", "max", "-1\n", "maxi\n", "max 1\n", "1 2\n", "1\n2\n",
                                      "18446744073709551616\n", "0x10\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&e, 0, sizeof e);
        if (parse_cgroup_value(bad[i], &v, &max, &e) != -1)
            fail_msg("accepted bad value #%zu", i);
    }
}

/* Collects io.stat rows for the assertions. */
struct rows {
    struct io_stat_row r[8];
    size_t n;
};

static void take(const struct io_stat_row *row, void *arg)
{
    struct rows *rs = arg;
    if (rs->n < 8)
        rs->r[rs->n++] = *row;
}

static void test_io_stat(void **unused)
{
    (void)unused;
    struct rows rs = {0};
    struct parse_err e = {0};
    const char *text =
        "252:6 rbytes=2147811328 wbytes=9837719552 rios=88213 wios=612877 dbytes=1073741824 dios=412\n"
        "259:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0 cost.vrate=100.00 cost.usage=12 depth=32 avg_lat=7\n"
        "8:0 wios=4 rios=3 wbytes=2 rbytes=1\n";
    assert_int_equal(parse_io_stat(text, take, &rs, &e), 3);
    assert_int_equal(rs.n, 3);
    assert_int_equal(rs.r[0].major, 252);
    assert_int_equal(rs.r[0].minor, 6);
    assert_true(rs.r[0].rbytes == 2147811328ULL && rs.r[0].wbytes == 9837719552ULL);
    assert_true(rs.r[0].rios == 88213 && rs.r[0].wios == 612877);
    assert_true(rs.r[1].major == 259 && rs.r[1].wios == 4);
    assert_true(rs.r[2].major == 8 && rs.r[2].rbytes == 1 && rs.r[2].wios == 4);

    rs.n = 0;
    assert_int_equal(parse_io_stat("", take, &rs, &e), 0);   /* no device had I/O */
    assert_int_equal(rs.n, 0);

    static const char *const bad[] = {
        "252:6 rbytes=1 wbytes=2 rios=3\n",                    /* no wios */
        "252:6 rbytes=1 wbytes=2 rios=3 wios=4 rbytes=5\n",    /* duplicate */
        "252:6 rbytes= wbytes=2 rios=3 wios=4\n",
        "252:6 rbytes=1 wbytes=x rios=3 wios=4\n",
        "252:6 rbytes=-1 wbytes=2 rios=3 wios=4\n",
        "252:6 rbytes=1 wbytes=2 rios=3 wios=4 depth\n",
        "252:6 rbytes=1 wbytes=2 rios=3 wios=4 =5\n",
        "252-6 rbytes=1 wbytes=2 rios=3 wios=4\n",
        "252: rbytes=1 wbytes=2 rios=3 wios=4\n",
        "4294967296:0 rbytes=1 wbytes=2 rios=3 wios=4\n",
        "252:6rbytes=1 wbytes=2 rios=3 wios=4\n",
        " 252:6 rbytes=1 wbytes=2 rios=3 wios=4\n",
        "252:6 rbytes=18446744073709551616 wbytes=2 rios=3 wios=4\n",
        "252:6 rbytes=1 wbytes=2 rios=3 wios=4",                /* truncated */
        "\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&e, 0, sizeof e);
        if (parse_io_stat(bad[i], take, &rs, &e) != -1)
            fail_msg("accepted bad io.stat #%zu", i);
    }
}

static void test_pid_list(void **unused)
{
    (void)unused;
    uint32_t p[4];
    struct parse_err e = {0};
    assert_int_equal(parse_pid_list("5123 ", p, 4, &e), 1);        /* task/<tid>/children */
    assert_int_equal(p[0], 5123);
    assert_int_equal(parse_pid_list("1\n22\n4194304\n", p, 4, &e), 3);   /* cgroup.procs */
    assert_true(p[0] == 1 && p[1] == 22 && p[2] == 4194304);
    assert_int_equal(parse_pid_list("", p, 4, &e), 0);
    assert_int_equal(parse_pid_list(" \n", p, 4, &e), 0);
    static const char *const bad[] = {"0\n", "4194305\n", "12a\n", "-1\n", "1 2 3 4 5\n", "123456789\n", "1,2\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&e, 0, sizeof e);
        if (parse_pid_list(bad[i], p, 4, &e) != -1)
            fail_msg("accepted bad pid list #%zu", i);
    }
}

static void test_cgroup_file_in(void **unused)
{
    (void)unused;
    assert_true(cgroup_file_in("0::/lxc/200/ns/init.scope\n", "/lxc/200/ns"));
    assert_true(cgroup_file_in("0::/lxc/200/ns\n", "/lxc/200/ns"));
    assert_true(cgroup_file_in("12:pids:/lxc/200\n1:name=systemd:/\n0::/lxc/200/ns/x\n", "/lxc/200/ns"));
    assert_false(cgroup_file_in("0::/lxc/2000/ns\n", "/lxc/200/ns"));
    assert_false(cgroup_file_in("0::/lxc/200/nsx\n", "/lxc/200/ns"));
    assert_false(cgroup_file_in("0::/lxc/200\n", "/lxc/200/ns"));   /* the limiting cgroup: not the CT's init */
    assert_false(cgroup_file_in("0::/lxc.monitor/200\n", "/lxc/200/ns"));
    assert_false(cgroup_file_in("", "/lxc/200/ns"));
}

static void test_guest_ifname(void **unused)
{
    (void)unused;
    enum guest_kind k;
    uint32_t v;
#define IF(s) s, strlen(s)
    assert_true(parse_guest_ifname(IF("tap100i0"), &k, &v) && k == GUEST_QEMU && v == 100);
    assert_true(parse_guest_ifname(IF("veth201i31"), &k, &v) && k == GUEST_LXC && v == 201);
    assert_true(parse_guest_ifname(IF("tap999999999i1"), &k, &v) && v == 999999999);
    static const char *const bad[] = {"tap100i", "tap0100i0", "tapi0", "tap100", "fwbr100i0", "fwln100i0",
                                      "fwpr100p0", "vmtap100i0", "tap100i0x", "veth100p0", "tap100x0", "tap"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (parse_guest_ifname(IF(bad[i]), &k, &v))
            fail_msg("accepted %s", bad[i]);
#undef IF
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vmid),
        cmocka_unit_test(test_pid_stat),
        cmocka_unit_test(test_pid_stat_rejects),
        cmocka_unit_test(test_qemu_cmdline),
        cmocka_unit_test(test_flat_keyed),
        cmocka_unit_test(test_cgroup_value),
        cmocka_unit_test(test_io_stat),
        cmocka_unit_test(test_pid_list),
        cmocka_unit_test(test_cgroup_file_in),
        cmocka_unit_test(test_guest_ifname),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
