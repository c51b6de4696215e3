/* fuzz_zfs.c — the zfs collector's kstat parsers (zfs_parsers.h). The first
 * input byte picks the parser (named kstat or pool state), the rest is the
 * file's text. A hostile or truncated kstat file must never crash the agent,
 * and a parse either fails before any row is handed out or hands out
 * exactly the rows it counts. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_text.h"
#include "zfs_parsers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
    size_t rows;
    unsigned sum;      /* of every byte the rows point at */
};

/* Touches every byte a row points at, so ASan sees any read out of bounds. */
static void check_row(const struct zfs_kstat_row *row, void *arg)
{
    struct seen *s = arg;
    for (size_t i = 0; i < row->name_len; i++)
        s->sum += (unsigned char)row->name[i];
    for (size_t i = 0; i < row->str_len; i++)
        s->sum += (unsigned char)row->str[i];
    if (row->name_len == 0 || (unsigned)row->type > ZFS_KSTAT_STRING)
        abort();
    s->rows++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_mode_text(data, size);
    if (!text)
        return 0;
    struct parse_err err;
    memset(&err, 0, sizeof err);
    if (data[0] & 1) {
        int state = -1;
        if (zfs_parse_state(text, &state, &err) == 0 && (state < 0 || state >= ZFS_STATE_COUNT))
            abort();
    } else {
        struct seen seen = {0, 0};
        int rows = zfs_parse_named_kstat(text, check_row, &seen, &err);
        if ((rows < 0 && seen.rows != 0) || (rows >= 0 && (size_t)rows != seen.rows))
            abort();
    }
    free(text);
    return 0;
}
