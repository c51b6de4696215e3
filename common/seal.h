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

/* Seals a packed Report into a packed Envelope appended to out. */
void envelope_seal(const struct cluster_key *key, const struct envelope_header *h,
                   const uint8_t *report, size_t report_len, struct buf *out);

/* Tries to open env with key; on success writes the plaintext report into
 * out (replacing its contents) and returns true. False means a bad tag. */
bool envelope_open(const struct cluster_key *key, const Pvescope__Envelope *env, struct buf *out);

#endif
