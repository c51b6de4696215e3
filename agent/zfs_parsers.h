/* zfs_parsers.h — pure parsers of the OpenZFS kstat files the zfs collector
 * (zfs.c) reads under /proc/spl/kstat/zfs/. Unit tests and the fuzz target
 * (tests/fuzz/fuzz_zfs.c) drive them on strings.
 *
 * Text conventions are those of proc_parsers.h: NUL-terminated text, every
 * line ends with '\n' (a last line without one means the file was cut
 * short), plain decimal numbers, first problem reported in struct parse_err. */
#ifndef PVESCOPE_ZFS_PARSERS_H
#define PVESCOPE_ZFS_PARSERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proc_parsers.h"

/* kstat data types (OpenZFS include/sys/kstat.h KSTAT_DATA_*). */
enum zfs_kstat_type {
    ZFS_KSTAT_CHAR = 0, ZFS_KSTAT_INT32 = 1, ZFS_KSTAT_UINT32 = 2, ZFS_KSTAT_INT64 = 3,
    ZFS_KSTAT_UINT64 = 4, ZFS_KSTAT_LONG = 5, ZFS_KSTAT_ULONG = 6, ZFS_KSTAT_STRING = 7,
};

/* One stat of a named kstat. name and str point into the parsed text and are
 * not NUL-terminated. u64 is set for the unsigned types, i64 for the signed
 * ones, str/str_len for CHAR (trailing padding removed) and STRING. */
struct zfs_kstat_row {
    const char *name;
    size_t name_len;
    enum zfs_kstat_type type;
    uint64_t u64;
    int64_t i64;
    const char *str;
    size_t str_len;
};

/* Called once per stat, only after the whole file parsed. */
typedef void (*zfs_kstat_fn)(const struct zfs_kstat_row *row, void *arg);

/* Parses a named kstat (iostats, arcstats):
 *   <kid> 1 0x<flags> <ndata> <data_size> <crtime> <snaptime>
 *   name <blanks> type <blanks> data
 *   <name> <type> <data>            (ndata rows)
 * Strict: the header must have those seven fields with type 1 (named), the
 * column line must be exactly "name type data", every row a known type with
 * a value of that type (unsigned types in range), and the row count must be
 * the header's ndata (a shorter file was cut short). Returns the number of
 * rows after calling fn for each, or -1 with *err (fn not called at all). */
int zfs_parse_named_kstat(const char *text, zfs_kstat_fn fn, void *arg, struct parse_err *err);

/* Pool states, as spa_state_to_name() spells them in <pool>/state. */
#define ZFS_POOL_STATES(S) \
    S(ONLINE) S(DEGRADED) S(FAULTED) S(OFFLINE) S(REMOVED) S(UNAVAIL) S(SUSPENDED) S(SPLIT) \
    S(TRANSITIONING) S(UNKNOWN)
#define ZFS_STATE_COUNT 10
extern const char *const zfs_pool_state_names[ZFS_STATE_COUNT];

/* Parses the one-line <pool>/state file into an index of
 * zfs_pool_state_names. Returns 0, or -1 with *err (empty, truncated, a
 * second line, or a word that is not a known state). */
int zfs_parse_state(const char *text, int *state, struct parse_err *err);

#endif
