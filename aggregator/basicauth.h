/* basicauth.h — HTTP basic auth against bcrypt hashes (webconfig.h's
 * basic_auth_users), verified with the system's crypt library (libxcrypt).
 *
 * Timing: an unknown user is checked against a dummy hash with the highest
 * cost among the configured users, so an unknown user costs one bcrypt like a
 * wrong password does (exporter-toolkit does the same). Only when users have
 * different costs can timing tell which cost a user has (logged at start).
 *
 * Cache: bcrypt costs 50-250 ms per check, so successful checks are remembered
 * for BASIC_AUTH_CACHE_TTL seconds, keyed by a keyed BLAKE2b (libsodium) of
 * user and password with a per-process random key. Failures are never cached:
 * a guess always pays a full bcrypt, and a fast answer only ever comes for
 * credentials the asker already has.
 *
 * Flood limit: checks that are not cached successes go through an
 * auth_limiter (authlimit.h) first, which bounds what failed checks may cost
 * per client and in all; a refused attempt costs no bcrypt. */
#ifndef PVESCOPE_BASICAUTH_H
#define PVESCOPE_BASICAUTH_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "authlimit.h"
#include "webconfig.h"

#define BASIC_AUTH_CACHE 16
#define BASIC_AUTH_CACHE_TTL 60.0
#define BASIC_AUTH_MAX_FIELD 1024   /* longest user or password taken from a header */

/* Returns true when password hashes to hash. The seam for tests. */
typedef bool (*bcrypt_verify_fn)(void *ctx, const char *password, const char *hash);

struct basic_auth {
    const struct webcfg_user *users;        /* borrowed from the webconfig */
    size_t n_users;
    char dummy_hash[64];
    bcrypt_verify_fn verify;
    void *verify_ctx;
    pthread_mutex_t lock;                   /* the cache: MHD's pool threads share it */
    unsigned char cache_key[32];
    struct basic_auth_cached {
        unsigned char digest[32];
        double expires;                     /* monotonic seconds; 0 = empty */
    } cache[BASIC_AUTH_CACHE];
    struct auth_limiter limit;
};

/* What basic_auth_verify decided; the HTTP answer follows from it. */
enum basic_auth_result {
    BASIC_AUTH_OK,
    BASIC_AUTH_MISSING,         /* no Authorization header: 401 */
    BASIC_AUTH_WRONG,           /* malformed, unknown user or wrong password: 401 */
    BASIC_AUTH_LIMITED_SOURCE,  /* refused before any bcrypt (authlimit.h): 429 */
    BASIC_AUTH_LIMITED_GLOBAL,
};

/* Sets up a (users borrowed, must outlive it). verify NULL = bcrypt_verify.
 * Fails only when the crypt library cannot make a bcrypt salt. */
bool basic_auth_init(struct basic_auth *a, const struct webcfg_user *users, size_t n_users,
                     bcrypt_verify_fn verify, void *verify_ctx, char *err, size_t errlen);
void basic_auth_free(struct basic_auth *a);

/* Splits an Authorization header value "Basic base64(user:password)" (scheme
 * case-insensitive, strict base64 with padding). False when malformed. */
bool basic_auth_parse_header(const char *value, char *user, size_t ucap, char *pass, size_t pcap);

/* Checks the header value (NULL: none) of a request from src (NULL: unknown
 * address, only the global limit applies). now is monotonic seconds (cache,
 * limits). A failed bcrypt is charged to the limiter with the CPU time it
 * took. */
enum basic_auth_result basic_auth_verify(struct basic_auth *a, const char *header_value,
                                         const struct sockaddr *src, double now);

/* True when the header value carries a configured user and its password
 * (basic_auth_verify with an unknown source). */
bool basic_auth_check(struct basic_auth *a, const char *header_value, double now);

/* The real verification: crypt_rn(3) and a constant-time comparison. */
bool bcrypt_verify(void *ctx, const char *password, const char *hash);

#endif
