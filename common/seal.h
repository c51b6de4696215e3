/* seal.h — cluster keys and the sealed Envelope around every Report.
 *
 * The report is encrypted and authenticated with XChaCha20-Poly1305-IETF
 * (libsodium) under a 32-byte cluster key. The header fields that the
 * aggregator reads before opening (version, cluster, node, seq, sent time,
 * boot id) are the associated data, so none can be altered or moved to another
 * report without failing the tag. A random 24-byte nonce per report is safe
 * with XChaCha (no counter to persist across restarts).
 *
 * Key file format: one line "pvescope-key-1:<base64 of 32 bytes>". The same
 * text is what follows the cluster name in the aggregator's key ring. */
#ifndef PVESCOPE_SEAL_H
#define PVESCOPE_SEAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "pvescope.pb-c.h"

#define ENVELOPE_VERSION   1u
#define CLUSTER_KEY_BYTES  32u
#define KEY_TEXT_PREFIX    "pvescope-key-1:"
#define KEY_TEXT_MAX       128u

struct cluster_key {
    uint8_t bytes[CLUSTER_KEY_BYTES];
};

/* Must be called once before anything else here (sodium_init). */
bool seal_library_init(void);

/* Parses key text ("pvescope-key-1:<base64>", surrounding whitespace allowed). */
bool key_parse(const char *text, struct cluster_key *out);
/* Formats a key as its one-line text form (no newline). */
void key_format(const struct cluster_key *k, char out[KEY_TEXT_MAX]);
/* Reads a key file; on failure returns false with a reason in err. */
bool key_load_file(const char *path, struct cluster_key *out, char *err, size_t errlen);
/* Writes a fresh random key to path with mode 0600; refuses to overwrite an
 * existing file (O_EXCL). Returns false with a reason in err. */
bool key_create_file(const char *path, char *err, size_t errlen);

/* Header fields of one envelope, as the sender fills them. */
struct envelope_header {
    const char *cluster;
    const char *node;
    const char *boot_id;     /* may be "" */
    uint64_t    seq;
    int64_t     sent_unix_ms;
};

/* An Envelope built in place, in one buffer of exactly its size: the header
 * fields first, then the report, written (packed) straight where its sealed
 * bytes belong and encrypted there. The agent's report is the largest thing
 * it holds (80 KB for 100 guests); a packed copy, a ciphertext copy and the
 * envelope each cost that much resident memory again.
 *   size_t n = envelope_frame_init(&f, &h, report_len);  -- n bytes at dst
 *   pack or copy the report_len plaintext bytes to envelope_frame_report(&f, dst)
 *   envelope_frame_seal(&f, key, dst);                    -- dst[0..n) is the Envelope */
struct envelope_frame {
    Pvescope__Envelope env;
    uint8_t nonce[24];            /* crypto_aead_xchacha20poly1305_ietf_NPUBBYTES */
    size_t report_len;            /* plaintext bytes */
    size_t head_len;              /* Envelope bytes before the sealed report */
    size_t total_len;             /* the whole Envelope */
};

/* Draws the nonce, lays the Envelope out for report_len plaintext bytes and
 * returns its total size. h's strings must outlive the frame. */
size_t envelope_frame_init(struct envelope_frame *f, const struct envelope_header *h, size_t report_len);
/* Where in dst (total_len bytes) the plaintext report goes. */
uint8_t *envelope_frame_report(const struct envelope_frame *f, uint8_t *dst);
/* Encrypts the report where it lies and writes the rest of the Envelope
 * around it; afterwards dst holds exactly the bytes pvescope__envelope__pack
 * would produce for the same fields. */
void envelope_frame_seal(struct envelope_frame *f, const struct cluster_key *key, uint8_t *dst);

/* Seals a packed Report into a packed Envelope appended to out. */
void envelope_seal(const struct cluster_key *key, const struct envelope_header *h,
                   const uint8_t *report, size_t report_len, struct buf *out);

/* Tries to open env with key; on success writes the plaintext report into
 * out (replacing its contents) and returns true. False means a bad tag. */
bool envelope_open(const struct cluster_key *key, const Pvescope__Envelope *env, struct buf *out);

#endif
