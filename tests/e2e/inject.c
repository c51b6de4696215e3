/* inject.c — e2e test tool: pushes crafted messages into a pvescope
 * aggregator's ingest socket, one message per run.
 *
 *   inject garbage        URL [BYTES]      bytes that are not an Envelope (decode)
 *   inject oversize       URL BYTES        random bytes of that size (oversize, or a cut
 *                                          connection above nanomsg's hard limit)
 *   inject sealed         URL SEAL-OPTS    a valid sealed Report for --node
 *   inject wrong-version  URL SEAL-OPTS    valid, but the envelope version is not ours (version)
 *   inject sealed-garbage URL SEAL-OPTS    authenticated, but the plaintext is not a Report (decode)
 *   inject invalid-report URL SEAL-OPTS    the Report names another node than the header (invalid_report)
 *   inject limits         URL SEAL-OPTS [--disks N]  a Report with N disks (default 4097: limits)
 *   inject raw            URL FILE         the bytes of FILE (e.g. an envelope saved with --save)
 *   inject relay          LISTEN URL --key-file F
 *                                          runs until SIGTERM: receives an agent's envelopes on
 *                                          LISTEN, adds NVMe SMART/health and LVM thin pool
 *                                          readings to each report (relay_hardware below), and
 *                                          forwards it, re-sealed with the same header, to URL
 *
 * SEAL-OPTS: --key-file F --cluster C --node N --seq S [--sent-ms T | --sent-offset-ms D]
 *            [--boot-id B] [--mem-total BYTES] [--save FILE (write the envelope sent)]
 * Common:    [--timeout-ms 5000] [--linger-ms 300] [--expect-cut MS]
 *
 * --expect-cut MS: after the send, wait up to MS for the aggregator to cut the
 * connection (nanomsg's hard size limit); exit 0 only if it did. Reconnection
 * is disabled for the run so the cut stays visible as one broken connection.
 *
 * The send is blocking with NN_SNDTIMEO: the tool exits 1 unless the transport
 * took the message within the timeout. nanomsg 1.1.5 does not implement
 * NN_LINGER (nn_close may drop what is still queued), so the tool waits
 * --linger-ms after a successful send before closing. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <nanomsg/nn.h>
#include <nanomsg/pipeline.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "pvescope.pb-c.h"
#include "seal.h"

struct opts {
    const char *key_file, *cluster, *node, *boot_id, *save;
    uint64_t seq;
    bool has_seq;
    int64_t sent_ms;
    bool has_sent_ms;
    int64_t sent_offset_ms;
    uint64_t mem_total;
    uint64_t disks;
    int timeout_ms, linger_ms, expect_cut_ms;
};

static void usage(FILE *out)
{
    fputs("usage: inject KIND URL [ARGS] [OPTIONS]\n"
          "  garbage URL [BYTES] | oversize URL BYTES\n"
          "  sealed | wrong-version | sealed-garbage | invalid-report | limits  URL\n"
          "      --key-file F --cluster C --node N --seq S [--sent-ms T | --sent-offset-ms D]\n"
          "      [--boot-id B] [--mem-total BYTES] [--disks N (limits)] [--save FILE]\n"
          "  raw URL FILE\n"
          "  relay LISTEN URL --key-file F\n"
          "  common: [--timeout-ms 5000] [--linger-ms 300] [--expect-cut MS]\n", out);
}

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "inject: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(2);
}

static uint64_t parse_u64(const char *flag, const char *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || end == v || *end || v[0] == '-')
        die("bad number for %s", flag);
    return (uint64_t)x;
}

static int64_t parse_i64(const char *flag, const char *v)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end)
        die("bad number for %s", flag);
    return (int64_t)x;
}

static int64_t now_unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Parses "--name value" / "--name=value" options from argv[first..]. */
static void parse_opts(int argc, char **argv, int first, struct opts *o)
{
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0)
            die("unexpected argument %s", a);
        char name[64];
        const char *v;
        const char *eq = strchr(a, '=');
        if (eq) {
            size_t n = (size_t)(eq - a);
            if (n >= sizeof name)
                die("bad option %s", a);
            memcpy(name, a, n);
            name[n] = '\0';
            v = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", a);
            if (i + 1 >= argc)
                die("missing value for %s", a);
            v = argv[++i];
        }
        if (strcmp(name, "--key-file") == 0)
            o->key_file = v;
        else if (strcmp(name, "--cluster") == 0)
            o->cluster = v;
        else if (strcmp(name, "--node") == 0)
            o->node = v;
        else if (strcmp(name, "--boot-id") == 0)
            o->boot_id = v;
        else if (strcmp(name, "--save") == 0)
            o->save = v;
        else if (strcmp(name, "--seq") == 0) {
            o->seq = parse_u64(name, v);
            o->has_seq = true;
        } else if (strcmp(name, "--sent-ms") == 0) {
            o->sent_ms = parse_i64(name, v);
            o->has_sent_ms = true;
        } else if (strcmp(name, "--sent-offset-ms") == 0)
            o->sent_offset_ms = parse_i64(name, v);
        else if (strcmp(name, "--mem-total") == 0)
            o->mem_total = parse_u64(name, v);
        else if (strcmp(name, "--disks") == 0)
            o->disks = parse_u64(name, v);
        else if (strcmp(name, "--timeout-ms") == 0)
            o->timeout_ms = (int)parse_u64(name, v);
        else if (strcmp(name, "--linger-ms") == 0)
            o->linger_ms = (int)parse_u64(name, v);
        else if (strcmp(name, "--expect-cut") == 0)
            o->expect_cut_ms = (int)parse_u64(name, v);
        else
            die("unknown option %s", name);
    }
}

/* Random bytes that can never decode as a protobuf message: the first byte is
 * a tag with wire type 7, which does not exist. */
static void fill_garbage(struct buf *b, size_t n)
{
    buf_reserve(b, n);
    randombytes_buf(b->data, n);
    if (n > 0)
        b->data[0] = 0x0f;
    b->len = n;
}

static bool ipv4_literal_url(const char *url)
{
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    const char *colon = strrchr(host, ':');
    size_t n = colon ? (size_t)(colon - host) : strlen(host);
    char tmp[INET_ADDRSTRLEN];
    if (n == 0 || n >= sizeof tmp)
        return false;
    memcpy(tmp, host, n);
    tmp[n] = '\0';
    struct in_addr a;
    return inet_pton(AF_INET, tmp, &a) == 1;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int push(const char *url, const void *msg, size_t len, const struct opts *o)
{
    int sock = nn_socket(AF_SP, NN_PUSH);
    if (sock < 0) {
        fprintf(stderr, "inject: nn_socket: %s\n", nn_strerror(nn_errno()));
        return 1;
    }
    int zero = 0, tmo = o->timeout_ms, no_reconnect = 3600 * 1000;
    /* IPv6 only where needed: nanomsg 1.1.5 asserts on IPv4 literals with
     * NN_IPV4ONLY=0 (see agent/sender.c). */
    if ((!ipv4_literal_url(url) && nn_setsockopt(sock, NN_SOL_SOCKET, NN_IPV4ONLY, &zero, sizeof zero) < 0) ||
        nn_setsockopt(sock, NN_SOL_SOCKET, NN_SNDTIMEO, &tmo, sizeof tmo) < 0 ||
        (o->expect_cut_ms &&
         (nn_setsockopt(sock, NN_SOL_SOCKET, NN_RECONNECT_IVL, &no_reconnect, sizeof no_reconnect) < 0 ||
          nn_setsockopt(sock, NN_SOL_SOCKET, NN_RECONNECT_IVL_MAX, &no_reconnect, sizeof no_reconnect) < 0)) ||
        nn_connect(sock, url) < 0) {
        fprintf(stderr, "inject: %s: %s\n", url, nn_strerror(nn_errno()));
        nn_close(sock);
        return 1;
    }
    int rc = nn_send(sock, msg, len, 0);
    if (rc < 0 || (size_t)rc != len) {
        fprintf(stderr, "inject: send of %zu bytes to %s not accepted within %d ms: %s\n", len, url,
                o->timeout_ms, rc < 0 ? nn_strerror(nn_errno()) : "short send");
        nn_close(sock);
        return 1;
    }
    if (o->expect_cut_ms) {
        for (int waited = 0; nn_get_statistic(sock, NN_STAT_BROKEN_CONNECTIONS) == 0; waited += 10) {
            if (waited >= o->expect_cut_ms) {
                fprintf(stderr, "inject: the connection was not cut within %d ms\n", o->expect_cut_ms);
                nn_close(sock);
                return 1;
            }
            sleep_ms(10);
        }
        fprintf(stderr, "inject: the peer cut the connection after the send\n");
    }
    sleep_ms(o->linger_ms);
    nn_close(sock);
    return 0;
}

/* Builds the packed Report for the sealed kinds into out. */
static void build_report(const char *kind, const struct opts *o, struct buf *out)
{
    if (strcmp(kind, "sealed-garbage") == 0) {
        fill_garbage(out, 64);
        return;
    }
    Pvescope__Report r = PVESCOPE__REPORT__INIT;
    Pvescope__Host host = PVESCOPE__HOST__INIT;
    Pvescope__Memory mem = PVESCOPE__MEMORY__INIT;
    mem.has_total = true;
    mem.total = o->mem_total;
    host.memory = &mem;
    if (o->boot_id && *o->boot_id)
        host.boot_id = (char *)o->boot_id;
    r.host = &host;
    r.has_collected_unix_ms = true;
    r.collected_unix_ms = now_unix_ms();
    struct buf other = BUF_INIT;
    if (strcmp(kind, "invalid-report") == 0) {
        buf_puts(&other, o->node);
        buf_puts(&other, "-other");
        r.node = other.data;
    } else {
        r.node = (char *)o->node;
    }
    Pvescope__Disk *disks = NULL;
    Pvescope__Disk **disk_ptrs = NULL;
    char (*names)[24] = NULL;
    if (strcmp(kind, "limits") == 0) {
        size_t n = (size_t)o->disks;
        disks = calloc(n ? n : 1, sizeof *disks);
        disk_ptrs = calloc(n ? n : 1, sizeof *disk_ptrs);
        names = calloc(n ? n : 1, sizeof *names);
        if (!disks || !disk_ptrs || !names)
            abort();
        for (size_t i = 0; i < n; i++) {
            pvescope__disk__init(&disks[i]);
            snprintf(names[i], sizeof names[i], "d%zu", i);   /* small: ~9 bytes a disk */
            disks[i].name = names[i];
            disk_ptrs[i] = &disks[i];
        }
        r.n_disks = n;
        r.disks = disk_ptrs;
    }
    size_t len = pvescope__report__get_packed_size(&r);
    buf_reserve(out, len);
    out->len = pvescope__report__pack(&r, (uint8_t *)out->data);
    free(disks);
    free(disk_ptrs);
    free(names);
    buf_free(&other);
}

static int run_sealed(const char *kind, const char *url, const struct opts *o)
{
    if (!o->key_file || !o->cluster || !o->node || !o->has_seq) {
        fprintf(stderr, "inject %s: --key-file, --cluster, --node and --seq are required\n", kind);
        return 2;
    }
    struct cluster_key key;
    char err[512];
    if (!key_load_file(o->key_file, &key, err, sizeof err)) {
        fprintf(stderr, "inject: %s\n", err);
        return 2;
    }
    struct buf report = BUF_INIT, env = BUF_INIT;
    build_report(kind, o, &report);
    struct envelope_header h = {
        .cluster = o->cluster,
        .node = o->node,
        .boot_id = o->boot_id ? o->boot_id : "",
        .seq = o->seq,
        .sent_unix_ms = o->has_sent_ms ? o->sent_ms : now_unix_ms() + o->sent_offset_ms,
    };
    envelope_seal(&key, &h, (const uint8_t *)report.data, report.len, &env);
    if (strcmp(kind, "wrong-version") == 0) {
        Pvescope__Envelope *e = pvescope__envelope__unpack(NULL, env.len, (const uint8_t *)env.data);
        if (!e) {
            fprintf(stderr, "inject: cannot re-read the envelope just sealed\n");
            return 1;
        }
        e->version = ENVELOPE_VERSION + 1;
        buf_reset(&env);
        size_t n = pvescope__envelope__get_packed_size(e);
        buf_reserve(&env, n);
        env.len = pvescope__envelope__pack(e, (uint8_t *)env.data);
        pvescope__envelope__free_unpacked(e, NULL);
    }
    int rc = 0;
    if (o->save) {
        FILE *f = fopen(o->save, "wb");
        bool ok = f && fwrite(env.data, 1, env.len, f) == env.len;
        if ((f && fclose(f) != 0) || !ok) {
            fprintf(stderr, "inject: cannot write %s: %s\n", o->save, strerror(errno));
            rc = 1;
        }
    }
    if (rc == 0)
        rc = push(url, env.data, env.len, o);
    if (rc == 0)
        fprintf(stderr, "inject: sent %s envelope of %zu bytes (report %zu bytes, cluster %s, seq %" PRIu64
                        ", sent %" PRId64 " ms) to %s\n",
                kind, env.len, report.len, o->cluster, o->seq, h.sent_unix_ms, url);
    sodium_memzero(&key, sizeof key);
    buf_free(&report);
    buf_free(&env);
    return rc;
}

/* ---- relay ------------------------------------------------------------------
 * The readings a fixture tree cannot give an agent: NVMe SMART/health (an
 * admin ioctl on /dev/nvmeN) and device-mapper thin pools (dm ioctls). Added
 * to every report that passes; counters grow with the report's sequence
 * number so rate() has something to show. Values (the e2e scripts that use
 * the relay assert them):
 *   every NVMe controller of the report (its sysfs identity is the agent's):
 *     SMART read (error cleared), 318 K (44.85 °C), WCTEMP 343 K, CCTEMP 358 K,
 *     spare 98 % (threshold 10 %), 3 % used, critical warning 0, data units
 *     read/written 1000·seq / 2000·seq, 17 power cycles, 1234 h
 *   thin pool pve/data (dm pve-data-tpool): 64 KiB blocks, 40 of 100 data
 *     blocks, 10 of 200 metadata blocks, rw, transaction 7; its thin volume
 *     pve/vm-100-disk-0 of 32 MiB with 1 MiB mapped. */
static volatile sig_atomic_t relay_stop;
static void relay_on_signal(int sig) { (void)sig; relay_stop = 1; }

static void relay_hardware(Pvescope__Report *r, uint64_t seq, struct buf *out)
{
    char *nvme_errors[64] = {0};   /* restored before the unpacked report is freed */
    for (size_t i = 0; i < r->n_nvme && i < 64; i++) {
        Pvescope__NvmeController *c = r->nvme[i];
        nvme_errors[i] = c->error;
        c->error = NULL;
#define SET(f, v) (c->has_##f = true, c->f = (v))
        SET(warning_temp_threshold_kelvin, 343);
        SET(critical_temp_threshold_kelvin, 358);
        SET(critical_warning, 0);
        SET(temperature_kelvin, 318);
        SET(available_spare_percent, 98);
        SET(available_spare_threshold_percent, 10);
        SET(percentage_used, 3);
        SET(data_units_read, 1000 * seq);
        SET(data_units_written, 2000 * seq);
        SET(host_read_commands, 50000 * seq);
        SET(host_write_commands, 80000 * seq);
        SET(controller_busy_minutes, 600);
        SET(power_cycles, 17);
        SET(power_on_hours, 1234);
        SET(unsafe_shutdowns, 2);
        SET(media_errors, 0);
        SET(error_log_entries, 0);
        SET(warning_temp_minutes, 0);
        SET(critical_temp_minutes, 0);
#undef SET
    }
    Pvescope__ThinPool pool = PVESCOPE__THIN_POOL__INIT;
    pool.dm_name = "pve-data-tpool";
    pool.vg = "pve";
    pool.lv = "data";
    pool.has_mode = true, pool.mode = PVESCOPE__THIN_POOL_MODE__THIN_POOL_RW;
    pool.has_transaction_id = true, pool.transaction_id = 7;
    pool.has_data_block_sectors = true, pool.data_block_sectors = 128;
    pool.has_data_used_blocks = true, pool.data_used_blocks = 40;
    pool.has_data_total_blocks = true, pool.data_total_blocks = 100;
    pool.has_metadata_used_blocks = true, pool.metadata_used_blocks = 10;
    pool.has_metadata_total_blocks = true, pool.metadata_total_blocks = 200;
    pool.has_needs_check = true, pool.needs_check = false;
    pool.has_error_if_no_space = true, pool.error_if_no_space = false;
    pool.discards = "discard_passdown";
    Pvescope__ThinVolume vol = PVESCOPE__THIN_VOLUME__INIT;
    vol.dm_name = "pve-vm--100--disk--0";
    vol.vg = "pve";
    vol.lv = "vm-100-disk-0";
    vol.pool_dm_name = "pve-data-tpool";
    vol.has_size_sectors = true, vol.size_sectors = 65536;
    vol.has_mapped_sectors = true, vol.mapped_sectors = 2048;
    Pvescope__ThinPool *pools[] = {&pool};
    Pvescope__ThinVolume *vols[] = {&vol};
    size_t n_pools = r->n_thin_pools, n_vols = r->n_thin_volumes;
    Pvescope__ThinPool **old_pools = r->thin_pools;
    Pvescope__ThinVolume **old_vols = r->thin_volumes;
    r->n_thin_pools = 1, r->thin_pools = pools;
    r->n_thin_volumes = 1, r->thin_volumes = vols;
    buf_reset(out);
    size_t len = pvescope__report__get_packed_size(r);
    buf_reserve(out, len);
    out->len = pvescope__report__pack(r, (uint8_t *)out->data);
    r->n_thin_pools = n_pools, r->thin_pools = old_pools;
    r->n_thin_volumes = n_vols, r->thin_volumes = old_vols;
    for (size_t i = 0; i < r->n_nvme && i < 64; i++)
        r->nvme[i]->error = nvme_errors[i];
}

static int run_relay(const char *listen, const char *url, const struct opts *o)
{
    if (!o->key_file) {
        fprintf(stderr, "inject relay: --key-file is required\n");
        return 2;
    }
    struct cluster_key key;
    char err[512];
    if (!key_load_file(o->key_file, &key, err, sizeof err)) {
        fprintf(stderr, "inject: %s\n", err);
        return 2;
    }
    struct sigaction sa = {.sa_handler = relay_on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    int in = nn_socket(AF_SP, NN_PULL), outs = nn_socket(AF_SP, NN_PUSH);
    int rcv_tmo = 200, snd_tmo = o->timeout_ms;
    if (in < 0 || outs < 0 || nn_setsockopt(in, NN_SOL_SOCKET, NN_RCVTIMEO, &rcv_tmo, sizeof rcv_tmo) < 0 ||
        nn_setsockopt(outs, NN_SOL_SOCKET, NN_SNDTIMEO, &snd_tmo, sizeof snd_tmo) < 0 ||
        nn_bind(in, listen) < 0 || nn_connect(outs, url) < 0) {
        fprintf(stderr, "inject relay: %s -> %s: %s\n", listen, url, nn_strerror(nn_errno()));
        return 1;
    }
    fprintf(stderr, "inject relay: %s -> %s\n", listen, url);
    struct buf plain = BUF_INIT, report = BUF_INIT, env = BUF_INIT;
    uint64_t relayed = 0;
    int rc = 0;
    while (!relay_stop) {
        void *msg = NULL;
        int n = nn_recv(in, &msg, NN_MSG, 0);
        if (n < 0) {
            if (nn_errno() == ETIMEDOUT || nn_errno() == EAGAIN || nn_errno() == EINTR)
                continue;
            fprintf(stderr, "inject relay: nn_recv: %s\n", nn_strerror(nn_errno()));
            rc = 1;
            break;
        }
        Pvescope__Envelope *e = pvescope__envelope__unpack(NULL, (size_t)n, msg);
        nn_freemsg(msg);
        Pvescope__Report *r = NULL;
        if (!e || !envelope_open(&key, e, &plain) ||
            !(r = pvescope__report__unpack(NULL, plain.len, (const uint8_t *)plain.data))) {
            fprintf(stderr, "inject relay: a message that is not a sealed report of this key\n");
            rc = 1;
            if (e)
                pvescope__envelope__free_unpacked(e, NULL);
            break;
        }
        relay_hardware(r, e->seq, &report);
        struct envelope_header h = {.cluster = e->cluster, .node = e->node,
                                    .boot_id = e->boot_id ? e->boot_id : "", .seq = e->seq,
                                    .sent_unix_ms = e->sent_unix_ms};
        buf_reset(&env);
        envelope_seal(&key, &h, (const uint8_t *)report.data, report.len, &env);
        pvescope__report__free_unpacked(r, NULL);
        pvescope__envelope__free_unpacked(e, NULL);
        if (nn_send(outs, env.data, env.len, 0) != (int)env.len) {
            fprintf(stderr, "inject relay: forward to %s: %s\n", url, nn_strerror(nn_errno()));
            rc = 1;
            break;
        }
        if (++relayed == 1)
            fprintf(stderr, "inject relay: first report forwarded (%zu bytes)\n", env.len);
    }
    fprintf(stderr, "inject relay: %" PRIu64 " reports forwarded\n", relayed);
    sodium_memzero(&key, sizeof key);
    buf_free(&plain);
    buf_free(&report);
    buf_free(&env);
    nn_close(in);
    nn_close(outs);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc < 3) {
        usage(stderr);
        return 2;
    }
    if (!seal_library_init()) {
        fprintf(stderr, "inject: libsodium failed to initialize\n");
        return 1;
    }
    const char *kind = argv[1], *url = argv[2];
    struct opts o = {.mem_total = 1073741824u, .disks = 4097, .timeout_ms = 5000, .linger_ms = 300};
    if (strcmp(kind, "garbage") == 0 || strcmp(kind, "oversize") == 0) {
        int first = 3;
        uint64_t n = 256;
        if (argc > 3 && strncmp(argv[3], "--", 2) != 0) {
            n = parse_u64("BYTES", argv[3]);
            first = 4;
        } else if (strcmp(kind, "oversize") == 0) {
            die("%s needs BYTES", kind);
        }
        parse_opts(argc, argv, first, &o);
        struct buf b = BUF_INIT;
        fill_garbage(&b, (size_t)n);
        int rc = push(url, b.data, b.len, &o);
        if (rc == 0)
            fprintf(stderr, "inject: sent %s of %zu bytes to %s\n", kind, b.len, url);
        buf_free(&b);
        return rc;
    }
    if (strcmp(kind, "raw") == 0) {
        if (argc < 4)
            die("%s needs FILE", kind);
        parse_opts(argc, argv, 4, &o);
        struct buf b = BUF_INIT;
        FILE *f = fopen(argv[3], "rb");
        if (!f)
            die("cannot open %s", argv[3]);
        char chunk[4096];
        size_t n;
        while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
            buf_append(&b, chunk, n);
        fclose(f);
        int rc = push(url, b.data ? b.data : "", b.len, &o);
        if (rc == 0)
            fprintf(stderr, "inject: sent %zu raw bytes of %s to %s\n", b.len, argv[3], url);
        buf_free(&b);
        return rc;
    }
    if (strcmp(kind, "relay") == 0) {
        if (argc < 4)
            die("%s needs LISTEN URL", kind);
        parse_opts(argc, argv, 4, &o);
        return run_relay(argv[2], argv[3], &o);
    }
    if (strcmp(kind, "sealed") == 0 || strcmp(kind, "wrong-version") == 0 ||
        strcmp(kind, "sealed-garbage") == 0 || strcmp(kind, "invalid-report") == 0 ||
        strcmp(kind, "limits") == 0) {
        parse_opts(argc, argv, 3, &o);
        return run_sealed(kind, url, &o);
    }
    usage(stderr);
    return 2;
}
