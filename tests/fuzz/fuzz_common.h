/* fuzz_common.h — a fixed cluster key and ingest set-up shared by the
 * ingest fuzz targets. Each target is its own process, so the statics here
 * are per-target state, created once on the first input. */
#ifndef PVESCOPE_FUZZ_COMMON_H
#define PVESCOPE_FUZZ_COMMON_H

#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "log.h"
#include "seal.h"

#define FUZZ_NOW_MS 1763700000000LL

struct fuzz_world {
    struct cluster_key key;
    struct keyring kr;
    struct store store;
    struct ingest ig;
};

static struct fuzz_world *fuzz_world(void)
{
    static struct fuzz_world *w;
    if (w)
        return w;
    w = calloc(1, sizeof *w);
    seal_library_init();
    log_set_level(LOG_LVL_ERROR);      /* rejects are expected by the million */
    memset(w->key.bytes, 0x5a, sizeof w->key.bytes);
    char text[KEY_TEXT_MAX + 16], err[128];
    strcpy(text, "fuzz ");
    key_format(&w->key, text + 5);
    if (!keyring_parse(text, &w->kr, err, sizeof err))
        abort();
    store_init(&w->store, 60, 64);
    ingest_init(&w->ig, &w->store, &w->kr, 1 << 20, 300);
    return w;
}

#endif
