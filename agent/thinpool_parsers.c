/* thinpool_parsers.c — see thinpool_parsers.h. */
#include "thinpool_parsers.h"

#include <linux/dm-ioctl.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A cursor over space-separated tokens. */
struct tokens {
    const char *p;
};

struct token {
    const char *s;
    size_t n;
};

__attribute__((format(printf, 3, 4))) static bool fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return false;
}

/* The next token; false at the end of the string. */
static bool next_token(struct tokens *t, struct token *tok)
{
    while (*t->p == ' ')
        t->p++;
    if (!*t->p)
        return false;
    tok->s = t->p;
    while (*t->p && *t->p != ' ')
        t->p++;
    tok->n = (size_t)(t->p - tok->s);
    return true;
}

static bool token_is(const struct token *tok, const char *word)
{
    return strlen(word) == tok->n && memcmp(tok->s, word, tok->n) == 0;
}

/* Decimal digits only (the kernel prints %llu), no overflow. */
static bool parse_u64(const char *s, size_t n, uint64_t *out)
{
    if (n == 0)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static bool token_u64(const struct token *tok, uint64_t *out) { return parse_u64(tok->s, tok->n, out); }

/* `<used>/<total>` with used <= total (the kernel derives used from total). */
static bool token_fraction(const struct token *tok, uint64_t *used, uint64_t *total)
{
    const char *slash = memchr(tok->s, '/', tok->n);
    if (!slash)
        return false;
    size_t a = (size_t)(slash - tok->s);
    return parse_u64(tok->s, a, used) && parse_u64(slash + 1, tok->n - a - 1, total) && *used <= *total;
}

/* `MAJ:MIN` as format_dev_t prints it. */
static bool token_dev(const struct token *tok, unsigned *major, unsigned *minor)
{
    const char *colon = memchr(tok->s, ':', tok->n);
    if (!colon)
        return false;
    size_t a = (size_t)(colon - tok->s);
    uint64_t ma, mi;
    if (!parse_u64(tok->s, a, &ma) || !parse_u64(colon + 1, tok->n - a - 1, &mi) || ma > UINT32_MAX ||
        mi > UINT32_MAX)
        return false;
    *major = (unsigned)ma;
    *minor = (unsigned)mi;
    return true;
}

/* Quotes at most 32 bytes of a token into an error message. */
#define TOK_FMT "'%.*s'"
#define TOK_ARG(t) (int)((t).n > 32 ? 32 : (t).n), (t).s

/* The whole string is `word` plus any trailing spaces. */
static bool whole_is(const char *params, const char *word)
{
    size_t n = strlen(word);
    if (strncmp(params, word, n) != 0)
        return false;
    return params[n + strspn(params + n, " ")] == '\0';
}

/* One word of the thin-pool status tail (after the mode). */
static bool pool_tail_word(const struct token *w, struct thinpool_status *out, char *err, size_t errlen)
{
    static const struct {
        const char *word;
        enum thin_discards d;
    } discards[] = {{"discard_passdown", THIN_DISCARD_PASSDOWN},
                    {"no_discard_passdown", THIN_NO_DISCARD_PASSDOWN},
                    {"ignore_discard", THIN_IGNORE_DISCARD}};
    for (size_t i = 0; i < sizeof discards / sizeof discards[0]; i++) {
        if (!token_is(w, discards[i].word))
            continue;
        if (out->discards != THIN_DISCARDS_UNKNOWN)
            return fail(err, errlen, "second discard word " TOK_FMT, TOK_ARG(*w));
        out->discards = discards[i].d;
        return true;
    }
    if (token_is(w, "queue_if_no_space") || token_is(w, "error_if_no_space")) {
        if (out->has_no_space_policy)
            return fail(err, errlen, "second no-space policy " TOK_FMT, TOK_ARG(*w));
        out->has_no_space_policy = true;
        out->error_if_no_space = token_is(w, "error_if_no_space");
        return true;
    }
    if (token_is(w, "needs_check") || token_is(w, "-")) {
        if (out->has_needs_check)
            return fail(err, errlen, "second needs_check word " TOK_FMT, TOK_ARG(*w));
        out->has_needs_check = true;
        out->needs_check = token_is(w, "needs_check");
        return true;
    }
    uint64_t v;
    if (token_u64(w, &v)) {
        if (out->has_meta_low_watermark)
            return fail(err, errlen, "second metadata low watermark " TOK_FMT, TOK_ARG(*w));
        out->has_meta_low_watermark = true;
        out->meta_low_watermark = v;
        return true;
    }
    return fail(err, errlen, "unknown word " TOK_FMT, TOK_ARG(*w));
}

bool thinpool_parse_status(const char *params, struct thinpool_status *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (whole_is(params, "Fail") || whole_is(params, "Error")) {
        out->mode = params[0] == 'F' ? PVESCOPE__THIN_POOL_MODE__THIN_POOL_FAIL
                                     : PVESCOPE__THIN_POOL_MODE__THIN_POOL_ERROR;
        return true;
    }
    struct tokens t = {params};
    struct token tok;
    if (!next_token(&t, &tok) || !token_u64(&tok, &out->transaction_id))
        return fail(err, errlen, "field 1 (transaction id) is not a number");
    if (!next_token(&t, &tok) || !token_fraction(&tok, &out->meta_used, &out->meta_total))
        return fail(err, errlen, "field 2 (metadata blocks) is not used/total with used <= total");
    if (!next_token(&t, &tok) || !token_fraction(&tok, &out->data_used, &out->data_total))
        return fail(err, errlen, "field 3 (data blocks) is not used/total with used <= total");
    if (!next_token(&t, &tok))
        return fail(err, errlen, "field 4 (held metadata root) missing");
    if (!token_is(&tok, "-")) {
        if (!token_u64(&tok, &out->held_root))
            return fail(err, errlen, "field 4 (held metadata root) " TOK_FMT " is neither - nor a number",
                        TOK_ARG(tok));
        out->has_held_root = true;
    }
    if (!next_token(&t, &tok))
        return fail(err, errlen, "field 5 (mode) missing");
    if (token_is(&tok, "rw"))
        out->mode = PVESCOPE__THIN_POOL_MODE__THIN_POOL_RW;
    else if (token_is(&tok, "ro"))
        out->mode = PVESCOPE__THIN_POOL_MODE__THIN_POOL_RO;
    else if (token_is(&tok, "out_of_data_space"))
        out->mode = PVESCOPE__THIN_POOL_MODE__THIN_POOL_OUT_OF_DATA_SPACE;
    else
        return fail(err, errlen, "field 5 (mode) " TOK_FMT " is not rw, ro or out_of_data_space", TOK_ARG(tok));
    while (next_token(&t, &tok))
        if (!pool_tail_word(&tok, out, err, errlen))
            return false;
    return true;
}

/* One feature word of a thin-pool table; false if unknown. */
static bool table_feature(const struct token *w, unsigned *features)
{
    static const char *const names[] = {"skip_block_zeroing", "ignore_discard", "no_discard_passdown",
                                        "read_only", "error_if_no_space"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (token_is(w, names[i])) {
            *features |= 1u << i;
            return true;
        }
    return false;
}

bool thinpool_parse_table(const char *params, struct thinpool_table *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct tokens t = {params};
    struct token tok;
    if (!next_token(&t, &tok) || !token_dev(&tok, &out->meta_major, &out->meta_minor))
        return fail(err, errlen, "field 1 (metadata device) is not MAJ:MIN");
    if (!next_token(&t, &tok) || !token_dev(&tok, &out->data_major, &out->data_minor))
        return fail(err, errlen, "field 2 (data device) is not MAJ:MIN");
    if (!next_token(&t, &tok) || !token_u64(&tok, &out->block_sectors))
        return fail(err, errlen, "field 3 (data block size) is not a number");
    if (out->block_sectors < THIN_BLOCK_SECTORS_MIN || out->block_sectors > THIN_BLOCK_SECTORS_MAX ||
        out->block_sectors % THIN_BLOCK_SECTORS_MIN != 0)
        return fail(err, errlen, "data block size %llu sectors is not a multiple of %u in %u..%u",
                    (unsigned long long)out->block_sectors, THIN_BLOCK_SECTORS_MIN, THIN_BLOCK_SECTORS_MIN,
                    THIN_BLOCK_SECTORS_MAX);
    if (!next_token(&t, &tok) || !token_u64(&tok, &out->low_water_blocks))
        return fail(err, errlen, "field 4 (low water mark) is not a number");
    if (!next_token(&t, &tok))
        return true;                       /* no feature count: no features */
    uint64_t n;
    if (!token_u64(&tok, &n))
        return fail(err, errlen, "field 5 (feature count) " TOK_FMT " is not a number", TOK_ARG(tok));
    for (uint64_t i = 0; i < n; i++) {
        if (!next_token(&t, &tok))
            return fail(err, errlen, "%llu features announced, %llu present", (unsigned long long)n,
                        (unsigned long long)i);
        if (!table_feature(&tok, &out->features))
            return fail(err, errlen, "unknown feature " TOK_FMT, TOK_ARG(tok));
    }
    if (next_token(&t, &tok))
        return fail(err, errlen, "extra word " TOK_FMT " after %llu features", TOK_ARG(tok), (unsigned long long)n);
    return true;
}

bool thin_parse_status(const char *params, struct thin_status *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (whole_is(params, "Fail") || whole_is(params, "Error")) {
        out->fail = params[0] == 'F';
        out->error = !out->fail;
        return true;
    }
    struct tokens t = {params};
    struct token tok;
    if (!next_token(&t, &tok) || !token_u64(&tok, &out->mapped_sectors))
        return fail(err, errlen, "field 1 (mapped sectors) is not a number");
    if (!next_token(&t, &tok))
        return fail(err, errlen, "field 2 (highest mapped sector) missing");
    if (!token_is(&tok, "-")) {
        if (!token_u64(&tok, &out->highest_mapped_sector))
            return fail(err, errlen, "field 2 (highest mapped sector) " TOK_FMT " is neither - nor a number",
                        TOK_ARG(tok));
        out->has_highest = true;
    }
    if (next_token(&t, &tok))
        return fail(err, errlen, "extra word " TOK_FMT, TOK_ARG(tok));
    return true;
}

bool thin_parse_table(const char *params, struct thin_table *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct tokens t = {params};
    struct token tok;
    if (!next_token(&t, &tok) || !token_dev(&tok, &out->pool_major, &out->pool_minor))
        return fail(err, errlen, "field 1 (pool device) is not MAJ:MIN");
    if (!next_token(&t, &tok) || !token_u64(&tok, &out->dev_id))
        return fail(err, errlen, "field 2 (device id) is not a number");
    if (next_token(&t, &tok)) {
        if (!token_dev(&tok, &out->origin_major, &out->origin_minor))
            return fail(err, errlen, "field 3 (external origin) " TOK_FMT " is not MAJ:MIN", TOK_ARG(tok));
        out->has_origin = true;
    }
    if (next_token(&t, &tok))
        return fail(err, errlen, "extra word " TOK_FMT, TOK_ARG(tok));
    return true;
}

/* Copies src[0..n) into dst (cap bytes) turning each `--` into `-`. A lone
 * `-` cannot occur: the caller cut the part at the first one. */
static bool unquote(char *dst, size_t cap, const char *src, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k + 1 >= cap)
            return false;
        dst[k++] = src[i];
        if (src[i] == '-')
            i++;                           /* skip the second hyphen of the pair */
    }
    dst[k] = '\0';
    return true;
}

/* Length of the part of s before its first single `-` (hyphen pairs are part
 * of the name), or strlen(s) when there is none. */
static size_t part_len(const char *s)
{
    size_t i = 0;
    while (s[i]) {
        if (s[i] == '-') {
            if (s[i + 1] != '-')
                return i;
            i += 2;
        } else {
            i++;
        }
    }
    return i;
}

bool thinpool_split_dm_name(const char *name, char *vg, char *lv, char *layer, size_t cap, char *err,
                            size_t errlen)
{
    size_t nv = part_len(name);
    if (nv == 0)
        return fail(err, errlen, "empty volume group");
    if (!name[nv])
        return fail(err, errlen, "no single '-' between volume group and LV");
    const char *l = name + nv + 1;
    size_t nl = part_len(l);
    if (nl == 0)
        return fail(err, errlen, "empty LV");
    const char *y = l[nl] ? l + nl + 1 : l + nl;
    if (l[nl] && !*y)
        return fail(err, errlen, "empty layer after a trailing '-'");
    if (strchr(y, '-'))
        return fail(err, errlen, "layer '%.32s' contains '-'", y);
    if (!unquote(vg, cap, name, nv) || !unquote(lv, cap, l, nl) || strlen(y) >= cap)
        return fail(err, errlen, "name longer than %zu bytes", cap - 1);
    memcpy(layer, y, strlen(y) + 1);
    return true;
}

/* ---- dm ioctl replies ------------------------------------------------------ */

bool dm_decode_dev(uint64_t dev, unsigned *major, unsigned *minor)
{
    if (dev > UINT32_MAX)
        return false;
    *major = (unsigned)((dev >> 8) & 0xfff);
    *minor = (unsigned)((dev & 0xff) | ((dev >> 12) & 0xfff00));
    return true;
}

bool dm_parse_reply(const uint8_t *buf, size_t size, struct dm_reply *out, char *err, size_t errlen)
{
    struct dm_ioctl h;
    if (size < sizeof h)
        return fail(err, errlen, "reply of %zu bytes, shorter than its header", size);
    memcpy(&h, buf, sizeof h);         /* the buffer need not be aligned */
    if (h.version[0] != DM_VERSION_MAJOR)
        return fail(err, errlen, "ioctl interface %u.%u.%u, not %d.x", h.version[0], h.version[1], h.version[2],
                    DM_VERSION_MAJOR);
    if (h.data_start < sizeof h || h.data_start > h.data_size || h.data_size > size)
        return fail(err, errlen, "data %u..%u outside the %zu-byte reply", h.data_start, h.data_size, size);
    if (!memchr(h.name, '\0', sizeof h.name) || !memchr(h.uuid, '\0', sizeof h.uuid))
        return fail(err, errlen, "name or uuid not terminated");
    if (!dm_decode_dev(h.dev, &out->major, &out->minor))
        return fail(err, errlen, "dev 0x%llx is not a kernel dev number", (unsigned long long)h.dev);
    memcpy(out->version, h.version, sizeof out->version);
    out->flags = h.flags;
    out->target_count = h.target_count;
    out->event_nr = h.event_nr;
    memcpy(out->name, h.name, sizeof out->name);
    memcpy(out->uuid, h.uuid, sizeof out->uuid);
    out->data = buf + h.data_start;
    out->data_len = h.data_size - h.data_start;
    return true;
}

bool dm_parse_name_list(const uint8_t *data, size_t len, struct dm_name_entry *out, size_t cap, size_t *n,
                        char *err, size_t errlen)
{
    const size_t name_at = offsetof(struct dm_name_list, name);
    *n = 0;
    if (len == 0)
        return true;                   /* no devices (kernels >= 5.13 send no record) */
    for (size_t off = 0;;) {
        if (len - off <= name_at)
            return fail(err, errlen, "record at %zu of %zu cut short", off, len);
        uint64_t dev;
        uint32_t next;
        memcpy(&dev, data + off + offsetof(struct dm_name_list, dev), sizeof dev);
        memcpy(&next, data + off + offsetof(struct dm_name_list, next), sizeof next);
        size_t room = (next ? next : len - off) - name_at;   /* bytes the name may use */
        if (next && (next <= name_at || next > len - off))
            return fail(err, errlen, "record at %zu: next %u outside the %zu-byte list", off, next, len);
        if (dev == 0 && off == 0 && next == 0)
            return true;               /* the kernel's "no devices" record */
        const char *name = (const char *)data + off + name_at;
        const char *nul = memchr(name, '\0', room);
        if (!nul)
            return fail(err, errlen, "record at %zu: name not terminated", off);
        if (nul == name || (size_t)(nul - name) >= DM_NAME_LEN)
            return fail(err, errlen, "record at %zu: name of %zu bytes", off, (size_t)(nul - name));
        struct dm_name_entry e = {name, 0, 0};
        if (!dm_decode_dev(dev, &e.major, &e.minor) || dev == 0)
            return fail(err, errlen, "%s: dev 0x%llx is not a kernel dev number", name, (unsigned long long)dev);
        if (out && *n < cap)
            out[*n] = e;
        ++*n;
        if (!next)
            return true;
        off += next;
    }
}

bool dm_parse_targets(const uint8_t *data, size_t len, uint32_t count, struct dm_target_entry *out, char *err,
                      size_t errlen)
{
    const size_t spec_len = sizeof(struct dm_target_spec);
    size_t off = 0;
    for (uint32_t i = 0; i < count; i++) {
        if (off >= len || len - off <= spec_len)
            return fail(err, errlen, "target %u of %u at %zu outside the %zu-byte data", i + 1, count, off, len);
        struct dm_target_spec spec;
        memcpy(&spec, data + off, spec_len);
        if (!memchr(spec.target_type, '\0', sizeof spec.target_type) || !spec.target_type[0])
            return fail(err, errlen, "target %u: type not terminated or empty", i + 1);
        const char *params = (const char *)data + off + spec_len;
        const char *nul = memchr(params, '\0', len - off - spec_len);
        if (!nul)
            return fail(err, errlen, "target %u: params not terminated", i + 1);
        size_t end = (size_t)(nul + 1 - (const char *)data);
        if (i + 1 < count && (spec.next < end || spec.next > len))
            return fail(err, errlen, "target %u: next %u outside %zu..%zu", i + 1, spec.next, end, len);
        if (out) {
            out[i].start = spec.sector_start;
            out[i].length = spec.length;
            /* the type sits in the caller's buffer: point at it there */
            out[i].type = (const char *)data + off + offsetof(struct dm_target_spec, target_type);
            out[i].params = params;
        }
        off = spec.next;
    }
    return true;
}
