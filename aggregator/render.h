/* render.h — turns one node's Report into its pre-rendered exposition chunks.
 *
 * This is where report fields get their Prometheus names and units (the agent
 * sends kernel units: ticks, sectors, milliseconds, kB are already bytes). */
#ifndef PVESCOPE_RENDER_H
#define PVESCOPE_RENDER_H

#include "exposition.h"
#include "pvescope.pb-c.h"

/* Renders a validated report; labels are the node's escaped label pairs
 * (node_labels()). Returns a node_render holding one reference. */
struct node_render *render_report(const Pvescope__Report *r, const char *labels);
/* The same with the text's expected size (say, the largest render so far):
 * room for it is reserved up front, so that the text is not copied while
 * it grows, and what is left unused is given back at the end. */
struct node_render *render_report_sized(const Pvescope__Report *r, const char *labels, size_t expected_bytes);

/* Building a node_render family by family (render.c, merge.c): begin, any
 * number of samples of that family, end; each family written once. */
struct node_render *node_render_new(void);
void nr_begin(struct node_render *nr, enum family_id f);
void nr_end(struct node_render *nr, enum family_id f);
/* Appends `name{labels[,extra]} value`; labels and extra are escaped pairs. */
void nr_sample(struct node_render *nr, enum family_id f, const char *labels, const char *extra, double v);
void nr_sample_u64(struct node_render *nr, enum family_id f, const char *labels, const char *extra,
                   uint64_t v);
/* The same with the lengths of labels and extra known (extra may be NULL
 * with length 0): the guests' hot path. */
void nr_sample_n(struct node_render *nr, enum family_id f, const char *labels, size_t labels_len,
                 const char *extra, size_t extra_len, double v);
void nr_sample_u64_n(struct node_render *nr, enum family_id f, const char *labels, size_t labels_len,
                     const char *extra, size_t extra_len, uint64_t v);
/* A sample of micro / 1e6 (seconds from microseconds), as nr_sample_n()
 * would write it (numfmt_micro()). */
void nr_sample_micro_n(struct node_render *nr, enum family_id f, const char *labels, size_t nl,
                       const char *extra, size_t ne, uint64_t micro);

/* n samples `name{labels,pairs[i]} 0|1`, 1 for i == current: a state set
 * (lock, HA state), the prefix written once and copied. */
void nr_state_set(struct node_render *nr, enum family_id f, const char *labels, size_t labels_len,
                  const char *const *pairs, size_t n, int current);

/* A buffer for building one sample's labels without a malloc per sample:
 * take it (empty) with nr_scratch(), hand it back with nr_scratch_keep(). */
struct buf nr_scratch(struct node_render *nr);
void nr_scratch_keep(struct node_render *nr, struct buf *b);

/* Per-area renderers (render_<area>.c), called by render_report(); labels
 * are the node's escaped label pairs. */
void render_nvme(struct node_render *nr, const char *labels, const Pvescope__Report *r);
void render_thinpool(struct node_render *nr, const char *labels, const Pvescope__Report *r);
void render_sensors(struct node_render *nr, const char *labels, const Pvescope__Report *r);
void render_zfs(struct node_render *nr, const char *labels, const Pvescope__Report *r);

void node_render_ref(struct node_render *nr);
void node_render_unref(struct node_render *nr);

#endif
