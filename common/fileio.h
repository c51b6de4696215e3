/* fileio.h — reading small kernel and pmxcfs files under a configurable root.
 *
 * Every path the agent reads is "<root>/<relative>", where root comes from
 * --path.procfs, --path.sysfs or --path.pve, so tests point the collectors at
 * fixture trees. Files are read whole with read(2) in a loop: /proc files are
 * generated on read and must not be mixed with stdio buffering quirks. */
#ifndef PVESCOPE_FILEIO_H
#define PVESCOPE_FILEIO_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/* Largest file we agree to read (a 4 MiB /proc/diskstats is ~25,000 devices). */
#define FILEIO_MAX_BYTES (4u << 20)

/* Joins root and rel into out. Returns false when the result would not fit. */
bool path_join(char *out, size_t cap, const char *root, const char *rel);

/* Reads <root>/<rel> into b (replacing its contents, NUL-terminated).
 * Returns 0, or a negative errno: -ENOENT when missing, -EFBIG when larger than
 * FILEIO_MAX_BYTES, -ENAMETOOLONG when the path does not fit. */
int read_file_at(const char *root, const char *rel, struct buf *b);

/* Files kept open between cycles and re-read with pread() from offset 0.
 * /proc and sysfs files regenerate their content on every read from the
 * start, and an open()/close() pair (path walk, file setup) costs more than
 * the read itself: on the reference fixture this halves the agent's syscalls.
 * A file whose read fails (a device went away: ENODEV) is reopened once. */
#define FILE_CACHE_MAX 32

struct file_cache {
    struct cached_file {
        char *path;
        int fd;
        struct buf text;         /* multi-record files: the content read in cycle `cycle` */
        uint64_t cycle;
    } files[FILE_CACHE_MAX];
    size_t n;
    uint64_t cycle;              /* bumped by file_cache_next_cycle() */
};

void file_cache_init(struct file_cache *fc);
/* Starts a new collection cycle. Within one cycle a multi-record file (which
 * the kernel regenerates on every read: /proc/net/dev costs ~1 µs per
 * interface) is read once and then served from memory, because several
 * collectors read it (netdev and guests both read /proc/net/dev). */
void file_cache_next_cycle(struct file_cache *fc);
void file_cache_free(struct file_cache *fc);

/* How a file hands out its content. Kernel files that print one record
 * (single_open seq files: /proc/stat, meminfo, loadavg, uptime, the pressure files;
 * sysctl values; sysfs attributes) return all of it in the first read when
 * the buffer is large enough, so a short read is the end and the extra read
 * that would return 0 is skipped. Multi-record seq files (diskstats, net/dev)
 * may return a short read before the end and must be read until 0. */
enum file_shape { FILE_MULTI_RECORD, FILE_ONE_RECORD };

/* Like read_file_at(), through the cache. Missing files are not cached (they
 * may appear later); beyond FILE_CACHE_MAX files, reads are uncached. A
 * multi-record file is copied out of the cache (see file_cache_records). */
int file_cache_read(struct file_cache *fc, const char *root, const char *rel, struct buf *b,
                    enum file_shape shape);

/* A multi-record file's content without a copy: *text (NUL-terminated,
 * *len bytes) is the cache's own, read at the first call of the cycle and
 * shared by every later reader in it. /proc/net/dev of a node with 100
 * guests is 80 KB: a copy per reader would be resident memory for nothing.
 * Valid until the file is read in a later cycle or the cache is freed. A
 * file the cache cannot keep (full) is read into fallback, and *text points
 * there. Returns 0 or a negative errno, as read_file_at(). */
int file_cache_records(struct file_cache *fc, const char *root, const char *rel, struct buf *fallback,
                       const char **text, size_t *len);

/* Reads the first line of a small file (sysfs attribute) without its newline. */
int read_line_at(const char *root, const char *rel, char *out, size_t cap);

/* One kept-open-files user's share of the soft RLIMIT_NOFILE: the limit /
 * divisor, at most cap; fallback when the limit cannot be read. Each
 * collector that keeps files open stays within its share, so none of them
 * can starve the others (or the sockets) of descriptors. */
unsigned fd_share(unsigned divisor, unsigned cap, unsigned fallback);

#endif
