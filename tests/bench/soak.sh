#!/usr/bin/env bash
# soak.sh — accelerated soak (issue 5, item 6): many simulated agents at a
# short interval, real agents on the host1 fixture and a scraper, for a long
# time; the aggregator's and the real agents' RSS, open fds and CPU rate are
# sampled and must stay flat. See tests/bench/README.md.
#
# usage: tests/bench/soak.sh [BUILD_DIR]        (default ../../build)
# Tunables (environment):
#   SOAK_SECONDS=3600  SOAK_AGENTS=200  SOAK_GUESTS=40  SOAK_INTERVAL_MS=1000
#   SOAK_CLUSTER_SIZES=10,20,30,40,50  SOAK_REAL_AGENTS=2  SOAK_SCRAPE_MS=5000
#   SOAK_SAMPLE_SECONDS=30  SOAK_KEEP=1 (keep the work directory: samples.csv, logs)
# Exit status: 0 when measured (verdicts print PASS or FAIL), 1 on a broken setup.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${1:-$here/../../build}
[[ -d $build ]] || { echo "soak: build dir not found: $build" >&2; exit 1; }
build=$(cd "$build" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/pvescope-soak.XXXXXX")
engine_pid=
cleanup() {
    if [[ -n $engine_pid ]] && kill -0 "$engine_pid" 2>/dev/null; then
        kill -TERM "$engine_pid" 2>/dev/null || true
        wait "$engine_pid" 2>/dev/null || true
    fi
    if [[ ${SOAK_KEEP:-0} == 1 ]]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
knobs=""
for v in SOAK_SECONDS SOAK_AGENTS SOAK_GUESTS SOAK_INTERVAL_MS SOAK_CLUSTER_SIZES SOAK_REAL_AGENTS \
         SOAK_SCRAPE_MS SOAK_SAMPLE_SECONDS; do
    [[ -n ${!v:-} ]] && knobs+="$v=${!v} "
done
export SOAK_CMD="${knobs}tests/bench/soak.sh $build"
python3 "$here/soak.py" "$work" "$build" "$here/../fixtures" &
engine_pid=$!
wait "$engine_pid"
