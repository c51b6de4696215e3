/* status.h — the aggregator's status page at / : what an admin wants at a
 * glance, as plain server-rendered HTML (no JavaScript, no external
 * resources, inline CSS).
 *
 *   - the aggregator: version, uptime, ingest endpoint, nodes known;
 *   - per cluster: quorum, nodes expected / in .members / reporting;
 *   - per node: up, stale, or never reported (a .members node without an
 *     agent), report age, agent version, uptime and boot time, failing
 *     collectors with their first error, guests running;
 *   - rejected reports by reason.
 *
 * It is rendered per request from the same store snapshot a scrape uses, so
 * /metrics pays nothing for it. Every value from a report is untrusted text:
 * HTML-escaped, control characters shown as \n, \t, \xNN, invalid UTF-8 and
 * noncharacters replaced by U+FFFD, long strings cut. The output is bounded
 * (STATUS_MAX_ROWS node rows, STATUS_MAX_FAILING collectors per node, errors
 * cut at STATUS_MAX_ERROR_BYTES) and well-formed XML as well as HTML. */
#ifndef PVESCOPE_STATUS_H
#define PVESCOPE_STATUS_H

#include <stddef.h>

#include "buf.h"
#include "exposition.h"

#define STATUS_MAX_ROWS         1000   /* node rows (and cluster rows) */
#define STATUS_MAX_FAILING      4      /* failing collectors listed per node */
#define STATUS_MAX_ERROR_BYTES  160    /* of one collector error */

struct status_info {
    const char *version;               /* the aggregator's */
    const char *ingest_endpoint;       /* --ingest.listen */
    double uptime_seconds;             /* of the aggregator */
    double now_unix;                   /* wall clock: agents' boot times become uptimes */
    double stale_after;                /* --stale-after */
    size_t max_nodes;                  /* --ingest.max-nodes */
};

/* Writes the whole page for the nodes of in (sorted by cluster, node, as a
 * store snapshot has them; each with its decoded report). */
void status_write(struct buf *out, const struct scrape_input *in, const struct status_info *info);

/* Appends s as HTML text (also safe in a quoted attribute), at most max_bytes
 * of s (0: no limit; a cut string ends in "…"). */
void status_escape(struct buf *out, const char *s, size_t max_bytes);

#endif
