/* sender.h — pushes sealed reports to every configured aggregator.
 *
 * One nanomsg PUSH socket per aggregator: connecting one socket to several
 * endpoints would load-balance, and every aggregator must get every report.
 * Sends never block collection (NN_DONTWAIT): a report that cannot be handed
 * to the transport right now is dropped and counted, because the next one
 * carries the same cumulative counters and supersedes it. nanomsg reconnects
 * by itself (with backoff, see sender.c). */
#ifndef PVESCOPE_SENDER_H
#define PVESCOPE_SENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sender_endpoint {
    const char *url;
    int sock;
    uint64_t sent;
    uint64_t dropped;
    int last_errno;               /* to log a change of state once */
};

struct sender {
    struct sender_endpoint *eps;
    size_t n;
    size_t max_message_bytes;     /* the aggregators' NN_RCVMAXSIZE */
    uint64_t oversize;            /* reports never sent because they were too big */
};

/* Creates and connects one socket per url. Returns false with a reason in err
 * (the url that failed and why); nothing is left open then. */
bool sender_open(struct sender *s, const char *const *urls, size_t n, size_t max_message_bytes,
                 char *err, size_t errlen);

/* Hands msg to every endpoint without blocking. Returns how many accepted it. */
size_t sender_send_all(struct sender *s, const void *msg, size_t len);

/* For --once: retries every endpoint until it accepts msg or timeout_ms
 * passes. Returns true when every endpoint accepted it. */
bool sender_send_all_wait(struct sender *s, const void *msg, size_t len, int timeout_ms);

void sender_close(struct sender *s);

/* True when the endpoint's host is an IPv4 literal (see sender.c for why). */
bool endpoint_is_ipv4_literal(const char *url);

#endif
