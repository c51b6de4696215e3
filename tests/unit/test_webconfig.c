/* test_webconfig.c — the --web.config.file parser (aggregator/webconfig.c):
 * valid configs (relative and absolute paths, inline PEM, defaults, empty
 * sections) and every refused form with its exact "name:line: message". */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "webconfig.h"

/* htpasswd -nbBC 10 "" secret */
#define H10 "$2y$10$9tBd/nRjUQ8aWNGsE.QEIe99Q9d9vTUTlCF.8o7efkmNMCzodhAoy"
#define H04 "$2b$04$Oug5tNdMeOTmFnF4Rm1kO.h/WndZwR/AVtGNrGqYYGFziHNB8E.mq"

static bool parse(const char *text, const char *dir, struct webconfig *c, char *err, size_t errlen)
{
    return webconfig_parse("w.yml", text, strlen(text), dir, c, err, errlen);
}

static void t_empty(void **state)
{
    (void)state;
    const char *empties[] = {"", "\n", "# only a comment\n", "---\n", "~\n", "tls_server_config:\n",
                             "tls_server_config: {}\nbasic_auth_users: {}\n",
                             "tls_server_config:\n  cert_file:\n  min_version: ~\nbasic_auth_users:\n"};
    for (size_t i = 0; i < sizeof empties / sizeof *empties; i++) {
        struct webconfig c;
        char err[256] = "";
        assert_true(parse(empties[i], "/etc/x", &c, err, sizeof err));
        assert_false(c.tls);
        assert_int_equal(c.n_users, 0);
        assert_int_equal(c.min_version, 12);
        assert_int_equal(c.max_version, 13);
        webconfig_free(&c);
    }
}

static void t_full(void **state)
{
    (void)state;
    const char *text =
        "# a node_exporter web config\n"
        "tls_server_config:\n"
        "  cert_file: tls/server.crt\n"
        "  key_file: /abs/server.key\n"
        "  client_auth_type: RequireAndVerifyClientCert\n"
        "  client_ca_file: \"ca.crt\"\n"
        "  min_version: TLS13\n"
        "  max_version: TLS13\n"
        "http_server_config:\n"
        "  http2: false\n"
        "basic_auth_users:\n"
        "  prometheus: " H10 "\n"
        "  'grafana agent': '" H04 "'\n";
    struct webconfig c;
    char err[256] = "";
    assert_true(parse(text, "/etc/pvescope", &c, err, sizeof err));
    assert_true(c.tls);
    assert_string_equal(c.cert_file.path, "/etc/pvescope/tls/server.crt");
    assert_int_equal(c.cert_file.line, 3);
    assert_string_equal(c.key_file.path, "/abs/server.key");
    assert_string_equal(c.client_ca_file.path, "/etc/pvescope/ca.crt");
    assert_int_equal(c.client_ca_file.line, 6);
    assert_null(c.cert_pem);                     /* the parser reads no file */
    assert_int_equal(c.client_auth, WEBCFG_REQUIRE_AND_VERIFY);
    assert_int_equal(c.min_version, 13);
    assert_int_equal(c.max_version, 13);
    assert_int_equal(c.n_users, 2);
    assert_string_equal(c.users[0].name, "prometheus");
    assert_string_equal(c.users[0].hash, H10);
    assert_int_equal(c.users[0].cost, 10);
    assert_string_equal(c.users[1].name, "grafana agent");
    assert_int_equal(c.users[1].cost, 4);
    char prio[96];
    webconfig_priorities(&c, prio, sizeof prio);
    assert_string_equal(prio, "NORMAL:-VERS-ALL:+VERS-TLS1.3");
    webconfig_free(&c);

    /* No base directory: paths stay as given. Inline PEM. VerifyClientCertIfGiven. */
    assert_true(parse("tls_server_config:\n  cert: |\n    -----BEGIN CERTIFICATE-----\n  key: PEMKEY\n"
                      "  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ca.crt\n"
                      "  max_version: TLS12\n", NULL, &c, err, sizeof err));
    assert_true(c.tls);
    assert_string_equal(c.cert_pem, "-----BEGIN CERTIFICATE-----\n");
    assert_string_equal(c.key_pem, "PEMKEY");
    assert_string_equal(c.client_ca_file.path, "ca.crt");
    assert_int_equal(c.client_auth, WEBCFG_VERIFY_IF_GIVEN);
    webconfig_priorities(&c, prio, sizeof prio);
    assert_string_equal(prio, "NORMAL:-VERS-ALL:+VERS-TLS1.2");
    webconfig_free(&c);

    /* Defaults: TLS 1.2 and 1.3, no client certificates; basic auth alone is fine. */
    assert_true(parse("tls_server_config: {cert_file: a, key_file: b, client_auth_type: NoClientCert}\n"
                      "http_server_config: {http2: true}\nbasic_auth_users: {u: \"" H04 "\"}\n",
                      "rel/dir", &c, err, sizeof err));
    assert_string_equal(c.cert_file.path, "rel/dir/a");
    assert_int_equal(c.client_auth, WEBCFG_NO_CLIENT_CERT);
    webconfig_priorities(&c, prio, sizeof prio);
    assert_string_equal(prio, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2");
    webconfig_free(&c);
    assert_true(parse("basic_auth_users:\n  u: " H10 "\n", NULL, &c, err, sizeof err));
    assert_false(c.tls);
    assert_int_equal(c.n_users, 1);
    webconfig_free(&c);
}

struct bad {
    const char *text;
    const char *msg;                 /* the whole error text */
};

static const struct bad BAD[] = {
    {"tls_server_config: [\n", "w.yml:2: invalid YAML: did not find expected node content while parsing a flow node"},
    {"basic_auth_users:\n  u: 'open\n",
     "w.yml:3: invalid YAML: found unexpected end of stream while scanning a quoted scalar"},
    {"- a\n", "w.yml:1: the web config must be a mapping (tls_server_config, basic_auth_users, ...)"},
    {"just text\n", "w.yml:1: the web config must be a mapping (tls_server_config, basic_auth_users, ...)"},
    {"tls_config:\n", "w.yml:1: unknown key 'tls_config' (expected tls_server_config, http_server_config, "
                      "basic_auth_users)"},
    {"rate_limit: {interval: 1s, burst: 5}\n", "w.yml:1: rate_limit is not supported by pvescope; remove it"},
    {"basic_auth_users: {}\nbasic_auth_users: {}\n", "w.yml:2: duplicate key 'basic_auth_users' (first at line 1)"},
    {"? [a]\n: b\n", "w.yml:1: keys must be strings"},
    {"tls_server_config: yes\n", "w.yml:1: tls_server_config must be a mapping of keys to values"},
    {"basic_auth_users: [u]\n", "w.yml:1: basic_auth_users must be a mapping of keys to values"},
    {"http_server_config: 1\n", "w.yml:1: http_server_config must be a mapping of keys to values"},
    {"tls_server_config:\n  cert_file: a\n  key_file: b\n  cert_flie: c\n",
     "w.yml:4: unknown key 'cert_flie' in tls_server_config"},
    {"tls_server_config:\n  cert_file: a\n  cert_file: b\n", "w.yml:3: duplicate key 'cert_file' (first at line 2)"},
    {"tls_server_config:\n  cipher_suites: [TLS_AES_128_GCM_SHA256]\n",
     "w.yml:2: tls_server_config.cipher_suites is not supported by pvescope (GnuTLS's defaults apply); remove it"},
    {"tls_server_config:\n  curve_preferences: [X25519]\n",
     "w.yml:2: tls_server_config.curve_preferences is not supported by pvescope (GnuTLS's defaults apply); "
     "remove it"},
    {"tls_server_config:\n  prefer_server_cipher_suites: true\n",
     "w.yml:2: tls_server_config.prefer_server_cipher_suites is not supported by pvescope (GnuTLS's defaults "
     "apply); remove it"},
    {"tls_server_config:\n  client_allowed_sans: [a]\n",
     "w.yml:2: tls_server_config.client_allowed_sans is not supported by pvescope (GnuTLS's defaults apply); "
     "remove it"},
    {"tls_server_config:\n  cert_file: [a]\n", "w.yml:2: cert_file must be a string"},
    {"tls_server_config:\n  key_file: {a: b}\n", "w.yml:2: key_file must be a string"},
    {"tls_server_config:\n  cert_file: \"a\\0b\"\n", "w.yml:2: cert_file contains a NUL character"},
    {"tls_server_config:\n  cert_file: a\n", "w.yml:2: tls_server_config: key_file (or key) is required"},
    {"tls_server_config:\n  key_file: a\n", "w.yml:2: tls_server_config: cert_file (or cert) is required"},
    {"tls_server_config:\n  min_version: TLS13\n", "w.yml:2: tls_server_config: cert_file (or cert) is required"},
    {"tls_server_config:\n  cert_file: a\n  cert: b\n  key_file: k\n",
     "w.yml:2: tls_server_config: give cert_file or cert, not both"},
    {"tls_server_config:\n  cert_file: a\n  key: b\n  key_file: k\n",
     "w.yml:2: tls_server_config: give key_file or key, not both"},
    {"tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Always\n",
     "w.yml:4: client_auth_type 'Always' is not one of NoClientCert, VerifyClientCertIfGiven, "
     "RequireAndVerifyClientCert"},
    {"tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequestClientCert\n",
     "w.yml:4: client_auth_type RequestClientCert is not supported: it accepts certificates nobody verified; use "
     "RequireAndVerifyClientCert or VerifyClientCertIfGiven"},
    {"tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireAnyClientCert\n",
     "w.yml:4: client_auth_type RequireAnyClientCert is not supported: it accepts certificates nobody verified; "
     "use RequireAndVerifyClientCert or VerifyClientCertIfGiven"},
    {"tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireAndVerifyClientCert\n",
     "w.yml:4: client_auth_type RequireAndVerifyClientCert needs client_ca_file (the CA that signs client "
     "certificates)"},
    {"tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: ca\n",
     "w.yml:2: client_ca_file is set but client_auth_type is NoClientCert: set client_auth_type: "
     "RequireAndVerifyClientCert"},
    {"tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: ca\n  client_auth_type: NoClientCert\n",
     "w.yml:5: client_ca_file is set but client_auth_type is NoClientCert: set client_auth_type: "
     "RequireAndVerifyClientCert"},
    {"tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS11\n",
     "w.yml:4: min_version TLS11 is not supported: pvescope serves TLS 1.2 and 1.3 only"},
    {"tls_server_config:\n  cert_file: a\n  key_file: b\n  max_version: TLS1.3\n",
     "w.yml:4: max_version 'TLS1.3' is not a TLS version (TLS12 or TLS13)"},
    {"tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS13\n  max_version: TLS12\n",
     "w.yml:2: tls_server_config: min_version TLS13 is above max_version TLS12"},
    {"http_server_config:\n  headers: {X-Frame-Options: deny}\n",
     "w.yml:2: http_server_config.headers is not supported by pvescope; remove it"},
    {"http_server_config:\n  http2: maybe\n", "w.yml:2: http2 must be true or false"},
    {"http_server_config:\n  http3: true\n", "w.yml:2: unknown key 'http3' in http_server_config"},
    {"basic_auth_users:\n  u: secret\n",
     "w.yml:2: basic_auth_users: the password of 'u' is not a bcrypt hash ($2y$, $2b$ or $2a$; make one with: "
     "htpasswd -nBC 10 \"\" | tr -d ':\\n')"},
    {"basic_auth_users:\n  u:\n", "w.yml:2: basic_auth_users: the password of 'u' is not a bcrypt hash ($2y$, $2b$ "
                                  "or $2a$; make one with: htpasswd -nBC 10 \"\" | tr -d ':\\n')"},
    {"basic_auth_users:\n  u: $1$abc$defghijklmnopqrstuvwxyz\n",
     "w.yml:2: basic_auth_users: the password of 'u' is not a bcrypt hash ($2y$, $2b$ or $2a$; make one with: "
     "htpasswd -nBC 10 \"\" | tr -d ':\\n')"},
    {"basic_auth_users:\n  u: \"$2y$10$9tBd/nRjUQ8aWNGsE.QEIe99Q9d9vTUTlCF.8o7efkmNMCzodhAo!\"\n",
     "w.yml:2: basic_auth_users: the password of 'u' is not a bcrypt hash ($2y$, $2b$ or $2a$; make one with: "
     "htpasswd -nBC 10 \"\" | tr -d ':\\n')"},
    {"basic_auth_users:\n  u: $2y$03$9tBd/nRjUQ8aWNGsE.QEIe99Q9d9vTUTlCF.8o7efkmNMCzodhAoy\n",
     "w.yml:2: basic_auth_users: the bcrypt cost of 'u' is 3, not 4 to 31"},
    {"basic_auth_users:\n  u: $2y$17$9tBd/nRjUQ8aWNGsE.QEIe99Q9d9vTUTlCF.8o7efkmNMCzodhAoy\n",
     "w.yml:2: basic_auth_users: the bcrypt cost of 'u' is 17: above 16 one check takes longer than a scrape "
     "timeout"},
    {"basic_auth_users:\n  u: [" H10 "]\n", "w.yml:2: a basic_auth_users hash must be a string"},
    {"basic_auth_users:\n  a:b: " H10 "\n",
     "w.yml:2: basic_auth_users: user name 'a:b' contains ':', which basic auth cannot carry"},
    {"basic_auth_users:\n  \"a\\nb\": " H10 "\n", "w.yml:2: basic_auth_users: user name contains a control character"},
    {"basic_auth_users:\n  \"\": " H10 "\n", "w.yml:2: basic_auth_users: a user name must have 1 to 256 characters"},
    {"basic_auth_users:\n  u: " H10 "\n  u: " H04 "\n", "w.yml:3: duplicate key 'u' (first at line 2)"},
    {"basic_auth_users: {}\n---\nbasic_auth_users: {}\n", "w.yml:3: a second YAML document: the web config is one "
                                                          "document"},
};

static void t_bad(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof BAD / sizeof *BAD; i++) {
        struct webconfig c;
        char err[512] = "";
        bool ok = parse(BAD[i].text, "/d", &c, err, sizeof err);
        if (ok || strcmp(err, BAD[i].msg) != 0)
            fail_msg("case %zu (%s): ok=%d, error\n  got  '%s'\n  want '%s'", i, BAD[i].text, ok, err, BAD[i].msg);
        /* a failed parse leaves nothing to free, and freeing again is harmless */
        assert_null(c.users);
        assert_null(c.cert_file.path);
        webconfig_free(&c);
    }
}

static void t_too_many_users(void **state)
{
    (void)state;
    static char text[1100 * 80];
    size_t n = (size_t)snprintf(text, sizeof text, "basic_auth_users:\n");
    for (int i = 0; i < 1025; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "  u%d: " H04 "\n", i);
    struct webconfig c;
    char err[256] = "";
    assert_false(parse(text, NULL, &c, err, sizeof err));
    assert_string_equal(err, "w.yml:2: basic_auth_users: more than 1024 users");
}

static void t_not_nul_terminated(void **state)
{
    (void)state;
    /* The parser takes a length: bytes after it are not read. */
    const char text[] = "basic_auth_users: {u: " H04 "}\nthis is not yaml: [";
    struct webconfig c;
    char err[256] = "";
    size_t len = strchr(text, '\n') - text + 1;
    assert_true(webconfig_parse("w.yml", text, len, NULL, &c, err, sizeof err));
    assert_int_equal(c.n_users, 1);
    webconfig_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_empty), cmocka_unit_test(t_full), cmocka_unit_test(t_bad),
        cmocka_unit_test(t_too_many_users), cmocka_unit_test(t_not_nul_terminated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
