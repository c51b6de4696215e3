/* exposition.c — see exposition.h. */
#include "exposition.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const struct family_desc family_table[FAM__COUNT] = {
#define FAMILY_DESC(id, name, type, source, help) [FAM_##id] = {name, FT_##type, FS_##source, help},
    PVESCOPE_FAMILIES(FAMILY_DESC)
#undef FAMILY_DESC
};

const char *const reject_reason_label[REJECT__COUNT] = {
#define REJECT_LABEL(id, label) [REJECT_##id] = label,
    PVESCOPE_REJECT_REASONS(REJECT_LABEL)
#undef REJECT_LABEL
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

void expo_escape_label(struct buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t run = 0;          /* copy plain runs in one append */
        while (p[run] && p[run] != '\\' && p[run] != '"' && p[run] != '\n' && p[run] < 0x80)
            run++;
        if (run) {
            buf_append(b, p, run);
            p += run;
            continue;
        }
        if (*p == '\\') { buf_puts(b, "\\\\"); p++; continue; }
        if (*p == '"') { buf_puts(b, "\\\""); p++; continue; }
        if (*p == '\n') { buf_puts(b, "\\n"); p++; continue; }
        size_t n = utf8_seq_len(p);
        if (n == 0) {
            buf_puts(b, "\xEF\xBF\xBD");
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

static void write_dynamic(struct buf *out, enum family_id f, const struct scrape_input *in)
{
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
    } else if (f == FAM_SELF_BUILD_INFO) {
        dyn_sample(out, f, "version=\"" PVESCOPE_VERSION "\"", 1);
    }
}

static void append_chunk(struct buf *out, const struct node_render *r, enum family_id f)
{
    if (r->len[f])
        buf_append(out, r->text.data + r->start[f], r->len[f]);
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

void expo_write(struct buf *out, const struct scrape_input *in)
{
    for (int i = 0; i < FAM__COUNT; i++) {
        enum family_id f = (enum family_id)i;
        size_t mark = out->len;
        expo_family_header(out, f);
        size_t body = out->len;
        if (family_table[f].source == FS_DYN)
            write_dynamic(out, f, in);
        for (size_t n = 0; n < in->n_nodes; n++)
            if (in->nodes[n].fresh)
                append_chunk(out, in->nodes[n].render, f);
        for (size_t m = 0; m < in->n_merged; m++) {
            for (size_t k = 0; k < in->merged[m]->n_parts; k++)
                append_chunk(out, in->merged[m]->parts[k], f);
            append_chunk(out, in->merged[m], f);
        }
        if (out->len == body) {             /* no samples: no header either */
            out->len = mark;
            out->data[mark] = '\0';
        }
    }
}
