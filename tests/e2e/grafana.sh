#!/usr/bin/env bash
# grafana.sh — every query of the Grafana dashboards in packaging/grafana run
# against a real Prometheus scraping a real aggregator fed by real agents.
#
# The cluster is the 7-node fixture of cluster.sh (make_cluster_fixture.py):
# agents for pve1 pve2 pve4 pve5 pve7, none for pve3 (online in .members, so
# pve_up 0) and pve6 (offline). pve1 also has every hardware section:
#   - sensors: a hwmon tree bind-mounted over /sys/class in a private mount
#     namespace (libsensors always reads /sys), with an empty sensors3.conf;
#   - ZFS: tests/fixtures/zfs/mixed's kstats in its --path.procfs;
#   - NVMe: tests/fixtures/nvme's controllers in its --path.sysfs; their SMART
#     log needs an admin ioctl on /dev/nvmeN and thin pools need dm ioctls, so
#     pve1 sends through `pvescope-e2e-inject relay`, which adds SMART readings
#     and the thin pool pve/data to each report (values in inject.c).
# dashboards.py then runs every templating and panel query with
# pve_cluster=prod-fra1, node=pve1, guest=qemu/100 (VM 100 runs on pve1 with
# live counters) and requires each to return data.
#
# usage: grafana.sh PVESCOPE_AGENT PVESCOPE_AGGREGATOR PVESCOPE_E2E_INJECT
# Exit 0 pass, 1 fail, 77 skipped (a prerequisite is missing: not root for the
# mount namespace, prometheus, python3, curl).
# shellcheck disable=SC2034 # read by lib.sh
E2E_NAME=grafana
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 3 ]] || { echo "usage: $0 PVESCOPE_AGENT PVESCOPE_AGGREGATOR PVESCOPE_E2E_INJECT" >&2; exit 2; }
AGENT=$1
AGGREGATOR=$2
INJECT=$3
PROMETHEUS=${PROMETHEUS:-prometheus}
FIX=$(cd "$E2E_HERE/../fixtures" && pwd)
SRC=$(cd "$E2E_HERE/../.." && pwd)
C=prod-fra1

[[ -x $AGENT && -x $AGGREGATOR && -x $INJECT ]] || e2e_fail "not executable: $AGENT / $AGGREGATOR / $INJECT"
e2e_require_cmd python3 curl unshare "$PROMETHEUS"
[[ $(id -u) == 0 ]] || e2e_skip "needs root for a private mount namespace (the hwmon tree for libsensors)"
unshare -m sh -c 'mount -t tmpfs pvescope-probe /mnt' 2>/dev/null || e2e_skip "unshare -m / mount not permitted here"

e2e_init
T=$E2E_TMP
T0=$(e2e_now_us)
N=$T/nodes
python3 "$E2E_HERE/make_cluster_fixture.py" make "$FIX" "$N" || e2e_fail "make_cluster_fixture.py make failed"

# ---- pve1's storage and hardware ------------------------------------------------
# Its own root (pve-manager's version from pve-root, the dir storage `local`'s
# /var/lib/vz) and a mountinfo, so its storage collector measures `local`.
mkdir -p "$T/root1/var/lib/vz" "$N/pve1/proc/self"
ln -s "$FIX/pve-root/usr" "$T/root1/usr"
echo '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw' >"$N/pve1/proc/self/mountinfo"
cp -r "$FIX/zfs/mixed/proc/spl" "$N/pve1/proc/spl"
mkdir -p "$N/pve1/sys/class"
cp -r "$FIX/nvme/sys/class/nvme" "$N/pve1/sys/class/nvme"
hw=$T/hw/class/hwmon
attr() { mkdir -p "$hw/$1"; printf '%s\n' "$3" >"$hw/$1/$2"; }
attr hwmon0 name coretemp
attr hwmon0 temp1_label "Package id 0"
attr hwmon0 temp1_input 47000
attr hwmon0 temp1_max 80000
attr hwmon0 temp1_crit 100000
attr hwmon0 temp1_crit_alarm 0
attr hwmon1 name nct6775
attr hwmon1 fan1_input 1180
attr hwmon1 fan1_min 300
attr hwmon1 fan1_alarm 0
attr hwmon1 temp1_input 35500
mkdir -p "$T/hw/sensors.d"
: >"$T/hw/sensors3.conf"

# ---- aggregator, relay, agents -------------------------------------------------
e2e_new_key "$AGENT" "$T/$C.key"
printf '%s %s\n' "$C" "$(cat "$T/$C.key")" >"$T/keyring"
e2e_start_aggregator "$AGGREGATOR" "$T/keyring"
RELAY="tcp://127.0.0.1:$(e2e_free_ports 1)"
e2e_start relay "$INJECT" relay "$RELAY" "$AGG_INGEST" --key-file "$T/$C.key"

agent_args() {   # sets ARGS: the flags of node $1's agent
    ARGS=("--node=$1" "--cluster=$C" "--key-file=$T/$C.key" --interval=1s
          "--path.pve=$N/$1/pve" "--path.procfs=$N/$1/proc" "--path.sysfs=$N/$1/sys" "--path.run=$N/$1/run")
}
agent_args pve1
# shellcheck disable=SC2016 # expanded by the inner sh
e2e_start agent-pve1 unshare -m sh -c '
    mount --bind "$1/class" /sys/class &&
    { [ ! -f /etc/sensors3.conf ] || mount --bind "$1/sensors3.conf" /etc/sensors3.conf; } &&
    { [ ! -d /etc/sensors.d ] || mount --bind "$1/sensors.d" /etc/sensors.d; } || exit 1
    shift; exec "$@"' sh "$T/hw" "$AGENT" "${ARGS[@]}" "--path.rootfs=$T/root1" "--aggregator=$RELAY"
for n in pve2 pve4 pve5 pve7; do
    agent_args "$n"
    e2e_start "agent-$n" "$AGENT" "${ARGS[@]}" "--path.rootfs=$FIX/pve-root" "--aggregator=$AGG_INGEST"
done
e2e_start ticker python3 "$E2E_HERE/make_cluster_fixture.py" tick "$N"
E2E_WATCH=(aggregator relay ticker agent-pve1 agent-pve2 agent-pve4 agent-pve5 agent-pve7)

cat >"$T/prometheus.yml" <<EOF2
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: pvescope
    static_configs:
      - targets: ['${AGG_WEB#http://}']
EOF2
e2e_start_prometheus "$T/prometheus.yml"
E2E_WATCH+=(prometheus)

# ---- the hardware really went through: exact values on /metrics -------------------
S='id="node/pve1",pve_cluster="prod-fra1"'
hardware_served() {
    curl -sS --max-time 10 -o "$T/metrics.txt" "$AGG_WEB/metrics" &&
        python3 "$E2E_TOOL" check "$T/metrics.txt" >"$T/check.out" 2>&1 <<EOF2
pve_up{$S} 1
pve_up{id="node/pve3",pve_cluster="$C"} 0
pve_up{id="node/pve6",pve_cluster="$C"} 0
pve_sensor_temperature_celsius{chip="coretemp-virtual-0",$S,label="Package id 0",sensor="temp1"} 47
pve_sensor_fan_rpm{chip="nct6775-virtual-0",$S,label="fan1",sensor="fan1"} 1180
pve_nvme_up{device="nvme0",$S} 1
pve_nvme_temperature_celsius{device="nvme0",$S} 44.85
pve_nvme_percentage_used_ratio{device="nvme0",$S} 0.03
pve_thinpool_data_used_bytes{$S,lv="data",vg="pve"} 2621440
pve_thinpool_data_size_bytes{$S,lv="data",vg="pve"} 6553600
pve_thinpool_metadata_used_bytes{$S,lv="data",vg="pve"} 40960
pve_zfs_pool_state{$S,pool="rpool",state="ONLINE"} 1
pve_up{id="storage/pve1/local",pve_cluster="$C"} 1
EOF2
}
dl=$(e2e_deadline 30)
until hardware_served; do
    for w in "${E2E_WATCH[@]}"; do e2e_alive "$w" || e2e_fail "$w died while waiting for pve1's hardware series"; done
    e2e_before "$dl" || { cat "$T/check.out"; e2e_fail "pve1's hardware series not served within $(e2e_secs 30)s"; }
    sleep 0.3
done
e2e_log "pve1 served with sensors, NVMe SMART, thin pool and ZFS; $(e2e_elapsed "$T0")s since start"

# ---- every dashboard query -----------------------------------------------------------
python3 "$E2E_HERE/dashboards.py" "$PROM" "$SRC/docs/metrics.md" "$(e2e_secs 40)" \
    pve_cluster=$C node=pve1 guest=qemu/100 DS_PROMETHEUS=prometheus -- "$SRC"/packaging/grafana/*.json ||
    e2e_fail "dashboard queries without data (above)"
e2e_log "every dashboard query returned data; $(e2e_elapsed "$T0")s since start"

E2E_WATCH=()
for a in agent-pve7 agent-pve5 agent-pve4 agent-pve2 agent-pve1; do e2e_stop_checked "$a" 0; done
e2e_stop_checked relay 0
e2e_stop ticker TERM 10
e2e_stop prometheus TERM 30
e2e_stop_checked aggregator 0
e2e_log "all daemons exited 0; $(e2e_elapsed "$T0")s in all"
exit 0
