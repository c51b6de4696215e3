/* exposition.c — see exposition.h. */
#include "exposition.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

const struct family_desc family_table[FAM__COUNT] = {
#define FAMILY_DESC(id, name, type, source, help) [FAM_##id] = {name, sizeof(name) - 1, FT_##type, FS_##source, help},
    PVESCOPE_FAMILIES(FAMILY_DESC)
#undef FAMILY_DESC
};

const char *const reject_reason_label[REJECT__COUNT] = {
#define REJECT_LABEL(id, label) [REJECT_##id] = label,
    PVESCOPE_REJECT_REASONS(REJECT_LABEL)
#undef REJECT_LABEL
};

const char *const http_reject_reason_label[HTTP_REJECT__COUNT] = {
#define HTTP_REJECT_LABEL(id, label) [HTTP_REJECT_##id] = label,
    PVESCOPE_HTTP_REJECT_REASONS(HTTP_REJECT_LABEL)
#undef HTTP_REJECT_LABEL
};

size_t utf8_seq_len(const unsigned char *s)
{
    unsigned char c = s[0];
    size_t n;
    unsigned min;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0) { n = 2; cp = c & 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { n = 3; cp = c & 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { n = 4; cp = c & 0x07; min = 0x10000; }
    else return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* 1 where a scan of label text must stop: the NUL, the three bytes the
 * exposition format escapes, and every non-ASCII byte (checked as UTF-8). */
#define NONE16 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
#define ALL16 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1
static const unsigned char label_stop[256] = {
    1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0,          /* NUL, \n */
    NONE16,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,          /* " */
    NONE16, NONE16,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,          /* \ */
    NONE16, NONE16,
    ALL16, ALL16, ALL16, ALL16, ALL16, ALL16, ALL16, ALL16,
};
#undef NONE16
#undef ALL16

void expo_escape_label(struct buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t run = 0;          /* copy plain runs in one append */
        while (!label_stop[p[run]])
            run++;
        if (run) {
            buf_append(b, p, run);
            p += run;
            continue;
        }
        if (*p == '\\') { buf_append(b, "\\\\", 2); p++; continue; }
        if (*p == '"') { buf_append(b, "\\\"", 2); p++; continue; }
        if (*p == '\n') { buf_append(b, "\\n", 2); p++; continue; }
        size_t n = utf8_seq_len(p);
        if (n == 0) {
            buf_append(b, "\xEF\xBF\xBD", 3);
            p++;
        } else {
            buf_append(b, p, n);
            p += n;
        }
    }
}

void expo_family_header(struct buf *b, enum family_id f)
{
    const struct family_desc *d = &family_table[f];
    buf_puts(b, "# HELP ");
    buf_puts(b, d->name);
    buf_putc(b, ' ');
    buf_puts(b, d->help);      /* constant text: no backslashes or newlines */
    buf_puts(b, "\n# TYPE ");
    buf_puts(b, d->name);
    buf_puts(b, d->type == FT_COUNTER ? " counter\n" : " gauge\n");
}

/* name{labels} value\n for scrape-time samples. */
static void dyn_sample(struct buf *b, enum family_id f, const char *labels, double v)
{
    buf_puts(b, family_table[f].name);
    if (labels && *labels) {
        buf_putc(b, '{');
        buf_puts(b, labels);
        buf_putc(b, '}');
    }
    buf_putc(b, ' ');
    buf_put_double(b, v);
    buf_putc(b, '\n');
}

static void node_sample(struct buf *b, enum family_id f, const struct scrape_node *n, double v)
{
    buf_puts(b, family_table[f].name);
    buf_putc(b, '{');
    buf_puts(b, n->labels);
    buf_puts(b, "} ");
    buf_put_double(b, v);
    buf_putc(b, '\n');
}

/* url="<url>" followed by extra (already escaped, may be ""). */
static void url_labels(char *dst, size_t cap, const struct rw_endpoint_stats *e, const char *extra)
{
    struct buf b = BUF_INIT;
    buf_puts(&b, "url=\"");
    expo_escape_label(&b, e->url);
    buf_putc(&b, '"');
    buf_puts(&b, extra);
    snprintf(dst, cap, "%s", b.data);
    buf_free(&b);
}

static void rw_codes(struct buf *out, const struct rw_endpoint_stats *e)
{
    char extra[64], labels[RW_URL_LABEL_MAX * 2 + 96];
    for (size_t i = 0; i < e->n_codes; i++) {
        if (e->codes[i].code == 0)
            snprintf(extra, sizeof extra, ",code=\"error\"");
        else
            snprintf(extra, sizeof extra, ",code=\"%d\"", e->codes[i].code);
        url_labels(labels, sizeof labels, e, extra);
        dyn_sample(out, FAM_RW_REQUESTS, labels, (double)e->codes[i].requests);
    }
    if (e->other_codes) {
        url_labels(labels, sizeof labels, e, ",code=\"other\"");
        dyn_sample(out, FAM_RW_REQUESTS, labels, (double)e->other_codes);
    }
}

/* The remote_write families: one series per endpoint (samples: per result,
 * requests: per status code seen). */
static void write_remote_write(struct buf *out, enum family_id f, const struct remote_write_stats *rw)
{
    char labels[RW_URL_LABEL_MAX * 2 + 96];
    for (size_t i = 0; rw && i < rw->n; i++) {
        const struct rw_endpoint_stats *e = &rw->endpoints[i];
        if (f == FAM_RW_SAMPLES) {
            static const char *const results[] = {"sent", "failed", "dropped"};
            const uint64_t counts[] = {e->samples_sent, e->samples_failed, e->samples_dropped};
            for (size_t r = 0; r < 3; r++) {
                char extra[32];
                snprintf(extra, sizeof extra, ",result=\"%s\"", results[r]);
                url_labels(labels, sizeof labels, e, extra);
                dyn_sample(out, f, labels, (double)counts[r]);
            }
            continue;
        }
        if (f == FAM_RW_REQUESTS) {
            rw_codes(out, e);
            continue;
        }
        url_labels(labels, sizeof labels, e, "");
        if (f == FAM_RW_RETRIES)
            dyn_sample(out, f, labels, (double)e->retries);
        else if (f == FAM_RW_BYTES)
            dyn_sample(out, f, labels, (double)e->bytes_sent);
        else if (f == FAM_RW_QUEUE)
            dyn_sample(out, f, labels, (double)e->queue_batches);
        else if (f == FAM_RW_LAST_SUCCESS)
            dyn_sample(out, f, labels, e->last_success_unix);
    }
}

static void write_dynamic(struct buf *out, enum family_id f, const struct scrape_input *in)
{
    if (f >= FAM_RW_SAMPLES && f <= FAM_RW_LAST_SUCCESS) {
        write_remote_write(out, f, in->remote_write);
        return;
    }
    for (size_t i = 0; i < in->n_nodes; i++) {
        const struct scrape_node *n = &in->nodes[i];
        if (f == FAM_SELF_NODE_AGE)
            node_sample(out, f, n, round(n->age_seconds * 1000) / 1000);   /* ms is plenty */
        else if (f == FAM_SELF_NODE_ACCEPTED)
            node_sample(out, f, n, (double)n->accepted);
    }
    if (f == FAM_SELF_RECEIVED) {
        dyn_sample(out, f, NULL, (double)in->received);
    } else if (f == FAM_SELF_REJECTED) {
        for (int r = 0; r < REJECT__COUNT; r++) {
            char labels[64];
            snprintf(labels, sizeof labels, "reason=\"%s\"", reject_reason_label[r]);
            dyn_sample(out, f, labels, (double)in->rejected[r]);
        }
    } else if (f == FAM_SELF_CLOSED_CONN) {
        dyn_sample(out, f, NULL, (double)in->closed_connections);
    } else if (f == FAM_SELF_HTTP_REJECTED && in->http_guarded) {
        for (int r = 0; r < HTTP_REJECT__COUNT; r++) {
            char labels[64];
            snprintf(labels, sizeof labels, "reason=\"%s\"", http_reject_reason_label[r]);
            dyn_sample(out, f, labels, (double)in->http_rejected[r]);
        }
    } else if (f == FAM_SELF_HTTP_GZIP_FAILED) {
        dyn_sample(out, f, NULL, (double)in->http_gzip_failures);
    } else if (f == FAM_SELF_BUILD_INFO) {
        dyn_sample(out, f, "version=\"" PVESCOPE_VERSION "\"", 1);
    }
}

static void add_piece(struct expo_plan *plan, const char *base, size_t off, size_t len)
{
    if (len == 0)
        return;
    struct expo_piece *last = plan->n ? &plan->pieces[plan->n - 1] : NULL;
    if (last && last->base == base && last->off + last->len == off) {
        last->len += len;                   /* adjacent in the same text: one piece */
    } else {
        if (plan->n == plan->cap) {
            plan->cap = plan->cap ? plan->cap * 2 : 1024;
            plan->pieces = realloc(plan->pieces, plan->cap * sizeof *plan->pieces);
            if (!plan->pieces)
                abort();
        }
        plan->pieces[plan->n++] = (struct expo_piece){base, off, len};
    }
    plan->total += len;
}

static void add_chunk(struct expo_plan *plan, const struct node_render *r, enum family_id f)
{
    add_piece(plan, r->text.data, r->start[f], r->len[f]);
}

/* Appends what was written to aux since mark as a piece. */
static void add_aux(struct expo_plan *plan, size_t mark)
{
    add_piece(plan, NULL, mark, plan->aux.len - mark);
}

void scrape_input_only_cluster(struct scrape_input *in, const char *cluster)
{
    size_t i = 0;
    while (i < in->n_nodes && strcmp(in->nodes[i].cluster, cluster) != 0)
        i++;
    size_t j = i;
    while (j < in->n_nodes && strcmp(in->nodes[j].cluster, cluster) == 0)
        j++;
    in->nodes += i;
    in->n_nodes = j - i;
}

void expo_plan_build(struct expo_plan *plan, const struct scrape_input *in)
{
    plan->n = 0;
    plan->total = 0;
    buf_reset(&plan->aux);
    for (int i = 0; i < FAM__COUNT; i++) {
        enum family_id f = (enum family_id)i;
        size_t aux_mark = plan->aux.len, n_mark = plan->n, total_mark = plan->total;
        /* add_piece may extend the last piece instead of adding one */
        size_t last_len_mark = n_mark ? plan->pieces[n_mark - 1].len : 0;
        expo_family_header(&plan->aux, f);
        add_aux(plan, aux_mark);
        size_t body_mark = plan->total;
        if (family_table[f].source == FS_DYN) {
            size_t dyn = plan->aux.len;
            write_dynamic(&plan->aux, f, in);
            add_aux(plan, dyn);
        }
        for (size_t n = 0; n < in->n_nodes; n++)
            if (in->nodes[n].fresh)
                add_chunk(plan, in->nodes[n].render, f);
        for (size_t m = 0; m < in->n_merged; m++) {
            for (size_t k = 0; k < in->merged[m]->n_parts; k++)
                add_chunk(plan, in->merged[m]->parts[k], f);
            add_chunk(plan, in->merged[m], f);
        }
        if (plan->total == body_mark) {     /* no samples: no header either */
            plan->n = n_mark;
            if (n_mark)
                plan->pieces[n_mark - 1].len = last_len_mark;
            plan->total = total_mark;
            plan->aux.len = aux_mark;
            if (plan->aux.data)
                plan->aux.data[aux_mark] = '\0';
        }
    }
}

const char *expo_piece_text(const struct expo_plan *plan, const struct expo_piece *p)
{
    return (p->base ? p->base : plan->aux.data) + p->off;
}

size_t expo_plan_read(const struct expo_plan *plan, struct expo_cursor *c, size_t pos, char *dst, size_t max)
{
    if (pos < c->start)
        *c = (struct expo_cursor){0, 0};
    while (c->piece < plan->n && c->start + plan->pieces[c->piece].len <= pos)
        c->start += plan->pieces[c->piece++].len;
    size_t done = 0, i = c->piece, start = c->start;
    while (done < max && i < plan->n) {
        const struct expo_piece *p = &plan->pieces[i];
        size_t skip = pos + done - start;
        size_t take = p->len - skip < max - done ? p->len - skip : max - done;
        memcpy(dst + done, expo_piece_text(plan, p) + skip, take);
        done += take;
        if (skip + take == p->len) {
            start += p->len;
            i++;
        }
    }
    return done;
}

void expo_plan_free(struct expo_plan *plan)
{
    free(plan->pieces);
    buf_free(&plan->aux);
    memset(plan, 0, sizeof *plan);
}

void expo_write(struct buf *out, const struct scrape_input *in)
{
    struct expo_plan plan = EXPO_PLAN_INIT;
    expo_plan_build(&plan, in);
    buf_reserve(out, plan.total);
    for (size_t i = 0; i < plan.n; i++) {
        const struct expo_piece *p = &plan.pieces[i];
        buf_append(out, expo_piece_text(&plan, p), p->len);
    }
    expo_plan_free(&plan);
}
