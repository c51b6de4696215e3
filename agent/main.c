/* main.c — pvescope-agent: collect this node's state every interval, seal it,
 * push it to every aggregator.
 *
 * The loop is single-threaded: collectors run in registry order, the report
 * is packed, sealed and handed to nanomsg without blocking, then the thread
 * waits in ppoll() for the next tick, a termination signal (signalfd), or an
 * aggregator becoming writable while it still owes that aggregator a report. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "dump.h"
#include "fileio.h"
#include "flags.h"
#include "log.h"
#include "names.h"
#include "privileges.h"
#include "pve_members.h"
#include "report.h"
#include "seal.h"
#include "sender.h"

#define DEFAULT_KEY_FILE "/etc/pve/priv/pvescope/cluster.key"
#define MAX_AGGREGATORS 16

struct agent_config {
    const char *aggregators[MAX_AGGREGATORS];
    size_t n_aggregators;
    double interval;
    double once_timeout;
    const char *key_file;
    const char *cluster;
    const char *node;
    const char *init_key;
    bool once, dump;
    bool keep_capabilities;            /* --no-drop-capabilities */
    uint64_t cycles;                   /* stop after this many reports; 0 = never */
    struct reporter_paths paths;
    uint64_t max_message_bytes;
    bool *enabled;                     /* per collector registry entry */
};

static void usage(FILE *out)
{
    fprintf(out,
        "usage: pvescope-agent [flags]\n"
        "Collects this Proxmox VE node's state and pushes it to pvescope aggregators.\n\n"
        "  --aggregator=tcp://HOST:PORT  aggregator ingest endpoint; repeat to send every\n"
        "                                report to each (fan-out for HA)\n"
        "  --interval=15s                collection interval\n"
        "  --key-file=FILE               cluster key (default " DEFAULT_KEY_FILE ")\n"
        "  --init-key=FILE               write a fresh cluster key to FILE (mode 0600) and exit\n"
        "  --cluster=NAME                cluster name (default: from /etc/pve/.members, else host name)\n"
        "  --node=NAME                   node name (default: short host name)\n"
        "  --once                        collect and send one report, then exit\n"
        "  --once.timeout=10s            how long --once waits for every aggregator\n"
        "  --cycles=N                    stop after N reports (0 = run until signalled)\n"
        "  --dump                        print one report readably and exit; sends nothing\n"
        "  --max-message-bytes=1MiB      largest report to send (the aggregators' limit)\n"
        "  --path.procfs=/proc  --path.sysfs=/sys  --path.pve=/etc/pve  --path.run=/run\n"
        "  --path.rootfs=/                root for installed files (pve-manager's version)\n"
        "  --no-drop-capabilities        keep every capability the agent was started with\n"
        "                                (default: only those of the enabled collectors, then\n"
        "                                no_new_privs; see README)\n"
        "  --log.level=info              error, warn, info or debug\n"
        "  --help, --version\n\nCollectors (--collector.NAME / --no-collector.NAME):\n");
    for (size_t i = 0; i < collector_registry_len; i++)
        fprintf(out, "  %-12s %-9s %s\n", collector_registry[i]->name,
                collector_registry[i]->default_enabled ? "[on]" : "[off]", collector_registry[i]->help);
}

static bool parse_collector_flag(const char *arg, bool *enabled)
{
    bool on = strncmp(arg, "--collector.", 12) == 0;
    bool off = strncmp(arg, "--no-collector.", 15) == 0;
    if (!on && !off)
        return false;
    int idx = collector_index(arg + (on ? 12 : 15));
    if (idx < 0) {
        fprintf(stderr, "pvescope-agent: unknown collector in %s (see --help)\n", arg);
        exit(2);
    }
    enabled[idx] = on;
    return true;
}

static void bad_value(const char *flag, const char *v)
{
    fprintf(stderr, "pvescope-agent: invalid value for --%s: '%s'\n", flag, v);
    exit(2);
}

/* Handles the flags that take a value; returns false for an unknown flag. */
static bool parse_value_flag(int argc, char **argv, int *i, struct agent_config *c)
{
    const char *v;
    enum log_level lvl;
    if (flag_value(argc, argv, i, "aggregator", &v)) {
        if (c->n_aggregators == MAX_AGGREGATORS)
            bad_value("aggregator", "too many (16 at most)");
        c->aggregators[c->n_aggregators++] = v;
    } else if (flag_value(argc, argv, i, "interval", &v)) {
        if (!parse_duration(v, &c->interval) || c->interval < 0.001)
            bad_value("interval", v);
    } else if (flag_value(argc, argv, i, "once.timeout", &v)) {
        if (!parse_duration(v, &c->once_timeout))
            bad_value("once.timeout", v);
    } else if (flag_value(argc, argv, i, "max-message-bytes", &v)) {
        if (!parse_bytes(v, &c->max_message_bytes) || c->max_message_bytes < 1024)
            bad_value("max-message-bytes", v);
    } else if (flag_value(argc, argv, i, "cycles", &v)) {
        if (!parse_bytes(v, &c->cycles))
            bad_value("cycles", v);
    } else if (flag_value(argc, argv, i, "log.level", &v)) {
        if (!log_level_parse(v, &lvl))
            bad_value("log.level", v);
        log_set_level(lvl);
    } else if (flag_value(argc, argv, i, "key-file", &v)) {
        c->key_file = v;
    } else if (flag_value(argc, argv, i, "init-key", &v)) {
        c->init_key = v;
    } else if (flag_value(argc, argv, i, "cluster", &v)) {
        c->cluster = v;
    } else if (flag_value(argc, argv, i, "node", &v)) {
        c->node = v;
    } else if (flag_value(argc, argv, i, "path.procfs", &v)) {
        c->paths.procfs = v;
    } else if (flag_value(argc, argv, i, "path.sysfs", &v)) {
        c->paths.sysfs = v;
    } else if (flag_value(argc, argv, i, "path.pve", &v)) {
        c->paths.pve = v;
    } else if (flag_value(argc, argv, i, "path.run", &v)) {
        c->paths.run = v;
    } else if (flag_value(argc, argv, i, "path.rootfs", &v)) {
        c->paths.rootfs = v;
    } else {
        return false;
    }
    return true;
}

static void parse_args(int argc, char **argv, struct agent_config *c)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (flag_bool(a, "help") || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (flag_bool(a, "version")) {
            printf("pvescope-agent %s\n", PVESCOPE_VERSION);
            exit(0);
        } else if (flag_bool(a, "once")) {
            c->once = true;
        } else if (flag_bool(a, "dump")) {
            c->dump = true;
        } else if (flag_bool(a, "no-drop-capabilities")) {
            c->keep_capabilities = true;
        } else if (!parse_collector_flag(a, c->enabled) && !parse_value_flag(argc, argv, &i, c)) {
            fprintf(stderr, "pvescope-agent: unknown flag or missing value: %s (see --help)\n", a);
            exit(2);
        }
    }
}

/* Short host name: Proxmox names nodes by the first label. */
static void default_node_name(char *out, size_t cap)
{
    struct utsname u;
    if (uname(&u) != 0)
        snprintf(u.nodename, sizeof u.nodename, "localhost");
    u.nodename[strcspn(u.nodename, ".")] = '\0';
    snprintf(out, cap, "%s", u.nodename);
}

static void default_cluster_name(const char *pve, const char *node, char *out, size_t cap)
{
    struct buf b = BUF_INIT;
    struct members_local m;
    char why[128];
    if (read_file_at(pve, ".members", &b) == 0 && members_parse_local(b.data, &m, why, sizeof why) &&
        m.cluster_name[0])
        snprintf(out, cap, "%s", m.cluster_name);
    else
        snprintf(out, cap, "%s", node);
    buf_free(&b);
}

/* Resident memory of this process (the real /proc, whatever --path.procfs says). */
static uint64_t self_rss_bytes(struct reporter *rp)
{
    unsigned long long size = 0, resident = 0;
    if (file_cache_read(&rp->files, "/proc", "self/statm", &rp->scratch, FILE_ONE_RECORD) != 0 ||
        sscanf(rp->scratch.data, "%llu %llu", &size, &resident) != 2)
        return 0;
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Fills the agent's self-report: resource use and transport counters. */
static void add_agent_self(Pvescope__Report *r, struct reporter *rp, const struct sender *s,
                           const struct agent_config *c, int64_t start_unix)
{
    struct arena *a = &rp->arena;
    Pvescope__AgentSelf *self = arena_alloc(a, sizeof *self);
    pvescope__agent_self__init(self);
    self->version = PVESCOPE_VERSION;
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        self->has_cpu_seconds = true;
        self->cpu_seconds = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                            (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    }
    self->has_rss_bytes = true;
    self->rss_bytes = self_rss_bytes(rp);
    self->has_start_time_unix = true;
    self->start_time_unix = start_unix;
    self->has_interval_seconds = true;
    self->interval_seconds = c->interval;
    self->has_reports_oversize = true;
    self->reports_oversize = s->oversize;
    self->sends = arena_alloc(a, (s->n ? s->n : 1) * sizeof *self->sends);
    for (size_t i = 0; i < s->n; i++) {
        Pvescope__SendStats *st = arena_alloc(a, sizeof *st);
        pvescope__send_stats__init(st);
        st->endpoint = (char *)s->eps[i].url;
        st->has_reports_sent = st->has_reports_dropped = true;
        st->reports_sent = s->eps[i].sent;
        st->reports_dropped = s->eps[i].dropped;
        self->sends[self->n_sends++] = st;
    }
    r->agent = self;
}

/* Packs and seals r straight into the sender's message buffer, so the
 * report exists once, as the envelope being sent. Returns false when the
 * envelope is over the aggregators' limit (the sender counts and logs it). */
static bool seal_report(const Pvescope__Report *r, const struct cluster_key *key, const char *cluster,
                        uint64_t seq, struct sender *s)
{
    struct envelope_header h = {
        .cluster = cluster,
        .node = r->node,
        .boot_id = r->host && r->host->boot_id ? r->host->boot_id : "",
        .seq = seq,
        .sent_unix_ms = clock_unix_ms(),
    };
    struct envelope_frame f;
    size_t report_len = pvescope__report__get_packed_size(r);
    uint8_t *msg = sender_stage(s, envelope_frame_init(&f, &h, report_len));
    if (!msg)
        return false;
    pvescope__report__pack(r, envelope_frame_report(&f, msg));
    envelope_frame_seal(&f, key, msg);
    return true;
}

/* Waits until the monotonic deadline, meanwhile handing a pending report to
 * each endpoint as soon as it becomes writable. Returns false when a stop
 * signal arrived on sigfd. */
static bool wait_until(double deadline, int sigfd, struct sender *s)
{
    struct pollfd fds[1 + MAX_AGGREGATORS];
    for (;;) {
        double left = deadline - clock_monotonic();
        if (left <= 0)
            return true;
        fds[0] = (struct pollfd){.fd = sigfd, .events = POLLIN};
        size_t n = 1 + sender_poll_fds(s, fds + 1);
        struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
        int rc = ppoll(fds, n, &ts, NULL);
        if (rc < 0 && errno != EINTR)
            return true;
        if (rc > 0 && (fds[0].revents & POLLIN)) {
            struct signalfd_siginfo si;
            if (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si)
                log_info("signal %u: stopping", si.ssi_signo);
            return false;
        }
        if (rc > 0)
            sender_retry(s);
    }
}

/* The guests collector keeps a few files open per running guest (cgroup
 * files read with pread each cycle) and falls back to open/close when out of
 * descriptors. systemd's default soft limit of 1024 covers ~46 guests;
 * raising it to the hard limit (524288 under systemd) needs no privilege. */
static void raise_open_file_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            log_debug("cannot raise the open file limit: %s", strerror(errno));
    }
}

/* Names the enabled collectors that asked for capability cap, for the log. */
static void collectors_wanting(const bool *enabled, int cap, char *out, size_t outcap)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < collector_registry_len && len < outcap; i++)
        if (enabled[i] && (collector_registry[i]->capabilities & CAP_BIT(cap))) {
            int n = snprintf(out + len, outcap - len, "%s%s", len ? ", " : "", collector_registry[i]->name);
            len += n > 0 ? (size_t)n : 0;
        }
}

/* Keeps only the enabled collectors' capabilities (privileges.h), logging the
 * kept set once; must run before any thread starts. False when the drop
 * failed: the agent then stops rather than run with more than it said. */
static bool drop_capabilities(const struct agent_config *c)
{
    char err[256], kept[256], why[128];
    if (c->keep_capabilities) {
        log_warn("--no-drop-capabilities: keeping every capability the agent was started with");
        return true;
    }
    struct privileges_result r;
    if (!privileges_drop(collectors_capabilities(c->enabled), &r, err, sizeof err)) {
        log_error("dropping capabilities failed: %s (--no-drop-capabilities skips the drop)", err);
        return false;
    }
    for (int cap = 0; cap < 64; cap++)
        if (r.missing & CAP_BIT(cap)) {
            privileges_format(CAP_BIT(cap), kept, sizeof kept);
            collectors_wanting(c->enabled, cap, why, sizeof why);
            log_warn("%s is needed by %s, but the agent was started without it: expect those to fail "
                     "(run as root, or see the unit's CapabilityBoundingSet)", kept, why);
        }
    privileges_format(r.kept, kept, sizeof kept);
    log_info("capabilities: kept %s%s; no_new_privs set", kept,
             r.bounding_dropped ? ", everything else dropped from the bounding set too"
                                : " (bounding set unchanged: no CAP_SETPCAP)");
    return true;
}

static int run_dump(struct reporter *rp, const char *node)
{
    Pvescope__Report *r = reporter_collect(rp, node);
    dump_message(stdout, &r->base, 0);
    return 0;
}

static int run_loop(struct agent_config *c, struct reporter *rp, const struct cluster_key *key,
                    const char *cluster, const char *node, int sigfd)
{
    char err[256];
    struct sender s;
    if (!sender_open(&s, c->aggregators, c->n_aggregators, (size_t)c->max_message_bytes, c->interval,
                     err, sizeof err)) {
        log_error("%s", err);
        return 1;
    }
    /* Start the sequence at the wall clock in microseconds so it keeps
     * increasing across agent restarts within one boot. */
    uint64_t seq = (uint64_t)(clock_realtime() * 1e6), first_seq = seq;
    int64_t start_unix = (int64_t)clock_realtime();
    int status = 0;
    log_info("pvescope-agent %s: node %s, cluster %s, %zu aggregator(s), every %gs", PVESCOPE_VERSION,
             node, cluster, s.n, c->interval);
    for (double next = clock_monotonic();;) {
        Pvescope__Report *r = reporter_collect(rp, node);
        add_agent_self(r, rp, &s, c, start_unix);
        bool sealed = seal_report(r, key, cluster, seq++, &s);
        if (c->once) {
            bool ok = sealed && sender_send_all_wait(&s, (int)(c->once_timeout * 1000));
            if (!ok)
                log_error("--once: not every aggregator accepted the report within %gs", c->once_timeout);
            status = ok ? 0 : 1;
            break;
        }
        if (sealed)
            sender_send_all(&s);
        if (c->cycles && seq - first_seq >= c->cycles)
            break;
        next += c->interval;
        double now = clock_monotonic();
        if (next < now)                      /* a slow cycle: skip, don't burst */
            next = now + c->interval;
        if (!wait_until(next, sigfd, &s))
            break;
    }
    sender_close(&s);
    return status;
}

int main(int argc, char **argv)
{
    bool enabled[64];
    for (size_t i = 0; i < collector_registry_len; i++)
        enabled[i] = collector_registry[i]->default_enabled;
    struct agent_config c = {
        .interval = 15, .once_timeout = 10, .key_file = DEFAULT_KEY_FILE,
        .paths = {"/proc", "/sys", "/etc/pve", "/run", "/"}, .max_message_bytes = 1 << 20, .enabled = enabled,
    };
    parse_args(argc, argv, &c);
    if (!seal_library_init()) {
        log_error("libsodium failed to initialize");
        return 1;
    }
    char err[512];
    if (c.init_key) {
        if (!key_create_file(c.init_key, err, sizeof err)) {
            log_error("%s", err);
            return 1;
        }
        printf("wrote a new cluster key to %s\n", c.init_key);
        return 0;
    }
    char node[sizeof(((struct utsname *)0)->nodename)], cluster[sizeof node];
    if (c.node)
        snprintf(node, sizeof node, "%s", c.node);
    else
        default_node_name(node, sizeof node);
    if (c.cluster)
        snprintf(cluster, sizeof cluster, "%s", c.cluster);
    else
        default_cluster_name(c.paths.pve, node, cluster, sizeof cluster);

    if (!name_valid(node) || !name_valid(cluster)) {
        log_error("node name '%s' or cluster name '%s' is unusable (1-%d characters of "
                  "[A-Za-z0-9._-]); set --node / --cluster", node, cluster, NAME_MAX_LEN);
        return 2;
    }
    struct cluster_key key;
    if (!c.dump && !key_load_file(c.key_file, &key, err, sizeof err)) {
        log_error("%s (create one with --init-key=FILE)", err);
        return 1;
    }
    if (!c.dump && c.n_aggregators == 0) {
        log_error("no --aggregator given (see --help)");
        return 2;
    }
    /* The key is read; from here on the agent needs no more than its
     * collectors do. Before any thread exists: nanomsg's and fsstat's threads
     * then start with the reduced sets (capabilities are per thread). */
    if (!drop_capabilities(&c))
        return 1;
    /* Block the stop signals before nanomsg starts its threads; they arrive
     * only through the signalfd this thread polls. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGHUP);
    sigprocmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
    int sigfd = signalfd(-1, &stop, SFD_CLOEXEC);
    if (sigfd < 0) {
        log_error("signalfd: %s", strerror(errno));
        return 1;
    }

    raise_open_file_limit();
    struct reporter rp;
    reporter_init(&rp, &c.paths, enabled);
    int rc = c.dump ? run_dump(&rp, node) : run_loop(&c, &rp, &key, cluster, node, sigfd);
    reporter_free(&rp);
    close(sigfd);
    return rc;
}
