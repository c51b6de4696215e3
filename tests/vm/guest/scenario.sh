#!/bin/sh
# scenario.sh — the test inside the guest. Builds an LVM thin pool on the
# healthy NVMe namespace, starts the real aggregator and agent (loopback
# only), and prints on the console, between "@@@@ BEGIN name" and
# "@@@@ END name rc=N" markers, the aggregator's /metrics next to what the
# kernel's own tools report at the same moment. Two rounds: as booted, and
# after lowering the healthy controller's over-temperature threshold below
# its temperature. The guest asserts nothing: tests/vm/check.py does, on
# the host. Progress lines start with "pvescope-vm:".
. /etc/pvescope-vm.conf
export PATH=/usr/local/bin:/usr/sbin:/usr/bin
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
WEB=127.0.0.1:9715
INGEST=tcp://127.0.0.1:9716
NODE_ID="id=\"node/$NODE\""

say() { echo "pvescope-vm: [$(cut -d' ' -f1 /proc/uptime)s] $*"; }
fatal() { say "FATAL: $*"; echo "@@@@ ABORT $*"; exit 1; }

# section NAME CMD...: CMD's stdout between markers, its exit status in the
# end marker and its stderr (if any) as section NAME.stderr. Output is
# buffered first, so nothing else on the console lands inside a section.
section() {
	name=$1
	shift
	"$@" >/tmp/section.out 2>/tmp/section.err
	rc=$?
	emit "$name" "$rc" /tmp/section.out
	[ -s /tmp/section.err ] && emit "$name.stderr" 0 /tmp/section.err
	return $rc
}
emit() {
	echo "@@@@ BEGIN $1"
	cat "$3"
	[ -s "$3" ] && [ -n "$(tail -c 1 "$3")" ] && echo
	echo "@@@@ END $1 rc=$2"
}

# run CMD...: must succeed (LVM setup and the like); its output only on failure
run() {
	"$@" >/tmp/run.out 2>&1 || { cat /tmp/run.out; fatal "'$*' failed"; }
}

ctrl_by_serial() {
	for c in /sys/class/nvme/nvme*; do
		if [ "$(tr -d ' ' <"$c/serial")" = "$1" ]; then basename "$c"; fi
	done
}

# One line per fact: "<controller> <key> <value...>", from sysfs.
controllers() {
	for c in /sys/class/nvme/nvme*; do
		n=$(basename "$c")
		for k in serial model firmware_rev transport address; do
			echo "$n $k $(cat "$c/$k")"
		done
		for h in /sys/class/hwmon/hwmon*; do
			if [ "$(basename "$(readlink -f "$h/device")")" = "$n" ]; then
				echo "$n hwmon $(basename "$h") $(cat "$h/name")"
			fi
		done
	done
}

# (busybox 1.35 wget crashes with -T: the time limit comes from timeout)
fetch_metrics() { timeout 10 wget -q -O "$1" "http://$WEB/metrics"; }

# Reports the aggregator accepted from this node so far (0 before the first).
accepted() {
	fetch_metrics /tmp/accepted.prom 2>/dev/null || { echo 0; return; }
	awk -v id="$NODE_ID" '/^pvescope_node_reports_accepted_total\{/ && index($0, id) { v = $NF } END { print v + 0 }' \
		/tmp/accepted.prom
}

# wait_reports N: until N more reports were accepted. The agent collects one
# report at a time, so with N >= 3 at least one of them was collected wholly
# after this call began, even with one collected and one queued before it.
wait_reports() {
	base=$(accepted)
	i=0
	while [ "$(accepted)" -lt $((base + $1)) ]; do
		i=$((i + 1))
		[ $i -gt 600 ] && fatal "the aggregator accepted no new report for 60 s (base $base)"
		usleep 100000
	done
}

stop_daemon() {   # stop_daemon NAME PID: SIGTERM, wait up to 20 s, print "NAME STATUS"
	kill -TERM "$2" 2>/dev/null
	i=0
	while kill -0 "$2" 2>/dev/null && [ $i -lt 200 ]; do
		usleep 100000
		i=$((i + 1))
	done
	if kill -0 "$2" 2>/dev/null; then
		kill -KILL "$2"
		wait "$2"
		echo "$1 timeout"
	else
		wait "$2"
		echo "$1 $?"
	fi
}

# one round of dumps: the metrics first, then the oracles; nothing does I/O
# in between, so the NVMe counters cannot move
dump_round() {
	r=$1
	fetch_metrics /tmp/metrics-$r.prom || fatal "GET /metrics failed"
	section metrics-$r cat /tmp/metrics-$r.prom
	for c in $HEALTHY $WORN; do
		section smart-$r-$c nvme smart-log "/dev/$c" -o json
	done
	section sensors-$r sensors -u
	section dmsetup-status-$r dmsetup status --noflush
	section dmsetup-table-$r dmsetup table
	section dmsetup-ls-$r dmsetup ls
}

say "scenario: node $NODE, cluster $CLUSTER"
HEALTHY=$(ctrl_by_serial "$HEALTHY_SERIAL")
WORN=$(ctrl_by_serial "$WORN_SERIAL")
[ -n "$HEALTHY" ] && [ -n "$WORN" ] || fatal "controllers not found by serial: $(ls /sys/class/nvme)"
echo "@@@@ CONFIG node=$NODE cluster=$CLUSTER healthy=$HEALTHY worn=$WORN worn_warning=$WORN_WARNING"
section controllers controllers
section nvme-list nvme list -o json
for c in $HEALTHY $WORN; do
	section id-ctrl-$c nvme id-ctrl "/dev/$c" -o json
done

# ---- LVM thin pool on the healthy namespace, as PVE's local-lvm ----------
say "lvm: thin pool on /dev/${HEALTHY}n1"
run pvcreate -y "/dev/${HEALTHY}n1"
run vgcreate labvg "/dev/${HEALTHY}n1"
run lvcreate -y --type thin-pool -L 256M --chunksize 64k -n pool labvg
run lvcreate -y --type thin -V 1G -n thin1 --thinpool pool labvg
# a second, never written volume whose name needs dm-name escaping
run lvcreate -y --type thin -V 512M -n vm-100-disk-0 --thinpool pool labvg
run dd if=/dev/zero of=/dev/labvg/thin1 bs=1M count=16 conv=fsync
section lvs lvs --noheadings --separator : --units b --nosuffix \
	-o vg_name,lv_name,lv_attr,lv_size,pool_lv,data_percent,metadata_percent,lv_metadata_size labvg
sync
say "lvm: done"

# ---- pvescope: key, aggregator, agent ---------------------------------------
mkdir -p /etc/pve/priv/pvescope /run/pvescope
pvescope-agent --init-key=/etc/pve/priv/pvescope/cluster.key >/dev/null || fatal "--init-key failed"
echo "$CLUSTER $(cat /etc/pve/priv/pvescope/cluster.key)" >/run/pvescope/keyring
chmod 600 /run/pvescope/keyring
# --allow-root: the guest has no other user (a node would run it as pvescope).
pvescope-aggregator --allow-root --keyring=/run/pvescope/keyring --ingest.listen="$INGEST" \
	--web.listen-address="$WEB" >/run/pvescope/aggregator.log 2>&1 &
AGG_PID=$!
# the agent as on a node: default key file, node name from the host name
pvescope-agent --aggregator="$INGEST" --interval=1s --cluster="$CLUSTER" \
	>/run/pvescope/agent.log 2>&1 &
AGENT_PID=$!
i=0
until fetch_metrics /tmp/up.prom 2>/dev/null && grep -q "^pve_up{$NODE_ID,pve_cluster=\"$CLUSTER\"} 1" /tmp/up.prom; do
	i=$((i + 1))
	if [ $i -gt 600 ] || ! kill -0 $AGENT_PID 2>/dev/null || ! kill -0 $AGG_PID 2>/dev/null; then
		section agent-log cat /run/pvescope/agent.log
		section aggregator-log cat /run/pvescope/aggregator.log
		section last-metrics timeout 10 wget -O - "http://$WEB/metrics"
		section sockets netstat -tln
		fatal "node $NODE did not come up on /metrics"
	fi
	usleep 100000
done
say "pvescope: node $NODE is up on /metrics"

# ---- round 1: as booted -----------------------------------------------------
wait_reports 3
dump_round 1
say "round 1 dumped"

# ---- round 2: over-temperature on the healthy controller ---------------------
# QEMU reports a fixed 323 K; a threshold of 300 K sets critical_warning bit 1
# and the hwmon alarm (temp1_max follows the threshold).
section overtemp nvme set-feature "/dev/$HEALTHY" -f 4 -v 300
wait_reports 3
dump_round 2
say "round 2 dumped"

# ---- shutdown -----------------------------------------------------------------
{
	stop_daemon agent $AGENT_PID
	stop_daemon aggregator $AGG_PID
} >/tmp/exit-status
section exit-status cat /tmp/exit-status
section agent-log cat /run/pvescope/agent.log
section aggregator-log cat /run/pvescope/aggregator.log
section dmesg dmesg
echo "@@@@ DONE"
say "scenario done"
