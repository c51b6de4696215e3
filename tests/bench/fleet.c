/* fleet.c — pvescope-bench-fleet: one process drives many simulated agents.
 *
 *   pvescope-bench-fleet keyring --key-file F [MODEL]     the aggregator's key ring for the
 *                                                        estate (every cluster, the same key)
 *   pvescope-bench-fleet run URL --key-file F [MODEL] [RUN]
 *
 * MODEL: --nodes 500 --guests 40 --cluster-sizes 10,20,30,40,50 [--guest-dm-disks]
 * RUN:   --first-node 0 --agents N     the slice of the estate this process drives (nanomsg
 *                                      allows 512 sockets per process: run several for more)
 *        --interval-ms 10000           each agent's interval; agents are spread evenly over it
 *        --sends 0                     reports per agent, 0 = until SIGTERM/SIGINT
 *        --first-tick 0                tick of each agent's first report (its seq is tick + 1):
 *                                      a later run for the same nodes starts above the last
 *        --sent-log FILE               after the last send: the values each node and guest
 *                                      sent last (what the aggregator must show)
 *        --probe http://H:P --probe-count 200 --probe-out FILE
 *                                      report->visible latency: the first agent of the slice
 *                                      is driven by a probe thread instead, which sends a
 *                                      report, then polls /metrics?cluster=<its cluster> until
 *                                      that report's pve_node_forks_total shows
 *
 * Every agent has its own nanomsg PUSH socket (its own TCP connection, as
 * real agents), a real sealed envelope with an increasing seq and the
 * current time, and a report built by fleet_model.c for its node and tick
 * (counters advance, gauges move). Sends use NN_DONTWAIT as the agent does;
 * a send that would block is dropped and counted. Prints one summary line. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <nanomsg/nn.h>
#include <nanomsg/pipeline.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "fleet_http.h"
#include "fleet_model.h"
#include "seal.h"

#define MAX_AGENTS 500              /* nanomsg's 512 sockets, less a margin */

struct run_opts {
    const char *url, *key_file, *sent_log, *probe, *probe_out;
    size_t first_node, agents;
    double interval;                /* seconds */
    uint64_t sends;
    uint64_t first_tick;            /* tick (and seq - 1) of each agent's first report */
    size_t probe_count;
};

struct agent {
    size_t node;
    int sock;
    uint64_t sent, dropped;
};

struct sender {                     /* one thread's build + seal scratch */
    struct arena arena;
    struct buf report, env;
};

static volatile sig_atomic_t stop_flag;
static void on_signal(int sig) { (void)sig; stop_flag = 1; }

static void usage(FILE *out)
{
    fputs("usage: pvescope-bench-fleet keyring --key-file F [model]\n"
          "       pvescope-bench-fleet run URL --key-file F [model] [run]\n"
          "model: --nodes 500 --guests 40 --cluster-sizes 10,20,30,40,50 [--guest-dm-disks]\n"
          "run:   --first-node 0 --agents N --interval-ms 10000 --sends 0 --first-tick 0 [--sent-log FILE]\n"
          "       [--probe http://HOST:PORT --probe-count 200 --probe-out FILE]\n", out);
}

static void die(const char *what, const char *arg)
{
    fprintf(stderr, "pvescope-bench-fleet: %s%s\n", what, arg ? arg : "");
    exit(2);
}

static uint64_t num(const char *flag, const char *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || end == v || *end || v[0] == '-')
        die("bad number for ", flag);
    return x;
}

static void parse(int argc, char **argv, int first, struct fleet_opts *m, struct run_opts *r)
{
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--guest-dm-disks") == 0) {
            m->guest_dm_disks = true;
            continue;
        }
        if (i + 1 >= argc)
            die("missing value for ", a);
        const char *v = argv[++i];
        if (strcmp(a, "--key-file") == 0) r->key_file = v;
        else if (strcmp(a, "--nodes") == 0) m->nodes = num(a, v);
        else if (strcmp(a, "--guests") == 0) m->guests = num(a, v);
        else if (strcmp(a, "--cluster-sizes") == 0) { if (!fleet_parse_cluster_sizes(v, m)) die("bad --cluster-sizes ", v); }
        else if (strcmp(a, "--first-node") == 0) r->first_node = num(a, v);
        else if (strcmp(a, "--agents") == 0) r->agents = num(a, v);
        else if (strcmp(a, "--interval-ms") == 0) r->interval = (double)num(a, v) / 1000;
        else if (strcmp(a, "--sends") == 0) r->sends = num(a, v);
        else if (strcmp(a, "--first-tick") == 0) r->first_tick = num(a, v);
        else if (strcmp(a, "--sent-log") == 0) r->sent_log = v;
        else if (strcmp(a, "--probe") == 0) r->probe = v;
        else if (strcmp(a, "--probe-count") == 0) r->probe_count = num(a, v);
        else if (strcmp(a, "--probe-out") == 0) r->probe_out = v;
        else die("unknown option ", a);
    }
}

static void sleep_until(double t)
{
    double d = t - clock_monotonic();
    if (d <= 0)
        return;
    struct timespec ts = {(time_t)d, (long)((d - floor(d)) * 1e9)};
    nanosleep(&ts, NULL);
}

/* Builds and seals node's report at tick into s->env. */
static void seal_report(struct sender *s, const struct fleet *f, const struct cluster_key *key, size_t node,
                        uint64_t tick)
{
    arena_reset(&s->arena);
    fleet_report_pack(f, node, tick, &s->arena, &s->report);
    char boot[48];
    snprintf(boot, sizeof boot, "6f1c2e4a-0000-4000-8000-%012zx", node);
    struct envelope_header h = {.cluster = f->clusters[f->nodes[node].cluster].name,
                                .node = f->nodes[node].name, .boot_id = boot, .seq = tick + 1,
                                .sent_unix_ms = clock_unix_ms()};
    buf_reset(&s->env);
    envelope_seal(key, &h, (const uint8_t *)s->report.data, s->report.len, &s->env);
}

static bool send_env(struct agent *ag, const struct buf *env)
{
    int rc = nn_send(ag->sock, env->data, env->len, NN_DONTWAIT);
    if (rc == (int)env->len) {
        ag->sent++;
        return true;
    }
    ag->dropped++;
    return false;
}

static int open_push(const char *url)
{
    int s = nn_socket(AF_SP, NN_PUSH);
    int zero = 0, ivl = 100, sndbuf = 1 << 20;
    if (s < 0)
        return -1;
    if ((strstr(url, "[") && nn_setsockopt(s, NN_SOL_SOCKET, NN_IPV4ONLY, &zero, sizeof zero) < 0) ||
        nn_setsockopt(s, NN_SOL_SOCKET, NN_RECONNECT_IVL, &ivl, sizeof ivl) < 0 ||
        nn_setsockopt(s, NN_SOL_SOCKET, NN_SNDBUF, &sndbuf, sizeof sndbuf) < 0 || nn_connect(s, url) < 0) {
        nn_close(s);
        return -1;
    }
    return s;
}

/* ---- probe: report -> visible ------------------------------------------- */

struct probe {
    const struct fleet *f;
    const struct cluster_key *key;
    const struct run_opts *o;
    struct agent *ag;
    double *lat;                    /* seconds, one per probe */
    size_t n_lat, polls;
    double poll_seconds;            /* total time spent in polls */
    char err[400];
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sends the probe node's report at tick, then polls its cluster's /metrics
 * until that report's forks counter is there. */
static bool probe_one(struct probe *p, struct sender *s, struct http_conn *hc, struct buf *body, uint64_t tick)
{
    size_t node = p->ag->node;
    const char *cluster = p->f->clusters[p->f->nodes[node].cluster].name;
    char path[128], needle[256];
    snprintf(path, sizeof path, "/metrics?cluster=%s", cluster);
    snprintf(needle, sizeof needle, "pve_node_forks_total{id=\"node/%s\",pve_cluster=\"%s\"} %" PRIu64 "\n",
             p->f->nodes[node].name, cluster, fleet_node_forks(node, tick));
    seal_report(s, p->f, p->key, node, tick);
    double t0 = clock_monotonic();
    if (!send_env(p->ag, &s->env)) {
        snprintf(p->err, sizeof p->err, "probe send would block");
        return false;
    }
    for (;;) {
        double q0 = clock_monotonic();
        char err[120];
        if (!http_get(hc, path, body, err, sizeof err)) {
            snprintf(p->err, sizeof p->err, "GET %s: %s", path, err);
            return false;
        }
        double q1 = clock_monotonic();
        p->polls++;
        p->poll_seconds += q1 - q0;
        if (memmem(body->data, body->len, needle, strlen(needle))) {
            p->lat[p->n_lat++] = q1 - t0;
            return true;
        }
        if (q1 - t0 > 10) {
            snprintf(p->err, sizeof p->err, "report of tick %" PRIu64 " not visible after 10 s", tick);
            return false;
        }
    }
}

static void *probe_thread(void *arg)
{
    struct probe *p = arg;
    struct sender s = {.report = BUF_INIT, .env = BUF_INIT};
    arena_init(&s.arena, 1 << 20);
    struct http_conn hc;
    struct buf body = BUF_INIT;
    if (!http_conn_init(&hc, p->o->probe)) {
        snprintf(p->err, sizeof p->err, "--probe wants http://HOST:PORT");
    } else {
        unsigned seed = 12345;
        uint64_t first = p->o->first_tick;
        for (uint64_t tick = first; tick < first + p->o->probe_count && !stop_flag; tick++) {
            if (!probe_one(p, &s, &hc, &body, tick))
                break;
            /* 20..120 ms apart, so sends do not lock step with anything */
            double gap = 0.02 + (double)(rand_r(&seed) % 1000) / 10000;
            sleep_until(clock_monotonic() + gap);
        }
    }
    http_conn_close(&hc);
    buf_free(&body);
    buf_free(&s.report);
    buf_free(&s.env);
    arena_free(&s.arena);
    return NULL;
}

static void probe_report(struct probe *p)
{
    if (p->err[0])
        fprintf(stderr, "pvescope-bench-fleet: probe: %s\n", p->err);
    if (!p->n_lat)
        return;
    qsort(p->lat, p->n_lat, sizeof *p->lat, cmp_double);
    double p50 = p->lat[p->n_lat / 2], p99 = p->lat[(size_t)ceil(p->n_lat * 0.99) - 1];
    printf("probe: %zu reports, report->visible p50 %.2f ms p99 %.2f ms max %.2f ms; %zu polls of "
           "%.2f ms each on average\n", p->n_lat, p50 * 1e3, p99 * 1e3, p->lat[p->n_lat - 1] * 1e3, p->polls,
           p->polls ? p->poll_seconds / (double)p->polls * 1e3 : 0);
    FILE *out = p->o->probe_out ? fopen(p->o->probe_out, "w") : NULL;
    for (size_t i = 0; out && i < p->n_lat; i++)
        fprintf(out, "%.6f\n", p->lat[i]);
    if (out)
        fclose(out);
}

/* ---- the fleet --------------------------------------------------------- */

static void write_sent_log(const char *path, const struct fleet *f, const struct agent *ags, size_t n,
                           uint64_t first_tick)
{
    FILE *out = fopen(path, "w");
    if (!out)
        die("cannot write ", path);
    for (size_t i = 0; i < n; i++) {
        if (!ags[i].sent)
            continue;
        size_t node = ags[i].node;
        uint64_t tick = first_tick + ags[i].sent - 1 + ags[i].dropped;
        const char *cluster = f->clusters[f->nodes[node].cluster].name;
        fprintf(out, "node %s %s forks=%" PRIu64 " memory_total=%" PRIu64 "\n", cluster, f->nodes[node].name,
                fleet_node_forks(node, tick), fleet_node_memory_total(node));
        for (size_t k = 0; k < f->o.guests; k++) {
            uint32_t vmid = fleet_guest_vmid(f, node, k);
            fprintf(out, "guest %s %s %u %s running=%d net_in=%" PRIu64 " cpu_seconds=%.1f\n", cluster,
                    f->nodes[node].name, vmid, fleet_guest_is_lxc(vmid) ? "lxc" : "qemu",
                    fleet_guest_running(vmid), fleet_guest_net_in(vmid, tick), fleet_guest_cpu_seconds(vmid, tick));
        }
    }
    fclose(out);
}

/* Round r: agent i sends at start + r*interval + i*interval/n. */
static void drive(const struct fleet *f, const struct cluster_key *key, const struct run_opts *o, struct agent *ags,
                  size_t n)
{
    struct sender s = {.report = BUF_INIT, .env = BUF_INIT};
    arena_init(&s.arena, 1 << 20);
    double start = clock_monotonic();
    for (uint64_t r = 0; (o->sends == 0 || r < o->sends) && !stop_flag; r++)
        for (size_t i = 0; i < n && !stop_flag; i++) {
            sleep_until(start + (double)r * o->interval + (double)i * o->interval / (double)n);
            seal_report(&s, f, key, ags[i].node, o->first_tick + r);
            send_env(&ags[i], &s.env);
        }
    buf_free(&s.report);
    buf_free(&s.env);
    arena_free(&s.arena);
}

static int run(const struct fleet *f, const struct cluster_key *key, const struct run_opts *o)
{
    if (o->agents == 0 || o->agents > MAX_AGENTS || o->first_node + o->agents > f->o.nodes)
        die("--first-node/--agents outside the estate (or more than 500 agents in one process)", NULL);
    struct agent *ags = calloc(o->agents, sizeof *ags);
    if (!ags)
        abort();
    for (size_t i = 0; i < o->agents; i++) {
        ags[i].node = o->first_node + i;
        if ((ags[i].sock = open_push(o->url)) < 0)
            die("cannot connect a PUSH socket to ", o->url);
    }
    struct timespec settle = {0, 300 * 1000000L};  /* let the connections come up */
    nanosleep(&settle, NULL);
    struct probe p = {.f = f, .key = key, .o = o, .ag = &ags[0]};
    pthread_t tid;
    bool probing = o->probe && o->probe_count;
    if (probing) {
        p.lat = calloc(o->probe_count, sizeof *p.lat);
        if (!p.lat || pthread_create(&tid, NULL, probe_thread, &p) != 0)
            die("cannot start the probe thread", NULL);
    }
    double t0 = clock_monotonic();
    size_t driven = probing ? o->agents - 1 : o->agents;
    if (driven)
        drive(f, key, o, probing ? ags + 1 : ags, driven);
    if (probing) {
        if (driven && o->sends == 0)      /* the fleet was stopped: so is the probe */
            stop_flag = 1;
        pthread_join(tid, NULL);
    }
    double t = clock_monotonic() - t0;
    uint64_t sent = 0, dropped = 0;
    for (size_t i = 0; i < o->agents; i++)
        sent += ags[i].sent, dropped += ags[i].dropped;
    printf("fleet: %zu agents (nodes %zu..%zu of %zu, %zu guests each), %" PRIu64 " reports sent, %" PRIu64
           " dropped, %.1f s, %.0f reports/s\n", o->agents, o->first_node, o->first_node + o->agents - 1,
           f->o.nodes, f->o.guests, sent, dropped, t, t > 0 ? (double)sent / t : 0);
    if (probing)
        probe_report(&p);
    struct timespec linger = {0, 500 * 1000000L};  /* nanomsg has no NN_LINGER: let queues drain */
    nanosleep(&linger, NULL);
    if (o->sent_log)
        write_sent_log(o->sent_log, f, ags, o->agents, o->first_tick);
    for (size_t i = 0; i < o->agents; i++)
        nn_close(ags[i].sock);
    free(ags);
    free(p.lat);
    return probing && (p.err[0] || p.n_lat < o->probe_count) && !stop_flag ? 1 : 0;
}

static void print_keyring(const struct fleet *f, const struct cluster_key *key)
{
    char text[KEY_TEXT_MAX];
    key_format(key, text);
    for (size_t c = 0; c < f->n_clusters; c++)
        printf("%s %s\n", f->clusters[c].name, text);
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    struct fleet_opts m = {.nodes = 500, .guests = 40};
    fleet_parse_cluster_sizes("10,20,30,40,50", &m);
    struct run_opts o = {.interval = 10, .probe_count = 200};
    bool is_run = strcmp(argv[1], "run") == 0;
    if (!is_run && strcmp(argv[1], "keyring") != 0)
        die("unknown command ", argv[1]);
    if (is_run && argc < 3)
        die("run needs URL", NULL);
    o.url = is_run ? argv[2] : NULL;
    parse(argc, argv, is_run ? 3 : 2, &m, &o);
    if (!o.key_file)
        die("--key-file is required", NULL);
    if (!o.agents)
        o.agents = m.nodes - (o.first_node < m.nodes ? o.first_node : m.nodes);
    if (!seal_library_init())
        die("libsodium failed to initialize", NULL);
    struct cluster_key key;
    char err[512];
    if (!key_load_file(o.key_file, &key, err, sizeof err))
        die(err, NULL);
    struct fleet f;
    fleet_init(&f, &m);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    int rc = 0;
    if (is_run)
        rc = run(&f, &key, &o);
    else
        print_keyring(&f, &key);
    fleet_free(&f);
    return rc;
}
