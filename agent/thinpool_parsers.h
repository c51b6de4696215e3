/* thinpool_parsers.h — strict parsers of the kernel's dm-thin text and of
 * device-mapper names, for the thinpool collector (thinpool.c).
 *
 * Input is the params string of one target as DM_DEVICE_STATUS or
 * DM_DEVICE_TABLE returns it (the part after `<start> <length> <type>`).
 * Formats (kernel drivers/md/dm-thin.c, thin-provisioning.rst):
 *   thin-pool status  <transaction id> <used>/<total meta blocks>
 *                     <used>/<total data blocks> <held root|-> <rw|ro|out_of_data_space>
 *                     then, as a set of words (older kernels lack some):
 *                     <discard_passdown|no_discard_passdown|ignore_discard>
 *                     <queue_if_no_space|error_if_no_space> <needs_check|-> <meta low watermark>
 *                     or the whole string `Fail` (failed mode) / `Error` (metadata unreadable)
 *   thin-pool table   <meta MAJ:MIN> <data MAJ:MIN> <block sectors> <low water blocks>
 *                     [<#features> <feature>...]
 *   thin status       <mapped sectors> <highest mapped sector|->, or `Fail` / `Error`
 *   thin table        <pool MAJ:MIN> <dev id> [<external origin MAJ:MIN>]
 * Tokens are separated by spaces; the kernel ends every token with one, so
 * trailing spaces are normal. Anything else is rejected with a reason in err:
 * these are our own parsers rather than libdm's dm_get_status_thin_pool(),
 * which ignores the held metadata root and finds flags with strstr.
 *
 * Every function returns true on success; on false, err holds why and the
 * output is unspecified. */
#ifndef PVESCOPE_THINPOOL_PARSERS_H
#define PVESCOPE_THINPOOL_PARSERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pvescope.pb-c.h"

/* Data block size limits of the kernel (DATA_DEV_BLOCK_SIZE_{MIN,MAX}_SECTORS):
 * 64 KiB to 1 GiB, a multiple of 64 KiB. */
#define THIN_BLOCK_SECTORS_MIN 128u
#define THIN_BLOCK_SECTORS_MAX 2097152u
#define THIN_METADATA_BLOCK_BYTES 4096u

enum thin_discards { THIN_DISCARDS_UNKNOWN, THIN_DISCARD_PASSDOWN, THIN_NO_DISCARD_PASSDOWN, THIN_IGNORE_DISCARD };

struct thinpool_status {
    Pvescope__ThinPoolMode mode;   /* FAIL/ERROR: nothing below is set */
    uint64_t transaction_id;
    uint64_t meta_used, meta_total;
    uint64_t data_used, data_total;
    bool has_held_root;
    uint64_t held_root;
    enum thin_discards discards;   /* UNKNOWN on kernels that do not say */
    bool has_no_space_policy;
    bool error_if_no_space;
    bool has_needs_check;
    bool needs_check;
    bool has_meta_low_watermark;
    uint64_t meta_low_watermark;
};

/* Feature bits of a thin-pool table, in the kernel's emit order. */
enum {
    THIN_FEAT_SKIP_BLOCK_ZEROING = 1 << 0,
    THIN_FEAT_IGNORE_DISCARD = 1 << 1,
    THIN_FEAT_NO_DISCARD_PASSDOWN = 1 << 2,
    THIN_FEAT_READ_ONLY = 1 << 3,
    THIN_FEAT_ERROR_IF_NO_SPACE = 1 << 4,
};

struct thinpool_table {
    unsigned meta_major, meta_minor;
    unsigned data_major, data_minor;
    uint64_t block_sectors;
    uint64_t low_water_blocks;
    unsigned features;             /* THIN_FEAT_* */
};

struct thin_status {
    bool fail;                     /* `Fail`: the pool has failed */
    bool error;                    /* `Error`: the kernel could not read the mapping */
    uint64_t mapped_sectors;
    bool has_highest;              /* false for `-`: nothing mapped */
    uint64_t highest_mapped_sector;
};

struct thin_table {
    unsigned pool_major, pool_minor;
    uint64_t dev_id;
    bool has_origin;
    unsigned origin_major, origin_minor;
};

bool thinpool_parse_status(const char *params, struct thinpool_status *out, char *err, size_t errlen);
bool thinpool_parse_table(const char *params, struct thinpool_table *out, char *err, size_t errlen);
bool thin_parse_status(const char *params, struct thin_status *out, char *err, size_t errlen);
bool thin_parse_table(const char *params, struct thin_table *out, char *err, size_t errlen);

/* Splits an LVM dm name `VG-LV[-layer]` (lvm2 dm_build_dm_name: each `-`
 * inside VG and LV doubled, parts joined by a single `-`) into its parts,
 * NUL-terminated, each at most cap bytes including the NUL. layer is "" when
 * absent. `my--vg-thin_pool-tpool` -> my-vg, thin_pool, tpool. Rejects an
 * empty VG or LV, a name without a single `-`, an empty layer, and a layer
 * with a further `-` (the name was not built that way). */
bool thinpool_split_dm_name(const char *name, char *vg, char *lv, char *layer, size_t cap, char *err,
                            size_t errlen);

#endif
