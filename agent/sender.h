/* sender.h — pushes sealed reports to every configured aggregator.
 *
 * One nanomsg PUSH socket per aggregator: connecting one socket to several
 * endpoints would load-balance, and every aggregator must get every report.
 * Sends never block collection (NN_DONTWAIT). A report an endpoint cannot take
 * right now (not connected yet, buffers full) stays pending for that endpoint
 * and goes out as soon as the endpoint is writable (the main loop polls
 * sender_poll_fds); when the next report arrives first, the pending one is
 * dropped and counted: the next carries the same cumulative counters.
 * nanomsg reconnects by itself (with backoff, see sender.c). */
#ifndef PVESCOPE_SENDER_H
#define PVESCOPE_SENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <poll.h>

struct sender_endpoint {
    const char *url;
    int sock;
    uint64_t sent;
    uint64_t dropped;
    int last_errno;               /* to log a change of state once */
    bool pending;                 /* has not taken sender.msg yet */
    bool drop_logged;             /* one log line per outage, not per drop */
    int sndfd;                    /* NN_SNDFD: readable while a send would succeed */
};

struct sender {
    struct sender_endpoint *eps;
    size_t n;
    size_t max_message_bytes;     /* the aggregators' NN_RCVMAXSIZE */
    uint64_t oversize;            /* reports never sent because they were too big */
    int reconnect_max_ms;         /* NN_RECONNECT_IVL_MAX of every socket */
    void *msg;                    /* the staged report (nn_allocmsg), kept for pending
                                     endpoints; NULL once nanomsg was handed it */
    size_t msg_len;
};

/* Creates and connects one socket per url. interval (seconds, the agent's
 * --interval; 0 = none) caps the reconnect backoff, between 0.5 s and 30 s.
 * Returns false with a reason in err (the url that failed and why); nothing
 * is left open then. */
bool sender_open(struct sender *s, const char *const *urls, size_t n, size_t max_message_bytes,
                 double interval, char *err, size_t errlen);

/* Starts the next message: returns the len bytes the caller builds it in
 * (the envelope is sealed right there, not copied in), or NULL when len is
 * over the aggregators' limit (counted in oversize, logged once; whatever is
 * still pending stays pending). A report still pending from before is
 * dropped now: the new one supersedes it. Valid until the next
 * sender_stage() or sender_close(). */
uint8_t *sender_stage(struct sender *s, size_t len);

/* Hands the staged message to every endpoint without blocking; endpoints
 * that cannot take it now keep it pending. Returns how many endpoints took
 * it at once. */
size_t sender_send_all(struct sender *s);

/* Fills fds (room for s->n) with the endpoints that have a pending report;
 * returns how many. Poll them for POLLIN, then call sender_retry(). */
size_t sender_poll_fds(const struct sender *s, struct pollfd *fds);

/* Tries every pending endpoint again without blocking. */
void sender_retry(struct sender *s);

/* For --once: retries every endpoint until it accepts the staged message
 * or timeout_ms passes. Returns true when every endpoint accepted it. */
bool sender_send_all_wait(struct sender *s, int timeout_ms);

void sender_close(struct sender *s);

/* True when the endpoint's host is an IPv4 literal (see sender.c for why). */
bool endpoint_is_ipv4_literal(const char *url);

#endif
