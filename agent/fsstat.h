/* fsstat.h — filesystem usage (statvfs) that never stalls the collection cycle.
 *
 * statvfs on a mount whose server is gone (a dead NFS or CIFS server, a hung
 * CephFS) blocks in the kernel, uninterruptibly, for as long as the server is
 * away. pvestatd famously hangs on it. Here every statvfs runs on a worker
 * thread; the caller waits at most a deadline for a whole batch and takes
 * what has returned. A path whose call has not returned is answered
 * FSSTAT_PENDING, and it is not asked again until that call returns, so a
 * dead mount costs one stuck thread, not one per cycle.
 *
 * Threading: one struct fsstat per owner (a collector); all fsstat_* calls
 * come from that owner's thread. Workers are a small pool: at most
 * FSSTAT_PARALLEL of them are kept idle, more are started only while jobs
 * are queued and no idle worker can take them, and a stuck worker stays
 * stuck alone. Workers block every signal. fsstat_free never waits for a
 * stuck worker: the workers are detached and the last one to leave frees the
 * shared state. */
#ifndef PVESCOPE_FSSTAT_H
#define PVESCOPE_FSSTAT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/statvfs.h>

#define FSSTAT_PARALLEL 4         /* idle workers kept */
#define FSSTAT_MAX_WORKERS 64     /* workers alive at once, stuck ones included */

/* The stat function: 0 and *out filled, or -errno. Injectable for tests;
 * fsstat_statvfs is the real one. */
typedef int (*fsstat_fn)(const char *path, struct statvfs *out, void *arg);
int fsstat_statvfs(const char *path, struct statvfs *out, void *arg);

enum fsstat_status {
    FSSTAT_OK,        /* total/used/avail are set */
    FSSTAT_ERROR,     /* statvfs failed: err is the errno (ENOENT: no such path) */
    FSSTAT_PENDING,   /* no answer within the deadline, or an earlier call still outstanding */
};

struct fsstat_req {
    const char *path;             /* in; the caller keeps it alive until fsstat_query returns */
    enum fsstat_status status;    /* out */
    int err;                      /* out, FSSTAT_ERROR */
    uint64_t total, used, avail;  /* out, FSSTAT_OK: bytes as PVE computes them (Filesys::Df):
                                   * blocks·frsize, (blocks−bfree)·frsize, bavail·frsize */
};

struct fsstat;

/* fn NULL = fsstat_statvfs. deadline_s bounds each fsstat_query call.
 * Returns NULL on out of memory. */
struct fsstat *fsstat_new(fsstat_fn fn, void *arg, double deadline_s);

/* Answers every request, waiting at most the deadline in all. Requests for a
 * path still outstanding from an earlier call are answered PENDING without
 * asking again. Duplicate paths in one batch are each asked. */
void fsstat_query(struct fsstat *fs, struct fsstat_req *reqs, size_t n);

/* Paths asked in an earlier call whose statvfs has not returned yet. */
size_t fsstat_outstanding(struct fsstat *fs);

/* Frees the owner's side; stuck workers finish (and free the rest) on their own. */
void fsstat_free(struct fsstat *fs);

#endif
