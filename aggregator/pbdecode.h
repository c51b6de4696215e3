/* pbdecode.h — a protobuf decoder that fills protobuf-c's generated structs,
 * driven by protobuf-c's own generated descriptors, faster than
 * protobuf_c_message_unpack.
 *
 * Why: decoding a 40-guest Report (about 5,000 fields) with protobuf-c cost
 * about a fifth of ingest (issue 7). protobuf-c finds each field by a binary
 * search over the descriptor's ranges, records every field in a scan list and
 * parses it in a second pass, and allocates each sub-message on its own.
 * Here a plan made once per schema maps field numbers to fields through a
 * dense table, only messages with repeated fields are scanned twice (to size
 * their arrays), and the elements of a repeated message field come from one
 * allocation.
 *
 * The result is the struct protobuf_c_message_unpack would build, with these
 * differences, all on input no honest agent sends:
 * - unknown fields are skipped, not kept in unknown_fields (so they are not
 *   repacked);
 * - an embedded (non-repeated) message given twice is refused, where
 *   protobuf-c merges the two;
 * - a bool with a wire type other than varint, a packed bool byte other than
 *   0 or 1, a field number above 2^29-1 and nesting deeper than
 *   PBDECODE_MAX_DEPTH are refused (protobuf-c 1.4.1 accepts them, and has
 *   no depth bound);
 * - oneof fields are not supported: a schema with them gets no plan.
 * Everything else matches: the last value wins for repeated scalars given as
 * singular, strings are NUL-terminated copies, enum values are kept as
 * received (protobuf-c does not check them either), required fields without a
 * default must be present, packed and unpacked repeated scalars are both
 * accepted, and varints are truncated to the field's width.
 *
 * Memory comes only from the caller's allocator and is never freed here: on
 * failure, what was allocated stays with the allocator. Meant for an arena
 * (decode.c's blocks), whose release frees the whole tree. */
#ifndef PVESCOPE_PBDECODE_H
#define PVESCOPE_PBDECODE_H

#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* Sub-message nesting allowed below the root. Our schema nests 4 deep. */
#define PBDECODE_MAX_DEPTH 32

enum pbdecode_status {
    PBDECODE_OK = 0,
    PBDECODE_TRUNCATED,         /* a value or length runs past the end of its message */
    PBDECODE_BAD_VARINT,        /* a varint longer than 10 bytes (5 for tags and lengths) */
    PBDECODE_BAD_LENGTH,        /* a length prefix of 2^32 or more (protobuf-c refuses it too) */
    PBDECODE_BAD_TAG,           /* field number 0 or above 2^29-1 */
    PBDECODE_BAD_WIRE_TYPE,     /* groups, wire types 6/7, or a known field with the wrong one */
    PBDECODE_BAD_PACKED,        /* a packed array whose bytes do not divide into elements */
    PBDECODE_MISSING_REQUIRED,  /* a required field without default is absent */
    PBDECODE_DUPLICATE_MESSAGE, /* an embedded message field given twice */
    PBDECODE_TOO_DEEP,          /* nested deeper than PBDECODE_MAX_DEPTH */
    PBDECODE_NO_MEMORY,         /* the allocator said no (decode.c: over the budget) */
};

/* Where and why a decode failed. offset counts from the start of the buffer
 * given to pbdecode_unpack; message names the message type being decoded and
 * field its field at fault (NULL when the problem is not one field's). */
struct pbdecode_error {
    enum pbdecode_status status;
    size_t offset;
    const char *message;
    const ProtobufCFieldDescriptor *field;
};

struct pbdecode_plan;

/* Builds the decoding tables for root and every message type reachable from
 * it. The plan is immutable afterwards, so any number of threads may decode
 * with it at once; it must outlive those decodes (not the decoded trees).
 * NULL, with a reason in err, on out-of-memory or a schema it cannot decode
 * (oneof fields, a descriptor without message_init, more than 64 required or
 * 64 repeated fields in one message). */
struct pbdecode_plan *pbdecode_plan_new(const ProtobufCMessageDescriptor *root, char *err, size_t errlen);
void pbdecode_plan_free(struct pbdecode_plan *plan);

/* The plan's root message decoded from data[0..len), allocated from alloc
 * (required). NULL on failure, with the reason in *err when err is not NULL. */
ProtobufCMessage *pbdecode_unpack(const struct pbdecode_plan *plan, ProtobufCAllocator *alloc,
                                  const uint8_t *data, size_t len, struct pbdecode_error *err);

/* The same, except that bytes fields (not strings) point into data instead
 * of at copies: the result is valid only while data is. For the envelope,
 * whose sealed report is most of a message and is only read once. */
ProtobufCMessage *pbdecode_unpack_borrowing(const struct pbdecode_plan *plan, ProtobufCAllocator *alloc,
                                            const uint8_t *data, size_t len, struct pbdecode_error *err);

/* A short text for status ("truncated", "missing required field", ...). */
const char *pbdecode_status_text(enum pbdecode_status status);

/* "truncated in pvescope.Report field disks at byte 1234" into out. */
void pbdecode_error_format(const struct pbdecode_error *err, char *out, size_t n);

#endif
