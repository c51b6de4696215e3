/* seal.c — see seal.h. */
#include "seal.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Receives protobuf-c's output of an Envelope (pack_to_buffer) and writes
 * it to out, where the sealed report already lies at its final offset: when
 * the bytes handed over are the ones already in place, nothing is copied.
 * With out == NULL it only measures, and records at which offset the sealed
 * report (recognised by its data pointer) begins. */
struct frame_sink {
    ProtobufCBuffer base;
    uint8_t *out;                 /* NULL: measure only */
    size_t len, cap;
    const uint8_t *sealed;        /* the sealed report's data pointer */
    size_t sealed_at;             /* where it was appended; SIZE_MAX: not seen */
};

static void frame_append(ProtobufCBuffer *b, size_t n, const uint8_t *data)
{
    struct frame_sink *s = (struct frame_sink *)(void *)b;
    if (data == s->sealed && s->sealed_at == SIZE_MAX)
        s->sealed_at = s->len;
    if (s->out) {
        if (n > s->cap - s->len)      /* the layout from envelope_frame_init was wrong */
            abort();
        if (s->out + s->len != data)  /* memmove: the source may lie in out */
            memmove(s->out + s->len, data, n);
    }
    s->len += n;
}

static struct frame_sink frame_sink_make(uint8_t *out, size_t cap, const uint8_t *sealed)
{
    struct frame_sink s = {{frame_append}, out, 0, cap, sealed, SIZE_MAX};
    return s;
}

size_t envelope_frame_init(struct envelope_frame *f, const struct envelope_header *h, size_t report_len)
{
    /* Only the address matters while measuring: it marks the sealed report. */
    static const uint8_t sealed_marker;
    _Static_assert(sizeof f->nonce == NONCE_BYTES, "nonce size");
    randombytes_buf(f->nonce, sizeof f->nonce);
    Pvescope__Envelope init = PVESCOPE__ENVELOPE__INIT;
    f->env = init;
    f->env.version = ENVELOPE_VERSION;
    f->env.cluster = (char *)h->cluster;
    f->env.node = (char *)h->node;
    f->env.seq = h->seq;
    f->env.sent_unix_ms = h->sent_unix_ms;
    f->env.nonce.data = f->nonce;
    f->env.nonce.len = sizeof f->nonce;
    f->env.sealed_report.data = (uint8_t *)&sealed_marker;
    f->env.sealed_report.len = report_len + TAG_BYTES;
    if (h->boot_id && *h->boot_id)
        f->env.boot_id = (char *)h->boot_id;
    /* A dry run of the real packing finds the report's offset, whatever
     * order and fields the generated code writes. */
    struct frame_sink m = frame_sink_make(NULL, 0, &sealed_marker);
    protobuf_c_message_pack_to_buffer(&f->env.base, &m.base);
    if (m.sealed_at == SIZE_MAX)      /* protobuf-c split a bytes field: cannot happen */
        abort();
    f->report_len = report_len;
    f->head_len = m.sealed_at;
    f->total_len = m.len;
    return m.len;
}

uint8_t *envelope_frame_report(const struct envelope_frame *f, uint8_t *dst) { return dst + f->head_len; }

void envelope_frame_seal(struct envelope_frame *f, const struct cluster_key *key, uint8_t *dst)
{
    struct envelope_header h = {f->env.cluster, f->env.node, f->env.boot_id, f->env.seq, f->env.sent_unix_ms};
    struct buf ad = BUF_INIT;
    header_ad(&ad, f->env.version, h.cluster, h.node, h.boot_id, h.seq, h.sent_unix_ms);
    uint8_t *report = dst + f->head_len;
    unsigned long long ct_len = 0;
    /* In place (c == m): the ChaCha20 stream is XORed block by block and the
     * tag computed over the ciphertext, so libsodium allows it; the unit test
     * checks the result against a sealing into a separate buffer. */
    crypto_aead_xchacha20poly1305_ietf_encrypt(report, &ct_len, report, f->report_len,
                                               (const uint8_t *)ad.data, ad.len, NULL, f->nonce,
                                               key->bytes);
    buf_free(&ad);
    f->env.sealed_report.data = report;
    struct frame_sink w = frame_sink_make(dst, f->total_len, report);
    protobuf_c_message_pack_to_buffer(&f->env.base, &w.base);
    if (w.len != f->total_len || w.sealed_at != f->head_len)
        abort();
}

void envelope_seal(const struct cluster_key *key, const struct envelope_header *h,
                   const uint8_t *report, size_t report_len, struct buf *out)
{
    struct envelope_frame f;
    size_t n = envelope_frame_init(&f, h, report_len);
    buf_reserve(out, n);
    uint8_t *dst = (uint8_t *)out->data + out->len;
    if (report_len)
        memcpy(envelope_frame_report(&f, dst), report, report_len);
    envelope_frame_seal(&f, key, dst);
    out->len += n;
    out->data[out->len] = '\0';
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
