/* exposition.h — Prometheus text format (version 0.0.4) building blocks and
 * the assembly of one scrape from the store's current state.
 *
 * Node families are pre-rendered per node at ingest (render.c), and so are a
 * node's own guests (merge.c); a scrape only writes each family's HELP/TYPE
 * once, concatenates the chunks and renders what the cluster merge could not
 * take from them (nodes, storages, guests whose placement disagrees with
 * their node's report), so its cost is close to proportional to the output. */
#ifndef PVESCOPE_EXPOSITION_H
#define PVESCOPE_EXPOSITION_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "families.h"
#include "rw_stats.h"

enum family_type { FT_GAUGE, FT_COUNTER };
enum family_source { FS_DYN, FS_NODE, FS_MERGE };

struct family_desc {
    const char *name;
    size_t name_len;
    enum family_type type;
    enum family_source source;
    const char *help;
};

extern const struct family_desc family_table[FAM__COUNT];

/* Why ingest rejected a message; each is a value of the `reason` label. */
#define PVESCOPE_REJECT_REASONS(R) \
    R(OVERSIZE, "oversize")               /* larger than --ingest.max-message-bytes */ \
    R(DECODE, "decode")                   /* not a protobuf Envelope / Report */ \
    R(VERSION, "version")                 /* envelope version we do not speak */ \
    R(BAD_HEADER, "bad_header")           /* node/cluster names unusable as labels */ \
    R(UNKNOWN_CLUSTER, "unknown_cluster") /* no key for the cluster */ \
    R(BAD_TAG, "bad_tag")                 /* no key of the cluster opens it */ \
    R(REPLAY, "replay")                   /* seq not increasing, or sent time out of window */ \
    R(INVALID_REPORT, "invalid_report")   /* authenticated, but inconsistent with its header */ \
    R(LIMITS, "limits")                   /* too many devices, nodes, or too long labels */

enum reject_reason {
#define REJECT_ENUM(id, label) REJECT_##id,
    PVESCOPE_REJECT_REASONS(REJECT_ENUM)
#undef REJECT_ENUM
    REJECT__COUNT
};
extern const char *const reject_reason_label[REJECT__COUNT];

/* Why the HTTP side refused a request; each is a value of the `reason` label
 * of pvescope_http_requests_rejected_total. */
#define PVESCOPE_HTTP_REJECT_REASONS(R) \
    R(MISSING_CREDENTIALS, "missing_credentials")   /* no Authorization header: 401 */ \
    R(WRONG_CREDENTIALS, "wrong_credentials")       /* malformed, unknown user, wrong password: 401 */ \
    R(SOURCE_LIMITED, "source_limited")             /* the client's failed logins used up: 429 */ \
    R(GLOBAL_LIMITED, "global_limited")             /* failed logins' CPU share used up: 429 */ \
    R(CLIENT_CERTIFICATE, "client_certificate")     /* no valid client certificate: 403 */

enum http_reject_reason {
#define HTTP_REJECT_ENUM(id, label) HTTP_REJECT_##id,
    PVESCOPE_HTTP_REJECT_REASONS(HTTP_REJECT_ENUM)
#undef HTTP_REJECT_ENUM
    HTTP_REJECT__COUNT
};
extern const char *const http_reject_reason_label[HTTP_REJECT__COUNT];

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid (also
 * for a surrogate, an overlong form, or past U+10FFFF). */
size_t utf8_seq_len(const unsigned char *s);

/* Appends s as a label value: escapes \, " and newline; replaces bytes that
 * are not valid UTF-8 with U+FFFD so the exposition stays parseable. */
void expo_escape_label(struct buf *b, const char *s);

/* "# HELP name help\n# TYPE name type\n" */
void expo_family_header(struct buf *b, enum family_id f);

/* Pre-rendered samples of one node: family f's lines are
 * text.data[start[f] .. start[f]+len[f]). Immutable once published;
 * shared between the store and scrapes by reference count. */
struct decoded_report;

struct prerendered_guest;
struct merged_guest;

struct node_render {
    atomic_int refs;
    struct decoded_report *report;     /* the report rendered; NULL for merged renders */
    struct buf text;
    struct buf scratch;                /* label text being built (nr_scratch()) */
    const char *node_labels;           /* while render_report_sized() runs: its labels, */
    size_t node_labels_len;            /* measured once for all its samples */
    uint32_t start[FAM__COUNT];
    uint32_t len[FAM__COUNT];
    /* A node's render: its own guests' cluster-family series, merged at
     * ingest as the scrape-time merge would if the cluster's .vmlist agrees
     * with this report (merge_prerender_guests()); NULL when it has none. */
    struct node_render *home_guests;
    /* A home_guests render: which guests it holds, sorted by vmid; and its
     * configuration-only families (merge_family_config_only()) in a render
     * of their own, shared with the node's next home_guests while the
     * report's inventory is unchanged (merge_home.c). */
    struct prerendered_guest *pre;
    size_t n_pre;
    struct node_render *config_part;
    /* A config_part: its guests as merged_guest_prepare() left them (labels,
     * states; no runtime), for the next report with the same inventory. */
    struct merged_guest *prepared;
    size_t n_prepared;
    /* A cluster's merged render: home_guests renders the merge found valid
     * and their config_parts, written before this render's own chunk of
     * each family. */
    struct node_render **parts;
    size_t n_parts;
};

/* One node as a scrape sees it (copied out of the store under its lock). */
struct scrape_node {
    const char *labels;                /* escaped: id="node/<name>",pve_cluster="<cluster>" */
    const char *node, *cluster;        /* raw names (status page) */
    const char *agent_version;         /* as the agent reported it (status page) */
    struct node_render *render;        /* NULL never; a reference held */
    double age_seconds;
    bool fresh;                        /* age <= --stale-after */
    uint64_t accepted;
};

struct scrape_input {
    const struct scrape_node *nodes;   /* sorted by (cluster, node) */
    size_t n_nodes;
    uint64_t received;
    uint64_t rejected[REJECT__COUNT];
    uint64_t closed_connections;
    bool http_guarded;                 /* client certificates or basic auth: serve http_rejected */
    uint64_t http_rejected[HTTP_REJECT__COUNT];
    uint64_t http_gzip_failures;
    struct node_render *const *merged; /* one per cluster (merge.c); may be NULL */
    size_t n_merged;
    const struct remote_write_stats *remote_write;   /* NULL: remote_write is off */
};

/* Narrows in to the nodes of one cluster (nodes are sorted by cluster), for
 * /metrics?cluster=NAME: one scrape target per cluster, as exporter users
 * configure one target per cluster. Self metrics of the aggregator stay. */
void scrape_input_only_cluster(struct scrape_input *in, const char *cluster);

/* A complete exposition of a scrape_input as a list of pieces: the
 * pre-rendered chunks of its renders (by reference: they must outlive the
 * plan) and what is written at scrape time (headers, self metrics) in aux.
 * A scrape can then stream the pieces out without first copying them into
 * one body of the output's size. */
struct expo_piece {
    const char *base;                  /* a render's text; NULL: aux.data */
    size_t off, len;
};

struct expo_plan {
    struct expo_piece *pieces;
    size_t n, cap;
    struct buf aux;
    size_t total;                      /* bytes of all pieces */
};

#define EXPO_PLAN_INIT {NULL, 0, 0, BUF_INIT, 0}

/* Plans the exposition of in into plan (reset first). */
void expo_plan_build(struct expo_plan *plan, const struct scrape_input *in);
/* The first byte of piece p of plan (aux pieces point into plan->aux). */
const char *expo_piece_text(const struct expo_plan *plan, const struct expo_piece *p);

/* Where a sequential reader of a plan is: piece index and the offset in
 * the text where that piece starts. Start from {0, 0}. */
struct expo_cursor {
    size_t piece, start;
};

/* Copies up to max bytes of the planned text from byte pos on into dst;
 * returns how many (0 at the end). Reading on from where the cursor is
 * costs no search. */
size_t expo_plan_read(const struct expo_plan *plan, struct expo_cursor *c, size_t pos, char *dst, size_t max);
void expo_plan_free(struct expo_plan *plan);

/* Writes a complete exposition of in to out. */
void expo_write(struct buf *out, const struct scrape_input *in);

#endif
