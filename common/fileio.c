/* fileio.c — see fileio.h. */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
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
