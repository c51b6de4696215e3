/* test_guests.c — unit tests of the "guests" collector (agent/guests.c) on
 * the snapshots of one node in tests/fixtures/guests (README.md there lists
 * every value): t0, t1 ten seconds later, and edge. Plus a real process
 * under the real /proc that exits between two cycles, and a run with a tiny
 * file-descriptor budget. USER_HZ is 100 on every Linux, as the fixtures
 * assume. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc_test_util.h"

#define GX FIXTURES "/guests"

/* Points the collector at one snapshot (procfs, sysfs and run of snap) at
 * monotonic time now, runs a cycle, and asserts it succeeded. */
static void cycle(struct fx *f, const char *snap, double now)
{
    static char proc[256], sys[256], run[256];
    snprintf(proc, sizeof proc, "%s/%s/proc", GX, snap);
    snprintf(sys, sizeof sys, "%s/%s/sys", GX, snap);
    snprintf(run, sizeof run, "%s/%s/run", GX, snap);
    f->ctx.procfs = proc;
    f->ctx.sysfs = sys;
    f->ctx.run = run;
    f->ctx.now_monotonic = now;
    assert_int_equal(fx_collect(f), 0);
}

static const Pvescope__GuestRuntime *find(const Pvescope__Report *r, uint32_t vmid)
{
    for (size_t i = 0; i < r->n_guest_runtime; i++)
        if (r->guest_runtime[i]->vmid == vmid)
            return r->guest_runtime[i];
    return NULL;
}

static const Pvescope__GuestRuntime *must_find(const Pvescope__Report *r, uint32_t vmid)
{
    const Pvescope__GuestRuntime *g = find(r, vmid);
    if (!g)
        fail_msg("guest %u not reported", vmid);
    return g;
}

#define assert_near(a, b)                                                                  \
    do {                                                                                   \
        double a_ = (a), b_ = (b);                                                         \
        if (fabs(a_ - b_) > 1e-9 * (fabs(b_) > 1 ? fabs(b_) : 1))                          \
            fail_msg("%s = %.17g, expected %.17g", #a, a_, b_);                            \
    } while (0)

#define assert_u64(has, v, want)                                                           \
    do {                                                                                   \
        assert_true(has);                                                                  \
        if ((uint64_t)(v) != (uint64_t)(want))                                             \
            fail_msg("%s = %llu, expected %llu", #v, (unsigned long long)(v),              \
                     (unsigned long long)(want));                                          \
    } while (0)

/* Asserts the reported guests are exactly vmids (with their types), in order. */
static void assert_guests(const Pvescope__Report *r, const uint32_t *vmids, const char *const *types, size_t n)
{
    if (r->n_guest_runtime != n)
        fail_msg("%zu guests reported, expected %zu", r->n_guest_runtime, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(r->guest_runtime[i]->vmid, vmids[i]);
        assert_string_equal(r->guest_runtime[i]->type, types[i]);
        assert_true(r->guest_runtime[i]->has_running && r->guest_runtime[i]->running);
    }
}

static void assert_nic(const Pvescope__NetDev *d, const char *name, uint64_t rx, uint64_t tx)
{
    assert_string_equal(d->name, name);
    assert_u64(d->has_rx_bytes, d->rx_bytes, rx);
    assert_u64(d->has_tx_bytes, d->tx_bytes, tx);
    assert_true(d->has_tx_compressed && d->has_rx_multicast);   /* all 16 counters */
}

static void assert_disk(const Pvescope__GuestBlockIo *d, const char *key, uint64_t r, uint64_t w,
                        uint64_t reads, uint64_t writes)
{
    assert_string_equal(d->key, key);
    assert_u64(d->has_read_bytes, d->read_bytes, r);
    assert_u64(d->has_written_bytes, d->written_bytes, w);
    assert_u64(d->has_reads, d->reads, reads);
    assert_u64(d->has_writes, d->writes, writes);
}

static void open_guests(struct fx *f)
{
    fx_open(f, &collector_guests, GX "/t0/proc", GX "/t0/sys");
    assert_string_equal(collector_guests.name, "guests");
}

/* t0: VMs 100, 101, 104 and CTs 200, 201 run. 102 (pid of sshd), 103 (no
 * such pid, but a leftover tap103i0), 105 (zombie, empty cmdline) and 106
 * (kvm whose -pidfile names 107) are stale pid files; 101.swtpm.pid is not a
 * VM's; tap999i0 belongs to no guest. Nothing is malformed: no warning. */
static void test_t0_running_set(void **unused)
{
    (void)unused;
    struct fx f;
    open_guests(&f);
    cycle(&f, "t0", 5000.0);
    assert_string_equal(f.ctx.err, "");
    static const uint32_t want[] = {100, 101, 104, 200, 201};
    static const char *const types[] = {"qemu", "qemu", "qemu", "lxc", "lxc"};
    assert_guests(&f.r, want, types, 5);
    assert_int_equal(must_find(&f.r, 100)->pid, 2143);
    assert_int_equal(must_find(&f.r, 101)->pid, 3301);    /* /usr/bin/qemu-system-x86_64 */
    assert_int_equal(must_find(&f.r, 200)->pid, 5123);    /* monitor 5100's child in lxc/200/ns */
    assert_int_equal(must_find(&f.r, 201)->pid, 6231);    /* no children list: ns/init.scope, ppid 6200 */
    Pvescope__Report *back = fx_roundtrip(&f);
    assert_int_equal(back->n_guest_runtime, 5);
    assert_int_equal(back->guest_runtime[0]->n_nics, 2);
    pvescope__report__free_unpacked(back, NULL);
    fx_close(&f);
}

/* VM 100 at t0, every field (pve-internals §7.8/§7.9 values). */
static void test_t0_vm100(void **unused)
{
    (void)unused;
    struct fx f;
    open_guests(&f);
    cycle(&f, "t0", 5000.0);
    const Pvescope__GuestRuntime *g = must_find(&f.r, 100);
    /* uptime = 1209843.41 − 34811322/100 = 1209843.41 − 348113.22 */
    assert_true(g->has_uptime_seconds);
    assert_near(g->uptime_seconds, 861730.19);
    assert_true(g->has_cpu_seconds);
    assert_near(g->cpu_seconds, 7842.293117);             /* usage_usec 7842293117 */
    assert_false(g->has_cpu_busy);                         /* first sample */
    assert_u64(g->has_memory_bytes, g->memory_bytes, 7447646208ULL);   /* 7483297792 − file 35651584 */
    assert_false(g->has_memory_limit_bytes);               /* memory.max "max" */
    assert_u64(g->has_swap_bytes, g->swap_bytes, 0);
    /* io.stat: 252:6 and 252:7 (the thin LVs) are counted; 252:2 (pool tdata,
     * below 252:6 via dm-4) and 259:0 (nvme0n1, below via nvme0n1p3) are the
     * same I/O again and are not.
     *   read    = 2147811328 + 402653184   = 2550464512
     *   written = 9837719552 + 1887436800  = 11725156352 */
    assert_u64(g->has_disk_read_bytes, g->disk_read_bytes, 2550464512ULL);
    assert_u64(g->has_disk_written_bytes, g->disk_written_bytes, 11725156352ULL);
    assert_int_equal(g->n_disks, 2);
    assert_disk(g->disks[0], "pve-vm--100--disk--0", 2147811328ULL, 9837719552ULL, 88213, 612877);
    assert_disk(g->disks[1], "pve-vm--100--disk--1", 402653184, 1887436800, 9837, 120331);
    /* tap100i0 RX 1928374612 TX 73628193, tap100i1 RX 0 TX 5120: net_in is
     * what the host transmitted into the taps, net_out what it received. */
    assert_u64(g->has_net_in_bytes, g->net_in_bytes, 73628193 + 5120);
    assert_u64(g->has_net_out_bytes, g->net_out_bytes, 1928374612ULL);
    assert_int_equal(g->n_nics, 2);
    assert_nic(g->nics[0], "tap100i0", 1928374612ULL, 73628193);
    assert_u64(g->nics[0]->has_rx_packets, g->nics[0]->rx_packets, 3120443);
    assert_nic(g->nics[1], "tap100i1", 0, 5120);
    assert_non_null(g->pressure);
    const Pvescope__PressureResource *cpu = g->pressure->cpu, *io = g->pressure->io, *mem = g->pressure->memory;
    assert_true(cpu && io && mem);
    assert_u64(cpu->has_some_total_us, cpu->some_total_us, 118272663);
    assert_near(cpu->some_avg10, 0.41);
    assert_u64(cpu->has_full_total_us, cpu->full_total_us, 52238812);
    assert_near(cpu->full_avg10, 0.18);
    assert_u64(io->has_some_total_us, io->some_total_us, 40213311);
    assert_u64(io->has_full_total_us, io->full_total_us, 27733190);
    assert_u64(mem->has_some_total_us, mem->some_total_us, 18211);
    assert_u64(mem->has_full_total_us, mem->full_total_us, 17302);
    fx_close(&f);
}

/* VM 101 (qemu-system binary, a zvol) and VM 104 at t0. */
static void test_t0_vm101_vm104(void **unused)
{
    (void)unused;
    struct fx f;
    open_guests(&f);
    cycle(&f, "t0", 5000.0);
    const Pvescope__GuestRuntime *g = must_find(&f.r, 101);
    assert_near(g->uptime_seconds, 9843.41);              /* 1209843.41 − 1200000.00 */
    assert_near(g->cpu_seconds, 500.0);
    assert_u64(g->has_memory_bytes, g->memory_bytes, 2147483648ULL - 1048576);
    /* one line, zd16 (no slaves): counted as it is */
    assert_u64(g->has_disk_read_bytes, g->disk_read_bytes, 1048576000);
    assert_u64(g->has_disk_written_bytes, g->disk_written_bytes, 524288000);
    assert_int_equal(g->n_disks, 1);
    assert_disk(g->disks[0], "zd16", 1048576000, 524288000, 25600, 12800);
    assert_u64(g->has_net_in_bytes, g->net_in_bytes, 7000);
    assert_u64(g->has_net_out_bytes, g->net_out_bytes, 5000);
    g = must_find(&f.r, 104);
    assert_int_equal(g->pid, 4104);
    assert_near(g->uptime_seconds, 209843.41);
    assert_u64(g->has_disk_read_bytes, g->disk_read_bytes, 4096);   /* dm-12; 259:0 is below it */
    assert_int_equal(g->n_disks, 1);
    assert_disk(g->disks[0], "pve-vm--104--disk--0", 4096, 8192, 1, 2);
    assert_u64(g->has_net_in_bytes, g->net_in_bytes, 222);
    fx_close(&f);
}

/* CTs 200 and 201 at t0 (pve-internals §7.9 CT values for 200). */
static void test_t0_containers(void **unused)
{
    (void)unused;
    struct fx f;
    open_guests(&f);
    cycle(&f, "t0", 5000.0);
    const Pvescope__GuestRuntime *g = must_find(&f.r, 200);
    assert_near(g->uptime_seconds, 909843.41);            /* 1209843.41 − 30000000/100 */
    assert_near(g->cpu_seconds, 912.384112);
    assert_u64(g->has_memory_bytes, g->memory_bytes, 480247808);   /* 1084227584 − 603979776 */
    assert_u64(g->has_memory_limit_bytes, g->memory_limit_bytes, 2147483648ULL);
    assert_u64(g->has_swap_bytes, g->swap_bytes, 12582912);
    /* both lines are thin LVs (rootfs, mp0): read 1827364 + 0, written 93847561 + 4096000 */
    assert_u64(g->has_disk_read_bytes, g->disk_read_bytes, 1827364);
    assert_u64(g->has_disk_written_bytes, g->disk_written_bytes, 97943561);
    assert_int_equal(g->n_disks, 2);
    assert_disk(g->disks[1], "pve-vm--200--disk--1", 0, 4096000, 0, 1000);
    assert_u64(g->has_net_in_bytes, g->net_in_bytes, 9182736);     /* veth200i0 TX */
    assert_u64(g->has_net_out_bytes, g->net_out_bytes, 10293847);  /* veth200i0 RX */
    assert_near(g->pressure->cpu->some_avg10, 0.52);

    g = must_find(&f.r, 201);                             /* init's comm is "my) init" */
    assert_near(g->uptime_seconds, 709843.41);
    assert_u64(g->has_memory_bytes, g->memory_bytes, 104857600 - 4194304);
    assert_u64(g->has_memory_limit_bytes, g->memory_limit_bytes, 536870912);
    assert_u64(g->has_disk_read_bytes, g->disk_read_bytes, 0);
    assert_int_equal(g->n_disks, 0);
    assert_int_equal(g->n_nics, 2);                       /* fwbr201i0 is not a guest NIC */
    assert_nic(g->nics[0], "veth201i0", 1000, 2000);
    assert_nic(g->nics[1], "veth201i1", 300, 400);
    assert_u64(g->has_net_in_bytes, g->net_in_bytes, 2000 + 400);
    assert_u64(g->has_net_out_bytes, g->net_out_bytes, 1000 + 300);
    fx_close(&f);
}

/* Asserts the t1 cycle after a t0 cycle 10.0 s earlier. */
static void assert_t1(const Pvescope__Report *r)
{
    static const uint32_t want[] = {100, 101, 200, 201};           /* 104 stopped */
    static const char *const types[] = {"qemu", "qemu", "lxc", "lxc"};
    assert_guests(r, want, types, 4);
    const Pvescope__GuestRuntime *g = must_find(r, 100);
    /* usage_usec 7842293117 → 7857093117: 14.8 CPU-seconds in 10.0 s */
    assert_true(g->has_cpu_busy);
    assert_near(g->cpu_busy, 1.48);
    assert_near(g->uptime_seconds, 861740.19);
    assert_u64(g->has_memory_bytes, g->memory_bytes, 7483822080ULL - 35651584);
    /* 2147815424 + 402653184 and 9837785088 + 1887440896 */
    assert_u64(g->has_disk_read_bytes, g->disk_read_bytes, 2550468608ULL);
    assert_u64(g->has_disk_written_bytes, g->disk_written_bytes, 11725225984ULL);
    assert_u64(g->has_net_in_bytes, g->net_in_bytes, 73728193 + 6144);
    assert_u64(g->has_net_out_bytes, g->net_out_bytes, 1928474612ULL);
    /* 101 restarted: new pid 4410, started 3 s before t1, new cgroup counters */
    g = must_find(r, 101);
    assert_int_equal(g->pid, 4410);
    assert_near(g->uptime_seconds, 3.0);                  /* 1209853.41 − 1209850.41 */
    assert_near(g->cpu_seconds, 2.5);
    assert_false(g->has_cpu_busy);                        /* a new instance has no history */
    /* Its new disk got dm-12, VM 104's until 104 stopped: named afresh, not
     * from what dm-12 was at t0. */
    assert_int_equal(g->n_disks, 2);
    assert_disk(g->disks[0], "zd16", 1048576000, 524288000, 25600, 12800);
    assert_disk(g->disks[1], "pve-vm--101--disk--1", 65536, 0, 16, 0);
    assert_u64(g->has_disk_read_bytes, g->disk_read_bytes, 1048576000 + 65536);
    assert_u64(g->has_net_in_bytes, g->net_in_bytes, 200);
    /* CT 200: 912384112 → 912608112 µs, 0.224 s in 10.0 s */
    g = must_find(r, 200);
    assert_true(g->has_cpu_busy);
    assert_near(g->cpu_busy, 0.0224);
    g = must_find(r, 201);
    assert_true(g->has_cpu_busy);
    assert_near(g->cpu_busy, 0.0);
}

/* t0 then t1: cpu_busy, a restart (101) and a guest that stopped (104). A
 * third cycle on t1 gives 101 its first cpu_busy. */
static void test_t1_after_t0(void **unused)
{
    (void)unused;
    struct fx f;
    open_guests(&f);
    cycle(&f, "t0", 5000.0);
    cycle(&f, "t1", 5010.0);
    assert_string_equal(f.ctx.err, "");
    assert_t1(&f.r);
    cycle(&f, "t1", 5020.0);
    const Pvescope__GuestRuntime *g = must_find(&f.r, 101);
    assert_true(g->has_cpu_busy);
    assert_near(g->cpu_busy, 0.0);
    assert_true(must_find(&f.r, 100)->has_cpu_busy);
    fx_close(&f);
}

/* A collector that starts at t1 has no history at all. */
static void test_t1_alone(void **unused)
{
    (void)unused;
    struct fx f;
    open_guests(&f);
    cycle(&f, "t1", 5010.0);
    for (size_t i = 0; i < f.r.n_guest_runtime; i++)
        assert_false(f.r.guest_runtime[i]->has_cpu_busy);
    assert_int_equal(f.r.n_guest_runtime, 4);
    fx_close(&f);
}

/* edge: per-guest failures (README.md). 300: truncated cpu.stat and a
 * malformed NIC row; 301: no memory.max, swap or PSI files; 302: an empty
 * cgroup directory; 303: malformed io.stat; 304: a garbage pid file; 305: no
 * cgroup directory; CT 400: a cgroup but no monitor. */
static void test_edge(void **unused)
{
    (void)unused;
    struct fx f;
    open_guests(&f);
    cycle(&f, "edge", 1.0);
    assert_err_contains(f.ctx.err, "3 guest file(s) skipped, first: ");
    assert_err_contains(f.ctx.err, "/edge/sys/fs/cgroup/qemu.slice/300.scope/cpu.stat line 3: truncated");
    static const uint32_t want[] = {300, 301, 302, 303, 305};
    static const char *const types[] = {"qemu", "qemu", "qemu", "qemu", "qemu"};
    assert_guests(&f.r, want, types, 5);
    for (size_t i = 0; i < 5; i++)
        assert_near(f.r.guest_runtime[i]->uptime_seconds, 10.0);

    const Pvescope__GuestRuntime *g = must_find(&f.r, 300);
    assert_false(g->has_cpu_seconds);                     /* the bad file costs its field */
    assert_u64(g->has_memory_bytes, g->memory_bytes, 1048576);
    assert_non_null(g->pressure);
    assert_false(g->has_net_in_bytes || g->has_net_out_bytes);   /* a NIC row was malformed */
    assert_int_equal(g->n_nics, 0);

    g = must_find(&f.r, 301);
    assert_near(g->cpu_seconds, 2.0);
    assert_u64(g->has_memory_bytes, g->memory_bytes, 1048576 - 4096);
    assert_false(g->has_memory_limit_bytes);              /* missing: no warning */
    assert_false(g->has_swap_bytes);
    assert_null(g->pressure);
    assert_u64(g->has_net_in_bytes, g->net_in_bytes, 20);

    g = must_find(&f.r, 302);
    assert_int_equal(g->pid, 7302);
    assert_false(g->has_cpu_seconds || g->has_memory_bytes || g->has_disk_read_bytes || g->has_swap_bytes);
    assert_null(g->pressure);
    assert_u64(g->has_net_out_bytes, g->net_out_bytes, 30);

    g = must_find(&f.r, 303);
    assert_near(g->cpu_seconds, 3.0);
    assert_false(g->has_disk_read_bytes || g->has_disk_written_bytes);
    assert_int_equal(g->n_disks, 0);
    assert_u64(g->has_net_in_bytes, g->net_in_bytes, 0);   /* no NIC: zero traffic */

    g = must_find(&f.r, 305);
    assert_false(g->has_cpu_seconds || g->has_memory_bytes);
    fx_close(&f);
}

/* A node without Proxmox: no pid directory, no lxc cgroup. No guests, no error. */
static void test_not_proxmox(void **unused)
{
    (void)unused;
    struct fx f;
    fx_open(&f, &collector_guests, FX_HOST1_PROC, FX_HOST1_SYS);
    f.ctx.run = FIXTURES "/does-not-exist/run";
    assert_int_equal(fx_collect(&f), 0);
    assert_string_equal(f.ctx.err, "");
    assert_int_equal(f.r.n_guest_runtime, 0);
    fx_close(&f);
}

static int count_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* With RLIMIT_NOFILE soft at 40 (budget 20 kept files), most cgroup files are
 * opened per read: the results are the same, and nothing leaks. */
static void test_small_fd_budget(void **unused)
{
    (void)unused;
    int before = count_open_fds();
    struct rlimit old, low;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    low = old;
    low.rlim_cur = 40;
    struct fx f;
    int lowered = setrlimit(RLIMIT_NOFILE, &low);
    open_guests(&f);                                       /* the budget is fixed here */
    int restored = setrlimit(RLIMIT_NOFILE, &old);
    assert_int_equal(lowered, 0);
    assert_int_equal(restored, 0);
    cycle(&f, "t0", 5000.0);
    cycle(&f, "t1", 5010.0);
    assert_t1(&f.r);
    /* at most 20 kept, plus each guest's /proc/<pid>/stat, which is always kept */
    int kept = count_open_fds() - before;
    if (kept > 20 + 4)
        fail_msg("%d files kept with a budget of 20", kept);
    fx_close(&f);
    assert_int_equal(count_open_fds(), before);
}

/* Kept descriptors are all closed by fini, whatever happened in between. */
static void test_no_fd_leak(void **unused)
{
    (void)unused;
    int before = count_open_fds();
    struct fx f;
    open_guests(&f);
    cycle(&f, "t0", 5000.0);
    cycle(&f, "edge", 5005.0);
    cycle(&f, "t1", 5010.0);
    cycle(&f, "t1", 5020.0);
    assert_true(count_open_fds() > before);               /* files are kept between cycles */
    fx_close(&f);
    assert_int_equal(count_open_fds(), before);
}

/* ---- a real process under the real /proc ----------------------------------- */

static void write_file(const char *dir, const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
}

static void make_dirs(const char *dir, const char *const *rels)
{
    for (; *rels; rels++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, *rels);
        assert_int_equal(mkdir(path, 0700), 0);
    }
}

static const char *const tmp_dirs[] = {"run", "run/qemu-server", "sys", "sys/fs", "sys/fs/cgroup",
                                       "sys/fs/cgroup/qemu.slice", "sys/fs/cgroup/qemu.slice/900.scope", NULL};

static void remove_tmp(const char *dir)
{
    char path[512];
    static const char *const files[] = {"run/qemu-server/900.pid", "sys/fs/cgroup/qemu.slice/900.scope/cpu.stat"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    for (int i = 6; i >= 0; i--) {
        snprintf(path, sizeof path, "%s/%s", dir, tmp_dirs[i]);
        rmdir(path);
    }
    rmdir(dir);
}

/* Starts a shell whose argv is that of VM 900's QEMU and waits until its
 * exec is visible in /proc. */
static pid_t start_fake_qemu(void)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setpgid(0, 0);              /* killed as a group, with the shell's sleep */
        execl("/bin/sh", "/usr/bin/kvm", "-c", "sleep 60", "-pidfile", "/var/run/qemu-server/900.pid",
              (char *)NULL);
        _exit(127);
    }
    char path[64], buf[32] = "";
    snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
    for (int i = 0; i < 500 && strcmp(buf, "/usr/bin/kvm") != 0; i++) {
        FILE *fp = fopen(path, "r");
        size_t n = fp ? fread(buf, 1, sizeof buf - 1, fp) : 0;
        buf[n] = '\0';
        if (fp)
            fclose(fp);
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    assert_string_equal(buf, "/usr/bin/kvm");
    return pid;
}

/* The VM's process exits between two cycles while its pid file stays: the
 * kept /proc/<pid>/stat fails, the pid file is stale, the VM is left out, and
 * that is not a warning. */
static void test_real_process_exits(void **unused)
{
    (void)unused;
    char dir[64] = "/tmp/pvescope-guests-XXXXXX";
    assert_non_null(mkdtemp(dir));
    make_dirs(dir, tmp_dirs);
    write_file(dir, "sys/fs/cgroup/qemu.slice/900.scope/cpu.stat", "usage_usec 5000000\n");
    pid_t pid = start_fake_qemu();
    char text[32], sys[128], run[128];
    snprintf(text, sizeof text, "%d\n", (int)pid);
    write_file(dir, "run/qemu-server/900.pid", text);
    snprintf(sys, sizeof sys, "%s/sys", dir);
    snprintf(run, sizeof run, "%s/run", dir);

    struct fx f;
    fx_open(&f, &collector_guests, "/proc", sys);
    f.ctx.run = run;
    int rc1 = fx_collect(&f);
    size_t n1 = f.r.n_guest_runtime;
    const Pvescope__GuestRuntime *g = n1 == 1 ? f.r.guest_runtime[0] : NULL;
    bool ok1 = g && g->vmid == 900 && g->pid == (uint32_t)pid && g->has_uptime_seconds &&
               g->uptime_seconds < 60 && g->has_cpu_seconds && g->cpu_seconds == 5.0 && g->has_net_in_bytes;
    char err1[256];
    snprintf(err1, sizeof err1, "%s", f.ctx.err);

    kill(-pid, SIGKILL);
    assert_int_equal(waitpid(pid, NULL, 0), pid);
    int rc2 = fx_collect(&f);
    size_t n2 = f.r.n_guest_runtime;
    fx_close(&f);
    remove_tmp(dir);

    assert_int_equal(rc1, 0);
    assert_string_equal(err1, "");
    assert_int_equal(n1, 1);
    assert_true(ok1);
    assert_int_equal(rc2, 0);
    assert_string_equal(f.ctx.err, "");
    assert_int_equal(n2, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_t0_running_set),
        cmocka_unit_test(test_t0_vm100),
        cmocka_unit_test(test_t0_vm101_vm104),
        cmocka_unit_test(test_t0_containers),
        cmocka_unit_test(test_t1_after_t0),
        cmocka_unit_test(test_t1_alone),
        cmocka_unit_test(test_edge),
        cmocka_unit_test(test_not_proxmox),
        cmocka_unit_test(test_small_fd_budget),
        cmocka_unit_test(test_no_fd_leak),
        cmocka_unit_test(test_real_process_exits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
