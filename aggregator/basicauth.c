/* basicauth.c — see basicauth.h. */
#include "basicauth.h"

#include <crypt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

bool bcrypt_verify(void *ctx, const char *password, const char *hash)
{
    (void)ctx;
    /* struct crypt_data is 32 KiB: too much for an MHD thread's stack. */
    struct crypt_data *cd = calloc(1, sizeof *cd);
    if (!cd)
        abort();
    const char *out = crypt_rn(password, hash, cd, (int)sizeof *cd);
    size_t hl = strlen(hash);
    /* The length of a bcrypt string is public (always 60); the bytes are compared in constant time. */
    bool ok = out && out[0] != '*' && strlen(out) == hl && sodium_memcmp(out, hash, hl) == 0;
    sodium_memzero(cd, sizeof *cd);
    free(cd);
    return ok;
}

bool basic_auth_init(struct basic_auth *a, const struct webcfg_user *users, size_t n_users,
                     bcrypt_verify_fn verify, void *verify_ctx, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    a->users = users;
    a->n_users = n_users;
    a->verify = verify ? verify : bcrypt_verify;
    a->verify_ctx = verify_ctx;
    pthread_mutex_init(&a->lock, NULL);
    auth_limit_init(&a->limit);
    randombytes_buf(a->cache_key, sizeof a->cache_key);
    int cost = 4;
    for (size_t i = 0; i < n_users; i++)
        if (users[i].cost > cost)
            cost = users[i].cost;
    /* The dummy needs a valid setting (prefix, cost, salt) for crypt to do the
     * full work; its hash part is arbitrary, since nothing may ever match it. */
    unsigned char rnd[16];
    randombytes_buf(rnd, sizeof rnd);
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    if (!crypt_gensalt_rn("$2b$", (unsigned long)cost, (const char *)rnd, (int)sizeof rnd, setting,
                          (int)sizeof setting) || strlen(setting) != 29) {
        snprintf(err, errlen, "the crypt library cannot make a bcrypt salt (libxcrypt without bcrypt?)");
        pthread_mutex_destroy(&a->lock);
        auth_limit_free(&a->limit);
        return false;
    }
    memcpy(a->dummy_hash, setting, 29);
    memcpy(a->dummy_hash + 29, "0123456789abcdefghijklmnopqrstu", 32);     /* 31 + NUL */
    return true;
}

void basic_auth_free(struct basic_auth *a)
{
    pthread_mutex_destroy(&a->lock);
    auth_limit_free(&a->limit);
    sodium_memzero(a, sizeof *a);
}

bool basic_auth_parse_header(const char *value, char *user, size_t ucap, char *pass, size_t pcap)
{
    if (!value || strncasecmp(value, "Basic", 5) != 0 || value[5] != ' ')
        return false;
    const char *b64 = value + 6;
    while (*b64 == ' ')
        b64++;
    size_t n = strlen(b64);
    while (n && b64[n - 1] == ' ')
        n--;
    unsigned char raw[2 * BASIC_AUTH_MAX_FIELD + 2];
    size_t rawlen = 0;
    const char *end = NULL;
    if (n == 0 || sodium_base642bin(raw, sizeof raw - 1, b64, n, NULL, &rawlen, &end,
                                    sodium_base64_VARIANT_ORIGINAL) != 0 || end != b64 + n)
        return false;
    raw[rawlen] = '\0';
    /* RFC 7617: the user-id cannot contain ':', the password can; no NULs. */
    if (memchr(raw, '\0', rawlen))
        return false;
    const char *colon = memchr(raw, ':', rawlen);
    if (!colon)
        return false;
    size_t ul = (size_t)(colon - (const char *)raw), pl = rawlen - ul - 1;
    if (ul == 0 || ul >= ucap || pl >= pcap)
        return false;
    memcpy(user, raw, ul);
    user[ul] = '\0';
    memcpy(pass, colon + 1, pl);
    pass[pl] = '\0';
    sodium_memzero(raw, sizeof raw);
    return true;
}

static void cache_digest(const struct basic_auth *a, const char *user, const char *pass, unsigned char out[32])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, a->cache_key, sizeof a->cache_key, 32);
    /* user, then NUL (user names have none), then the password: unambiguous. */
    crypto_generichash_update(&st, (const unsigned char *)user, strlen(user) + 1);
    crypto_generichash_update(&st, (const unsigned char *)pass, strlen(pass));
    crypto_generichash_final(&st, out, 32);
}

static bool cache_hit(struct basic_auth *a, const unsigned char d[32], double now)
{
    bool hit = false;
    pthread_mutex_lock(&a->lock);
    for (size_t i = 0; i < BASIC_AUTH_CACHE; i++)
        if (a->cache[i].expires > now && sodium_memcmp(a->cache[i].digest, d, 32) == 0)
            hit = true;
    pthread_mutex_unlock(&a->lock);
    return hit;
}

static void cache_put(struct basic_auth *a, const unsigned char d[32], double now)
{
    pthread_mutex_lock(&a->lock);
    size_t slot = 0;                /* an expired or empty slot, else the one expiring first */
    for (size_t i = 0; i < BASIC_AUTH_CACHE; i++)
        if (a->cache[i].expires < a->cache[slot].expires)
            slot = i;
    memcpy(a->cache[slot].digest, d, 32);
    a->cache[slot].expires = now + BASIC_AUTH_CACHE_TTL;
    pthread_mutex_unlock(&a->lock);
}

static double thread_cpu_seconds(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One bcrypt against user's hash (the dummy for an unknown user). Walks every
 * user (no early exit) and verifies exactly once either way: the unknown-user
 * path does the same bcrypt work as a wrong password. */
static bool verify_once(struct basic_auth *a, const char *user, const char *pass)
{
    const char *hash = NULL;
    for (size_t i = 0; i < a->n_users; i++)
        if (strcmp(a->users[i].name, user) == 0)
            hash = a->users[i].hash;
    bool match = a->verify(a->verify_ctx, pass, hash ? hash : a->dummy_hash);
    return hash && match;
}

enum basic_auth_result basic_auth_verify(struct basic_auth *a, const char *header_value,
                                         const struct sockaddr *src, double now)
{
    if (!header_value)
        return BASIC_AUTH_MISSING;
    char user[BASIC_AUTH_MAX_FIELD], pass[BASIC_AUTH_MAX_FIELD];
    if (!basic_auth_parse_header(header_value, user, sizeof user, pass, sizeof pass))
        return BASIC_AUTH_WRONG;
    unsigned char d[32];
    cache_digest(a, user, pass, d);
    enum basic_auth_result res = BASIC_AUTH_OK;
    if (!cache_hit(a, d, now)) {
        enum auth_limit_verdict v = auth_limit_admit(&a->limit, src, now);
        if (v == AUTH_LIMIT_SOURCE) {
            res = BASIC_AUTH_LIMITED_SOURCE;
        } else if (v == AUTH_LIMIT_GLOBAL) {
            res = BASIC_AUTH_LIMITED_GLOBAL;
        } else {
            double cpu = thread_cpu_seconds();
            if (verify_once(a, user, pass)) {
                cache_put(a, d, now);
            } else {
                auth_limit_failed(&a->limit, src, now, thread_cpu_seconds() - cpu);
                res = BASIC_AUTH_WRONG;
            }
        }
    }
    sodium_memzero(pass, sizeof pass);
    return res;
}

bool basic_auth_check(struct basic_auth *a, const char *header_value, double now)
{
    return basic_auth_verify(a, header_value, NULL, now) == BASIC_AUTH_OK;
}
