/* main.c — pvescope-aggregator: receive node reports over nanomsg, serve
 * Prometheus metrics over HTTP.
 *
 * Threads: main (signals), ingest (owns the PULL socket), and libmicrohttpd's
 * pool. They share only the store. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"
#include "http.h"
#include "ingest.h"
#include "keyring.h"
#include "log.h"
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
    struct merge_opts merge;
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
          "  --compat.deprecated-gauges       also serve the exporter's deprecated gauges\n"
          "                                   (pve_network_receive_bytes, ...; dashboard 10347 uses them)\n"
          "  --log.level=info                 error, warn, info or debug\n"
          "  --help, --version\n", out);
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
    if (flag_value(argc, argv, i, "ingest.listen", &v)) {
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

int main(int argc, char **argv)
{
    struct aggregator_config c = {
        .ingest_listen = "tcp://[::]:9716", .web_listen = ":9715", .stale_after = 60,
        .max_clock_skew = 300, .max_message_bytes = 1 << 20, .max_nodes = 10000,
    };
    parse_args(argc, argv, &c);
    if (!seal_library_init()) {
        log_error("libsodium failed to initialize");
        return 1;
    }
    if (!c.keyring) {
        log_error("--keyring=FILE is required: reports are only accepted from clusters with a key");
        return 2;
    }
    char err[512];
    struct keyring kr;
    if (!keyring_load_file(c.keyring, &kr, err, sizeof err)) {
        log_error("%s", err);
        return 1;
    }
    struct webconfig web;
    bool have_web = false;
    if (c.web_config) {
        if (!webconfig_load(c.web_config, &web, err, sizeof err)) {
            log_error("%s", err);
            keyring_free(&kr);
            return 1;
        }
        have_web = true;
        log_info("web config %s: %s%s, basic auth for %zu user(s)", c.web_config,
                 web.tls ? "TLS" : "plain HTTP",
                 !web.tls ? "" : web.client_auth == WEBCFG_REQUIRE_AND_VERIFY ? " with client certificates required"
                 : web.client_auth == WEBCFG_VERIFY_IF_GIVEN ? " with client certificates verified if given" : "",
                 web.n_users);
        if (!web.tls && web.n_users)
            log_warn("web config %s: basic auth without TLS sends passwords in clear text", c.web_config);
        for (size_t i = 1; i < web.n_users; i++)
            if (web.users[i].cost != web.users[0].cost) {
                log_warn("web config %s: users' bcrypt costs differ (%d and %d): response times tell which "
                         "cost a user name has; give them all the same cost", c.web_config,
                         web.users[0].cost, web.users[i].cost);
                break;
            }
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
    store_init(&store, c.stale_after, (size_t)c.max_nodes);
    struct ingest ig;
    ingest_init(&ig, &store, &kr, (size_t)c.max_message_bytes, c.max_clock_skew);
    ig.merge = c.merge;
    int rc = 1;
    struct http_server *http = NULL;
    if (!ingest_listen(&ig, c.ingest_listen, err, sizeof err) ||
        !(http = http_start(c.web_listen, &store, &c.merge, c.ingest_listen, have_web ? &web : NULL, err,
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
             PVESCOPE_VERSION, c.ingest_listen, c.web_listen, http_port(http), kr.len, c.stale_after);
    int sig = 0;
    sigwait(&stop_sigs, &sig);
    log_info("signal %d: stopping", sig);
    atomic_store(&stop, true);
    pthread_join(tid, NULL);
    rc = 0;
out:
    http_stop(http);
    if (have_web)
        webconfig_free(&web);
    ingest_close(&ig);
    store_free(&store);
    keyring_free(&kr);
    return rc;
}
