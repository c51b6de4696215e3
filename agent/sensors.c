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
 * libsensors decides what is read; a plan makes reading it cheap.
 * sensors_get_value costs an fopen/fscanf/fclose plus a scan of the
 * configuration's chips per value (~4 us; a kept fd and pread ~0.5 us), so at
 * every (re)load the chips, features, subfeatures, labels (config `label`,
 * driver *_label), `ignore` statements and chip names are resolved once into
 * a plan: per collected subfeature its libsensors number, its file
 * <chip path>/<subfeature name> kept open, the divisor libsensors applies
 * (sensors_scale_of), and whether the fast path may read it.
 *   Fast path, per cycle: pread(fd, 0), strict integer parse, divide by the
 * divisor: the very double libsensors computes (it divides the fscanf'd
 * value by the same integer) whenever no `compute` applies.
 *   Which subfeatures that holds for: libsensors applies a `compute`
 * expression only to subfeatures flagged SENSORS_COMPUTE_MAPPING (readings
 * and limits, not alarms or faults) and does not expose the expressions. So
 * at load each subfeature is probed: raw read, sensors_get_value, raw read
 * again (a value that moved meanwhile is retried, then left undecided).
 * libsensors' value bit-identical to raw/divisor => no compute for it; a
 * difference => a compute (or a scaling we do not know): slow path, and for
 * a mapped subfeature its whole feature, since one expression covers all its
 * mapped subfeatures. A mapped raw 0 proves nothing alone (`@*2` maps 0 to
 * 0): it takes the fast path only when a mapped subfeature of the same
 * feature was probed plain at a nonzero value (then an affine expression,
 * which is what sensors.conf files use, is the identity; typically a 0
 * `min` limit next to a live input), else the slow path until a later
 * reload verifies it. An expression that happens to be the identity at the
 * probed values cannot be told from none; the plan is rebuilt and
 * re-probed at every reload (SENSORS_RELOAD_S), at other values.
 * An attribute that cannot be opened or parsed at load, or beyond the fd
 * bound (SENSORS_MAX_KEPT_FDS), is read by sensors_get_value every cycle.
 *
 * One broken hwmon device costs one chip, not the collector: a subfeature
 * that cannot be read is counted in its feature's read_errors and skipped;
 * a chip none of whose readings could be read gets SensorChip.error (its
 * features stay listed with their read_errors, without values). Either makes
 * the cycle a warning (message in ctx->err). A fast read that fails (pread
 * error, unparsable text) is redone by sensors_get_value in the same cycle,
 * so errors and their messages are libsensors' own.
 *
 * libsensors caches the chip list at init, so the library is reloaded
 * (sensors_cleanup + sensors_init, kept fds closed, plan rebuilt) every
 * SENSORS_RELOAD_S seconds to see hotplugged chips
 * (SENSORS_RELOAD_BAD_CONFIG_S while the configuration has errors, see
 * sensors.h), and on the next cycle after a read reported
 * -SENSORS_ERR_KERNEL or a kept fd said ENODEV/ENOENT/ENXIO (a device went
 * away: kernfs fails reads of a removed attribute with ENODEV).
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

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

double sensors_scale_of(int t)
{
    /* readings and limits ("first class": bit 0x80 clear) of a kind */
    switch (t & 0xFF80) {
    case SENSORS_SUBFEATURE_IN_INPUT: case SENSORS_SUBFEATURE_TEMP_INPUT:
    case SENSORS_SUBFEATURE_CURR_INPUT: case SENSORS_SUBFEATURE_HUMIDITY_INPUT:
        return 1000;
    case SENSORS_SUBFEATURE_FAN_INPUT:
        return 1;
    case SENSORS_SUBFEATURE_POWER_AVERAGE: case SENSORS_SUBFEATURE_ENERGY_INPUT:
        return 1000000;
    }
    switch (t) {
    case SENSORS_SUBFEATURE_POWER_AVERAGE_INTERVAL: case SENSORS_SUBFEATURE_VID:
    case SENSORS_SUBFEATURE_TEMP_OFFSET:
        return 1000;
    default:
        return 1;
    }
}

const char *sensors_parse_raw(const char *text, size_t len, long long *out)
{
    if (len > 0 && text[len - 1] == '\n')
        len--;
    size_t i = 0;
    bool negative = len > 0 && text[0] == '-';
    i += negative;
    if (i == len)
        return "no digits";
    if (len - i > 18)
        return "more than 18 digits";
    long long v = 0;
    for (; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return "not a decimal integer";
        v = v * 10 + (text[i] - '0');
    }
    *out = negative ? -v : v;
    return NULL;
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

/* ---- the read plan -------------------------------------------------------------- */

enum probe {
    PROBE_UNSURE,     /* not probed: unreadable, unparsable, still moving, no fd */
    PROBE_PLAIN,      /* libsensors returns exactly raw / scale, raw != 0 or no compute possible */
    PROBE_PLAIN_ZERO, /* a mapped raw 0 that libsensors returns as 0: proves nothing alone */
    PROBE_COMPUTED,   /* libsensors returns something else: a compute (or another scaling) */
};

/* One collected subfeature (readable, with a slot). */
struct plan_sub {
    int number;                /* libsensors' subfeature number, for the slow path */
    int fd;                    /* <chip path>/<name> kept open for the fast path, or -1 */
    double scale;              /* libsensors' divisor for the raw value */
    enum sensor_slot slot;
    bool mapped;               /* SENSORS_COMPUTE_MAPPING: a `compute` may apply */
    enum probe probe;          /* what the load's probe found */
    bool fast;                 /* read by pread + parse + scale, not sensors_get_value */
    bool cached;               /* a limit read successfully since the load: value holds it */
    double value;
};

struct plan_feature {
    const char *name;          /* libsensors' string */
    char *label;               /* from sensors_get_label (malloc'd), or NULL */
    Pvescope__SensorKind kind;
    size_t first_sub, n_subs;
    bool alarm;                /* the alarm state of the previous cycle */
};

struct plan_chip {
    const sensors_chip_name *chip;   /* libsensors', for the slow path */
    char *name;                      /* as `sensors` prints it (malloc'd) */
    const char *adapter;             /* libsensors' string, or NULL */
    size_t first_feature, n_features;
};

/* What every cycle reads, resolved from libsensors at load. Points into
 * libsensors' chip list: freed before every sensors_cleanup. */
struct plan {
    struct plan_chip *chips;
    struct plan_feature *features;
    struct plan_sub *subs;
    size_t n_chips, n_features, n_subs;
    unsigned n_fast, n_fds;
};

static bool collected_feature(const sensors_feature *feat)
{
    return sensors_kind_of(feat->type) != PVESCOPE__SENSOR_KIND__SENSOR_OTHER;
}

static bool collected_sub(const sensors_subfeature *sf)
{
    return sensors_slot_of(sf->type) != SLOT_NONE && (sf->flags & SENSORS_MODE_R);
}

static void plan_free(struct plan *p)
{
    for (size_t i = 0; i < p->n_subs; i++)
        if (p->subs[i].fd >= 0)
            close(p->subs[i].fd);
    for (size_t i = 0; i < p->n_features; i++)
        free(p->features[i].label);
    for (size_t i = 0; i < p->n_chips; i++)
        free(p->chips[i].name);
    free(p->subs);
    free(p->features);
    free(p->chips);
    memset(p, 0, sizeof *p);
}

/* Reads a kept attribute fd from offset 0 (sysfs regenerates the text on
 * every read at 0) and parses it. Returns 0, or -1; *gone is set when the
 * error says the device was removed. */
static int read_raw(int fd, long long *raw, bool *gone)
{
    char text[32];
    ssize_t n = pread(fd, text, sizeof text, 0);
    if (n < 0) {
        *gone = *gone || errno == ENODEV || errno == ENOENT || errno == ENXIO;
        return -1;
    }
    return sensors_parse_raw(text, (size_t)n, raw) ? -1 : 0;
}


/* Whether sensors_get_value of sf is the plain scaled raw value (see the
 * file header). The raw value is read before and after libsensors' read so
 * that both saw the same value; a value that keeps moving stays unsure. */
static enum probe probe_sub(const sensors_chip_name *chip, const sensors_subfeature *sf, int fd, double scale)
{
    bool gone = false;
    for (int attempt = 0; attempt < 3; attempt++) {
        long long before, after;
        double lib;
        if (read_raw(fd, &before, &gone) != 0 || sensors_get_value(chip, sf->number, &lib) != 0 ||
            read_raw(fd, &after, &gone) != 0)
            return PROBE_UNSURE;
        if (before != after)
            continue;
        if (lib != (double)before / scale)
            return PROBE_COMPUTED;
        return (sf->flags & SENSORS_COMPUTE_MAPPING) && before == 0 ? PROBE_PLAIN_ZERO : PROBE_PLAIN;
    }
    return PROBE_UNSURE;
}

/* Opens <chip path>/<subfeature name> for the fast path, or returns -1. */
static int open_attr(const sensors_chip_name *chip, const sensors_subfeature *sf)
{
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", chip->path, sf->name);
    if (n < 0 || (size_t)n >= sizeof path)
        return -1;
    return open(path, O_RDONLY | O_CLOEXEC);
}

/* Plans one subfeature: kept fd if the budget allows, probed. */
static void plan_sub(struct plan *p, const sensors_chip_name *chip, const sensors_subfeature *sf,
                     unsigned budget)
{
    struct plan_sub *s = &p->subs[p->n_subs++];
    s->number = sf->number;
    s->scale = sensors_scale_of(sf->type);
    s->slot = sensors_slot_of(sf->type);
    s->mapped = sf->flags & SENSORS_COMPUTE_MAPPING;
    s->fd = p->n_fds < budget ? open_attr(chip, sf) : -1;
    s->probe = PROBE_UNSURE;
    s->fast = false;
    if (s->fd < 0)
        return;
    p->n_fds++;
    s->probe = probe_sub(chip, sf, s->fd, s->scale);
}

/* Plans one feature: label, and its collected subfeatures. One `compute`
 * expression covers every mapped subfeature of a feature, so a difference
 * seen on one sends all of them to the slow path, and a mapped 0 is
 * trusted only next to a mapped nonzero value probed plain (f(0) = 0 and
 * f(x) = x for an x != 0 make an affine expression, as sensors.conf's are,
 * the identity). Fds the fast path does not use are closed. */
static void plan_feature(struct plan *p, const sensors_chip_name *chip, const sensors_feature *feat,
                         unsigned budget)
{
    struct plan_feature *pf = &p->features[p->n_features++];
    pf->name = feat->name;
    pf->kind = sensors_kind_of(feat->type);
    pf->label = sensors_get_label(chip, feat);
    pf->first_sub = p->n_subs;
    int nr = 0;
    for (const sensors_subfeature *sf; (sf = sensors_get_all_subfeatures(chip, feat, &nr)) != NULL;)
        if (collected_sub(sf))
            plan_sub(p, chip, sf, budget);
    pf->n_subs = p->n_subs - pf->first_sub;
    bool computed = false, plain_nonzero = false;
    for (size_t i = pf->first_sub; i < p->n_subs; i++) {
        computed = computed || (p->subs[i].mapped && p->subs[i].probe == PROBE_COMPUTED);
        plain_nonzero = plain_nonzero || (p->subs[i].mapped && p->subs[i].probe == PROBE_PLAIN);
    }
    for (size_t i = pf->first_sub; i < p->n_subs; i++) {
        struct plan_sub *s = &p->subs[i];
        if (!s->mapped)
            s->fast = s->probe == PROBE_PLAIN;
        else if (!computed)
            s->fast = s->probe == PROBE_PLAIN || (s->probe == PROBE_PLAIN_ZERO && plain_nonzero);
        if (!s->fast && s->fd >= 0) {
            close(s->fd);
            s->fd = -1;
            p->n_fds--;
        }
        p->n_fast += s->fast;
    }
}

/* Plans one chip. Returns false when out of memory. */
static bool plan_chip(struct plan *p, const sensors_chip_name *chip, unsigned budget)
{
    struct plan_chip *pc = &p->chips[p->n_chips++];
    pc->chip = chip;
    char name[128];
    if (sensors_snprintf_chip_name(name, sizeof name, chip) < 0)
        snprintf(name, sizeof name, "%s-unknown", chip->prefix ? chip->prefix : "chip");
    pc->name = strdup(name);
    pc->adapter = sensors_get_adapter_name(&chip->bus);
    pc->first_feature = p->n_features;
    int nr = 0;
    for (const sensors_feature *feat; (feat = sensors_get_features(chip, &nr)) != NULL;)
        if (collected_feature(feat))
            plan_feature(p, chip, feat, budget);
    pc->n_features = p->n_features - pc->first_feature;
    return pc->name != NULL;
}

/* Sizes the plan: collected chips, features and subfeatures. */
static void plan_count(size_t *chips, size_t *features, size_t *subs)
{
    *chips = *features = *subs = 0;
    int cnr = 0;
    for (const sensors_chip_name *chip; (chip = sensors_get_detected_chips(NULL, &cnr)) != NULL;) {
        (*chips)++;
        int fnr = 0;
        for (const sensors_feature *feat; (feat = sensors_get_features(chip, &fnr)) != NULL;) {
            if (!collected_feature(feat))
                continue;
            (*features)++;
            int snr = 0;
            for (const sensors_subfeature *sf; (sf = sensors_get_all_subfeatures(chip, feat, &snr)) != NULL;)
                *subs += collected_sub(sf);
        }
    }
}

/* Builds the plan from the loaded library. Returns false when out of
 * memory (p is then empty). */
static bool plan_build(struct plan *p)
{
    size_t chips, features, subs;
    plan_count(&chips, &features, &subs);
    memset(p, 0, sizeof *p);
    p->chips = calloc(chips ? chips : 1, sizeof *p->chips);
    p->features = calloc(features ? features : 1, sizeof *p->features);
    p->subs = calloc(subs ? subs : 1, sizeof *p->subs);
    bool ok = p->chips && p->features && p->subs;
    /* SENSORS_MAX_KEPT_FDS, and at most a quarter of the soft limit */
    unsigned budget = fd_share(4, SENSORS_MAX_KEPT_FDS, SENSORS_MAX_KEPT_FDS);
    int nr = 0;
    for (const sensors_chip_name *chip; ok && (chip = sensors_get_detected_chips(NULL, &nr)) != NULL;)
        ok = plan_chip(p, chip, budget);
    if (!ok)
        plan_free(p);
    return ok;
}

/* ---- loading ---------------------------------------------------------------- */

struct sensors_state {
    bool loaded;               /* libsensors holds a chip list, and plan is built */
    bool reload;               /* a device vanished: reload before the next walk */
    bool degraded;             /* loaded without the system configuration */
    bool plan_failed;          /* the last load ran out of memory building the plan */
    double load_attempt_at;    /* ctx->now_monotonic of the last sensors_init */
    int load_error;            /* the last failed sensors_init's result, or 0 */
    char config_error[sizeof load_parse_error];   /* first configuration error, or "" */
    struct plan plan;
};

static void unload(struct sensors_state *st)
{
    plan_free(&st->plan);
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

/* (Re)loads the library's chip list and the read plan. Returns 0, a
 * negative SENSORS_ERR_*, or 1 when the plan could not be allocated. */
static int load(struct sensors_state *st, double now)
{
    unload(st);
    st->load_attempt_at = now;
    st->reload = false;
    st->degraded = false;
    st->plan_failed = false;
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
    st->load_error = rc;
    if (rc != 0)
        return rc;
    st->loaded = true;
    if (!plan_build(&st->plan)) {
        unload(st);
        st->plan_failed = true;
        return 1;
    }
    return 0;
}

/* Whether this cycle must (re)load: never loaded, a device vanished, or the
 * periodic rescan for hotplugged chips is due. A failed load is retried at
 * the rescan pace, not every cycle. */
static bool load_due(const struct sensors_state *st, double now)
{
    double every = st->config_error[0] ? SENSORS_RELOAD_BAD_CONFIG_S : SENSORS_RELOAD_S;
    bool rescan = now - st->load_attempt_at >= every;
    if (!st->loaded)
        return (st->load_error == 0 && !st->plan_failed) || rescan;
    return st->reload || rescan;
}

void sensors_plan_stats(const void *state, struct sensors_plan_stats *out)
{
    const struct sensors_state *st = state;
    memset(out, 0, sizeof *out);
    if (!st || !st->loaded)
        return;
    out->subfeatures = (unsigned)st->plan.n_subs;
    out->fast = st->plan.n_fast;
    out->kept_fds = st->plan.n_fds;
}

/* ---- walking the plan ----------------------------------------------------------- */

/* What went wrong in one walk, for the collector's warning. */
struct walk_faults {
    unsigned read_errors;      /* subfeatures that could not be read, all chips */
    unsigned bad_chips;        /* chips none of whose readings could be read */
    char first_bad_chip[128];
    int first_bad_error;
    bool device_gone;          /* a read said -SENSORS_ERR_KERNEL, or a kept fd ENODEV */
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

/* One subfeature's value: the fast path when planned, libsensors otherwise
 * and whenever the fast read fails (its error is then libsensors' own).
 * Returns 0 or a negative SENSORS_ERR_*. */
static int read_sub(const struct plan_chip *pc, const struct plan_sub *s, double *v, bool *gone)
{
    long long raw;
    if (s->fast && read_raw(s->fd, &raw, gone) == 0) {
        *v = (double)raw / s->scale;
        return 0;
    }
    return sensors_get_value(pc->chip, s->number, v);
}

static bool is_limit(enum sensor_slot slot)
{
    return slot == SLOT_MIN || slot == SLOT_MAX || slot == SLOT_CRIT || slot == SLOT_LCRIT;
}

/* Reads one subfeature into f, counting the attempt and any error. A limit
 * read successfully is kept in the plan (see read_feature). */
static void read_into(const struct plan_chip *pc, struct plan_sub *s, Pvescope__SensorFeature *f,
                      bool *input_primary, struct chip_reads *cr, struct walk_faults *wf)
{
    double v;
    bool gone = false;
    cr->tried++;
    int rc = read_sub(pc, s, &v, &gone);
    wf->device_gone = wf->device_gone || gone || rc == -SENSORS_ERR_KERNEL;
    if (rc == 0) {
        cr->ok++;
        put_value(f, s->slot, v, input_primary);
        if (is_limit(s->slot))
            s->cached = true, s->value = v;
        return;
    }
    f->read_errors++;
    wf->read_errors++;
    if (!cr->first_error)
        cr->first_error = rc;
}

/* One feature: its label and every planned subfeature's value.
 *
 * Limits (min, max, crit, lcrit) are configuration, not measurements: they
 * are read at the first cycle after each load (every SENSORS_RELOAD_S) and
 * again whenever the feature's alarm changes state, and served from the
 * plan in between. That halves the reads of a typical chip, and the
 * moment a limit matters most (the alarm it drives flips) it is fresh; a
 * limit changed without an alarm change shows at the next reload. Inputs,
 * alarms and faults are read every cycle. A limit whose read failed is
 * retried every cycle, so read_errors keeps its meaning. */
static Pvescope__SensorFeature *read_feature(struct plan *p, const struct plan_chip *pc,
                                             struct plan_feature *pf, struct arena *a,
                                             struct chip_reads *cr, struct walk_faults *wf)
{
    Pvescope__SensorFeature *f = arena_alloc(a, sizeof *f);
    pvescope__sensor_feature__init(f);
    f->name = arena_strdup(a, pf->name);
    f->has_kind = true;
    f->kind = pf->kind;
    if (pf->label)
        f->label = arena_strdup(a, pf->label);
    bool input_primary = false;
    struct plan_sub *subs = &p->subs[pf->first_sub];
    for (size_t i = 0; i < pf->n_subs; i++)
        if (!is_limit(subs[i].slot))
            read_into(pc, &subs[i], f, &input_primary, cr, wf);
    bool alarm_changed = f->has_alarm && f->alarm != pf->alarm;
    pf->alarm = f->has_alarm && f->alarm;
    for (size_t i = 0; i < pf->n_subs; i++) {
        struct plan_sub *s = &subs[i];
        if (!is_limit(s->slot))
            continue;
        if (s->cached && !alarm_changed)
            put_value(f, s->slot, s->value, &input_primary);
        else
            read_into(pc, s, f, &input_primary, cr, wf);
    }
    f->has_read_errors = true;
    return f;
}

static Pvescope__SensorChip *read_chip(struct plan *p, const struct plan_chip *pc, struct arena *a,
                                       struct walk_faults *wf)
{
    Pvescope__SensorChip *c = arena_alloc(a, sizeof *c);
    pvescope__sensor_chip__init(c);
    c->name = arena_strdup(a, pc->name);
    if (pc->adapter)
        c->adapter = arena_strdup(a, pc->adapter);
    c->features = arena_alloc(a, pc->n_features * sizeof *c->features);
    struct chip_reads cr = {0, 0, 0};
    for (size_t i = 0; i < pc->n_features; i++)
        c->features[c->n_features++] = read_feature(p, pc, &p->features[pc->first_feature + i], a, &cr, wf);
    if (cr.tried > 0 && cr.ok == 0) {
        c->error = arena_strdup(a, sensors_strerror(cr.first_error));
        if (wf->bad_chips++ == 0) {
            snprintf(wf->first_bad_chip, sizeof wf->first_bad_chip, "%s", c->name);
            wf->first_bad_error = cr.first_error;
        }
    }
    return c;
}

static void read_all_chips(struct plan *p, Pvescope__Report *r, struct arena *a, struct walk_faults *wf)
{
    r->sensor_chips = arena_alloc(a, p->n_chips * sizeof *r->sensor_chips);
    r->n_sensor_chips = 0;
    for (size_t i = 0; i < p->n_chips; i++)
        r->sensor_chips[r->n_sensor_chips++] = read_chip(p, &p->chips[i], a, wf);
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
    if (!st->loaded && st->plan_failed)
        return collector_fail(ctx, "out of memory building the sensors read plan");
    if (!st->loaded)
        return collector_fail(ctx, "sensors_init: %s", sensors_strerror(st->load_error));
    struct walk_faults wf;
    memset(&wf, 0, sizeof wf);
    read_all_chips(&st->plan, r, ctx->arena, &wf);
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
