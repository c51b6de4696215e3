/* arena.h — bump allocator for one report cycle.
 *
 * The agent builds each Report out of memory from an arena and resets the
 * arena when the report has been sent, so a cycle does no per-field malloc
 * and nothing can leak between cycles. Blocks are kept across resets. */
#ifndef PVESCOPE_ARENA_H
#define PVESCOPE_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
    struct arena_block *head;   /* block currently allocated from */
    struct arena_block *first;
    size_t block_size;
};

void  arena_init(struct arena *a, size_t block_size);
/* Zeroed, 16-byte aligned memory valid until arena_reset(); aborts on OOM. */
void *arena_alloc(struct arena *a, size_t n);
/* NUL-terminated copies, byte-aligned (no padding between strings). */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
void  arena_reset(struct arena *a);
void  arena_free(struct arena *a);
size_t arena_bytes_reserved(const struct arena *a);

#endif
