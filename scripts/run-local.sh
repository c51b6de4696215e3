#!/bin/sh
# run-local.sh — build pvescope and run the whole pipeline on this machine:
# an aggregator serving http://localhost:9715/metrics and an agent reading
# this machine's /proc every 15 s, with a fresh cluster key.
# Usage: scripts/run-local.sh [start|stop]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
state=$root/.local
cmd=${1:-start}

stop() {
  for d in agent aggregator; do
    if [ -f "$state/$d.pid" ]; then
      kill "$(cat "$state/$d.pid")" 2>/dev/null || true
      rm -f "$state/$d.pid"
    fi
  done
}

if [ "$cmd" = stop ]; then
  stop
  echo "stopped"
  exit 0
fi

"$root/scripts/deps.sh" build
cmake -S "$root" -B "$root/build/release" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$root/build/release" -j"$(nproc)"
bin=$root/build/release
stop
mkdir -p "$state"
chmod 700 "$state"
rm -f "$state/cluster.key"
"$bin/pvescope-agent" --init-key="$state/cluster.key" >/dev/null
node=$(uname -n | cut -d. -f1)
cluster=$(uname -n | cut -d. -f1)
echo "$cluster $(cat "$state/cluster.key")" > "$state/keyring"
chmod 600 "$state/keyring"

# The daemons keep nothing of this shell's terminal: their output goes to the
# logs, so a caller reading this script's output sees its end.
# --allow-root: this trial runs as root with its state in a root-only
# directory; an installed aggregator runs as the pvescope user instead.
"$bin/pvescope-aggregator" --allow-root --keyring="$state/keyring" --web.listen-address=:9715 \
  --ingest.listen='tcp://[::]:9716' </dev/null >>"$state/aggregator.log" 2>&1 &
echo $! > "$state/aggregator.pid"
"$bin/pvescope-agent" --key-file="$state/cluster.key" --cluster="$cluster" --node="$node" \
  --aggregator=tcp://127.0.0.1:9716 </dev/null >>"$state/agent.log" 2>&1 &
echo $! > "$state/agent.pid"

# The first report goes out at once; wait until it is on /metrics.
i=0
until curl -fs http://localhost:9715/metrics 2>/dev/null |
    grep -qF "pve_up{id=\"node/$node\",pve_cluster=\"$cluster\"} 1"; do
  i=$((i + 1))
  if [ $i -gt 50 ]; then
    echo "pipeline did not come up; logs in $state/*.log" >&2
    cat "$state"/*.log >&2
    exit 1
  fi
  sleep 0.2
done
cat <<TXT
pvescope is running: agent (node $node) -> aggregator -> http://localhost:9715/metrics

  curl -s localhost:9715/metrics | grep -E '^pve_(up|cpu_usage_ratio|memory_usage_bytes|memory_size_bytes)'
  curl -s localhost:9715/            # status page: nodes, report age, rejects

pve_cpu_usage_ratio appears with the second report (15 s). Logs: $state/*.log
Stop with: scripts/run-local.sh stop
TXT
