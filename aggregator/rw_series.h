/* rw_series.h — the aggregator's own text exposition turned into remote_write
 * series: label values unescaped, labels sorted by name with __name__ among
 * them, external labels (cluster, replica) added, one value per series.
 *
 * A label with an empty value is left out: in Prometheus' data model it is
 * the same as no label, and a scrape drops it too, so receivers would store
 * the series without it anyway (Prometheus does; receivers that kept it would
 * hold a series no scrape could have produced).
 *
 * remote_write reads the exposition a scrape would get rather than the store,
 * so both paths share one renderer and cannot disagree. The parser reads only
 * text this process wrote (version 0.0.4, no timestamps, labels always
 * quoted); a line it cannot read is skipped and counted, never fatal. */
#ifndef PVESCOPE_RW_SERIES_H
#define PVESCOPE_RW_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rw_label {
    const char *name;
    const char *value;
};

struct rw_series {
    size_t first_label;              /* index into rw_series_set.labels */
    uint32_t n_labels;
    double value;
};

/* A parsed exposition. The strings point into text (owned, unescaped in
 * place) or into the external labels given to rw_series_parse, which must
 * outlive the set. */
struct rw_series_set {
    char *text;
    struct rw_label *labels;
    size_t n_labels, cap_labels;
    struct rw_series *series;
    size_t n, cap;
    uint64_t bad_lines;              /* sample lines that did not parse (skipped) */
    char first_bad[120];             /* the first of them, for the log */
};

/* Parses text (a NUL-terminated exposition; ownership passes to the set,
 * which frees it) into set. Comment and blank lines are skipped. Every series
 * gets the external labels it does not already carry (a series' own label
 * wins, as in Prometheus). */
void rw_series_parse(struct rw_series_set *set, char *text, const struct rw_label *external,
                     size_t n_external);
void rw_series_free(struct rw_series_set *set);

/* Label names remote_write receivers accept: [a-zA-Z_][a-zA-Z0-9_]*. */
bool rw_label_name_valid(const char *name);

#endif
