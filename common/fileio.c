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

/* Points *text and *len at b's content; returns 0. */
static int hand_out(const struct buf *b, const char **text, size_t *len)
{
    *text = b->data;
    *len = b->len;
    return 0;
}

int file_cache_records(struct file_cache *fc, const char *root, const char *rel, struct buf *fallback,
                       const char **text, size_t *len)
{
    char path[4096];
    *text = "";
    *len = 0;
    if (!path_join(path, sizeof path, root, rel))
        return -ENAMETOOLONG;
    struct cached_file *f = cache_lookup(fc, path);
    if (f && f->cycle == fc->cycle)
        return hand_out(&f->text, text, len);           /* read earlier this cycle */
    if (f) {
        if (pread_all(f->fd, &f->text, FILE_MULTI_RECORD) == 0) {
            f->cycle = fc->cycle;
            return hand_out(&f->text, text, len);
        }
        cache_evict(fc, f);                 /* stale (device gone?): reopen once */
    }
    int err;
    f = cache_open(fc, path, &err);
    if (err)
        return err;
    if (!f) {
        err = read_file_at(root, rel, fallback);
        return err ? err : hand_out(fallback, text, len);
    }
    if ((err = pread_all(f->fd, &f->text, FILE_MULTI_RECORD)) != 0)
        return err;
    f->cycle = fc->cycle;
    return hand_out(&f->text, text, len);
}

int file_cache_read(struct file_cache *fc, const char *root, const char *rel, struct buf *b,
                    enum file_shape shape)
{
    char path[4096];
    buf_reset(b);
    if (shape == FILE_MULTI_RECORD) {
        const char *text;
        size_t len;
        int rc = file_cache_records(fc, root, rel, b, &text, &len);
        if (rc == 0 && text != b->data)
            buf_append(b, text, len);
        return rc;
    }
    if (!path_join(path, sizeof path, root, rel))
        return -ENAMETOOLONG;
    struct cached_file *f = cache_lookup(fc, path);
    if (f) {
        if (pread_all(f->fd, b, shape) == 0)
            return 0;
        cache_evict(fc, f);                 /* stale (device gone?): reopen once */
    }
    int err;
    f = cache_open(fc, path, &err);
    if (err)
        return err;
    if (!f)
        return read_file_at(root, rel, b);
    return pread_all(f->fd, b, shape);
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
