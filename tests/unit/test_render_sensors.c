/* test_render_sensors.c — the pve_sensor_* families rendered from a canned
 * Report: exact lines, unit conversion (humidity), label escaping, a chip
 * that could not be read, and absent fields giving no series.
 *
 * The checks are rt_family_test_main()'s (render_test_util.h), so that a
 * table here is all a family set needs. With `--scrape FILE` it writes a
 * whole scrape of that report instead, for the promtool check registered
 * next to it (sensors.cmake). */
#include <stdint.h>

#include "render_test_util.h"

#define NODE "id=\"node/pve1\",pve_cluster=\"prod\""

static Pvescope__Report *canned(void)
{
    static Pvescope__Report r = PVESCOPE__REPORT__INIT;
    static Pvescope__SensorChip core = PVESCOPE__SENSOR_CHIP__INIT, board = PVESCOPE__SENSOR_CHIP__INIT,
                                dead = PVESCOPE__SENSOR_CHIP__INIT;
    static Pvescope__SensorChip *chips[3] = {&core, &board, &dead};
    static Pvescope__SensorFeature t1 = PVESCOPE__SENSOR_FEATURE__INIT, t2 = PVESCOPE__SENSOR_FEATURE__INIT,
                                   in0 = PVESCOPE__SENSOR_FEATURE__INIT, fan1 = PVESCOPE__SENSOR_FEATURE__INIT,
                                   p1 = PVESCOPE__SENSOR_FEATURE__INIT, c1 = PVESCOPE__SENSOR_FEATURE__INIT,
                                   e1 = PVESCOPE__SENSOR_FEATURE__INIT, h1 = PVESCOPE__SENSOR_FEATURE__INIT,
                                   dt = PVESCOPE__SENSOR_FEATURE__INIT;
    static Pvescope__SensorFeature *core_f[2] = {&t1, &t2};
    static Pvescope__SensorFeature *board_f[6] = {&in0, &fan1, &p1, &c1, &e1, &h1};
    static Pvescope__SensorFeature *dead_f[1] = {&dt};
    r.node = "pve1";
    r.sensor_chips = chips;
    r.n_sensor_chips = 3;

    core.name = "coretemp-isa-0000";
    core.adapter = "ISA adapter";
    core.features = core_f;
    core.n_features = 2;
    t1.name = "temp1"; t1.label = "Package id 0";
    t1.has_kind = true; t1.kind = PVESCOPE__SENSOR_KIND__SENSOR_TEMPERATURE;
    t1.has_input = true; t1.input = 45;
    t1.has_max = true; t1.max = 80;
    t1.has_crit = true; t1.crit = 100;
    t1.has_alarm = true; t1.alarm = true;
    t1.has_read_errors = true; t1.read_errors = 0;
    t2.name = "temp2"; t2.label = "Core \"0\"\\\n\xff";      /* quote, backslash, newline, bad UTF-8 */
    t2.has_kind = true; t2.kind = PVESCOPE__SENSOR_KIND__SENSOR_TEMPERATURE;
    t2.has_input = true; t2.input = -5.5;
    t2.has_min = true; t2.min = -10;
    t2.has_lcrit = true; t2.lcrit = -20;
    t2.has_fault = true; t2.fault = false;
    t2.has_read_errors = true; t2.read_errors = 1;

    board.name = "nct6775-isa-0290";             /* no adapter, no labels */
    board.features = board_f;
    board.n_features = 6;
    in0.name = "in0";
    in0.has_kind = true; in0.kind = PVESCOPE__SENSOR_KIND__SENSOR_VOLTAGE;
    in0.has_input = true; in0.input = 1.024;
    in0.has_min = true; in0.min = 0.9;
    in0.has_max = true; in0.max = 1.2;
    in0.has_crit = true; in0.crit = 1.3;
    in0.has_lcrit = true; in0.lcrit = 0.8;
    fan1.name = "fan1";
    fan1.has_kind = true; fan1.kind = PVESCOPE__SENSOR_KIND__SENSOR_FAN;
    fan1.has_input = true; fan1.input = 1200;
    fan1.has_min = true; fan1.min = 300;
    fan1.has_max = true; fan1.max = 5000;
    fan1.has_crit = true; fan1.crit = 6000;          /* fans have no crit family: not rendered */
    fan1.has_fault = true; fan1.fault = true;
    p1.name = "power1";
    p1.has_kind = true; p1.kind = PVESCOPE__SENSOR_KIND__SENSOR_POWER;
    p1.has_input = true; p1.input = 15.5;
    p1.has_max = true; p1.max = 120;
    p1.has_crit = true; p1.crit = 150;
    p1.has_min = true; p1.min = 1;                   /* no power min family */
    c1.name = "curr1";
    c1.has_kind = true; c1.kind = PVESCOPE__SENSOR_KIND__SENSOR_CURRENT;
    c1.has_input = true; c1.input = 2.5;
    c1.has_min = true; c1.min = 0;
    c1.has_max = true; c1.max = 10;
    c1.has_crit = true; c1.crit = 12;
    c1.has_alarm = true; c1.alarm = false;
    e1.name = "energy1";
    e1.has_kind = true; e1.kind = PVESCOPE__SENSOR_KIND__SENSOR_ENERGY;
    e1.has_input = true; e1.input = 123456.789;
    h1.name = "humidity1";
    h1.has_kind = true; h1.kind = PVESCOPE__SENSOR_KIND__SENSOR_HUMIDITY;
    h1.has_input = true; h1.input = 45.5;

    dead.name = "gone-virtual-0";
    dead.adapter = "Virtual device";
    dead.error = "Kernel interface error";
    dead.features = dead_f;
    dead.n_features = 1;
    dt.name = "temp1"; dt.label = "temp1";
    dt.has_kind = true; dt.kind = PVESCOPE__SENSOR_KIND__SENSOR_TEMPERATURE;
    dt.has_read_errors = true; dt.read_errors = 2;
    return &r;
}

#define CORE1 NODE ",chip=\"coretemp-isa-0000\",sensor=\"temp1\",label=\"Package id 0\"}"
#define CORE2 NODE ",chip=\"coretemp-isa-0000\",sensor=\"temp2\",label=\"Core \\\"0\\\"\\\\\\n\xef\xbf\xbd\"}"
#define BOARD(s) NODE ",chip=\"nct6775-isa-0290\",sensor=\"" s "\",label=\"" s "\"}"
#define DEAD NODE ",chip=\"gone-virtual-0\",sensor=\"temp1\",label=\"temp1\"}"

static const struct rt_want want[] = {
    {FAM_SENSOR_CHIP_INFO,
     "pve_sensor_chip_info{" NODE ",chip=\"coretemp-isa-0000\",adapter=\"ISA adapter\"} 1\n"
     "pve_sensor_chip_info{" NODE ",chip=\"nct6775-isa-0290\",adapter=\"\"} 1\n"
     "pve_sensor_chip_info{" NODE ",chip=\"gone-virtual-0\",adapter=\"Virtual device\"} 1\n"},
    {FAM_SENSOR_TEMP, "pve_sensor_temperature_celsius{" CORE1 " 45\n"
                      "pve_sensor_temperature_celsius{" CORE2 " -5.5\n"},
    {FAM_SENSOR_TEMP_MIN, "pve_sensor_temperature_min_celsius{" CORE2 " -10\n"},
    {FAM_SENSOR_TEMP_MAX, "pve_sensor_temperature_max_celsius{" CORE1 " 80\n"},
    {FAM_SENSOR_TEMP_CRIT, "pve_sensor_temperature_crit_celsius{" CORE1 " 100\n"},
    {FAM_SENSOR_TEMP_LCRIT, "pve_sensor_temperature_lcrit_celsius{" CORE2 " -20\n"},
    {FAM_SENSOR_FAN, "pve_sensor_fan_rpm{" BOARD("fan1") " 1200\n"},
    {FAM_SENSOR_FAN_MIN, "pve_sensor_fan_min_rpm{" BOARD("fan1") " 300\n"},
    {FAM_SENSOR_FAN_MAX, "pve_sensor_fan_max_rpm{" BOARD("fan1") " 5000\n"},
    {FAM_SENSOR_VOLT, "pve_sensor_voltage_volts{" BOARD("in0") " 1.024\n"},
    {FAM_SENSOR_VOLT_MIN, "pve_sensor_voltage_min_volts{" BOARD("in0") " 0.9\n"},
    {FAM_SENSOR_VOLT_MAX, "pve_sensor_voltage_max_volts{" BOARD("in0") " 1.2\n"},
    {FAM_SENSOR_VOLT_CRIT, "pve_sensor_voltage_crit_volts{" BOARD("in0") " 1.3\n"},
    {FAM_SENSOR_VOLT_LCRIT, "pve_sensor_voltage_lcrit_volts{" BOARD("in0") " 0.8\n"},
    {FAM_SENSOR_POWER, "pve_sensor_power_watts{" BOARD("power1") " 15.5\n"},
    {FAM_SENSOR_POWER_MAX, "pve_sensor_power_max_watts{" BOARD("power1") " 120\n"},
    {FAM_SENSOR_POWER_CRIT, "pve_sensor_power_crit_watts{" BOARD("power1") " 150\n"},
    {FAM_SENSOR_CURR, "pve_sensor_current_amperes{" BOARD("curr1") " 2.5\n"},
    {FAM_SENSOR_CURR_MIN, "pve_sensor_current_min_amperes{" BOARD("curr1") " 0\n"},
    {FAM_SENSOR_CURR_MAX, "pve_sensor_current_max_amperes{" BOARD("curr1") " 10\n"},
    {FAM_SENSOR_CURR_CRIT, "pve_sensor_current_crit_amperes{" BOARD("curr1") " 12\n"},
    {FAM_SENSOR_ENERGY, "pve_sensor_energy_joules_total{" BOARD("energy1") " 123456.789\n"},
    {FAM_SENSOR_HUMIDITY, "pve_sensor_humidity_ratio{" BOARD("humidity1") " 0.455\n"},
    {FAM_SENSOR_ALARM, "pve_sensor_alarm{" CORE1 " 1\n"
                       "pve_sensor_alarm{" BOARD("curr1") " 0\n"},
    {FAM_SENSOR_FAULT, "pve_sensor_fault{" CORE2 " 0\n"
                       "pve_sensor_fault{" BOARD("fan1") " 1\n"},
    {FAM_SENSOR_READ_ERRORS, "pve_sensor_read_errors{" CORE1 " 0\n"
                             "pve_sensor_read_errors{" CORE2 " 1\n"
                             "pve_sensor_read_errors{" DEAD " 2\n"},
};

int main(int argc, char **argv)
{
    static const struct rt_family_test t = {canned, NODE, "pve_sensor_", want, sizeof want / sizeof want[0]};
    return rt_family_test_main(argc, argv, &t);
}
