#!/usr/bin/env bash
# fleet_smoke.sh — the fleet simulator against a real aggregator: 12 simulated
# nodes in two clusters (5 and 7 nodes), 6 guests each, 3 reports per agent
# over real nanomsg sockets. /metrics must then show every node and guest
# with the values the simulator says it sent last (its --sent-log: the
# input, not a computed expectation), and pass promtool.
#
# usage: fleet_smoke.sh PVESCOPE_BENCH_FLEET PVESCOPE_AGGREGATOR
# Exit 0 pass, 1 fail, 77 skipped (python3, curl or promtool missing).
E2E_NAME=fleet_smoke
source "$(dirname "${BASH_SOURCE[0]}")/../e2e/lib.sh"

[[ $# -eq 2 ]] || { echo "usage: $0 PVESCOPE_BENCH_FLEET PVESCOPE_AGGREGATOR" >&2; exit 2; }
FLEET=$1
AGGREGATOR=$2
MODEL=(--nodes 12 --guests 6 --cluster-sizes 5,7)
for b in "$FLEET" "$AGGREGATOR"; do [[ -x $b ]] || e2e_fail "not executable: $b"; done
e2e_require_cmd python3 curl promtool

e2e_init
T=$E2E_TMP
python3 -c 'import base64, os; print("pvescope-key-1:" + base64.b64encode(os.urandom(32)).decode())' >"$T/fleet.key"
chmod 600 "$T/fleet.key"
"$FLEET" keyring --key-file "$T/fleet.key" "${MODEL[@]}" >"$T/keyring" || e2e_fail "fleet keyring failed"
[[ $(wc -l <"$T/keyring") == 2 ]] || e2e_fail "expected a key ring of 2 clusters: $(cat "$T/keyring")"

read -r INGEST_PORT WEB_PORT < <(e2e_free_ports 2)
URL="http://127.0.0.1:$WEB_PORT"
e2e_start aggregator "$AGGREGATOR" "${E2E_AGG_ROOT[@]}" --keyring="$T/keyring" --ingest.listen="tcp://127.0.0.1:$INGEST_PORT" \
    --web.listen-address="127.0.0.1:$WEB_PORT"
E2E_WATCH=(aggregator)
e2e_wait_for "aggregator answering" 10 bash -c "[[ \$(curl -s -o /dev/null -w '%{http_code}' $URL/-/healthy) == 200 ]]"

"$FLEET" run "tcp://127.0.0.1:$INGEST_PORT" --key-file "$T/fleet.key" "${MODEL[@]}" --interval-ms 200 \
    --sends 3 --sent-log "$T/sent.log" >"$T/fleet.out" 2>&1 || { cat "$T/fleet.out"; e2e_fail "the simulator failed"; }
cat "$T/fleet.out"
grep -q ' 36 reports sent, 0 dropped' "$T/fleet.out" || e2e_fail "expected 36 reports sent, none dropped"
[[ $(grep -c '^node ' "$T/sent.log") == 12 && $(grep -c '^guest ' "$T/sent.log") == 72 ]] ||
    e2e_fail "the sent log should list 12 nodes and 72 guests"

# check.py METRICS SENT_LOG: every value of the sent log, as /metrics shows it.
cat >"$T/check.py" <<'PY'
import re, sys
series = {}
for line in open(sys.argv[1]):
    if line.startswith("#") or not line.strip():
        continue
    key, _, value = line.rstrip("\n").rpartition(" ")
    series[key] = value
problems = []
def expect(key, want):
    got = series.get(key, "absent")
    if got != want:
        problems.append(f"{key}: {got}, sent {want}")
nodes = guests = 0
for line in open(sys.argv[2]):
    f = line.split()
    kv = dict(x.split("=", 1) for x in f if "=" in x)
    if f[0] == "node":
        nodes += 1
        cluster, node = f[1], f[2]
        ids = f'id="node/{node}",pve_cluster="{cluster}"'
        expect(f"pve_node_forks_total{{{ids}}}", kv["forks"])
        expect(f"pve_memory_size_bytes{{{ids}}}", kv["memory_total"])
        expect(f"pve_up{{{ids}}}", "1")
    else:
        guests += 1
        cluster, node, vmid, kind = f[1], f[2], f[3], f[4]
        ids = f'id="{kind}/{vmid}",pve_cluster="{cluster}"'
        running = kv["running"] == "1"
        expect(f"pve_up{{{ids}}}", "1" if running else "0")
        expect(f"pve_network_receive_bytes_total{{{ids}}}", kv["net_in"] if running else "0")
        cpu = kv["cpu_seconds"].removesuffix(".0")
        expect(f"pve_guest_cpu_seconds_total{{{ids}}}", cpu if running else "absent")
        info = [k for k in series if k.startswith(f"pve_guest_info{{{ids},") and f'node="{node}"' in k]
        if len(info) != 1:
            problems.append(f"pve_guest_info of {kind}/{vmid} on {node}: {len(info)} series")
if (nodes, guests) != (12, 72):
    problems.append(f"sent log has {nodes} nodes and {guests} guests")
for p in problems[:20]:
    print("MISMATCH", p)
print(f"checked {nodes} nodes and {guests} guests against {len(series)} series: {len(problems)} mismatches")
sys.exit(1 if problems else 0)
PY
check() { curl -s --max-time 10 "$URL/metrics" >"$T/metrics" && python3 "$T/check.py" "$T/metrics" "$T/sent.log" >"$T/check.out"; }
dl=$(e2e_deadline 10)
until check; do
    e2e_before "$dl" || { cat "$T/check.out"; e2e_fail "/metrics does not show what the simulator sent"; }
    sleep 0.2
done
cat "$T/check.out"
out=$(promtool check metrics <"$T/metrics" 2>&1) || { echo "$out"; e2e_fail "promtool check metrics failed"; }
[[ -z $out ]] || { echo "$out"; e2e_fail "promtool lint messages"; }
curl -s --max-time 10 "$URL/metrics" | grep -q '^pvescope_reports_rejected_total{reason="replay"} 0$' ||
    e2e_fail "some reports were rejected as replays"
e2e_stop_checked aggregator 0
