/* gzip.c — see gzip.h.
 *
 * Compression is Intel ISA-L's igzip (docs/decisions.md): a stateful
 * deflate stream takes the plan's pieces one after the other, so the body
 * is compressed without first copying its text into one buffer (83 MB at
 * 500 nodes), and its level 1 is about twice as fast as libdeflate's on
 * /metrics text, for a body about 9 % larger. ISA-L has a fixed cost per
 * call, and most pieces (one node's lines of one family) are a few hundred
 * bytes: those are gathered into a staging block first. */
#include "gzip.h"

#include <ctype.h>
#include <isa-l/igzip_lib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Parses the q-value of one list element's parameters (";q=0.5"); 1 if absent. */
static double element_q(const char *params, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (params[i] != ';')
            continue;
        size_t j = i + 1;
        while (j < n && isspace((unsigned char)params[j]))
            j++;
        if (j + 1 < n && (params[j] == 'q' || params[j] == 'Q') && params[j + 1] == '=') {
            char tmp[16];
            size_t k = 0;
            for (j += 2; j < n && k + 1 < sizeof tmp && params[j] != ';'; j++)
                tmp[k++] = params[j];
            tmp[k] = '\0';
            return strtod(tmp, NULL);
        }
    }
    return 1;
}

bool accepts_gzip(const char *ae)
{
    if (!ae)
        return false;
    double q_gzip = -1, q_star = -1;
    while (*ae) {
        size_t n = strcspn(ae, ",");
        size_t lead = strspn(ae, " \t");
        size_t tok = lead < n ? strcspn(ae + lead, " \t;,") : 0;
        const char *t = ae + lead;
        double q = element_q(t + tok, n - lead - tok);
        if ((tok == 4 && strncasecmp(t, "gzip", 4) == 0) || (tok == 6 && strncasecmp(t, "x-gzip", 6) == 0))
            q_gzip = q;
        else if (tok == 1 && *t == '*')
            q_star = q;
        ae += n + (ae[n] ? 1 : 0);
    }
    return q_gzip >= 0 ? q_gzip > 0 : q_star > 0;
}

/* Pieces at least this long go to ISA-L where they are; shorter ones are
 * copied into the staging block, which ISA-L gets whenever it is full. The
 * copy costs less than the calls it saves (docs/decisions.md: ~50 against
 * ~90 ms for 83 MB in 71,000 pieces). */
#define GZIP_DIRECT_MIN (16u << 10)
#define GZIP_STAGE (128u << 10)
/* The least free room handed to ISA-L when the body must grow. */
#define GZIP_MIN_ROOM (64u << 10)

struct gzip_deflater {
    struct isal_zstream zs;
    size_t last_body;                  /* bytes of the last body made: the next one's first size */
    size_t staged;                     /* bytes in stage */
    uint8_t level_buf[ISAL_DEF_LVL1_DEFAULT];
    uint8_t stage[GZIP_STAGE];
};

struct gzip_deflater *gzip_deflater_new(void)
{
    struct gzip_deflater *d = malloc(sizeof *d);
    if (!d)
        abort();
    d->last_body = 0;
    d->staged = 0;
    return d;
}

void gzip_deflater_free(struct gzip_deflater *d)
{
    free(d);
}

/* Starts a gzip member at level 1 into an empty out. */
static void deflater_begin(struct gzip_deflater *d, struct buf *out)
{
    isal_deflate_init(&d->zs);
    d->zs.level = 1;
    d->zs.level_buf = d->level_buf;
    d->zs.level_buf_size = sizeof d->level_buf;
    d->zs.gzip_flag = IGZIP_GZIP;
    d->staged = 0;
    buf_reset(out);
    /* an eighth more than last time: a body that grew a little fits */
    buf_reserve(out, d->last_body + d->last_body / 8 + GZIP_MIN_ROOM);
}

/* Compresses in[0..len) onto the end of out, growing it as ISA-L fills it;
 * last ends the member (gzip trailer). False on an ISA-L error. */
static bool deflater_feed(struct gzip_deflater *d, const void *in, size_t len, bool last, struct buf *out)
{
    struct isal_zstream *zs = &d->zs;
    const uint8_t *next = in;
    do {
        uint32_t take = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
        zs->next_in = (uint8_t *)next;        /* ISA-L never writes its input */
        zs->avail_in = take;
        zs->end_of_stream = last && take == len;
        do {
            if (out->cap - out->len - 1 < GZIP_MIN_ROOM)
                buf_reserve(out, out->len / 2 > GZIP_MIN_ROOM ? out->len / 2 : GZIP_MIN_ROOM);
            size_t room = out->cap - out->len - 1;          /* buf keeps a NUL after its data */
            zs->next_out = (uint8_t *)out->data + out->len;
            zs->avail_out = room > UINT32_MAX ? UINT32_MAX : (uint32_t)room;
            int rc = isal_deflate(zs);
            out->len = (size_t)((char *)zs->next_out - out->data);
            if (rc != COMP_OK)
                return false;
        } while (zs->avail_in > 0 || (zs->end_of_stream && zs->internal_state.state != ZSTATE_END));
        next += take;
        len -= take;
    } while (len > 0);
    out->data[out->len] = '\0';
    return true;
}

/* Hands the staging block to ISA-L and empties it. */
static bool deflater_flush_stage(struct gzip_deflater *d, bool last, struct buf *out)
{
    bool ok = deflater_feed(d, d->stage, d->staged, last, out);
    d->staged = 0;
    return ok;
}

/* Adds n bytes at p to the member: staged when short, else fed in place. */
static bool deflater_add(struct gzip_deflater *d, const char *p, size_t n, struct buf *out)
{
    if (n >= GZIP_DIRECT_MIN) {
        if (d->staged && !deflater_flush_stage(d, false, out))
            return false;
        return deflater_feed(d, p, n, false, out);
    }
    if (d->staged + n > sizeof d->stage && !deflater_flush_stage(d, false, out))
        return false;
    memcpy(d->stage + d->staged, p, n);
    d->staged += n;
    return true;
}

bool gzip_plan(struct gzip_deflater *d, const struct expo_plan *plan, struct buf *out)
{
    deflater_begin(d, out);
    for (size_t i = 0; i < plan->n; i++)
        if (!deflater_add(d, expo_piece_text(plan, &plan->pieces[i]), plan->pieces[i].len, out))
            return false;
    if (!deflater_flush_stage(d, true, out))     /* whatever is staged, then the trailer */
        return false;
    d->last_body = out->len;
    return true;
}
