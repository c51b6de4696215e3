#!/usr/bin/env bash
# fleet_vs_pushgateway.sh — DESIGN §7 aggregator budgets: /metrics at 500 nodes
# x 40 guests against prometheus-pushgateway holding the same series (latency,
# CPU per scrape, RSS; wrk, plain and gzip, under concurrent ingest), report ->
# visible latency, ingest rate on one core and render cost per byte. See
# tests/bench/README.md.
#
# usage: tests/bench/fleet_vs_pushgateway.sh [BUILD_DIR]
#   BUILD_DIR: a Release build (default: ../../build relative to this script)
# Tunables (environment):
#   BENCH_NODES=500 BENCH_GUESTS=40 BENCH_CLUSTER_SIZES=10,20,30,40,50   the estate
#   BENCH_INTERVAL_MS=10000  each simulated agent's interval (the agent's default)
#   BENCH_SECONDS=30         wrk duration against the aggregator, per encoding
#   BENCH_PEER_SECONDS=120   wrk duration against pushgateway (several seconds a scrape)
#   BENCH_PROBES=200         report->visible samples
#   BENCH_INGEST_REPORTS=4000 BENCH_INGEST_RUNS=3 BENCH_RENDER_REPS=20   the in-process benches
#                            (the ingest verdict takes the median of the runs)
#   PUSHGATEWAY=/usr/bin/prometheus-pushgateway  WRK=wrk
#   BENCH_KEEP=1             keep the work directory (logs)
# Exit status: 0 when measured (budget lines print PASS or FAIL), 1 on a broken setup.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${1:-$here/../../build}
[[ -d $build ]] || { echo "fleet_vs_pushgateway: build dir not found: $build" >&2; exit 1; }
build=$(cd "$build" && pwd)
command -v python3 >/dev/null || { echo "fleet_vs_pushgateway: python3 not found" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/pvescope-fleet-bench.XXXXXX")
engine_pid=
cleanup() {
    # the engine stops the processes it started; on a signal, stop the engine first
    if [[ -n $engine_pid ]] && kill -0 "$engine_pid" 2>/dev/null; then
        kill -TERM "$engine_pid" 2>/dev/null || true
        wait "$engine_pid" 2>/dev/null || true
    fi
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

knobs=""
for v in BENCH_NODES BENCH_GUESTS BENCH_CLUSTER_SIZES BENCH_INTERVAL_MS BENCH_SECONDS BENCH_PEER_SECONDS BENCH_PROBES \
         BENCH_INGEST_REPORTS BENCH_INGEST_RUNS BENCH_RENDER_REPS; do
    [[ -n ${!v:-} ]] && knobs+="$v=${!v} "
done
export BENCH_CMD="${knobs}tests/bench/fleet_vs_pushgateway.sh $build"
python3 "$here/fleet_vs_pushgateway.py" "$work" "$build" &
engine_pid=$!
wait "$engine_pid"
