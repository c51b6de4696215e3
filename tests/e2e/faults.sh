#!/usr/bin/env bash
# faults.sh — transport faults end to end (issue 5, item 4). Agents read the
# host1 fixture (/proc, /sys) at a short interval; the aggregator has a short
# --stale-after. One scenario per run:
#
#   restart    1. the aggregator is SIGKILLed and restarted on the same ports
#                 under two running agents: they reconnect by themselves, both
#                 nodes are pve_up 1 again within a bound, and the agents'
#                 sent/dropped counters account for every cycle;
#              2. the aggregator is away for FAULTS_OUTAGE seconds (default 20):
#                 the agent's CPU rate, RSS, fd count and cycle rate stay flat,
#                 every cycle of the outage is counted as dropped, and both
#                 nodes are back within a bound once it returns.
#   partition  the aggregator and an agent in two network namespaces made here
#              (ip netns + veth); the link is cut (ip link set down): the node
#              turns pve_up 0 within --stale-after + slack, and 1 again after
#              the link returns; a second partition during which the
#              aggregator is killed and restarted (the agent's TCP connection
#              is then dead, and nanomsg sets no keepalive) must recover too.
#   scrapers   agents reporting every 100 ms, 20 concurrent curl loops on
#              /metrics (half of them gzip, curl --compressed, so gzip scrapes
#              overlap) and a slow reader (1 KiB/s): every body parses, every
#              node's series set is complete, report ages stay small.
#   hungmount  storages on a FUSE mount whose daemon never answers (made here,
#              in a private mount namespace so nothing else on the machine can
#              trip over it): a statvfs there really blocks (checked), yet the
#              agent's cycles stay on time, the storage collector stays under
#              its deadline, the dead storages are pve_up 0 while a healthy
#              one reports its real size, the stuck statvfs costs one thread
#              (not one per cycle), and the agent still stops on SIGTERM.
#
# usage: faults.sh restart|partition|scrapers|hungmount PVESCOPE_AGENT PVESCOPE_AGGREGATOR
# Longer runs: FAULTS_OUTAGE=300 faults.sh restart ...  (aggregator away for
# 5 minutes), FAULTS_PARTITION=300 faults.sh partition ... (prints the figures;
# the bounds scale with the durations).
# Exit 0 pass, 1 fail, 77 skipped (not root / no ip netns, for partition; not root /
# no /dev/fuse / no unshare, for hungmount).
[[ $# -eq 3 ]] || { echo "usage: $0 restart|partition|scrapers|hungmount PVESCOPE_AGENT PVESCOPE_AGGREGATOR" >&2; exit 2; }
MODE=$1
E2E_NAME=faults-$MODE
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
AGENT=$(readlink -f -- "$2")
AGGREGATOR=$(readlink -f -- "$3")
FIX=$(cd "$E2E_HERE/../fixtures" && pwd)
CLUSTER=faults
STALE=3
INTERVAL=1                           # agent --interval, seconds (scrapers: 100 ms)

[[ -x $AGENT && -x $AGGREGATOR ]] || e2e_fail "not executable: $AGENT / $AGGREGATOR"
e2e_require_cmd python3 curl awk
case $MODE in restart|partition|scrapers|hungmount) ;; *) e2e_fail "unknown scenario '$MODE'" ;; esac

e2e_init
T=$E2E_TMP
mkdir -p "$T/empty"
e2e_new_key "$AGENT" "$T/cluster.key"
printf '%s %s\n' "$CLUSTER" "$(cat "$T/cluster.key")" >"$T/keyring"

# Runs a command in the aggregator's network namespace (partition only).
NS_AGG=()
in_agg_ns() { "${NS_AGG[@]}" "$@"; }

# start_agent NAME NODE ENDPOINT INTERVAL [PREFIX...] — an agent on the host1 fixture.
start_agent() {
    local name=$1 node=$2 ep=$3 ivl=$4; shift 4
    e2e_start "$name" "$@" "$AGENT" --node="$node" --cluster="$CLUSTER" --key-file="$T/cluster.key" \
        --aggregator="$ep" --interval="$ivl" --path.procfs="$FIX/host1/proc" --path.sysfs="$FIX/host1/sys" \
        --path.pve="$T/empty" --path.run="$T/empty" --path.rootfs="$T/empty" \
        --no-collector.thinpool --no-collector.nvme --no-collector.sensors --no-collector.zfs
}

# start_agg_on INGEST_URL WEB_HOSTPORT [PREFIX...] — (re)starts "aggregator" on
# fixed addresses (the agents keep their endpoint), waiting for /-/healthy.
# A port still held by the previous process is retried until the deadline.
start_agg_on() {
    local ingest=$1 web=$2; shift 2
    local dl; dl=$(e2e_deadline 15)
    local n=0
    while :; do
        n=$((n + 1))
        e2e_start aggregator "$@" "$AGGREGATOR" "${E2E_AGG_ROOT[@]}" --keyring="$T/keyring" --ingest.listen="$ingest" \
            --web.listen-address="$web" --stale-after=${STALE}s
        while e2e_alive aggregator; do
            [[ $(in_agg_ns curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$web/-/healthy") == 200 ]] && return 0
            e2e_before "$dl" || e2e_fail "aggregator did not answer /-/healthy within $(e2e_secs 15)s"
            sleep 0.02
        done
        e2e_stop aggregator TERM 5
        mv "${E2E_LOG[aggregator]}" "${E2E_LOG[aggregator]}.bind$n"
        e2e_before "$dl" || { cat "${E2E_LOG[aggregator]}.bind$n"; e2e_fail "aggregator could not start on $ingest / $web"; }
        sleep 0.1
    done
}

# scrape FILE — /metrics into FILE (from the aggregator's namespace).
scrape() { in_agg_ns curl -sS --max-time 10 -o "$1" "http://$WEB/metrics"; }

up_series() { echo "pve_up{id=\"node/$1\",pve_cluster=\"$CLUSTER\"}"; }

# nodes_up_are WANT NODE... — true when every NODE's pve_up is WANT on one scrape.
nodes_up_are() {
    local want=$1 n v; shift
    scrape "$T/up.txt" 2>/dev/null || return 1
    for n in "$@"; do
        v=$(e2e_metric "$T/up.txt" "$(up_series "$n")") || return 1
        [[ $v == "$want" ]] || return 1
    done
}

# agent_counters NODE FILE — "sent dropped" of NODE's agent in a scraped FILE.
agent_counters() {
    local sel="id=\"node/$1\",pve_cluster=\"$CLUSTER\""
    local s d
    s=$(python3 "$E2E_TOOL" select "$2" pvescope_agent_reports_sent_total "id=node/$1" | awk '{print $2}')
    d=$(python3 "$E2E_TOOL" select "$2" pvescope_agent_reports_dropped_total "id=node/$1" | awk '{print $2}')
    [[ $s =~ ^[0-9]+$ && $d =~ ^[0-9]+$ ]] || e2e_fail "no sent/dropped counters for $1 ($sel) in $2"
    echo "$s $d"
}

# Process figures from /proc: CPU nanoseconds (schedstat), VmRSS kB, open fds.
cpu_ns() { awk '{print $1}' "/proc/$1/schedstat"; }
rss_kb() { awk '$1 == "VmRSS:" {print $2}' "/proc/$1/status"; }
fd_count() { local f=(/proc/"$1"/fd/*); echo ${#f[@]}; }

# calc EXPR — floating point arithmetic (python), printed with 3 decimals.
calc() { python3 -c "print('%.6f' % ($1))"; }
# check COND MESSAGE — python condition, fails the test when false.
check() { python3 -c "import sys; sys.exit(0 if ($1) else 1)" || e2e_fail "$2"; }

# ===========================================================================
scenario_restart() {
    local ports ingest_port web_port
    ports=$(e2e_free_ports 2) || e2e_fail "cannot find free ports"
    read -r ingest_port web_port <<<"$ports"
    INGEST="tcp://127.0.0.1:$ingest_port"
    WEB="127.0.0.1:$web_port"
    start_agg_on "$INGEST" "$WEB"
    start_agent agent-a fa "$INGEST" ${INTERVAL}s
    start_agent agent-b fb "$INGEST" ${INTERVAL}s
    E2E_WATCH=(aggregator agent-a agent-b)
    e2e_wait_for "both nodes pve_up 1" 20 nodes_up_are 1 fa fb
    sleep 2                             # a few cycles connected
    scrape "$T/before-kill.txt" || e2e_fail "scrape failed"
    local t_before; t_before=$(e2e_now_us)
    local a0 b0; a0=($(agent_counters fa "$T/before-kill.txt")); b0=($(agent_counters fb "$T/before-kill.txt"))
    e2e_log "before the kill: fa sent ${a0[0]} dropped ${a0[1]}, fb sent ${b0[0]} dropped ${b0[1]}"

    # ---- 1. SIGKILL and restart on the same ports ---------------------------
    E2E_WATCH=(agent-a agent-b)
    local t_kill; t_kill=$(e2e_now_us)
    e2e_stop aggregator KILL 10
    [[ $E2E_RC == 137 ]] || e2e_fail "aggregator: exit status $E2E_RC after SIGKILL"
    start_agg_on "$INGEST" "$WEB"
    local t_ready; t_ready=$(e2e_now_us)
    E2E_WATCH=(aggregator agent-a agent-b)
    e2e_log "aggregator restarted $(e2e_elapsed "$t_kill")s after SIGKILL"
    # Bound: the agent's next cycle (one interval) plus nanomsg's reconnect
    # (first retry at once, then 0.5 s, 1.5 s, ... apart), scaled.
    e2e_wait_for "both nodes pve_up 1 after the restart" $(( INTERVAL + 2 )) nodes_up_are 1 fa fb
    local rec1; rec1=$(e2e_elapsed "$t_ready")
    e2e_log "RESULT restart: both nodes pve_up 1 ${rec1}s after the restarted aggregator answered ($(e2e_elapsed "$t_kill")s after SIGKILL)"
    e2e_alive agent-a && e2e_alive agent-b || e2e_fail "an agent died across the restart"

    sleep 2
    scrape "$T/after-restart.txt" || e2e_fail "scrape failed"
    local el; el=$(e2e_elapsed "$t_before")
    local a1 b1; a1=($(agent_counters fa "$T/after-restart.txt")); b1=($(agent_counters fb "$T/after-restart.txt"))
    e2e_log "after the restart (${el}s later): fa sent ${a1[0]} dropped ${a1[1]}, fb sent ${b1[0]} dropped ${b1[1]}"
    local x0 x1 n
    for n in a b; do
        local -n c0=${n}0 c1=${n}1
        # Every cycle is either sent or dropped (one may be pending); over el
        # seconds at 1 s that is el cycles, give or take the scrape timing.
        check "$(( c1[0] + c1[1] - c0[0] - c0[1] )) >= $el / $INTERVAL - 2 and $(( c1[0] + c1[1] - c0[0] - c0[1] )) <= $el / $INTERVAL + 2" \
            "agent f$n: sent+dropped grew by $(( c1[0] + c1[1] - c0[0] - c0[1] )) in ${el}s at ${INTERVAL}s"
        # At most the report pending at the kill and the one sent into the
        # dying connection are lost; the rest is retried when it reconnects.
        (( c1[1] - c0[1] <= 2 )) || e2e_fail "agent f$n dropped $(( c1[1] - c0[1] )) reports across a restart"
        (( c1[0] > c0[0] )) || e2e_fail "agent f$n: sent did not grow"
    done
    e2e_log "counters: fa dropped $(( a1[1] - a0[1] )), fb dropped $(( b1[1] - b0[1] )) across the restart"

    # ---- 2. aggregator away for OUTAGE seconds ------------------------------
    local outage=${FAULTS_OUTAGE:-20} base=8
    local pid=${E2E_PID[agent-a]}
    local cpu0 rss0 fd0 tc0 cpu1 rss1 fd1 tc1
    cpu0=$(cpu_ns "$pid"); rss0=$(rss_kb "$pid"); fd0=$(fd_count "$pid"); tc0=$(e2e_now_us)
    sleep "$base"
    cpu1=$(cpu_ns "$pid"); rss1=$(rss_kb "$pid"); fd1=$(fd_count "$pid"); tc1=$(e2e_now_us)
    local rate_conn; rate_conn=$(calc "($cpu1 - $cpu0) / 1e9 / (($tc1 - $tc0) / 1e6)")
    e2e_log "connected for ${base}s: CPU ${rate_conn} s/s, RSS ${rss0} -> ${rss1} kB, fds ${fd0} -> ${fd1}"
    scrape "$T/before-outage.txt" || e2e_fail "scrape failed"
    local t_out; t_out=$(e2e_now_us)
    a0=($(agent_counters fa "$T/before-outage.txt"))
    E2E_WATCH=(agent-a agent-b)
    e2e_stop aggregator TERM 10
    [[ $E2E_RC == 0 ]] || e2e_fail "aggregator: exit status $E2E_RC after SIGTERM"
    local cpu2 tc2 rss_max=$rss1 fd_max=$fd1 fd_min=$fd1 r f
    cpu2=$(cpu_ns "$pid"); tc2=$(e2e_now_us)
    local dl=$(( tc2 + outage * 1000000 ))
    while e2e_before "$dl"; do
        e2e_alive agent-a || e2e_fail "agent-a died while the aggregator was away"
        r=$(rss_kb "$pid"); f=$(fd_count "$pid")
        (( r > rss_max )) && rss_max=$r
        (( f > fd_max )) && fd_max=$f
        (( f < fd_min )) && fd_min=$f
        sleep 0.5
    done
    local cpu3 tc3 rss3
    cpu3=$(cpu_ns "$pid"); tc3=$(e2e_now_us); rss3=$(rss_kb "$pid")
    local rate_out; rate_out=$(calc "($cpu3 - $cpu2) / 1e9 / (($tc3 - $tc2) / 1e6)")
    e2e_log "RESULT outage ${outage}s: CPU ${rate_out} s/s (connected ${rate_conn}), RSS max ${rss_max} kB (connected ${rss1}), fds ${fd_min}..${fd_max} (connected ${fd1})"
    # CPU within 2x the connected rate (+1 ms/s for the clock resolution at
    # these tiny rates), RSS growth < 256 KiB, no fd leak (the connect attempt
    # may hold one socket: at most one more than connected).
    check "$rate_out <= 2 * $rate_conn + 0.001" "agent CPU rate while the aggregator is away is ${rate_out} s/s, connected ${rate_conn} s/s"
    (( rss_max - rss1 < 256 )) || e2e_fail "agent RSS grew by $(( rss_max - rss1 )) kB while the aggregator was away"
    (( fd_max <= fd1 + 1 )) || e2e_fail "agent fds grew from $fd1 to $fd_max while the aggregator was away"

    start_agg_on "$INGEST" "$WEB"
    t_ready=$(e2e_now_us)
    E2E_WATCH=(aggregator agent-a agent-b)
    # Bound: the agent's reconnect backoff (at most one interval, see
    # agent/sender.c) plus one interval, plus slack.
    e2e_wait_for "both nodes pve_up 1 after the outage" $(( 2 * INTERVAL + 3 )) nodes_up_are 1 fa fb
    local rec2; rec2=$(e2e_elapsed "$t_ready")
    e2e_log "RESULT outage ${outage}s: both nodes pve_up 1 ${rec2}s after the aggregator returned"
    sleep 2
    scrape "$T/after-outage.txt" || e2e_fail "scrape failed"
    el=$(e2e_elapsed "$t_out")
    a1=($(agent_counters fa "$T/after-outage.txt"))
    local fd4; fd4=$(fd_count "$pid")
    local cyc=$(( a1[0] + a1[1] - a0[0] - a0[1] )) drop=$(( a1[1] - a0[1] ))
    e2e_log "RESULT outage ${outage}s: fa cycles ${cyc} in ${el}s (sent $(( a1[0] - a0[0] )), dropped ${drop}); fds ${fd4}"
    # Cycle timing: one report per interval through the outage.
    check "$cyc >= $el / $INTERVAL - 2 and $cyc <= $el / $INTERVAL + 2" "agent fa made $cyc cycles in ${el}s at ${INTERVAL}s"
    # Every cycle of the outage is dropped (none sent into the void, no burst).
    check "$drop >= $outage / $INTERVAL - 2 and $drop <= ($outage + float('$rec2')) / $INTERVAL + 2" \
        "agent fa dropped $drop reports during a ${outage}s outage"
    (( fd4 == fd1 )) || e2e_fail "agent fds: $fd1 connected before, $fd4 connected after the outage"

    e2e_stop_checked agent-a 0
    e2e_stop_checked agent-b 0
    e2e_stop_checked aggregator 0
}

# ===========================================================================
scenario_partition() {
    [[ $(id -u) == 0 ]] || e2e_skip "the partition needs root (ip netns)"
    e2e_require_cmd ip
    local tag=$$
    NSA=pvsf-agg-$tag NSB=pvsf-agt-$tag VA=pvsfa$tag VB=pvsfb$tag
    ip netns add "$NSA" || e2e_skip "ip netns add failed (no network namespaces here)"
    PART_CLEANUP=1
    ip netns add "$NSB" || e2e_fail "ip netns add $NSB failed"
    ip link add "$VA" type veth peer name "$VB" || e2e_fail "cannot create a veth pair"
    ip link set "$VA" netns "$NSA" && ip link set "$VB" netns "$NSB" || e2e_fail "cannot move the veth ends"
    ip -n "$NSA" addr add 10.231.0.1/24 dev "$VA" && ip -n "$NSB" addr add 10.231.0.2/24 dev "$VB" &&
        ip -n "$NSA" link set lo up && ip -n "$NSB" link set lo up &&
        ip -n "$NSA" link set "$VA" up && ip -n "$NSB" link set "$VB" up || e2e_fail "cannot configure the veth pair"
    NS_AGG=(ip netns exec "$NSA")
    INGEST=tcp://10.231.0.1:9716
    WEB=127.0.0.1:9717
    start_agg_on "$INGEST" "$WEB" ip netns exec "$NSA"
    start_agent agent fp "$INGEST" ${INTERVAL}s ip netns exec "$NSB"
    E2E_WATCH=(aggregator agent)
    e2e_wait_for "node fp pve_up 1" 20 nodes_up_are 1 fp
    sleep 2
    local part=${FAULTS_PARTITION:-10} round t_cut t_back rec v

    for round in 1 2; do
        scrape "$T/p$round-before.txt" || e2e_fail "scrape failed"
        local c0; c0=($(agent_counters fp "$T/p$round-before.txt"))
        # Round 1 cuts silently: the aggregator's address goes away, the
        # agent's link keeps its carrier, its packets vanish (as behind a
        # broken switch), so TCP retransmits with its backoff. Round 2 takes
        # the link down (the agent sees no carrier).
        if (( round == 1 )); then
            ip -n "$NSA" addr del 10.231.0.1/24 dev "$VA" || e2e_fail "ip addr del failed"
        else
            ip -n "$NSA" link set "$VA" down || e2e_fail "ip link set down failed"
        fi
        t_cut=$(e2e_now_us)
        # pve_up 0 within the stale window (+ one interval: the last report
        # may have left just before the cut, + slack).
        e2e_wait_for "partition $round: node fp pve_up 0" $(( STALE + INTERVAL + 2 )) nodes_up_are 0 fp
        e2e_log "RESULT partition $round: pve_up 0 $(e2e_elapsed "$t_cut")s after the cut (--stale-after ${STALE}s)"
        if (( round == 2 )); then
            # The aggregator dies during the partition: its FIN never reaches
            # the agent, whose connection is now dead (no keepalive).
            E2E_WATCH=(agent)
            e2e_stop aggregator KILL 10
            start_agg_on "$INGEST" "$WEB" ip netns exec "$NSA"
            E2E_WATCH=(aggregator agent)
            e2e_log "partition 2: aggregator killed and restarted behind the partition"
        fi
        local dl2=$(( t_cut + part * 1000000 ))
        while e2e_before "$dl2"; do
            # 0; or absent once the restarted aggregator (empty store) runs.
            scrape "$T/during.txt" || e2e_fail "scrape failed during the partition"
            v=$(e2e_metric "$T/during.txt" "$(up_series fp)")
            [[ $v == 0 || ( $round == 2 && $v == absent ) ]] ||
                e2e_fail "partition $round: node fp has pve_up '$v' during the partition"
            sleep 0.5
        done
        if (( round == 1 )); then
            ip -n "$NSA" addr add 10.231.0.1/24 dev "$VA" || e2e_fail "ip addr add failed"
        else
            ip -n "$NSA" link set "$VA" up || e2e_fail "ip link set up failed"
        fi
        t_back=$(e2e_now_us)
        # Bound: TCP's retransmission backoff (doubling from about 0.2 s, so
        # the next retransmission comes within about the partition's length;
        # at most TCP_RTO_MAX, 120 s, for long partitions), plus one interval.
        e2e_wait_for "partition $round: node fp pve_up 1 after the link returned" $(( part + INTERVAL + 5 )) nodes_up_are 1 fp
        rec=$(e2e_elapsed "$t_back")
        e2e_log "RESULT partition $round (${part}s$([[ $round == 2 ]] && echo ', aggregator restarted meanwhile')): pve_up 1 ${rec}s after the $([[ $round == 1 ]] && echo address || echo link) returned"
        sleep 2
        scrape "$T/p$round-after.txt" || e2e_fail "scrape failed"
        local c1; c1=($(agent_counters fp "$T/p$round-after.txt"))
        e2e_log "partition $round: agent sent +$(( c1[0] - c0[0] )) dropped +$(( c1[1] - c0[1] ))"
        grep -E 'aggregator .*(dropped|sending again|reconnect)' "${E2E_LOG[agent]}" | tail -n 3
    done
    e2e_stop_checked agent 0
    e2e_stop_checked aggregator 0
}

PART_CLEANUP=0
e2e_cleanup_hook() {
    (( PART_CLEANUP )) || return 0
    ip netns del "$NSA" 2>/dev/null
    ip netns del "$NSB" 2>/dev/null
}

# ===========================================================================
scenario_scrapers() {
    local nodes=(fa fb fc) n i load=${FAULTS_SCRAPE_SECS:-10}
    e2e_start_aggregator "$AGGREGATOR" "$T/keyring" --stale-after=${STALE}s
    WEB=${AGG_WEB#http://}
    for n in "${nodes[@]}"; do start_agent "agent-$n" "$n" "$AGG_INGEST" 100ms; done
    E2E_WATCH=(aggregator agent-fa agent-fb agent-fc)
    e2e_wait_for "every node pve_up 1" 20 nodes_up_are 1 "${nodes[@]}"
    sleep 1                             # interval ratios come with the second report
    scrape "$T/reference.txt" || e2e_fail "scrape failed"
    local size; size=$(stat -c %s "$T/reference.txt")
    local before; before=$(python3 "$E2E_TOOL" select "$T/reference.txt" pvescope_node_reports_accepted_total | awk '{s += $2} END {print s}')

    # 20 scrapers in a loop, bodies kept; a slow reader at about size/(load) bytes/s.
    mkdir -p "$T/bodies"
    local stop=$T/stop t_load; t_load=$(e2e_now_us)
    # Odd scrapers ask for gzip: with two HTTP threads, gzip scrapes overlap,
    # and the one that finds the kept compressor busy uses its own.
    local enc
    for i in $(seq 1 20); do
        enc=--no-compressed; (( i % 2 )) && enc=--compressed
        e2e_start "scraper-$i" bash -c 'n=0; while [[ ! -e $1 ]]; do
            curl -sS --max-time 30 "$5" -o "$2/$3.$n.txt" "$4" || exit 1; n=$((n + 1)); done' \
            scraper "$stop" "$T/bodies" "$i" "http://$WEB/metrics" "$enc"
        E2E_WATCH+=("scraper-$i")
    done
    local rate=$(( size / load + 1 ))
    e2e_start slow curl -sS --max-time $(( 3 * load + 30 )) --limit-rate "$rate" -o "$T/slow.txt" "http://$WEB/metrics"
    # Meanwhile: every node's report age stays small (ingest is not delayed
    # behind the scrapes). At 100 ms, an age above 1 s is 10 late reports.
    local max_age=0 age dl; dl=$(( t_load + load * 1000000 ))
    while e2e_before "$dl"; do
        curl -sS --max-time 10 -o "$T/age.txt" "http://$WEB/metrics" || e2e_fail "scrape failed under load"
        age=$(python3 "$E2E_TOOL" select "$T/age.txt" pvescope_node_report_age_seconds | awk 'BEGIN {m = 0} $2 > m {m = $2} END {print m}')
        max_age=$(calc "max($max_age, $age)")
        sleep 0.2
    done
    : >"$stop"
    local el; el=$(e2e_elapsed "$t_load")
    scrape "$T/after.txt" || e2e_fail "scrape failed"
    local after; after=$(python3 "$E2E_TOOL" select "$T/after.txt" pvescope_node_reports_accepted_total | awk '{s += $2} END {print s}')
    E2E_WATCH=(aggregator agent-fa agent-fb agent-fc)
    for i in $(seq 1 20); do
        e2e_stop "scraper-$i" TERM $(( 10 ))
        [[ $E2E_RC == 0 ]] || e2e_fail "scraper $i: a scrape failed (exit status $E2E_RC)"
    done
    local dl2; dl2=$(e2e_deadline $(( 2 * load + 30 )))
    while e2e_alive slow && e2e_before "$dl2"; do sleep 0.2; done
    e2e_stop slow TERM 5
    [[ $E2E_RC == 0 ]] || e2e_fail "the slow reader failed (exit status $E2E_RC)"
    local bodies; bodies=$(ls "$T/bodies" | wc -l)
    local accepted=$(( after - before ))
    e2e_log "RESULT scrapers: $bodies bodies of ~$size bytes in ${el}s by 20 scrapers + 1 at $rate B/s; max report age ${max_age}s; $accepted reports accepted from 3 nodes at 100 ms"
    check "$max_age < 1.0 * $E2E_TIME_FACTOR" "a node's report age reached ${max_age}s under the scrape load (interval 0.1s)"
    check "$accepted >= 0.7 * 3 * $el / 0.1" "only $accepted reports accepted in ${el}s from 3 nodes at 100 ms"
    (( bodies >= 40 )) || e2e_fail "only $bodies scrapes in ${el}s"

    # Every body (and the slow one) is a valid exposition, and each node has
    # exactly the series (keys) of the reference scrape: no torn node.
    python3 - "$E2E_HERE" "$T/reference.txt" "$T/slow.txt" "$T"/bodies/*.txt <<'PYEOF' || e2e_fail "torn or invalid scrape bodies (above)"
import re, sys
sys.path.insert(0, sys.argv[1])
import e2etool
node_re = re.compile(r'id="(node/[^"]*)"')
def per_node(path):
    samples, _, problems = e2etool.parse_exposition(open(path, encoding="utf-8").read())
    nodes = {}
    for key in samples:
        m = node_re.search(key)
        if m and 'pve_cluster="faults"' in key:
            nodes.setdefault(m.group(1), set()).add(key)
    return nodes, problems
ref, problems = per_node(sys.argv[2])
if problems or sorted(ref) != ["node/fa", "node/fb", "node/fc"]:
    sys.exit("reference scrape: %s, nodes %s" % (problems[:5], sorted(ref)))
bad = 0
for path in sys.argv[3:]:
    nodes, problems = per_node(path)
    msgs = problems[:3]
    for n in ref:
        if nodes.get(n) != ref[n]:
            got = nodes.get(n, set())
            msgs.append("%s: missing %s, extra %s" % (n, sorted(ref[n] - got)[:3], sorted(got - ref[n])[:3]))
    if msgs:
        bad += 1
        if bad <= 5:
            print("%s: %s" % (path, "; ".join(msgs)))
print("checked %d bodies, %d series per node, %d bad" % (len(sys.argv) - 3, len(ref["node/fa"]), bad))
sys.exit(1 if bad else 0)
PYEOF
    for n in "${nodes[@]}"; do e2e_stop_checked "agent-$n" 0; done
    e2e_stop_checked aggregator 0
}

# ===========================================================================
# The FUSE "server" of hungmount: mounts a FUSE filesystem on argv[1] and then
# never reads /dev/fuse, so the kernel's INIT and every later request (statfs,
# lookup) wait forever, as on a dead NFS server. Closing the fd (exit) aborts
# the connection and releases every waiter.
write_hungfs() {
    cat >"$1" <<'PYEOF2'
import ctypes, os, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
fd = os.open("/dev/fuse", os.O_RDWR)
opts = ("fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other" % fd).encode()
for target in sys.argv[1:]:
    if libc.mount(b"pvescope-hung", target.encode(), b"fuse.pvescope-hung", 0, opts) != 0:
        sys.exit("mount %s: %s" % (target, os.strerror(ctypes.get_errno())))
print("mounted", flush=True)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
while True:
    signal.pause()
PYEOF2
}

# storage_line FILE ID — "<pve_up> <pve_disk_size_bytes>" of storage ID.
storage_values() {
    local id="id=\"storage/$NODE/$2\",pve_cluster=\"$CLUSTER\""
    echo "$(e2e_metric "$1" "pve_up{$id}") $(e2e_metric "$1" "pve_disk_size_bytes{$id}")"
}

local_storage_ok() {
    scrape "$T/m.txt" || return 1
    [[ $(storage_values "$T/m.txt" local) == "1 $LOCAL_WANT" ]]
}

scenario_hungmount() {
    [[ $(id -u) == 0 && -c /dev/fuse ]] || e2e_skip "needs root and /dev/fuse"
    e2e_require_cmd unshare nsenter timeout stat
    NODE=hm
    local root=$T/root dead=$T/root/mnt/pve/deadnfs
    mkdir -p "$dead" "$root/srv/deaddir" "$root/var/lib/vz" "$T/pve"
    cp "$FIX/pve-standalone/.members" "$T/pve/.members"
    # nfs: a mount point (mountinfo) whose statvfs hangs; dir: a path inside a
    # second hung mount (a lookup that hangs); local: a healthy directory.
    cat >"$T/pve/storage.cfg" <<EOF
dir: local
	path /var/lib/vz
	content iso,vztmpl,backup

nfs: deadnfs
	export /export/pve
	path /mnt/pve/deadnfs
	server 192.0.2.1
	content images

dir: deaddir
	path /srv/deaddir/images
	content images
EOF
    write_hungfs "$T/hungfs.py"
    e2e_start hungfs unshare -m --propagation private python3 "$T/hungfs.py" "$dead" "$root/srv/deaddir"
    e2e_wait_for "the hung FUSE mounts" 10 grep -q mounted "${E2E_LOG[hungfs]}"
    local ns=(nsenter --mount=/proc/${E2E_PID[hungfs]}/ns/mnt --)
    # The mount really never answers: statvfs blocks until killed.
    local t0; t0=$(e2e_now_us)
    if "${ns[@]}" timeout -s KILL 2 stat -f "$dead" >/dev/null 2>&1; then e2e_fail "statvfs of the hung mount answered"; fi
    e2e_log "statvfs of $dead: no answer in $(e2e_elapsed "$t0")s (killed)"
    grep -q "$dead" /proc/self/mountinfo && e2e_fail "the hung mount leaked into the test's mount namespace"

    e2e_start_aggregator "$AGGREGATOR" "$T/keyring" --stale-after=${STALE}s
    WEB=${AGG_WEB#http://}
    # LeakSanitizer's exit-time check stops every thread with ptrace, and a
    # thread in a FUSE (or NFS) wait cannot be stopped: with leak detection on,
    # an ASan agent would hang at exit. The leak check runs in every other test.
    e2e_start agent env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" "${ns[@]}" "$AGENT" --node="$NODE" --cluster="$CLUSTER" --key-file="$T/cluster.key" \
        --aggregator="$AGG_INGEST" --interval=${INTERVAL}s --path.pve="$T/pve" --path.run="$T/empty" \
        --path.rootfs="$root" --no-collector.thinpool --no-collector.nvme --no-collector.sensors \
        --no-collector.zfs
    E2E_WATCH=(aggregator agent hungfs)
    e2e_wait_for "node $NODE pve_up 1" 20 nodes_up_are 1 "$NODE"
    local agent_pid; agent_pid=$(pgrep -f -n -- "--node=$NODE ") || e2e_fail "no agent pid"
    sleep 2
    scrape "$T/m0.txt" || e2e_fail "scrape failed"
    local t_first; t_first=$(e2e_now_us)
    local acc="pvescope_node_reports_accepted_total{id=\"node/$NODE\",pve_cluster=\"$CLUSTER\"}"
    local dur="pvescope_collector_duration_seconds{collector=\"storage\",id=\"node/$NODE\",pve_cluster=\"$CLUSTER\"}"
    local a0; a0=$(e2e_metric "$T/m0.txt" "$acc")
    local threads0; threads0=$(ls /proc/"$agent_pid"/task | wc -l)
    local i d maxdur=0
    for i in $(seq 1 $(( 10 / INTERVAL ))); do
        sleep "$INTERVAL"
        scrape "$T/m.txt" || e2e_fail "scrape failed"
        d=$(e2e_metric "$T/m.txt" "$dur")
        maxdur=$(calc "max($maxdur, $d)")
    done
    local el a1; el=$(e2e_elapsed "$t_first"); a1=$(e2e_metric "$T/m.txt" "$acc")
    local threads1; threads1=$(ls /proc/"$agent_pid"/task | wc -l)
    # One worker stuck in the FUSE request queue per dead mount, no more.
    local f stuck=0
    for f in /proc/"$agent_pid"/task/*/wchan; do [[ $(cat "$f" 2>/dev/null) == fuse* ]] && stuck=$((stuck + 1)); done
    e2e_log "RESULT hungmount: $(( a1 - a0 )) reports accepted in ${el}s at ${INTERVAL}s; storage collector at most ${maxdur}s; agent threads $threads0 -> $threads1, $stuck blocked in FUSE"
    check "$(( a1 - a0 )) >= $el / $INTERVAL - 2" "only $(( a1 - a0 )) reports in ${el}s at ${INTERVAL}s: cycles stalled"
    # STORAGE_DEADLINE_S is 0.2 s for all storages together; the slack is for
    # a loaded machine, the hang itself would be the whole run.
    check "$maxdur < 0.2 + 0.3 * $E2E_TIME_FACTOR" "the storage collector took ${maxdur}s (deadline 0.2 s)"
    (( stuck == 2 )) || e2e_fail "$stuck agent threads blocked on the hung mounts, expected 2 (one per dead storage)"
    (( threads1 <= threads0 )) || e2e_fail "agent threads grew from $threads0 to $threads1 while the mount hung"
    read -r up size <<<"$(storage_values "$T/m.txt" deadnfs)"
    [[ $up == 0 && $size == absent ]] || e2e_fail "deadnfs: pve_up $up, size $size (want 0, absent)"
    read -r up size <<<"$(storage_values "$T/m.txt" deaddir)"
    [[ $up == 0 && $size == absent ]] || e2e_fail "deaddir: pve_up $up, size $size (want 0, absent)"
    # On a loaded machine one cycle's healthy statvfs may miss the deadline
    # too (pve_up 0 for that cycle): the healthy storage must be seen up.
    LOCAL_WANT=$(stat -f -c '%b * %S' "$root/var/lib/vz"); LOCAL_WANT=$(( LOCAL_WANT ))
    e2e_wait_for "storage local pve_up 1 with its statvfs size" 10 local_storage_ok
    read -r up size <<<"$(storage_values "$T/m.txt" local)"
    e2e_log "local: pve_up $up, size $size"
    # A stuck worker must not keep the agent from exiting.
    e2e_stop_checked agent 0
    e2e_stop_checked aggregator 0
    e2e_stop hungfs TERM 10
}

"scenario_$MODE"
exit 0
