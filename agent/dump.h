/* dump.h — prints any protobuf-c message readably (for --dump).
 *
 * Walks the message's descriptor, so new fields in the proto show up without
 * touching this file. Unset optional fields are omitted. */
#ifndef PVESCOPE_DUMP_H
#define PVESCOPE_DUMP_H

#include <protobuf-c/protobuf-c.h>
#include <stdio.h>

void dump_message(FILE *out, const ProtobufCMessage *msg, int indent);

#endif
