/* buf.h — a growable byte buffer, always NUL-terminated after its data.
 *
 * Allocation failure is fatal (abort): both daemons are small and a monitoring
 * process that silently drops half a line of output is worse than a restart. */
#ifndef PVESCOPE_BUF_H
#define PVESCOPE_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct buf {
    char  *data;
    size_t len;
    size_t cap;
};

#define BUF_INIT {NULL, 0, 0}

/* buf_reserve()'s slow path: makes room for extra more bytes and the NUL. */
void buf_grow(struct buf *b, size_t extra);

/* Room for extra more bytes after the data, and the NUL. The small appends
 * are inline: rendering a report makes thousands of them. */
static inline void buf_reserve(struct buf *b, size_t extra)
{
    if (b->cap - b->len <= extra)
        buf_grow(b, extra);
}

static inline void buf_append(struct buf *b, const void *p, size_t n)
{
    buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static inline void buf_puts(struct buf *b, const char *s) { buf_append(b, s, strlen(s)); }

static inline void buf_putc(struct buf *b, char c)
{
    buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_put_u64(struct buf *b, uint64_t v);
/* Shortest text that parses back to the same double; NaN/Inf spelled as Prometheus wants. */
void buf_put_double(struct buf *b, double v);
void buf_reset(struct buf *b);
/* Gives back the room beyond the data when it is more than an eighth of it. */
void buf_fit(struct buf *b);
void buf_free(struct buf *b);
/* Hands the storage to the caller (free() it); b is left empty. */
char *buf_steal(struct buf *b, size_t *len);

#endif
