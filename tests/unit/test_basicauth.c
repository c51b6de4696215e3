/* test_basicauth.c — basic auth (aggregator/basicauth.c) with real bcrypt
 * hashes from the system's libcrypt (cost 4, made here), through a counting
 * verify hook: a good password, a wrong one, an unknown user (which must cost
 * exactly one bcrypt of the dummy hash at the highest configured cost, like a
 * wrong password), malformed headers (no bcrypt at all), and the cache
 * (successes only, for its TTL). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <crypt.h>
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
        cmocka_unit_test(t_parse_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
