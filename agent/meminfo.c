/* meminfo.c — the "meminfo" collector: /proc/meminfo into Report.host.memory.
 *
 * Takes the nine keys the Memory message carries (total, free, available,
 * buffers, cached, swap total/free, shmem, sreclaimable), converting the
 * kernel's kB to bytes. Keys the kernel does not print stay unset; MemTotal
 * is required. */
#include <stddef.h>
#include <string.h>

#include "collector.h"
#include "proc_parsers.h"

/* One wanted key and where its value and has_ flag live in Pvescope__Memory. */
struct mem_key {
    const char *key;
    size_t val_off;
    size_t has_off;
};

#define MEM_KEY(k, f) {k, offsetof(Pvescope__Memory, f), offsetof(Pvescope__Memory, has_##f)}
static const struct mem_key mem_keys[] = {
    MEM_KEY("MemTotal", total),         MEM_KEY("MemFree", free),
    MEM_KEY("MemAvailable", available), MEM_KEY("Buffers", buffers),
    MEM_KEY("Cached", cached),          MEM_KEY("SwapTotal", swap_total),
    MEM_KEY("SwapFree", swap_free),     MEM_KEY("Shmem", shmem),
    MEM_KEY("SReclaimable", sreclaimable),
};
#undef MEM_KEY
#define N_MEM_KEYS (sizeof mem_keys / sizeof mem_keys[0])

/* Returns the table entry for [k, k+len), or NULL when we do not want it. */
static const struct mem_key *find_key(const char *k, size_t len)
{
    for (size_t i = 0; i < N_MEM_KEYS; i++)
        if (strlen(mem_keys[i].key) == len && memcmp(mem_keys[i].key, k, len) == 0)
            return &mem_keys[i];
    return NULL;
}

/* Parses "<n> kB" after the colon into bytes. Returns false on a malformed
 * value, a missing or different unit, trailing text or overflow. */
static bool parse_kb_value(struct pp_cur *c, uint64_t *bytes)
{
    uint64_t kb;
    const char *unit;
    size_t ulen;
    if (!pp_u64(c, &kb) || !pp_word(c, &unit, &ulen) || !pp_at_end(c))
        return false;
    if (ulen != 2 || memcmp(unit, "kB", 2) != 0 || kb > UINT64_MAX / 1024)
        return false;
    *bytes = kb * 1024;
    return true;
}

/* pp_line_fn: every line must be "Key:", but only wanted keys are parsed further. */
static int take_line(struct pp_cur *c, int lineno, void *arg, struct parse_err *err)
{
    Pvescope__Memory *m = arg;
    const char *colon = memchr(c->p, ':', (size_t)(c->end - c->p));
    if (!colon || colon == c->p) {
        pp_err(err, lineno, "malformed line (no \"Key:\")");
        return -1;
    }
    const struct mem_key *k = find_key(c->p, (size_t)(colon - c->p));
    if (!k)
        return 0;
    c->p = colon + 1;
    protobuf_c_boolean *has = (protobuf_c_boolean *)((char *)m + k->has_off);
    uint64_t *val = (uint64_t *)((char *)m + k->val_off);
    if (*has) {
        pp_err(err, lineno, "duplicate %s", k->key);
        return -1;
    }
    if (!parse_kb_value(c, val)) {
        pp_err(err, lineno, "malformed %s value", k->key);
        return -1;
    }
    *has = true;
    return 0;
}

int parse_meminfo(const char *text, Pvescope__Memory *m, struct parse_err *err)
{
    if (pp_each_line(text, take_line, m, err) < 0)
        return -1;
    if (!m->has_total) {
        pp_err(err, 0, "no MemTotal");
        return -1;
    }
    return 0;
}

/* Reads /proc/meminfo and attaches host.memory. */
static int meminfo_collect(void *state, struct collector_ctx *ctx, Pvescope__Report *r)
{
    (void)state;
    if (proc_read(ctx, "meminfo", FILE_ONE_RECORD) != 0)
        return -1;
    Pvescope__Memory *m = arena_alloc(ctx->arena, sizeof *m);
    pvescope__memory__init(m);
    struct parse_err e = {0};
    if (parse_meminfo(ctx->scratch->data, m, &e) != 0)
        return proc_fail(ctx, "meminfo", &e);
    report_host(r, ctx->arena)->memory = m;
    return 0;
}

const struct collector collector_meminfo = {
    .name = "meminfo",
    .help = "Memory and swap totals, free, available, buffers, cached, shmem and reclaimable slab from /proc/meminfo",
    .default_enabled = true,
    .collect = meminfo_collect,
};
