/* render_nvme.c — the pve_nvme_* families from a report's NVMe controllers
 * (agent/nvme.c), converted here into base units:
 *   Kelvin            -> Celsius (K - 273.15; 0 K means "not reported": no sample)
 *   percent           -> ratio (/ 100, never clamped: 255 % is 2.55)
 *   data units        -> bytes (x 512000: 1000 blocks of 512 bytes)
 *   minutes, hours    -> seconds
 * Every series carries the node labels plus device="nvmeN". A controller
 * whose SMART read failed (error set) has pve_nvme_info, pve_nvme_up 0 and
 * nothing else, even if a report carried readings with the error. */
#include "render.h"

#include <stddef.h>
#include <stdlib.h>

enum nvme_conv { CONV_COUNT, CONV_CELSIUS, CONV_RATIO };

/* A reading of NvmeController located by offsets, so one loop renders
 * every numeric family. */
struct nvme_field {
    enum family_id fam;
    size_t has_off, val_off;
    bool wide;                     /* uint64 field, else uint32 */
    enum nvme_conv conv;
    uint64_t factor;               /* CONV_COUNT: multiplier into base units */
};

#define F32(fam, field, conv, factor) \
    {FAM_##fam, offsetof(Pvescope__NvmeController, has_##field), offsetof(Pvescope__NvmeController, field), false, conv, factor}
#define F64(fam, field, factor) \
    {FAM_##fam, offsetof(Pvescope__NvmeController, has_##field), offsetof(Pvescope__NvmeController, field), true, CONV_COUNT, factor}

/* In families.h order, after info, up and the critical warning families. */
static const struct nvme_field temperature_fields[] = {
    F32(NVME_TEMPERATURE, temperature_kelvin, CONV_CELSIUS, 1),
    F32(NVME_TEMP_WARNING, warning_temp_threshold_kelvin, CONV_CELSIUS, 1),
    F32(NVME_TEMP_CRITICAL, critical_temp_threshold_kelvin, CONV_CELSIUS, 1),
    F32(NVME_CRITICAL_WARNING, critical_warning, CONV_COUNT, 1),
};

static const struct nvme_field wear_fields[] = {
    F32(NVME_SPARE, available_spare_percent, CONV_RATIO, 1),
    F32(NVME_SPARE_THRESHOLD, available_spare_threshold_percent, CONV_RATIO, 1),
    F32(NVME_PERCENTAGE_USED, percentage_used, CONV_RATIO, 1),
    F64(NVME_DATA_READ, data_units_read, 512000),
    F64(NVME_DATA_WRITTEN, data_units_written, 512000),
    F64(NVME_HOST_READS, host_read_commands, 1),
    F64(NVME_HOST_WRITES, host_write_commands, 1),
    F64(NVME_BUSY, controller_busy_minutes, 60),
    F64(NVME_POWER_CYCLES, power_cycles, 1),
    F64(NVME_POWER_ON, power_on_hours, 3600),
    F64(NVME_UNSAFE_SHUTDOWNS, unsafe_shutdowns, 1),
    F64(NVME_MEDIA_ERRORS, media_errors, 1),
    F64(NVME_ERROR_LOG_ENTRIES, error_log_entries, 1),
    F32(NVME_WARNING_TEMP_TIME, warning_temp_minutes, CONV_COUNT, 60),
    F32(NVME_CRITICAL_TEMP_TIME, critical_temp_minutes, CONV_COUNT, 60),
};

/* Critical warning bits 0..5, in bit order. */
static const char *const warning_flags[] = {"spare", "temperature", "degraded", "read_only", "volatile_memory",
                                            "pmr_read_only"};

static bool ctrl_up(const Pvescope__NvmeController *c) { return c->error == NULL; }

/* Appends `key="value"` (escaped; a missing value is ""), comma first unless
 * the buffer is empty. */
static void put_label(struct buf *b, const char *key, const char *value)
{
    if (b->len)
        buf_putc(b, ',');
    buf_puts(b, key);
    buf_puts(b, "=\"");
    expo_escape_label(b, value ? value : "");
    buf_putc(b, '"');
}

/* A count times factor: exact as an integer while it fits 64 bits, else a
 * float (a saturated 2^64-1 counter stays visibly huge, never wraps). */
static void sample_scaled(struct node_render *nr, enum family_id f, const char *labels, const char *dev,
                          uint64_t v, uint64_t factor)
{
    if (factor <= 1 || v <= UINT64_MAX / factor)
        nr_sample_u64(nr, f, labels, dev, v * (factor ? factor : 1));
    else
        nr_sample(nr, f, labels, dev, (double)v * (double)factor);
}

static void render_field(struct node_render *nr, const char *labels, const struct nvme_field *fd,
                         const Pvescope__NvmeController *c, const char *dev)
{
    const char *base = (const char *)c;
    if (!ctrl_up(c) || !*(const protobuf_c_boolean *)(base + fd->has_off))
        return;
    uint64_t v = fd->wide ? *(const uint64_t *)(base + fd->val_off) : *(const uint32_t *)(base + fd->val_off);
    switch (fd->conv) {
    case CONV_CELSIUS:
        /* in hundredths, so 323 K prints as 49.85, not 49.850000000000023 */
        if (v != 0)
            nr_sample(nr, fd->fam, labels, dev, (double)((int64_t)v * 100 - 27315) / 100.0);
        break;
    case CONV_RATIO:
        nr_sample(nr, fd->fam, labels, dev, (double)v / 100.0);
        break;
    case CONV_COUNT:
        sample_scaled(nr, fd->fam, labels, dev, v, fd->factor);
        break;
    }
}

static void render_fields(struct node_render *nr, const char *labels, const struct nvme_field *fields,
                          size_t n_fields, const Pvescope__Report *r, char *const *devs)
{
    for (size_t f = 0; f < n_fields; f++) {
        nr_begin(nr, fields[f].fam);
        for (size_t i = 0; i < r->n_nvme; i++)
            render_field(nr, labels, &fields[f], r->nvme[i], devs[i]);
        nr_end(nr, fields[f].fam);
    }
}

static void render_info_up(struct node_render *nr, const char *labels, const Pvescope__Report *r,
                           char *const *devs)
{
    struct buf l = BUF_INIT;
    nr_begin(nr, FAM_NVME_INFO);
    for (size_t i = 0; i < r->n_nvme; i++) {
        const Pvescope__NvmeController *c = r->nvme[i];
        buf_reset(&l);
        buf_puts(&l, devs[i]);
        put_label(&l, "model", c->model);
        put_label(&l, "serial", c->serial);
        put_label(&l, "firmware", c->firmware);
        put_label(&l, "transport", c->transport);
        nr_sample_u64(nr, FAM_NVME_INFO, labels, l.data, 1);
    }
    nr_end(nr, FAM_NVME_INFO);
    nr_begin(nr, FAM_NVME_UP);
    for (size_t i = 0; i < r->n_nvme; i++)
        nr_sample_u64(nr, FAM_NVME_UP, labels, devs[i], ctrl_up(r->nvme[i]) ? 1 : 0);
    nr_end(nr, FAM_NVME_UP);
    buf_free(&l);
}

static void render_warning_flags(struct node_render *nr, const char *labels, const Pvescope__Report *r,
                                 char *const *devs)
{
    struct buf l = BUF_INIT;
    nr_begin(nr, FAM_NVME_CRITICAL_WARNING_FLAG);
    for (size_t i = 0; i < r->n_nvme; i++) {
        const Pvescope__NvmeController *c = r->nvme[i];
        if (!ctrl_up(c) || !c->has_critical_warning)
            continue;
        for (unsigned bit = 0; bit < sizeof warning_flags / sizeof warning_flags[0]; bit++) {
            buf_reset(&l);
            buf_puts(&l, devs[i]);
            put_label(&l, "flag", warning_flags[bit]);
            nr_sample_u64(nr, FAM_NVME_CRITICAL_WARNING_FLAG, labels, l.data, (c->critical_warning >> bit) & 1);
        }
    }
    nr_end(nr, FAM_NVME_CRITICAL_WARNING_FLAG);
    buf_free(&l);
}

void render_nvme(struct node_render *nr, const char *labels, const Pvescope__Report *r)
{
    if (!r->n_nvme)
        return;
    /* device="..." of each controller, NUL-separated in one buffer */
    struct buf store = BUF_INIT;
    size_t *offs = malloc(r->n_nvme * sizeof *offs);
    char **devs = malloc(r->n_nvme * sizeof *devs);
    if (!offs || !devs)
        abort();
    for (size_t i = 0; i < r->n_nvme; i++) {
        offs[i] = store.len;
        struct buf one = BUF_INIT;
        put_label(&one, "device", r->nvme[i]->name);
        buf_append(&store, one.data, one.len + 1);
        buf_free(&one);
    }
    for (size_t i = 0; i < r->n_nvme; i++)
        devs[i] = store.data + offs[i];

    render_info_up(nr, labels, r, devs);
    render_fields(nr, labels, temperature_fields, sizeof temperature_fields / sizeof temperature_fields[0], r, devs);
    render_warning_flags(nr, labels, r, devs);
    render_fields(nr, labels, wear_fields, sizeof wear_fields / sizeof wear_fields[0], r, devs);
    free(devs);
    free(offs);
    buf_free(&store);
}
