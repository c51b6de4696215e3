/* render_sensors.c — Report.sensor_chips as the pve_sensor_* families.
 *
 * Every series of a sensor carries chip (as sensors(1) names it:
 * coretemp-isa-0000), sensor (the hwmon feature: temp1) and label (as
 * sensors(1) prints it, after sensors.conf: "Package id 0"; the feature name
 * when the chip has none). Values arrive in the units of their kind (°C,
 * RPM, V, W, A, J, %RH); only humidity changes, percent to a 0..1 ratio. A
 * chip that could not be read keeps its pve_sensor_chip_info and its
 * sensors' pve_sensor_read_errors, and has no value series. */
#include "render.h"

#include <stddef.h>
#include <stdlib.h>

/* One value family: the SensorFeature field it shows for features of a kind. */
struct sensor_value_family {
    enum family_id fam;
    Pvescope__SensorKind kind;
    size_t has_off, val_off;   /* protobuf_c_boolean has_x, double x */
    double scale;
};

#define SV(fam, kind, field, scale) \
    {FAM_##fam, PVESCOPE__SENSOR_KIND__SENSOR_##kind, offsetof(Pvescope__SensorFeature, has_##field), \
     offsetof(Pvescope__SensorFeature, field), scale}

static const struct sensor_value_family value_families[] = {
    SV(SENSOR_TEMP, TEMPERATURE, input, 1), SV(SENSOR_TEMP_MIN, TEMPERATURE, min, 1),
    SV(SENSOR_TEMP_MAX, TEMPERATURE, max, 1), SV(SENSOR_TEMP_CRIT, TEMPERATURE, crit, 1),
    SV(SENSOR_TEMP_LCRIT, TEMPERATURE, lcrit, 1),
    SV(SENSOR_FAN, FAN, input, 1), SV(SENSOR_FAN_MIN, FAN, min, 1), SV(SENSOR_FAN_MAX, FAN, max, 1),
    SV(SENSOR_VOLT, VOLTAGE, input, 1), SV(SENSOR_VOLT_MIN, VOLTAGE, min, 1),
    SV(SENSOR_VOLT_MAX, VOLTAGE, max, 1), SV(SENSOR_VOLT_CRIT, VOLTAGE, crit, 1),
    SV(SENSOR_VOLT_LCRIT, VOLTAGE, lcrit, 1),
    SV(SENSOR_POWER, POWER, input, 1), SV(SENSOR_POWER_MAX, POWER, max, 1),
    SV(SENSOR_POWER_CRIT, POWER, crit, 1),
    SV(SENSOR_CURR, CURRENT, input, 1), SV(SENSOR_CURR_MIN, CURRENT, min, 1),
    SV(SENSOR_CURR_MAX, CURRENT, max, 1), SV(SENSOR_CURR_CRIT, CURRENT, crit, 1),
    SV(SENSOR_ENERGY, ENERGY, input, 1),
    SV(SENSOR_HUMIDITY, HUMIDITY, input, 0.01),
};

/* Every feature of every chip, with its escaped label pairs. */
struct sensor_rows {
    const Pvescope__SensorFeature **features;
    size_t *label_off;          /* into text: `chip="..",sensor="..",label=".."` */
    size_t n;
    struct buf text;
};

static void put_pair(struct buf *b, const char *name, const char *value, bool first)
{
    if (!first)
        buf_putc(b, ',');
    buf_puts(b, name);
    buf_puts(b, "=\"");
    expo_escape_label(b, value ? value : "");
    buf_putc(b, '"');
}

static void collect_rows(const Pvescope__Report *r, struct sensor_rows *rows)
{
    size_t total = 0;
    for (size_t c = 0; c < r->n_sensor_chips; c++)
        total += r->sensor_chips[c]->n_features;
    rows->features = malloc((total ? total : 1) * sizeof *rows->features);
    rows->label_off = malloc((total ? total : 1) * sizeof *rows->label_off);
    if (!rows->features || !rows->label_off)
        abort();
    rows->n = 0;
    rows->text = (struct buf)BUF_INIT;
    for (size_t c = 0; c < r->n_sensor_chips; c++) {
        const Pvescope__SensorChip *chip = r->sensor_chips[c];
        for (size_t i = 0; i < chip->n_features; i++) {
            const Pvescope__SensorFeature *f = chip->features[i];
            rows->features[rows->n] = f;
            rows->label_off[rows->n++] = rows->text.len;
            put_pair(&rows->text, "chip", chip->name, true);
            put_pair(&rows->text, "sensor", f->name, false);
            put_pair(&rows->text, "label", f->label ? f->label : f->name, false);
            buf_putc(&rows->text, '\0');
        }
    }
}

static void free_rows(struct sensor_rows *rows)
{
    free(rows->features);
    free(rows->label_off);
    buf_free(&rows->text);
}

static const char *row_labels(const struct sensor_rows *rows, size_t i)
{
    return rows->text.data + rows->label_off[i];
}

static void render_chip_info(struct node_render *nr, const char *labels, const Pvescope__Report *r)
{
    struct buf l = BUF_INIT;
    nr_begin(nr, FAM_SENSOR_CHIP_INFO);
    for (size_t c = 0; c < r->n_sensor_chips; c++) {
        buf_reset(&l);
        put_pair(&l, "chip", r->sensor_chips[c]->name, true);
        put_pair(&l, "adapter", r->sensor_chips[c]->adapter, false);
        nr_sample(nr, FAM_SENSOR_CHIP_INFO, labels, l.data, 1);
    }
    nr_end(nr, FAM_SENSOR_CHIP_INFO);
    buf_free(&l);
}

static void render_values(struct node_render *nr, const char *labels, const struct sensor_rows *rows,
                          const struct sensor_value_family *vf)
{
    nr_begin(nr, vf->fam);
    for (size_t i = 0; i < rows->n; i++) {
        const Pvescope__SensorFeature *f = rows->features[i];
        const char *base = (const char *)f;
        if (!f->has_kind || f->kind != vf->kind || !*(const protobuf_c_boolean *)(base + vf->has_off))
            continue;
        double v = *(const double *)(base + vf->val_off);
        nr_sample(nr, vf->fam, labels, row_labels(rows, i), v * vf->scale);
    }
    nr_end(nr, vf->fam);
}

/* The alarm, fault and read-error series, for sensors of every kind. */
static void render_flags(struct node_render *nr, const char *labels, const struct sensor_rows *rows)
{
    nr_begin(nr, FAM_SENSOR_ALARM);
    for (size_t i = 0; i < rows->n; i++)
        if (rows->features[i]->has_alarm)
            nr_sample(nr, FAM_SENSOR_ALARM, labels, row_labels(rows, i), rows->features[i]->alarm ? 1 : 0);
    nr_end(nr, FAM_SENSOR_ALARM);
    nr_begin(nr, FAM_SENSOR_FAULT);
    for (size_t i = 0; i < rows->n; i++)
        if (rows->features[i]->has_fault)
            nr_sample(nr, FAM_SENSOR_FAULT, labels, row_labels(rows, i), rows->features[i]->fault ? 1 : 0);
    nr_end(nr, FAM_SENSOR_FAULT);
    nr_begin(nr, FAM_SENSOR_READ_ERRORS);
    for (size_t i = 0; i < rows->n; i++)
        if (rows->features[i]->has_read_errors)
            nr_sample_u64(nr, FAM_SENSOR_READ_ERRORS, labels, row_labels(rows, i),
                          rows->features[i]->read_errors);
    nr_end(nr, FAM_SENSOR_READ_ERRORS);
}

void render_sensors(struct node_render *nr, const char *labels, const Pvescope__Report *r)
{
    if (!r->n_sensor_chips)
        return;
    render_chip_info(nr, labels, r);
    struct sensor_rows rows;
    collect_rows(r, &rows);
    for (size_t i = 0; i < sizeof value_families / sizeof value_families[0]; i++)
        render_values(nr, labels, &rows, &value_families[i]);
    render_flags(nr, labels, &rows);
    free_rows(&rows);
}
