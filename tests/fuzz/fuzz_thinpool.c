/* fuzz_thinpool.c — the dm-thin status/table parsers, the dm name splitter
 * and the dm ioctl reply walkers (agent/thinpool_parsers.c): the kernel's
 * text and buffers are trusted little, names not at all. The first byte picks
 * the parser, the rest is its input (text, or a whole ioctl buffer). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_text.h"
#include "thinpool_parsers.h"

/* A DM_LIST_DEVICES or DM_TABLE_STATUS reply: the header, then its data
 * walked twice (checking, then filling) with the same outcome, every name,
 * type and params string inside the reply. */
static void fuzz_reply(const uint8_t *buf, size_t size, bool list)
{
    struct dm_reply r;
    char err[160];
    if (!dm_parse_reply(buf, size, &r, err, sizeof err))
        return;
    if (r.data < buf || r.data + r.data_len > buf + size || !memchr(r.name, 0, sizeof r.name))
        abort();
    if (list) {
        size_t n, n2;
        if (!dm_parse_name_list(r.data, r.data_len, NULL, 0, &n, err, sizeof err))
            return;
        struct dm_name_entry *e = malloc((n ? n : 1) * sizeof *e);
        if (!dm_parse_name_list(r.data, r.data_len, e, n, &n2, err, sizeof err) || n2 != n)
            abort();
        for (size_t i = 0; i < n; i++)
            if ((const uint8_t *)e[i].name < r.data ||
                (const uint8_t *)e[i].name + strlen(e[i].name) >= r.data + r.data_len)
                abort();
        free(e);
        return;
    }
    if (!dm_parse_targets(r.data, r.data_len, r.target_count, NULL, err, sizeof err))
        return;
    struct dm_target_entry *t = malloc((r.target_count ? r.target_count : 1) * sizeof *t);
    if (!dm_parse_targets(r.data, r.data_len, r.target_count, t, err, sizeof err))
        abort();
    for (uint32_t i = 0; i < r.target_count; i++)
        if ((const uint8_t *)t[i].params + strlen(t[i].params) >= r.data + r.data_len || !t[i].type[0])
            abort();
    free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_mode_text(data, size);
    if (!text)
        return 0;
    char err[160];
    if (data[0] % 7 >= 5) {            /* binary: the exact bytes, so ASan sees any overread */
        free(text);
        uint8_t *buf = fuzz_memdup(data + 1, size - 1);
        fuzz_reply(buf, size - 1, data[0] % 7 == 5);
        free(buf);
        return 0;
    }
    switch (data[0] % 7) {
    case 0: {
        struct thinpool_status s;
        if (thinpool_parse_status(text, &s, err, sizeof err) && s.mode <= PVESCOPE__THIN_POOL_MODE__THIN_POOL_OUT_OF_DATA_SPACE &&
            (s.meta_used > s.meta_total || s.data_used > s.data_total))
            abort();                       /* accepted an inconsistent line */
        break;
    }
    case 1: {
        struct thinpool_table t;
        if (thinpool_parse_table(text, &t, err, sizeof err) &&
            (t.block_sectors < THIN_BLOCK_SECTORS_MIN || t.block_sectors > THIN_BLOCK_SECTORS_MAX))
            abort();
        break;
    }
    case 2: {
        struct thin_status s;
        thin_parse_status(text, &s, err, sizeof err);
        break;
    }
    case 3: {
        struct thin_table t;
        thin_parse_table(text, &t, err, sizeof err);
        break;
    }
    default: {
        char vg[32], lv[32], layer[32];
        if (thinpool_split_dm_name(text, vg, lv, layer, sizeof vg, err, sizeof err) &&
            (!vg[0] || !lv[0] || strchr(layer, '-')))
            abort();
        break;
    }
    }
    free(text);
    return 0;
}
