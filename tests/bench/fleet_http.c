/* fleet_http.c — see fleet_http.h. */
#include "fleet_http.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

bool http_conn_init(struct http_conn *c, const char *base_url)
{
    c->fd = -1;
    const char *p = strncmp(base_url, "http://", 7) == 0 ? base_url + 7 : NULL;
    const char *colon = p ? strrchr(p, ':') : NULL;
    if (!colon || (size_t)(colon - p) >= sizeof c->host || strlen(colon + 1) >= sizeof c->port ||
        !colon[1] || strchr(colon + 1, '/'))
        return false;
    memcpy(c->host, p, (size_t)(colon - p));
    c->host[colon - p] = '\0';
    snprintf(c->port, sizeof c->port, "%s", colon + 1);
    return true;
}

static bool connect_to(struct http_conn *c, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    int rc = getaddrinfo(c->host, c->port, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errlen, "%s:%s: %s", c->host, c->port, gai_strerror(rc));
        return false;
    }
    c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0 || connect(c->fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        snprintf(err, errlen, "connect %s:%s: %s", c->host, c->port, strerror(errno));
        http_conn_close(c);
        freeaddrinfo(ai);
        return false;
    }
    freeaddrinfo(ai);
    return true;
}

static bool send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* Reads until in holds at least want bytes. False on EOF or error. */
static bool read_until(int fd, struct buf *in, size_t want)
{
    while (in->len < want) {
        buf_reserve(in, 65536);
        ssize_t r = recv(fd, in->data + in->len, in->cap - in->len - 1, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        in->len += (size_t)r;
        in->data[in->len] = '\0';
    }
    return true;
}

/* One request on the current connection. *retry is set when the connection
 * failed before any response byte arrived (a closed keep-alive). */
static bool get_once(struct http_conn *c, const char *path, struct buf *body, bool *retry, char *err, size_t errlen)
{
    char req[512];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: keep-alive\r\n\r\n", path,
                     c->host);
    *retry = false;
    if (n < 0 || (size_t)n >= sizeof req) {
        snprintf(err, errlen, "path too long");
        return false;
    }
    buf_reset(body);
    if (!send_all(c->fd, req, (size_t)n)) {
        *retry = true;
        return false;
    }
    char *end = NULL;
    while (!(end = body->len ? strstr(body->data, "\r\n\r\n") : NULL))
        if (!read_until(c->fd, body, body->len + 1)) {
            *retry = body->len == 0;
            snprintf(err, errlen, "connection closed in the response header");
            return false;
        }
    size_t head = (size_t)(end - body->data) + 4;
    int status = atoi(body->data + 9);
    const char *cl = strcasestr(body->data, "\r\ncontent-length:");
    if (!cl || cl > end) {
        snprintf(err, errlen, "response without Content-Length");
        return false;
    }
    size_t len = strtoull(cl + 17, NULL, 10);
    if (!read_until(c->fd, body, head + len)) {
        snprintf(err, errlen, "connection closed in the body");
        return false;
    }
    memmove(body->data, body->data + head, body->len - head);
    body->len -= head;
    body->data[body->len] = '\0';
    if (status != 200) {
        snprintf(err, errlen, "HTTP status %d", status);
        return false;
    }
    return true;
}

bool http_get(struct http_conn *c, const char *path, struct buf *body, char *err, size_t errlen)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (c->fd < 0 && !connect_to(c, err, errlen))
            return false;
        bool retry;
        if (get_once(c, path, body, &retry, err, errlen))
            return true;
        http_conn_close(c);
        if (!retry)
            return false;
        snprintf(err, errlen, "connection closed before the response");
    }
    return false;
}

void http_conn_close(struct http_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}
