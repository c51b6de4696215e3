/* bench_aggregator.c — pvescope-bench-aggregator: the aggregator's ingest and
 * render paths in one process, on one core, over fleet_model.c's reports.
 *
 *   pvescope-bench-aggregator ingest [MODEL] [--reports 2000]
 *       pre-seals that many distinct reports (nodes in turn, each node's tick
 *       advancing), then times ingest_process() over them: envelope decode,
 *       AEAD open, replay check, Report decode, limits, render and the swap
 *       into the store (which frees the node's previous render). First one
 *       report per node goes in untimed, so every timed report replaces one.
 *   pvescope-bench-aggregator render [MODEL] [--reps 20]
 *       fills the store with one report per node, then times what one
 *       GET /metrics does before the socket (snapshot, merge, plan, and
 *       the copy into libmicrohttpd's blocks: http.c streams the body),
 *       a memcpy of the same number of bytes (the bound: a scrape cannot be
 *       cheaper than copying its output once), gzip of the output three
 *       ways (ISA-L streamed from the plan's pieces, as http.c does; zlib
 *       level 1 streamed the same way; libdeflate level 1 of the whole text,
 *       which /metrics did before), a whole gzip scrape, and
 *       what a remote_write snapshot of it costs (parse the text into series,
 *       encode WriteRequests of 10,000 samples, snappy);
 *       --dump FILE writes the scrape text.
 *
 * MODEL as pvescope-bench-fleet: --nodes 500 --guests 40
 * --cluster-sizes 10,20,30,40,50 [--guest-dm-disks] [--inventory-churn: every
 * report's inventory differs from the node's last, the worst case of
 * decode.h's reuse]. CPU time is the
 * thread's (CLOCK_THREAD_CPUTIME_ID); figures are medians. */
#include <errno.h>
#include <inttypes.h>
#include <libdeflate.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "clock.h"
#include "fleet_model.h"
#include "gzip.h"
#include "ingest.h"
#include "merge.h"
#include "rw_encode.h"
#include "seal.h"
#include "decode.h"
#include "store.h"

struct bench_opts {
    size_t reports, reps;
    const char *dump;               /* render: write the last scrape's text here */
};

static void die(const char *what, const char *arg)
{
    fprintf(stderr, "pvescope-bench-aggregator: %s%s\n", what, arg ? arg : "");
    exit(2);
}

static uint64_t num(const char *flag, const char *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || end == v || *end || v[0] == '-' || x == 0)
        die("bad number for ", flag);
    return x;
}

static void parse(int argc, char **argv, struct fleet_opts *m, struct bench_opts *b)
{
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--guest-dm-disks") == 0) {
            m->guest_dm_disks = true;
            continue;
        }
        if (strcmp(a, "--inventory-churn") == 0) {
            m->inventory_churn = true;
            continue;
        }
        if (i + 1 >= argc)
            die("missing value for ", a);
        const char *v = argv[++i];
        if (strcmp(a, "--nodes") == 0) m->nodes = num(a, v);
        else if (strcmp(a, "--guests") == 0) m->guests = num(a, v);
        else if (strcmp(a, "--cluster-sizes") == 0) { if (!fleet_parse_cluster_sizes(v, m)) die("bad --cluster-sizes ", v); }
        else if (strcmp(a, "--reports") == 0) b->reports = num(a, v);
        else if (strcmp(a, "--reps") == 0) b->reps = num(a, v);
        else if (strcmp(a, "--dump") == 0) b->dump = v;
        else die("unknown option ", a);
    }
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return v[n / 2];
}

/* The estate's key ring: every cluster under one random key. */
static void make_keyring(const struct fleet *f, struct cluster_key *key, struct keyring *kr)
{
    randombytes_buf(key->bytes, sizeof key->bytes);
    kr->entries = calloc(f->n_clusters, sizeof *kr->entries);
    if (!kr->entries)
        abort();
    for (size_t c = 0; c < f->n_clusters; c++) {
        snprintf(kr->entries[c].cluster, sizeof kr->entries[c].cluster, "%s", f->clusters[c].name);
        kr->entries[c].key = *key;
    }
    kr->len = f->n_clusters;
}

/* Node `node`'s sealed report at tick, into env (replacing it). */
static void seal(const struct fleet *f, const struct cluster_key *key, size_t node, uint64_t tick,
                 struct arena *a, struct buf *plain, struct buf *env)
{
    arena_reset(a);
    fleet_report_pack(f, node, tick, a, plain);
    char boot[48];
    snprintf(boot, sizeof boot, "6f1c2e4a-0000-4000-8000-%012zx", node);
    struct envelope_header h = {.cluster = f->clusters[f->nodes[node].cluster].name, .node = f->nodes[node].name,
                                .boot_id = boot, .seq = tick + 1, .sent_unix_ms = clock_unix_ms()};
    buf_reset(env);
    envelope_seal(key, &h, (const uint8_t *)plain->data, plain->len, env);
}

/* One report per node, untimed: the state every benchmark starts from. */
static void fill(struct ingest *ig, const struct fleet *f, const struct cluster_key *key)
{
    struct arena a;
    arena_init(&a, 1 << 20);
    struct buf plain = BUF_INIT, env = BUF_INIT;
    for (size_t n = 0; n < f->o.nodes; n++) {
        seal(f, key, n, 0, &a, &plain, &env);
        if (ingest_process(ig, (const uint8_t *)env.data, env.len, clock_monotonic(), clock_unix_ms()) != -1)
            die("a fleet report was rejected: see the log line above", NULL);
    }
    buf_free(&plain);
    buf_free(&env);
    arena_free(&a);
}

/* An aggregator's ingest and store, filled with one report per node. */
struct state {
    struct cluster_key key;
    struct keyring kr;
    struct store st;
    struct ingest ig;
};

static void state_open(struct state *w, const struct fleet *f)
{
    make_keyring(f, &w->key, &w->kr);
    store_init(&w->st, 60, 100000);
    ingest_init(&w->ig, &w->st, &w->kr, 16u << 20, 300);
    fill(&w->ig, f, &w->key);
}

static void state_close(struct state *w)
{
    ingest_close(&w->ig);
    store_free(&w->st);
    keyring_free(&w->kr);
}

static int bench_ingest(const struct fleet *f, const struct bench_opts *b)
{
    struct state w;
    state_open(&w, f);
    struct buf *envs = calloc(b->reports, sizeof *envs);
    struct arena a;
    arena_init(&a, 1 << 20);
    struct buf plain = BUF_INIT;
    size_t bytes = 0, plain_bytes = 0;
    for (size_t i = 0; envs && i < b->reports; i++) {
        seal(f, &w.key, i % f->o.nodes, 1 + i / f->o.nodes, &a, &plain, &envs[i]);
        bytes += envs[i].len;
        plain_bytes += plain.len;
    }
    if (!envs)
        abort();
    double w0 = clock_monotonic(), c0 = cpu_now();
    size_t rejected = 0;
    for (size_t i = 0; i < b->reports; i++)
        rejected += ingest_process(&w.ig, (const uint8_t *)envs[i].data, envs[i].len, clock_monotonic(),
                                   clock_unix_ms()) != -1;
    double cpu = cpu_now() - c0, wall = clock_monotonic() - w0;
    printf("ingest: %zu reports of %zu guests (%zu nodes), %.1f KiB sealed on average (report %.1f KiB)\n",
           b->reports, f->o.guests, f->o.nodes, (double)bytes / (double)b->reports / 1024,
           (double)plain_bytes / (double)b->reports / 1024);
    printf("ingest: %.1f us CPU per report, %.0f reports/s on one core (wall %.0f reports/s), %zu rejected\n",
           cpu / (double)b->reports * 1e6, (double)b->reports / cpu, (double)b->reports / wall, rejected);
    for (size_t i = 0; i < b->reports; i++)
        buf_free(&envs[i]);
    free(envs);
    buf_free(&plain);
    arena_free(&a);
    state_close(&w);
    return rejected ? 1 : 0;
}

/* A line of /proc/self/status, in MiB (VmRSS, VmHWM). */
static double status_mib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double v = -1;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, n) == 0 && line[n] == ':')
            v = strtod(line + n + 1, NULL) / 1024;
    if (f)
        fclose(f);
    return v;
}

static size_t count_series(const struct buf *b)
{
    size_t n = 0;
    for (const char *p = b->data, *end = b->data + b->len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        n += *p != '#';
        p = nl ? nl + 1 : end;
    }
    return n;
}

/* Where the state's memory is: decoded reports and rendered text, in MB. */
static void state_bytes(const struct store *st)
{
    double decoded = 0, text = 0;
    for (size_t i = 0; i < st->n; i++) {
        const struct node_render *nr = st->nodes[i].render;
        decoded += (double)decoded_report_bytes(nr->report);
        text += (double)nr->text.len + (nr->home_guests ? (double)nr->home_guests->text.len : 0) +
                (nr->home_guests && nr->home_guests->config_part ? (double)nr->home_guests->config_part->text.len : 0);
    }
    printf("render: state: decoded reports %.0f MB, rendered text %.0f MB\n", decoded / 1e6, text / 1e6);
}

#define STREAM_BLOCK (128u << 10)       /* as aggregator/http.c */

/* One scrape's snapshot, merge and plan, held while the plan is read. */
struct held_plan {
    struct store_snapshot snap;
    struct node_render **merged;
    size_t n_merged;
    struct expo_plan plan;
};

static void plan_open(struct held_plan *hp, struct store *st, const struct merge_opts *mo)
{
    store_snapshot(st, clock_monotonic(), &hp->snap);
    struct scrape_input in = hp->snap.in;
    hp->n_merged = merge_all(&in, mo, &hp->merged);
    in.merged = hp->merged;
    in.n_merged = hp->n_merged;
    hp->plan = (struct expo_plan)EXPO_PLAN_INIT;
    expo_plan_build(&hp->plan, &in);
}

static void plan_close(struct held_plan *hp)
{
    expo_plan_free(&hp->plan);
    merge_free(hp->merged, hp->n_merged);
    store_snapshot_release(&hp->snap);
}

/* What GET /metrics costs before the socket: snapshot, merge, plan, and
 * copying the plan into libmicrohttpd-sized blocks (http.c streams it).
 * When text is not NULL the body is also collected there. */
static size_t one_scrape(struct store *st, const struct merge_opts *mo, char *block, struct buf *text)
{
    struct held_plan hp;
    plan_open(&hp, st, mo);
    struct expo_cursor cur = {0, 0};
    size_t pos = 0, n;
    while ((n = expo_plan_read(&hp.plan, &cur, pos, block, STREAM_BLOCK)) > 0) {
        if (text)
            buf_append(text, block, n);
        pos += n;
    }
    plan_close(&hp);
    return pos;
}

/* What a gzip GET /metrics costs before the socket (http.c respond_gzip):
 * snapshot, merge, plan and the streamed compression into z. */
static void one_gzip_scrape(struct store *st, const struct merge_opts *mo, struct gzip_deflater *d, struct buf *z)
{
    struct held_plan hp;
    plan_open(&hp, st, mo);
    if (!gzip_plan(d, &hp.plan, z))
        die("gzip_plan failed", NULL);
    plan_close(&hp);
}

/* zlib level 1 streamed from the plan's pieces (the alternative to ISA-L):
 * the compressed size, or 0 on an error. */
static size_t zlib_plan(const struct expo_plan *plan, struct buf *z)
{
    z_stream s;
    memset(&s, 0, sizeof s);
    if (deflateInit2(&s, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return 0;
    buf_reset(z);
    buf_reserve(z, deflateBound(&s, plan->total));
    s.next_out = (Bytef *)z->data;
    s.avail_out = (uInt)(z->cap - 1);
    int rc = Z_OK;
    for (size_t i = 0; i < plan->n && rc == Z_OK; i++) {
        s.next_in = (Bytef *)expo_piece_text(plan, &plan->pieces[i]);
        s.avail_in = (uInt)plan->pieces[i].len;
        rc = deflate(&s, Z_NO_FLUSH);
    }
    if (rc == Z_OK)
        rc = deflate(&s, Z_FINISH);
    size_t out = rc == Z_STREAM_END ? s.total_out : 0;
    deflateEnd(&s);
    return out;
}

/* Medians of up to 5 runs of the three compressions (ms CPU, bytes out). */
struct gzip_figures {
    double isal_ms, zlib_ms, libdeflate_ms, scrape_ms;
    size_t isal_out, zlib_out, libdeflate_out, pieces;
};

static void bench_gzip(struct store *st, const struct merge_opts *mo, const struct buf *text, size_t reps,
                       struct gzip_figures *g)
{
    double t[4][5];
    size_t n = reps < 5 ? reps : 5;
    struct gzip_deflater *d = gzip_deflater_new();
    struct libdeflate_compressor *ld = libdeflate_alloc_compressor(1);
    if (!ld)
        abort();
    struct buf z = BUF_INIT;
    struct held_plan hp;
    plan_open(&hp, st, mo);
    g->pieces = hp.plan.n;
    for (size_t r = 0; r < n; r++) {
        double c0 = cpu_now();
        if (!gzip_plan(d, &hp.plan, &z))
            die("gzip_plan failed", NULL);
        double c1 = cpu_now();
        g->isal_out = z.len;
        g->zlib_out = zlib_plan(&hp.plan, &z);
        double c2 = cpu_now();
        buf_reset(&z);
        buf_reserve(&z, libdeflate_gzip_compress_bound(ld, text->len));
        g->libdeflate_out = libdeflate_gzip_compress(ld, text->data, text->len, z.data, z.cap);
        double c3 = cpu_now();
        t[0][r] = c1 - c0;
        t[1][r] = c2 - c1;
        t[2][r] = c3 - c2;
    }
    plan_close(&hp);
    for (size_t r = 0; r < n; r++) {
        double c0 = cpu_now();
        one_gzip_scrape(st, mo, d, &z);
        t[3][r] = cpu_now() - c0;
    }
    g->isal_ms = median(t[0], n) * 1e3;
    g->zlib_ms = median(t[1], n) * 1e3;
    g->libdeflate_ms = median(t[2], n) * 1e3;
    g->scrape_ms = median(t[3], n) * 1e3;
    buf_free(&z);
    libdeflate_free_compressor(ld);
    gzip_deflater_free(d);
}

static void print_gzip(const struct gzip_figures *g, size_t len)
{
    double mb = (double)len / 1e6;
    printf("render: gzip streamed from the plan's %zu pieces (ISA-L level 1, as /metrics) %.1f ms CPU, "
           "%.1f MB -> %.2f MB (%.1fx)\n", g->pieces, g->isal_ms, mb, (double)g->isal_out / 1e6,
           (double)len / (double)g->isal_out);
    printf("render: gzip of the whole text (libdeflate level 1, before) %.1f ms CPU, %.1f MB -> %.2f MB (%.1fx)\n",
           g->libdeflate_ms, mb, (double)g->libdeflate_out / 1e6, (double)len / (double)g->libdeflate_out);
    printf("render: gzip streamed from the plan's pieces (zlib level 1) %.1f ms CPU, %.1f MB -> %.2f MB (%.1fx)\n",
           g->zlib_ms, mb, (double)g->zlib_out / 1e6, (double)len / (double)g->zlib_out);
    printf("render: gzip scrape (snapshot + merge + plan + ISA-L) %.1f ms CPU\n", g->scrape_ms);
}

/* remote_write's cost per snapshot (remote_write.c does the same on its own
 * thread): parse the exposition text into series, then encode and compress
 * batches of RW_BATCH samples. Prints CPU and the compressed size. */
#define RW_BATCH 10000
static void bench_remote_write(const struct buf *text)
{
    char *copy = malloc(text->len + 1);
    if (!copy)
        abort();
    memcpy(copy, text->data, text->len);
    copy[text->len] = '\0';
    struct rw_label ext[] = {{"cluster", "bench"}, {"replica", "a"}};
    double c0 = cpu_now();
    struct rw_series_set set;
    memset(&set, 0, sizeof set);
    rw_series_parse(&set, copy, ext, 2);
    double c1 = cpu_now();
    struct rw_batch **batches;
    size_t n = rw_encode_all(&set, RW_BATCH, 1763700000000LL, &batches);
    double c2 = cpu_now();
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        bytes += batches[i]->len;
        rw_batch_unref(batches[i]);
    }
    free(batches);
    printf("remote_write: a snapshot of %zu series: parse %.1f ms CPU, encode + snappy %.1f ms CPU into %zu "
           "requests, %.2f MB; peak RSS now %.0f MiB\n", set.n, (c1 - c0) * 1e3, (c2 - c1) * 1e3, n,
           (double)bytes / 1e6, status_mib("VmHWM"));
    rw_series_free(&set);
}

static int bench_render(const struct fleet *f, const struct bench_opts *b)
{
    struct state w;
    state_open(&w, f);
    double rss_state = status_mib("VmRSS");
    state_bytes(&w.st);
    struct merge_opts mo = {0};
    double *scrape = calloc(b->reps, sizeof *scrape), *copy = calloc(b->reps, sizeof *copy);
    if (!scrape || !copy)
        abort();
    struct buf out = BUF_INIT;
    char *block = malloc(STREAM_BLOCK);
    if (!block)
        abort();
    size_t len = one_scrape(&w.st, &mo, block, &out);   /* warm, and the text for the rest */
    size_t series = count_series(&out);
    for (size_t r = 0; r < b->reps; r++) {
        double c0 = cpu_now();
        one_scrape(&w.st, &mo, block, NULL);
        scrape[r] = cpu_now() - c0;
    }
    double hwm_plain = status_mib("VmHWM");
    struct gzip_figures gz = {0};
    bench_gzip(&w.st, &mo, &out, b->reps, &gz);
    free(block);
    FILE *dump = b->dump ? fopen(b->dump, "w") : NULL;
    if (b->dump && (!dump || fwrite(out.data, 1, out.len, dump) != out.len || fclose(dump) != 0))
        die("cannot write ", b->dump);
    char *dst = malloc(len + 1);
    if (!dst)
        abort();
    memset(dst, 1, len + 1);           /* pages faulted in: the bound is the copy alone */
    for (size_t r = 0; r < b->reps; r++) {
        double c0 = cpu_now();
        memcpy(dst, out.data, len);
        copy[r] = cpu_now() - c0;
        __asm__ volatile("" : : "r"(dst) : "memory");
    }
    double s = median(scrape, b->reps), c = median(copy, b->reps);
    printf("render: %zu nodes x %zu guests in %zu clusters: %zu series, %.1f MB of text\n", f->o.nodes,
           f->o.guests, f->n_clusters, series, (double)len / 1e6);
    printf("render: scrape (snapshot + merge + plan + copy out in 128 KiB blocks) %.2f ms CPU, %.3f ns/byte; "
           "memcpy of the same bytes "
           "%.2f ms, %.3f ns/byte; ratio %.1fx\n", s * 1e3, s * 1e9 / (double)len, c * 1e3,
           c * 1e9 / (double)len, s / c);
    printf("render: RSS with the state alone %.0f MiB, after the scrapes %.0f MiB (peak %.0f MiB)\n", rss_state,
           status_mib("VmRSS"), status_mib("VmHWM"));
    printf("render: peak RSS after the plain scrapes %.0f MiB (the collected text included)\n", hwm_plain);
    print_gzip(&gz, len);
    bench_remote_write(&out);
    free(dst);
    free(scrape);
    free(copy);
    buf_free(&out);
    state_close(&w);
    return 0;
}

int main(int argc, char **argv)
{
    ingest_tune_malloc();      /* as the aggregator does */
    if (argc < 2 || (strcmp(argv[1], "ingest") != 0 && strcmp(argv[1], "render") != 0)) {
        fputs("usage: pvescope-bench-aggregator ingest|render [--nodes 500 --guests 40 --cluster-sizes "
              "10,20,30,40,50 --guest-dm-disks --inventory-churn] [--reports 2000] [--reps 20]\n", stderr);
        return 2;
    }
    struct fleet_opts m = {.nodes = 500, .guests = 40};
    fleet_parse_cluster_sizes("10,20,30,40,50", &m);
    struct bench_opts b = {.reports = 2000, .reps = 20};
    parse(argc, argv, &m, &b);
    if (!seal_library_init())
        die("libsodium failed to initialize", NULL);
    struct fleet f;
    fleet_init(&f, &m);
    int rc = strcmp(argv[1], "ingest") == 0 ? bench_ingest(&f, &b) : bench_render(&f, &b);
    fleet_free(&f);
    return rc;
}
