/* sensors.h — how the sensors collector (sensors.c) maps libsensors'
 * feature and subfeature types onto Report.sensor_chips fields. Pure
 * functions of the type numbers, so unit tests check the table without a
 * hwmon tree. */
#ifndef PVESCOPE_SENSORS_H
#define PVESCOPE_SENSORS_H

#include "pvescope.pb-c.h"

/* Seconds between reloads of libsensors' chip list (hotplugged chips), and
 * the slower pace used while the configuration has errors: libsensors 3.6.0
 * leaks the pieces of a malformed `compute` expression (~100 bytes) at every
 * parse, so reloading every minute would grow the agent by ~140 KiB a day. */
#define SENSORS_RELOAD_S 60.0
#define SENSORS_RELOAD_BAD_CONFIG_S 900.0

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

#endif
