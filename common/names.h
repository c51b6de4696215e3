/* names.h — the one rule for node and cluster names.
 *
 * Node names are host names and cluster names are corosync cluster names,
 * both [A-Za-z0-9._-]. They become map keys, label values and log text, so
 * everything else (quotes, newlines, unicode) is refused where it enters:
 * the agent's flags, the key ring, and envelope headers. */
#ifndef PVESCOPE_NAMES_H
#define PVESCOPE_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#define NAME_MAX_LEN 63

/* True when s[0..n) is 1..NAME_MAX_LEN characters of [A-Za-z0-9._-]. */
bool name_valid_n(const char *s, size_t n);
/* The same for a NUL-terminated string (NULL is invalid). */
bool name_valid(const char *s);

#endif
