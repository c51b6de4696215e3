/* authlimit.c — see authlimit.h. */
#include "authlimit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

void auth_limit_init(struct auth_limiter *l)
{
    memset(l, 0, sizeof *l);
    pthread_mutex_init(&l->lock, NULL);
    l->global_tokens = AUTH_LIMIT_GLOBAL_BURST;
    l->global_at = -1;
}

void auth_limit_free(struct auth_limiter *l)
{
    pthread_mutex_destroy(&l->lock);
}

bool auth_limit_key(const struct sockaddr *src, unsigned char key[16])
{
    static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    memset(key, 0, 16);
    if (src && src->sa_family == AF_INET) {
        memcpy(key, v4mapped, 12);
        memcpy(key + 12, &((const struct sockaddr_in *)(const void *)src)->sin_addr, 4);
        return true;
    }
    if (src && src->sa_family == AF_INET6) {
        const unsigned char *a = ((const struct sockaddr_in6 *)(const void *)src)->sin6_addr.s6_addr;
        /* A dual-stack socket shows IPv4 clients as ::ffff:a.b.c.d: the same
         * client as over AF_INET. Other IPv6 clients own a whole /64. */
        memcpy(key, a, memcmp(a, v4mapped, 12) == 0 ? 16 : 8);
        return true;
    }
    return false;
}

/* Credits the time since *at. Threads pass times taken before they got the
 * lock, so now can be behind *at: that credits nothing and moves *at back
 * never (which would credit the same interval twice). */
static void refill(double *tokens, double *at, double now, double rate, double burst)
{
    if (*at < 0) {
        *at = now;
        return;
    }
    if (now <= *at)
        return;
    *tokens += (now - *at) * rate;
    if (*tokens > burst)
        *tokens = burst;
    *at = now;
}

/* The bucket of key, refilled to now. An unknown source takes a free slot,
 * else the one with the most tokens: a full bucket is no different from a
 * fresh one, so forgetting it loses nothing. */
static struct auth_limit_source *source_bucket(struct auth_limiter *l, const unsigned char key[16], double now)
{
    struct auth_limit_source *reuse = NULL;
    for (size_t i = 0; i < AUTH_LIMIT_SOURCES; i++) {
        struct auth_limit_source *s = &l->sources[i];
        if (s->used && memcmp(s->key, key, 16) == 0) {
            refill(&s->tokens, &s->at, now, AUTH_LIMIT_SOURCE_RATE, AUTH_LIMIT_SOURCE_BURST);
            return s;
        }
        if (!s->used) {
            if (!reuse || reuse->used)
                reuse = s;
            continue;
        }
        refill(&s->tokens, &s->at, now, AUTH_LIMIT_SOURCE_RATE, AUTH_LIMIT_SOURCE_BURST);
        if (!reuse || (reuse->used && s->tokens > reuse->tokens))
            reuse = s;
    }
    memcpy(reuse->key, key, 16);
    reuse->tokens = AUTH_LIMIT_SOURCE_BURST;
    reuse->at = now;
    reuse->used = true;
    reuse->limited = false;
    return reuse;
}

static const char *key_text(const unsigned char key[16], char *buf, size_t cap)
{
    static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(key, v4mapped, 12) == 0)
        return inet_ntop(AF_INET, key + 12, buf, (socklen_t)cap);
    if (!inet_ntop(AF_INET6, key, buf, (socklen_t)cap))
        return "?";
    size_t n = strlen(buf);
    snprintf(buf + n, cap - n, "/64");
    return buf;
}

enum auth_limit_verdict auth_limit_admit(struct auth_limiter *l, const struct sockaddr *src, double now)
{
    unsigned char key[16];
    bool known = auth_limit_key(src, key);
    char text[INET6_ADDRSTRLEN + 4];
    enum auth_limit_verdict v = AUTH_LIMIT_ADMIT;
    pthread_mutex_lock(&l->lock);
    refill(&l->global_tokens, &l->global_at, now, AUTH_LIMIT_GLOBAL_SHARE, AUTH_LIMIT_GLOBAL_BURST);
    struct auth_limit_source *s = known ? source_bucket(l, key, now) : NULL;
    if (s && s->tokens < 1) {
        v = AUTH_LIMIT_SOURCE;
        if (!s->limited)
            log_warn("basic auth: %s used up its %.0f failed logins; its further attempts get 429 without "
                     "a password check until it slows to one per %.0f s",
                     key_text(key, text, sizeof text), AUTH_LIMIT_SOURCE_BURST, 1 / AUTH_LIMIT_SOURCE_RATE);
        s->limited = true;
    } else if (l->global_tokens <= 0) {
        v = AUTH_LIMIT_GLOBAL;
        if (!l->global_limited)
            log_warn("basic auth: failed logins used up their CPU share (%.0f%% of a core); attempts not "
                     "cached as good get 429 without a password check until they slow down",
                     AUTH_LIMIT_GLOBAL_SHARE * 100);
        l->global_limited = true;
    } else {
        if (s && s->limited)
            log_info("basic auth: %s is admitted again", key_text(key, text, sizeof text));
        if (s)
            s->limited = false;
        if (l->global_limited)
            log_info("basic auth: failed logins are back within their CPU share");
        l->global_limited = false;
    }
    pthread_mutex_unlock(&l->lock);
    return v;
}

void auth_limit_failed(struct auth_limiter *l, const struct sockaddr *src, double now, double cpu_seconds)
{
    unsigned char key[16];
    bool known = auth_limit_key(src, key);
    pthread_mutex_lock(&l->lock);
    refill(&l->global_tokens, &l->global_at, now, AUTH_LIMIT_GLOBAL_SHARE, AUTH_LIMIT_GLOBAL_BURST);
    l->global_tokens -= cpu_seconds;
    if (known) {
        struct auth_limit_source *s = source_bucket(l, key, now);
        s->tokens -= 1;
    }
    pthread_mutex_unlock(&l->lock);
}
