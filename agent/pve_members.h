/* pve_members.h — what the agent needs from /etc/pve/.members.
 *
 * .members is JSON written by pmxcfs (pve-internals.md §1.2). A standalone
 * node's file has no "cluster" object; then there is no cluster name. */
#ifndef PVESCOPE_PVE_MEMBERS_H
#define PVESCOPE_PVE_MEMBERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct members_local {
    char     nodename[64];      /* "nodename" (local node) */
    char     cluster_name[64];  /* "" when standalone */
    uint32_t nodeid;            /* local node's id in "nodelist"; 0 when unknown */
    bool     has_nodeid;
};

/* Parses .members text. Returns false (with a reason in err) when the text is
 * not a .members document; a standalone document is valid. */
bool members_parse_local(const char *text, struct members_local *out, char *err, size_t errlen);

#endif
