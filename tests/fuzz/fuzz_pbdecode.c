/* fuzz_pbdecode.c — differential fuzzing of aggregator/pbdecode.c against
 * protobuf-c: arbitrary bytes decoded as a pvescope.Report by both. When
 * pbdecode accepts, protobuf-c must accept and both trees must repack to the
 * same bytes (protobuf-c's unknown fields dropped); when only protobuf-c
 * accepts, pbdecode's reason must be one of the refusals pbdecode.h
 * documents. Any other outcome aborts, and so does any memory error. The
 * plan is made on the first input and kept for the process. */
#include <stdio.h>
#include <stdlib.h>

#include "../unit/pbdecode_diff.h"
#include "pvescope.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct pbdecode_plan *plan;
    char text[200];
    if (!plan && !(plan = pbdecode_plan_new(&pvescope__report__descriptor, text, sizeof text))) {
        fprintf(stderr, "%s\n", text);
        abort();
    }
    struct pbdecode_error err;
    enum pbdiff_result r = pbdiff_compare(plan, &pvescope__report__descriptor, data, size, &err);
    if (r == PBDIFF_EQUAL || r == PBDIFF_BOTH_REJECT)
        return 0;
    if (r == PBDIFF_ONLY_PROTOBUFC && pbdiff_refusal_documented(&err))
        return 0;
    pbdecode_error_format(&err, text, sizeof text);
    fprintf(stderr, "fuzz_pbdecode: result %d on %zu bytes (pbdecode: %s)\n", r, size, text);
    abort();
}
