/* test_remote_write.c — remote_write without a receiver: exposition text to
 * series (escapes, UTF-8, NaN/±Inf, label order, external labels), batches
 * decoded back (snappy block + protobuf) and compared, the flags, the backoff,
 * the self metrics as /metrics shows them, and the writer against real
 * sockets: a port nobody listens on and a server that never answers (bounded
 * queue, drops counted, shutdown within a second, credentials kept out of the
 * url label). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "exposition.h"
#include "remote_write.h"
#include "remote_write.pb-c.h"
#include "rw_config.h"
#include "rw_encode.h"
#include "rw_http.h"
#include "rw_series.h"
#include "store.h"

/* "name=value,name=value" of series i, in the set's order. */
static void series_text(const struct rw_series_set *set, size_t i, char *out, size_t cap)
{
    const struct rw_series *s = &set->series[i];
    size_t off = 0;
    out[0] = '\0';
    for (uint32_t k = 0; k < s->n_labels; k++) {
        const struct rw_label *l = &set->labels[s->first_label + k];
        off += (size_t)snprintf(out + off, cap - off, "%s%s=%s", k ? "," : "", l->name, l->value);
    }
}

static void parse(struct rw_series_set *set, const char *text, const struct rw_label *ext, size_t n_ext)
{
    rw_series_parse(set, strdup(text), ext, n_ext);
}

static void t_parse_escapes_and_values(void **state)
{
    (void)state;
    struct rw_series_set set;
    parse(&set,
          "# HELP pve_guest_info VM/CT info\n"
          "# TYPE pve_guest_info gauge\n"
          "pve_guest_info{id=\"qemu/104\",name=\"odd\\\"name\\\\with'quotes-\xc3\xbcn\xc3\xaf%41\",tags=\"a\\nb\"} 1\n"
          "pvescope_reports_received_total 12345678901234\n"
          "pve_x{b=\"2\",a=\"\"} NaN\n"
          "pve_y{z=\"1\"} +Inf\n"
          "pve_y{z=\"2\"} -Inf\n"
          "pve_y{z=\"3\"} -0.000125\n"
          "pve_y{z=\"4\"} 1.7976931348623157e+308\n",
          NULL, 0);
    assert_int_equal(set.bad_lines, 0);
    assert_int_equal(set.n, 7);
    char got[512];
    series_text(&set, 0, got, sizeof got);
    assert_string_equal(got, "__name__=pve_guest_info,id=qemu/104,"
                             "name=odd\"name\\with'quotes-\xc3\xbcn\xc3\xaf%41,tags=a\nb");
    assert_true(set.series[0].value == 1.0);
    series_text(&set, 1, got, sizeof got);
    assert_string_equal(got, "__name__=pvescope_reports_received_total");
    assert_true(set.series[1].value == 12345678901234.0);
    series_text(&set, 2, got, sizeof got);
    assert_string_equal(got, "__name__=pve_x,b=2");       /* an empty value is no label, as in a scrape */
    assert_true(isnan(set.series[2].value));
    assert_true(isinf(set.series[3].value) && set.series[3].value > 0);
    assert_true(isinf(set.series[4].value) && set.series[4].value < 0);
    assert_true(set.series[5].value == -0.000125);
    assert_true(set.series[6].value == 1.7976931348623157e+308);
    rw_series_free(&set);
}

static void t_parse_sorting_and_external(void **state)
{
    (void)state;
    const struct rw_label ext[] = {{"replica", "a"}, {"cluster", "prod-ha"}, {"Zone", "Z"}};
    struct rw_series_set set;
    parse(&set,
          "pve_up{pve_cluster=\"prod\",id=\"node/pve1\"} 1\n"
          "pve_up{id=\"node/pve2\",cluster=\"own\",pve_cluster=\"prod\"} 0\n"
          "pve_up{id=\"node/pve3\",cluster=\"\",pve_cluster=\"prod\"} 0\n"   /* empty: absent, so external */
          "pvescope_build_info{version=\"0.1.0\"} 1",             /* no newline at the end */
          ext, 3);
    assert_int_equal(set.n, 4);
    char got[512];
    /* byte order: uppercase before '_' before lowercase */
    series_text(&set, 0, got, sizeof got);
    assert_string_equal(got, "Zone=Z,__name__=pve_up,cluster=prod-ha,id=node/pve1,pve_cluster=prod,replica=a");
    series_text(&set, 1, got, sizeof got);           /* the series' own cluster wins, as in Prometheus */
    assert_string_equal(got, "Zone=Z,__name__=pve_up,cluster=own,id=node/pve2,pve_cluster=prod,replica=a");
    series_text(&set, 2, got, sizeof got);
    assert_string_equal(got, "Zone=Z,__name__=pve_up,cluster=prod-ha,id=node/pve3,pve_cluster=prod,replica=a");
    series_text(&set, 3, got, sizeof got);
    assert_string_equal(got, "Zone=Z,__name__=pvescope_build_info,cluster=prod-ha,replica=a,version=0.1.0");
    rw_series_free(&set);
}

static void t_parse_bad_lines(void **state)
{
    (void)state;
    struct rw_series_set set;
    parse(&set,
          "good_one 1\n"
          "pve_a{id=\"unterminated} 1\n"
          "pve_b{id=\"x\"}1\n"
          "pve_c{id=\"bad\\tescape\"} 1\n"
          "9starts_with_digit 1\n"
          "pve_d{id=\"x\"} notanumber\n"
          "\n"
          "good_two{a=\"b\"} 2\n",
          NULL, 0);
    assert_int_equal(set.n, 2);
    assert_int_equal(set.bad_lines, 5);
    assert_string_equal(set.first_bad, "pve_a{id");     /* cut where parsing stopped: the family is named */
    char got[128];
    series_text(&set, 1, got, sizeof got);
    assert_string_equal(got, "__name__=good_two,a=b");
    assert_true(set.series[1].value == 2.0);
    rw_series_free(&set);
}

/* Decodes a batch as a receiver would. */
static Prometheus__WriteRequest *decode(const struct rw_batch *b)
{
    size_t raw_len;
    assert_int_equal(snappy_uncompressed_length(b->data, b->len, &raw_len), SNAPPY_OK);
    char *raw = malloc(raw_len ? raw_len : 1);
    assert_int_equal(snappy_uncompress(b->data, b->len, raw, &raw_len), SNAPPY_OK);
    Prometheus__WriteRequest *req = prometheus__write_request__unpack(NULL, raw_len, (const uint8_t *)raw);
    free(raw);
    assert_non_null(req);
    return req;
}

static void t_batches_round_trip(void **state)
{
    (void)state;
    struct buf text = BUF_INIT;
    for (int i = 0; i < 25; i++)
        buf_printf(&text, "pve_s{id=\"qemu/%d\",name=\"g\\\"%d\\\\\"} %d.5\n", 100 + i, i, i);
    const struct rw_label ext[] = {{"cluster", "c1"}};
    struct rw_series_set set;
    size_t len;
    rw_series_parse(&set, buf_steal(&text, &len), ext, 1);
    assert_int_equal(set.n, 25);
    struct rw_batch **batches;
    size_t n = rw_encode_all(&set, 10, 1700000000123, &batches);
    assert_int_equal(n, 3);
    const size_t want_sizes[] = {10, 10, 5};
    int next = 0;
    for (size_t b = 0; b < n; b++) {
        assert_int_equal(batches[b]->n_samples, want_sizes[b]);
        Prometheus__WriteRequest *req = decode(batches[b]);
        assert_int_equal(req->n_timeseries, want_sizes[b]);
        for (size_t i = 0; i < req->n_timeseries; i++, next++) {
            const Prometheus__TimeSeries *ts = req->timeseries[i];
            assert_int_equal(ts->n_labels, 4);
            char id[32], name[32];
            snprintf(id, sizeof id, "qemu/%d", 100 + next);
            snprintf(name, sizeof name, "g\"%d\\", next);
            assert_string_equal(ts->labels[0]->name, "__name__");
            assert_string_equal(ts->labels[0]->value, "pve_s");
            assert_string_equal(ts->labels[1]->name, "cluster");
            assert_string_equal(ts->labels[1]->value, "c1");
            assert_string_equal(ts->labels[2]->name, "id");
            assert_string_equal(ts->labels[2]->value, id);
            assert_string_equal(ts->labels[3]->name, "name");
            assert_string_equal(ts->labels[3]->value, name);
            assert_int_equal(ts->n_samples, 1);
            assert_true(ts->samples[0]->value == next + 0.5);
            assert_int_equal(ts->samples[0]->timestamp, 1700000000123);
        }
        prometheus__write_request__free_unpacked(req, NULL);
        rw_batch_unref(batches[b]);
    }
    assert_int_equal(next, 25);
    free(batches);
    /* exactly full batches: no empty trailing one */
    n = rw_encode_all(&set, 5, 1, &batches);
    assert_int_equal(n, 5);
    for (size_t b = 0; b < n; b++)
        rw_batch_unref(batches[b]);
    free(batches);
    rw_series_free(&set);
}

/* NaN and infinities survive protobuf and snappy bit for bit. */
static void t_special_values_round_trip(void **state)
{
    (void)state;
    struct rw_series_set set;
    parse(&set, "a NaN\nb +Inf\nc -Inf\nd 0\n", NULL, 0);
    struct rw_batch *b = rw_encode(&set, 0, set.n, -5);
    Prometheus__WriteRequest *req = decode(b);
    assert_int_equal(req->n_timeseries, 4);
    assert_true(isnan(req->timeseries[0]->samples[0]->value));
    assert_true(isinf(req->timeseries[1]->samples[0]->value) && req->timeseries[1]->samples[0]->value > 0);
    assert_true(isinf(req->timeseries[2]->samples[0]->value) && req->timeseries[2]->samples[0]->value < 0);
    assert_true(req->timeseries[3]->samples[0]->value == 0);
    assert_int_equal(req->timeseries[3]->samples[0]->timestamp, -5);
    prometheus__write_request__free_unpacked(req, NULL);
    rw_batch_unref(b);
    rw_series_free(&set);
}

/* A writable argv, as main() gets one: the config points into it. */
struct argv_copy {
    char *argv[16];
    int argc;
};

static void argv_free(struct argv_copy *a)
{
    for (int i = 1; i < a->argc; i++)
        free(a->argv[i]);
    a->argc = 0;
}

/* Runs rw_config_flag over args (NULL-terminated) copied into a; false with
 * the message in err at the first refused flag. */
static bool flags(struct rw_config *c, struct argv_copy *a, const char **args, char *err, size_t errlen)
{
    char **argv = a->argv;
    argv[0] = "pvescope-aggregator";
    int argc = 1;
    for (; args[argc - 1]; argc++)
        argv[argc] = strdup(args[argc - 1]);
    a->argc = argc;
    bool ok = true;
    for (int i = 1; i < argc && ok; i++) {
        bool bad = false;
        if (!rw_config_flag(c, argc, argv, &i, &bad, err, errlen)) {
            snprintf(err, errlen, "not a remote-write flag: %s", argv[i]);
            ok = false;
        } else if (bad) {
            ok = false;
        }
    }
    return ok;
}

static void t_flags(void **state)
{
    (void)state;
    char err[256];
    struct rw_config c;
    struct argv_copy a;
    rw_config_init(&c);
    assert_true(flags(&c, &a, (const char *[]){"--remote-write.url=http://vm:8428/api/v1/write",
                                           "--remote-write.bearer-token-file", "/etc/pvescope/vm.token",
                                           "--remote-write.url=https://mimir/api/v1/push",
                                           "--remote-write.basic-auth-file=/etc/pvescope/mimir.auth",
                                           "--remote-write.header=X-Scope-OrgID=tenant-1",
                                           "--remote-write.external-label=cluster=prod",
                                           "--remote-write.external-label=replica=a=b",
                                           "--remote-write.external-label=__replica__=r1",
                                           "--remote-write.interval=30s", "--remote-write.queue-max=64",
                                           "--remote-write.timeout=5s",
                                           "--remote-write.max-samples-per-send=2000", NULL},
                      err, sizeof err));
    assert_int_equal(c.n_endpoints, 2);
    assert_string_equal(c.endpoints[0].url, "http://vm:8428/api/v1/write");
    assert_string_equal(c.endpoints[0].bearer_token_file, "/etc/pvescope/vm.token");
    assert_null(c.endpoints[0].basic_auth_file);
    assert_int_equal(c.endpoints[0].n_headers, 0);
    assert_string_equal(c.endpoints[1].basic_auth_file, "/etc/pvescope/mimir.auth");
    assert_int_equal(c.endpoints[1].n_headers, 1);
    assert_string_equal(c.endpoints[1].headers[0], "X-Scope-OrgID: tenant-1");
    assert_int_equal(c.n_external, 3);
    assert_string_equal(c.external[2].name, "__replica__");
    assert_string_equal(c.external[1].name, "replica");
    assert_string_equal(c.external[1].value, "a=b");
    assert_true(c.interval == 30 && c.timeout == 5);
    assert_int_equal(c.queue_max, 64);
    assert_int_equal(c.max_samples_per_send, 2000);
    rw_config_free(&c);
    argv_free(&a);

    static const struct { const char *arg; const char *err_has; } bad[] = {
        {"--remote-write.bearer-token-file=/x", "must follow the --remote-write.url"},
        {"--remote-write.url=ftp://x/", "not an http:// or https:// URL"},
        {"--remote-write.external-label=__name__=x", "NAME must match"},
        {"--remote-write.external-label=1abc=x", "NAME must match"},
        {"--remote-write.external-label=cluster=", "NAME must match"},
        {"--remote-write.external-label=cluster", "expected NAME=VALUE"},
        {"--remote-write.interval=0s", "from 100ms to 1h"},
        {"--remote-write.queue-max=0", "from 1 to 1000000"},
        {"--remote-write.max-samples-per-send=lots", "from 1 to 1000000"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rw_config_init(&c);
        err[0] = '\0';
        assert_false(flags(&c, &a, (const char *[]){bad[i].arg, NULL}, err, sizeof err));
        if (!strstr(err, bad[i].err_has))
            fail_msg("%s: error '%s' does not say '%s'", bad[i].arg, err, bad[i].err_has);
        rw_config_free(&c);
        argv_free(&a);
    }
    rw_config_init(&c);
    assert_false(flags(&c, &a, (const char *[]){"--remote-write.url=http://a/",
                                                "--remote-write.header=Bad Name=x", NULL}, err, sizeof err));
    assert_non_null(strstr(err, "remote-write.header"));
    rw_config_free(&c);
    argv_free(&a);
    rw_config_init(&c);
    assert_false(flags(&c, &a, (const char *[]){"--remote-write.external-label=cluster=a",
                                                "--remote-write.external-label=cluster=b", NULL}, err, sizeof err));
    rw_config_free(&c);
    argv_free(&a);
}

static void t_backoff(void **state)
{
    (void)state;
    unsigned seed = 42;
    const double base[] = {0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 30, 30};
    for (unsigned a = 1; a <= 11; a++)
        for (int k = 0; k < 50; k++) {
            double d = rw_backoff_seconds(a, &seed);
            if (d < base[a - 1] / 2 || d > base[a - 1])
                fail_msg("attempt %u: %g outside [%g, %g]", a, d, base[a - 1] / 2, base[a - 1]);
        }
    assert_true(rw_backoff_seconds(1000, &seed) <= 30);
}

static void t_self_metrics_exposition(void **state)
{
    (void)state;
    struct rw_endpoint_stats e[1] = {{
        .url = "http://vm:8428/api/v1/write?x=\"q\"", .samples_sent = 100, .samples_failed = 7,
        .samples_dropped = 3, .retries = 4, .bytes_sent = 2048, .queue_batches = 2,
        .last_success_unix = 1700000000.5,
        .codes = {{204, 9}, {0, 4}, {400, 1}}, .n_codes = 3, .other_codes = 2,
    }};
    struct remote_write_stats st = {e, 1};
    struct scrape_input in = {.remote_write = &st};
    struct buf out = BUF_INIT;
    expo_write(&out, &in);
    const char *u = "url=\"http://vm:8428/api/v1/write?x=\\\"q\\\"\"";
    char want[2048];
    snprintf(want, sizeof want,
             "pvescope_remote_write_samples_total{%1$s,result=\"sent\"} 100\n"
             "pvescope_remote_write_samples_total{%1$s,result=\"failed\"} 7\n"
             "pvescope_remote_write_samples_total{%1$s,result=\"dropped\"} 3\n"
             "# HELP pvescope_remote_write_requests_total",
             u);
    assert_non_null(strstr(out.data, want));
    snprintf(want, sizeof want,
             "pvescope_remote_write_requests_total{%1$s,code=\"204\"} 9\n"
             "pvescope_remote_write_requests_total{%1$s,code=\"error\"} 4\n"
             "pvescope_remote_write_requests_total{%1$s,code=\"400\"} 1\n"
             "pvescope_remote_write_requests_total{%1$s,code=\"other\"} 2\n", u);
    assert_non_null(strstr(out.data, want));
    const char *singles[] = {"pvescope_remote_write_retries_total{%s} 4\n",
                             "pvescope_remote_write_sent_bytes_total{%s} 2048\n",
                             "pvescope_remote_write_queue_batches{%s} 2\n",
                             "pvescope_remote_write_last_success_timestamp_seconds{%s} 1700000000.5\n"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(want, sizeof want, singles[i], u);
        assert_non_null(strstr(out.data, want));
    }
    buf_free(&out);
    /* remote_write off: none of its families */
    in.remote_write = NULL;
    expo_write(&out, &in);
    assert_null(strstr(out.data ? out.data : "", "remote_write"));
    buf_free(&out);
}

/* ---- the writer against real sockets ---------------------------------------- */

/* A TCP listener on 127.0.0.1 that never accepts: connections complete in
 * the backlog and requests never get an answer. */
static int silent_server(unsigned *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 64), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static void wait_for(double secs, bool (*cond)(struct remote_write *), struct remote_write *w)
{
    double end = clock_monotonic() + secs;
    while (!cond(w) && clock_monotonic() < end)
        usleep(20000);
}

static struct rw_endpoint_stats stats_of(struct remote_write *w)
{
    struct remote_write_stats st;
    remote_write_stats(w, &st);
    assert_int_equal(st.n, 1);
    struct rw_endpoint_stats e = st.endpoints[0];
    remote_write_stats_free(&st);
    return e;
}

/* One endpoint at url, snapshots every 50 ms, a queue of queue_max. */
struct writer_fixture {
    struct rw_endpoint_config ep;
    struct rw_config c;
    struct store s;
    struct merge_opts m;
    struct remote_write *w;
};

static void writer_start(struct writer_fixture *f, const char *url, size_t queue_max)
{
    memset(f, 0, sizeof *f);
    f->ep.url = url;
    rw_config_init(&f->c);
    f->c.endpoints = &f->ep;
    f->c.n_endpoints = 1;
    f->c.interval = 0.05;
    f->c.timeout = 60;              /* beyond the test: only stop may end a silent request */
    f->c.queue_max = queue_max;
    store_init(&f->s, 60, 10);
    char err[256];
    f->w = remote_write_start(&f->c, &f->s, &f->m, err, sizeof err);
    if (!f->w)
        fail_msg("remote_write_start: %s", err);
}

/* Stops the writer; fails when that takes longer than a second. */
static void writer_stop(struct writer_fixture *f)
{
    double t0 = clock_monotonic();
    remote_write_stop(f->w);
    double took = clock_monotonic() - t0;
    if (took > 1.0)
        fail_msg("remote_write_stop took %.2f s", took);
    store_free(&f->s);
}

static bool dropped_some(struct remote_write *w)
{
    return stats_of(w).samples_dropped >= 3;
}

/* A receiver that never answers: one request stays in flight, the queue
 * stays at its bound and the oldest batches are dropped and counted; stop
 * aborts the request at once; user:password never reaches the url label. */
static void t_writer_silent_receiver(void **state)
{
    (void)state;
    unsigned port;
    int srv = silent_server(&port);
    char url[128], label[128];
    snprintf(url, sizeof url, "http://user:secret@127.0.0.1:%u/api/v1/write", port);
    snprintf(label, sizeof label, "http://127.0.0.1:%u/api/v1/write", port);
    struct writer_fixture f;
    writer_start(&f, url, 2);
    wait_for(10, dropped_some, f.w);
    struct rw_endpoint_stats e = stats_of(f.w);
    assert_true(e.samples_dropped >= 3);
    assert_int_equal(e.queue_batches, 2);
    assert_int_equal(e.samples_sent, 0);
    assert_int_equal(e.n_codes, 0);           /* no request has ended */
    assert_int_equal(e.retries, 0);
    assert_string_equal(e.url, label);
    writer_stop(&f);
    close(srv);
}

static bool retried_some(struct remote_write *w)
{
    return stats_of(w).retries >= 3;
}

/* Nobody listens: every attempt fails at once, so only the backoff (100 ms
 * doubling, drawn from its upper half) spaces them: a handful of attempts
 * in half a second, not thousands. */
static void t_writer_refused_backs_off(void **state)
{
    (void)state;
    unsigned port;
    int tmp = silent_server(&port);
    close(tmp);                       /* the port is now (almost certainly) closed */
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/write", port);
    struct writer_fixture f;
    writer_start(&f, url, 1000);
    double t0 = clock_monotonic();
    wait_for(10, retried_some, f.w);
    double took = clock_monotonic() - t0;
    usleep(300000);
    struct rw_endpoint_stats e = stats_of(f.w);
    /* the third failure comes after waits of 0.05-0.1 and 0.1-0.2 s */
    if (took < 0.15)
        fail_msg("3 retries after %.3f s: no backoff", took);
    if (e.retries > 6)
        fail_msg("%llu retries within %.2f s", (unsigned long long)e.retries, took + 0.3);
    assert_int_equal(e.n_codes, 1);
    assert_int_equal(e.codes[0].code, 0);
    assert_int_equal(e.codes[0].requests, e.retries);
    assert_int_equal(e.samples_sent + e.samples_failed + e.samples_dropped, 0);
    assert_true(e.queue_batches >= 5);        /* snapshots keep coming every 50 ms */
    writer_stop(&f);
}

int main(void)
{
    if (!rw_http_global_init())
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_parse_escapes_and_values), cmocka_unit_test(t_parse_sorting_and_external),
        cmocka_unit_test(t_parse_bad_lines), cmocka_unit_test(t_batches_round_trip),
        cmocka_unit_test(t_special_values_round_trip), cmocka_unit_test(t_flags), cmocka_unit_test(t_backoff),
        cmocka_unit_test(t_self_metrics_exposition), cmocka_unit_test(t_writer_silent_receiver),
        cmocka_unit_test(t_writer_refused_backs_off),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    rw_http_global_cleanup();
    return rc;
}
