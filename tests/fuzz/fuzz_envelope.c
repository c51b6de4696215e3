/* fuzz_envelope.c — arbitrary bytes off the ingest socket: envelope decode,
 * header checks, key lookup and AEAD open must reject them without a crash. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_world *w = fuzz_world();
    ingest_process(&w->ig, data, size, 1.0, FUZZ_NOW_MS);
    return 0;
}
