/* keyring.c — see keyring.h. */
#include "keyring.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "names.h"

static bool parse_line(const char *line, size_t len, struct keyring_entry *e)
{
    char tmp[KEYRING_CLUSTER_MAX + KEY_TEXT_MAX + 8];
    if (len >= sizeof tmp)
        return false;
    memcpy(tmp, line, len);
    tmp[len] = '\0';
    size_t name_len = strcspn(tmp, " \t");
    if (!name_valid_n(tmp, name_len) || !tmp[name_len])
        return false;
    memcpy(e->cluster, tmp, name_len);
    e->cluster[name_len] = '\0';
    bool ok = key_parse(tmp + name_len, &e->key);
    sodium_memzero(tmp, sizeof tmp);
    return ok;
}

bool keyring_parse(const char *text, struct keyring *kr, char *err, size_t errlen)
{
    kr->entries = NULL;
    kr->len = 0;
    size_t cap = 0;
    int lineno = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        lineno++;
        size_t lead = strspn(p, " \t");
        bool skip = lead >= len || p[lead] == '#' || p[lead] == '\r';
        if (!skip) {
            if (kr->len == cap) {
                cap = cap ? cap * 2 : 4;
                struct keyring_entry *n = realloc(kr->entries, cap * sizeof *n);
                if (!n)
                    abort();
                kr->entries = n;
            }
            if (!parse_line(p + lead, len - lead, &kr->entries[kr->len])) {
                snprintf(err, errlen, "line %d: expected '<cluster> %s<base64 key>'", lineno,
                         KEY_TEXT_PREFIX);
                keyring_free(kr);
                return false;
            }
            kr->len++;
        }
        p += len + (nl ? 1 : 0);
    }
    if (kr->len == 0) {
        snprintf(err, errlen, "no keys");
        return false;
    }
    return true;
}

bool keyring_load_file(const char *path, struct keyring *kr, char *err, size_t errlen)
{
    struct buf b = BUF_INIT;
    int rc = read_file_at(path[0] == '/' ? "/" : ".", path, &b);
    bool ok = false;
    if (rc < 0) {
        snprintf(err, errlen, "cannot read key ring %s: %s", path, strerror(-rc));
    } else {
        char why[160];
        ok = keyring_parse(b.data, kr, why, sizeof why);
        if (!ok)
            snprintf(err, errlen, "key ring %s: %s", path, why);
    }
    if (b.data)
        sodium_memzero(b.data, b.cap);
    buf_free(&b);
    return ok;
}

bool keyring_has_cluster(const struct keyring *kr, const char *cluster)
{
    for (size_t i = 0; i < kr->len; i++)
        if (strcmp(kr->entries[i].cluster, cluster) == 0)
            return true;
    return false;
}

void keyring_free(struct keyring *kr)
{
    if (kr->entries)
        sodium_memzero(kr->entries, kr->len * sizeof *kr->entries);
    free(kr->entries);
    kr->entries = NULL;
    kr->len = 0;
}
