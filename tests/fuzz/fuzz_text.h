/* fuzz_text.h — heap copies of a fuzz input for the parsers under test.
 * Each copy is exactly as long as what the parser may read (plus the NUL a
 * string parser stops at), so ASan reports a read of even one byte beyond.
 *
 * Targets with several parsers take the first byte as the mode (which
 * parser, which variant) and the rest as the parser's input; that split is
 * fuzz_mode_text(), so every such target treats an empty input alike. */
#ifndef PVESCOPE_FUZZ_TEXT_H
#define PVESCOPE_FUZZ_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* p[0..n) followed by a NUL, for parsers of C strings; free() it. */
static inline char *fuzz_strdup(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

/* Exactly p[0..n), no NUL after it, for parsers that take a length (a
 * zero-length input still gets a block, so NULL means only out of memory);
 * free() it. */
static inline void *fuzz_memdup(const uint8_t *p, size_t n)
{
    void *s = malloc(n ? n : 1);
    if (s)
        memcpy(s, p, n);
    return s;
}

/* data after its mode byte data[0], as a string; NULL for an empty input,
 * which has no mode and is skipped. */
static inline char *fuzz_mode_text(const uint8_t *data, size_t size)
{
    return size ? fuzz_strdup(data + 1, size - 1) : NULL;
}

#endif
