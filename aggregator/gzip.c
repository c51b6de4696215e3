/* gzip.c — see gzip.h.
 *
 * Compression is libdeflate's, not zlib's: the body is always whole in
 * memory, and libdeflate compresses it in one call about twice as fast as
 * zlib at the same level, into a smaller body (80 MB of /metrics at 500
 * nodes: docs/benchmarks.md). */
#include "gzip.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libdeflate.h>

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

bool gzip_compress_with(struct libdeflate_compressor *c, const char *in, size_t len, struct buf *out)
{
    size_t bound = libdeflate_gzip_compress_bound(c, len);
    buf_reset(out);
    buf_reserve(out, bound);
    out->len = libdeflate_gzip_compress(c, in, len, out->data, bound);
    return out->len > 0;
}

bool gzip_compress(const char *in, size_t len, int level, struct buf *out)
{
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(level);
    if (!c)
        return false;
    bool ok = gzip_compress_with(c, in, len, out);
    libdeflate_free_compressor(c);
    return ok;
}
