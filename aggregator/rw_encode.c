/* rw_encode.c — see rw_encode.h. */
#include "rw_encode.h"

#include <snappy-c.h>
#include <stdlib.h>

#include "remote_write.pb-c.h"

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        abort();                /* as buf.c */
    return p;
}

/* The message tree points into set's strings (protobuf-c's structs are not
 * const-qualified, but packing only reads them); only the tree is allocated. */
static uint8_t *pack_request(const struct rw_series_set *set, size_t first, size_t count, int64_t ts,
                             size_t *len)
{
    size_t n_labels = 0;
    for (size_t i = 0; i < count; i++)
        n_labels += set->series[first + i].n_labels;
    Prometheus__TimeSeries *series = xcalloc(count, sizeof *series);
    Prometheus__TimeSeries **series_ptrs = xcalloc(count, sizeof *series_ptrs);
    Prometheus__Label *labels = xcalloc(n_labels, sizeof *labels);
    Prometheus__Label **label_ptrs = xcalloc(n_labels, sizeof *label_ptrs);
    Prometheus__Sample *samples = xcalloc(count, sizeof *samples);
    Prometheus__Sample **sample_ptrs = xcalloc(count, sizeof *sample_ptrs);
    size_t l = 0;
    for (size_t i = 0; i < count; i++) {
        const struct rw_series *s = &set->series[first + i];
        prometheus__time_series__init(&series[i]);
        series[i].labels = &label_ptrs[l];
        series[i].n_labels = s->n_labels;
        for (uint32_t k = 0; k < s->n_labels; k++, l++) {
            prometheus__label__init(&labels[l]);
            labels[l].name = (char *)set->labels[s->first_label + k].name;
            labels[l].value = (char *)set->labels[s->first_label + k].value;
            label_ptrs[l] = &labels[l];
        }
        prometheus__sample__init(&samples[i]);
        samples[i].value = s->value;
        samples[i].timestamp = ts;
        sample_ptrs[i] = &samples[i];
        series[i].samples = &sample_ptrs[i];
        series[i].n_samples = 1;
        series_ptrs[i] = &series[i];
    }
    Prometheus__WriteRequest req = PROMETHEUS__WRITE_REQUEST__INIT;
    req.timeseries = series_ptrs;
    req.n_timeseries = count;
    *len = prometheus__write_request__get_packed_size(&req);
    uint8_t *out = xcalloc(*len, 1);
    prometheus__write_request__pack(&req, out);
    free(series);
    free(series_ptrs);
    free(labels);
    free(label_ptrs);
    free(samples);
    free(sample_ptrs);
    return out;
}

struct rw_batch *rw_encode(const struct rw_series_set *set, size_t first, size_t count, int64_t timestamp_ms)
{
    size_t raw_len;
    uint8_t *raw = pack_request(set, first, count, timestamp_ms, &raw_len);
    size_t cap = snappy_max_compressed_length(raw_len);
    struct rw_batch *b = xcalloc(1, sizeof *b + cap);
    size_t z_len = cap;
    snappy_status st = snappy_compress((const char *)raw, raw_len, b->data, &z_len);
    free(raw);
    if (st != SNAPPY_OK) {
        free(b);
        return NULL;
    }
    struct rw_batch *fit = realloc(b, sizeof *b + z_len);   /* queues keep it: give back the slack */
    if (fit)
        b = fit;
    atomic_init(&b->refs, 1);
    b->n_samples = count;
    b->timestamp_ms = timestamp_ms;
    b->len = z_len;
    return b;
}

size_t rw_encode_all(const struct rw_series_set *set, size_t max_samples, int64_t timestamp_ms,
                     struct rw_batch ***out)
{
    size_t n = max_samples ? (set->n + max_samples - 1) / max_samples : 0;
    *out = xcalloc(n, sizeof **out);
    for (size_t i = 0; i < n; i++) {
        size_t first = i * max_samples;
        size_t count = set->n - first < max_samples ? set->n - first : max_samples;
        (*out)[i] = rw_encode(set, first, count, timestamp_ms);
        if (!(*out)[i]) {
            for (size_t j = 0; j < i; j++)
                rw_batch_unref((*out)[j]);
            return 0;
        }
    }
    return n;
}

void rw_batch_ref(struct rw_batch *b)
{
    atomic_fetch_add(&b->refs, 1);
}

void rw_batch_unref(struct rw_batch *b)
{
    if (b && atomic_fetch_sub(&b->refs, 1) == 1)
        free(b);
}
