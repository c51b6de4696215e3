/* names.c — see names.h. */
#include "names.h"

#include <string.h>

bool name_valid_n(const char *s, size_t n)
{
    if (n == 0 || n > NAME_MAX_LEN)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!(c == '-' || c == '_' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
              (c >= 'A' && c <= 'Z')))
            return false;
    }
    return true;
}

bool name_valid(const char *s) { return s && name_valid_n(s, strlen(s)); }
