/* bootid.c — the "bootid" collector: the kernel boot id into Report.host.boot_id.
 *
 * /proc/sys/kernel/random/boot_id is a random UUID chosen at boot; the
 * aggregator uses it to tell a reboot (counters reset) from a counter reset
 * and to scope the envelope replay check. */
#include <string.h>

#include "collector.h"
#include "proc_parsers.h"

#define BOOT_ID_REL "sys/kernel/random/boot_id"

/* True for [0-9a-f]; the kernel prints the UUID in lower case. */
static bool is_lower_hex(char c) { return pp_is_digit(c) || (c >= 'a' && c <= 'f'); }

int parse_boot_id(const char *text, char out[BOOT_ID_LEN + 1], struct parse_err *err)
{
    out[0] = '\0';
    if (text[0] == '\0') {
        pp_err(err, 0, "empty file");
        return -1;
    }
    for (size_t i = 0; i < BOOT_ID_LEN; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (text[i] == '\0' || (dash ? text[i] != '-' : !is_lower_hex(text[i]))) {
            pp_err(err, 1, "malformed boot id (expected a lower-case UUID)");
            return -1;
        }
    }
    if (text[BOOT_ID_LEN] != '\n' || text[BOOT_ID_LEN + 1] != '\0') {
        pp_err(err, 1, "malformed boot id (expected a UUID and a newline)");
        return -1;
    }
    memcpy(out, text, BOOT_ID_LEN);
    out[BOOT_ID_LEN] = '\0';
    return 0;
}

/* Reads the boot id and sets host.boot_id. */
static int bootid_collect(void *state, struct collector_ctx *ctx, Pvescope__Report *r)
{
    (void)state;
    if (proc_read(ctx, BOOT_ID_REL, FILE_ONE_RECORD) != 0)
        return -1;
    char id[BOOT_ID_LEN + 1];
    struct parse_err e = {0};
    if (parse_boot_id(ctx->scratch->data, id, &e) != 0)
        return proc_fail(ctx, BOOT_ID_REL, &e);
    report_host(r, ctx->arena)->boot_id = arena_strdup(ctx->arena, id);
    return 0;
}

const struct collector collector_bootid = {
    .name = "bootid",
    .help = "Kernel boot id from /proc/sys/kernel/random/boot_id",
    .default_enabled = true,
    .collect = bootid_collect,
};
