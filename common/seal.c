/* seal.c — see seal.h. */
#include "seal.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"

#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES   crypto_aead_xchacha20poly1305_ietf_ABYTES

bool seal_library_init(void) { return sodium_init() >= 0; }

bool key_parse(const char *text, struct cluster_key *out)
{
    while (*text == ' ' || *text == '\t')
        text++;
    size_t pl = strlen(KEY_TEXT_PREFIX);
    if (strncmp(text, KEY_TEXT_PREFIX, pl) != 0)
        return false;
    text += pl;
    size_t len = strcspn(text, " \t\r\n");
    const char *rest = text + len;
    rest += strspn(rest, " \t\r\n");
    if (*rest)                                   /* trailing garbage */
        return false;
    size_t bin_len = 0;
    uint8_t tmp[CLUSTER_KEY_BYTES + 4];
    if (sodium_base642bin(tmp, sizeof tmp, text, len, NULL, &bin_len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 || bin_len != CLUSTER_KEY_BYTES)
        return false;
    memcpy(out->bytes, tmp, CLUSTER_KEY_BYTES);
    sodium_memzero(tmp, sizeof tmp);
    return true;
}

void key_format(const struct cluster_key *k, char out[KEY_TEXT_MAX])
{
    size_t pl = strlen(KEY_TEXT_PREFIX);
    memcpy(out, KEY_TEXT_PREFIX, pl);
    sodium_bin2base64(out + pl, KEY_TEXT_MAX - pl, k->bytes, CLUSTER_KEY_BYTES,
                      sodium_base64_VARIANT_ORIGINAL);
}

bool key_load_file(const char *path, struct cluster_key *out, char *err, size_t errlen)
{
    struct buf b = BUF_INIT;
    int rc = read_file_at(path[0] == '/' ? "/" : ".", path, &b);
    bool ok = false;
    if (rc < 0)
        snprintf(err, errlen, "cannot read key file %s: %s", path, strerror(-rc));
    else if (!key_parse(b.data, out))
        snprintf(err, errlen, "key file %s is not a pvescope key (expected one line %s<base64>)",
                 path, KEY_TEXT_PREFIX);
    else
        ok = true;
    if (b.data)
        sodium_memzero(b.data, b.cap);
    buf_free(&b);
    return ok;
}

bool key_create_file(const char *path, char *err, size_t errlen)
{
    struct cluster_key k;
    randombytes_buf(k.bytes, sizeof k.bytes);
    char text[KEY_TEXT_MAX];
    key_format(&k, text);
    sodium_memzero(&k, sizeof k);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create key file %s: %s%s", path, strerror(errno),
                 errno == EEXIST ? " (refusing to overwrite an existing key)" : "");
        return false;
    }
    size_t len = strlen(text);
    text[len++] = '\n';
    bool ok = write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
    int saved = errno;
    sodium_memzero(text, sizeof text);
    if (close(fd) != 0)
        ok = false;
    if (!ok) {
        snprintf(err, errlen, "cannot write key file %s: %s", path, strerror(saved));
        unlink(path);
    }
    return ok;
}

/* Associated data: every header field, each length-prefixed so no two
 * different headers can serialize to the same bytes. */
static void header_ad(struct buf *ad, uint32_t version, const char *cluster, const char *node,
                      const char *boot_id, uint64_t seq, int64_t sent_ms)
{
    const char *strs[3] = {cluster, node, boot_id ? boot_id : ""};
    uint8_t word[8];
    buf_puts(ad, "pvescope-envelope");
    for (int i = 0; i < 4; i++)
        word[i] = (uint8_t)(version >> (8 * i));
    buf_append(ad, word, 4);
    for (int s = 0; s < 3; s++) {
        uint32_t len = (uint32_t)strlen(strs[s]);
        for (int i = 0; i < 4; i++)
            word[i] = (uint8_t)(len >> (8 * i));
        buf_append(ad, word, 4);
        buf_append(ad, strs[s], len);
    }
    uint64_t nums[2] = {seq, (uint64_t)sent_ms};
    for (int n = 0; n < 2; n++) {
        for (int i = 0; i < 8; i++)
            word[i] = (uint8_t)(nums[n] >> (8 * i));
        buf_append(ad, word, 8);
    }
}

void envelope_seal(const struct cluster_key *key, const struct envelope_header *h,
                   const uint8_t *report, size_t report_len, struct buf *out)
{
    uint8_t nonce[NONCE_BYTES];
    randombytes_buf(nonce, sizeof nonce);
    struct buf ad = BUF_INIT, ct = BUF_INIT;
    header_ad(&ad, ENVELOPE_VERSION, h->cluster, h->node, h->boot_id, h->seq, h->sent_unix_ms);
    buf_reserve(&ct, report_len + TAG_BYTES);
    unsigned long long ct_len = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt((uint8_t *)ct.data, &ct_len, report, report_len,
                                               (const uint8_t *)ad.data, ad.len, NULL, nonce,
                                               key->bytes);
    Pvescope__Envelope env = PVESCOPE__ENVELOPE__INIT;
    env.version = ENVELOPE_VERSION;
    env.cluster = (char *)h->cluster;
    env.node = (char *)h->node;
    env.seq = h->seq;
    env.sent_unix_ms = h->sent_unix_ms;
    env.nonce.data = nonce;
    env.nonce.len = sizeof nonce;
    env.sealed_report.data = (uint8_t *)ct.data;
    env.sealed_report.len = (size_t)ct_len;
    if (h->boot_id && *h->boot_id)
        env.boot_id = (char *)h->boot_id;
    size_t n = pvescope__envelope__get_packed_size(&env);
    buf_reserve(out, n);
    pvescope__envelope__pack(&env, (uint8_t *)out->data + out->len);
    out->len += n;
    out->data[out->len] = '\0';
    buf_free(&ad);
    buf_free(&ct);
}

bool envelope_open(const struct cluster_key *key, const Pvescope__Envelope *env, struct buf *out)
{
    if (env->nonce.len != NONCE_BYTES || env->sealed_report.len < TAG_BYTES)
        return false;
    struct buf ad = BUF_INIT;
    header_ad(&ad, env->version, env->cluster, env->node, env->boot_id, env->seq, env->sent_unix_ms);
    buf_reset(out);
    buf_reserve(out, env->sealed_report.len);
    unsigned long long pt_len = 0;
    int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
        (uint8_t *)out->data, &pt_len, NULL, env->sealed_report.data, env->sealed_report.len,
        (const uint8_t *)ad.data, ad.len, env->nonce.data, key->bytes);
    buf_free(&ad);
    if (rc != 0)
        return false;
    out->len = (size_t)pt_len;
    out->data[out->len] = '\0';
    return true;
}
