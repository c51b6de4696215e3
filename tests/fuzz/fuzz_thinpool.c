/* fuzz_thinpool.c — the dm-thin status/table parsers and the dm name
 * splitter (agent/thinpool_parsers.c): the kernel's text is trusted little,
 * names not at all. The first byte picks the parser, the rest is its input. */
#include <stdlib.h>
#include <string.h>

#include "thinpool_parsers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    char *text = malloc(size);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    char err[160];
    switch (data[0] % 5) {
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
