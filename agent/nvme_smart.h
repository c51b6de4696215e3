/* nvme_smart.h — decoders of the two NVMe admin data structures the "nvme"
 * collector reads: the SMART / Health Information log page (Log Identifier
 * 02h, 512 bytes) and the temperature thresholds of Identify Controller
 * (CNS 01h, 4096 bytes).
 *
 * They work on the raw bytes as the controller transferred them (NVMe Base
 * Specification: every multi-byte field little-endian), so they depend on
 * neither a library's structs nor the host's byte order, and the unit tests
 * and the fuzz target can drive them with hand-built blobs. Values stay in the device's units (Kelvin, percent, data units of
 * 1000 x 512 bytes, minutes, hours); the aggregator converts them. */
#ifndef PVESCOPE_NVME_SMART_H
#define PVESCOPE_NVME_SMART_H

#include <stdint.h>

#include "pvescope.pb-c.h"

#define NVME_SMART_LOG_BYTES   512
#define NVME_ID_CTRL_BYTES     4096

/* Byte offsets of Identify Controller's Warning and Critical Composite
 * Temperature Thresholds (WCTEMP 267:266, CCTEMP 269:268), in Kelvin. */
#define NVME_ID_CTRL_WCTEMP_OFF 266
#define NVME_ID_CTRL_CCTEMP_OFF 268

/* Fills every SMART field of out (critical warning, temperature, spare,
 * percentage used, the 16-byte counters, the temperature times) from raw,
 * setting their has_ flags; identity, error and thresholds are untouched.
 * The composite temperature is left absent when the drive reports 0 (not
 * implemented). A 16-byte counter whose high 8 bytes are not all zero does
 * not fit the uint64 wire field: it is set to UINT64_MAX rather than
 * truncated to its low half. Returns the number of counters saturated that
 * way (0 on every real drive; more means a counter past 2^64 or a garbled
 * log). */
int nvme_smart_decode(const uint8_t raw[NVME_SMART_LOG_BYTES], Pvescope__NvmeController *out);

/* Sets out's warning_temp_threshold_kelvin and critical_temp_threshold_kelvin
 * from an Identify Controller data structure; a threshold of 0 (not
 * reported: CCTEMP is optional, WCTEMP is 0 on controllers without a
 * temperature threshold feature) is left absent. */
void nvme_id_ctrl_decode_thresholds(const uint8_t raw[NVME_ID_CTRL_BYTES], Pvescope__NvmeController *out);

#endif
