/* fuzz_members.c — /etc/pve/.members text (pmxcfs output; on a broken or
 * hostile node, anything). */
#include <stdlib.h>
#include <string.h>

#include "fuzz_text.h"
#include "pve_members.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strdup(data, size);
    struct members_local m;
    char err[128];
    members_parse_local(text, &m, err, sizeof err);
    free(text);
    return 0;
}
