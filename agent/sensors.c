/* sensors.c — the "sensors" collector: every chip lm-sensors sees (hwmon
 * devices under /sys/class/hwmon), read through libsensors 3.6.0, into
 * Report.sensor_chips.
 *
 * Each chip is named as `sensors` prints it (coretemp-isa-0000,
 * nvme-pci-0100, <name>-virtual-0 for a device without a `device` link) and
 * carries its adapter and its temperature, fan, voltage, power, current,
 * energy and humidity features: label (after sensors.conf), input, the
 * min/max/crit/lcrit limits present, alarm (OR of every alarm subfeature)
 * and fault. Values come scaled by libsensors (°C, RPM, V, W, A, J, %RH) and
 * with the configuration's `compute` lines applied.
 *
 * One broken hwmon device costs one chip, not the collector: a subfeature
 * that cannot be read is counted in its feature's read_errors and skipped;
 * a chip none of whose readings could be read gets SensorChip.error (its
 * features stay listed with their read_errors, without values). Either makes
 * the cycle a warning (message in ctx->err).
 *
 * libsensors caches the chip list at init, so the library is reloaded
 * (sensors_cleanup + sensors_init) every SENSORS_RELOAD_S seconds to see
 * hotplugged chips (SENSORS_RELOAD_BAD_CONFIG_S while the configuration has
 * errors, see sensors.h), and on the next cycle after a read reported
 * -SENSORS_ERR_KERNEL (a device went away).
 *
 * The system configuration (/etc/sensors3.conf, /etc/sensors.d/) is used as
 * `sensors` uses it. libsensors skips most bad lines and still succeeds (the
 * collector then warns, naming the first error); when a parse error fails
 * sensors_init, the library is loaded with an empty configuration (raw
 * values, driver labels, nothing ignored) and every cycle says so in
 * ctx->err. No /sys/class/hwmon means no chips: success.
 *
 * libsensors state is process-global (chip list, configuration, and the
 * error hooks below), so it is the one place in the agent with mutable
 * globals outside main: only one collector instance may own the library at
 * a time, and every call stays on the collection thread (report.c runs the
 * collectors one after the other on the main thread). */
#include "sensors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sensors/error.h>
#include <sensors/sensors.h>

#include "collector.h"
#include "log.h"

/* ---- mapping (pure) ------------------------------------------------------- */

Pvescope__SensorKind sensors_kind_of(int feature_type)
{
    switch (feature_type) {
    case SENSORS_FEATURE_TEMP: return PVESCOPE__SENSOR_KIND__SENSOR_TEMPERATURE;
    case SENSORS_FEATURE_FAN: return PVESCOPE__SENSOR_KIND__SENSOR_FAN;
    case SENSORS_FEATURE_IN: return PVESCOPE__SENSOR_KIND__SENSOR_VOLTAGE;
    case SENSORS_FEATURE_POWER: return PVESCOPE__SENSOR_KIND__SENSOR_POWER;
    case SENSORS_FEATURE_CURR: return PVESCOPE__SENSOR_KIND__SENSOR_CURRENT;
    case SENSORS_FEATURE_ENERGY: return PVESCOPE__SENSOR_KIND__SENSOR_ENERGY;
    case SENSORS_FEATURE_HUMIDITY: return PVESCOPE__SENSOR_KIND__SENSOR_HUMIDITY;
    default: return PVESCOPE__SENSOR_KIND__SENSOR_OTHER;
    }
}

enum sensor_slot sensors_slot_of(int t)
{
    switch (t) {
    case SENSORS_SUBFEATURE_TEMP_INPUT: case SENSORS_SUBFEATURE_FAN_INPUT:
    case SENSORS_SUBFEATURE_IN_INPUT: case SENSORS_SUBFEATURE_POWER_INPUT:
    case SENSORS_SUBFEATURE_CURR_INPUT: case SENSORS_SUBFEATURE_ENERGY_INPUT:
    case SENSORS_SUBFEATURE_HUMIDITY_INPUT:
        return SLOT_INPUT;
    case SENSORS_SUBFEATURE_POWER_AVERAGE:
        return SLOT_INPUT_FALLBACK;
    case SENSORS_SUBFEATURE_TEMP_MIN: case SENSORS_SUBFEATURE_FAN_MIN:
    case SENSORS_SUBFEATURE_IN_MIN: case SENSORS_SUBFEATURE_POWER_MIN:
    case SENSORS_SUBFEATURE_CURR_MIN:
        return SLOT_MIN;
    case SENSORS_SUBFEATURE_TEMP_MAX: case SENSORS_SUBFEATURE_FAN_MAX:
    case SENSORS_SUBFEATURE_IN_MAX: case SENSORS_SUBFEATURE_POWER_MAX:
    case SENSORS_SUBFEATURE_CURR_MAX:
        return SLOT_MAX;
    case SENSORS_SUBFEATURE_TEMP_CRIT: case SENSORS_SUBFEATURE_IN_CRIT:
    case SENSORS_SUBFEATURE_POWER_CRIT: case SENSORS_SUBFEATURE_CURR_CRIT:
        return SLOT_CRIT;
    case SENSORS_SUBFEATURE_TEMP_LCRIT: case SENSORS_SUBFEATURE_IN_LCRIT:
    case SENSORS_SUBFEATURE_POWER_LCRIT: case SENSORS_SUBFEATURE_CURR_LCRIT:
        return SLOT_LCRIT;
    case SENSORS_SUBFEATURE_TEMP_ALARM: case SENSORS_SUBFEATURE_TEMP_MAX_ALARM:
    case SENSORS_SUBFEATURE_TEMP_MIN_ALARM: case SENSORS_SUBFEATURE_TEMP_CRIT_ALARM:
    case SENSORS_SUBFEATURE_TEMP_EMERGENCY_ALARM: case SENSORS_SUBFEATURE_TEMP_LCRIT_ALARM:
    case SENSORS_SUBFEATURE_FAN_ALARM: case SENSORS_SUBFEATURE_FAN_MIN_ALARM:
    case SENSORS_SUBFEATURE_FAN_MAX_ALARM:
    case SENSORS_SUBFEATURE_IN_ALARM: case SENSORS_SUBFEATURE_IN_MIN_ALARM:
    case SENSORS_SUBFEATURE_IN_MAX_ALARM: case SENSORS_SUBFEATURE_IN_LCRIT_ALARM:
    case SENSORS_SUBFEATURE_IN_CRIT_ALARM:
    case SENSORS_SUBFEATURE_POWER_ALARM: case SENSORS_SUBFEATURE_POWER_CAP_ALARM:
    case SENSORS_SUBFEATURE_POWER_MAX_ALARM: case SENSORS_SUBFEATURE_POWER_CRIT_ALARM:
    case SENSORS_SUBFEATURE_POWER_MIN_ALARM: case SENSORS_SUBFEATURE_POWER_LCRIT_ALARM:
    case SENSORS_SUBFEATURE_CURR_ALARM: case SENSORS_SUBFEATURE_CURR_MIN_ALARM:
    case SENSORS_SUBFEATURE_CURR_MAX_ALARM: case SENSORS_SUBFEATURE_CURR_LCRIT_ALARM:
    case SENSORS_SUBFEATURE_CURR_CRIT_ALARM:
        return SLOT_ALARM;
    case SENSORS_SUBFEATURE_TEMP_FAULT: case SENSORS_SUBFEATURE_FAN_FAULT:
        return SLOT_FAULT;
    default:
        return SLOT_NONE;
    }
}

/* ---- the library's global hooks ------------------------------------------ */

static bool library_owned;              /* a collector instance holds libsensors */
static char last_parse_error[200];      /* the configuration error last logged */
static char load_parse_error[200];      /* the first configuration error of this load */

/* sensors_fatal_error hook: libsensors calls it on out-of-memory and expects
 * it not to return (its default prints and calls exit(1) from inside the
 * agent). Aborting gives a core and lets systemd restart the agent. */
static _Noreturn void on_fatal_error(const char *proc, const char *err)
{
    log_error("libsensors: fatal error in %s: %s", proc ? proc : "?", err ? err : "?");
    abort();
}

/* sensors_parse_error_wfn hook: a configuration file did not parse. Logged
 * once per distinct message (the library is reloaded every minute), and kept
 * for the collector's warning. */
static void on_parse_error(const char *err, const char *file, int line)
{
    char msg[sizeof last_parse_error];
    snprintf(msg, sizeof msg, "%s:%d: %s", file ? file : "(configuration)", line, err ? err : "?");
    if (strcmp(msg, last_parse_error) != 0)
        log_warn("libsensors configuration error: %s", msg);
    memcpy(last_parse_error, msg, sizeof msg);
    if (!load_parse_error[0])
        memcpy(load_parse_error, msg, sizeof msg);
}

/* ---- loading ---------------------------------------------------------------- */

struct sensors_state {
    bool loaded;               /* libsensors holds a chip list */
    bool reload;               /* a device vanished: reload before the next walk */
    bool degraded;             /* loaded without the system configuration */
    double load_attempt_at;    /* ctx->now_monotonic of the last sensors_init */
    int load_error;            /* the last failed sensors_init's result, or 0 */
    char config_error[sizeof load_parse_error];   /* first configuration error, or "" */
};

static void unload(struct sensors_state *st)
{
    if (st->loaded)
        sensors_cleanup();
    st->loaded = false;
}

/* sensors_init with an empty configuration: the chips and their values stay
 * available when the system configuration is broken. */
static int init_without_config(void)
{
    FILE *empty = fopen("/dev/null", "r");
    if (!empty)
        return -SENSORS_ERR_PARSE;
    int rc = sensors_init(empty);
    fclose(empty);
    return rc;
}

/* (Re)loads the library's chip list. Returns 0 or a negative SENSORS_ERR_*. */
static int load(struct sensors_state *st, double now)
{
    unload(st);
    st->load_attempt_at = now;
    st->reload = false;
    st->degraded = false;
    load_parse_error[0] = '\0';
    int rc = sensors_init(NULL);
    snprintf(st->config_error, sizeof st->config_error, "%s",
             load_parse_error[0] ? load_parse_error : rc == -SENSORS_ERR_PARSE ? sensors_strerror(rc) : "");
    if (rc == -SENSORS_ERR_PARSE) {
        rc = init_without_config();
        st->degraded = rc == 0;
    }
    if (!st->config_error[0])
        last_parse_error[0] = '\0';    /* fixed: log the next error again */
    st->loaded = rc == 0;
    st->load_error = rc;
    return rc;
}

/* Whether this cycle must (re)load: never loaded, a device vanished, or the
 * periodic rescan for hotplugged chips is due. A failed load is retried at
 * the rescan pace, not every cycle. */
static bool load_due(const struct sensors_state *st, double now)
{
    double every = st->config_error[0] ? SENSORS_RELOAD_BAD_CONFIG_S : SENSORS_RELOAD_S;
    bool rescan = now - st->load_attempt_at >= every;
    if (!st->loaded)
        return st->load_error == 0 || rescan;
    return st->reload || rescan;
}

/* ---- walking the chips ------------------------------------------------------- */

/* What went wrong in one walk, for the collector's warning. */
struct walk_faults {
    unsigned read_errors;      /* subfeatures that could not be read, all chips */
    unsigned bad_chips;        /* chips none of whose readings could be read */
    char first_bad_chip[128];
    int first_bad_error;
    bool device_gone;          /* some read said -SENSORS_ERR_KERNEL */
};

/* Reads of one chip: how many were tried, how many worked. */
struct chip_reads {
    unsigned tried, ok;
    int first_error;
};

/* Stores one subfeature value into its slot. input_primary tells whether
 * the input came from a real *_input (a fallback never overrides it). */
static void put_value(Pvescope__SensorFeature *f, enum sensor_slot slot, double v, bool *input_primary)
{
    switch (slot) {
    case SLOT_INPUT:
        f->has_input = true, f->input = v, *input_primary = true;
        break;
    case SLOT_INPUT_FALLBACK:
        if (!*input_primary)
            f->has_input = true, f->input = v;
        break;
    case SLOT_MIN: f->has_min = true, f->min = v; break;
    case SLOT_MAX: f->has_max = true, f->max = v; break;
    case SLOT_CRIT: f->has_crit = true, f->crit = v; break;
    case SLOT_LCRIT: f->has_lcrit = true, f->lcrit = v; break;
    case SLOT_ALARM: f->has_alarm = true, f->alarm = f->alarm || v != 0; break;
    case SLOT_FAULT: f->has_fault = true, f->fault = f->fault || v != 0; break;
    case SLOT_NONE: break;
    }
}

/* One feature: its label and every readable subfeature that has a slot. */
static Pvescope__SensorFeature *read_feature(const sensors_chip_name *chip, const sensors_feature *feat,
                                             struct arena *a, struct chip_reads *cr, struct walk_faults *wf)
{
    Pvescope__SensorFeature *f = arena_alloc(a, sizeof *f);
    pvescope__sensor_feature__init(f);
    f->name = arena_strdup(a, feat->name);
    f->has_kind = true;
    f->kind = sensors_kind_of(feat->type);
    char *label = sensors_get_label(chip, feat);
    if (label)
        f->label = arena_strdup(a, label);
    free(label);
    bool input_primary = false;
    int nr = 0;
    for (const sensors_subfeature *sf; (sf = sensors_get_all_subfeatures(chip, feat, &nr)) != NULL;) {
        enum sensor_slot slot = sensors_slot_of(sf->type);
        if (slot == SLOT_NONE || !(sf->flags & SENSORS_MODE_R))
            continue;
        double v;
        cr->tried++;
        int rc = sensors_get_value(chip, sf->number, &v);
        if (rc == 0) {
            cr->ok++;
            put_value(f, slot, v, &input_primary);
            continue;
        }
        f->read_errors++;
        wf->read_errors++;
        wf->device_gone = wf->device_gone || rc == -SENSORS_ERR_KERNEL;
        if (!cr->first_error)
            cr->first_error = rc;
    }
    f->has_read_errors = true;
    return f;
}

static size_t count_features(const sensors_chip_name *chip)
{
    size_t n = 0;
    int nr = 0;
    for (const sensors_feature *feat; (feat = sensors_get_features(chip, &nr)) != NULL;)
        n += sensors_kind_of(feat->type) != PVESCOPE__SENSOR_KIND__SENSOR_OTHER;
    return n;
}

/* The chip's name as `sensors` prints it. */
static char *chip_name(const sensors_chip_name *chip, struct arena *a)
{
    char name[128];
    if (sensors_snprintf_chip_name(name, sizeof name, chip) < 0)
        snprintf(name, sizeof name, "%s-unknown", chip->prefix ? chip->prefix : "chip");
    return arena_strdup(a, name);
}

static Pvescope__SensorChip *read_chip(const sensors_chip_name *chip, struct arena *a, struct walk_faults *wf)
{
    Pvescope__SensorChip *c = arena_alloc(a, sizeof *c);
    pvescope__sensor_chip__init(c);
    c->name = chip_name(chip, a);
    const char *adapter = sensors_get_adapter_name(&chip->bus);
    if (adapter)
        c->adapter = arena_strdup(a, adapter);
    c->features = arena_alloc(a, count_features(chip) * sizeof *c->features);
    struct chip_reads cr = {0, 0, 0};
    int nr = 0;
    for (const sensors_feature *feat; (feat = sensors_get_features(chip, &nr)) != NULL;)
        if (sensors_kind_of(feat->type) != PVESCOPE__SENSOR_KIND__SENSOR_OTHER)
            c->features[c->n_features++] = read_feature(chip, feat, a, &cr, wf);
    if (cr.tried > 0 && cr.ok == 0) {
        c->error = arena_strdup(a, sensors_strerror(cr.first_error));
        if (wf->bad_chips++ == 0) {
            snprintf(wf->first_bad_chip, sizeof wf->first_bad_chip, "%s", c->name);
            wf->first_bad_error = cr.first_error;
        }
    }
    return c;
}

static void read_all_chips(Pvescope__Report *r, struct arena *a, struct walk_faults *wf)
{
    size_t n = 0;
    int nr = 0;
    while (sensors_get_detected_chips(NULL, &nr))
        n++;
    r->sensor_chips = arena_alloc(a, n * sizeof *r->sensor_chips);
    r->n_sensor_chips = 0;
    nr = 0;
    for (const sensors_chip_name *chip; (chip = sensors_get_detected_chips(NULL, &nr)) != NULL;)
        r->sensor_chips[r->n_sensor_chips++] = read_chip(chip, a, wf);
}

/* The cycle's warning, if any: degraded configuration, unreadable chips,
 * failed readings. Stable wording, so report.c logs a persisting fault once. */
static void describe_faults(const struct sensors_state *st, const struct walk_faults *wf,
                            size_t n_chips, struct collector_ctx *ctx)
{
    struct buf msg = BUF_INIT;
    if (st->degraded)
        buf_printf(&msg, "system sensors configuration unusable (%s), running without it: raw values, "
                   "driver labels; ", st->config_error);
    else if (st->config_error[0])
        buf_printf(&msg, "sensors configuration error, statement skipped (%s); ", st->config_error);
    if (wf->bad_chips)
        buf_printf(&msg, "%u of %zu chips unreadable (%s: %s); ", wf->bad_chips, n_chips,
                   wf->first_bad_chip, sensors_strerror(wf->first_bad_error));
    if (wf->read_errors)
        buf_printf(&msg, "%u readings failed; ", wf->read_errors);
    if (msg.len > 2)
        snprintf(ctx->err, sizeof ctx->err, "%.*s", (int)(msg.len - 2), msg.data);
    buf_free(&msg);
}

/* ---- collector ------------------------------------------------------------------ */

static int sensors_collector_init(void **state, struct collector_ctx *ctx)
{
    if (library_owned)
        return collector_fail(ctx, "libsensors is already in use by another sensors collector");
    struct sensors_state *st = calloc(1, sizeof *st);
    if (!st)
        return collector_fail(ctx, "out of memory");
    library_owned = true;
    sensors_fatal_error = on_fatal_error;
    sensors_parse_error_wfn = on_parse_error;
    *state = st;
    return 0;
}

static void sensors_collector_fini(void *state)
{
    unload(state);
    free(state);
    library_owned = false;
}

static int sensors_collect(void *state, struct collector_ctx *ctx, Pvescope__Report *r)
{
    struct sensors_state *st = state;
    if (load_due(st, ctx->now_monotonic))
        load(st, ctx->now_monotonic);
    if (!st->loaded)
        return collector_fail(ctx, "sensors_init: %s", sensors_strerror(st->load_error));
    struct walk_faults wf;
    memset(&wf, 0, sizeof wf);
    read_all_chips(r, ctx->arena, &wf);
    st->reload = wf.device_gone;
    describe_faults(st, &wf, r->n_sensor_chips, ctx);
    return 0;
}

const struct collector collector_sensors = {
    .name = "sensors",
    .help = "Temperatures, fans, voltages, power, current, energy, humidity of every lm-sensors chip (libsensors)",
    .default_enabled = true,
    .init = sensors_collector_init,
    .collect = sensors_collect,
    .fini = sensors_collector_fini,
};
