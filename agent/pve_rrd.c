/* pve_rrd.c — the subscription level of every node, from /etc/pve/.rrd.
 *
 * .rrd is pmxcfs's dump of the newest pvestatd sample of every node, guest
 * and storage (pve-internals §1.6): one `<key>:<value>:<value>...` line each.
 * A node's line is `pve-node-9.0/<node>:` (PVE 9) or `pve2-node/<node>:`
 * (PVE 8), and its second value is the node's subscription level as
 * pvestatd read it from /etc/subscription: c, b, s, p, or empty. That is
 * what prometheus-pve-exporter's pve_node_info{level} shows (it reads
 * /cluster/resources, which is built from the same dump). Guest and storage
 * lines are skipped without being parsed. */
#include <stdio.h>
#include <string.h>

#include "pve_parsers.h"

#define RRD_LEVEL_MAX 7      /* longer than any level PVE has used */

/* The node of a node line's key, or NULL when the key is another kind. */
static const char *node_of_key(const char *key, size_t len, size_t *node_len)
{
    static const char *const prefixes[] = {"pve-node-9.0/", "pve2-node/"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t pl = strlen(prefixes[i]);
        if (len > pl && memcmp(key, prefixes[i], pl) == 0) {
            *node_len = len - pl;
            return key + pl;
        }
    }
    return NULL;
}

static bool level_ok(const char *s, size_t n)
{
    if (n > RRD_LEVEL_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 'a' || s[i] > 'z')
            return false;
    return true;
}

/* One node line after its key's colon: "uptime:level:...". Fills out or
 * returns false with why. */
static bool take_node_line(const char *node, size_t node_len, const char *values, const char *end,
                           struct pve_rrd_level *out, const char **why)
{
    if (node_len >= sizeof out->node) {
        *why = "node name too long";
        return false;
    }
    memcpy(out->node, node, node_len);
    out->node[node_len] = '\0';
    if (!pve_node_name_ok(out->node)) {
        *why = "invalid node name";
        return false;
    }
    const char *level = memchr(values, ':', (size_t)(end - values));
    if (!level) {
        *why = "fewer than two values";
        return false;
    }
    level++;
    const char *level_end = memchr(level, ':', (size_t)(end - level));
    size_t n = (size_t)((level_end ? level_end : end) - level);
    if (!level_ok(level, n)) {
        *why = "subscription level is not a short lowercase word";
        return false;
    }
    memcpy(out->level, level, n);
    out->level[n] = '\0';
    return true;
}

int parse_rrd_levels(const char *text, struct pve_rrd_level *out, size_t cap, struct parse_err *err)
{
    size_t n = 0;
    int lineno = 0;
    for (const char *p = text; *p; ) {
        const char *nl = strchr(p, '\n');
        lineno++;
        if (!nl) {
            pp_err(err, lineno, "truncated (last line has no newline)");
            err->bad_rows++;
            break;
        }
        const char *colon = memchr(p, ':', (size_t)(nl - p));
        size_t node_len;
        const char *node = colon ? node_of_key(p, (size_t)(colon - p), &node_len) : NULL;
        const char *why = NULL;
        if (!colon) {
            why = "no key";
        } else if (node && n < cap) {
            if (take_node_line(node, node_len, colon + 1, nl, &out[n], &why))
                n++;
        } else if (node) {
            why = "more node lines than nodes expected";
        }
        if (why) {
            pp_err(err, lineno, "%s", why);
            err->bad_rows++;
        }
        p = nl + 1;
    }
    return (int)n;
}

const char *pve_rrd_level_of(const struct pve_rrd_level *v, size_t n, const char *node)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].node, node) == 0)
            return v[i].level;
    return NULL;
}
