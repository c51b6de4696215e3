#!/usr/bin/env python3
"""check_selftest.py — proves check.py can pass and can fail, without QEMU.

testdata/console.log is a real guest console (vm_hardware, Debian kernel
6.1.0-56, QEMU 7.2) recorded before the hardware collectors existed: its
metrics dumps have no pve_nvme_/pve_thinpool_/pve_sensor_ families. This
script appends to each metrics dump the series a correct implementation
must render, computed here from the same console's oracle sections (the
units conversions written out a second time, on purpose), and then:
  1. check.py on the result must pass (exit 0);
  2. each mutation (a value off by one unit, a family dropped, a label
     changed, the over-temperature alarm not raised) must fail (exit 1) with
     a MISMATCH line naming the family;
  3. the unmodified recording must fail (the families are missing).
usage: check_selftest.py            exit 0 when all of this holds
"""
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import check  # noqa: E402

NODE, CLUSTER, WORN_WARNING = "pve-vm", "vmlab", "0x05"
TYPES = {}


def fmt_labels(labels):
    nl = {"id": "node/" + NODE, "pve_cluster": CLUSTER}
    nl.update(labels)
    return "{" + ",".join('%s="%s"' % (k, v.replace("\\", "\\\\").replace('"', '\\"')) for k, v in nl.items()) + "}"


def synth_round(con, r):
    """[(family, labels, value)] a correct renderer gives for round r."""
    out = []
    add = lambda fam, labels, value: out.append((fam, labels, value))
    ctrls = check.parse_controllers(con.lines("controllers"))
    for dev, facts in sorted(ctrls.items()):
        smart = con.json("smart-%d-%s" % (r, dev))
        idc = con.json("id-ctrl-" + dev)
        d = {"device": dev}
        add("pve_nvme_info", dict(d, model=facts["model"], serial=facts["serial"],
                                  firmware=facts["firmware_rev"], transport=facts["transport"]), 1)
        add("pve_nvme_up", d, 1)
        add("pve_nvme_temperature_celsius", d, smart["temperature"] - 273.15)
        add("pve_nvme_temperature_warning_threshold_celsius", d, idc["wctemp"] - 273.15)
        add("pve_nvme_temperature_critical_threshold_celsius", d, idc["cctemp"] - 273.15)
        add("pve_nvme_critical_warning", d, smart["critical_warning"])
        for bit, flag in enumerate(check.NVME_FLAGS):
            add("pve_nvme_critical_warning_flag", dict(d, flag=flag), (smart["critical_warning"] >> bit) & 1)
        add("pve_nvme_available_spare_ratio", d, smart["avail_spare"] / 100)
        add("pve_nvme_available_spare_threshold_ratio", d, smart["spare_thresh"] / 100)
        add("pve_nvme_percentage_used_ratio", d, smart["percent_used"] / 100)
        add("pve_nvme_data_read_bytes_total", d, int(smart["data_units_read"]) * 1000 * 512)
        add("pve_nvme_data_written_bytes_total", d, int(smart["data_units_written"]) * 1000 * 512)
        add("pve_nvme_host_read_commands_total", d, int(smart["host_read_commands"]))
        add("pve_nvme_host_write_commands_total", d, int(smart["host_write_commands"]))
        add("pve_nvme_power_cycles_total", d, int(smart["power_cycles"]))
        add("pve_nvme_power_on_seconds_total", d, int(smart["power_on_hours"]) * 60 * 60)
        add("pve_nvme_unsafe_shutdowns_total", d, int(smart["unsafe_shutdowns"]))
        add("pve_nvme_media_errors_total", d, int(smart["media_errors"]))
        add("pve_nvme_error_log_entries_total", d, int(smart["num_err_log_entries"]))
    status = con.lines("dmsetup-status-%d" % r)
    table = {l.split(":")[0]: l.split() for l in con.lines("dmsetup-table-%d" % r)}
    for line in status:
        f = line.split()
        name = f[0].rstrip(":")
        if f[3] == "thin-pool":
            chunk = int(table[name][6])
            mu, mt = map(int, f[5].split("/"))
            du, dt = map(int, f[6].split("/"))
            key = {"vg": "labvg", "lv": "pool"}
            add("pve_thinpool_info", dict(key, dm_name=name), 1)
            add("pve_thinpool_up", key, 1)
            add("pve_thinpool_data_used_bytes", key, du * chunk * 512)
            add("pve_thinpool_data_size_bytes", key, dt * chunk * 512)
            add("pve_thinpool_metadata_used_bytes", key, mu * 4096)
            add("pve_thinpool_metadata_size_bytes", key, mt * 4096)
            add("pve_thinpool_block_size_bytes", key, chunk * 512)
            for mode in ("rw", "ro", "out_of_data_space"):
                add("pve_thinpool_mode", dict(key, mode=mode), 1 if mode == f[8] else 0)
            add("pve_thinpool_needs_check", key, 0)
            add("pve_disk_usage_bytes", {"id": "storage/%s/local-lvm" % NODE}, du * chunk * 512)
            add("pve_disk_size_bytes", {"id": "storage/%s/local-lvm" % NODE}, dt * chunk * 512)
        elif f[3] == "thin":
            lv = name.split("-", 1)[1].replace("--", "-")
            key = {"vg": "labvg", "lv": lv, "pool": "pool"}
            add("pve_thinpool_volume_size_bytes", key, int(f[2]) * 512)
            add("pve_thinpool_volume_mapped_bytes", key, int(f[4]) * 512)
    for chip, c in check.parse_sensors_u(con.lines("sensors-%d" % r)).items():
        add("pve_sensor_chip_info", {"chip": chip, "adapter": c["adapter"]}, 1)
        for sensor, feat in c["features"].items():
            key = {"chip": chip, "sensor": sensor, "label": feat["label"]}
            add("pve_sensor_temperature_celsius", key, feat["input"])
            add("pve_sensor_temperature_max_celsius", key, feat["max"])
            add("pve_sensor_temperature_crit_celsius", key, feat["crit"])
            add("pve_sensor_alarm", key, feat["alarm"])
    return out


def render(series):
    """Exposition text, families contiguous, with HELP and TYPE."""
    lines, seen = [], []
    for fam, _, _ in series:
        if fam not in seen:
            seen.append(fam)
    for fam in seen:
        lines.append("# HELP %s synthesized by check_selftest.py" % fam)
        lines.append("# TYPE %s %s" % (fam, "counter" if fam.endswith("_total") else "gauge"))
        for f, labels, value in series:
            if f == fam:
                lines.append("%s%s %s" % (fam, fmt_labels(labels), repr(float(value)) if value % 1 else int(value)))
    return lines


def console_with(text, extra):
    """The recording with extra[r] (exposition lines) inserted into metrics-r.
    The recorded metrics already hold pve_disk_* for the dir storage: the
    synthetic local-lvm samples go into that family, not a second one."""
    out, r = [], None
    lines = text.split("\n")
    for line in lines:
        m = re.fullmatch(r"@@@@ END metrics-(\d) rc=0", line)
        if m:
            out.extend(l for l in extra[int(m.group(1))] if not l.startswith("#") or "pve_disk_" not in l)
        out.append(line)
    return "\n".join(out)


def run_check(console_text):
    with tempfile.NamedTemporaryFile("w", suffix=".log", delete=False) as f:
        f.write(console_text)
    try:
        p = subprocess.run([sys.executable, os.path.join(HERE, "check.py"), "--console", f.name, "--node", NODE,
                            "--cluster", CLUSTER, "--worn-warning", WORN_WARNING, "--areas", "nvme,thin,sensors"],
                           capture_output=True, text=True)
        return p.returncode, p.stdout + p.stderr
    finally:
        os.unlink(f.name)


def main():
    text = open(os.path.join(HERE, "testdata", "console.log")).read()
    con = check.Console(text)
    base = {r: synth_round(con, r) for r in check.ROUNDS}
    problems = []

    rc, out = run_check(console_with(text, {r: render(base[r]) for r in base}))
    if rc != 0:
        problems.append("correct synthesized metrics did not pass (exit %d):\n%s" % (rc, out[-3000:]))

    def mutate(desc, r, fn):
        series = [s for s in (fn(f, l, v) for f, l, v in base[r]) if s]
        rc, out = run_check(console_with(text, {k: render(series if k == r else base[k]) for k in base}))
        fam = desc.split()[0]
        if rc != 1 or ("MISMATCH" not in out or fam not in out):
            problems.append("mutation '%s' (round %d) not caught (exit %d):\n%s" % (desc, r, rc, out[-1500:]))

    def bump(fam, delta, **where):
        return lambda f, l, v: (f, l, v + delta) if f == fam and all(l.get(k) == x for k, x in where.items()) else (f, l, v)

    def drop(fam):
        return lambda f, l, v: None if f == fam else (f, l, v)

    def relabel(fam, key, value):
        return lambda f, l, v: (f, dict(l, **{key: value}), v) if f == fam else (f, l, v)

    mutate("pve_nvme_temperature_celsius +1", 1, bump("pve_nvme_temperature_celsius", 1))
    mutate("pve_nvme_temperature_celsius as Kelvin", 1, bump("pve_nvme_temperature_celsius", 273.15))
    mutate("pve_nvme_data_written_bytes_total in 512-byte units", 1,
           lambda f, l, v: (f, l, v / 1000) if f == "pve_nvme_data_written_bytes_total" else (f, l, v))
    mutate("pve_nvme_critical_warning_flag bit off", 2,
           bump("pve_nvme_critical_warning_flag", -1, flag="temperature", device=con.config["healthy"]))
    mutate("pve_nvme_critical_warning_flag missing pmr_read_only", 1,
           lambda f, l, v: None if f == "pve_nvme_critical_warning_flag" and l["flag"] == "pmr_read_only" else (f, l, v))
    mutate("pve_nvme_error_log_entries_total grows", 2, bump("pve_nvme_error_log_entries_total", 1))
    mutate("pve_nvme_info serial", 1, relabel("pve_nvme_info", "serial", "x"))
    mutate("pve_nvme_power_on_seconds_total missing", 1, drop("pve_nvme_power_on_seconds_total"))
    mutate("pve_thinpool_data_used_bytes in blocks", 1,
           lambda f, l, v: (f, l, v / 65536) if f == "pve_thinpool_data_used_bytes" else (f, l, v))
    mutate("pve_thinpool_metadata_used_bytes +4096", 2, bump("pve_thinpool_metadata_used_bytes", 4096))
    mutate("pve_thinpool_mode rw=0", 1, bump("pve_thinpool_mode", -1, mode="rw"))
    mutate("pve_thinpool_volume_mapped_bytes +512", 1, bump("pve_thinpool_volume_mapped_bytes", 512))
    mutate("pve_thinpool_volume_size_bytes pool label", 1, relabel("pve_thinpool_volume_size_bytes", "pool", "data"))
    mutate("pve_disk_usage_bytes local-lvm", 1, bump("pve_disk_usage_bytes", 1))
    mutate("pve_sensor_temperature_max_celsius stale after over-temperature", 2,
           lambda f, l, v: (f, l, 69.85) if f == "pve_sensor_temperature_max_celsius" else (f, l, v))
    mutate("pve_sensor_alarm not raised", 2, lambda f, l, v: (f, l, 0) if f == "pve_sensor_alarm" else (f, l, v))
    mutate("pve_sensor_temperature_celsius +0.01", 1, bump("pve_sensor_temperature_celsius", 0.01))
    mutate("pve_sensor_chip_info missing", 1, drop("pve_sensor_chip_info"))

    rc, out = run_check(text)
    if rc != 1 or "pve_nvme_up" not in out:
        problems.append("the recording without hardware families did not fail (exit %d)" % rc)

    for p in problems:
        print("SELFTEST FAIL: " + p)
    print("check_selftest: %d problems" % len(problems))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
