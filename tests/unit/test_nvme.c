/* test_nvme.c — the NVMe SMART and Identify decoders on hand-built blobs,
 * the encoding of the two admin commands and the status names, the "nvme"
 * collector against a scripted port (permission denied, NVMe error status,
 * hot-unplug, rescans, identity change), and the real collector on this
 * machine. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include "nvme.h"
#include "nvme_admin.h"
#include "nvme_smart.h"
#include "proc_test_util.h"

/* ---- blob builders -------------------------------------------------------- */

/* v little-endian in width bytes (bytes past the 8th are 0). */
static void put_le(uint8_t *raw, size_t off, uint64_t v, size_t width)
{
    for (size_t i = 0; i < width; i++)
        raw[off + i] = i < 8 ? (uint8_t)(v >> (8 * i)) : 0;
}

static Pvescope__NvmeController decode(const uint8_t *raw, int want_saturated)
{
    Pvescope__NvmeController c = PVESCOPE__NVME_CONTROLLER__INIT;
    assert_int_equal(nvme_smart_decode(raw, &c), want_saturated);
    return c;
}

/* ---- decoder -------------------------------------------------------------- */

/* A drive at 14 % used whose spare (3 %) fell below its 10 % threshold. */
static void t_worn_drive(void **state)
{
    (void)state;
    uint8_t raw[512] = {0};
    raw[0] = 0x01;                          /* spare below threshold */
    put_le(raw, 1, 323, 2);                 /* 49.85 °C */
    raw[3] = 3;
    raw[4] = 10;
    raw[5] = 14;
    put_le(raw, 32, 10, 16);                /* data units read */
    put_le(raw, 48, 68, 16);                /* data units written: 34816000 bytes */
    put_le(raw, 64, 149, 16);
    put_le(raw, 80, 4297, 16);
    put_le(raw, 96, 7321, 16);              /* busy minutes */
    put_le(raw, 112, 512, 16);              /* power cycles */
    put_le(raw, 128, 27021, 16);            /* power-on hours */
    put_le(raw, 144, 41, 16);
    put_le(raw, 160, 2, 16);
    put_le(raw, 176, 17, 16);
    put_le(raw, 192, 9, 4);
    put_le(raw, 196, 1, 4);
    Pvescope__NvmeController c = decode(raw, 0);
    assert_true(c.has_critical_warning);
    assert_int_equal(c.critical_warning, 1);
    assert_true(c.has_temperature_kelvin);
    assert_int_equal(c.temperature_kelvin, 323);
    assert_true(c.has_available_spare_percent && c.has_available_spare_threshold_percent);
    assert_int_equal(c.available_spare_percent, 3);
    assert_int_equal(c.available_spare_threshold_percent, 10);
    assert_true(c.has_percentage_used);
    assert_int_equal(c.percentage_used, 14);
    assert_true(c.has_data_units_read && c.has_data_units_written);
    assert_int_equal(c.data_units_read, 10);
    assert_int_equal(c.data_units_written, 68);
    assert_int_equal(c.host_read_commands, 149);
    assert_int_equal(c.host_write_commands, 4297);
    assert_int_equal(c.controller_busy_minutes, 7321);
    assert_int_equal(c.power_cycles, 512);
    assert_int_equal(c.power_on_hours, 27021);
    assert_int_equal(c.unsafe_shutdowns, 41);
    assert_int_equal(c.media_errors, 2);
    assert_int_equal(c.error_log_entries, 17);
    assert_true(c.has_warning_temp_minutes && c.has_critical_temp_minutes);
    assert_int_equal(c.warning_temp_minutes, 9);
    assert_int_equal(c.critical_temp_minutes, 1);
    /* the decoder leaves identity, error and thresholds alone */
    assert_null(c.name);
    assert_null(c.error);
    assert_false(c.has_warning_temp_threshold_kelvin || c.has_critical_temp_threshold_kelvin);
}

static void t_critical_warning_bits(void **state)
{
    (void)state;
    uint8_t raw[512] = {0};
    for (int bit = 0; bit < 8; bit++) {
        raw[0] = (uint8_t)(1u << bit);
        Pvescope__NvmeController c = decode(raw, 0);
        assert_int_equal(c.critical_warning, 1u << bit);
    }
    raw[0] = 0x3f;                          /* every defined bit */
    assert_int_equal(decode(raw, 0).critical_warning, 0x3f);
    raw[0] = 0xff;                          /* reserved bits kept, not masked */
    assert_int_equal(decode(raw, 0).critical_warning, 0xff);
    raw[0] = 0;
    Pvescope__NvmeController c = decode(raw, 0);
    assert_true(c.has_critical_warning);
    assert_int_equal(c.critical_warning, 0);
}

/* Every byte distinct (its offset + 1), the high halves of the 16-byte
 * counters zero: a big-endian or shifted decode gives other numbers. */
static void t_byte_order(void **state)
{
    (void)state;
    uint8_t raw[512];
    for (size_t i = 0; i < sizeof raw; i++)
        raw[i] = (uint8_t)(i + 1);
    for (size_t off = 32; off < 192; off += 16)
        memset(raw + off + 8, 0, 8);
    Pvescope__NvmeController c = decode(raw, 0);
    assert_int_equal(c.critical_warning, 0x01);
    assert_int_equal(c.temperature_kelvin, 0x0302);
    assert_int_equal(c.available_spare_percent, 0x04);
    assert_int_equal(c.available_spare_threshold_percent, 0x05);
    assert_int_equal(c.percentage_used, 0x06);
    assert_true(c.data_units_read == 0x2827262524232221ull);
    assert_true(c.data_units_written == 0x3837363534333231ull);
    assert_true(c.host_read_commands == 0x4847464544434241ull);
    assert_true(c.host_write_commands == 0x5857565554535251ull);
    assert_true(c.controller_busy_minutes == 0x6867666564636261ull);
    assert_true(c.power_cycles == 0x7877767574737271ull);
    assert_true(c.power_on_hours == 0x8887868584838281ull);
    assert_true(c.unsafe_shutdowns == 0x9897969594939291ull);
    assert_true(c.media_errors == 0xa8a7a6a5a4a3a2a1ull);
    assert_true(c.error_log_entries == 0xb8b7b6b5b4b3b2b1ull);
    assert_int_equal(c.warning_temp_minutes, 0xc4c3c2c1u);
    assert_int_equal(c.critical_temp_minutes, 0xc8c7c6c5u);
}

/* A counter needing more than 64 bits saturates; its neighbours do not. */
static void t_saturation(void **state)
{
    (void)state;
    uint8_t raw[512] = {0};
    put_le(raw, 48, 68, 8);
    raw[48 + 15] = 0x01;                    /* 2^120 + 68 data units written */
    put_le(raw, 160, 5, 8);
    raw[160 + 8] = 0x01;                    /* 2^64 + 5 media errors */
    memset(raw + 32, 0xff, 8);              /* 2^64 - 1: fits exactly */
    put_le(raw, 176, 3, 16);
    Pvescope__NvmeController c = decode(raw, 2);
    assert_true(c.data_units_written == UINT64_MAX);
    assert_true(c.media_errors == UINT64_MAX);
    assert_true(c.data_units_read == UINT64_MAX);
    assert_int_equal(c.error_log_entries, 3);
    assert_int_equal(c.host_read_commands, 0);
}

static void t_temperature_not_reported(void **state)
{
    (void)state;
    uint8_t raw[512] = {0};
    Pvescope__NvmeController c = decode(raw, 0);
    assert_false(c.has_temperature_kelvin);
    put_le(raw, 1, 0x0100, 2);              /* 256 K: the high byte alone */
    c = decode(raw, 0);
    assert_true(c.has_temperature_kelvin);
    assert_int_equal(c.temperature_kelvin, 256);
}

static void t_identify_thresholds(void **state)
{
    (void)state;
    uint8_t *id = calloc(1, NVME_ID_CTRL_BYTES);
    memset(id + 260, 0xee, 16);             /* neighbours that an off-by-one would pick up */
    put_le(id, 266, 343, 2);                /* WCTEMP, QEMU's default */
    put_le(id, 268, 373, 2);                /* CCTEMP */
    Pvescope__NvmeController c = PVESCOPE__NVME_CONTROLLER__INIT;
    nvme_id_ctrl_decode_thresholds(id, &c);
    assert_true(c.has_warning_temp_threshold_kelvin && c.has_critical_temp_threshold_kelvin);
    assert_int_equal(c.warning_temp_threshold_kelvin, 343);
    assert_int_equal(c.critical_temp_threshold_kelvin, 373);
    assert_false(c.has_temperature_kelvin || c.has_critical_warning);
    put_le(id, 268, 0, 2);                  /* CCTEMP is optional */
    nvme_id_ctrl_decode_thresholds(id, &c);
    assert_true(c.has_warning_temp_threshold_kelvin);
    assert_false(c.has_critical_temp_threshold_kelvin);
    put_le(id, 266, 0x1234, 2);
    nvme_id_ctrl_decode_thresholds(id, &c);
    assert_int_equal(c.warning_temp_threshold_kelvin, 0x1234);
    free(id);
}

/* ---- admin commands and statuses ------------------------------------------ */

/* Field offsets of struct nvme_passthru_cmd that the kernel reads (the
 * ioctl's ABI, 72 bytes): a different header would move them. */
static void t_admin_cmd_layout(void **state)
{
    (void)state;
    assert_int_equal(sizeof(struct nvme_admin_cmd), 72);
    assert_int_equal(offsetof(struct nvme_admin_cmd, opcode), 0);
    assert_int_equal(offsetof(struct nvme_admin_cmd, nsid), 4);
    assert_int_equal(offsetof(struct nvme_admin_cmd, addr), 24);
    assert_int_equal(offsetof(struct nvme_admin_cmd, data_len), 36);
    assert_int_equal(offsetof(struct nvme_admin_cmd, cdw10), 40);
    assert_int_equal(offsetof(struct nvme_admin_cmd, timeout_ms), 64);
    assert_int_equal(offsetof(struct nvme_admin_cmd, result), 68);
    assert_int_equal(NVME_IOCTL_ADMIN_CMD, 0xc0484e41);    /* _IOWR('N', 0x41, 72 bytes) */
}

/* Every field but those listed is zero: a stale field would reach the drive. */
static void assert_cmd_rest_zero(const struct nvme_admin_cmd *c)
{
    assert_int_equal(c->flags, 0);
    assert_int_equal(c->rsvd1, 0);
    assert_int_equal(c->cdw2, 0);
    assert_int_equal(c->cdw3, 0);
    assert_true(c->metadata == 0);
    assert_int_equal(c->metadata_len, 0);
    assert_int_equal(c->cdw12, 0);
    assert_int_equal(c->cdw13, 0);
    assert_int_equal(c->cdw14, 0);
    assert_int_equal(c->cdw15, 0);
    assert_int_equal(c->result, 0);
}

static void t_identify_ctrl_cmd(void **state)
{
    (void)state;
    static uint8_t buf[4096] __attribute__((aligned(4096)));
    struct nvme_admin_cmd c;
    memset(&c, 0xa5, sizeof c);             /* the encoder sets every field */
    nvme_admin_identify_ctrl(&c, buf, 10000);
    assert_int_equal(c.opcode, 0x06);
    assert_int_equal(c.nsid, 0);
    assert_true(c.addr == (uint64_t)(uintptr_t)buf);
    assert_int_equal(c.data_len, 4096);
    assert_int_equal(c.cdw10, 0x00000001);  /* CNS 01h, CNTID 0 */
    assert_int_equal(c.cdw11, 0);           /* CNS-specific id 0, CSI 0 */
    assert_int_equal(c.timeout_ms, 10000);
    assert_cmd_rest_zero(&c);
}

static void t_smart_log_cmd(void **state)
{
    (void)state;
    static uint8_t buf[4096] __attribute__((aligned(4096)));
    struct nvme_admin_cmd c;
    memset(&c, 0xa5, sizeof c);
    nvme_admin_smart_log(&c, buf, 7);
    assert_int_equal(c.opcode, 0x02);
    assert_true(c.nsid == 0xffffffffu);     /* controller-wide */
    assert_true(c.addr == (uint64_t)(uintptr_t)buf);
    assert_int_equal(c.data_len, 512);
    /* LID 02h; LSP 0; RAE (bit 15) cleared; NUMDL = 512 / 4 - 1 = 127 */
    assert_int_equal(c.cdw10, 0x007f0002);
    assert_int_equal(c.cdw10 & NVME_LOG_CDW10_RAE, 0);
    assert_int_equal(c.cdw11, 0);           /* NUMDU 0, LSI 0 */
    assert_int_equal(c.timeout_ms, 7);
    assert_cmd_rest_zero(&c);               /* offset 0; UUID index, OT, CSI 0 */
}

static void assert_status(int status, const char *want)
{
    char out[96];
    nvme_status_format(out, sizeof out, status);
    assert_string_equal(out, want);
}

static void t_status_names(void **state)
{
    (void)state;
    assert_status(0x001, "NVMe status 0x1 (Invalid Command Opcode)");
    assert_status(0x002, "NVMe status 0x2 (Invalid Field in Command)");
    assert_status(0x006, "NVMe status 0x6 (Internal Error)");
    assert_status(0x007, "NVMe status 0x7 (Command Abort Requested)");
    assert_status(0x109, "NVMe status 0x109 (Invalid Log Page)");
    assert_status(0x371, "NVMe status 0x371 (Command Aborted By Host)");
    /* Do Not Retry, More and Command Retry Delay do not change the name;
     * the number keeps them, as the kernel returned it */
    assert_status(0x4002, "NVMe status 0x4002 (Invalid Field in Command)");
    assert_status(0x6109, "NVMe status 0x6109 (Invalid Log Page)");
    assert_status(0x1806, "NVMe status 0x1806 (Internal Error)");
    /* the status code type matters: SC 09h is another condition under SCT 0 */
    assert_status(0x009, "NVMe status 0x9");
    assert_status(0x209, "NVMe status 0x209");
    assert_status(0x4281, "NVMe status 0x4281");  /* Unrecovered Read Error: not in our table */
    assert_status(0x7fff, "NVMe status 0x7fff");
    assert_null(nvme_status_name(0));
    assert_null(nvme_status_name(-1));
    assert_string_equal(nvme_status_name(0x4007), "Command Abort Requested");
    char small[12];
    nvme_status_format(small, sizeof small, 0x4002);         /* truncated, terminated */
    assert_string_equal(small, "NVMe status");
}

/* ---- the collector against a scripted port ---------------------------- */

#define FAKE_MAX 4

struct fake_ctrl {
    const char *name, *model, *serial, *firmware, *transport;
    int open_errno;                /* open fails with it when non-zero */
    int identify_rc, identify_errno;
    int smart_rc, smart_errno;
    uint8_t smart[512];
    uint8_t id[NVME_ID_CTRL_BYTES];
    bool present;
};

struct fake {
    struct fake_ctrl c[FAKE_MAX];
    int scan_errno;                /* scan fails with it when non-zero */
    int scans, opens, closes, identifies, smarts;
    int open_fds;
};

/* fds are 100 + index into c[] */
static struct fake_ctrl *by_fd(struct fake *f, int fd)
{
    assert_in_range(fd, 100, 100 + FAKE_MAX - 1);
    return &f->c[fd - 100];
}

static char *dup0(const char *s) { return s ? strdup(s) : NULL; }

static int cmp_names(const void *a, const void *b)
{
    return strcmp(((const struct nvme_ident *)a)->name, ((const struct nvme_ident *)b)->name);
}

static int fake_scan(void *ctx, const char *sysfs, struct nvme_ident **out, size_t *n)
{
    struct fake *f = ctx;
    assert_string_equal(sysfs, FX_HOST1_SYS);   /* --path.sysfs reaches the scan */
    f->scans++;
    *out = NULL;
    *n = 0;
    if (f->scan_errno) {
        errno = f->scan_errno;
        return -1;
    }
    *out = calloc(FAKE_MAX, sizeof **out);
    for (int i = FAKE_MAX - 1; i >= 0; i--) {   /* reverse order: the collector sorts */
        const struct fake_ctrl *c = &f->c[i];
        if (!c->present)
            continue;
        struct nvme_ident *id = &(*out)[(*n)++];
        id->name = dup0(c->name);
        id->model = dup0(c->model);
        id->serial = dup0(c->serial);
        id->firmware = dup0(c->firmware);
        id->transport = dup0(c->transport);
    }
    return 0;
}

static int fake_open(void *ctx, const char *name)
{
    struct fake *f = ctx;
    f->opens++;
    for (int i = 0; i < FAKE_MAX; i++)
        if (f->c[i].present && f->c[i].name && strcmp(f->c[i].name, name) == 0) {
            if (f->c[i].open_errno) {
                errno = f->c[i].open_errno;
                return -1;
            }
            f->open_fds++;
            return 100 + i;
        }
    errno = ENOENT;
    return -1;
}

static void fake_close(void *ctx, int fd)
{
    struct fake *f = ctx;
    by_fd(f, fd);
    f->closes++;
    f->open_fds--;
}

/* Plays Identify Controller and the SMART log, after checking that the
 * collector sends them as nvme_admin.h encodes them, with its deadline,
 * into a 4096-aligned buffer. */
static int fake_admin(void *ctx, int fd, struct nvme_admin_cmd *cmd)
{
    struct fake *f = ctx;
    struct fake_ctrl *c = by_fd(f, fd);
    void *buf = (void *)(uintptr_t)cmd->addr;
    assert_int_equal((uintptr_t)buf % 4096, 0);
    struct nvme_admin_cmd want;
    int rc, err;
    const void *data;
    size_t len;
    if (cmd->opcode == NVME_ADMIN_OPC_IDENTIFY) {
        nvme_admin_identify_ctrl(&want, buf, NVME_ADMIN_TIMEOUT_MS);
        f->identifies++;
        rc = c->identify_rc, err = c->identify_errno, data = c->id, len = sizeof c->id;
    } else {
        nvme_admin_smart_log(&want, buf, NVME_ADMIN_TIMEOUT_MS);
        f->smarts++;
        rc = c->smart_rc, err = c->smart_errno, data = c->smart, len = sizeof c->smart;
    }
    assert_memory_equal(cmd, &want, sizeof want);
    if (rc) {
        errno = err;
        return rc;
    }
    assert_true(len <= cmd->data_len);
    memcpy(buf, data, len);
    return 0;
}

struct tfx {
    struct fake fake;
    struct nvme_port port;
    struct collector c;
    struct fx f;
};

static void fake_drive(struct fake_ctrl *c, const char *name, const char *serial, unsigned temp_k)
{
    memset(c, 0, sizeof *c);
    c->present = true;
    c->name = name;
    c->model = "QEMU NVMe Ctrl";
    c->serial = serial;
    c->firmware = "7.2.22";
    c->transport = "pcie";
    put_le(c->smart, 1, temp_k, 2);
    put_le(c->smart, 48, 68, 16);
    put_le(c->id, 266, 343, 2);
    put_le(c->id, 268, 373, 2);
}

static struct tfx *tfx_new(void)
{
    struct tfx *t = calloc(1, sizeof *t);
    t->port = (struct nvme_port){&t->fake, fake_scan, fake_open, fake_close, fake_admin};
    t->c = collector_nvme;
    t->c.init = NULL;               /* the state comes from nvme_collector_init_port */
    fx_open(&t->f, &t->c, FX_HOST1_PROC, FX_HOST1_SYS);
    t->f.ctx.now_monotonic = 1000;
    assert_int_equal(nvme_collector_init_port(&t->f.state, &t->f.ctx, &t->port), 0);
    return t;
}

static void tfx_free(struct tfx *t)
{
    fx_close(&t->f);
    assert_int_equal(t->fake.open_fds, 0);  /* fini closed every fd */
    free(t);
}

static const Pvescope__NvmeController *ctrl(struct tfx *t, size_t i)
{
    assert_true(i < t->f.r.n_nvme);
    return t->f.r.nvme[i];
}

/* Identity only, error set, not one reading. */
static void assert_failed_ctrl(const Pvescope__NvmeController *c, const char *name, const char *error)
{
    assert_string_equal(c->name, name);
    assert_non_null(c->error);
    assert_string_equal(c->error, error);
    assert_non_null(c->model);
    assert_false(c->has_temperature_kelvin || c->has_critical_warning || c->has_data_units_written ||
                 c->has_percentage_used || c->has_warning_temp_threshold_kelvin || c->has_media_errors);
}

static void t_collect_two_one_failing(void **state)
{
    (void)state;
    struct tfx *t = tfx_new();
    fake_drive(&t->fake.c[0], "nvme0", "lab-healthy", 323);
    fake_drive(&t->fake.c[1], "nvme1", "lab-worn", 323);
    t->fake.c[1].smart_rc = 0x2;            /* NVMe status: the device answered with an error */
    for (int cycle = 0; cycle < 3; cycle++) {
        t->f.ctx.now_monotonic = 1000 + cycle * 15;
        assert_int_equal(fx_collect(&t->f), 0);
        assert_int_equal(t->f.r.n_nvme, 2);
        const Pvescope__NvmeController *ok = ctrl(t, 0);
        assert_string_equal(ok->name, "nvme0");
        assert_null(ok->error);
        assert_string_equal(ok->model, "QEMU NVMe Ctrl");
        assert_string_equal(ok->serial, "lab-healthy");
        assert_string_equal(ok->firmware, "7.2.22");
        assert_string_equal(ok->transport, "pcie");
        assert_true(ok->has_temperature_kelvin && ok->temperature_kelvin == 323);
        assert_true(ok->has_data_units_written && ok->data_units_written == 68);
        assert_true(ok->has_warning_temp_threshold_kelvin && ok->warning_temp_threshold_kelvin == 343);
        assert_true(ok->has_critical_temp_threshold_kelvin && ok->critical_temp_threshold_kelvin == 373);
        assert_failed_ctrl(ctrl(t, 1), "nvme1", "SMART log: NVMe status 0x2 (Invalid Field in Command)");
        assert_string_equal(t->f.ctx.err, "nvme1: SMART log: NVMe status 0x2 (Invalid Field in Command)");
        Pvescope__Report *back = fx_roundtrip(&t->f);
        assert_int_equal(back->n_nvme, 2);
        pvescope__report__free_unpacked(back, NULL);
    }
    assert_int_equal(t->fake.scans, 1);     /* within 60 s of the first scan */
    assert_int_equal(t->fake.opens, 2);     /* fds kept open */
    assert_int_equal(t->fake.identifies, 2); /* once per controller */
    assert_int_equal(t->fake.smarts, 6);    /* every cycle */
    tfx_free(t);
}

static void t_permission_denied(void **state)
{
    (void)state;
    struct tfx *t = tfx_new();
    fake_drive(&t->fake.c[0], "nvme0", "A", 300);
    fake_drive(&t->fake.c[1], "nvme1", "B", 300);
    t->fake.c[0].open_errno = EACCES;       /* /dev/nvme0 is root:root 0600 */
    t->fake.c[1].identify_rc = -1;          /* opened, but the ioctl needs CAP_SYS_ADMIN */
    t->fake.c[1].identify_errno = EPERM;
    assert_int_equal(fx_collect(&t->f), 0);
    assert_int_equal(t->f.r.n_nvme, 2);
    assert_failed_ctrl(ctrl(t, 0), "nvme0", "permission denied (needs CAP_SYS_ADMIN)");
    assert_failed_ctrl(ctrl(t, 1), "nvme1", "permission denied (needs CAP_SYS_ADMIN)");
    assert_string_equal(t->f.ctx.err, "nvme0: permission denied (needs CAP_SYS_ADMIN) (and 1 more problems)");
    assert_int_equal(t->fake.smarts, 0);
    /* the same message every cycle, so report.c logs it once */
    char first[256];
    snprintf(first, sizeof first, "%s", t->f.ctx.err);
    t->f.ctx.now_monotonic += 15;
    assert_int_equal(fx_collect(&t->f), 0);
    assert_string_equal(t->f.ctx.err, first);
    tfx_free(t);
}

/* A failed Identify (status or timeout) costs the thresholds, not the SMART
 * readings; it is tried again at the next rescan. */
static void t_identify_failure_is_partial(void **state)
{
    (void)state;
    struct tfx *t = tfx_new();
    fake_drive(&t->fake.c[0], "nvme0", "A", 310);
    t->fake.c[0].identify_rc = -1;
    t->fake.c[0].identify_errno = ETIMEDOUT;
    assert_int_equal(fx_collect(&t->f), 0);
    const Pvescope__NvmeController *c = ctrl(t, 0);
    assert_null(c->error);
    assert_true(c->has_temperature_kelvin && c->temperature_kelvin == 310);
    assert_false(c->has_warning_temp_threshold_kelvin || c->has_critical_temp_threshold_kelvin);
    assert_string_equal(t->f.ctx.err, "nvme0: Identify Controller: Connection timed out");
    t->f.ctx.now_monotonic += 15;           /* not retried every cycle */
    assert_int_equal(fx_collect(&t->f), 0);
    assert_int_equal(t->fake.identifies, 1);
    assert_string_equal(t->f.ctx.err, "");
    t->fake.c[0].identify_rc = 0;
    t->f.ctx.now_monotonic += NVME_RESCAN_INTERVAL_S;
    assert_int_equal(fx_collect(&t->f), 0);
    assert_int_equal(t->fake.identifies, 2);
    assert_true(ctrl(t, 0)->has_warning_temp_threshold_kelvin);
    assert_int_equal(ctrl(t, 0)->warning_temp_threshold_kelvin, 343);
    tfx_free(t);
}

static void t_hot_unplug(void **state)
{
    (void)state;
    struct tfx *t = tfx_new();
    fake_drive(&t->fake.c[0], "nvme0", "A", 300);
    fake_drive(&t->fake.c[1], "nvme1", "B", 301);
    assert_int_equal(fx_collect(&t->f), 0);
    assert_int_equal(t->f.r.n_nvme, 2);
    /* nvme1 is pulled: its open fd answers ENODEV */
    t->fake.c[1].smart_rc = -1;
    t->fake.c[1].smart_errno = ENODEV;
    t->f.ctx.now_monotonic += 15;
    assert_int_equal(fx_collect(&t->f), 0);
    assert_failed_ctrl(ctrl(t, 1), "nvme1", "SMART log: No such device");
    assert_int_equal(t->fake.closes, 1);
    assert_int_equal(t->fake.scans, 1);
    /* the next cycle rescans at once, long before the 60 s timer */
    t->fake.c[1].present = false;
    t->f.ctx.now_monotonic += 15;
    assert_int_equal(fx_collect(&t->f), 0);
    assert_int_equal(t->fake.scans, 2);
    assert_int_equal(t->f.r.n_nvme, 1);
    assert_string_equal(ctrl(t, 0)->name, "nvme0");
    assert_null(ctrl(t, 0)->error);
    assert_int_equal(t->fake.opens, 2);     /* nvme0 kept its fd across the rescan */
    /* a drive added later appears at the periodic rescan */
    fake_drive(&t->fake.c[2], "nvme10", "C", 302);
    fake_drive(&t->fake.c[3], "nvme2", "D", 303);
    t->f.ctx.now_monotonic += NVME_RESCAN_INTERVAL_S;
    assert_int_equal(fx_collect(&t->f), 0);
    assert_int_equal(t->fake.scans, 3);
    assert_int_equal(t->f.r.n_nvme, 3);
    assert_string_equal(ctrl(t, 1)->name, "nvme2");   /* natural order */
    assert_string_equal(ctrl(t, 2)->name, "nvme10");
    assert_int_equal(ctrl(t, 2)->temperature_kelvin, 302);
    tfx_free(t);
}

static void t_identity_change(void **state)
{
    (void)state;
    struct tfx *t = tfx_new();
    fake_drive(&t->fake.c[0], "nvme0", "A", 300);
    assert_int_equal(fx_collect(&t->f), 0);
    assert_int_equal(t->fake.identifies, 1);
    t->f.ctx.now_monotonic += NVME_RESCAN_INTERVAL_S;       /* same drive: no Identify */
    assert_int_equal(fx_collect(&t->f), 0);
    assert_int_equal(t->fake.scans, 2);
    assert_int_equal(t->fake.identifies, 1);
    t->fake.c[0].firmware = "7.2.23";                       /* firmware update */
    put_le(t->fake.c[0].id, 266, 353, 2);
    t->f.ctx.now_monotonic += NVME_RESCAN_INTERVAL_S;
    assert_int_equal(fx_collect(&t->f), 0);
    assert_int_equal(t->fake.identifies, 2);
    assert_string_equal(ctrl(t, 0)->firmware, "7.2.23");
    assert_int_equal(ctrl(t, 0)->warning_temp_threshold_kelvin, 353);
    t->fake.c[0].serial = "other drive";                    /* swapped under the same name */
    t->f.ctx.now_monotonic += NVME_RESCAN_INTERVAL_S;
    assert_int_equal(fx_collect(&t->f), 0);
    assert_int_equal(t->fake.identifies, 3);
    assert_int_equal(t->fake.closes, 2);    /* the fd of the old identity was not reused */
    tfx_free(t);
}

static void t_scan_outcomes(void **state)
{
    (void)state;
    struct tfx *t = tfx_new();
    t->fake.scan_errno = ENOENT;            /* no /sys/class/nvme */
    assert_int_equal(fx_collect(&t->f), 0);
    assert_int_equal(t->f.r.n_nvme, 0);
    assert_string_equal(t->f.ctx.err, "");
    t->fake.scan_errno = EIO;
    t->f.ctx.now_monotonic += NVME_RESCAN_INTERVAL_S;
    assert_int_equal(fx_collect(&t->f), -1);
    assert_string_equal(t->f.ctx.err, "listing <sysfs>/class/nvme: Input/output error");
    /* a failed scan is retried at the next cycle */
    t->fake.scan_errno = 0;
    fake_drive(&t->fake.c[0], "nvme0", "A", 300);
    fake_drive(&t->fake.c[1], "../nvme1", "B", 300);          /* never opened as a path */
    t->f.ctx.now_monotonic += 1;
    assert_int_equal(fx_collect(&t->f), 0);
    assert_int_equal(t->fake.scans, 3);
    assert_int_equal(t->f.r.n_nvme, 1);
    assert_string_equal(ctrl(t, 0)->name, "nvme0");
    tfx_free(t);
}

/* The real scan on a sysfs fixture: padded attributes trimmed like
 * libnvme's getters (nvme-cli), missing or blank ones NULL, nvme-fabrics skipped. */
static void t_sysfs_scan(void **state)
{
    (void)state;
    struct nvme_ident *ids;
    size_t n;
    assert_int_equal(nvme_sysfs_scan(FIXTURES "/nvme/sys", &ids, &n), 0);
    assert_int_equal(n, 2);
    qsort(ids, n, sizeof *ids, cmp_names);
    assert_string_equal(ids[0].name, "nvme0");
    assert_string_equal(ids[0].model, "QEMU NVMe Ctrl");
    assert_string_equal(ids[0].serial, "lab-healthy");
    assert_string_equal(ids[0].firmware, "7.2.22");
    assert_string_equal(ids[0].transport, "pcie");
    assert_string_equal(ids[1].name, "nvme1");
    assert_string_equal(ids[1].model, "Vendor \"X\" 1TB");
    assert_string_equal(ids[1].serial, "   S3EWNX0K123456");   /* leading blanks kept, as libnvme */
    assert_null(ids[1].firmware);                             /* all blanks */
    assert_null(ids[1].transport);                            /* no such attribute */
    nvme_idents_free(ids, n);
    errno = 0;
    assert_int_equal(nvme_sysfs_scan(FIXTURES "/does-not-exist", &ids, &n), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(n, 0);
}

/* ---- the real collector on this machine ------------------------------- */

/* NVMe controllers the kernel lists in /sys/class/nvme; 0 when it has none. */
static size_t sysfs_controllers(void)
{
    DIR *d = opendir("/sys/class/nvme");
    if (!d) {
        assert_int_equal(errno, ENOENT);
        return 0;
    }
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += strncmp(e->d_name, "nvme", 4) == 0;
    closedir(d);
    return n;
}

static void t_this_machine(void **state)
{
    (void)state;
    size_t want = sysfs_controllers();
    struct fx f;
    fx_open(&f, &collector_nvme, FX_HOST1_PROC, FX_HOST1_SYS);
    assert_int_equal(fx_collect(&f), 0);
    assert_int_equal(f.r.n_nvme, want);
    if (want == 0)
        assert_string_equal(f.ctx.err, "");
    fx_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_worn_drive),
        cmocka_unit_test(t_critical_warning_bits),
        cmocka_unit_test(t_byte_order),
        cmocka_unit_test(t_saturation),
        cmocka_unit_test(t_temperature_not_reported),
        cmocka_unit_test(t_identify_thresholds),
        cmocka_unit_test(t_admin_cmd_layout),
        cmocka_unit_test(t_identify_ctrl_cmd),
        cmocka_unit_test(t_smart_log_cmd),
        cmocka_unit_test(t_status_names),
        cmocka_unit_test(t_collect_two_one_failing),
        cmocka_unit_test(t_permission_denied),
        cmocka_unit_test(t_identify_failure_is_partial),
        cmocka_unit_test(t_hot_unplug),
        cmocka_unit_test(t_identity_change),
        cmocka_unit_test(t_scan_outcomes),
        cmocka_unit_test(t_sysfs_scan),
        cmocka_unit_test(t_this_machine),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
