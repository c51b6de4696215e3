/* fuzz_guests.c — every parser of the guests collector (agent/guest_parsers.h).
 * The first input byte picks the parser, the rest is the file's content.
 * Guest-controlled or racing files (a process's stat and cmdline, cgroup
 * files of a container being torn down) must never crash the agent. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_text.h"
#include "guest_parsers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* io_stat_row_fn: touches every field so the sanitizers see them. */
static void sum_row(const struct io_stat_row *row, void *arg)
{
    uint64_t *sum = arg;
    *sum += row->major + row->minor + row->rbytes + row->wbytes + row->rios + row->wios;
}

static void run_text_parser(unsigned which, const char *text)
{
    struct parse_err err;
    memset(&err, 0, sizeof err);
    uint64_t v = 0;
    bool max;
    switch (which % 7) {
    case 0: {
        struct pid_stat s;
        parse_pid_stat(text, &s, &err);
        break;
    }
    case 1:
        parse_flat_keyed(text, "usage_usec", &v, &err);
        break;
    case 2:
        parse_flat_keyed(text, "file", &v, &err);
        break;
    case 3:
        parse_cgroup_value(text, &v, &max, &err);
        break;
    case 4:
        parse_io_stat(text, sum_row, &v, &err);
        break;
    case 5: {
        uint32_t pids[16];
        parse_pid_list(text, pids, 16, &err);
        break;
    }
    default:
        cgroup_file_in(text, "/lxc/200/ns");
        break;
    }
}

/* Parsers that take bytes with a length (cmdline may hold NULs anywhere). */
static void run_bytes_parser(unsigned which, const char *p, size_t n)
{
    enum guest_kind kind;
    uint32_t vmid;
    if (which % 3 == 0)
        qemu_cmdline_matches(p, n, 100);
    else if (which % 3 == 1)
        parse_guest_ifname(p, n, &kind, &vmid);
    else
        parse_vmid(p, n, &vmid);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_mode_text(data, size);
    if (!text)
        return 0;
    if (data[0] & 0x80) {
        char *exact = fuzz_memdup(data + 1, size - 1);    /* no NUL after the bytes */
        run_bytes_parser(data[0] & 0x7f, exact, size - 1);
        free(exact);
    } else {
        run_text_parser(data[0], text);
    }
    free(text);
    return 0;
}
