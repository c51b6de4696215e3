#!/usr/bin/env python3
"""check.py — the verdict of the QEMU guest test (tests/vm), python3 stdlib only.

The guest (guest/scenario.sh) prints on its console, between
"@@@@ BEGIN <name>" and "@@@@ END <name> rc=<status>" lines, the aggregator's
/metrics and, at the same moment, what the kernel's own tools say: nvme-cli
(smart-log, id-ctrl), sysfs, dmsetup status/table, `sensors -u`, lvs. Two
rounds: as booted (metrics-1 ...) and after the healthy controller's
over-temperature threshold was lowered below its temperature (metrics-2 ...).

This script asserts that pvescope's values equal the tools' values, family by
family of the hardware metrics contract, and that the tools saw what the test
injected (otherwise the comparison would prove little). A contracted family
that is missing is a failure, never a skip.

usage: check.py --console LOG [--out DIR] --node N --cluster C --worn-warning 0x05
       [--areas nvme,thin,sensors]     (default: $VM_CHECK, else all three;
                                        "none": only the base checks)
Exit 0 pass, 1 mismatches, 2 the console cannot be used (guest aborted, a
section missing or unparsable).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import e2etool  # noqa: E402  (the project's exposition parser)

AREAS = ("nvme", "thin", "sensors")
ROUNDS = (1, 2)
NVME_FLAGS = ("spare", "temperature", "degraded", "read_only", "volatile_memory", "pmr_read_only")
SANITIZER_RE = re.compile(r"ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:|SUMMARY: (Address|Leak|Undefined)")


class Unusable(Exception):
    """The console log does not hold what the checks need (exit 2)."""


# ---------------------------------------------------------------- console


def parse_console(text):
    """Returns (sections: name -> (rc, [lines]), config: dict, flags: set of DONE/ABORT)."""
    sections, config, flags = {}, {}, set()
    current = None
    for raw in text.split("\n"):
        line = raw.rstrip("\r")
        if current is not None:
            name, rc_lines = current
            m = re.fullmatch(r"@@@@ END (\S+) rc=(\d+)", line)
            if m and m.group(1) == name:
                sections[name] = (int(m.group(2)), rc_lines)
                current = None
            elif line.startswith("@@@@ "):
                raise Unusable("marker %r inside section %s" % (line, name))
            else:
                rc_lines.append(line)
            continue
        m = re.fullmatch(r"@@@@ BEGIN (\S+)", line)
        if m:
            if m.group(1) in sections:
                raise Unusable("section %s printed twice" % m.group(1))
            current = (m.group(1), [])
        elif line.startswith("@@@@ CONFIG "):
            config = dict(kv.split("=", 1) for kv in line.split()[2:])
        elif line == "@@@@ DONE":
            flags.add("DONE")
        elif line.startswith("@@@@ ABORT"):
            flags.add(line)
    if current is not None:
        raise Unusable("section %s never ended (guest died?)" % current[0])
    return sections, config, flags


class Console:
    def __init__(self, text):
        self.sections, self.config, self.flags = parse_console(text)

    def lines(self, name, ok_status=True):
        if name not in self.sections:
            raise Unusable("section %s is missing from the console" % name)
        rc, lines = self.sections[name]
        if ok_status and rc != 0:
            raise Unusable("section %s: command exited %d: %s" % (name, rc, " | ".join(lines[-5:])))
        return lines

    def text(self, name):
        return "\n".join(self.lines(name)) + "\n"

    def json(self, name):
        try:
            return json.loads(self.text(name))
        except ValueError as e:
            raise Unusable("section %s is not JSON: %s" % (name, e))


# ----------------------------------------------------------- exposition


class Exposition:
    """Samples of one /metrics body: [(name, labels, value)] and family types."""

    def __init__(self, text, where):
        samples, self.types, problems = e2etool.parse_exposition(text)
        if problems:
            raise Unusable("%s: %d exposition problems, first: %s" % (where, len(problems), problems[0]))
        self.samples = []
        for key, value in samples.items():
            name, labels = e2etool.labels_of(key)
            self.samples.append((name, labels, e2etool.parse_value(value)))

    def family(self, name):
        return [(labels, value) for n, labels, value in self.samples if n == name]

    def select(self, name, **want):
        return [(labels, value) for labels, value in self.family(name)
                if all(labels.get(k) == v for k, v in want.items())]


# -------------------------------------------------------------- oracles


def parse_controllers(lines):
    """'nvme0 serial pvescope-healthy' lines -> {nvme0: {serial: ..., hwmon: ...}}."""
    ctrls = {}
    for line in lines:
        parts = line.split(None, 2)
        if len(parts) < 2:
            raise Unusable("controllers: bad line %r" % line)
        ctrls.setdefault(parts[0], {})[parts[1]] = parts[2].strip() if len(parts) > 2 else ""
    return ctrls


def sensors_chip_of_pci(address):
    """libsensors' name of the nvme hwmon chip of PCI function DDDD:BB:SS.F:
    nvme-pci-XXXX with XXXX = (domain << 16) + (bus << 8) + (slot << 3) + function."""
    m = re.fullmatch(r"([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])", address)
    if not m:
        raise Unusable("unexpected PCI address %r" % address)
    dom, bus, slot, fn = (int(x, 16) for x in m.groups())
    return "nvme-pci-%04x" % ((dom << 16) + (bus << 8) + (slot << 3) + fn)


def parse_sensors_u(lines):
    """`sensors -u` -> {chip: {"adapter": str, "features": {sensor: {"label": str, sub: float}}}}.
    Subfeature names are stripped of their feature prefix: temp1_input -> input."""
    chips, chip, label = {}, None, None
    for line in lines:
        if not line.strip():
            chip = None
            continue
        if chip is None:
            chip = chips.setdefault(line.strip(), {"adapter": None, "features": {}})
            label = None
        elif line.startswith("Adapter: "):
            chip["adapter"] = line[len("Adapter: "):]
        elif not line.startswith(" ") and line.endswith(":"):
            label = line[:-1]
        else:
            m = re.fullmatch(r"\s+([a-z]+\d+)_(\w+): (\S+)", line)
            if not m or label is None:
                raise Unusable("sensors -u: unexpected line %r" % line)
            feat = chip["features"].setdefault(m.group(1), {"label": label})
            if feat["label"] != label:
                raise Unusable("sensors -u: %s under two labels" % m.group(1))
            feat[m.group(2)] = float(m.group(3))
    return chips


def parse_dm_lines(lines, what):
    """`dmsetup status|table` -> {dm name: (length_sectors, target, [params])} (one target each)."""
    devs = {}
    for line in lines:
        m = re.fullmatch(r"(\S+): (\d+) (\d+) (\S+)(?: (.*))?", line.rstrip())
        if not m:
            raise Unusable("dmsetup %s: unexpected line %r" % (what, line))
        name, start, length, target, params = m.groups()
        if name in devs or start != "0":
            raise Unusable("dmsetup %s: %s has several targets" % (what, name))
        devs[name] = (int(length), target, (params or "").split())
    return devs


def dm_split_lvm_name(dm_name):
    """VG-LV[-layer] with '-' doubled inside names (libdm dm_split_lvm_name)."""
    parts, cur, i = [], [], 0
    while i < len(dm_name):
        c = dm_name[i]
        if c == "-" and dm_name[i + 1:i + 2] == "-":
            cur.append("-")
            i += 2
            continue
        if c == "-":
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur))
    if len(parts) < 2:
        raise Unusable("dm name %r is not VG-LV" % dm_name)
    return parts[0], parts[1], parts[2] if len(parts) > 2 else ""


def parse_thin_pool_status(params):
    """thin-pool status params -> dict (dm-thin.c pool_status)."""
    if params and params[0] in ("Fail", "Error"):
        return {"mode": params[0].lower()}
    if len(params) < 8:
        raise Unusable("thin-pool status too short: %r" % params)
    mu, mt = params[1].split("/")
    du, dt = params[2].split("/")
    return {"transaction": int(params[0]), "meta_used": int(mu), "meta_total": int(mt),
            "data_used": int(du), "data_total": int(dt), "mode": params[4],
            "needs_check": "needs_check" in params[7:]}


def parse_lvs(lines):
    """lvs --separator : --units b --nosuffix -o vg,lv,attr,size,pool,... -> {(vg, lv): fields}."""
    out = {}
    for line in lines:
        f = line.strip().split(":")
        if len(f) != 8:
            raise Unusable("lvs: unexpected line %r" % line)
        out[(f[0], f[1])] = {"attr": f[2], "size": int(f[3]), "pool": f[4]}
    return out


# --------------------------------------------------------------- checks


class Checker:
    def __init__(self, con, args):
        self.con, self.args = con, args
        self.failures, self.passed = [], 0
        self.node_labels = {"id": "node/" + args.node, "pve_cluster": args.cluster}
        self.metrics = {}
        for r in ROUNDS:
            self.metrics[r] = Exposition(con.text("metrics-%d" % r), "metrics-%d" % r)

    # -- assertion primitives
    def fail(self, msg):
        self.failures.append(msg)

    def expect(self, ok, msg):
        if ok:
            self.passed += 1
        else:
            self.fail(msg)
        return ok

    def one(self, r, name, **labels):
        """The value of the single series of family name with these labels (plus
        the node labels) in round r; a failure (and None) when missing or ambiguous."""
        got = self.metrics[r].select(name, **self.node_labels, **labels)
        where = "round %d: %s{%s}" % (r, name, ",".join('%s="%s"' % kv for kv in labels.items()))
        if not got:
            self.fail(where + " is missing" + ("" if self.metrics[r].family(name) else
                                                " (no series of the family at all)"))
            return None
        if len(got) > 1:
            self.fail(where + " matches %d series" % len(got))
            return None
        return got[0][1]

    def equal(self, r, name, labels, want, exact=True, what=""):
        got = self.one(r, name, **labels)
        if got is None:
            return
        ok = got == want if exact else abs(got - want) <= 1e-9 * max(1.0, abs(want))
        self.expect(ok, "round %d: %s{%s} = %r, the kernel's tools say %r%s" % (
            r, name, ",".join('%s="%s"' % kv for kv in labels.items()), got, want,
            " (" + what + ")" if what else ""))

    def close(self, r, name, labels, want, tol, what=""):
        got = self.one(r, name, **labels)
        if got is not None:
            self.expect(abs(got - want) <= tol, "round %d: %s{%s} = %r, %s says %r" % (
                r, name, ",".join('%s="%s"' % kv for kv in labels.items()), got, what or "the oracle", want))

    def label_sets(self, r, prefix, allowed):
        """Every series of the families starting with prefix carries the node
        labels and, besides them, exactly the contracted label names."""
        extra = set(self.node_labels)
        for name, labels, _ in self.metrics[r].samples:
            if not name.startswith(prefix):
                continue
            want = allowed.get(name)
            if want is None:
                continue
            for k, v in self.node_labels.items():
                self.expect(labels.get(k) == v, "round %d: %s%s lacks %s=%r" % (r, name, labels, k, v))
            self.expect(set(labels) - extra == set(want),
                        "round %d: %s has labels %s, the contract says %s" % (
                            r, name, sorted(set(labels) - extra), sorted(want)))

    # -- base: the guest ran, the daemons were clean, every collector succeeded
    def check_base(self):
        con = self.con
        self.expect("DONE" in con.flags, "the guest scenario did not finish")
        status = dict(line.split(None, 1) for line in con.lines("exit-status"))
        for d in ("agent", "aggregator"):
            self.expect(status.get(d) == "0", "%s exit status after SIGTERM: %s" % (d, status.get(d)))
        for log in ("agent-log", "aggregator-log"):
            lines = con.lines(log)
            bad = [l for l in lines if SANITIZER_RE.search(l)]
            self.expect(not bad, "%s: sanitizer report: %s" % (log, bad[:3]))
            errors = [l for l in lines if l.startswith("<3>") or l.startswith("<2>")]
            self.expect(not errors, "%s: error lines: %s" % (log, errors[:5]))
        for r in ROUNDS:
            self.equal(r, "pve_up", {}, 1)
            succ = self.metrics[r].select("pvescope_collector_success", **self.node_labels)
            self.expect(bool(succ), "round %d: no pvescope_collector_success series" % r)
            for labels, v in succ:
                self.expect(v == 1, "round %d: collector %s did not succeed" % (r, labels.get("collector")))
            for labels, v in self.metrics[r].select("pvescope_collector_warnings_total", **self.node_labels):
                self.expect(v == 0, "round %d: collector %s counted %g warnings" % (r, labels.get("collector"), v))
            self.promtool(r)

    def promtool(self, r):
        tool = shutil.which("promtool")
        if not tool:
            print("note: promtool not on PATH, exposition lint not run")
            return
        text = self.con.text("metrics-%d" % r)
        p = subprocess.run([tool, "check", "metrics"], input=text, capture_output=True, text=True)
        out = (p.stdout + p.stderr).strip()
        self.expect(p.returncode == 0 and not out, "round %d: promtool check metrics (exit %d): %s" % (
            r, p.returncode, out[:2000]))

    # -- NVMe
    def check_nvme(self):
        con, cfg = self.con, self.con.config
        ctrls = parse_controllers(con.lines("controllers"))
        healthy, worn = cfg["healthy"], cfg["worn"]
        injected = int(self.args.worn_warning, 0)
        for r in ROUNDS:
            self.label_sets(r, "pve_nvme_", NVME_LABELS)
        err_entries = {}
        for dev in (healthy, worn):
            sysfs = ctrls.get(dev) or {}
            idc = con.json("id-ctrl-" + dev)
            info = {"device": dev, "model": sysfs.get("model", "").strip(),
                    "serial": sysfs.get("serial", "").strip(), "firmware": sysfs.get("firmware_rev", "").strip(),
                    "transport": sysfs.get("transport", "").strip()}
            self.expect(info["serial"] == idc["sn"].strip() and info["model"] == idc["mn"].strip(),
                        "%s: sysfs and id-ctrl disagree on serial/model" % dev)
            for r in ROUNDS:
                smart = con.json("smart-%d-%s" % (r, dev))
                cw = int(smart["critical_warning"])
                # the oracle saw what was injected: else the comparison proves little
                if dev == worn:
                    self.expect(cw == injected, "round %d: %s smart-log critical_warning %#x, QEMU was given %#x" % (
                        r, dev, cw, injected))
                elif r == 1:
                    self.expect(cw == 0, "round 1: healthy %s has critical_warning %#x" % (dev, cw))
                else:
                    self.expect(cw == 0x02, "round 2: healthy %s critical_warning %#x after the over-temperature "
                                "threshold, expected 0x02" % (dev, cw))
                if dev == healthy:
                    self.expect(int(smart["data_units_written"]) >= 16 * 1048576 // 512000,
                                "%s wrote 16 MiB but smart-log says %s data units" % (dev, smart["data_units_written"]))
                d = {"device": dev}
                self.equal(r, "pve_nvme_info", info, 1)
                self.equal(r, "pve_nvme_up", d, 1)
                self.equal(r, "pve_nvme_temperature_celsius", d, int(smart["temperature"]) - 273.15, exact=False,
                           what="smart-log temperature %s K" % smart["temperature"])
                self.equal(r, "pve_nvme_temperature_warning_threshold_celsius", d, idc["wctemp"] - 273.15,
                           exact=False, what="id-ctrl wctemp")
                self.equal(r, "pve_nvme_temperature_critical_threshold_celsius", d, idc["cctemp"] - 273.15,
                           exact=False, what="id-ctrl cctemp")
                self.equal(r, "pve_nvme_critical_warning", d, cw)
                flags = self.metrics[r].select("pve_nvme_critical_warning_flag", **self.node_labels, device=dev)
                self.expect(sorted(l["flag"] for l, _ in flags) == sorted(NVME_FLAGS),
                            "round %d: %s critical_warning_flag series %s, expected one per %s" % (
                                r, dev, sorted(l.get("flag") for l, _ in flags), NVME_FLAGS))
                for bit, flag in enumerate(NVME_FLAGS):
                    self.equal(r, "pve_nvme_critical_warning_flag", dict(d, flag=flag), (cw >> bit) & 1,
                               what="bit %d of %#x" % (bit, cw))
                self.equal(r, "pve_nvme_available_spare_ratio", d, int(smart["avail_spare"]) / 100, exact=False)
                self.equal(r, "pve_nvme_available_spare_threshold_ratio", d, int(smart["spare_thresh"]) / 100,
                           exact=False)
                self.equal(r, "pve_nvme_percentage_used_ratio", d, int(smart["percent_used"]) / 100, exact=False)
                for fam, key, scale in NVME_COUNTERS:
                    self.equal(r, fam, d, int(smart[key]) * scale, what="%s %s x %d" % (key, smart[key], scale))
                got = self.metrics[r].select("pve_nvme_error_log_entries_total", **self.node_labels, **d)
                err_entries.setdefault(dev, []).append((got[0][1] if len(got) == 1 else None,
                                                        int(smart["num_err_log_entries"])))
        # our polling (a cycle a second) must not make the controller log errors
        for dev, rounds in err_entries.items():
            (m1, s1), (m2, s2) = rounds
            self.expect(s1 == s2, "%s: the error log grew from %d to %d entries between the rounds" % (dev, s1, s2))
            if m1 is not None and m2 is not None:
                self.expect(m1 == m2, "%s: pve_nvme_error_log_entries_total grew from %g to %g" % (dev, m1, m2))

    # -- thin pools
    def check_thin(self):
        con = self.con
        lvs = parse_lvs(con.lines("lvs"))
        for r in ROUNDS:
            self.label_sets(r, "pve_thinpool_", THIN_LABELS)
            status = parse_dm_lines(con.lines("dmsetup-status-%d" % r), "status")
            table = parse_dm_lines(con.lines("dmsetup-table-%d" % r), "table")
            devno = self.dm_devnos(r)
            pools = {n: s for n, s in status.items() if s[1] == "thin-pool"}
            self.expect(len(pools) == 1, "round %d: dmsetup shows %d thin pools, the guest made 1" % (r, len(pools)))
            pool_lv_of_devno = {}
            for dm_name, (length, _, params) in pools.items():
                vg, lv, layer = dm_split_lvm_name(dm_name)
                pool_lv_of_devno[devno.get(dm_name)] = (vg, lv)
                st = parse_thin_pool_status(params)
                chunk = int(table[dm_name][2][2])          # data block size, sectors
                key = {"vg": vg, "lv": lv}
                data_used = st["data_used"] * chunk * 512
                data_size = st["data_total"] * chunk * 512
                self.expect(data_size == lvs[(vg, lv)]["size"],
                            "oracle: dmsetup pool size %d != lvs size %d" % (data_size, lvs[(vg, lv)]["size"]))
                self.equal(r, "pve_thinpool_info", dict(key, dm_name=dm_name), 1)
                self.equal(r, "pve_thinpool_up", key, 1)
                self.equal(r, "pve_thinpool_data_used_bytes", key, data_used,
                           what="%d blocks x %d sectors x 512" % (st["data_used"], chunk))
                self.equal(r, "pve_thinpool_data_size_bytes", key, data_size)
                self.equal(r, "pve_thinpool_metadata_used_bytes", key, st["meta_used"] * 4096)
                self.equal(r, "pve_thinpool_metadata_size_bytes", key, st["meta_total"] * 4096)
                self.equal(r, "pve_thinpool_block_size_bytes", key, chunk * 512)
                self.equal(r, "pve_thinpool_needs_check", key, 1 if st["needs_check"] else 0)
                modes = self.metrics[r].select("pve_thinpool_mode", **self.node_labels, **key)
                self.expect(any(l["mode"] == st["mode"] for l, _ in modes),
                            "round %d: no pve_thinpool_mode{mode=%r} for %s/%s" % (r, st["mode"], vg, lv))
                for labels, v in modes:
                    self.expect(v == (1 if labels["mode"] == st["mode"] else 0),
                                "round %d: pve_thinpool_mode%s = %g, dmsetup says mode %s" % (r, labels, v, st["mode"]))
                # the PVE storage on this pool (storage.cfg lvmthin: local-lvm)
                sid = {"id": "storage/%s/local-lvm" % self.args.node}
                for fam, want in (("pve_disk_usage_bytes", data_used), ("pve_disk_size_bytes", data_size)):
                    got = self.metrics[r].select(fam, **sid)
                    if self.expect(len(got) == 1, "round %d: %s{id=%r}: %d series" % (r, fam, sid["id"], len(got))):
                        self.expect(got[0][1] == want, "round %d: %s{id=%r} = %r, dmsetup says %r" % (
                            r, fam, sid["id"], got[0][1], want))
            vols = {n: s for n, s in status.items() if s[1] == "thin"}
            self.expect(len(vols) == 2, "round %d: dmsetup shows %d thin volumes, the guest made 2" % (r, len(vols)))
            for dm_name, (length, _, params) in vols.items():
                vg, lv, _ = dm_split_lvm_name(dm_name)
                pool = pool_lv_of_devno.get(table[dm_name][2][0])
                if not self.expect(pool is not None, "%s: its pool %s is not a thin pool" % (dm_name, table[dm_name][2][0])):
                    continue
                if not self.expect(len(params) == 2 and params[0].isdigit(),
                                   "round %d: thin volume %s status %r" % (r, dm_name, params)):
                    continue
                mapped = int(params[0])
                if lv == "thin1":   # the oracle parse is right: 16 MiB were written
                    self.expect(mapped * 512 == 16 * 1048576, "oracle: thin1 maps %d sectors" % mapped)
                key = {"vg": vg, "lv": lv, "pool": pool[1]}
                self.equal(r, "pve_thinpool_volume_size_bytes", key, length * 512)
                self.equal(r, "pve_thinpool_volume_mapped_bytes", key, mapped * 512,
                           what="%s mapped sectors x 512" % params[0])

    def dm_devnos(self, r):
        """dm name -> "MAJ:MIN" from `dmsetup ls` (lines "name<TAB>(254:2)")."""
        out = {}
        for line in self.con.lines("dmsetup-ls-%d" % r):
            m = re.fullmatch(r"(\S+)\s+\((\d+):(\d+)\)", line.strip())
            if not m:
                raise Unusable("dmsetup ls: unexpected line %r" % line)
            out[m.group(1)] = "%s:%s" % (m.group(2), m.group(3))
        return out

    # -- hwmon via libsensors
    def check_sensors(self):
        con, cfg = self.con, self.con.config
        ctrls = parse_controllers(con.lines("controllers"))
        healthy_chip = sensors_chip_of_pci(ctrls[cfg["healthy"]]["address"])
        worn_chip = sensors_chip_of_pci(ctrls[cfg["worn"]]["address"])
        for r in ROUNDS:
            self.label_sets(r, "pve_sensor_", SENSOR_LABELS)
            chips = parse_sensors_u(con.lines("sensors-%d" % r))
            self.expect(healthy_chip in chips and worn_chip in chips,
                        "round %d: sensors shows %s, expected %s and %s" % (r, sorted(chips), healthy_chip, worn_chip))
            n_temps = 0
            for chip, c in chips.items():
                self.equal(r, "pve_sensor_chip_info", {"chip": chip, "adapter": c["adapter"]}, 1)
                for sensor, f in c["features"].items():
                    if not sensor.startswith("temp") or "input" not in f:
                        continue
                    n_temps += 1
                    key = {"chip": chip, "sensor": sensor, "label": f["label"]}
                    # sensors -u prints three decimals
                    self.close(r, "pve_sensor_temperature_celsius", key, f["input"], 0.0005, "sensors -u")
                    if "max" in f:
                        self.close(r, "pve_sensor_temperature_max_celsius", key, f["max"], 0.0005, "sensors -u")
                    if "crit" in f:
                        self.close(r, "pve_sensor_temperature_crit_celsius", key, f["crit"], 0.0005, "sensors -u")
                    if "alarm" in f:
                        self.equal(r, "pve_sensor_alarm", key, f["alarm"])
                    if chip in (healthy_chip, worn_chip):
                        # nvme hwmon's alarm is SMART critical_warning bit 1:
                        # injected on the worn one, the threshold on the healthy one
                        hot = (r == 2) if chip == healthy_chip else bool(int(self.args.worn_warning, 0) & 0x02)
                        want_alarm = 1.0 if hot else 0.0
                        self.expect(f.get("alarm") == want_alarm, "round %d: oracle: %s alarm %s, expected %s" % (
                            r, chip, f.get("alarm"), want_alarm))
            self.expect(n_temps >= 2, "round %d: sensors -u shows %d temperatures" % (r, n_temps))


NVME_COUNTERS = (
    ("pve_nvme_data_read_bytes_total", "data_units_read", 512000),
    ("pve_nvme_data_written_bytes_total", "data_units_written", 512000),
    ("pve_nvme_host_read_commands_total", "host_read_commands", 1),
    ("pve_nvme_host_write_commands_total", "host_write_commands", 1),
    ("pve_nvme_power_cycles_total", "power_cycles", 1),
    ("pve_nvme_power_on_seconds_total", "power_on_hours", 3600),
    ("pve_nvme_unsafe_shutdowns_total", "unsafe_shutdowns", 1),
    ("pve_nvme_media_errors_total", "media_errors", 1),
    ("pve_nvme_error_log_entries_total", "num_err_log_entries", 1),
)
NVME_LABELS = {
    "pve_nvme_info": ("device", "model", "serial", "firmware", "transport"),
    "pve_nvme_critical_warning_flag": ("device", "flag"),
}
for _fam in ("pve_nvme_up", "pve_nvme_temperature_celsius", "pve_nvme_temperature_warning_threshold_celsius",
             "pve_nvme_temperature_critical_threshold_celsius", "pve_nvme_critical_warning",
             "pve_nvme_available_spare_ratio", "pve_nvme_available_spare_threshold_ratio",
             "pve_nvme_percentage_used_ratio") + tuple(c[0] for c in NVME_COUNTERS):
    NVME_LABELS[_fam] = ("device",)
THIN_LABELS = {
    "pve_thinpool_info": ("vg", "lv", "dm_name"),
    "pve_thinpool_mode": ("vg", "lv", "mode"),
    "pve_thinpool_volume_size_bytes": ("vg", "lv", "pool"),
    "pve_thinpool_volume_mapped_bytes": ("vg", "lv", "pool"),
}
for _fam in ("pve_thinpool_up", "pve_thinpool_data_used_bytes", "pve_thinpool_data_size_bytes",
             "pve_thinpool_metadata_used_bytes", "pve_thinpool_metadata_size_bytes",
             "pve_thinpool_block_size_bytes", "pve_thinpool_needs_check"):
    THIN_LABELS[_fam] = ("vg", "lv")
SENSOR_LABELS = {
    "pve_sensor_chip_info": ("chip", "adapter"),
    "pve_sensor_temperature_celsius": ("chip", "sensor", "label"),
    "pve_sensor_temperature_max_celsius": ("chip", "sensor", "label"),
    "pve_sensor_temperature_crit_celsius": ("chip", "sensor", "label"),
    "pve_sensor_alarm": ("chip", "sensor", "label"),
}


def save_dumps(con, out):
    """The sections as files (metrics-1.prom, smart-1-nvme0.json, ...), for a human."""
    os.makedirs(out, exist_ok=True)
    for name, (rc, lines) in con.sections.items():
        ext = ".prom" if name.startswith("metrics-") else ".txt"
        with open(os.path.join(out, name + ext), "w") as f:
            f.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--console", required=True)
    ap.add_argument("--out")
    ap.add_argument("--node", required=True)
    ap.add_argument("--cluster", required=True)
    ap.add_argument("--worn-warning", required=True)
    ap.add_argument("--areas", default=os.environ.get("VM_CHECK") or ",".join(AREAS))
    args = ap.parse_args()
    areas = [a for a in args.areas.split(",") if a and a != "none"]
    unknown = set(areas) - set(AREAS)
    if unknown:
        print("check.py: unknown areas %s (known: %s)" % (sorted(unknown), ",".join(AREAS)), file=sys.stderr)
        return 2
    with open(args.console, encoding="utf-8", errors="replace") as f:
        text = f.read()
    try:
        con = Console(text)
        if args.out:
            save_dumps(con, args.out)
        aborts = [f for f in con.flags if f.startswith("@@@@ ABORT")]
        if aborts:
            raise Unusable("the guest gave up: " + aborts[0][len("@@@@ ABORT "):])
        for k in ("node", "cluster", "healthy", "worn"):
            if k not in con.config:
                raise Unusable("no @@@@ CONFIG line with %s" % k)
        if con.config["node"] != args.node or con.config["cluster"] != args.cluster:
            raise Unusable("the guest ran as %s/%s" % (con.config["node"], con.config["cluster"]))
        ck = Checker(con, args)
        ck.check_base()
        for area in areas:
            getattr(ck, "check_" + area)()
    except Unusable as e:
        print("check.py: UNUSABLE console: %s" % e, file=sys.stderr)
        return 2
    except (KeyError, ValueError, TypeError) as e:
        print("check.py: UNUSABLE oracle output: %r" % (e,), file=sys.stderr)
        return 2
    for msg in ck.failures:
        print("MISMATCH " + msg)
    print("check.py: areas %s (+ base): %d assertions held, %d failed" % (
        ",".join(areas), ck.passed, len(ck.failures)))
    skipped = sorted(set(AREAS) - set(areas))
    if skipped:
        print("check.py: NOT checked (VM_CHECK): %s" % ",".join(skipped))
    return 1 if ck.failures else 0


if __name__ == "__main__":
    sys.exit(main())
