/* dump.c — see dump.h. */
#include "dump.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static void print_bytes(FILE *out, const ProtobufCBinaryData *b)
{
    fputc('"', out);
    for (size_t i = 0; i < b->len; i++)
        fprintf(out, "\\x%02x", b->data[i]);
    fputc('"', out);
}

static void print_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\x%02x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

/* Shortest of %.15g / %.17g that reads back as the same double. */
static void print_double(FILE *out, double v)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%.15g", v);
    if (strtod(tmp, NULL) != v)
        snprintf(tmp, sizeof tmp, "%.17g", v);
    fputs(tmp, out);
}

/* Prints one scalar or sub-message value stored at p. */
static void print_value(FILE *out, const ProtobufCFieldDescriptor *f, const void *p, int indent)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
        fprintf(out, "%" PRId32, *(const int32_t *)p); break;
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
        fprintf(out, "%" PRIu32, *(const uint32_t *)p); break;
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
        fprintf(out, "%" PRId64, *(const int64_t *)p); break;
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
        fprintf(out, "%" PRIu64, *(const uint64_t *)p); break;
    case PROTOBUF_C_TYPE_FLOAT: fprintf(out, "%.9g", (double)*(const float *)p); break;
    case PROTOBUF_C_TYPE_DOUBLE: print_double(out, *(const double *)p); break;
    case PROTOBUF_C_TYPE_BOOL: fputs(*(const protobuf_c_boolean *)p ? "true" : "false", out); break;
    case PROTOBUF_C_TYPE_ENUM: fprintf(out, "%d", *(const int *)p); break;
    case PROTOBUF_C_TYPE_STRING: print_string(out, *(char *const *)p); break;
    case PROTOBUF_C_TYPE_BYTES: print_bytes(out, (const ProtobufCBinaryData *)p); break;
    case PROTOBUF_C_TYPE_MESSAGE:
        fputs("{\n", out);
        dump_message(out, *(ProtobufCMessage *const *)p, indent + 2);
        fprintf(out, "%*s}", indent, "");
        break;
    }
}

static size_t value_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_MESSAGE: return sizeof(void *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    default: return 4;
    }
}

static bool is_present(const ProtobufCFieldDescriptor *f, const void *msg, const void *p)
{
    if (f->label == PROTOBUF_C_LABEL_REQUIRED)
        return true;
    if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
        return *(void *const *)p != NULL;
    if (f->quantifier_offset)
        return *(const protobuf_c_boolean *)((const char *)msg + f->quantifier_offset);
    return true;
}

void dump_message(FILE *out, const ProtobufCMessage *msg, int indent)
{
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *p = (const char *)msg + f->offset;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)((const char *)msg + f->quantifier_offset);
            const char *arr = *(const char *const *)p;
            for (size_t k = 0; k < n; k++) {
                fprintf(out, "%*s%s: ", indent, "", f->name);
                print_value(out, f, arr + k * value_size(f), indent);
                fputc('\n', out);
            }
            continue;
        }
        if (!is_present(f, msg, p))
            continue;
        fprintf(out, "%*s%s: ", indent, "", f->name);
        print_value(out, f, p, indent);
        fputc('\n', out);
    }
}
