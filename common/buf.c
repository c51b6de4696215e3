/* buf.c — see buf.h. */
#include "buf.h"

#include "numfmt.h"

#include <stdbool.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_grow(struct buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need < b->len)
        abort();
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p)
        abort();
    p[b->len] = '\0';                         /* a fresh buffer is "" too */
    b->data = p;
    b->cap = cap;
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
    buf_reserve(b, NUMFMT_MAX);
    b->len = (size_t)(numfmt_u64(b->data + b->len, v) - b->data);
    b->data[b->len] = '\0';
}

void buf_put_double(struct buf *b, double v)
{
    buf_reserve(b, NUMFMT_MAX);
    b->len = (size_t)(numfmt_double(b->data + b->len, v) - b->data);
    b->data[b->len] = '\0';
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void buf_fit(struct buf *b)
{
    if (!b->data || b->cap - b->len - 1 <= b->len / 8)
        return;
    char *p = realloc(b->data, b->len + 1);
    if (p) {                                  /* else it keeps the larger block */
        b->data = p;
        b->cap = b->len + 1;
    }
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
