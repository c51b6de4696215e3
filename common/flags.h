/* flags.h — exporter-style command line flags ("--name=value", "--name value",
 * "--bool", "--no-bool") and the value types both daemons share. */
#ifndef PVESCOPE_FLAGS_H
#define PVESCOPE_FLAGS_H

#include <stdbool.h>
#include <stdint.h>

/* Parses a Prometheus-style duration: "15s", "500ms", "2m", "1h", "1m30s".
 * A bare number is seconds. Returns false on malformed or negative input. */
bool parse_duration(const char *s, double *seconds);

/* Parses a byte size: "1048576", "512KiB", "1MiB", "4MB". */
bool parse_bytes(const char *s, uint64_t *bytes);

/* Matches argv[*i] against flag `name` (without the leading "--").
 * On "--name=value" or "--name value" sets *value and returns true (advancing
 * *i past a separate value). Returns false when argv[*i] is another flag. */
bool flag_value(int argc, char **argv, int *i, const char *name, const char **value);

/* True when argv[i] is exactly "--name". */
bool flag_bool(const char *arg, const char *name);

#endif
