/* buf.c — see buf.h. */
#include "buf.h"

#include <stdbool.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_reserve(struct buf *b, size_t extra)
{
    if (b->cap - b->len > extra)          /* room for data plus the NUL */
        return;
    size_t need = b->len + extra + 1;
    if (need < b->len)
        abort();
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        abort();
    b->data = p;
    b->cap = cap;
}

void buf_append(struct buf *b, const void *p, size_t n)
{
    buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s) { buf_append(b, s, strlen(s)); }

void buf_putc(struct buf *b, char c)
{
    buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void buf_put_u64(struct buf *b, uint64_t v)
{
    char tmp[21];
    char *p = tmp + sizeof tmp;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    buf_append(b, p, (size_t)(tmp + sizeof tmp - p));
}

/* Values with at most 6 decimals in 1e-4 <= |v| < 1e9 (seconds from
 * milliseconds, ratios, temperatures): written by hand and checked with one
 * strtod, instead of two snprintf calls. In that range such a value has at
 * most 15 significant digits, so the text is exactly what "%.15g" prints.
 * False (nothing written) when v is not such a value. */
static bool put_short_decimal(struct buf *b, double v)
{
    double a = v < 0 ? -v : v;
    if (!(a >= 1e-4 && a < 1e9))
        return false;
    uint64_t micro = (uint64_t)(a * 1e6 + 0.5);
    char tmp[32];
    char *p = tmp + sizeof tmp;
    *--p = '\0';
    uint64_t frac = micro % 1000000, whole = micro / 1000000;
    int digits = 6;
    while (digits > 0 && frac % 10 == 0) {
        frac /= 10;
        digits--;
    }
    for (int i = 0; i < digits; i++, frac /= 10)
        *--p = (char)('0' + frac % 10);
    if (digits)
        *--p = '.';
    do {
        *--p = (char)('0' + whole % 10);
        whole /= 10;
    } while (whole);
    if (v < 0)
        *--p = '-';
    if (strtod(p, NULL) != v)
        return false;
    buf_append(b, p, (size_t)(tmp + sizeof tmp - 1 - p));
    return true;
}

void buf_put_double(struct buf *b, double v)
{
    if (isnan(v)) {
        buf_puts(b, "NaN");
        return;
    }
    if (isinf(v)) {
        buf_puts(b, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    /* Integral values (most counters and byte sizes) print exactly and fast. */
    if (v >= 0 && v < 9007199254740992.0 && v == (double)(uint64_t)v) {
        buf_put_u64(b, (uint64_t)v);
        return;
    }
    if (put_short_decimal(b, v))
        return;
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%.17g", v);
    /* Prefer the shorter %.15g form when it round-trips. */
    char shorter[32];
    int m = snprintf(shorter, sizeof shorter, "%.15g", v);
    if (m > 0 && strtod(shorter, NULL) == v)
        buf_append(b, shorter, (size_t)m);
    else if (n > 0)
        buf_append(b, tmp, (size_t)n);
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *buf_steal(struct buf *b, size_t *len)
{
    if (!b->data)
        buf_reserve(b, 0);
    char *p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
