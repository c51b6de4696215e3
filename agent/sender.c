/* sender.c — see sender.h. */
#include "sender.h"

#include <arpa/inet.h>
#include <errno.h>
#include <nanomsg/nn.h>
#include <nanomsg/pipeline.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"

/* nanomsg's default is a 100 ms retry forever; back off instead so a dead
 * aggregator does not see ten connects a second from every node. nanomsg
 * waits 0, 1, 3, 7, 15, ... times RECONNECT_IVL_MS between attempts, up to
 * the maximum. The caller caps that at its interval (sender_open): an agent
 * has one report per interval to deliver, and a longer backoff kept a node
 * pve_up 0 for up to 30 s after the aggregator came back (tests/e2e/faults.sh
 * measured 7.9 s after a 20 s outage at --interval=1s). */
#define RECONNECT_IVL_MS      500
#define RECONNECT_IVL_MAX_MS  30000

static bool set_int(int sock, int level, int opt, int v)
{
    return nn_setsockopt(sock, level, opt, &v, sizeof v) == 0;
}

/* True when url's host is an IPv4 literal ("tcp://10.0.0.5:9716", also
 * with a "iface;" prefix). nanomsg 1.1.5 hits an assertion and aborts the
 * process when such an address is connected with NN_IPV4ONLY=0, so IPv6 is
 * only enabled for host names and IPv6 literals, where it is needed. */
bool endpoint_is_ipv4_literal(const char *url)
{
    const char *host = strstr(url, "://");
    if (!host)
        return false;
    host += 3;
    const char *semi = strchr(host, ';');
    if (semi)
        host = semi + 1;
    const char *colon = strrchr(host, ':');
    size_t n = colon ? (size_t)(colon - host) : strlen(host);
    char tmp[INET_ADDRSTRLEN];
    if (n == 0 || n >= sizeof tmp)
        return false;
    memcpy(tmp, host, n);
    tmp[n] = '\0';
    struct in_addr a;
    return inet_pton(AF_INET, tmp, &a) == 1;
}

static int open_endpoint(const char *url, int reconnect_max_ms, char *err, size_t errlen)
{
    int sock = nn_socket(AF_SP, NN_PUSH);
    if (sock < 0) {
        snprintf(err, errlen, "nn_socket: %s", nn_strerror(nn_errno()));
        return -1;
    }
    /* All options are read when the endpoint is created: set them first. */
    bool ok = (endpoint_is_ipv4_literal(url) || set_int(sock, NN_SOL_SOCKET, NN_IPV4ONLY, 0)) &&
              set_int(sock, NN_SOL_SOCKET, NN_RECONNECT_IVL, RECONNECT_IVL_MS) &&
              set_int(sock, NN_SOL_SOCKET, NN_RECONNECT_IVL_MAX, reconnect_max_ms);
    if (!ok || nn_connect(sock, url) < 0) {
        snprintf(err, errlen, "aggregator %s: %s", url, nn_strerror(nn_errno()));
        nn_close(sock);
        return -1;
    }
    return sock;
}

bool sender_open(struct sender *s, const char *const *urls, size_t n, size_t max_message_bytes,
                 double interval, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->max_message_bytes = max_message_bytes;
    s->reconnect_max_ms = RECONNECT_IVL_MAX_MS;
    if (interval > 0 && interval * 1000 < RECONNECT_IVL_MAX_MS)
        s->reconnect_max_ms = interval * 1000 < RECONNECT_IVL_MS ? RECONNECT_IVL_MS : (int)(interval * 1000);
    s->eps = calloc(n ? n : 1, sizeof *s->eps);
    if (!s->eps)
        abort();
    for (size_t i = 0; i < n; i++) {
        int sock = open_endpoint(urls[i], s->reconnect_max_ms, err, errlen);
        if (sock < 0) {
            sender_close(s);
            return false;
        }
        s->eps[i].url = urls[i];
        s->eps[i].sock = sock;
        size_t sz = sizeof s->eps[i].sndfd;
        if (nn_getsockopt(sock, NN_SOL_SOCKET, NN_SNDFD, &s->eps[i].sndfd, &sz) < 0) {
            snprintf(err, errlen, "aggregator %s: NN_SNDFD: %s", urls[i], nn_strerror(nn_errno()));
            nn_close(sock);
            sender_close(s);
            return false;
        }
        s->n++;
    }
    return true;
}

/* Tries one endpoint once; logs transitions between working and not. */
static bool try_send(struct sender_endpoint *ep, const void *msg, size_t len, int flags)
{
    int rc = nn_send(ep->sock, msg, len, flags);
    if (rc < 0) {
        int e = nn_errno();
        if (e != ep->last_errno && e != EAGAIN)
            log_warn("aggregator %s: send failed: %s", ep->url, nn_strerror(e));
        ep->last_errno = e;
        return false;
    }
    if (ep->drop_logged)
        log_info("aggregator %s: sending again", ep->url);
    ep->drop_logged = false;
    ep->last_errno = 0;
    ep->sent++;
    return true;
}

/* Called when a pending report is superseded or abandoned. */
static void drop_pending(struct sender_endpoint *ep)
{
    if (!ep->pending)
        return;
    ep->pending = false;
    ep->dropped++;
    if (!ep->drop_logged)
        log_warn("aggregator %s: report dropped (%s); further drops are counted, not logged",
                 ep->url, ep->last_errno == EAGAIN ? "not connected or send buffer full"
                                                    : nn_strerror(ep->last_errno));
    ep->drop_logged = true;
}

static bool fits(struct sender *s, size_t len)
{
    if (len <= s->max_message_bytes)
        return true;
    if (s->oversize++ == 0)
        log_error("report of %zu bytes exceeds the aggregator limit of %zu bytes; not sent "
                  "(raise --max-message-bytes here and --ingest.max-message-bytes there)",
                  len, s->max_message_bytes);
    return false;
}

uint8_t *sender_stage(struct sender *s, size_t len)
{
    if (!fits(s, len))
        return NULL;
    for (size_t i = 0; i < s->n; i++)
        drop_pending(&s->eps[i]);
    /* A nanomsg message buffer, so the last endpoint can be handed the
     * buffer itself; nn_send of a plain buffer would copy the report into
     * one of these anyway. */
    void *m = s->msg ? nn_reallocmsg(s->msg, len) : nn_allocmsg(len, 0);
    if (!m)
        abort();                      /* out of memory, as in buf.c */
    s->msg = m;
    s->msg_len = len;
    return m;
}

/* Sends the staged message to ep. When no other endpoint will need it
 * (give_away), nanomsg is handed the buffer itself and owns it from then on
 * (no copy); otherwise it copies. On failure the sender still owns it. */
static bool send_staged(struct sender *s, struct sender_endpoint *ep, bool give_away, int flags)
{
    if (!give_away)
        return try_send(ep, s->msg, s->msg_len, flags);
    void *m = s->msg;
    if (!try_send(ep, &m, NN_MSG, flags))
        return false;
    s->msg = NULL;
    return true;
}

size_t sender_send_all(struct sender *s)
{
    size_t ok = 0;
    bool any_pending = false;
    for (size_t i = 0; i < s->n; i++) {
        struct sender_endpoint *ep = &s->eps[i];
        if (send_staged(s, ep, i + 1 == s->n && !any_pending, NN_DONTWAIT))
            ok++;
        else
            ep->pending = any_pending = true;
    }
    return ok;
}

size_t sender_poll_fds(const struct sender *s, struct pollfd *fds)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->eps[i].pending)
            fds[n++] = (struct pollfd){.fd = s->eps[i].sndfd, .events = POLLIN};
    return n;
}

void sender_retry(struct sender *s)
{
    size_t waiting = 0;
    for (size_t i = 0; i < s->n; i++)
        waiting += s->eps[i].pending;
    for (size_t i = 0; i < s->n && waiting > 0; i++) {
        struct sender_endpoint *ep = &s->eps[i];
        if (ep->pending && send_staged(s, ep, waiting == 1, NN_DONTWAIT)) {
            ep->pending = false;
            waiting--;
        }
    }
}

bool sender_send_all_wait(struct sender *s, int timeout_ms)
{
    double deadline = clock_monotonic() + timeout_ms / 1000.0;
    bool all = true;
    for (size_t i = 0; i < s->n; i++) {
        double left = deadline - clock_monotonic();
        int tmo = left > 0 ? (int)(left * 1000) : 0;
        set_int(s->eps[i].sock, NN_SOL_SOCKET, NN_SNDTIMEO, tmo);
        if (!send_staged(s, &s->eps[i], i + 1 == s->n, 0)) {      /* failures are dropped, not pending */
            s->eps[i].dropped++;
            all = false;
        }
    }
    return all;
}

void sender_close(struct sender *s)
{
    for (size_t i = 0; i < s->n; i++) {
        drop_pending(&s->eps[i]);
        nn_close(s->eps[i].sock);
    }
    if (s->msg)
        nn_freemsg(s->msg);
    free(s->eps);
    memset(s, 0, sizeof *s);
}
