/* webconfig.c — see webconfig.h. libyaml's document API gives every node
 * its line, so each error names the line of the offending key or value. */
#include "webconfig.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "buf.h"
#include "fileio.h"

/* More users than this is not a scrape-access list; it also bounds the
 * quadratic duplicate check for hostile input. */
#define WEBCFG_MAX_USERS 1024
#define WEBCFG_MAX_NAME 256
#define WEBCFG_MAX_FILE (1u << 20)

struct pctx {
    const char *name;
    const char *base_dir;
    yaml_document_t *doc;
    char *err;
    size_t errlen;
};

__attribute__((format(printf, 3, 4)))
static bool fail(struct pctx *p, const yaml_node_t *n, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errlen, "%s:%zu: %s", p->name, n ? n->start_mark.line + 1 : (size_t)1, msg);
    return false;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d)
        abort();
    return d;
}

/* A YAML null: an empty plain scalar, "~" or "null" (as yaml.v2 reads it). */
static bool is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *v = (const char *)n->data.scalar.value;
    return !*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") || !strcmp(v, "NULL");
}

/* A scalar's text; *out is NULL for null or "" (unset, as Go's zero value). */
static bool get_string(struct pctx *p, const yaml_node_t *n, const char *key, const char **out)
{
    *out = NULL;
    if (n->type != YAML_SCALAR_NODE)
        return fail(p, n, "%s must be a string", key);
    if (strlen((const char *)n->data.scalar.value) != n->data.scalar.length)
        return fail(p, n, "%s contains a NUL character", key);
    if (!is_null(n) && n->data.scalar.length > 0)
        *out = (const char *)n->data.scalar.value;
    return true;
}

static bool get_bool(struct pctx *p, const yaml_node_t *n, const char *key, bool *out)
{
    const char *v = n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : "";
    if (n->type == YAML_SCALAR_NODE && (!strcmp(v, "true") || !strcmp(v, "True") || !strcmp(v, "TRUE"))) {
        *out = true;
        return true;
    }
    if (n->type == YAML_SCALAR_NODE && (!strcmp(v, "false") || !strcmp(v, "False") || !strcmp(v, "FALSE"))) {
        *out = false;
        return true;
    }
    return fail(p, n, "%s must be true or false", key);
}

/* A mapping, or null (an empty section). Anything else is an error. */
static bool get_mapping(struct pctx *p, const yaml_node_t *n, const char *key, bool *present)
{
    *present = n->type == YAML_MAPPING_NODE;
    if (*present || is_null(n))
        return true;
    return fail(p, n, "%s must be a mapping of keys to values", key);
}

/* The key of a mapping pair, which must be a plain string; NULL after fail(). */
static const char *key_of(struct pctx *p, const yaml_node_t *k)
{
    if (k->type != YAML_SCALAR_NODE || strlen((const char *)k->data.scalar.value) != k->data.scalar.length) {
        fail(p, k, "keys must be strings");
        return NULL;
    }
    return (const char *)k->data.scalar.value;
}

#define FOR_PAIRS(pr, n) \
    for (yaml_node_pair_t *pr = (n)->data.mapping.pairs.start; pr < (n)->data.mapping.pairs.top; pr++)

/* Rejects a key seen before in the same mapping (YAML says keys are unique;
 * libyaml does not check, and silently taking the last one would hide a typo'd
 * second block). Linear: mappings here are small and users are bounded. */
static bool unique_key(struct pctx *p, const yaml_node_t *map, const yaml_node_pair_t *upto, const yaml_node_t *k,
                       const char *key)
{
    for (const yaml_node_pair_t *q = map->data.mapping.pairs.start; q < upto; q++) {
        const yaml_node_t *qk = yaml_document_get_node(p->doc, q->key);
        if (qk && qk->type == YAML_SCALAR_NODE && !strcmp((const char *)qk->data.scalar.value, key))
            return fail(p, k, "duplicate key '%s' (first at line %zu)", key, qk->start_mark.line + 1);
    }
    return true;
}

static bool set_path(struct pctx *p, const yaml_node_t *v, const char *key, struct webcfg_file *f)
{
    const char *s;
    if (!get_string(p, v, key, &s))
        return false;
    if (!s)
        return true;
    f->line = (int)v->start_mark.line + 1;
    if (s[0] == '/' || !p->base_dir || !*p->base_dir) {
        f->path = xstrdup(s);
        return true;
    }
    size_t n = strlen(p->base_dir) + strlen(s) + 2;
    f->path = malloc(n);
    if (!f->path)
        abort();
    snprintf(f->path, n, "%s/%s", p->base_dir, s);
    return true;
}

static bool tls_version(struct pctx *p, const yaml_node_t *v, const char *key, int *out)
{
    const char *s;
    if (!get_string(p, v, key, &s))
        return false;
    if (!s)
        return true;                /* null: the default */
    if (!strcmp(s, "TLS12"))
        *out = 12;
    else if (!strcmp(s, "TLS13"))
        *out = 13;
    else if (!strcmp(s, "TLS10") || !strcmp(s, "TLS11"))
        return fail(p, v, "%s %s is not supported: pvescope serves TLS 1.2 and 1.3 only", key, s);
    else
        return fail(p, v, "%s '%s' is not a TLS version (TLS12 or TLS13)", key, s);
    return true;
}

static bool client_auth(struct pctx *p, const yaml_node_t *v, enum webcfg_client_auth *out)
{
    const char *s;
    if (!get_string(p, v, "client_auth_type", &s))
        return false;
    if (!s || !strcmp(s, "NoClientCert"))
        *out = WEBCFG_NO_CLIENT_CERT;
    else if (!strcmp(s, "VerifyClientCertIfGiven"))
        *out = WEBCFG_VERIFY_IF_GIVEN;
    else if (!strcmp(s, "RequireAndVerifyClientCert"))
        *out = WEBCFG_REQUIRE_AND_VERIFY;
    else if (!strcmp(s, "RequestClientCert") || !strcmp(s, "RequireAnyClientCert"))
        return fail(p, v, "client_auth_type %s is not supported: it accepts certificates nobody verified; "
                    "use RequireAndVerifyClientCert or VerifyClientCertIfGiven", s);
    else
        return fail(p, v, "client_auth_type '%s' is not one of NoClientCert, VerifyClientCertIfGiven, "
                    "RequireAndVerifyClientCert", s);
    return true;
}

static bool parse_tls(struct pctx *p, const yaml_node_t *sect, struct webconfig *c)
{
    bool any = false, ca_auth_given = false;
    const yaml_node_t *auth_node = NULL;
    FOR_PAIRS(pr, sect) {
        const yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
        const yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
        const char *key = key_of(p, k);
        if (!key || !unique_key(p, sect, pr, k, key))
            return false;
        if (!is_null(v))
            any = true;
        const char *s;
        bool ok;
        if (!strcmp(key, "cert_file"))
            ok = set_path(p, v, key, &c->cert_file);
        else if (!strcmp(key, "key_file"))
            ok = set_path(p, v, key, &c->key_file);
        else if (!strcmp(key, "client_ca_file"))
            ok = set_path(p, v, key, &c->client_ca_file);
        else if (!strcmp(key, "cert") || !strcmp(key, "key")) {
            ok = get_string(p, v, key, &s);
            if (ok && s)
                *(key[0] == 'c' && key[1] == 'e' ? &c->cert_pem : &c->key_pem) = xstrdup(s);
        } else if (!strcmp(key, "client_auth_type")) {
            ok = client_auth(p, v, &c->client_auth);
            ca_auth_given = true;
            auth_node = v;
        } else if (!strcmp(key, "min_version"))
            ok = tls_version(p, v, key, &c->min_version);
        else if (!strcmp(key, "max_version"))
            ok = tls_version(p, v, key, &c->max_version);
        else if (!strcmp(key, "cipher_suites") || !strcmp(key, "curve_preferences") ||
                 !strcmp(key, "prefer_server_cipher_suites") || !strcmp(key, "client_allowed_sans"))
            ok = fail(p, k, "tls_server_config.%s is not supported by pvescope (GnuTLS's defaults apply); "
                      "remove it", key);
        else
            ok = fail(p, k, "unknown key '%s' in tls_server_config", key);
        if (!ok)
            return false;
    }
    if (!any)
        return true;                /* an empty section: plain HTTP, as in the toolkit */
    c->tls = true;
    if (c->cert_pem && c->cert_file.path)
        return fail(p, sect, "tls_server_config: give cert_file or cert, not both");
    if (c->key_pem && c->key_file.path)
        return fail(p, sect, "tls_server_config: give key_file or key, not both");
    if (!c->cert_pem && !c->cert_file.path)
        return fail(p, sect, "tls_server_config: cert_file (or cert) is required");
    if (!c->key_pem && !c->key_file.path)
        return fail(p, sect, "tls_server_config: key_file (or key) is required");
    if (c->client_auth != WEBCFG_NO_CLIENT_CERT && !c->client_ca_file.path)
        return fail(p, auth_node, "client_auth_type %s needs client_ca_file (the CA that signs client "
                    "certificates)", c->client_auth == WEBCFG_VERIFY_IF_GIVEN ? "VerifyClientCertIfGiven"
                                                                                 : "RequireAndVerifyClientCert");
    if (c->client_auth == WEBCFG_NO_CLIENT_CERT && c->client_ca_file.path)
        return fail(p, ca_auth_given ? auth_node : sect, "client_ca_file is set but client_auth_type is "
                    "NoClientCert: set client_auth_type: RequireAndVerifyClientCert");
    if (c->min_version > c->max_version)
        return fail(p, sect, "tls_server_config: min_version TLS%d is above max_version TLS%d",
                    c->min_version, c->max_version);
    return true;
}

static bool parse_http(struct pctx *p, const yaml_node_t *sect)
{
    FOR_PAIRS(pr, sect) {
        const yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
        const yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
        const char *key = key_of(p, k);
        if (!key || !unique_key(p, sect, pr, k, key))
            return false;
        bool b;
        if (!strcmp(key, "http2")) {
            /* Either value is fine: Prometheus speaks HTTP/1.1 to us either way. */
            if (!is_null(v) && !get_bool(p, v, key, &b))
                return false;
        } else if (!strcmp(key, "headers")) {
            return fail(p, k, "http_server_config.headers is not supported by pvescope; remove it");
        } else {
            return fail(p, k, "unknown key '%s' in http_server_config", key);
        }
    }
    return true;
}

/* "$2a$", "$2b$" or "$2y$", a two-digit cost, '$', then 22 salt and 31 hash
 * characters of bcrypt's base64 alphabet. Returns the cost, or -1. */
static int bcrypt_cost(const char *h)
{
    if (strlen(h) != 60 || h[0] != '$' || h[1] != '2' || !strchr("aby", h[2]) || h[3] != '$' ||
        h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9' || h[6] != '$')
        return -1;
    for (const char *q = h + 7; *q; q++)
        if (!strchr("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", *q))
            return -1;
    return (h[4] - '0') * 10 + (h[5] - '0');
}

static bool parse_users(struct pctx *p, const yaml_node_t *sect, struct webconfig *c)
{
    size_t n = (size_t)(sect->data.mapping.pairs.top - sect->data.mapping.pairs.start);
    if (n > WEBCFG_MAX_USERS)
        return fail(p, sect, "basic_auth_users: more than %d users", WEBCFG_MAX_USERS);
    c->users = calloc(n ? n : 1, sizeof *c->users);
    if (!c->users)
        abort();
    FOR_PAIRS(pr, sect) {
        const yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
        const yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
        const char *user = key_of(p, k);
        if (!user || !unique_key(p, sect, pr, k, user))
            return false;
        if (!*user || strlen(user) > WEBCFG_MAX_NAME)
            return fail(p, k, "basic_auth_users: a user name must have 1 to %d characters", WEBCFG_MAX_NAME);
        for (const char *q = user; *q; q++) {
            if (*q == ':')
                return fail(p, k, "basic_auth_users: user name '%s' contains ':', which basic auth cannot "
                            "carry", user);
            if ((unsigned char)*q < 0x20 || *q == 0x7f)
                return fail(p, k, "basic_auth_users: user name contains a control character");
        }
        const char *hash;
        if (!get_string(p, v, "a basic_auth_users hash", &hash))
            return false;
        int cost = hash ? bcrypt_cost(hash) : -1;
        if (cost < 0)
            return fail(p, v, "basic_auth_users: the password of '%s' is not a bcrypt hash ($2y$, $2b$ or $2a$; "
                        "make one with: htpasswd -nBC 10 \"\" | tr -d ':\\n')", user);
        if (cost < 4 || cost > 31)
            return fail(p, v, "basic_auth_users: the bcrypt cost of '%s' is %d, not 4 to 31", user, cost);
        if (cost > WEBCFG_BCRYPT_MAX_COST)
            return fail(p, v, "basic_auth_users: the bcrypt cost of '%s' is %d: above %d one check takes "
                        "longer than a scrape timeout", user, cost, WEBCFG_BCRYPT_MAX_COST);
        c->users[c->n_users++] = (struct webcfg_user){xstrdup(user), xstrdup(hash), cost};
    }
    return true;
}

static bool parse_root(struct pctx *p, const yaml_node_t *root, struct webconfig *c)
{
    if (!root || is_null(root))
        return true;                /* an empty file: plain HTTP, no auth */
    if (root->type != YAML_MAPPING_NODE)
        return fail(p, root, "the web config must be a mapping (tls_server_config, basic_auth_users, ...)");
    FOR_PAIRS(pr, root) {
        const yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
        const yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
        const char *key = key_of(p, k);
        if (!key || !unique_key(p, root, pr, k, key))
            return false;
        bool present;
        if (!strcmp(key, "tls_server_config")) {
            if (!get_mapping(p, v, key, &present) || (present && !parse_tls(p, v, c)))
                return false;
        } else if (!strcmp(key, "http_server_config")) {
            if (!get_mapping(p, v, key, &present) || (present && !parse_http(p, v)))
                return false;
        } else if (!strcmp(key, "basic_auth_users")) {
            if (!get_mapping(p, v, key, &present) || (present && !parse_users(p, v, c)))
                return false;
        } else if (!strcmp(key, "rate_limit")) {
            return fail(p, k, "rate_limit is not supported by pvescope; remove it");
        } else {
            return fail(p, k, "unknown key '%s' (expected tls_server_config, http_server_config, "
                        "basic_auth_users)", key);
        }
    }
    return true;
}

bool webconfig_parse(const char *name, const char *text, size_t len, const char *base_dir,
                     struct webconfig *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->min_version = 12;
    out->max_version = 13;
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        abort();
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    yaml_document_t doc;
    struct pctx p = {name, base_dir, &doc, err, errlen};
    bool ok = false;
    if (!yaml_parser_load(&parser, &doc)) {
        snprintf(err, errlen, "%s:%zu: invalid YAML: %s%s%s", name, parser.problem_mark.line + 1,
                 parser.problem ? parser.problem : "syntax error", parser.context ? " " : "",
                 parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return false;
    }
    ok = parse_root(&p, yaml_document_get_root_node(&doc), out);
    yaml_document_delete(&doc);
    if (ok) {
        /* A second document would be ignored by the toolkit's reader; here it is a mistake. */
        if (!yaml_parser_load(&parser, &doc)) {
            snprintf(err, errlen, "%s:%zu: invalid YAML: %s", name, parser.problem_mark.line + 1,
                     parser.problem ? parser.problem : "syntax error");
            ok = false;
        } else {
            const yaml_node_t *second = yaml_document_get_root_node(&doc);
            if (second)
                ok = fail(&p, second, "a second YAML document: the web config is one document");
            yaml_document_delete(&doc);
        }
    }
    yaml_parser_delete(&parser);
    if (!ok)
        webconfig_free(out);
    return ok;
}

/* Reads a PEM file into a NUL-terminated string. */
static bool read_pem(const char *cfg, const char *key, const struct webcfg_file *f, char **out, char *err,
                     size_t errlen)
{
    struct buf b = BUF_INIT;
    int rc = read_file_at(f->path[0] == '/' ? "/" : ".", f->path, &b);
    if (rc == 0 && b.len > WEBCFG_MAX_FILE)
        rc = -EFBIG;
    if (rc != 0) {
        snprintf(err, errlen, "%s:%d: %s %s: %s", cfg, f->line, key, f->path, strerror(-rc));
        buf_free(&b);
        return false;
    }
    size_t len;
    *out = buf_steal(&b, &len);
    if (!*out)
        *out = xstrdup("");
    return true;
}

/* Loads the certificate, key and CA into throw-away GnuTLS credentials: the
 * same calls libmicrohttpd makes at start, but with their errors named. */
static bool check_tls(const char *cfg, const struct webconfig *c, char *err, size_t errlen)
{
    gnutls_certificate_credentials_t cred;
    if (gnutls_certificate_allocate_credentials(&cred) < 0)
        abort();
    bool ok = true;
    gnutls_datum_t cert = {(unsigned char *)c->cert_pem, (unsigned)strlen(c->cert_pem)};
    gnutls_datum_t key = {(unsigned char *)c->key_pem, (unsigned)strlen(c->key_pem)};
    int rc = gnutls_certificate_set_x509_key_mem(cred, &cert, &key, GNUTLS_X509_FMT_PEM);
    if (rc < 0) {
        snprintf(err, errlen, "%s:%d: tls_server_config: certificate %s and key %s: %s", cfg,
                 c->cert_file.line ? c->cert_file.line : c->key_file.line,
                 c->cert_file.path ? c->cert_file.path : "(inline)", c->key_file.path ? c->key_file.path : "(inline)",
                 gnutls_strerror(rc));
        ok = false;
    }
    if (ok && c->client_ca_pem) {
        gnutls_datum_t ca = {(unsigned char *)c->client_ca_pem, (unsigned)strlen(c->client_ca_pem)};
        rc = gnutls_certificate_set_x509_trust_mem(cred, &ca, GNUTLS_X509_FMT_PEM);
        if (rc <= 0) {
            snprintf(err, errlen, "%s:%d: client_ca_file %s: %s", cfg, c->client_ca_file.line,
                     c->client_ca_file.path, rc < 0 ? gnutls_strerror(rc) : "no PEM certificate in it");
            ok = false;
        }
    }
    gnutls_certificate_free_credentials(cred);
    return ok;
}

bool webconfig_load(const char *path, struct webconfig *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct buf b = BUF_INIT;
    int rc = read_file_at(path[0] == '/' ? "/" : ".", path, &b);
    if (rc == 0 && b.len > WEBCFG_MAX_FILE)
        rc = -EFBIG;
    if (rc != 0) {
        snprintf(err, errlen, "--web.config.file %s: %s", path, strerror(-rc));
        buf_free(&b);
        return false;
    }
    /* The directory of the config file: relative paths in it are relative to it. */
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    bool ok = webconfig_parse(path, b.data ? b.data : "", b.len, dir, out, err, errlen);
    buf_free(&b);
    if (!ok || !out->tls)
        return ok;
    ok = (out->cert_pem || read_pem(path, "cert_file", &out->cert_file, &out->cert_pem, err, errlen)) &&
         (out->key_pem || read_pem(path, "key_file", &out->key_file, &out->key_pem, err, errlen)) &&
         (!out->client_ca_file.path ||
          read_pem(path, "client_ca_file", &out->client_ca_file, &out->client_ca_pem, err, errlen)) &&
         check_tls(path, out, err, errlen);
    if (!ok)
        webconfig_free(out);
    return ok;
}

void webconfig_priorities(const struct webconfig *c, char *out, size_t cap)
{
    /* NORMAL keeps GnuTLS's (and Debian's system policy's) ciphers; only the
     * protocol versions are narrowed. */
    snprintf(out, cap, "NORMAL:-VERS-ALL%s%s", c->max_version >= 13 ? ":+VERS-TLS1.3" : "",
             c->min_version <= 12 ? ":+VERS-TLS1.2" : "");
}

void webconfig_free(struct webconfig *c)
{
    free(c->cert_file.path);
    free(c->key_file.path);
    free(c->client_ca_file.path);
    if (c->key_pem)
        sodium_memzero(c->key_pem, strlen(c->key_pem));  /* a private key should not linger in freed memory */
    free(c->cert_pem);
    free(c->key_pem);
    free(c->client_ca_pem);
    for (size_t i = 0; i < c->n_users; i++) {
        free(c->users[i].name);
        free(c->users[i].hash);
    }
    free(c->users);
    memset(c, 0, sizeof *c);
    c->min_version = 12;
    c->max_version = 13;
}
