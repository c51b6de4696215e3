/* arena.c — see arena.h. */
#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct arena_block {
    struct arena_block *next;
    size_t size;
    size_t used;
    _Alignas(16) unsigned char data[];
};

static struct arena_block *block_new(size_t size)
{
    struct arena_block *b = malloc(sizeof *b + size);
    if (!b)
        abort();
    b->next = NULL;
    b->size = size;
    b->used = 0;
    return b;
}

void arena_init(struct arena *a, size_t block_size)
{
    a->block_size = block_size < 1024 ? 1024 : block_size;
    a->first = a->head = NULL;
}

/* n bytes at the given alignment (a power of two, at most 16) from the first
 * block with room, a new block if none has; not zeroed. */
static void *bump(struct arena *a, size_t n, size_t align)
{
    struct arena_block *b = a->head;
    size_t at = 0;
    for (; b; b = b->next) {       /* blocks after head are free after a reset */
        at = (b->used + align - 1) & ~(align - 1);
        if (at <= b->size && b->size - at >= n)
            break;
    }
    if (!b) {
        b = block_new(n > a->block_size ? n : a->block_size);
        if (a->head) {
            b->next = a->head->next;
            a->head->next = b;
        } else {
            a->first = b;
        }
        at = 0;
    }
    a->head = b;
    b->used = at + n;
    return b->data + at;
}

void *arena_alloc(struct arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0)
        n = 16;
    void *p = bump(a, n, 16);
    memset(p, 0, n);
    return p;
}

/* Strings are packed without alignment padding: a report holds thousands of
 * short ones (names, keys, paths), and rounding each to 16 bytes cost a
 * third of their space. */
char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = bump(a, n + 1, 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(struct arena *a, const char *s) { return arena_strndup(a, s, strlen(s)); }

void arena_reset(struct arena *a)
{
    for (struct arena_block *b = a->first; b; b = b->next)
        b->used = 0;
    a->head = a->first;
}

void arena_free(struct arena *a)
{
    struct arena_block *b = a->first;
    while (b) {
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->first = a->head = NULL;
}

size_t arena_bytes_reserved(const struct arena *a)
{
    size_t n = 0;
    for (const struct arena_block *b = a->first; b; b = b->next)
        n += b->size;
    return n;
}
