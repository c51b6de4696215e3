#!/usr/bin/env bash
# privileges.sh — least privilege, read back from the kernel:
#
#   1. the agent started as root keeps exactly the capabilities of its enabled
#      collectors in every thread (/proc/<pid>/task/*/status: CapEff = CapPrm
#      = CapBnd, CapInh = CapAmb = 0, NoNewPrivs 1) and its reports still
#      reach an aggregator: default collectors → CAP_SYS_ADMIN|CAP_SYS_PTRACE
#      (0x280000); without nvme and thinpool → CAP_SYS_PTRACE (0x80000);
#      without guests too → nothing; --no-drop-capabilities → unchanged;
#   2. CAP_SYS_PTRACE is what the guests collector needs: a container init run
#      as uid 100000 (a real process; its /proc/<pid>/root is linked into the
#      guests fixture) gets rootfs usage with it, "Permission denied" without
#      it (the agent started with CAP_SYS_PTRACE out of its bounding set);
#   3. the aggregator refuses root (exit 2) without --allow-root; with it, and
#      as an unprivileged user, it runs with no capability and NoNewPrivs 1.
#
# usage: privileges.sh PVESCOPE_AGENT PVESCOPE_AGGREGATOR
# Exit 0 pass, 1 fail, 77 skipped: not root, or a root without the
# capabilities asserted (CAP_SYS_ADMIN, CAP_SYS_PTRACE, CAP_SETPCAP), or no
# setpriv (util-linux).
E2E_NAME=privileges
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 2 ]] || { echo "usage: $0 PVESCOPE_AGENT PVESCOPE_AGGREGATOR" >&2; exit 2; }
AGENT=$1
AGGREGATOR=$2
FIX=$(cd "$E2E_HERE/../fixtures" && pwd)
[[ -x $AGENT && -x $AGGREGATOR ]] || e2e_fail "not executable: $AGENT / $AGGREGATOR"
e2e_require_cmd python3 curl setpriv sleep
(( EUID == 0 )) || e2e_skip "needs root: it asserts what the agent drops from root's capabilities"
own_prm=$((16#$(awk '/^CapPrm:/ {print $2}' /proc/self/status)))
NEEDED=$(( (1 << 21) | (1 << 19) | (1 << 8) ))        # SYS_ADMIN, SYS_PTRACE, SETPCAP
(( (own_prm & NEEDED) == NEEDED )) || e2e_skip "root here lacks CAP_SYS_ADMIN, CAP_SYS_PTRACE or CAP_SETPCAP"

e2e_init
T=$E2E_TMP
C=privtest
e2e_new_key "$AGENT" "$T/cluster.key"
printf '%s %s\n' "$C" "$(cat "$T/cluster.key")" >"$T/keyring"
e2e_start_aggregator "$AGGREGATOR" "$T/keyring" --stale-after=30s
METRICS="$AGG_WEB/metrics"
E2E_WATCH=(aggregator)

# caps_of PID — "CapInh CapPrm CapEff CapBnd CapAmb NoNewPrivs" of every thread,
# one line per thread.
caps_of() {
    local t
    for t in /proc/"$1"/task/*; do
        awk '/^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):/ {printf "%s%s", sep, $2; sep=" "} END {print ""}' "$t/status"
    done
}

# accepted NODE — reports the aggregator accepted from NODE.
accepted() { e2e_metric "$METRICS" "pvescope_node_reports_accepted_total{id=\"node/$1\",pve_cluster=\"$C\"}"; }

# accepted_at_least NODE N — a function, so that each poll reads /metrics again.
accepted_at_least() { local v; v=$(accepted "$1"); [[ $v != absent ]] && (( ${v%.*} >= $2 )); }
AGENT_PREFIX=()
# agent_case NODE WANT_HEX|keep [agent flags...] — runs an agent (host1
# fixture, no guests or storage present) until two of its reports are
# accepted, then checks every thread's sets.
agent_case() {
    local node=$1 want=$2; shift 2
    e2e_start "agent-$node" "${AGENT_PREFIX[@]}" "$AGENT" --aggregator="$AGG_INGEST" --interval=0.2s --key-file="$T/cluster.key" \
        --cluster="$C" --node="$node" --path.procfs="$FIX/host1/proc" --path.sysfs="$FIX/host1/sys" \
        --path.pve="$FIX/pve-standalone" --path.run="$T/no-run" "$@"
    E2E_WATCH=(aggregator "agent-$node")
    e2e_wait_for "two reports of $node accepted" 30 accepted_at_least "$node" 2
    local pid=${E2E_PID[agent-$node]} lines n expect
    lines=$(caps_of "$pid")
    n=$(wc -l <<<"$lines")
    (( n >= 2 )) || e2e_fail "$node: expected the agent's nanomsg threads besides main, found $n thread(s)"
    if [[ $want == keep ]]; then
        expect=$(caps_of $$ | head -1)     # this shell's own sets
    elif [[ $want == *-bnd* ]]; then       # SETS-bndBOUNDING: a bounding set that stays
        expect="0000000000000000 ${want%-bnd*} ${want%-bnd*} ${want#*-bnd} 0000000000000000 1"
    else
        expect="0000000000000000 $want $want $want 0000000000000000 1"
    fi
    while read -r got; do
        [[ $got == "$expect" ]] ||
            e2e_fail "$node: a thread has 'Inh Prm Eff Bnd Amb NoNewPrivs' = '$got', expected '$expect'"
    done <<<"$lines"
    grep -q "capabilities: kept" "${E2E_LOG[agent-$node]}" || [[ $want == keep ]] ||
        e2e_fail "$node: the agent did not log the kept set"
    e2e_stop_checked "agent-$node" 0
    E2E_WATCH=(aggregator)
    e2e_log "$node: $n threads, each 'Inh Prm Eff Bnd Amb NoNewPrivs' = '$expect'; $(accepted "$node") reports accepted"
}

# ==== 1. the agent's sets per collector choice ==================================
agent_case all 0000000000280000
grep -q 'capabilities: kept CAP_SYS_PTRACE,CAP_SYS_ADMIN, everything else dropped' "${E2E_LOG[agent-all]}" ||
    e2e_fail "the agent's log does not name the kept set: $(grep capabilities "${E2E_LOG[agent-all]}")"
agent_case nohw 0000000000080000 --no-collector.nvme --no-collector.thinpool
agent_case none 0000000000000000 --no-collector.nvme --no-collector.thinpool --no-collector.guests
agent_case optout keep --no-drop-capabilities
# As under the Debian unit: root bounded to CAP_SYS_ADMIN and CAP_SYS_PTRACE
# (no CAP_SETPCAP, so the bounding set cannot change): nothing to drop with
# every collector on, CAP_SYS_ADMIN dropped with nvme and thinpool off.
AGENT_PREFIX=(setpriv --bounding-set=-all,+sys_admin,+sys_ptrace --)
agent_case unit 0000000000280000
grep -q 'capabilities: kept CAP_SYS_PTRACE,CAP_SYS_ADMIN (bounding set unchanged: no CAP_SETPCAP)' \
    "${E2E_LOG[agent-unit]}" || e2e_fail "agent-unit: $(grep capabilities "${E2E_LOG[agent-unit]}")"
agent_case unit-nohw 0000000000080000-bnd0000000000280000 --no-collector.nvme --no-collector.thinpool
AGENT_PREFIX=()

# ==== 2. CAP_SYS_PTRACE for a container's rootfs =================================
cp -r "$FIX/guests/t0" "$T/g"
# LXC 200's init in the fixture is pid 5123; the real process behind its root
# link is an unprivileged container's init: another uid.
e2e_start ct-init setpriv --reuid=100000 --regid=100000 --clear-groups sleep 600
ln -s "/proc/${E2E_PID[ct-init]}/root" "$T/g/proc/5123/root"
guests_dump() {
    "$@" "$AGENT" --dump --node=g --path.procfs="$T/g/proc" --path.sysfs="$T/g/sys" --path.run="$T/g/run" \
        --path.pve="$T/no-pve" --no-collector.nvme --no-collector.thinpool --no-collector.sensors \
        --no-collector.storage --no-collector.zfs --no-collector.cluster 2>&1
}
out=$(guests_dump)
grep -q '^  rootfs_used_bytes: [1-9]' <<<"$out" ||
    { echo "$out" | tail -40; e2e_fail "with CAP_SYS_PTRACE kept, container 200 has no rootfs usage"; }
out=$(guests_dump setpriv --bounding-set=-sys_ptrace --)
grep -q 'rootfs_used_bytes' <<<"$out" && e2e_fail "without CAP_SYS_PTRACE, container 200 still has rootfs usage"
grep -q '/proc/5123/root: statvfs: Permission denied' <<<"$out" ||
    { echo "$out" | tail -40; e2e_fail "without CAP_SYS_PTRACE: no 'Permission denied' warning for the rootfs"; }
grep -q 'CAP_SYS_PTRACE is needed by guests, but the agent was started without it' <<<"$out" ||
    e2e_fail "without CAP_SYS_PTRACE: the agent does not warn that guests needs it"
e2e_stop ct-init TERM 5
e2e_log "rootfs of a uid-100000 container: read with CAP_SYS_PTRACE, EACCES (warned) without"

# ==== 3. the aggregator ===========================================================
agg_pid=${E2E_PID[aggregator]}
lines=$(caps_of "$agg_pid")
while read -r got; do
    [[ $got == "0000000000000000 0000000000000000 0000000000000000 0000000000000000 0000000000000000 1" ]] ||
        e2e_fail "aggregator (root, --allow-root): a thread has '$got'"
done <<<"$lines"
e2e_log "aggregator as root with --allow-root: $(wc -l <<<"$lines") threads, no capability at all, NoNewPrivs 1"

"$AGGREGATOR" --keyring="$T/keyring" --web.listen-address=127.0.0.1:0 --ingest.listen=tcp://127.0.0.1:0 \
    >"$T/root.out" 2>&1
rc=$?
[[ $rc == 2 ]] || e2e_fail "the aggregator as root without --allow-root exited $rc, expected 2"
grep -q 'refusing to run as root' "$T/root.out" || e2e_fail "no clear refusal: $(cat "$T/root.out")"
e2e_log "aggregator as root without --allow-root: exit 2, '$(head -c 60 "$T/root.out")...'"

# As nobody: the key ring must be readable by it (a copy outside the 0700 tmp).
KR=$(mktemp /tmp/pvescope-priv-keyring.XXXXXX)
cp "$T/keyring" "$KR"
chown nobody "$KR"
ports=$(e2e_free_ports 2)
read -r p_ingest p_web <<<"$ports"
e2e_start agg-nobody setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$AGGREGATOR" --keyring="$KR" \
    --ingest.listen="tcp://127.0.0.1:$p_ingest" --web.listen-address="127.0.0.1:$p_web"
E2E_WATCH=(agg-nobody)
e2e_wait_for "the aggregator as nobody answers" 20 \
    bash -c "[[ \$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$p_web/-/healthy) == 200 ]]"
rm -f "$KR"
lines=$(caps_of "${E2E_PID[agg-nobody]}")
while read -r got; do
    [[ $got == "0000000000000000 0000000000000000 0000000000000000 "*" 0000000000000000 1" ]] ||
        e2e_fail "aggregator as nobody: a thread has '$got'"
done <<<"$lines"
e2e_stop_checked agg-nobody 0
e2e_log "aggregator as nobody: no capability, NoNewPrivs 1"

E2E_WATCH=()
e2e_stop_checked aggregator 0
exit 0
