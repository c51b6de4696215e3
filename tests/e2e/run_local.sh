#!/usr/bin/env bash
# run_local.sh — README's first command, as a test: scripts/run-local.sh must
# build, start the agent and the aggregator on this machine and report success
# only once the node is up on /metrics; the status page must show it; `stop`
# must stop both. It uses the README's fixed ports 9715/9716 (RUN_SERIAL).
E2E_NAME=run_local
source "$(dirname "$0")/lib.sh"
e2e_require_cmd curl
root=$(cd "$E2E_HERE/../.." && pwd)
node=$(uname -n | cut -d. -f1)

cleanup_local() { "$root/scripts/run-local.sh" stop >/dev/null 2>&1 || true; }
trap cleanup_local EXIT

out=$("$root/scripts/run-local.sh" 2>&1) || { echo "$out" | tail -40; e2e_fail "run-local.sh failed"; }
grep -q "pvescope is running" <<<"$out" || e2e_fail "run-local.sh did not say it is running"
metrics=$(curl -fsS http://localhost:9715/metrics) || e2e_fail "no /metrics on :9715"
grep -qF "pve_up{id=\"node/$node\",pve_cluster=\"$node\"} 1" <<<"$metrics" ||
    e2e_fail "pve_up of node $node is not 1"
grep -qF "pvescope_collector_success{id=\"node/$node\",pve_cluster=\"$node\",collector=\"meminfo\"} 1" \
    <<<"$metrics" || e2e_fail "the meminfo collector did not succeed"
page=$(curl -fsS http://localhost:9715/) || e2e_fail "no status page on :9715"
grep -qF ">$node<" <<<"$page" || e2e_fail "the status page does not list $node"
agent_pid=$(cat "$root/.local/agent.pid")
agg_pid=$(cat "$root/.local/aggregator.pid")
"$root/scripts/run-local.sh" stop >/dev/null || e2e_fail "run-local.sh stop failed"
deadline=$(e2e_deadline 10)
while kill -0 "$agent_pid" 2>/dev/null || kill -0 "$agg_pid" 2>/dev/null; do
    (( $(e2e_now_us) < deadline )) || e2e_fail "stop left the daemons running"
    sleep 0.1
done
e2e_log "README command 1: up, listed on the status page, stopped"
