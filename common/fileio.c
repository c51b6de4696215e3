/* fileio.c — see fileio.h. */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

bool path_join(char *out, size_t cap, const char *root, const char *rel)
{
    size_t rl = strlen(root);
    while (rl > 1 && root[rl - 1] == '/')
        rl--;
    while (*rel == '/')
        rel++;
    int n = snprintf(out, cap, "%.*s/%s", (int)rl, root, rel);
    return n >= 0 && (size_t)n < cap;
}

int read_file_at(const char *root, const char *rel, struct buf *b)
{
    char path[4096];
    buf_reset(b);
    if (!path_join(path, sizeof path, root, rel))
        return -ENAMETOOLONG;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    int rc = 0;
    for (;;) {
        buf_reserve(b, 4096);
        ssize_t n = read(fd, b->data + b->len, b->cap - b->len - 1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            break;
        }
        if (n == 0)
            break;
        b->len += (size_t)n;
        if (b->len > FILEIO_MAX_BYTES) {
            rc = -EFBIG;
            break;
        }
    }
    close(fd);
    b->data[b->len] = '\0';
    return rc;
}

/* Reads all of fd from offset 0 into b. Returns 0 or a negative errno. */
static int pread_all(int fd, struct buf *b, enum file_shape shape)
{
    buf_reset(b);
    for (;;) {
        buf_reserve(b, 4096);
        size_t room = b->cap - b->len - 1;
        ssize_t n = pread(fd, b->data + b->len, room, (off_t)b->len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (n == 0)
            break;
        b->len += (size_t)n;
        if (b->len > FILEIO_MAX_BYTES)
            return -EFBIG;
        if (shape == FILE_ONE_RECORD && (size_t)n < room)
            break;                    /* all of it came in one read: no EOF read needed */
    }
    b->data[b->len] = '\0';
    return 0;
}

void file_cache_init(struct file_cache *fc)
{
    memset(fc, 0, sizeof *fc);
    fc->cycle = 1;                   /* cached_file.cycle 0 = never read */
}

void file_cache_next_cycle(struct file_cache *fc) { fc->cycle++; }

void file_cache_free(struct file_cache *fc)
{
    for (size_t i = 0; i < fc->n; i++) {
        close(fc->files[i].fd);
        free(fc->files[i].path);
        buf_free(&fc->files[i].text);
    }
    fc->n = 0;
}

static struct cached_file *cache_lookup(struct file_cache *fc, const char *path)
{
    for (size_t i = 0; i < fc->n; i++)
        if (strcmp(fc->files[i].path, path) == 0)
            return &fc->files[i];
    return NULL;
}

/* Opens path into a new cache slot; NULL (with *err) when it cannot be
 * opened or the cache is full (then the caller reads it uncached). */
static struct cached_file *cache_open(struct file_cache *fc, const char *path, int *err)
{
    *err = 0;
    if (fc->n == FILE_CACHE_MAX)
        return NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *err = -errno;
        return NULL;
    }
    char *copy = strdup(path);
    if (!copy)
        abort();
    fc->files[fc->n] = (struct cached_file){copy, fd, BUF_INIT, 0};
    return &fc->files[fc->n++];
}

static void cache_evict(struct file_cache *fc, struct cached_file *f)
{
    close(f->fd);
    free(f->path);
    buf_free(&f->text);
    *f = fc->files[--fc->n];
}

/* Keeps a multi-record file's text for the rest of the cycle; returns 0. */
static int remember(struct file_cache *fc, struct cached_file *f, const struct buf *b, enum file_shape shape)
{
    if (shape != FILE_MULTI_RECORD)
        return 0;
    buf_reset(&f->text);
    buf_append(&f->text, b->data, b->len);
    f->cycle = fc->cycle;
    return 0;
}

int file_cache_read(struct file_cache *fc, const char *root, const char *rel, struct buf *b,
                    enum file_shape shape)
{
    char path[4096];
    buf_reset(b);
    if (!path_join(path, sizeof path, root, rel))
        return -ENAMETOOLONG;
    struct cached_file *f = cache_lookup(fc, path);
    if (f && shape == FILE_MULTI_RECORD && f->cycle == fc->cycle) {
        buf_append(b, f->text.data, f->text.len);      /* read earlier this cycle */
        return 0;
    }
    if (f) {
        if (pread_all(f->fd, b, shape) == 0)
            return remember(fc, f, b, shape);
        cache_evict(fc, f);                 /* stale (device gone?): reopen once */
    }
    int err;
    f = cache_open(fc, path, &err);
    if (err)
        return err;
    if (!f)
        return read_file_at(root, rel, b);
    int rc = pread_all(f->fd, b, shape);
    return rc == 0 ? remember(fc, f, b, shape) : rc;
}

int read_line_at(const char *root, const char *rel, char *out, size_t cap)
{
    char path[4096];
    if (cap == 0)
        return -EINVAL;
    out[0] = '\0';
    if (!path_join(path, sizeof path, root, rel))
        return -ENAMETOOLONG;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t n;
    do {
        n = read(fd, out, cap - 1);
    } while (n < 0 && errno == EINTR);
    int err = errno;
    close(fd);
    if (n < 0)
        return -err;
    out[n] = '\0';
    out[strcspn(out, "\n")] = '\0';
    return 0;
}

unsigned fd_share(unsigned divisor, unsigned cap, unsigned fallback)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return fallback;
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur / divisor > cap)
        return cap;
    return (unsigned)(rl.rlim_cur / divisor);
}
