/* authlimit.h — how much bcrypt work failed logins may cost.
 *
 * Every basic-auth attempt that is not a cached success costs one bcrypt:
 * ~70 ms of CPU at cost 10, seconds at cost 16. Without a bound, a flood of
 * wrong passwords keeps every HTTP pool thread in bcrypt, pins the CPUs and
 * starves Prometheus' scrapes. Two token buckets bound it:
 *
 *   per source   (an IPv4 address, an IPv6 /64: what one client can cheaply
 *                vary within): AUTH_LIMIT_SOURCE_BURST failed attempts, then
 *                one per 1/AUTH_LIMIT_SOURCE_RATE seconds;
 *   global       CPU seconds of failed checks, refilled at
 *                AUTH_LIMIT_GLOBAL_SHARE CPU seconds per second (a quarter of
 *                one core) with AUTH_LIMIT_GLOBAL_BURST seconds of burst, so
 *                the bound holds whatever the bcrypt cost and however many
 *                addresses a flood comes from.
 *
 * An attempt is admitted while both buckets hold something; only a failed
 * check is charged (a success is what the buckets protect). A refused attempt
 * gets no bcrypt at all (HTTP 429). Credentials cached as good (basicauth.h)
 * never reach the limiter, so a Prometheus that already authenticated keeps
 * scraping through a flood; one that has not (after a restart of the
 * aggregator, or a cache expiry) may get 429 until the flood stops.
 *
 * Admission does not reserve: the HTTP pool's threads can each pass the check
 * at once, so a source can overshoot its bucket by at most the pool size. */
#ifndef PVESCOPE_AUTHLIMIT_H
#define PVESCOPE_AUTHLIMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#define AUTH_LIMIT_SOURCES 256          /* sources tracked; the fullest bucket is reused */
#define AUTH_LIMIT_SOURCE_BURST 10.0    /* failed attempts a source may make at once */
#define AUTH_LIMIT_SOURCE_RATE 0.2      /* then one per 5 s */
#define AUTH_LIMIT_GLOBAL_BURST 2.0     /* CPU seconds of failed checks at once */
#define AUTH_LIMIT_GLOBAL_SHARE 0.25    /* then a quarter of one core */

enum auth_limit_verdict {
    AUTH_LIMIT_ADMIT,
    AUTH_LIMIT_SOURCE,                  /* this source used up its failed attempts */
    AUTH_LIMIT_GLOBAL,                  /* failed checks used up the CPU share */
};

struct auth_limiter {
    pthread_mutex_t lock;               /* MHD's pool threads share it */
    double global_tokens, global_at;    /* CPU seconds left; when last refilled */
    bool global_limited;                /* for one log line per episode */
    struct auth_limit_source {
        unsigned char key[16];          /* the address (IPv4 as ::ffff:a.b.c.d), IPv6 cut to /64 */
        double tokens, at;
        bool used, limited;
    } sources[AUTH_LIMIT_SOURCES];
};

void auth_limit_init(struct auth_limiter *l);
void auth_limit_free(struct auth_limiter *l);

/* Whether an attempt from src (NULL: unknown, only the global bucket
 * applies) may run a bcrypt now (monotonic seconds). Logs once when a source,
 * or the whole aggregator, starts being refused. */
enum auth_limit_verdict auth_limit_admit(struct auth_limiter *l, const struct sockaddr *src, double now);

/* Charges a failed check: one attempt to src's bucket and cpu_seconds (what
 * the bcrypt took) to the global one. */
void auth_limit_failed(struct auth_limiter *l, const struct sockaddr *src, double now, double cpu_seconds);

/* The bucket key of an address: IPv4 and IPv4-mapped IPv6 alike, IPv6 cut
 * to its /64. False for other families. */
bool auth_limit_key(const struct sockaddr *src, unsigned char key[16]);

#endif
