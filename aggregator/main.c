/* main.c — pvescope-aggregator: receive node reports over nanomsg, serve
 * Prometheus metrics over HTTP.
 *
 * Threads: main (signals), ingest (owns the PULL socket), libmicrohttpd's
 * pool, and with --remote-write.url the remote_write producer and one sender
 * per endpoint (remote_write.h). They share only the store (and the scrapes
 * read the remote_write counters). */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "flags.h"
#include "healthcheck.h"
#include "http.h"
#include "ingest.h"
#include "keyring.h"
#include "log.h"
#include "remote_write.h"
#include "rw_http.h"
#include "privileges.h"
#include "store.h"
#include "webconfig.h"

struct aggregator_config {
    const char *ingest_listen;
    const char *web_listen;
    const char *keyring;
    const char *web_config;
    double stale_after;
    double max_clock_skew;
    uint64_t max_message_bytes;
    uint64_t max_nodes;
    uint64_t max_nodes_per_cluster;
    bool allow_root;
    enum { HEALTHCHECK_OFF, HEALTHCHECK_OWN_FLAGS, HEALTHCHECK_RUNNING } healthcheck;
    struct merge_opts merge;
    struct rw_config remote_write;
};

static void usage(FILE *out)
{
    fputs("usage: pvescope-aggregator --keyring=FILE [flags]\n"
          "Receives pvescope agent reports and serves them as Prometheus metrics.\n\n"
          "  --keyring=FILE                   lines '<cluster> <key text>' (several per cluster\n"
          "                                   are all accepted, for rotation); required\n"
          "  --ingest.listen=tcp://[::]:9716  nanomsg PULL endpoint agents push to\n"
          "  --web.listen-address=:9715       HTTP address for /metrics, /-/healthy, /-/ready, /\n"
          "  --web.config.file=FILE           TLS and basic auth, in exporter-toolkit's\n"
          "                                   web-config.yml format (default: plain HTTP)\n"
          "  --stale-after=60s                a node silent this long shows pve_up 0 and\n"
          "                                   loses its other series\n"
          "  --ingest.max-message-bytes=1MiB  larger reports are rejected (reason oversize)\n"
          "  --ingest.max-clock-skew=5m       reports sent further from this clock are rejected\n"
          "  --ingest.max-nodes=10000         distinct nodes kept\n"
          "  --ingest.max-nodes-per-cluster=1024  distinct nodes kept per cluster, so one\n"
          "                                   cluster's key cannot crowd the others out\n"
          "  --compat.deprecated-gauges       also serve the exporter's deprecated gauges\n"
          "                                   (pve_network_receive_bytes, ...; dashboard 10347 uses them)\n"
          "  --allow-root                     run even as root (refused otherwise: the aggregator\n"
          "                                   needs no privilege); capabilities are dropped either way\n"
          "  --healthcheck                    probe the aggregator at --web.listen-address (through\n"
          "                                   --web.config.file's TLS) and exit 0 when it is healthy, 1\n"
          "                                   when not; --healthcheck=running takes both flags from the\n"
          "                                   running aggregator's command line (a container's PID 1)\n"
          "  --log.level=info                 error, warn, info or debug\n", out);
    fputs(rw_config_usage, out);
    fputs("  --help, --version\n", out);
}

static void bad_value(const char *flag, const char *v)
{
    fprintf(stderr, "pvescope-aggregator: invalid value for --%s: '%s'\n", flag, v);
    exit(2);
}

static bool parse_flag(int argc, char **argv, int *i, struct aggregator_config *c)
{
    const char *v;
    enum log_level lvl;
    bool bad;
    char err[256];
    if (rw_config_flag(&c->remote_write, argc, argv, i, &bad, err, sizeof err)) {
        if (bad) {
            fprintf(stderr, "pvescope-aggregator: %s\n", err);
            exit(2);
        }
    } else if (flag_value(argc, argv, i, "ingest.listen", &v)) {
        c->ingest_listen = v;
    } else if (flag_value(argc, argv, i, "web.listen-address", &v)) {
        c->web_listen = v;
    } else if (flag_value(argc, argv, i, "web.config.file", &v)) {
        c->web_config = v;
    } else if (flag_value(argc, argv, i, "keyring", &v)) {
        c->keyring = v;
    } else if (flag_value(argc, argv, i, "stale-after", &v)) {
        if (!parse_duration(v, &c->stale_after) || c->stale_after <= 0)
            bad_value("stale-after", v);
    } else if (flag_value(argc, argv, i, "ingest.max-clock-skew", &v)) {
        if (!parse_duration(v, &c->max_clock_skew) || c->max_clock_skew <= 0)
            bad_value("ingest.max-clock-skew", v);
    } else if (flag_value(argc, argv, i, "ingest.max-message-bytes", &v)) {
        if (!parse_bytes(v, &c->max_message_bytes) || c->max_message_bytes < 1024 ||
            c->max_message_bytes > (256u << 20))
            bad_value("ingest.max-message-bytes", v);
    } else if (flag_value(argc, argv, i, "ingest.max-nodes", &v)) {
        if (!parse_bytes(v, &c->max_nodes) || c->max_nodes == 0)
            bad_value("ingest.max-nodes", v);
    } else if (flag_value(argc, argv, i, "ingest.max-nodes-per-cluster", &v)) {
        if (!parse_bytes(v, &c->max_nodes_per_cluster) || c->max_nodes_per_cluster == 0)
            bad_value("ingest.max-nodes-per-cluster", v);
    } else if (flag_value(argc, argv, i, "log.level", &v)) {
        if (!log_level_parse(v, &lvl))
            bad_value("log.level", v);
        log_set_level(lvl);
    } else {
        return false;
    }
    return true;
}

static void parse_args(int argc, char **argv, struct aggregator_config *c)
{
    for (int i = 1; i < argc; i++) {
        if (flag_bool(argv[i], "help") || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        if (flag_bool(argv[i], "compat.deprecated-gauges")) {
            c->merge.deprecated_gauges = true;
            continue;
        }
        if (flag_bool(argv[i], "healthcheck") || strcmp(argv[i], "--healthcheck=running") == 0) {
            c->healthcheck = argv[i][13] ? HEALTHCHECK_RUNNING : HEALTHCHECK_OWN_FLAGS;
            continue;
        }
        if (flag_bool(argv[i], "allow-root")) {
            c->allow_root = true;
            continue;
        }
        if (flag_bool(argv[i], "version")) {
            printf("pvescope-aggregator %s\n", PVESCOPE_VERSION);
            exit(0);
        }
        if (!parse_flag(argc, argv, &i, c)) {
            fprintf(stderr, "pvescope-aggregator: unknown flag or missing value: %s (see --help)\n", argv[i]);
            exit(2);
        }
    }
}

/* The port of "host:port" or "tcp://host:port"; 0 when there is none. */
static unsigned listen_port(const char *addr)
{
    const char *colon = strrchr(addr, ':');
    return colon ? (unsigned)strtoul(colon + 1, NULL, 10) : 0;
}

/* Root is refused unless --allow-root: the aggregator parses what anyone on
 * the network sends it and needs no privilege, so running it as root is a
 * mistake to point out, not to fix silently by switching to some user. */
static bool root_refused(const struct aggregator_config *c)
{
    if (geteuid() != 0 || c->allow_root)
        return false;
    log_error("refusing to run as root: the aggregator needs no privilege. Run it as a system user that "
              "can read --keyring (the package's and the image's user is pvescope), or pass --allow-root");
    return true;
}

/* Drops every capability but CAP_NET_BIND_SERVICE when a port below 1024
 * asks for it, and sets no_new_privs. Runs after the key ring and web config
 * are read and before any thread exists (capabilities are per thread).
 * Returns the exit status to stop with, or 0 to go on. */
static int drop_privileges(const struct aggregator_config *c)
{
    unsigned web = listen_port(c->web_listen), ingest = listen_port(c->ingest_listen);
    bool low_port = (web > 0 && web < 1024) || (ingest > 0 && ingest < 1024);
    uint64_t wanted = low_port ? CAP_BIT(CAP_NET_BIND_SERVICE) : 0;
    struct privileges_result r;
    char err[256], kept[64];
    if (!privileges_drop(wanted, &r, err, sizeof err)) {
        log_error("dropping capabilities failed: %s", err);
        return 1;
    }
    privileges_format(r.kept, kept, sizeof kept);
    log_info("running as uid %u%s: capabilities kept: %s; no_new_privs set", (unsigned)geteuid(),
             geteuid() == 0 ? " (--allow-root)" : "", kept);
    if (r.missing)
        log_warn("a listen port below 1024 needs CAP_NET_BIND_SERVICE, which the aggregator does not have");
    return 0;
}

static void config_defaults(struct aggregator_config *c)
{
    *c = (struct aggregator_config){
        .ingest_listen = "tcp://[::]:9716", .web_listen = ":9715", .stale_after = 60,
        .max_clock_skew = 300, .max_message_bytes = 1 << 20, .max_nodes = 10000,
        .max_nodes_per_cluster = 1024,
    };
    rw_config_init(&c->remote_write);
}

/* --healthcheck: probes the web side as configured (healthcheck.h). With
 * =running the flags are the running aggregator's, so flags appended to a
 * container's entry point apply to its HEALTHCHECK too. Exit status 0/1. */
static int run_healthcheck(const struct aggregator_config *own)
{
    struct aggregator_config c = *own;
    static char cmdline[65536], web_path[4096];
    char *run_argv[256];
    if (own->healthcheck == HEALTHCHECK_RUNNING) {
        int run_argc = 0;
        pid_t pid = healthcheck_find_running("/proc", cmdline, sizeof cmdline, run_argv, 256, &run_argc);
        if (pid < 0) {
            fprintf(stderr, "unhealthy: no running pvescope-aggregator process to probe\n");
            return 1;
        }
        config_defaults(&c);
        parse_args(run_argc, run_argv, &c);
        if (c.web_config && c.web_config[0] != '/') {     /* relative to that process's directory */
            snprintf(web_path, sizeof web_path, "/proc/%ld/cwd/%s", (long)pid, c.web_config);
            c.web_config = web_path;
        }
    }
    struct webconfig web;
    char err[512];
    if (c.web_config && !webconfig_load(c.web_config, &web, err, sizeof err)) {
        fprintf(stderr, "unhealthy: %s\n", err);
        return 1;
    }
    int rc = healthcheck_probe(c.web_listen, c.web_config ? &web : NULL, 4.0);
    if (c.web_config)
        webconfig_free(&web);
    if (own->healthcheck == HEALTHCHECK_RUNNING)
        rw_config_free(&c.remote_write);            /* the running process's flags, parsed here */
    return rc;
}

struct ingest_thread_arg {
    struct ingest *ig;
    atomic_bool *stop;
};

static void *ingest_thread(void *p)
{
    struct ingest_thread_arg *a = p;
    ingest_run(a->ig, a->stop);
    return NULL;
}

/* Everything after the flags; returns the exit status. */
static int run(const struct aggregator_config *c)
{
    if (!seal_library_init()) {
        log_error("libsodium failed to initialize");
        return 1;
    }
    if (!c->keyring) {
        log_error("--keyring=FILE is required: reports are only accepted from clusters with a key");
        return 2;
    }
    char err[512];
    struct keyring kr;
    if (!keyring_load_file(c->keyring, &kr, err, sizeof err)) {
        log_error("%s", err);
        return 1;
    }
    struct webconfig web;
    bool have_web = false;
    if (c->web_config) {
        if (!webconfig_load(c->web_config, &web, err, sizeof err)) {
            log_error("%s", err);
            keyring_free(&kr);
            return 1;
        }
        have_web = true;
        log_info("web config %s: %s%s, basic auth for %zu user(s)", c->web_config,
                 web.tls ? "TLS" : "plain HTTP",
                 !web.tls ? "" : web.client_auth == WEBCFG_REQUIRE_AND_VERIFY ? " with client certificates required"
                 : web.client_auth == WEBCFG_VERIFY_IF_GIVEN ? " with client certificates verified if given" : "",
                 web.n_users);
        if (!web.tls && web.n_users)
            log_warn("web config %s: basic auth without TLS sends passwords in clear text", c->web_config);
        for (size_t i = 1; i < web.n_users; i++)
            if (web.users[i].cost != web.users[0].cost) {
                log_warn("web config %s: users' bcrypt costs differ (%d and %d): response times tell which "
                         "cost a user name has; give them all the same cost", c->web_config,
                         web.users[0].cost, web.users[i].cost);
                break;
            }
    }
    int priv_rc = drop_privileges(c);
    if (priv_rc != 0) {
        if (have_web)
            webconfig_free(&web);
        keyring_free(&kr);
        return priv_rc;
    }
    /* Block stop signals before any library thread exists; main waits for them. */
    sigset_t stop_sigs;
    sigemptyset(&stop_sigs);
    sigaddset(&stop_sigs, SIGTERM);
    sigaddset(&stop_sigs, SIGINT);
    sigaddset(&stop_sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &stop_sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct store store;
    store_init(&store, c->stale_after, (size_t)c->max_nodes);
    store.max_nodes_per_cluster = (size_t)c->max_nodes_per_cluster;
    struct ingest ig;
    ingest_init(&ig, &store, &kr, (size_t)c->max_message_bytes, c->max_clock_skew);
    ig.merge = c->merge;
    int rc = 1;
    struct http_server *http = NULL;
    struct remote_write *rw = NULL;
    if (c->remote_write.n_endpoints &&
        !(rw = remote_write_start(&c->remote_write, &store, &c->merge, err, sizeof err))) {
        log_error("%s", err);
        goto out;
    }
    if (!ingest_listen(&ig, c->ingest_listen, err, sizeof err) ||
        !(http = http_start(c->web_listen, &store, &c->merge, rw, c->ingest_listen, have_web ? &web : NULL, err,
                            sizeof err))) {
        log_error("%s", err);
        goto out;
    }
    atomic_bool stop = false;
    struct ingest_thread_arg arg = {&ig, &stop};
    pthread_t tid;
    if (pthread_create(&tid, NULL, ingest_thread, &arg) != 0) {
        log_error("cannot start the ingest thread");
        goto out;
    }
    log_info("pvescope-aggregator %s: ingest %s, web %s (port %u), %zu key(s), stale after %gs",
             PVESCOPE_VERSION, c->ingest_listen, c->web_listen, http_port(http), kr.len, c->stale_after);
    for (size_t i = 0; i < c->remote_write.n_endpoints; i++)
        log_info("remote write to %s every %gs, %zu external label(s), queue of %zu batches of up to %zu "
                 "samples", c->remote_write.endpoints[i].url, c->remote_write.interval, c->remote_write.n_external,
                 c->remote_write.queue_max, c->remote_write.max_samples_per_send);
    int sig = 0;
    sigwait(&stop_sigs, &sig);
    log_info("signal %d: stopping", sig);
    atomic_store(&stop, true);
    pthread_join(tid, NULL);
    rc = 0;
out:
    http_stop(http);                /* scrapes read rw's counters */
    remote_write_stop(rw);          /* before the store it reads */
    if (have_web)
        webconfig_free(&web);
    ingest_close(&ig);
    store_free(&store);
    keyring_free(&kr);
    return rc;
}

int main(int argc, char **argv)
{
    ingest_tune_malloc();
    struct aggregator_config c;
    config_defaults(&c);
    parse_args(argc, argv, &c);
    int rc;
    if (c.healthcheck)
        rc = run_healthcheck(&c);
    else if (root_refused(&c))
        rc = 2;
    else if (!rw_http_global_init()) {
        log_error("libcurl failed to initialize");
        rc = 1;
    } else {
        rc = run(&c);
        rw_http_global_cleanup();
    }
    rw_config_free(&c.remote_write);
    return rc;
}
