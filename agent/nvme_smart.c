/* nvme_smart.c — see nvme_smart.h. */
#include "nvme_smart.h"

#include <stdbool.h>

/* Byte offsets in the SMART / Health Information log page. */
enum {
    SMART_CRITICAL_WARNING = 0,
    SMART_TEMPERATURE = 1,         /* 2 bytes, Kelvin */
    SMART_AVAIL_SPARE = 3,
    SMART_SPARE_THRESH = 4,
    SMART_PERCENT_USED = 5,
    SMART_DATA_UNITS_READ = 32,    /* 16-byte counters from here on */
    SMART_DATA_UNITS_WRITTEN = 48,
    SMART_HOST_READS = 64,
    SMART_HOST_WRITES = 80,
    SMART_CTRL_BUSY_TIME = 96,
    SMART_POWER_CYCLES = 112,
    SMART_POWER_ON_HOURS = 128,
    SMART_UNSAFE_SHUTDOWNS = 144,
    SMART_MEDIA_ERRORS = 160,
    SMART_NUM_ERR_LOG_ENTRIES = 176,
    SMART_WARNING_TEMP_TIME = 192, /* 4 bytes, minutes */
    SMART_CRITICAL_COMP_TIME = 196,
};

static uint32_t le16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A 16-byte little-endian counter as uint64, UINT64_MAX when it needs more
 * than 64 bits; *saturated counts those. */
static uint64_t le128_saturating(const uint8_t *p, int *saturated)
{
    for (int i = 8; i < 16; i++)
        if (p[i]) {
            (*saturated)++;
            return UINT64_MAX;
        }
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

int nvme_smart_decode(const uint8_t raw[NVME_SMART_LOG_BYTES], Pvescope__NvmeController *out)
{
    out->has_critical_warning = true;
    out->critical_warning = raw[SMART_CRITICAL_WARNING];
    out->temperature_kelvin = le16(raw + SMART_TEMPERATURE);
    out->has_temperature_kelvin = out->temperature_kelvin != 0;
    out->has_available_spare_percent = true;
    out->available_spare_percent = raw[SMART_AVAIL_SPARE];
    out->has_available_spare_threshold_percent = true;
    out->available_spare_threshold_percent = raw[SMART_SPARE_THRESH];
    out->has_percentage_used = true;
    out->percentage_used = raw[SMART_PERCENT_USED];

    int sat = 0;
    const struct { size_t off; protobuf_c_boolean *has; uint64_t *v; } counters[] = {
        {SMART_DATA_UNITS_READ, &out->has_data_units_read, &out->data_units_read},
        {SMART_DATA_UNITS_WRITTEN, &out->has_data_units_written, &out->data_units_written},
        {SMART_HOST_READS, &out->has_host_read_commands, &out->host_read_commands},
        {SMART_HOST_WRITES, &out->has_host_write_commands, &out->host_write_commands},
        {SMART_CTRL_BUSY_TIME, &out->has_controller_busy_minutes, &out->controller_busy_minutes},
        {SMART_POWER_CYCLES, &out->has_power_cycles, &out->power_cycles},
        {SMART_POWER_ON_HOURS, &out->has_power_on_hours, &out->power_on_hours},
        {SMART_UNSAFE_SHUTDOWNS, &out->has_unsafe_shutdowns, &out->unsafe_shutdowns},
        {SMART_MEDIA_ERRORS, &out->has_media_errors, &out->media_errors},
        {SMART_NUM_ERR_LOG_ENTRIES, &out->has_error_log_entries, &out->error_log_entries},
    };
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++) {
        *counters[i].has = true;
        *counters[i].v = le128_saturating(raw + counters[i].off, &sat);
    }

    out->has_warning_temp_minutes = true;
    out->warning_temp_minutes = le32(raw + SMART_WARNING_TEMP_TIME);
    out->has_critical_temp_minutes = true;
    out->critical_temp_minutes = le32(raw + SMART_CRITICAL_COMP_TIME);
    return sat;
}

void nvme_id_ctrl_decode_thresholds(const uint8_t raw[NVME_ID_CTRL_BYTES], Pvescope__NvmeController *out)
{
    out->warning_temp_threshold_kelvin = le16(raw + NVME_ID_CTRL_WCTEMP_OFF);
    out->has_warning_temp_threshold_kelvin = out->warning_temp_threshold_kelvin != 0;
    out->critical_temp_threshold_kelvin = le16(raw + NVME_ID_CTRL_CCTEMP_OFF);
    out->has_critical_temp_threshold_kelvin = out->critical_temp_threshold_kelvin != 0;
}
