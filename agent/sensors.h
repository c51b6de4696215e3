/* sensors.h — how the sensors collector (sensors.c) maps libsensors'
 * feature and subfeature types onto Report.sensor_chips fields, scales raw
 * sysfs values as libsensors does, and parses them: pure functions, so unit
 * tests and the fuzzer check them without a hwmon tree. Also the collector's
 * read-plan counters, for tests. */
#ifndef PVESCOPE_SENSORS_H
#define PVESCOPE_SENSORS_H

#include "pvescope.pb-c.h"

/* Seconds between reloads of libsensors' chip list (hotplugged chips), and
 * the slower pace used while the configuration has errors: libsensors 3.6.0
 * leaks the pieces of a malformed `compute` expression (~100 bytes) at every
 * parse, so reloading every minute would grow the agent by ~140 KiB a day. */
#define SENSORS_RELOAD_S 60.0
#define SENSORS_RELOAD_BAD_CONFIG_S 900.0

/* At most this many sysfs attributes are kept open for the fast path (and
 * never more than a quarter of RLIMIT_NOFILE's soft limit); the rest are
 * read through sensors_get_value. A two-socket server with NVMe drives has
 * ~300 collected attributes. */
#define SENSORS_MAX_KEPT_FDS 512

/* Which SensorFeature field a subfeature's value goes to. */
enum sensor_slot {
    SLOT_NONE,             /* not collected (hysteresis, beep, average, ...): never read */
    SLOT_INPUT,
    SLOT_INPUT_FALLBACK,   /* power1_average: the input when power1_input is absent */
    SLOT_MIN,
    SLOT_MAX,
    SLOT_CRIT,
    SLOT_LCRIT,
    SLOT_ALARM,            /* any *_alarm: ORed into SensorFeature.alarm */
    SLOT_FAULT,
};

/* The SensorKind of a libsensors feature type (sensors_feature_type);
 * SENSOR_OTHER for the kinds not collected (vid, intrusion, beep_enable). */
Pvescope__SensorKind sensors_kind_of(int feature_type);

/* The slot of a libsensors subfeature type (sensors_subfeature_type). */
enum sensor_slot sensors_slot_of(int subfeature_type);

/* The divisor libsensors 3.6.0 applies to a raw sysfs value of this
 * subfeature type (lib/sysfs.c get_type_scaling): 1000 for in, temp, curr
 * and humidity readings and limits, 1e6 for power and energy, 1 for fans,
 * alarms, faults and the other "second class" subfeatures. */
double sensors_scale_of(int subfeature_type);

/* Parses a hwmon attribute's raw text (len bytes, not NUL-terminated): an
 * optional '-', 1 to 18 decimal digits, an optional final newline, nothing
 * else. Returns NULL and sets *out, or the reason it was rejected. */
const char *sensors_parse_raw(const char *text, size_t len, long long *out);

/* How the current plan reads the collected subfeatures: all of them, those
 * on the fast path (kept fd + pread), and the fds kept open. */
struct sensors_plan_stats {
    unsigned subfeatures, fast, kept_fds;
};

/* The plan counters of a sensors collector's state (from its init); all
 * zero while libsensors is not loaded. */
void sensors_plan_stats(const void *state, struct sensors_plan_stats *out);

#endif
