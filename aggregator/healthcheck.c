/* healthcheck.c — see healthcheck.h. */
#include "healthcheck.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "clock.h"
#include "http.h"

#define RESPONSE_MAX 4096

/* The address to probe for a listen address: a wildcard host means this
 * machine, reached on loopback (the dual-stack "::" answers 127.0.0.1 too). */
static bool probe_target(const char *listen, char *host, size_t hcap, char *port, size_t pcap)
{
    if (!http_split_listen(listen, host, hcap, port, pcap))
        return false;
    if (host[0] == '\0' || strcmp(host, "0.0.0.0") == 0)
        snprintf(host, hcap, "127.0.0.1");
    else if (strcmp(host, "::") == 0)
        snprintf(host, hcap, "::1");
    return true;
}

/* Connects within the deadline (monotonic seconds); the socket then has
 * send/receive timeouts of what is left. Returns the fd or -1 (why in err). */
static int connect_until(const char *host, const char *port, double deadline, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *ai = NULL;
    int gai = getaddrinfo(host, port, &hints, &ai);
    if (gai != 0) {
        snprintf(err, errlen, "%.100s:%.15s: %s", host, port, gai_strerror(gai));
        return -1;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int rc = fd < 0 ? -1 : connect(fd, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    if (rc != 0 && fd >= 0 && errno == EINPROGRESS) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int left_ms = (int)((deadline - clock_monotonic()) * 1000);
        int so_err = ETIMEDOUT;
        socklen_t len = sizeof so_err;
        if (left_ms > 0 && poll(&p, 1, left_ms) == 1)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_err, &len);
        errno = so_err;
        rc = so_err == 0 ? 0 : -1;
    }
    if (rc != 0) {
        snprintf(err, errlen, "connect to %.100s:%.15s: %s", host, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    double left = deadline - clock_monotonic();
    struct timeval tv = {(time_t)left, (suseconds_t)((left - (double)(time_t)left) * 1e6)};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

/* Whether the server's certificate is the one the web config serves. */
static bool same_certificate(gnutls_session_t s, const char *cert_pem)
{
    unsigned n = 0;
    const gnutls_datum_t *peer = gnutls_certificate_get_peers(s, &n);
    gnutls_datum_t pem = {(unsigned char *)cert_pem, (unsigned)strlen(cert_pem)}, der = {NULL, 0};
    if (!peer || n == 0 || gnutls_pem_base64_decode2("CERTIFICATE", &pem, &der) != 0)
        return false;
    bool same = der.size == peer[0].size && memcmp(der.data, peer[0].data, der.size) == 0;
    gnutls_free(der.data);
    return same;
}

/* Sends the request and reads the whole response (HTTP/1.0: the server
 * closes) into resp, over TLS when s is not NULL. Returns its length or -1. */
static ssize_t exchange(int fd, gnutls_session_t s, const char *req, char *resp, size_t cap)
{
    size_t len = strlen(req);
    ssize_t n = s ? gnutls_record_send(s, req, len) : send(fd, req, len, MSG_NOSIGNAL);
    if (n != (ssize_t)len)
        return -1;
    size_t got = 0;
    while (got < cap - 1) {
        n = s ? gnutls_record_recv(s, resp + got, cap - 1 - got) : recv(fd, resp + got, cap - 1 - got, 0);
        if (n == GNUTLS_E_INTERRUPTED || n == GNUTLS_E_AGAIN || (n < 0 && !s && errno == EINTR))
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    resp[got] = '\0';
    return got ? (ssize_t)got : -1;
}

/* The verdict on a response: 0 healthy, 1 not (reason in why). */
static int judge(const char *resp, const struct webconfig *web, char *why, size_t cap)
{
    int status = 0;
    if (sscanf(resp, "HTTP/1.%*1[01] %3d", &status) != 1) {
        snprintf(why, cap, "not an HTTP response");
        return 1;
    }
    const char *hdr_end = strstr(resp, "\r\n\r\n");
    bool basic_challenge = false;
    for (const char *l = strstr(resp, "\r\n"); l && (!hdr_end || l < hdr_end); l = strstr(l + 2, "\r\n"))
        if (strncasecmp(l + 2, "WWW-Authenticate: Basic realm=\"pvescope\"", 40) == 0)
            basic_challenge = true;
    if (status == 200) {
        snprintf(why, cap, "200");
        return 0;
    }
    if (status == 401 && web && web->n_users && basic_challenge) {
        snprintf(why, cap, "401 from its basic auth (the probe has no password)");
        return 0;
    }
    if (status == 403 && web && web->client_auth == WEBCFG_REQUIRE_AND_VERIFY) {
        snprintf(why, cap, "403 for want of a client certificate (the probe has none)");
        return 0;
    }
    snprintf(why, cap, "HTTP status %d", status);
    return 1;
}

/* The TLS half: handshake within the deadline, then the certificate check. */
static bool tls_open(gnutls_session_t *s, gnutls_certificate_credentials_t *cred, int fd,
                     const struct webconfig *web, double deadline, char *why, size_t cap)
{
    char prio[96];
    webconfig_priorities(web, prio, sizeof prio);
    if (gnutls_certificate_allocate_credentials(cred) != 0 || gnutls_init(s, GNUTLS_CLIENT) != 0) {
        snprintf(why, cap, "GnuTLS set-up failed");
        return false;
    }
    int rc = gnutls_priority_set_direct(*s, prio, NULL);
    if (rc == 0)
        rc = gnutls_credentials_set(*s, GNUTLS_CRD_CERTIFICATE, *cred);
    gnutls_transport_set_int(*s, fd);
    gnutls_handshake_set_timeout(*s, (unsigned)((deadline - clock_monotonic()) * 1000));
    while (rc == 0 && (rc = gnutls_handshake(*s)) < 0 && !gnutls_error_is_fatal(rc))
        rc = 0;
    if (rc < 0) {
        snprintf(why, cap, "TLS handshake: %s", gnutls_strerror(rc));
        return false;
    }
    if (!same_certificate(*s, web->cert_pem)) {
        snprintf(why, cap, "the server's certificate is not the web config's");
        return false;
    }
    return true;
}

int healthcheck_probe(const char *listen, const struct webconfig *web, double timeout_s)
{
    char host[256], port[16], why[256], url[320];
    if (!probe_target(listen, host, sizeof host, port, sizeof port)) {
        fprintf(stderr, "unhealthy: web listen address '%s': expected [host]:port\n", listen);
        return 1;
    }
    bool tls = web && web->tls;
    snprintf(url, sizeof url, "%s://%s%s%s:%s/-/healthy", tls ? "https" : "http", strchr(host, ':') ? "[" : "",
             host, strchr(host, ':') ? "]" : "", port);
    double deadline = clock_monotonic() + timeout_s;
    int fd = connect_until(host, port, deadline, why, sizeof why);
    if (fd < 0) {
        fprintf(stderr, "unhealthy: %s: %s\n", url, why);
        return 1;
    }
    gnutls_session_t s = NULL;
    gnutls_certificate_credentials_t cred = NULL;
    int verdict = 1;
    char *resp = malloc(RESPONSE_MAX);
    if (!resp)
        abort();
    if (!tls || tls_open(&s, &cred, fd, web, deadline, why, sizeof why)) {
        char req[384];
        snprintf(req, sizeof req, "GET /-/healthy HTTP/1.0\r\nHost: %s\r\nUser-Agent: pvescope-healthcheck\r\n\r\n",
                 strchr(host, ':') ? "localhost" : host);
        if (exchange(fd, s, req, resp, RESPONSE_MAX) < 0)
            snprintf(why, sizeof why, "no HTTP response (closed, or nothing within %gs)", timeout_s);
        else
            verdict = judge(resp, web, why, sizeof why);
    }
    if (s) {
        gnutls_bye(s, GNUTLS_SHUT_WR);
        gnutls_deinit(s);
    }
    if (cred)
        gnutls_certificate_free_credentials(cred);
    close(fd);
    free(resp);
    if (verdict == 0)
        printf("healthy: %s answered %s\n", url, why);
    else
        fprintf(stderr, "unhealthy: %s: %s\n", url, why);
    return verdict;
}

/* Reads /proc/<pid>/cmdline into buf; splits it into argv. */
static bool read_cmdline(const char *procfs, long pid, char *buf, size_t cap, char **argv, int max_args, int *argc)
{
    char path[64];
    snprintf(path, sizeof path, "%s/%ld/cmdline", procfs, pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    int k = 0;
    for (char *p = buf; p < buf + n && k < max_args - 1; p += strlen(p) + 1)
        argv[k++] = p;
    argv[k] = NULL;
    *argc = k;
    return true;
}

static bool is_running_aggregator(char **argv, int argc)
{
    const char *slash = strrchr(argv[0], '/');
    if (strcmp(slash ? slash + 1 : argv[0], "pvescope-aggregator") != 0)
        return false;
    for (int i = 1; i < argc; i++)
        if (strncmp(argv[i], "--healthcheck", 13) == 0)
            return false;
    return true;
}

pid_t healthcheck_find_running(const char *procfs, char *buf, size_t cap, char **argv, int max_args, int *argc)
{
    DIR *d = opendir(procfs);
    if (!d)
        return -1;
    long best = -1, self = (long)getpid();
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0 || pid == self || (best > 0 && pid >= best))
            continue;
        if (read_cmdline(procfs, pid, buf, cap, argv, max_args, argc) && is_running_aggregator(argv, *argc))
            best = pid;
    }
    closedir(d);
    if (best < 0 || !read_cmdline(procfs, best, buf, cap, argv, max_args, argc))
        return -1;
    return (pid_t)best;
}
