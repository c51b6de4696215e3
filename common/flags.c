/* flags.c — see flags.h. */
#include "flags.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool parse_duration(const char *s, double *seconds)
{
    static const struct { const char *unit; double mult; } units[] = {
        {"ms", 1e-3}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400},
    };
    double total = 0;
    if (!s || !*s)
        return false;
    while (*s) {
        if (!isdigit((unsigned char)*s) && *s != '.')
            return false;
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (errno || end == s || v < 0)
            return false;
        s = end;
        if (!*s) {                        /* bare number: seconds */
            total += v;
            break;
        }
        bool matched = false;
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            size_t ul = strlen(units[i].unit);
            /* "m" must not swallow the "m" of "ms" */
            if (strncmp(s, units[i].unit, ul) == 0 && !isalpha((unsigned char)s[ul])) {
                total += v * units[i].mult;
                s += ul;
                matched = true;
                break;
            }
        }
        if (!matched)
            return false;
    }
    *seconds = total;
    return true;
}

bool parse_bytes(const char *s, uint64_t *bytes)
{
    static const struct { const char *unit; uint64_t mult; } units[] = {
        {"", 1}, {"B", 1}, {"KiB", 1024}, {"MiB", 1024 * 1024}, {"GiB", 1024ull * 1024 * 1024},
        {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000ull * 1000 * 1000},
    };
    if (!s || !isdigit((unsigned char)*s))
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return false;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].unit) == 0) {
            if (v > UINT64_MAX / units[i].mult)
                return false;
            *bytes = v * units[i].mult;
            return true;
        }
    }
    return false;
}

bool flag_value(int argc, char **argv, int *i, const char *name, const char **value)
{
    const char *a = argv[*i];
    if (strncmp(a, "--", 2) != 0)
        return false;
    a += 2;
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return false;
    if (a[n] == '=') {
        *value = a + n + 1;
        return true;
    }
    if (a[n] == '\0' && *i + 1 < argc) {
        *value = argv[++*i];
        return true;
    }
    return false;
}

bool flag_bool(const char *arg, const char *name)
{
    return strncmp(arg, "--", 2) == 0 && strcmp(arg + 2, name) == 0;
}
