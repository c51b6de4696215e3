/* fuzz_sensors_raw.c — sensors_parse_raw (sensors.h), the sensors
 * collector's parser of a hwmon attribute's text on the fast path. Any
 * bytes, read exactly as pread hands them over (not NUL-terminated): never
 * a read past len, and an accepted text must be what strtoll reads from the
 * same digits, since libsensors' own fscanf would read that value. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_text.h"
#include "sensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* exactly size bytes: ASan catches a read past the end */
    char *text = fuzz_memdup(data, size);
    if (!text)
        return 0;
    long long v;
    if (sensors_parse_raw(text, size, &v) == NULL) {
        char copy[32];
        if (size >= sizeof copy)
            abort();                       /* accepted more than "-" + 18 digits + "\n" */
        memcpy(copy, text, size);
        copy[size] = '\0';
        char *end;
        long long want = strtoll(copy, &end, 10);
        if (want != v || (*end != '\0' && strcmp(end, "\n") != 0) || end == copy)
            abort();
    }
    free(text);
    return 0;
}
