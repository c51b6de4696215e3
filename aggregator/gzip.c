/* gzip.c — see gzip.h. */
#include "gzip.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

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

bool gzip_compress(const char *in, size_t len, int level, struct buf *out)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return false;
    size_t bound = deflateBound(&z, (uLong)len);
    buf_reset(out);
    buf_reserve(out, bound);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)out->data;
    z.avail_out = (uInt)bound;
    int rc = deflate(&z, Z_FINISH);
    out->len = z.total_out;
    deflateEnd(&z);
    return rc == Z_STREAM_END;
}
