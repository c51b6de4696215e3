/* test_sensors_hwmon.c — the sensors collector with the real libsensors,
 * on the fake hwmon tree that sensors_hwmon.sh mounts over /sys/class in a
 * private mount namespace (run it only through that script).
 *
 * The tree (see the script): coretemp (two temperatures), pvetest (every
 * kind, limits, alarms, faults, power average fallback; relabelled, scaled
 * and partly ignored by the test configuration), broken (one non-numeric
 * attribute), eio and gone. This binary bind-mounts, inside the namespace,
 * /proc/<self>/mem over eio's attributes (a read at offset 0 fails with
 * EIO) and the mem file of an exited process over gone's (open fails: what a
 * removed device gives), swaps /etc/sensors3.conf, adds /etc/sensors.d
 * files, and hotplugs chips. Every report is also compared with what
 * `sensors -u` prints in the same namespace. The read plan's counters
 * (sensors_plan_stats) show which readings take the fast path (kept fd,
 * pread) and which go through sensors_get_value. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sensors/sensors.h>

#include "proc_test_util.h"
#include "sensors.h"

#define HWMON "/sys/class/hwmon/"

static const char *fake;   /* the tree's directory, from PVESCOPE_FAKE_HWMON */

/* ---- namespace plumbing --------------------------------------------------- */

static void must(bool ok, const char *what)
{
    if (!ok)
        fail_msg("%s: %s", what, strerror(errno));
}

static void bind(const char *src, const char *dst)
{
    char what[1100];
    snprintf(what, sizeof what, "bind %s on %s", src, dst);
    must(mount(src, dst, NULL, MS_BIND, NULL) == 0, what);
}

static void unbind(const char *dst)
{
    char what[600];
    snprintf(what, sizeof what, "umount %s", dst);
    must(umount2(dst, MNT_DETACH) == 0, what);
}

/* Replaces the mounted /etc/sensors3.conf with <fake>/etc/<name>. */
static void use_config(const char *name)
{
    char src[512];
    snprintf(src, sizeof src, "%s/etc/%s", fake, name);
    unbind("/etc/sensors3.conf");
    bind(src, "/etc/sensors3.conf");
}

static const char *const eio_attrs[] = {HWMON "hwmon3/temp1_input", HWMON "hwmon3/temp1_max"};
static const char *const gone_attrs[] = {HWMON "hwmon4/temp1_input", HWMON "hwmon4/fan1_input"};

/* eio: reads fail with EIO (this process's memory at address 0). */
static void break_eio(void)
{
    char self[64];
    snprintf(self, sizeof self, "/proc/%d/mem", (int)getpid());
    for (size_t i = 0; i < 2; i++)
        bind(self, eio_attrs[i]);
}

/* gone: opens fail, like the attributes of a device that was removed. */
static void break_gone(void)
{
    pid_t child = fork();
    must(child >= 0, "fork");
    if (child == 0) {
        pause();
        _exit(0);
    }
    char mem[64];
    snprintf(mem, sizeof mem, "/proc/%d/mem", (int)child);
    for (size_t i = 0; i < 2; i++)
        bind(mem, gone_attrs[i]);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
}

static void restore(const char *const *attrs)
{
    for (size_t i = 0; i < 2; i++)
        unbind(attrs[i]);
}

/* Adds hwmon device dir with a name and one temperature. */
static void hotplug(const char *dir, const char *name, const char *temp)
{
    char path[256];
    snprintf(path, sizeof path, HWMON "%s", dir);
    must(mkdir(path, 0755) == 0 || errno == EEXIST, path);
    const char *files[2][2] = {{"name", name}, {"temp1_input", temp}};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, HWMON "%s/%s", dir, files[i][0]);
        FILE *f = fopen(path, "w");
        must(f != NULL, path);
        fprintf(f, "%s\n", files[i][1]);
        fclose(f);
    }
}

static void unplug(const char *dir)
{
    char path[256];
    const char *files[] = {"name", "temp1_input", ""};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, HWMON "%s/%s", dir, files[i]);
        if (files[i][0])
            unlink(path);
        else
            rmdir(path);
    }
}

/* Writes text into an attribute of the tree (same file: kept fds see it). */
static void write_attr(const char *rel, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, HWMON "%s", rel);
    FILE *f = fopen(path, "w");
    must(f != NULL, path);
    fprintf(f, "%s\n", text);
    must(fclose(f) == 0, path);
}

/* Adds /etc/sensors.d/<name> (the tree's sensors.d is mounted there). */
static void add_sensors_d(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "/etc/sensors.d/%s", name);
    FILE *f = fopen(path, "w");
    must(f != NULL, path);
    fputs(text, f);
    must(fclose(f) == 0, path);
}

static size_t open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    must(d != NULL, "opendir /proc/self/fd");
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1;   /* the directory's own fd */
}

/* ---- report lookups --------------------------------------------------------- */

static const Pvescope__SensorChip *chip_or_null(const Pvescope__Report *r, const char *name)
{
    for (size_t i = 0; i < r->n_sensor_chips; i++)
        if (strcmp(r->sensor_chips[i]->name, name) == 0)
            return r->sensor_chips[i];
    return NULL;
}

static const Pvescope__SensorChip *chip(const Pvescope__Report *r, const char *name)
{
    const Pvescope__SensorChip *c = chip_or_null(r, name);
    if (!c)
        fail_msg("chip %s not reported", name);
    return c;
}

static const Pvescope__SensorFeature *feature_or_null(const Pvescope__SensorChip *c, const char *name)
{
    for (size_t i = 0; i < c->n_features; i++)
        if (strcmp(c->features[i]->name, name) == 0)
            return c->features[i];
    return NULL;
}

static const Pvescope__SensorFeature *feature(const Pvescope__SensorChip *c, const char *name)
{
    const Pvescope__SensorFeature *f = feature_or_null(c, name);
    if (!f)
        fail_msg("%s: feature %s not reported", c->name, name);
    return f;
}

#define NONE NAN
/* Expected values of one feature; NONE = must be absent. alarm/fault: -1 absent. */
struct want {
    const char *name, *label;
    Pvescope__SensorKind kind;
    double input, min, max, crit, lcrit;
    int alarm, fault;
    unsigned read_errors;
};

static void check_value(const char *chip_name, const char *what, bool has, double got, double want)
{
    if (isnan(want)) {
        if (has)
            fail_msg("%s %s: unexpected value %g", chip_name, what, got);
        return;
    }
    if (!has)
        fail_msg("%s %s: missing, expected %.17g", chip_name, what, want);
    if (got != want)
        fail_msg("%s %s: %.17g, expected %.17g", chip_name, what, got, want);
}

static void check_flag(const char *chip_name, const char *what, bool has, bool got, int want)
{
    if (want < 0 ? has : (!has || (int)got != want))
        fail_msg("%s %s: has=%d value=%d, expected %d", chip_name, what, has, got, want);
}

static void check_feature(const Pvescope__SensorChip *c, const struct want *w)
{
    const Pvescope__SensorFeature *f = feature(c, w->name);
    char id[128];
    snprintf(id, sizeof id, "%s/%s", c->name, w->name);
    assert_non_null(f->label);
    assert_string_equal(f->label, w->label);
    assert_true(f->has_kind);
    assert_int_equal(f->kind, w->kind);
    check_value(id, "input", f->has_input, f->input, w->input);
    check_value(id, "min", f->has_min, f->min, w->min);
    check_value(id, "max", f->has_max, f->max, w->max);
    check_value(id, "crit", f->has_crit, f->crit, w->crit);
    check_value(id, "lcrit", f->has_lcrit, f->lcrit, w->lcrit);
    check_flag(id, "alarm", f->has_alarm, f->alarm, w->alarm);
    check_flag(id, "fault", f->has_fault, f->fault, w->fault);
    assert_true(f->has_read_errors);
    if (f->read_errors != w->read_errors)
        fail_msg("%s: read_errors %u, expected %u", id, f->read_errors, w->read_errors);
}

/* ---- `sensors -u` agreement --------------------------------------------------- */

/* One "  temp1_input: 45.000" line of `sensors -u`, with its chip and label. */
struct raw_line {
    char chip[96], label[96], sub[96];
    double v;
};

static size_t run_sensors_u(struct raw_line *out, size_t cap, char chips[][96], size_t *n_chips)
{
    FILE *p = popen("sensors -u 2>/dev/null", "r");
    must(p != NULL, "popen sensors -u");
    char line[512], cur_chip[96] = "", cur_label[96] = "";
    size_t n = 0;
    bool expect_chip = true;
    *n_chips = 0;
    while (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '\0') {
            expect_chip = true;
        } else if (expect_chip) {
            snprintf(cur_chip, sizeof cur_chip, "%.95s", line);
            snprintf(chips[(*n_chips)++], 96, "%.95s", line);
            expect_chip = false;
        } else if (strncmp(line, "Adapter: ", 9) == 0) {
            continue;
        } else if (line[0] != ' ') {
            size_t l = strlen(line);
            assert_true(l > 0 && line[l - 1] == ':');
            snprintf(cur_label, sizeof cur_label, "%.*s", (int)(l - 1), line);
        } else {
            assert_true(n < cap);
            char *colon = strrchr(line, ':');
            assert_non_null(colon);
            *colon = '\0';
            snprintf(out[n].chip, sizeof out[n].chip, "%s", cur_chip);
            snprintf(out[n].label, sizeof out[n].label, "%s", cur_label);
            snprintf(out[n].sub, sizeof out[n].sub, "%s", line + strspn(line, " "));
            out[n].v = strtod(colon + 1, NULL);
            n++;
        }
    }
    assert_int_equal(pclose(p), 0);
    return n;
}

/* Whether a sensors -u line for feature feat with suffix exists. */
static bool has_raw(const struct raw_line *raw, size_t n, const char *chip_name, const char *feat,
                    const char *suffix)
{
    char sub[200];
    snprintf(sub, sizeof sub, "%s_%s", feat, suffix);
    for (size_t i = 0; i < n; i++)
        if (strcmp(raw[i].chip, chip_name) == 0 && strcmp(raw[i].sub, sub) == 0)
            return true;
    return false;
}

static bool collected_kind(const char *feat)
{
    static const char *const prefixes[] = {"in", "fan", "temp", "power", "energy", "curr", "humidity"};
    size_t l = strcspn(feat, "0123456789");
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strlen(prefixes[i]) == l && strncmp(feat, prefixes[i], l) == 0)
            return true;
    return false;
}

static void near(const struct raw_line *l, bool has, double got)
{
    if (!has || fabs(got - l->v) > 0.0005)
        fail_msg("%s %s: sensors -u says %.3f, report %s %.6f", l->chip, l->sub, l->v,
                 has ? "has" : "lacks", got);
}

/* Every value `sensors -u` prints for a collected kind is in the report with
 * the same value (to its 3 decimals) and label; every value in the report is
 * one `sensors -u` prints; both list the same chips. */
static void assert_agrees_with_sensors(const Pvescope__Report *r)
{
    static struct raw_line raw[512];
    char chips[32][96];
    size_t n_chips;
    size_t n = run_sensors_u(raw, 512, chips, &n_chips);
    assert_int_equal(n_chips, r->n_sensor_chips);
    for (size_t i = 0; i < n_chips; i++)
        chip(r, chips[i]);
    size_t matched = 0;
    for (size_t i = 0; i < n; i++) {
        const struct raw_line *l = &raw[i];
        char feat[96];
        snprintf(feat, sizeof feat, "%.*s", (int)strcspn(l->sub, "_"), l->sub);
        const char *suffix = l->sub + strlen(feat) + 1;
        if (!collected_kind(feat))
            continue;
        const Pvescope__SensorFeature *f = feature(chip(r, l->chip), feat);
        assert_string_equal(f->label, l->label);
        size_t sl = strlen(suffix);
        if (strcmp(suffix, "input") == 0)
            near(l, f->has_input, f->input), matched++;
        else if (strcmp(suffix, "average") == 0 && strncmp(feat, "power", 5) == 0 &&
                 !has_raw(raw, n, l->chip, feat, "input"))
            near(l, f->has_input, f->input), matched++;
        else if (strcmp(suffix, "min") == 0)
            near(l, f->has_min, f->min), matched++;
        else if (strcmp(suffix, "max") == 0)
            near(l, f->has_max, f->max), matched++;
        else if (strcmp(suffix, "crit") == 0)
            near(l, f->has_crit, f->crit), matched++;
        else if (strcmp(suffix, "lcrit") == 0)
            near(l, f->has_lcrit, f->lcrit), matched++;
        else if (strcmp(suffix, "fault") == 0)
            near(l, f->has_fault, f->fault), matched++;
        else if (sl >= 5 && strcmp(suffix + sl - 5, "alarm") == 0 && l->v != 0)
            near(l, f->has_alarm, f->alarm);    /* one set alarm line makes the OR true */
    }
    /* the reverse direction: count the report's values and alarms */
    size_t in_report = 0;
    for (size_t c = 0; c < r->n_sensor_chips; c++) {
        const Pvescope__SensorChip *sc = r->sensor_chips[c];
        for (size_t i = 0; i < sc->n_features; i++) {
            const Pvescope__SensorFeature *f = sc->features[i];
            in_report += f->has_input + f->has_min + f->has_max + f->has_crit + f->has_lcrit + f->has_fault;
            if (f->has_alarm && !f->alarm) {
                /* a false alarm: every alarm line of the feature must be 0 */
                for (size_t k = 0; k < n; k++)
                    if (strcmp(raw[k].chip, sc->name) == 0 && strncmp(raw[k].sub, f->name, strlen(f->name)) == 0 &&
                        raw[k].sub[strlen(f->name)] == '_' && strstr(raw[k].sub, "alarm") && raw[k].v != 0)
                        fail_msg("%s %s: sensors -u says alarm, report says none", sc->name, raw[k].sub);
            }
        }
    }
    assert_int_equal(in_report, matched);
}

/* ---- tests -------------------------------------------------------------------- */

/* The collector under test; closed by teardown even when a test fails, so
 * the next test can own libsensors again. */
static struct fx f;
static bool f_open;
static pid_t removed_owner;          /* t_device_removed's process, killed by teardown */
static struct rlimit saved_nofile;   /* t_fd_budget lowers RLIMIT_NOFILE */

static void open_collector(double now)
{
    fx_open(&f, &collector_sensors, "/proc", "/sys");
    f_open = true;
    f.ctx.now_monotonic = now;
}

static void close_collector(void)
{
    if (f_open)
        fx_close(&f);
    f_open = false;
}

/* Undoes whatever a failed test left behind: its collector, broken chips,
 * hotplugged chips, a swapped configuration. */
static int teardown(void **state)
{
    (void)state;
    close_collector();
    for (size_t i = 0; i < 2; i++) {
        umount2(eio_attrs[i], MNT_DETACH);
        umount2(gone_attrs[i], MNT_DETACH);
    }
    if (access(HWMON "hwmon1/in2_input", R_OK) != 0)
        umount2("/sys/class", MNT_DETACH);   /* t_no_hwmon's empty class dir */
    if (access(HWMON "hwmon1/in2_input", R_OK) != 0)
        fail_msg("the fake tree is gone from /sys/class");
    if (removed_owner > 0) {
        kill(removed_owner, SIGKILL);
        waitpid(removed_owner, NULL, 0);
        removed_owner = 0;
    }
    umount2(HWMON "hwmon5/temp1_input", MNT_DETACH);
    unplug("hwmon5");
    unplug("hwmon6");
    unlink("/etc/sensors.d/pvescope-test.conf");
    write_attr("hwmon0/temp1_input", "45000");
    write_attr("hwmon1/fan2_input", "0");
    if (saved_nofile.rlim_cur)
        setrlimit(RLIMIT_NOFILE, &saved_nofile);
    use_config("good.conf");
    return 0;
}

static struct sensors_plan_stats plan_stats(void)
{
    struct sensors_plan_stats ps;
    sensors_plan_stats(f.state, &ps);
    return ps;
}

static void assert_plan(unsigned subfeatures, unsigned fast, unsigned kept_fds)
{
    struct sensors_plan_stats ps = plan_stats();
    if (ps.subfeatures != subfeatures || ps.fast != fast || ps.kept_fds != kept_fds)
        fail_msg("plan: %u subfeatures, %u fast, %u fds kept; expected %u, %u, %u", ps.subfeatures,
                 ps.fast, ps.kept_fds, subfeatures, fast, kept_fds);
}

static void t_mapping(void **state)
{
    (void)state;
    assert_int_equal(sensors_kind_of(SENSORS_FEATURE_IN), PVESCOPE__SENSOR_KIND__SENSOR_VOLTAGE);
    assert_int_equal(sensors_kind_of(SENSORS_FEATURE_CURR), PVESCOPE__SENSOR_KIND__SENSOR_CURRENT);
    assert_int_equal(sensors_kind_of(SENSORS_FEATURE_INTRUSION), PVESCOPE__SENSOR_KIND__SENSOR_OTHER);
    assert_int_equal(sensors_kind_of(SENSORS_FEATURE_VID), PVESCOPE__SENSOR_KIND__SENSOR_OTHER);
    assert_int_equal(sensors_slot_of(SENSORS_SUBFEATURE_POWER_AVERAGE), SLOT_INPUT_FALLBACK);
    assert_int_equal(sensors_slot_of(SENSORS_SUBFEATURE_POWER_INPUT), SLOT_INPUT);
    assert_int_equal(sensors_slot_of(SENSORS_SUBFEATURE_TEMP_CRIT_HYST), SLOT_NONE);
    assert_int_equal(sensors_slot_of(SENSORS_SUBFEATURE_TEMP_LCRIT_ALARM), SLOT_ALARM);
    assert_int_equal(sensors_slot_of(SENSORS_SUBFEATURE_FAN_BEEP), SLOT_NONE);
    assert_int_equal(sensors_slot_of(SENSORS_SUBFEATURE_FAN_DIV), SLOT_NONE);
    assert_int_equal(sensors_slot_of(SENSORS_SUBFEATURE_FAN_FAULT), SLOT_FAULT);
    assert_int_equal(sensors_slot_of(SENSORS_SUBFEATURE_CURR_LCRIT), SLOT_LCRIT);
}

/* The raw-value parser and libsensors' scaling table. */
static void t_raw_and_scale(void **state)
{
    (void)state;
    long long v = 7;
    assert_null(sensors_parse_raw("45000\n", 6, &v));
    assert_int_equal(v, 45000);
    assert_null(sensors_parse_raw("-5500\n", 6, &v));
    assert_int_equal(v, -5500);
    assert_null(sensors_parse_raw("0", 1, &v));
    assert_int_equal(v, 0);
    assert_null(sensors_parse_raw("123456789012345678\n", 19, &v));
    assert_int_equal(v, 123456789012345678LL);
    assert_null(sensors_parse_raw("45000\n", 3, &v));   /* only len bytes count */
    assert_int_equal(v, 450);
    v = 7;
    assert_string_equal(sensors_parse_raw("1234567890123456789", 19, &v), "more than 18 digits");
    assert_string_equal(sensors_parse_raw("", 0, &v), "no digits");
    assert_string_equal(sensors_parse_raw("\n", 1, &v), "no digits");
    assert_string_equal(sensors_parse_raw("-\n", 2, &v), "no digits");
    assert_string_equal(sensors_parse_raw("abc\n", 4, &v), "not a decimal integer");
    assert_string_equal(sensors_parse_raw("45000\n\n", 7, &v), "not a decimal integer");
    assert_string_equal(sensors_parse_raw(" 45", 3, &v), "not a decimal integer");
    assert_string_equal(sensors_parse_raw("+45", 3, &v), "not a decimal integer");
    assert_string_equal(sensors_parse_raw("4.5", 3, &v), "not a decimal integer");
    assert_string_equal(sensors_parse_raw("4\0", 2, &v), "not a decimal integer");
    assert_int_equal(v, 7);
    assert_true(sensors_scale_of(SENSORS_SUBFEATURE_TEMP_INPUT) == 1000);
    assert_true(sensors_scale_of(SENSORS_SUBFEATURE_TEMP_LCRIT) == 1000);
    assert_true(sensors_scale_of(SENSORS_SUBFEATURE_TEMP_CRIT_ALARM) == 1);
    assert_true(sensors_scale_of(SENSORS_SUBFEATURE_TEMP_FAULT) == 1);
    assert_true(sensors_scale_of(SENSORS_SUBFEATURE_TEMP_OFFSET) == 1000);
    assert_true(sensors_scale_of(SENSORS_SUBFEATURE_IN_MAX) == 1000);
    assert_true(sensors_scale_of(SENSORS_SUBFEATURE_IN_ALARM) == 1);
    assert_true(sensors_scale_of(SENSORS_SUBFEATURE_FAN_INPUT) == 1);
    assert_true(sensors_scale_of(SENSORS_SUBFEATURE_FAN_MIN) == 1);
    assert_true(sensors_scale_of(SENSORS_SUBFEATURE_POWER_INPUT) == 1e6);
    assert_true(sensors_scale_of(SENSORS_SUBFEATURE_POWER_AVERAGE) == 1e6);
    assert_true(sensors_scale_of(SENSORS_SUBFEATURE_POWER_CRIT) == 1e6);
    assert_true(sensors_scale_of(SENSORS_SUBFEATURE_POWER_ALARM) == 1);
    assert_true(sensors_scale_of(SENSORS_SUBFEATURE_POWER_AVERAGE_INTERVAL) == 1000);
    assert_true(sensors_scale_of(SENSORS_SUBFEATURE_ENERGY_INPUT) == 1e6);
    assert_true(sensors_scale_of(SENSORS_SUBFEATURE_CURR_CRIT) == 1000);
    assert_true(sensors_scale_of(SENSORS_SUBFEATURE_HUMIDITY_INPUT) == 1000);
    assert_true(sensors_scale_of(SENSORS_SUBFEATURE_INTRUSION_ALARM) == 1);
}

#define T PVESCOPE__SENSOR_KIND__SENSOR_TEMPERATURE
#define V PVESCOPE__SENSOR_KIND__SENSOR_VOLTAGE
#define F PVESCOPE__SENSOR_KIND__SENSOR_FAN
#define P PVESCOPE__SENSOR_KIND__SENSOR_POWER
#define C PVESCOPE__SENSOR_KIND__SENSOR_CURRENT
#define E PVESCOPE__SENSOR_KIND__SENSOR_ENERGY
#define H PVESCOPE__SENSOR_KIND__SENSOR_HUMIDITY

static const struct want coretemp[] = {
    {"temp1", "Package id 0", T, 45, NONE, 80, 100, NONE, 1, -1, 0},
    {"temp2", "Core 0", T, 51.5, NONE, 80, 100, NONE, 0, -1, 0},
};

/* pvetest with the test configuration: in0 doubled, in1 relabelled, in2 ignored. */
static const struct want pvetest[] = {
    {"in0", "in0", V, 2.048, 1.8, 2.4, 2.6, 1.6, 0, -1, 0},
    {"in1", "+3.3V rail", V, 3.312, NONE, NONE, NONE, NONE, -1, -1, 0},
    {"fan1", "fan1", F, 1200, 300, 5000, NONE, NONE, 0, -1, 0},
    {"fan2", "fan2", F, 0, NONE, NONE, NONE, NONE, 1, 1, 0},
    {"temp1", "temp1", T, -5.5, -8, NONE, NONE, -10, 0, 0, 0},
    {"power1", "power1", P, 15.5, NONE, 120, 150, NONE, 0, -1, 0},
    {"power2", "power2", P, 30, NONE, NONE, NONE, NONE, -1, -1, 0},
    {"energy1", "energy1", E, 123456.789, NONE, NONE, NONE, NONE, -1, -1, 0},
    {"curr1", "curr1", C, 2.5, 0, 10, 12, NONE, 1, -1, 0},
    {"humidity1", "humidity1", H, 45.5, NONE, NONE, NONE, NONE, -1, -1, 0},
};

static void check_chip(const Pvescope__Report *r, const char *name, const struct want *w, size_t n)
{
    const Pvescope__SensorChip *c = chip(r, name);
    assert_non_null(c->adapter);
    assert_string_equal(c->adapter, "Virtual device");
    assert_null(c->error);
    assert_int_equal(c->n_features, n);
    for (size_t i = 0; i < n; i++)
        check_feature(c, &w[i]);
}

/* The whole tree with the system (test) configuration, two chips broken. */
static void t_values(void **state)
{
    (void)state;
    break_eio();
    break_gone();
    open_collector(1000);
    assert_int_equal(fx_collect(&f), 0);
    assert_int_equal(f.r.n_sensor_chips, 5);
    /* eio's and gone's four readings take the slow path (see t_fast_path) */
    assert_plan(46, 35, 35);
    check_chip(&f.r, "coretemp-virtual-0", coretemp, 2);
    check_chip(&f.r, "pvetest-virtual-0", pvetest, sizeof pvetest / sizeof pvetest[0]);
    /* one unparsable attribute costs one reading */
    const Pvescope__SensorChip *broken = chip(&f.r, "broken-virtual-0");
    assert_null(broken->error);
    check_feature(broken, &(struct want){"in0", "in0", V, 3, NONE, NONE, NONE, NONE, -1, -1, 0});
    check_feature(broken, &(struct want){"temp1", "temp1", T, NONE, NONE, NONE, NONE, NONE, -1, -1, 1});
    /* chips whose every reading fails are listed with an error, no values */
    const Pvescope__SensorChip *eio = chip(&f.r, "eio-virtual-0");
    assert_non_null(eio->error);
    assert_string_equal(eio->error, "I/O error");
    check_feature(eio, &(struct want){"temp1", "temp1", T, NONE, NONE, NONE, NONE, NONE, -1, -1, 2});
    const Pvescope__SensorChip *gone = chip(&f.r, "gone-virtual-0");
    assert_non_null(gone->error);
    assert_string_equal(gone->error, "Kernel interface error");
    check_feature(gone, &(struct want){"fan1", "fan1", F, NONE, NONE, NONE, NONE, NONE, -1, -1, 1});
    check_feature(gone, &(struct want){"temp1", "temp1", T, NONE, NONE, NONE, NONE, NONE, -1, -1, 1});
    /* a warning, naming whichever broken chip libsensors listed first */
    const char *a = "2 of 5 chips unreadable (eio-virtual-0: I/O error); 5 readings failed";
    const char *b = "2 of 5 chips unreadable (gone-virtual-0: Kernel interface error); 5 readings failed";
    if (strcmp(f.ctx.err, a) != 0 && strcmp(f.ctx.err, b) != 0)
        fail_msg("unexpected warning \"%s\"", f.ctx.err);
    Pvescope__Report *back = fx_roundtrip(&f);
    pvescope__report__free_unpacked(back, NULL);
    assert_agrees_with_sensors(&f.r);
    close_collector();
    restore(gone_attrs);
    restore(eio_attrs);
}

/* With the test configuration, the healthy tree is read through kept fds
 * except where libsensors' value is not the plain scaled one, and changed
 * values are seen by the next cycle. */
static void t_fast_path(void **state)
{
    (void)state;
    size_t fds_before = open_fds();
    open_collector(1000);
    assert_int_equal(fx_collect(&f), 0);
    /* 46 collected readings (coretemp 8, pvetest 32, broken 2, eio 2, gone 2).
     * Slow: pvetest's in0 readings and limits (5, its `compute`), its zero
     * fan2_input (a compute could map 0 to 0, and fan2 has no other value a
     * compute applies to), broken's unparsable temp1_input. Fast among
     * others: in0_alarm (no compute applies to alarms), curr1_min's 0 (next
     * to curr1_input's 2500, probed plain). */
    assert_plan(46, 39, 39);
    assert_int_equal(open_fds(), fds_before + 39);
    check_chip(&f.r, "coretemp-virtual-0", coretemp, 2);
    check_chip(&f.r, "pvetest-virtual-0", pvetest, sizeof pvetest / sizeof pvetest[0]);
    assert_string_equal(f.ctx.err, "1 readings failed");
    assert_agrees_with_sensors(&f.r);

    /* changed values, on a fast and a slow reading, are read again */
    write_attr("hwmon0/temp1_input", "47250");
    write_attr("hwmon1/fan2_input", "700");
    f.ctx.now_monotonic += 1;
    assert_int_equal(fx_collect(&f), 0);
    assert_plan(46, 39, 39);
    check_feature(chip(&f.r, "coretemp-virtual-0"),
                  &(struct want){"temp1", "Package id 0", T, 47.25, NONE, 80, 100, NONE, 1, -1, 0});
    check_feature(chip(&f.r, "pvetest-virtual-0"),
                  &(struct want){"fan2", "fan2", F, 700, NONE, NONE, NONE, NONE, 1, 1, 0});
    assert_agrees_with_sensors(&f.r);
    /* the next reload probes again: fan2_input is no longer 0 */
    f.ctx.now_monotonic += SENSORS_RELOAD_S;
    assert_int_equal(fx_collect(&f), 0);
    assert_plan(46, 40, 40);
    assert_agrees_with_sensors(&f.r);
    close_collector();
    assert_int_equal(open_fds(), fds_before);
}

/* A `compute` from /etc/sensors.d sends its feature's readings and limits
 * to the slow path, where the value is libsensors' (as `sensors -u` prints
 * it), a 0 limit included; an identity compute changes nothing and stays
 * fast. */
static void t_compute_sensors_d(void **state)
{
    (void)state;
    add_sensors_d("pvescope-test.conf", "chip \"coretemp-*\"\n"
                                        "    compute temp2 @*2, @/2\n"
                                        "    compute temp1 @, @\n"
                                        "chip \"pvetest-*\"\n"
                                        "    compute curr1 @*2, @/2\n");
    open_collector(0);
    assert_int_equal(fx_collect(&f), 0);
    /* temp2's input, max and crit (not its alarm), curr1's input, min (0),
     * max and crit leave the fast path */
    assert_plan(46, 32, 32);
    const Pvescope__SensorChip *c = chip(&f.r, "coretemp-virtual-0");
    check_feature(c, &coretemp[0]);
    check_feature(c, &(struct want){"temp2", "Core 0", T, 103, NONE, 160, 200, NONE, 0, -1, 0});
    check_feature(chip(&f.r, "pvetest-virtual-0"),
                  &(struct want){"curr1", "curr1", C, 5, 0, 20, 24, NONE, 1, -1, 0});
    assert_agrees_with_sensors(&f.r);
    /* gone again at the next reload: back on the fast path */
    unlink("/etc/sensors.d/pvescope-test.conf");
    f.ctx.now_monotonic += SENSORS_RELOAD_S;
    assert_int_equal(fx_collect(&f), 0);
    assert_plan(46, 39, 39);
    check_feature(chip(&f.r, "coretemp-virtual-0"), &coretemp[1]);
    close_collector();
}

/* A chip removed while its attributes are kept open: sysfs then fails
 * reads of the open fds (ENODEV). Emulated with a process's oom_score_adj
 * bound over the attribute: reads of an open fd fail (ESRCH) once the
 * process is gone. The cycle reports the chip unreadable, the next one
 * reloads without it, and its fd is closed. */
static void t_device_removed(void **state)
{
    (void)state;
    size_t fds_before = open_fds();
    removed_owner = fork();
    must(removed_owner >= 0, "fork");
    if (removed_owner == 0) {
        pause();
        _exit(0);
    }
    char adj[64];
    snprintf(adj, sizeof adj, "/proc/%d/oom_score_adj", (int)removed_owner);
    FILE *a = fopen(adj, "w");
    must(a != NULL, adj);
    fputs("500\n", a);
    must(fclose(a) == 0, adj);
    hotplug("hwmon5", "removed", "1");
    bind(adj, HWMON "hwmon5/temp1_input");

    open_collector(0);
    assert_int_equal(fx_collect(&f), 0);
    assert_int_equal(f.r.n_sensor_chips, 6);
    check_feature(chip(&f.r, "removed-virtual-0"), &(struct want){"temp1", "temp1", T, 0.5, NONE, NONE, NONE, NONE, -1, -1, 0});
    assert_plan(47, 40, 40);
    assert_int_equal(open_fds(), fds_before + 40);

    kill(removed_owner, SIGKILL);
    waitpid(removed_owner, NULL, 0);
    removed_owner = 0;
    unbind(HWMON "hwmon5/temp1_input");
    unplug("hwmon5");
    f.ctx.now_monotonic += 1;
    assert_int_equal(fx_collect(&f), 0);
    const Pvescope__SensorChip *c = chip(&f.r, "removed-virtual-0");
    assert_non_null(c->error);
    assert_string_equal(c->error, "Kernel interface error");
    assert_string_equal(f.ctx.err, "1 of 6 chips unreadable (removed-virtual-0: Kernel interface error); "
                        "2 readings failed");
    f.ctx.now_monotonic += 1;          /* reloads because of the vanished device */
    assert_int_equal(fx_collect(&f), 0);
    assert_int_equal(f.r.n_sensor_chips, 5);
    assert_null(chip_or_null(&f.r, "removed-virtual-0"));
    assert_plan(46, 39, 39);
    assert_int_equal(open_fds(), fds_before + 39);
    assert_string_equal(f.ctx.err, "1 readings failed");
    close_collector();
    assert_int_equal(open_fds(), fds_before);
}

/* The kept fds stay within a quarter of RLIMIT_NOFILE; the readings beyond
 * go through libsensors with the same values. */
static void t_fd_budget(void **state)
{
    (void)state;
    must(getrlimit(RLIMIT_NOFILE, &saved_nofile) == 0, "getrlimit");
    struct rlimit low = saved_nofile;
    low.rlim_cur = 40;
    must(setrlimit(RLIMIT_NOFILE, &low) == 0, "setrlimit");
    open_collector(0);
    assert_int_equal(fx_collect(&f), 0);
    assert_plan(46, 10, 10);
    check_chip(&f.r, "coretemp-virtual-0", coretemp, 2);
    check_chip(&f.r, "pvetest-virtual-0", pvetest, sizeof pvetest / sizeof pvetest[0]);
    assert_agrees_with_sensors(&f.r);
    close_collector();
    must(setrlimit(RLIMIT_NOFILE, &saved_nofile) == 0, "setrlimit");
    saved_nofile.rlim_cur = 0;
}

/* A system configuration that fails sensors_init: raw values, driver
 * labels, nothing ignored, and a warning every cycle until it is fixed. */
static void t_config_unusable(void **state)
{
    (void)state;
    use_config("bad.conf");
    open_collector(0);
    assert_int_equal(fx_collect(&f), 0);
    assert_string_equal(f.ctx.err, "system sensors configuration unusable (/etc/sensors3.conf:3: "
                        "Invalid keyword), running without it: raw values, driver labels; "
                        "1 readings failed");
    const Pvescope__SensorChip *c = chip(&f.r, "pvetest-virtual-0");
    check_feature(c, &(struct want){"in0", "in0", V, 1.024, 0.9, 1.2, 1.3, 0.8, 0, -1, 0});
    check_feature(c, &(struct want){"in1", "3VCC", V, 3.312, NONE, NONE, NONE, NONE, -1, -1, 0});
    check_feature(c, &(struct want){"in2", "in2", V, 5, NONE, NONE, NONE, NONE, -1, -1, 0});
    assert_int_equal(f.r.n_sensor_chips, 5);
    /* still degraded after the next reload (same message: logged once) */
    char first[sizeof f.ctx.err];
    memcpy(first, f.ctx.err, sizeof first);
    f.ctx.now_monotonic += SENSORS_RELOAD_BAD_CONFIG_S;
    assert_int_equal(fx_collect(&f), 0);
    assert_string_equal(f.ctx.err, first);
    /* fixed configuration: picked up at the next reload */
    use_config("good.conf");
    f.ctx.now_monotonic += SENSORS_RELOAD_BAD_CONFIG_S;
    assert_int_equal(fx_collect(&f), 0);
    assert_string_equal(f.ctx.err, "1 readings failed");
    check_feature(chip(&f.r, "pvetest-virtual-0"), &pvetest[0]);
    check_feature(chip(&f.r, "pvetest-virtual-0"), &pvetest[1]);
    close_collector();
}

/* A bad line libsensors skips: the rest of the configuration applies, the
 * cycle warns about the skipped statement, and reloads slow down. */
static void t_config_bad_line(void **state)
{
    (void)state;
    use_config("lax.conf");
    open_collector(0);
    assert_int_equal(fx_collect(&f), 0);
    const char *warning = "sensors configuration error, statement skipped "
                          "(/etc/sensors3.conf:3: Invalid keyword); 1 readings failed";
    assert_string_equal(f.ctx.err, warning);
    const Pvescope__SensorChip *c = chip(&f.r, "pvetest-virtual-0");
    check_feature(c, &(struct want){"in0", "in0", V, 1.024, 0.9, 1.2, 1.3, 0.8, 0, -1, 0});
    check_feature(c, &pvetest[1]);
    assert_null(feature_or_null(c, "in2"));
    assert_agrees_with_sensors(&f.r);
    /* reloads every SENSORS_RELOAD_BAD_CONFIG_S instead of every SENSORS_RELOAD_S */
    hotplug("hwmon5", "hotplug", "30000");
    f.ctx.now_monotonic += SENSORS_RELOAD_S;
    assert_int_equal(fx_collect(&f), 0);
    assert_null(chip_or_null(&f.r, "hotplug-virtual-0"));
    f.ctx.now_monotonic = SENSORS_RELOAD_BAD_CONFIG_S;
    assert_int_equal(fx_collect(&f), 0);
    assert_non_null(chip_or_null(&f.r, "hotplug-virtual-0"));
    assert_string_equal(f.ctx.err, warning);
    close_collector();
}

/* Chips come and go: a vanished device makes the next cycle reload, and
 * new ones appear at the latest after the rescan interval. */
static void t_reload(void **state)
{
    (void)state;
    break_gone();
    open_collector(5000);
    assert_int_equal(fx_collect(&f), 0);
    assert_non_null(chip(&f.r, "gone-virtual-0")->error);
    assert_null(chip_or_null(&f.r, "hotplug-virtual-0"));

    restore(gone_attrs);
    hotplug("hwmon5", "hotplug", "30000");
    f.ctx.now_monotonic += 1;          /* reloads because of the vanished device */
    assert_int_equal(fx_collect(&f), 0);
    assert_int_equal(f.r.n_sensor_chips, 6);
    check_feature(chip(&f.r, "hotplug-virtual-0"), &(struct want){"temp1", "temp1", T, 30, NONE, NONE, NONE, NONE, -1, -1, 0});
    assert_null(chip(&f.r, "gone-virtual-0")->error);
    assert_string_equal(f.ctx.err, "1 readings failed");

    hotplug("hwmon6", "later", "31000");
    f.ctx.now_monotonic += 1;          /* chip list still cached */
    assert_int_equal(fx_collect(&f), 0);
    assert_null(chip_or_null(&f.r, "later-virtual-0"));
    f.ctx.now_monotonic += SENSORS_RELOAD_S;   /* periodic rescan */
    assert_int_equal(fx_collect(&f), 0);
    check_feature(chip(&f.r, "later-virtual-0"), &(struct want){"temp1", "temp1", T, 31, NONE, NONE, NONE, NONE, -1, -1, 0});
    assert_agrees_with_sensors(&f.r);

    unplug("hwmon6");
    unplug("hwmon5");
    f.ctx.now_monotonic += SENSORS_RELOAD_S;
    assert_int_equal(fx_collect(&f), 0);
    assert_int_equal(f.r.n_sensor_chips, 5);
    close_collector();
}

/* No /sys/class/hwmon at all (a VM, CI): no chips, no warning. */
static void t_no_hwmon(void **state)
{
    (void)state;
    char empty[512];
    snprintf(empty, sizeof empty, "%s/etc/sensors.d", fake);
    bind(empty, "/sys/class");
    open_collector(0);
    assert_int_equal(fx_collect(&f), 0);
    assert_int_equal(f.r.n_sensor_chips, 0);
    assert_string_equal(f.ctx.err, "");
    close_collector();
    unbind("/sys/class");
}

/* libsensors state is global: a second collector instance is refused. */
static void t_single_owner(void **state)
{
    (void)state;
    open_collector(0);
    void *second = NULL;
    struct collector_ctx ctx = f.ctx;
    assert_int_equal(collector_sensors.init(&second, &ctx), -1);
    assert_err_contains(ctx.err, "already in use");
    close_collector();
}

int main(void)
{
    fake = getenv("PVESCOPE_FAKE_HWMON");
    char marker[512];
    snprintf(marker, sizeof marker, HWMON "hwmon1/in2_input");
    if (!fake || access(marker, R_OK) != 0) {
        fprintf(stderr, "test_sensors_hwmon: run me through tests/unit/sensors_hwmon.sh "
                        "(needs the fake hwmon tree mounted on /sys/class)\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_mapping),
        cmocka_unit_test(t_raw_and_scale),
        cmocka_unit_test_teardown(t_values, teardown),
        cmocka_unit_test_teardown(t_fast_path, teardown),
        cmocka_unit_test_teardown(t_compute_sensors_d, teardown),
        cmocka_unit_test_teardown(t_device_removed, teardown),
        cmocka_unit_test_teardown(t_fd_budget, teardown),
        cmocka_unit_test_teardown(t_config_unusable, teardown),
        cmocka_unit_test_teardown(t_config_bad_line, teardown),
        cmocka_unit_test_teardown(t_reload, teardown),
        cmocka_unit_test_teardown(t_no_hwmon, teardown),
        cmocka_unit_test_teardown(t_single_owner, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
