/* keyring.h — the aggregator's map from cluster name to accepted keys.
 *
 * File format, one entry per line:   <cluster> <key text>
 * where <key text> is exactly the content of an agent's key file. Blank lines
 * and lines starting with '#' are ignored. Several lines for one cluster are
 * all accepted, so a key can be rotated without losing reports. */
#ifndef PVESCOPE_KEYRING_H
#define PVESCOPE_KEYRING_H

#include <stdbool.h>
#include <stddef.h>

#include "seal.h"

#define KEYRING_CLUSTER_MAX 64

struct keyring_entry {
    char cluster[KEYRING_CLUSTER_MAX];
    struct cluster_key key;
};

struct keyring {
    struct keyring_entry *entries;
    size_t len;
};

/* Parses keyring text; on error returns false with "line N: reason" in err. */
bool keyring_parse(const char *text, struct keyring *kr, char *err, size_t errlen);
bool keyring_load_file(const char *path, struct keyring *kr, char *err, size_t errlen);
/* True when at least one key is configured for cluster. */
bool keyring_has_cluster(const struct keyring *kr, const char *cluster);
void keyring_free(struct keyring *kr);

#endif
