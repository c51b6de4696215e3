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
 * The dm ioctl replies (kernel UAPI <linux/dm-ioctl.h>, drivers/md/dm-ioctl.c)
 * are walked here too, as pure functions over the bytes the kernel returned:
 * every offset and string is checked against the reply's data_size before
 * use, so a malformed reply is an error, never a read out of bounds.
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

/* ---- dm ioctl replies ------------------------------------------------------ */

#define DM_REPLY_NAME_CAP 128          /* DM_NAME_LEN */
#define DM_REPLY_UUID_CAP 129          /* DM_UUID_LEN */

/* The header of one reply (struct dm_ioctl) and where its data is. */
struct dm_reply {
    uint32_t version[3];
    uint32_t flags;
    uint32_t target_count;
    uint32_t event_nr;
    unsigned major, minor;             /* from dev */
    char name[DM_REPLY_NAME_CAP];
    char uuid[DM_REPLY_UUID_CAP];
    const uint8_t *data;               /* buf + data_start */
    size_t data_len;                   /* data_size − data_start */
};

/* One device of a DM_LIST_DEVICES reply; name points into the reply. */
struct dm_name_entry {
    const char *name;
    unsigned major, minor;
};

/* One target of a DM_TABLE_STATUS reply; type and params point into it. */
struct dm_target_entry {
    uint64_t start, length;            /* 512-byte sectors */
    const char *type, *params;
};

/* Splits a dev_t as the kernel encodes it for userspace (huge_encode_dev:
 * minor bits 0-7 and 20-31, major bits 8-19); false when bits above 32 are
 * set, which that encoding never does. */
bool dm_decode_dev(uint64_t dev, unsigned *major, unsigned *minor);

/* The header of the size-byte ioctl buffer buf: interface major version 4,
 * sizeof(struct dm_ioctl) <= data_start <= data_size <= size, name and uuid
 * NUL-terminated. DM_BUFFER_FULL_FLAG is the caller's to check. */
bool dm_parse_reply(const uint8_t *buf, size_t size, struct dm_reply *out, char *err, size_t errlen);

/* Walks the struct dm_name_list records of a DM_LIST_DEVICES reply's data
 * (len bytes): each `next` is relative to its record, must move forward and
 * stay inside the data, each name is NUL-terminated inside its record and
 * shorter than DM_NAME_LEN. No data, or a single record with dev 0, is the
 * kernel's empty list. With out NULL only counts (and checks); else writes at
 * most cap entries. *n is the number of devices. */
bool dm_parse_name_list(const uint8_t *data, size_t len, struct dm_name_entry *out, size_t cap, size_t *n,
                        char *err, size_t errlen);

/* Walks the count struct dm_target_spec records of a DM_TABLE_STATUS reply's
 * data (len bytes): the first at offset 0, each `next` an offset from the
 * start of the data that moves forward, each spec inside the data, its type
 * NUL-terminated within DM_MAX_TYPE_NAME and its params (right after the
 * spec) NUL-terminated inside the data. With out NULL only checks; else out
 * holds count entries. */
bool dm_parse_targets(const uint8_t *data, size_t len, uint32_t count, struct dm_target_entry *out, char *err,
                      size_t errlen);

#endif
