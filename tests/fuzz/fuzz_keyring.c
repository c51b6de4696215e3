/* fuzz_keyring.c — the aggregator's --keyring file and agent key files. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_text.h"
#include "keyring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready)
        ready = seal_library_init();
    char *text = fuzz_strdup(data, size);
    struct keyring kr;
    char err[160];
    if (keyring_parse(text, &kr, err, sizeof err))
        keyring_free(&kr);
    struct cluster_key k;
    key_parse(text, &k);
    free(text);
    return 0;
}
