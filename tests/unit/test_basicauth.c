/* test_basicauth.c — basic auth (aggregator/basicauth.c) with real bcrypt
 * hashes from the system's libcrypt (cost 4, made here), through a counting
 * verify hook: a good password, a wrong one, an unknown user (which must cost
 * exactly one bcrypt of the dummy hash at the highest configured cost, like a
 * wrong password), malformed headers (no bcrypt at all), and the cache
 * (successes only, for its TTL). The flood limit (aggregator/authlimit.c):
 * a source's failed attempts beyond its burst get no bcrypt at all, per IPv4
 * address and IPv6 /64, refilled with time; cached good credentials pass a
 * limited source; failed checks' CPU seconds drain a global bucket. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <crypt.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basicauth.h"

struct counter {
    int calls;
    char last_hash[64];
};

static bool counting_verify(void *ctx, const char *password, const char *hash)
{
    struct counter *c = ctx;
    c->calls++;
    snprintf(c->last_hash, sizeof c->last_hash, "%s", hash);
    return bcrypt_verify(NULL, password, hash);
}

static void make_hash(const char *prefix, int cost, const char *password, char out[64])
{
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    assert_non_null(crypt_gensalt_rn(prefix, (unsigned long)cost, NULL, 0, setting, sizeof setting));
    struct crypt_data cd;
    memset(&cd, 0, sizeof cd);
    const char *h = crypt_rn(password, setting, &cd, sizeof cd);
    assert_non_null(h);
    assert_int_equal(strlen(h), 60);
    snprintf(out, 64, "%s", h);
}

/* "Basic " + base64(text). */
static const char *header(const char *text, char *out, size_t cap)
{
    strcpy(out, "Basic ");
    sodium_bin2base64(out + 6, cap - 6, (const unsigned char *)text, strlen(text), sodium_base64_VARIANT_ORIGINAL);
    return out;
}

struct fixture {
    char h_alice[64], h_bob[64];
    struct webcfg_user users[2];
    struct counter n;
    struct basic_auth a;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    make_hash("$2y$", 4, "alice pw:with colon", f->h_alice);
    make_hash("$2b$", 5, "bob pw", f->h_bob);
    f->users[0] = (struct webcfg_user){"alice", f->h_alice, 4};
    f->users[1] = (struct webcfg_user){"bob", f->h_bob, 5};
    char err[128];
    if (!basic_auth_init(&f->a, f->users, 2, counting_verify, &f->n, err, sizeof err))
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    basic_auth_free(&f->a);
    free(f);
    return 0;
}

static void t_verify(void **state)
{
    struct fixture *f = *state;
    assert_true(bcrypt_verify(NULL, "alice pw:with colon", f->h_alice));
    assert_false(bcrypt_verify(NULL, "alice pw:with colo", f->h_alice));
    assert_false(bcrypt_verify(NULL, "", f->h_alice));
    assert_false(bcrypt_verify(NULL, "x", "not a hash"));
    /* The dummy is a valid bcrypt setting at the highest cost (5) that matches nothing. */
    assert_int_equal(strlen(f->a.dummy_hash), 60);
    assert_memory_equal(f->a.dummy_hash, "$2b$05$", 7);
    assert_false(bcrypt_verify(NULL, "", f->a.dummy_hash));
}

static void t_good_bad_unknown(void **state)
{
    struct fixture *f = *state;
    char h[256];
    double now = 1000;
    /* good: one bcrypt */
    assert_true(basic_auth_check(&f->a, header("alice:alice pw:with colon", h, sizeof h), now));
    assert_int_equal(f->n.calls, 1);
    assert_string_equal(f->n.last_hash, f->h_alice);
    /* bad password: one bcrypt, of that user's hash */
    assert_false(basic_auth_check(&f->a, header("bob:alice pw", h, sizeof h), now));
    assert_int_equal(f->n.calls, 2);
    assert_string_equal(f->n.last_hash, f->h_bob);
    /* unknown user: also exactly one bcrypt, of the dummy hash */
    assert_false(basic_auth_check(&f->a, header("carol:bob pw", h, sizeof h), now));
    assert_int_equal(f->n.calls, 3);
    assert_string_equal(f->n.last_hash, f->a.dummy_hash);
    /* an unknown user with another user's right password still fails */
    assert_false(basic_auth_check(&f->a, header("Alice:alice pw:with colon", h, sizeof h), now));
    assert_int_equal(f->n.calls, 4);
    /* failures are never cached: the same wrong guess costs a bcrypt again */
    assert_false(basic_auth_check(&f->a, header("bob:alice pw", h, sizeof h), now));
    assert_int_equal(f->n.calls, 5);
    assert_false(basic_auth_check(&f->a, header("carol:bob pw", h, sizeof h), now));
    assert_int_equal(f->n.calls, 6);
}

static void t_cache(void **state)
{
    struct fixture *f = *state;
    char h[256];
    double now = 5000;
    assert_true(basic_auth_check(&f->a, header("bob:bob pw", h, sizeof h), now));
    assert_int_equal(f->n.calls, 1);
    /* cached: no bcrypt until the TTL is over */
    assert_true(basic_auth_check(&f->a, header("bob:bob pw", h, sizeof h), now + 1));
    assert_true(basic_auth_check(&f->a, header("bob:bob pw", h, sizeof h), now + BASIC_AUTH_CACHE_TTL - 1));
    assert_int_equal(f->n.calls, 1);
    /* the cache is keyed by user and password: a wrong password is not a hit */
    assert_false(basic_auth_check(&f->a, header("bob:bob p", h, sizeof h), now + 2));
    assert_int_equal(f->n.calls, 2);
    /* expired: verified again */
    assert_true(basic_auth_check(&f->a, header("bob:bob pw", h, sizeof h), now + BASIC_AUTH_CACHE_TTL + 1));
    assert_int_equal(f->n.calls, 3);
    /* more successes than slots: each still verified once, and right */
    for (int i = 0; i < BASIC_AUTH_CACHE + 4; i++)
        assert_true(basic_auth_check(&f->a, header(i % 2 ? "bob:bob pw" : "alice:alice pw:with colon", h,
                                                   sizeof h), now + 100 + i * 2 * BASIC_AUTH_CACHE_TTL));
    assert_int_equal(f->n.calls, 3 + BASIC_AUTH_CACHE + 4);
}

static void t_malformed(void **state)
{
    struct fixture *f = *state;
    char h[4096];
    char big[3000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    memcpy(big, "alice:", 6);
    const char *bad[] = {
        NULL, "", "Basic", "Basic ", "Bearer YWxpY2U6eA==", "Basicx YWxpY2U6eA==", "Digest username=alice",
        "Basic !!!!", "Basic YWxpY2U6eA",              /* no padding */
        "Basic YWxp Y2U6eA==",                          /* a space inside */
        "Basic YWxpY2U6eA==x",
        header("alice", h, sizeof h),                   /* no colon */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_false(basic_auth_check(&f->a, bad[i], 1));
    assert_false(basic_auth_check(&f->a, header(":alice pw", h, sizeof h), 1));          /* empty user */
    assert_false(basic_auth_check(&f->a, header(big, h, sizeof h), 1));                  /* too long */
    /* a NUL inside the decoded text ("alice\0:x") */
    strcpy(h, "Basic ");
    sodium_bin2base64(h + 6, sizeof h - 6, (const unsigned char *)"alice\0:x", 8, sodium_base64_VARIANT_ORIGINAL);
    assert_false(basic_auth_check(&f->a, h, 1));
    assert_int_equal(f->n.calls, 0);                    /* malformed: no user to check, no bcrypt */
}

static struct sockaddr_in v4(const char *text)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(40000)};
    assert_int_equal(inet_pton(AF_INET, text, &a.sin_addr), 1);
    return a;
}

static struct sockaddr_in6 v6(const char *text)
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons(40000)};
    assert_int_equal(inet_pton(AF_INET6, text, &a.sin6_addr), 1);
    return a;
}

#define SA(x) ((const struct sockaddr *)(const void *)&(x))

/* 10 wrong passwords from one address cost 10 bcrypts; the 11th costs none
 * (429); another address still gets its checks; one more is admitted 5 s later. */
static void t_flood_per_source(void **state)
{
    struct fixture *f = *state;
    char h[256];
    struct sockaddr_in a = v4("192.0.2.10"), b = v4("192.0.2.11");
    double now = 100;
    for (int i = 0; i < 10; i++)
        assert_int_equal(basic_auth_verify(&f->a, header("bob:guess", h, sizeof h), SA(a), now), BASIC_AUTH_WRONG);
    assert_int_equal(f->n.calls, 10);
    assert_int_equal(basic_auth_verify(&f->a, header("bob:guess", h, sizeof h), SA(a), now), BASIC_AUTH_LIMITED_SOURCE);
    /* the right password does not get through a limited source either: telling would need the bcrypt */
    assert_int_equal(basic_auth_verify(&f->a, header("bob:bob pw", h, sizeof h), SA(a), now), BASIC_AUTH_LIMITED_SOURCE);
    assert_int_equal(f->n.calls, 10);
    assert_int_equal(basic_auth_verify(&f->a, header("bob:guess", h, sizeof h), SA(b), now), BASIC_AUTH_WRONG);
    assert_int_equal(f->n.calls, 11);
    /* one token per 5 s */
    assert_int_equal(basic_auth_verify(&f->a, header("bob:guess", h, sizeof h), SA(a), now + 4.9),
                     BASIC_AUTH_LIMITED_SOURCE);
    assert_int_equal(f->n.calls, 11);
    assert_int_equal(basic_auth_verify(&f->a, header("bob:bob pw", h, sizeof h), SA(a), now + 5.1), BASIC_AUTH_OK);
    assert_int_equal(f->n.calls, 12);
    /* a success is not charged: the token it was admitted on is still there */
    assert_int_equal(basic_auth_verify(&f->a, header("bob:guess", h, sizeof h), SA(a), now + 5.2), BASIC_AUTH_WRONG);
    assert_int_equal(basic_auth_verify(&f->a, header("bob:guess", h, sizeof h), SA(a), now + 5.3),
                     BASIC_AUTH_LIMITED_SOURCE);
    assert_int_equal(f->n.calls, 13);
    /* cached good credentials pass a limited source without bcrypt */
    assert_int_equal(basic_auth_verify(&f->a, header("bob:bob pw", h, sizeof h), SA(a), now + 5.4), BASIC_AUTH_OK);
    assert_int_equal(f->n.calls, 13);
    /* missing and malformed headers cost nothing and are not charged */
    assert_int_equal(basic_auth_verify(&f->a, NULL, SA(b), now), BASIC_AUTH_MISSING);
    assert_int_equal(basic_auth_verify(&f->a, "Basic !!", SA(b), now), BASIC_AUTH_WRONG);
    assert_int_equal(f->n.calls, 13);
}

/* IPv6 clients are limited per /64; an IPv4-mapped address is its IPv4 client. */
static void t_flood_keys(void **state)
{
    struct fixture *f = *state;
    char h[256];
    struct sockaddr_in6 a1 = v6("2001:db8:1:2::1"), a2 = v6("2001:db8:1:2:ffff::9"), other = v6("2001:db8:1:3::1");
    struct sockaddr_in6 mapped = v6("::ffff:192.0.2.7");
    struct sockaddr_in plain = v4("192.0.2.7");
    for (int i = 0; i < 10; i++)
        basic_auth_verify(&f->a, header("alice:x", h, sizeof h), i % 2 ? SA(a1) : SA(a2), 10);
    assert_int_equal(f->n.calls, 10);
    assert_int_equal(basic_auth_verify(&f->a, header("alice:x", h, sizeof h), SA(a1), 10), BASIC_AUTH_LIMITED_SOURCE);
    assert_int_equal(basic_auth_verify(&f->a, header("alice:x", h, sizeof h), SA(other), 10), BASIC_AUTH_WRONG);
    assert_int_equal(f->n.calls, 11);
    for (int i = 0; i < 10; i++)
        basic_auth_verify(&f->a, header("alice:x", h, sizeof h), SA(mapped), 10);
    assert_int_equal(basic_auth_verify(&f->a, header("alice:x", h, sizeof h), SA(plain), 10), BASIC_AUTH_LIMITED_SOURCE);
    assert_int_equal(f->n.calls, 21);
    unsigned char k1[16], k2[16];
    assert_true(auth_limit_key(SA(a1), k1));
    assert_true(auth_limit_key(SA(a2), k2));
    assert_memory_equal(k1, k2, 16);
    struct sockaddr_un_like { sa_family_t family; } unix_addr = {AF_UNIX};
    assert_false(auth_limit_key(SA(unix_addr), k1));
}

/* The global bucket counts CPU seconds of failed checks: 2 s at once, then
 * 0.25 s per second, from any number of sources. */
static void t_flood_global(void **state)
{
    (void)state;
    struct auth_limiter l;
    auth_limit_init(&l);
    char text[32];
    for (int i = 0; i < 20; i++) {                       /* 20 sources, 0.1 CPU s each: 2 s */
        snprintf(text, sizeof text, "198.51.100.%d", i + 1);
        struct sockaddr_in a = v4(text);
        assert_int_equal(auth_limit_admit(&l, SA(a), 50), AUTH_LIMIT_ADMIT);
        auth_limit_failed(&l, SA(a), 50, 0.1);
    }
    struct sockaddr_in fresh = v4("203.0.113.1");
    assert_int_equal(auth_limit_admit(&l, SA(fresh), 50), AUTH_LIMIT_GLOBAL);
    assert_int_equal(auth_limit_admit(&l, NULL, 50.3), AUTH_LIMIT_ADMIT);       /* 0.075 s back: > 0 admits */
    auth_limit_failed(&l, NULL, 50.3, 1.0);                                      /* a slow one: -0.925 */
    assert_int_equal(auth_limit_admit(&l, SA(fresh), 53.0), AUTH_LIMIT_GLOBAL);  /* -0.25 */
    assert_int_equal(auth_limit_admit(&l, SA(fresh), 54.1), AUTH_LIMIT_ADMIT);   /* +0.025 */
    /* refills stop at the burst */
    auth_limit_failed(&l, NULL, 1000, 1.9);
    assert_int_equal(auth_limit_admit(&l, NULL, 1000), AUTH_LIMIT_ADMIT);
    auth_limit_failed(&l, NULL, 1000, 0.2);
    assert_int_equal(auth_limit_admit(&l, NULL, 1000), AUTH_LIMIT_GLOBAL);
    auth_limit_free(&l);
}

/* Threads hand in times taken before they got the lock: a time behind the
 * bucket's credits nothing, and does not move it back (no double credit). */
static void t_flood_time_order(void **state)
{
    (void)state;
    struct auth_limiter l;
    auth_limit_init(&l);
    assert_int_equal(auth_limit_admit(&l, NULL, 10), AUTH_LIMIT_ADMIT);
    auth_limit_failed(&l, NULL, 10, 2.0);                                        /* 0 */
    assert_int_equal(auth_limit_admit(&l, NULL, 12), AUTH_LIMIT_ADMIT);         /* 0.5 */
    auth_limit_failed(&l, NULL, 11, 0.5);                                        /* began at 11: 0 */
    assert_int_equal(auth_limit_admit(&l, NULL, 12), AUTH_LIMIT_GLOBAL);
    assert_int_equal(auth_limit_admit(&l, NULL, 12.1), AUTH_LIMIT_ADMIT);       /* 0.025 */
    auth_limit_free(&l);
}

/* More sources than slots: the fullest bucket is reused, a limited one kept. */
static void t_flood_table(void **state)
{
    (void)state;
    struct auth_limiter l;
    auth_limit_init(&l);
    struct sockaddr_in bad = v4("192.0.2.99");
    for (int i = 0; i < 10; i++)
        auth_limit_failed(&l, SA(bad), 1, 0);
    char text[32];
    for (int i = 0; i < 2 * AUTH_LIMIT_SOURCES; i++) {
        snprintf(text, sizeof text, "10.%d.%d.1", i / 256, i % 256);
        struct sockaddr_in a = v4(text);
        assert_int_equal(auth_limit_admit(&l, SA(a), 1), AUTH_LIMIT_ADMIT);
        auth_limit_failed(&l, SA(a), 1, 0);
    }
    assert_int_equal(auth_limit_admit(&l, SA(bad), 1), AUTH_LIMIT_SOURCE);
    auth_limit_free(&l);
}

static void t_parse_header(void **state)
{
    (void)state;
    char h[256], u[64], p[64];
    assert_true(basic_auth_parse_header(header("u:p:q", h, sizeof h), u, sizeof u, p, sizeof p));
    assert_string_equal(u, "u");
    assert_string_equal(p, "p:q");
    assert_true(basic_auth_parse_header("bAsIc   dTo=  ", u, sizeof u, p, sizeof p));     /* "u:" */
    assert_string_equal(u, "u");
    assert_string_equal(p, "");
    assert_false(basic_auth_parse_header(header("user:pw", h, sizeof h), u, 4, p, sizeof p));   /* too long */
    assert_false(basic_auth_parse_header(header("u:password", h, sizeof h), u, sizeof u, p, 8));
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_verify, setup, teardown),
        cmocka_unit_test_setup_teardown(t_good_bad_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(t_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(t_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(t_flood_per_source, setup, teardown),
        cmocka_unit_test_setup_teardown(t_flood_keys, setup, teardown),
        cmocka_unit_test(t_flood_global),
        cmocka_unit_test(t_flood_table),
        cmocka_unit_test(t_flood_time_order),
        cmocka_unit_test(t_parse_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
