#!/usr/bin/env bash
# agent_vs_node_exporter.sh — DESIGN §7 agent budget: CPU per collection cycle
# and peak RSS of pvescope-agent against node_exporter 1.5.0 scraping the same
# fixture tree with its equivalent collectors. See tests/bench/README.md.
#
# usage: tests/bench/agent_vs_node_exporter.sh [BUILD_DIR]
#   BUILD_DIR holds pvescope-agent (default: ../../build relative to this script).
# Tunables (environment):
#   BENCH_AGENT_CYCLES=3000  agent cycles per measured run (N; N+1 minus 1 is measured)
#   BENCH_NE_SCRAPES=1000    node_exporter scrapes per measured run
#   BENCH_REPS=5             repetitions; medians are reported
#   BENCH_CG_CYCLES=200      cycles under callgrind (0 = skip callgrind)
#   BENCH_STRACE_CYCLES=200  cycles / scrapes counted with strace -c (0 = skip)
#   BENCH_EXTRAS=1           also measure node_exporter with gzip and without exporter
#                            metrics, and both sides paced (0 = primary figures only)
#   BENCH_PACED_MS=100       pace of the paced comparison
#   BENCH_PACED_COUNT=40     cycles / scrapes in the paced comparison
#   BENCH_FIXTURE=DIR        fixture tree with proc/ and sys/ (default tests/fixtures/host1)
#   BENCH_PVE=DIR            --path.pve for the agent (default tests/fixtures/pve-cluster)
#   BENCH_GUESTS=N           instead of BENCH_FIXTURE: generate a Proxmox node with N running
#                            guests (make_guest_node.py) and the same node without guests, and
#                            also report the cost per guest; BENCH_NE_SCRAPES defaults to 300
#   BENCH_HARDWARE=1         add a server's hwmon tree (make_hwmon_tree.py: 42 sensor features)
#                            to the fixture, bind-mounted on /sys/class in a private mount
#                            namespace (libsensors reads only /sys; needs root), and run
#                            node_exporter's hwmon and nvme collectors too
#   BENCH_AGENT_ARGS="..."   extra flags for every agent run, e.g. --no-collector.netdev
#                            (to measure what one collector costs)
#   NODE_EXPORTER=PATH       default /usr/bin/prometheus-node-exporter
#   BENCH_KEEP=1             keep the work directory (callgrind profiles, logs)
# Exit status: 0 when measured (budget lines print PASS or FAIL), 1 on a broken setup.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${1:-$here/../../build}
if [[ ! -d $build ]]; then
    echo "agent_vs_node_exporter: build dir not found: $build" >&2
    exit 1
fi
build=$(cd "$build" && pwd)

agent=$build/pvescope-agent
ne=${NODE_EXPORTER:-/usr/bin/prometheus-node-exporter}
fixture=${BENCH_FIXTURE:-$repo/tests/fixtures/host1}
pve=${BENCH_PVE:-$repo/tests/fixtures/pve-cluster}
guests=${BENCH_GUESTS:-}
valgrind=$(command -v valgrind || true)
strace=$(command -v strace || true)

command -v python3 >/dev/null || { echo "agent_vs_node_exporter: python3 not found" >&2; exit 1; }
if [[ -n $guests ]]; then
    if [[ ! $guests =~ ^[0-9]+$ ]] || (( guests > 9000 )); then
        echo "agent_vs_node_exporter: BENCH_GUESTS must be a number of guests (0..9000)" >&2
        exit 1
    fi
    if [[ -n ${BENCH_FIXTURE:-}${BENCH_PVE:-} ]]; then
        echo "agent_vs_node_exporter: BENCH_GUESTS generates its own tree; unset BENCH_FIXTURE/BENCH_PVE" >&2
        exit 1
    fi
    [[ -x $agent ]] || { echo "agent_vs_node_exporter: agent binary not found: $agent" >&2; exit 1; }
else
    [[ -d $fixture ]] || { echo "agent_vs_node_exporter: fixture not found: $fixture" >&2; exit 1; }
    fixture=$(cd "$fixture" && pwd)
    [[ -d $pve ]] && pve=$(cd "$pve" && pwd)
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/pvescope-bench.XXXXXX")
pidfile=$work/node_exporter.pid
engine_pid=
# shellcheck disable=SC2317 # cleanup is invoked by the EXIT trap
cleanup() {
    local rc=$?
    # The engine stops node_exporter itself; this covers it being killed hard.
    if [[ -n $engine_pid ]] && kill -0 "$engine_pid" 2>/dev/null; then
        kill "$engine_pid" 2>/dev/null || true
        wait "$engine_pid" 2>/dev/null || true
    fi
    if [[ -s $pidfile ]]; then
        local pid
        pid=$(<"$pidfile")
        # Only our own node_exporter: check the pid still runs that binary.
        if [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$(readlink -f "$ne")" ]]; then
            kill "$pid" 2>/dev/null || true
        fi
    fi
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then
        echo "work directory kept: $work" >&2
    else
        rm -rf "$work"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

repro="$(printf '%q' "$here/agent_vs_node_exporter.sh") $(printf '%q' "$build")"
for v in BENCH_AGENT_CYCLES BENCH_NE_SCRAPES BENCH_REPS BENCH_CG_CYCLES BENCH_STRACE_CYCLES BENCH_EXTRAS BENCH_PACED_MS BENCH_PACED_COUNT BENCH_FIXTURE BENCH_PVE BENCH_GUESTS BENCH_HARDWARE BENCH_AGENT_ARGS NODE_EXPORTER; do
    [[ -n ${!v:-} ]] && repro="$v=$(printf '%q' "${!v}") $repro"
done

# BENCH_GUESTS: the node with N guests is the fixture; the same node without
# guests is the baseline for the cost per guest. Both are checked against the
# agent's --dump before anything is measured.
tree_args=(--fixture "$fixture" --pve "$pve")
ne_scrapes=${BENCH_NE_SCRAPES:-1000}
if [[ -n $guests ]]; then
    sizes=("$guests")
    (( guests > 0 )) && sizes+=(0)
    for n in "${sizes[@]}"; do
        python3 "$here/make_guest_node.py" "$work/node-$n" --guests="$n" --check="$agent" >&2 || {
            echo "agent_vs_node_exporter: BROKEN SETUP: the generated $n-guest node failed its check" >&2
            exit 1
        }
    done
    fixture=$work/node-$guests
    tree_args=(--fixture "$fixture" --pve "$fixture/etc/pve" --run "$fixture/run" --node pve3 --guests "$guests")
    (( guests > 0 )) && tree_args+=(--baseline "$work/node-0")
    ne_scrapes=${BENCH_NE_SCRAPES:-300}
fi

# BENCH_HARDWARE: a copy of the tree with hwmon chips, and the engine in a
# mount namespace where /sys/class is that copy's sys/class.
engine=(python3 "$here/agent_vs_node_exporter.py")
if [[ ${BENCH_HARDWARE:-0} == 1 ]]; then
    cp -a "$fixture" "$work/hw-tree"
    fixture=$work/hw-tree
    tree_args[1]=$fixture
    python3 "$here/make_hwmon_tree.py" "$fixture"
    command -v unshare >/dev/null || { echo "agent_vs_node_exporter: unshare (util-linux) not found" >&2; exit 1; }
    # shellcheck disable=SC2016 # $0 and $@ expand inside the namespace's shell
    engine=(unshare -m sh -c 'mount --bind "$0/sys/class" /sys/class && exec "$@"' "$fixture" "${engine[@]}" --hardware)
fi

"${engine[@]}" \
    --agent "$agent" --ne "$ne" --valgrind "$valgrind" --strace "$strace" \
    "${tree_args[@]}" --workdir "$work" --pidfile "$pidfile" \
    --agent-cycles "${BENCH_AGENT_CYCLES:-3000}" --ne-scrapes "$ne_scrapes" \
    --reps "${BENCH_REPS:-5}" --cg-cycles "${BENCH_CG_CYCLES:-200}" \
    --strace-cycles "${BENCH_STRACE_CYCLES:-200}" --extras "${BENCH_EXTRAS:-1}" \
    --paced-ms "${BENCH_PACED_MS:-100}" --paced-count "${BENCH_PACED_COUNT:-40}" \
    --agent-args="${BENCH_AGENT_ARGS:-}" \
    --repro "$repro" &
engine_pid=$!
set +e
wait "$engine_pid"
rc=$?
set -e
engine_pid=
exit "$rc"
