/* render.c — see render.h. */
#include "render.h"

#include "decode.h"
#include "merge.h"
#include "numfmt.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct node_render *node_render_new(void)
{
    struct node_render *nr = calloc(1, sizeof *nr);
    if (!nr)
        abort();
    atomic_init(&nr->refs, 1);
    return nr;
}

struct buf nr_scratch(struct node_render *nr)
{
    struct buf b = nr->scratch;
    nr->scratch = (struct buf)BUF_INIT;
    buf_reset(&b);
    return b;
}

void nr_scratch_keep(struct node_render *nr, struct buf *b)
{
    buf_free(&nr->scratch);
    nr->scratch = *b;
    *b = (struct buf)BUF_INIT;
}

void nr_begin(struct node_render *nr, enum family_id f) { nr->start[f] = (uint32_t)nr->text.len; }

void nr_end(struct node_render *nr, enum family_id f)
{
    nr->len[f] = (uint32_t)(nr->text.len - nr->start[f]);
}

/* memcpy of the short strings of a line, inline: for 20-80 bytes a libc
 * call costs as much as the copy. Fixed-size memcpy compiles to moves. */
static inline char *put_bytes(char *p, const char *s, size_t n)
{
    if (n >= 16) {
        for (size_t i = 0; i + 16 <= n; i += 16)
            memcpy(p + i, s + i, 16);
        memcpy(p + n - 16, s + n - 16, 16);
    } else if (n >= 8) {
        memcpy(p, s, 8);
        memcpy(p + n - 8, s + n - 8, 8);
    } else if (n >= 4) {
        memcpy(p, s, 4);
        memcpy(p + n - 4, s + n - 4, 4);
    } else {
        for (size_t i = 0; i < n; i++)
            p[i] = s[i];
    }
    return p + n;
}

/* Writes `name{labels[,extra]} ` with room for the value and newline after
 * it, and returns where the value goes: one reserve and no libc call a
 * line, since a report renders about 2,000 of them on the ingest path. */
static char *sample_head(struct node_render *nr, enum family_id f, const char *labels, size_t nl,
                         const char *extra, size_t ne)
{
    const struct family_desc *fd = &family_table[f];
    buf_reserve(&nr->text, fd->name_len + nl + ne + 4 + NUMFMT_MAX + 1);
    char *p = put_bytes(nr->text.data + nr->text.len, fd->name, fd->name_len);
    *p++ = '{';
    p = put_bytes(p, labels, nl);
    if (ne) {
        *p++ = ',';
        p = put_bytes(p, extra, ne);
    }
    *p++ = '}';
    *p++ = ' ';
    return p;
}

static void sample_end(struct node_render *nr, char *p)
{
    *p++ = '\n';
    *p = '\0';
    nr->text.len = (size_t)(p - nr->text.data);
}

void nr_sample_n(struct node_render *nr, enum family_id f, const char *labels, size_t nl, const char *extra,
                 size_t ne, double v)
{
    sample_end(nr, numfmt_double(sample_head(nr, f, labels, nl, extra, ne), v));
}

void nr_sample_u64_n(struct node_render *nr, enum family_id f, const char *labels, size_t nl,
                     const char *extra, size_t ne, uint64_t v)
{
    sample_end(nr, numfmt_u64(sample_head(nr, f, labels, nl, extra, ne), v));
}

void nr_sample_micro_n(struct node_render *nr, enum family_id f, const char *labels, size_t nl,
                       const char *extra, size_t ne, uint64_t micro)
{
    sample_end(nr, numfmt_micro(sample_head(nr, f, labels, nl, extra, ne), micro));
}

void nr_state_set(struct node_render *nr, enum family_id f, const char *labels, size_t nl,
                  const char *const *pairs, size_t n, int current)
{
    size_t prefix = family_table[f].name_len + nl + 2, room = 0;     /* `name{labels,` */
    for (size_t i = 0; i < n; i++)
        room += prefix + strlen(pairs[i]) + 5;
    buf_reserve(&nr->text, room + NUMFMT_MAX + 4);   /* sample_head's own reserve then never moves it */
    size_t first = nr->text.len;
    for (size_t i = 0; i < n; i++) {
        size_t np = strlen(pairs[i]);
        char *p;
        if (i == 0) {
            p = sample_head(nr, f, labels, nl, pairs[0], np);
        } else {                              /* the first line's prefix, copied */
            p = put_bytes(nr->text.data + nr->text.len, nr->text.data + first, prefix);
            p = put_bytes(p, pairs[i], np);
            *p++ = '}';
            *p++ = ' ';
        }
        *p++ = (int)i == current ? '1' : '0';
        sample_end(nr, p);
    }
}

static size_t labels_length(const struct node_render *nr, const char *labels)
{
    return labels == nr->node_labels ? nr->node_labels_len : strlen(labels);
}

void nr_sample(struct node_render *nr, enum family_id f, const char *labels, const char *extra, double v)
{
    nr_sample_n(nr, f, labels, labels_length(nr, labels), extra, extra ? strlen(extra) : 0, v);
}

void nr_sample_u64(struct node_render *nr, enum family_id f, const char *labels, const char *extra,
                   uint64_t v)
{
    nr_sample_u64_n(nr, f, labels, labels_length(nr, labels), extra, extra ? strlen(extra) : 0, v);
}

/* One report's rendering: the node's labels and the family being written. */
struct render_ctx {
    struct node_render *nr;
    const char *labels;
    enum family_id open;
};

static void fam_open(struct render_ctx *c, enum family_id f)
{
    c->open = f;
    nr_begin(c->nr, f);
}

static void fam_close(struct render_ctx *c) { nr_end(c->nr, c->open); }

static void sample_f(struct render_ctx *c, const char *extra, double v)
{
    nr_sample(c->nr, c->open, c->labels, extra, v);
}

static void sample_u(struct render_ctx *c, const char *extra, uint64_t v)
{
    nr_sample_u64(c->nr, c->open, c->labels, extra, v);
}

/* One family with one sample, when the field is present. */
static void single_f(struct render_ctx *c, enum family_id f, bool has, double v)
{
    if (!has)
        return;
    fam_open(c, f);
    sample_f(c, NULL, v);
    fam_close(c);
}

static void single_u(struct render_ctx *c, enum family_id f, bool has, uint64_t v)
{
    if (!has)
        return;
    fam_open(c, f);
    sample_u(c, NULL, v);
    fam_close(c);
}

static void render_cpu(struct render_ctx *c, const Pvescope__Host *h)
{
    single_f(c, FAM_PVE_CPU_USAGE_RATIO, h->has_cpu_usage_ratio, h->cpu_usage_ratio);
    single_u(c, FAM_PVE_CPU_USAGE_LIMIT, h->has_cpu_count, h->cpu_count);
    const Pvescope__CpuTicks *t = h->cpu;
    if (!t || !h->has_user_hz || h->user_hz == 0)
        return;
    const struct { const char *mode; bool has; uint64_t v; } modes[] = {
        {"mode=\"user\"", t->has_user, t->user}, {"mode=\"nice\"", t->has_nice, t->nice},
        {"mode=\"system\"", t->has_system, t->system}, {"mode=\"idle\"", t->has_idle, t->idle},
        {"mode=\"iowait\"", t->has_iowait, t->iowait}, {"mode=\"irq\"", t->has_irq, t->irq},
        {"mode=\"softirq\"", t->has_softirq, t->softirq}, {"mode=\"steal\"", t->has_steal, t->steal},
    };
    double hz = h->user_hz;
    fam_open(c, FAM_NODE_CPU_SECONDS);
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (modes[i].has)
            sample_f(c, modes[i].mode, (double)modes[i].v / hz);
    fam_close(c);
    fam_open(c, FAM_NODE_CPU_GUEST_SECONDS);
    if (t->has_guest)
        sample_f(c, "mode=\"user\"", (double)t->guest / hz);
    if (t->has_guest_nice)
        sample_f(c, "mode=\"nice\"", (double)t->guest_nice / hz);
    fam_close(c);
}

static void render_memory(struct render_ctx *c, const Pvescope__Memory *m)
{
    if (!m)
        return;
    bool has_used = m->has_total && m->has_available && m->total >= m->available;
    single_u(c, FAM_PVE_MEMORY_USAGE_BYTES, has_used, m->total - m->available);
    single_u(c, FAM_PVE_MEMORY_SIZE_BYTES, m->has_total, m->total);
    single_u(c, FAM_NODE_MEM_AVAILABLE, m->has_available, m->available);
    single_u(c, FAM_NODE_MEM_FREE, m->has_free, m->free);
    single_u(c, FAM_NODE_MEM_BUFFERS, m->has_buffers, m->buffers);
    single_u(c, FAM_NODE_MEM_CACHED, m->has_cached, m->cached);
    single_u(c, FAM_NODE_SWAP_SIZE, m->has_swap_total, m->swap_total);
    bool has_swap_used = m->has_swap_total && m->has_swap_free && m->swap_total >= m->swap_free;
    single_u(c, FAM_NODE_SWAP_USAGE, has_swap_used, m->swap_total - m->swap_free);
}

/* One family with one sample of seconds from microseconds, when present. */
static void single_micro(struct render_ctx *c, enum family_id f, bool has, uint64_t micro)
{
    if (!has)
        return;
    fam_open(c, f);
    nr_sample_micro_n(c->nr, f, c->labels, labels_length(c->nr, c->labels), NULL, 0, micro);
    fam_close(c);
}

static void render_pressure(struct render_ctx *c, const Pvescope__Pressure *p)
{
    if (!p)
        return;
    const Pvescope__PressureResource *cpu = p->cpu, *io = p->io, *mem = p->memory;
    single_micro(c, FAM_NODE_PSI_CPU_WAITING, cpu && cpu->has_some_total_us, cpu ? cpu->some_total_us : 0);
    single_micro(c, FAM_NODE_PSI_IO_WAITING, io && io->has_some_total_us, io ? io->some_total_us : 0);
    single_micro(c, FAM_NODE_PSI_IO_STALLED, io && io->has_full_total_us, io ? io->full_total_us : 0);
    single_micro(c, FAM_NODE_PSI_MEM_WAITING, mem && mem->has_some_total_us, mem ? mem->some_total_us : 0);
    single_micro(c, FAM_NODE_PSI_MEM_STALLED, mem && mem->has_full_total_us, mem ? mem->full_total_us : 0);
}

static void render_host(struct render_ctx *c, const Pvescope__Host *h)
{
    if (!h)
        return;
    render_cpu(c, h);
    render_memory(c, h->memory);
    single_f(c, FAM_PVE_UPTIME_SECONDS, h->has_uptime_seconds, h->uptime_seconds);
    single_f(c, FAM_NODE_CPU_IOWAIT_RATIO, h->has_iowait_ratio, h->iowait_ratio);
    single_f(c, FAM_NODE_LOAD1, h->has_load1, h->load1);
    single_f(c, FAM_NODE_LOAD5, h->has_load5, h->load5);
    single_f(c, FAM_NODE_LOAD15, h->has_load15, h->load15);
    single_f(c, FAM_NODE_BOOT_TIME, h->has_boot_time_unix, (double)h->boot_time_unix);
    single_u(c, FAM_NODE_CTXT, h->has_context_switches, h->context_switches);
    single_u(c, FAM_NODE_FORKS, h->has_forks, h->forks);
    single_u(c, FAM_NODE_PROCS_RUNNING, h->has_procs_running, h->procs_running);
    single_u(c, FAM_NODE_PROCS_BLOCKED, h->has_procs_blocked, h->procs_blocked);
    render_pressure(c, h->pressure);
}

/* A counter field of a repeated device message, located by offsets so one
 * loop renders every family of a device table. */
struct dev_field {
    enum family_id fam;
    size_t has_off;
    size_t val_off;
    double scale;          /* 1 = exact integer; else value * scale as float */
};

#define DISK_F(fam, field, scale) {FAM_##fam, offsetof(Pvescope__Disk, has_##field), offsetof(Pvescope__Disk, field), scale}
static const struct dev_field disk_fields[] = {
    DISK_F(DISK_READS, reads_completed, 1), DISK_F(DISK_READS_MERGED, reads_merged, 1),
    DISK_F(DISK_READ_BYTES, sectors_read, 512), DISK_F(DISK_READ_TIME, read_time_ms, 1e-3),
    DISK_F(DISK_WRITES, writes_completed, 1), DISK_F(DISK_WRITES_MERGED, writes_merged, 1),
    DISK_F(DISK_WRITTEN_BYTES, sectors_written, 512), DISK_F(DISK_WRITE_TIME, write_time_ms, 1e-3),
    DISK_F(DISK_IO_NOW, io_in_progress, 1), DISK_F(DISK_IO_TIME, io_time_ms, 1e-3),
    DISK_F(DISK_IO_WEIGHTED, io_weighted_time_ms, 1e-3),
    DISK_F(DISK_DISCARDS, discards_completed, 1), DISK_F(DISK_DISCARDS_MERGED, discards_merged, 1),
    DISK_F(DISK_DISCARDED_BYTES, sectors_discarded, 512), DISK_F(DISK_DISCARD_TIME, discard_time_ms, 1e-3),
    DISK_F(DISK_FLUSHES, flushes_completed, 1), DISK_F(DISK_FLUSH_TIME, flush_time_ms, 1e-3),
};

#define NET_F(fam, field) {FAM_##fam, offsetof(Pvescope__NetDev, has_##field), offsetof(Pvescope__NetDev, field), 1}
static const struct dev_field net_fields[] = {
    NET_F(NET_RX_BYTES, rx_bytes), NET_F(NET_RX_PACKETS, rx_packets), NET_F(NET_RX_ERRS, rx_errs),
    NET_F(NET_RX_DROP, rx_drop), NET_F(NET_RX_FIFO, rx_fifo), NET_F(NET_RX_FRAME, rx_frame),
    NET_F(NET_RX_COMPRESSED, rx_compressed), NET_F(NET_RX_MULTICAST, rx_multicast),
    NET_F(NET_TX_BYTES, tx_bytes), NET_F(NET_TX_PACKETS, tx_packets), NET_F(NET_TX_ERRS, tx_errs),
    NET_F(NET_TX_DROP, tx_drop), NET_F(NET_TX_FIFO, tx_fifo), NET_F(NET_TX_COLLS, tx_colls),
    NET_F(NET_TX_CARRIER, tx_carrier), NET_F(NET_TX_COMPRESSED, tx_compressed),
};

/* Renders every field family for a table of devices; labels[i] is device i's
 * escaped device="..." pair. */
static void render_devices(struct render_ctx *c, const struct dev_field *fields, size_t n_fields,
                           void *const *devs, size_t n_devs, char *const *labels)
{
    for (size_t f = 0; f < n_fields; f++) {
        fam_open(c, fields[f].fam);
        for (size_t d = 0; d < n_devs; d++) {
            const char *base = devs[d];
            if (!*(const protobuf_c_boolean *)(base + fields[f].has_off))
                continue;
            uint64_t v = *(const uint64_t *)(base + fields[f].val_off);
            if (fields[f].scale == 1)
                sample_u(c, labels[d], v);
            else
                sample_f(c, labels[d], (double)v * fields[f].scale);
        }
        fam_close(c);
    }
}

/* Escaped `<prefix><name>"` (prefix like `device="`) for each of n messages,
 * name being the string at name_off in each, in one buffer. */
static char **name_labels(const char *prefix, void *const *msgs, size_t n, size_t name_off, struct buf *store)
{
    size_t *offs = malloc((n ? n : 1) * sizeof *offs);
    char **labels = malloc((n ? n : 1) * sizeof *labels);
    if (!offs || !labels)
        abort();
    for (size_t i = 0; i < n; i++) {
        offs[i] = store->len;
        buf_puts(store, prefix);
        expo_escape_label(store, *(char *const *)(void *)((char *)msgs[i] + name_off));
        buf_append(store, "\"", 2);         /* the quote and a NUL */
    }
    for (size_t i = 0; i < n; i++)
        labels[i] = store->data + offs[i];
    free(offs);
    return labels;
}

static void render_disks(struct render_ctx *c, const Pvescope__Report *r)
{
    if (!r->n_disks)
        return;
    struct buf store = BUF_INIT;
    char **labels = name_labels("device=\"", (void *const *)r->disks, r->n_disks, offsetof(Pvescope__Disk, name),
                                &store);
    render_devices(c, disk_fields, sizeof disk_fields / sizeof disk_fields[0], (void *const *)r->disks,
                   r->n_disks, labels);
    fam_open(c, FAM_DISK_DM_INFO);
    for (size_t i = 0; i < r->n_disks; i++) {
        if (!r->disks[i]->dm_name)
            continue;
        struct buf l = BUF_INIT;
        buf_puts(&l, labels[i]);
        buf_puts(&l, ",name=\"");
        expo_escape_label(&l, r->disks[i]->dm_name);
        buf_putc(&l, '"');
        sample_f(c, l.data, 1);
        buf_free(&l);
    }
    fam_close(c);
    free(labels);
    buf_free(&store);
}

static void render_netdevs(struct render_ctx *c, const Pvescope__Report *r)
{
    if (!r->n_netdevs)
        return;
    struct buf store = BUF_INIT;
    char **labels = name_labels("device=\"", (void *const *)r->netdevs, r->n_netdevs,
                                offsetof(Pvescope__NetDev, name), &store);
    render_devices(c, net_fields, sizeof net_fields / sizeof net_fields[0], (void *const *)r->netdevs,
                   r->n_netdevs, labels);
    free(labels);
    buf_free(&store);
}

static void render_collectors(struct render_ctx *c, const Pvescope__Report *r)
{
    static const enum family_id fams[] = {FAM_SELF_COLLECTOR_SUCCESS, FAM_SELF_COLLECTOR_DURATION,
                                          FAM_SELF_COLLECTOR_ERRORS, FAM_SELF_COLLECTOR_WARNINGS};
    if (!r->n_collectors)
        return;
    struct buf store = BUF_INIT;
    char **labels = name_labels("collector=\"", (void *const *)r->collectors, r->n_collectors,
                                offsetof(Pvescope__CollectorStatus, name), &store);
    for (size_t f = 0; f < sizeof fams / sizeof fams[0]; f++) {
        fam_open(c, fams[f]);
        for (size_t i = 0; i < r->n_collectors; i++) {
            const Pvescope__CollectorStatus *s = r->collectors[i];
            if (fams[f] == FAM_SELF_COLLECTOR_SUCCESS)
                sample_f(c, labels[i], s->success ? 1 : 0);
            else if (fams[f] == FAM_SELF_COLLECTOR_DURATION && s->has_duration_seconds)
                sample_f(c, labels[i], s->duration_seconds);
            else if (fams[f] == FAM_SELF_COLLECTOR_ERRORS && s->has_errors_total)
                sample_u(c, labels[i], s->errors_total);
            else if (fams[f] == FAM_SELF_COLLECTOR_WARNINGS && s->has_warnings_total)
                sample_u(c, labels[i], s->warnings_total);
        }
        fam_close(c);
    }
    free(labels);
    buf_free(&store);
}

static void render_agent(struct render_ctx *c, const Pvescope__AgentSelf *a)
{
    if (!a)
        return;
    struct buf l = BUF_INIT;
    buf_puts(&l, "version=\"");
    expo_escape_label(&l, a->version ? a->version : "");
    buf_putc(&l, '"');
    fam_open(c, FAM_SELF_AGENT_INFO);
    sample_f(c, l.data, 1);
    fam_close(c);
    single_f(c, FAM_SELF_AGENT_CPU, a->has_cpu_seconds, a->cpu_seconds);
    single_u(c, FAM_SELF_AGENT_RSS, a->has_rss_bytes, a->rss_bytes);
    single_f(c, FAM_SELF_AGENT_START, a->has_start_time_unix, (double)a->start_time_unix);
    for (int pass = 0; pass < 2; pass++) {
        fam_open(c, pass == 0 ? FAM_SELF_AGENT_SENT : FAM_SELF_AGENT_DROPPED);
        for (size_t i = 0; i < a->n_sends; i++) {
            const Pvescope__SendStats *s = a->sends[i];
            buf_reset(&l);
            buf_puts(&l, "endpoint=\"");
            expo_escape_label(&l, s->endpoint);
            buf_putc(&l, '"');
            sample_u(c, l.data, pass == 0 ? s->reports_sent : s->reports_dropped);
        }
        fam_close(c);
    }
    single_u(c, FAM_SELF_AGENT_OVERSIZE, a->has_reports_oversize, a->reports_oversize);
    buf_free(&l);
}

struct node_render *render_report(const Pvescope__Report *r, const char *labels)
{
    return render_report_sized(r, labels, 4096);
}

struct node_render *render_report_sized(const Pvescope__Report *r, const char *labels, size_t expected_bytes)
{
    struct node_render *nr = node_render_new();
    struct render_ctx c = {nr, labels, FAM_PVE_UP};
    nr->node_labels = labels;               /* unchanged until the end of this function */
    nr->node_labels_len = strlen(labels);
    buf_reserve(&nr->text, expected_bytes);
    render_host(&c, r->host);
    render_disks(&c, r);
    render_netdevs(&c, r);
    render_nvme(nr, labels, r);
    render_thinpool(nr, labels, r);
    render_sensors(nr, labels, r);
    render_zfs(nr, labels, r);
    render_collectors(&c, r);
    render_agent(&c, r->agent);
    nr->node_labels = NULL;
    buf_fit(&nr->text);
    buf_free(&nr->scratch);
    return nr;
}

void node_render_ref(struct node_render *nr) { atomic_fetch_add_explicit(&nr->refs, 1, memory_order_relaxed); }

void node_render_unref(struct node_render *nr)
{
    if (nr && atomic_fetch_sub_explicit(&nr->refs, 1, memory_order_acq_rel) == 1) {
        buf_free(&nr->text);
        buf_free(&nr->scratch);
        node_render_unref(nr->home_guests);
        node_render_unref(nr->config_part);
        merge_prepared_free(nr->prepared);
        for (size_t i = 0; i < nr->n_parts; i++)
            node_render_unref(nr->parts[i]);
        free(nr->parts);
        free(nr->pre);
        decoded_report_free(nr->report);
        free(nr);
    }
}
