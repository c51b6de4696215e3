/* webconfig.h — the --web.config.file of the aggregator, in the
 * exporter-toolkit web-config.yml format (so a node_exporter web config can be
 * reused as is):
 *
 *   tls_server_config:
 *     cert_file: server.crt          # or cert: <PEM text>
 *     key_file: server.key           # or key: <PEM text>
 *     client_auth_type: RequireAndVerifyClientCert   # NoClientCert (default),
 *                                                    # VerifyClientCertIfGiven
 *     client_ca_file: ca.crt
 *     min_version: TLS12             # TLS12 (default) or TLS13
 *     max_version: TLS13             # TLS13 (default) or TLS12
 *   http_server_config:
 *     http2: true                    # accepted and ignored: pvescope serves HTTP/1.1
 *   basic_auth_users:
 *     prometheus: $2y$10$...         # bcrypt hashes only
 *
 * Parsing is strict: an unknown key, a key of the toolkit that pvescope does
 * not implement, a duplicate key, a value of the wrong type or anything but a
 * bcrypt hash is an error "NAME:LINE: what". An empty file (or empty
 * tls_server_config) means plain HTTP, as in the toolkit. Relative file paths
 * are relative to the config file's directory, as in the toolkit. */
#ifndef PVESCOPE_WEBCONFIG_H
#define PVESCOPE_WEBCONFIG_H

#include <stdbool.h>
#include <stddef.h>

enum webcfg_client_auth {
    WEBCFG_NO_CLIENT_CERT,          /* no certificate asked for */
    WEBCFG_VERIFY_IF_GIVEN,         /* asked for; verified when the client sends one */
    WEBCFG_REQUIRE_AND_VERIFY,      /* required and verified against client_ca_file */
};

/* bcrypt costs above this take longer than a scrape timeout (cost 10 is
 * ~70 ms, each step doubles it: 17 is ~9 s), so they are refused. */
#define WEBCFG_BCRYPT_MAX_COST 16

struct webcfg_user {
    char *name;
    char *hash;                     /* "$2[aby]$NN$" + 53 characters, checked */
    int cost;
};

/* A file named in the config: the path as resolved against the config's
 * directory, and the line that named it (for errors when it is read). */
struct webcfg_file {
    char *path;                     /* NULL when not given */
    int line;
};

struct webconfig {
    bool tls;                       /* serve HTTPS only */
    struct webcfg_file cert_file, key_file, client_ca_file;
    char *cert_pem, *key_pem;       /* inline (cert:, key:) or read by webconfig_load */
    char *client_ca_pem;            /* read by webconfig_load */
    enum webcfg_client_auth client_auth;
    int min_version, max_version;   /* 12 or 13: TLS 1.2 / 1.3 */
    struct webcfg_user *users;      /* basic_auth_users; none: no authentication */
    size_t n_users;
};

/* Parses text (len bytes, need not be NUL-terminated). name is used in error
 * messages, base_dir resolves relative paths (NULL or "" = as given). Reads no
 * file. On failure out is left empty and err holds "name:line: message". */
bool webconfig_parse(const char *name, const char *text, size_t len, const char *base_dir,
                     struct webconfig *out, char *err, size_t errlen);

/* Reads and parses path, then reads the certificate, key and CA files it
 * names and checks them with GnuTLS (certificate and key parse and match, the
 * CA file holds a certificate), so a bad file fails at start, not at the
 * first handshake. */
bool webconfig_load(const char *path, struct webconfig *out, char *err, size_t errlen);

/* The GnuTLS priority string for min/max_version. */
void webconfig_priorities(const struct webconfig *c, char *out, size_t cap);

void webconfig_free(struct webconfig *c);

#endif
