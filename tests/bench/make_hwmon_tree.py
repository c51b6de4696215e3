#!/usr/bin/env python3
"""make_hwmon_tree.py — writes the hwmon part of a typical Proxmox server's
/sys/class for the hardware benchmark: a CPU package sensor with 8 cores, an
NVMe drive, an ACPI thermal zone and a Super-I/O chip with voltages, fans and
temperatures (39 sensor features, 130 readable values in all).

usage: make_hwmon_tree.py ROOT      (writes ROOT/sys/class/hwmon/hwmonN/...,
                                     and an empty ROOT/sys/class/nvme)

One NVMe chip only: the chips have no `device` link (the tree is not a whole
sysfs), so node_exporter names a chip by its `name` file and would merge two
"nvme" chips into one.

The files are plain files: libsensors (through a bind mount of ROOT/sys/class
on /sys/class) and node_exporter (--path.sysfs) read the same values."""
import os
import sys


def chip(root, n, name, attrs):
    d = os.path.join(root, "sys", "class", "hwmon", f"hwmon{n}")
    os.makedirs(d, exist_ok=True)
    attrs = dict(attrs, name=name)
    for key, value in attrs.items():
        with open(os.path.join(d, key), "w") as f:
            f.write(f"{value}\n")


def temps(first, count, base_mc, label=None, limits=True):
    out = {}
    for i in range(first, first + count):
        out[f"temp{i}_input"] = base_mc + 1000 * i
        if label:
            out[f"temp{i}_label"] = label(i)
        if limits:
            out[f"temp{i}_max"] = 80000
            out[f"temp{i}_crit"] = 100000
            out[f"temp{i}_crit_alarm"] = 0
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = sys.argv[1]
    chip(root, 0, "acpitz", {"temp1_input": 27800, "temp1_crit": 119000})
    chip(root, 1, "coretemp", temps(1, 9, 40000,
                                    lambda i: "Package id 0" if i == 1 else f"Core {i - 2}"))
    a = temps(1, 3, 35000, lambda i: "Composite" if i == 1 else f"Sensor {i - 1}")
    a.update(temp1_min=-273150, temp1_alarm=0)
    chip(root, 2, "nvme", a)
    sio = {}
    for i in range(0, 15):
        sio.update({f"in{i}_input": 1000 + 17 * i, f"in{i}_min": 0, f"in{i}_max": 1744 + i,
                    f"in{i}_alarm": 0})
    for i in range(1, 6):
        sio.update({f"fan{i}_input": 800 + 100 * i, f"fan{i}_min": 0, f"fan{i}_alarm": 0})
    sio.update(temps(1, 6, 30000, lambda i: ["SYSTIN", "CPUTIN", "AUXTIN0", "AUXTIN1",
                                             "AUXTIN2", "AUXTIN3"][i - 1]))
    chip(root, 3, "nct6798", sio)
    os.makedirs(os.path.join(root, "sys", "class", "nvme"), exist_ok=True)


if __name__ == "__main__":
    main()
