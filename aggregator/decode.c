/* decode.c — see decode.h. */
#include "decode.h"

#include <stdlib.h>

/* Every block carries its size so free can give the budget back. */
static void *budget_alloc(void *data, size_t n)
{
    size_t *left = data;
    if (n > *left || n > SIZE_MAX - 16)
        return NULL;
    size_t *p = malloc(n + 16);
    if (!p)
        return NULL;
    *left -= n;
    p[0] = n;
    return (char *)p + 16;
}

static void budget_free(void *data, void *ptr)
{
    if (!ptr)
        return;
    size_t *left = data;
    size_t *p = (size_t *)((char *)ptr - 16);
    *left += p[0];
    free(p);
}

struct decoded_report *decoded_report_unpack(const uint8_t *data, size_t len, size_t budget)
{
    struct decoded_report *d = malloc(sizeof *d);
    if (!d)
        return NULL;
    d->budget_left = budget;
    d->alloc = (ProtobufCAllocator){budget_alloc, budget_free, &d->budget_left};
    d->r = pvescope__report__unpack(&d->alloc, len, data);
    if (!d->r) {
        free(d);
        return NULL;
    }
    return d;
}

void decoded_report_free(struct decoded_report *d)
{
    if (!d)
        return;
    pvescope__report__free_unpacked(d->r, &d->alloc);
    free(d);
}
