/* fuzz_nvme_smart.c — the NVMe SMART log and Identify Controller decoders
 * (agent/nvme_smart.c) on arbitrary device data, a drive with broken
 * firmware or a hostile one. The input fills a zeroed 4096-byte buffer (the
 * collector's transfer buffer); the first 512 bytes are the SMART log, the
 * whole buffer is Identify. Every decoded field is checked against a
 * byte-by-byte reference, and the result is rendered as the aggregator
 * would (unit conversions on extreme values). */
#include <stdlib.h>
#include <string.h>

#include "nvme_smart.h"
#include "render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reference little-endian read of n <= 8 bytes. */
static uint64_t ref_le(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* The wire value of the 16-byte counter at off; counts saturations. */
static uint64_t ref_counter(const uint8_t *raw, size_t off, int *saturated)
{
    for (size_t i = 8; i < 16; i++)
        if (raw[off + i]) {
            (*saturated)++;
            return UINT64_MAX;
        }
    return ref_le(raw + off, 8);
}

static void check_smart(const uint8_t *raw, const Pvescope__NvmeController *c, int ret)
{
    int sat = 0;
    const uint64_t got[] = {c->data_units_read, c->data_units_written, c->host_read_commands,
                            c->host_write_commands, c->controller_busy_minutes, c->power_cycles,
                            c->power_on_hours, c->unsafe_shutdowns, c->media_errors, c->error_log_entries};
    for (size_t i = 0; i < sizeof got / sizeof got[0]; i++)
        if (got[i] != ref_counter(raw, 32 + 16 * i, &sat))
            abort();
    if (ret != sat || c->critical_warning != raw[0] || c->temperature_kelvin != ref_le(raw + 1, 2) ||
        c->has_temperature_kelvin != (c->temperature_kelvin != 0) || c->available_spare_percent != raw[3] ||
        c->available_spare_threshold_percent != raw[4] || c->percentage_used != raw[5] ||
        c->warning_temp_minutes != ref_le(raw + 192, 4) || c->critical_temp_minutes != ref_le(raw + 196, 4))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t *buf;
    if (!buf && posix_memalign((void **)&buf, 4096, NVME_ID_CTRL_BYTES) != 0)
        abort();
    memset(buf, 0, NVME_ID_CTRL_BYTES);
    memcpy(buf, data, size < NVME_ID_CTRL_BYTES ? size : NVME_ID_CTRL_BYTES);

    Pvescope__NvmeController c = PVESCOPE__NVME_CONTROLLER__INIT;
    c.name = "nvme0";
    int ret = nvme_smart_decode(buf, &c);
    check_smart(buf, &c, ret);
    nvme_id_ctrl_decode_thresholds(buf, &c);
    if (c.warning_temp_threshold_kelvin != ref_le(buf + 266, 2) ||
        c.critical_temp_threshold_kelvin != ref_le(buf + 268, 2))
        abort();

    Pvescope__NvmeController *cs[1] = {&c};
    Pvescope__Report r = PVESCOPE__REPORT__INIT;
    r.node = "pve1";
    r.nvme = cs;
    r.n_nvme = 1;
    struct node_render *nr = render_report(&r, "id=\"node/pve1\"");
    if (nr->len[FAM_NVME_UP] == 0 || nr->len[FAM_NVME_CRITICAL_WARNING_FLAG] == 0)
        abort();
    node_render_unref(nr);
    return 0;
}
