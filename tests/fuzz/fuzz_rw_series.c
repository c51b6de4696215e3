/* fuzz_rw_series.c — remote_write's exposition parser and batch encoder.
 * The parser reads only the aggregator's own /metrics text, but it cuts that
 * text up in place: any input must parse or be skipped line by line, and
 * whatever parses must encode into batches that decode back to as many
 * series. */
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_text.h"
#include "remote_write.pb-c.h"
#include "rw_encode.h"
#include "rw_series.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t decoded_series(const struct rw_batch *b)
{
    size_t raw_len;
    if (snappy_uncompressed_length(b->data, b->len, &raw_len) != SNAPPY_OK)
        abort();
    char *raw = malloc(raw_len ? raw_len : 1);
    if (!raw || snappy_uncompress(b->data, b->len, raw, &raw_len) != SNAPPY_OK)
        abort();
    Prometheus__WriteRequest *req = prometheus__write_request__unpack(NULL, raw_len, (const uint8_t *)raw);
    free(raw);
    if (!req)
        abort();
    size_t n = req->n_timeseries;
    prometheus__write_request__free_unpacked(req, NULL);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct rw_label ext[] = {{"cluster", "c"}, {"replica", "r"}};
    struct rw_series_set set;
    rw_series_parse(&set, fuzz_strdup(data, size), ext, 2);
    struct rw_batch **batches;
    size_t n = rw_encode_all(&set, 7, 1, &batches);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        total += decoded_series(batches[i]);
        rw_batch_unref(batches[i]);
    }
    free(batches);
    if (total != set.n)
        abort();
    rw_series_free(&set);
    return 0;
}
