#!/bin/sh
# sensors_hwmon.sh — the sensors collector with the real libsensors on a
# fake hwmon tree, in a private mount namespace.
#
# libsensors always reads /sys (its sysfs root is not exported), so the test
# bind-mounts a generated tree over /sys/class inside `unshare -m`, where
# nothing leaks to the host. It then runs
#   1. TEST_BINARY (test_sensors_hwmon.c): exact values of every chip, the
#      broken chips (a non-numeric attribute, EIO, a vanished device), the
#      configuration fallback, hotplug reloads, and `sensors -u` agreement;
#   2. the agent itself (`--dump`, only the sensors collector) on the same
#      tree, checked line by line for one chip.
# Exits 77 (skipped) only when no mount namespace can be made (not root, or
# unshare/mount forbidden); everything else is a pass or a failure.
#
# Usage: sensors_hwmon.sh TEST_BINARY AGENT
# PVESCOPE_TEST_WRAPPER="gdb -batch -ex run -ex bt --args" runs the test
# binary under a debugger (or valgrind, strace) inside the namespace.
set -eu
test_bin=$1
agent=$2

if [ "$(id -u)" != 0 ]; then
    echo "sensors_hwmon: skipped: needs root for a private mount namespace"
    exit 77
fi
if ! unshare -m sh -c 'mount -t tmpfs pvescope-probe /mnt' 2>/dev/null; then
    echo "sensors_hwmon: skipped: unshare -m / mount not permitted here"
    exit 77
fi
if [ ! -f /etc/sensors3.conf ]; then
    echo "sensors_hwmon: /etc/sensors3.conf missing (libsensors-config not installed?)" >&2
    exit 1
fi

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# attr DIR NAME VALUE: one sysfs attribute file.
attr() { printf '%s\n' "$3" >"$T/class/hwmon/$1/$2"; }
chip() { mkdir -p "$T/class/hwmon/$1"; attr "$1" name "$2"; }

chip hwmon0 coretemp
attr hwmon0 temp1_label "Package id 0"
attr hwmon0 temp1_input 45000
attr hwmon0 temp1_max 80000
attr hwmon0 temp1_crit 100000
attr hwmon0 temp1_crit_alarm 1
attr hwmon0 temp2_label "Core 0"
attr hwmon0 temp2_input 51500
attr hwmon0 temp2_max 80000
attr hwmon0 temp2_crit 100000
attr hwmon0 temp2_crit_alarm 0

# A board chip with every kind; the test configuration relabels in1,
# doubles in0 and ignores in2.
chip hwmon1 pvetest
attr hwmon1 in0_input 1024
attr hwmon1 in0_min 900
attr hwmon1 in0_max 1200
attr hwmon1 in0_lcrit 800
attr hwmon1 in0_crit 1300
attr hwmon1 in0_alarm 0
attr hwmon1 in1_label 3VCC
attr hwmon1 in1_input 3312
attr hwmon1 in2_input 5000
attr hwmon1 fan1_input 1200
attr hwmon1 fan1_min 300
attr hwmon1 fan1_max 5000
attr hwmon1 fan1_alarm 0
attr hwmon1 fan2_input 0
attr hwmon1 fan2_fault 1
attr hwmon1 fan2_alarm 1
attr hwmon1 temp1_input -5500
attr hwmon1 temp1_lcrit -10000
attr hwmon1 temp1_min -8000
attr hwmon1 temp1_lcrit_alarm 0
attr hwmon1 temp1_fault 0
attr hwmon1 power1_average 15500000
attr hwmon1 power1_max 120000000
attr hwmon1 power1_crit 150000000
attr hwmon1 power1_alarm 0
attr hwmon1 power2_input 30000000
attr hwmon1 power2_average 20000000
attr hwmon1 curr1_input 2500
attr hwmon1 curr1_min 0
attr hwmon1 curr1_max 10000
attr hwmon1 curr1_crit 12000
attr hwmon1 curr1_crit_alarm 1
attr hwmon1 energy1_input 123456789000
attr hwmon1 humidity1_input 45500
attr hwmon1 intrusion0_alarm 1

# One unparsable attribute: costs that reading only.
chip hwmon2 broken
attr hwmon2 temp1_input abc
attr hwmon2 in0_input 3000

# Every attribute of these two is replaced by the test binary: reads of
# "eio" fail with EIO, and "gone" behaves like a removed device (open fails).
chip hwmon3 eio
attr hwmon3 temp1_input 1
attr hwmon3 temp1_max 1
chip hwmon4 gone
attr hwmon4 temp1_input 1
attr hwmon4 fan1_input 1

mkdir -p "$T/etc/sensors.d"
cat >"$T/etc/good.conf" <<'EOF'
# pvescope test configuration
chip "pvetest-*"
    label in1 "+3.3V rail"
    compute in0 @*2, @/2
    ignore in2
EOF
# A parse error libsensors cannot recover from (a bad keyword at the end of
# the file, no newline) fails sensors_init; one on a line of its own only
# loses that line.
printf 'chip "pvetest-*"\n    label in1 "+3.3V rail"\n    bogus' >"$T/etc/bad.conf"
# (A malformed compute expression would do too, but libsensors 3.6.0 leaks
# its pieces, which LeakSanitizer rightly reports in the Asan build.)
cat >"$T/etc/lax.conf" <<'EOF'
chip "pvetest-*"
    label in1 "+3.3V rail"
    bogus in0
    ignore in2
EOF
: >"$T/etc/empty.conf"

# 1. The collector, step by step.
rc=0
unshare -m sh -c '
    set -e
    refused() { echo "sensors_hwmon: skipped: bind mount on $1 refused"; exit 77; }
    mount --bind "$1/class" /sys/class || refused /sys/class
    mount --bind "$1/etc/good.conf" /etc/sensors3.conf || refused /etc/sensors3.conf
    if [ -d /etc/sensors.d ]; then mount --bind "$1/etc/sensors.d" /etc/sensors.d || refused /etc/sensors.d; fi
    PVESCOPE_FAKE_HWMON=$1 ${PVESCOPE_TEST_WRAPPER:-} "$2"
' sh "$T" "$test_bin" || rc=$?
if [ "$rc" != 0 ]; then
    [ "$rc" = 77 ] && echo "sensors_hwmon: skipped: a bind mount was refused"
    exit "$rc"
fi

# 2. The agent binary on the same tree: the collector is registered, on by
# default, and its chip reaches the report.
others=$("$agent" --help | awk '/^Collectors/ { on = 1; next } on && NF { print $1 }' | grep -vx sensors)
set --
for c in $others; do set -- "$@" "--no-collector.$c"; done
unshare -m sh -c '
    set -e
    T=$1; agent=$2; shift 2
    mount --bind "$T/class" /sys/class
    mount --bind "$T/etc/good.conf" /etc/sensors3.conf
    exec "$agent" --dump --node t1 --cluster c1 "$@"
' sh "$T" "$agent" "$@" >"$T/dump.txt" 2>"$T/dump.err"

# The coretemp chip's block, from its name line to its closing brace.
awk '/^sensor_chips: \{$/ { buf = $0 "\n"; grab = 1; next }
     grab { buf = buf $0 "\n" }
     grab && /^}$/ { if (buf ~ /name: "coretemp-virtual-0"/) printf "%s", buf; grab = 0 }' \
    "$T/dump.txt" >"$T/coretemp.got"
cat >"$T/coretemp.want" <<'EOF'
sensor_chips: {
  name: "coretemp-virtual-0"
  adapter: "Virtual device"
  features: {
    name: "temp1"
    label: "Package id 0"
    kind: 1
    input: 45
    max: 80
    crit: 100
    alarm: true
    read_errors: 0
  }
  features: {
    name: "temp2"
    label: "Core 0"
    kind: 1
    input: 51.5
    max: 80
    crit: 100
    alarm: false
    read_errors: 0
  }
}
EOF
if ! diff -u "$T/coretemp.want" "$T/coretemp.got"; then
    echo "sensors_hwmon: agent --dump differs (full dump and log below)" >&2
    cat "$T/dump.txt" "$T/dump.err" >&2
    exit 1
fi
# Exactly the five chips, and the broken one made the cycle a warning.
n=$(grep -c '^sensor_chips: {$' "$T/dump.txt")
if [ "$n" != 5 ]; then
    echo "sensors_hwmon: agent --dump lists $n chips, expected 5" >&2
    exit 1
fi
grep -q '^  error: "1 readings failed"$' "$T/dump.txt" || {
    echo "sensors_hwmon: agent --dump lacks the sensors warning" >&2
    cat "$T/dump.txt" >&2
    exit 1
}
echo "sensors_hwmon: agent --dump agrees"
