#!/usr/bin/env bash
# rejects.sh — crafted messages against a live aggregator while one real agent
# (good-node) keeps reporting. Every message must move exactly its own reject
# counter by exactly 1 (or be accepted), the good agent must never be
# disturbed, and the aggregator must survive it all and exit cleanly.
#
# usage: rejects.sh PVESCOPE_AGENT PVESCOPE_AGGREGATOR PVESCOPE_E2E_INJECT
# Exit 0 pass, 1 fail, 77 skipped (a prerequisite is missing).
E2E_NAME=rejects
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 3 ]] || { echo "usage: $0 PVESCOPE_AGENT PVESCOPE_AGGREGATOR PVESCOPE_E2E_INJECT" >&2; exit 2; }
AGENT=$1
AGGREGATOR=$2
INJECT=$3
CLUSTER=c1
GOOD=good-node
INJ=inj-node
MAXB=65536                      # --ingest.max-message-bytes; nanomsg's hard limit is 4x
REASONS=(oversize decode version bad_header unknown_cluster bad_tag replay invalid_report limits)

for b in "$AGENT" "$AGGREGATOR" "$INJECT"; do [[ -x $b ]] || e2e_fail "not executable: $b"; done
e2e_require_cmd python3 curl

e2e_init
T=$E2E_TMP

# ---- keys: two accepted keys for c1 (rotation), one wrong, one unknown cluster
e2e_new_key "$AGENT" "$T/c1.key"
e2e_new_key "$AGENT" "$T/c1-next.key"
e2e_new_key "$AGENT" "$T/wrong.key"
e2e_new_key "$AGENT" "$T/nokey.key"
e2e_new_key "$AGENT" "$T/c2.key"
{
    echo "# e2e key ring"
    printf '%s %s\n' "$CLUSTER" "$(cat "$T/c1.key")"
    printf '%s %s\n' "$CLUSTER" "$(cat "$T/c1-next.key")"
    printf '%s %s\n' "c2" "$(cat "$T/c2.key")"
} >"$T/keyring"

e2e_start_aggregator "$AGGREGATOR" "$T/keyring" --ingest.max-message-bytes=$MAXB --stale-after=30s
METRICS="$AGG_WEB/metrics"
e2e_start agent "$AGENT" --aggregator="$AGG_INGEST" --interval=1s --key-file="$T/c1.key" \
    --cluster="$CLUSTER" --node="$GOOD" --max-message-bytes=$MAXB
E2E_WATCH=(aggregator agent)

# ---- reading the counters ---------------------------------------------------
KEYS=() SERIES=()
for r in "${REASONS[@]}"; do KEYS+=("$r"); SERIES+=("pvescope_reports_rejected_total{reason=\"$r\"}"); done
KEYS+=(closed received good_up good_acc inj_acc)
SERIES+=("pvescope_ingest_connections_closed_total" "pvescope_reports_received_total"
         "pve_up{id=\"node/$GOOD\",pve_cluster=\"$CLUSTER\"}" "pvescope_node_reports_accepted_total{id=\"node/$GOOD\",pve_cluster=\"$CLUSTER\"}"
         "pvescope_node_reports_accepted_total{id=\"node/$INJ\",pve_cluster=\"$CLUSTER\"}")
declare -A S=() B=()

# snap — one /metrics scrape into S[key]; absent counters read as 0.
snap() {
    local vals i v
    mapfile -t vals < <(e2e_metric "$METRICS" "${SERIES[@]}" 2>/dev/null) || return 1
    [[ ${#vals[@]} -eq ${#KEYS[@]} ]] || return 1
    for i in "${!KEYS[@]}"; do
        v=${vals[$i]}
        [[ $v == absent ]] && v=0
        [[ $v =~ ^[0-9]+$ ]] || e2e_fail "${SERIES[$i]} is '$v', not a non-negative integer"
        S[${KEYS[$i]}]=$v
    done
}
snap_or_fail() { snap || e2e_fail "cannot read $METRICS"; }
save_baseline() { snap_or_fail; B=(); local k; for k in "${!S[@]}"; do B[$k]=${S[$k]}; done; }
at_least() { snap && (( S[$1] >= $2 )); }

e2e_wait_for "pve_up{id=\"node/$GOOD\",pve_cluster=\"$CLUSTER\"} 1" 30 e2e_metric_is "$METRICS" "pve_up{id=\"node/$GOOD\",pve_cluster=\"$CLUSTER\"}" 1
snap_or_fail
for r in "${REASONS[@]}"; do
    (( S[$r] == 0 )) || e2e_fail "reject counter $r is ${S[$r]} before any injection"
done
e2e_log "good-node is up; no rejects so far (received ${S[received]}, accepted ${S[good_acc]})"
# The agent's own transport counters, as its latest report tells them.
DROPPED_SERIES="pvescope_agent_reports_dropped_total{id=\"node/$GOOD\",pve_cluster=\"$CLUSTER\",endpoint=\"$AGG_INGEST\"}"
dropped_start=$(e2e_metric "$METRICS" "$DROPPED_SERIES")
[[ $dropped_start =~ ^[0-9]+$ ]] || e2e_fail "$DROPPED_SERIES is '$dropped_start'"

inject() { "$INJECT" "$1" "$AGG_INGEST" "${@:2}" 2>&1 || e2e_fail "inject $* failed (exit status $?)"; }
SEALED=(--key-file "$T/c1.key" --cluster "$CLUSTER" --node "$INJ")

# settle_and_check [EXPECT_KEY=DELTA...] — once the expected effect has been
# seen, waits until the good agent got one more report accepted (so a late
# extra effect of the injection would have had time to show), then asserts
# every counter against the baseline: the listed keys moved by exactly DELTA,
# every other reject reason did not move, and the good node is up and its
# accepted count went up.
#
# Every inject run opens one connection and closes it when done; nanomsg
# counts a connection closed by the peer as closed, so each run moves
# pvescope_ingest_connections_closed_total by exactly 1.
settle_and_check() {
    local acc=${S[good_acc]}
    e2e_wait_for "one more accepted report from $GOOD" 15 at_least good_acc $(( acc + 1 ))
    declare -A want=()
    local kv k
    for kv in "$@"; do want[${kv%%=*}]=${kv#*=}; done
    for k in "${REASONS[@]}" closed inj_acc; do
        local d=${want[$k]:-0}
        if (( S[$k] != B[$k] + d )); then
            e2e_log "counters before: $(for x in "${KEYS[@]}"; do printf '%s=%s ' "$x" "${B[$x]}"; done)"
            e2e_log "counters after:  $(for x in "${KEYS[@]}"; do printf '%s=%s ' "$x" "${S[$x]}"; done)"
            e2e_fail "$k went from ${B[$k]} to ${S[$k]}, expected +$d"
        fi
    done
    (( S[good_up] == 1 )) || e2e_fail "pve_up{id=\"node/$GOOD\",pve_cluster=\"$CLUSTER\"} is ${S[good_up]}"
    (( S[good_acc] > B[good_acc] )) || e2e_fail "$GOOD accepted count did not increase"
    (( S[received] > B[received] )) || e2e_fail "pvescope_reports_received_total did not increase"
}

# expect_reject REASON DESCRIPTION KIND INJECT-ARGS... — the message is counted
# under REASON exactly once and nothing else moves.
expect_reject() {
    local reason=$1 desc=$2; shift 2
    save_baseline
    inject "$@"
    e2e_wait_for "$reason counter +1 after: $desc" 20 at_least "$reason" $(( B[$reason] + 1 ))
    e2e_wait_for "the inject connection closed" 20 at_least closed $(( B[closed] + 1 ))
    settle_and_check "$reason=1" closed=1
    e2e_log "OK  $desc -> reason=$reason +1 (good-node accepted ${B[good_acc]} -> ${S[good_acc]})"
}

# expect_accept DESCRIPTION KIND INJECT-ARGS... — inj-node's accepted count +1.
expect_accept() {
    local desc=$1; shift
    save_baseline
    inject "$@"
    e2e_wait_for "$INJ accepted +1 after: $desc" 20 at_least inj_acc $(( B[inj_acc] + 1 ))
    e2e_wait_for "the inject connection closed" 20 at_least closed $(( B[closed] + 1 ))
    settle_and_check inj_acc=1 closed=1
    e2e_log "OK  $desc -> accepted (inj-node accepted ${S[inj_acc]})"
}

# ---- the injections -----------------------------------------------------------
expect_reject decode "256 garbage bytes" garbage
expect_reject oversize "$(( MAXB * 3 / 2 )) random bytes (1.5x the limit)" oversize $(( MAXB * 3 / 2 ))
expect_reject oversize "$(( MAXB * 4 )) random bytes (exactly nanomsg's hard limit)" oversize $(( MAXB * 4 ))

# Above nanomsg's hard limit (4x) the message never reaches the aggregator's
# code: nanomsg cuts the connection. inject --expect-cut checks from its side
# that the aggregator cut it (reconnection off, so there is no second
# connection), and only the closed-connection counter moves. nanomsg 1.1.5
# counts the cut when it happens and once more when the sender then closes its
# end, so one cut connection shows as +1 or +2 (+2 observed).
save_baseline
inject oversize $(( MAXB * 5 )) --expect-cut $(( $(e2e_secs 10) * 1000 ))
e2e_wait_for "pvescope_ingest_connections_closed_total +1 after a $(( MAXB * 5 ))-byte message" 20 \
    at_least closed $(( B[closed] + 1 ))
# Let the sender's close be processed too: two more good reports.
e2e_wait_for "two more accepted reports from $GOOD" 15 at_least good_acc $(( S[good_acc] + 2 ))
cut=$(( S[closed] - B[closed] ))
(( cut == 1 || cut == 2 )) || e2e_fail "closed connections went from ${B[closed]} to ${S[closed]} for one cut connection"
settle_and_check closed=$cut
e2e_log "OK  $(( MAXB * 5 )) bytes (5x) -> connection cut, closed connections ${B[closed]} -> ${S[closed]}, no reason counted"

expect_reject bad_tag "report sealed with a wrong key for cluster $CLUSTER" \
    sealed --key-file "$T/wrong.key" --cluster "$CLUSTER" --node "$INJ" --seq 100
expect_reject unknown_cluster "report for a cluster without a key" \
    sealed --key-file "$T/nokey.key" --cluster nokey --node "$INJ" --seq 100
# The same node name in another keyed cluster is another node: both are served,
# told apart by pve_cluster, and the first is not disturbed.
inject sealed --key-file "$T/c2.key" --cluster c2 --node "$GOOD" --seq 100
e2e_wait_for "pve_up{id=\"node/$GOOD\",pve_cluster=\"c2\"} 1" 20 \
    e2e_metric_is "$METRICS" "pve_up{id=\"node/$GOOD\",pve_cluster=\"c2\"}" 1
e2e_metric_is "$METRICS" "pve_up{id=\"node/$GOOD\",pve_cluster=\"$CLUSTER\"}" 1 ||
    e2e_fail "$GOOD of $CLUSTER disturbed by $GOOD of c2"
e2e_log "OK  $GOOD reporting for c2 as well -> two nodes, one per pve_cluster"

MEM=4294967296
expect_accept "valid sealed report, seq 1000" sealed "${SEALED[@]}" --seq 1000 --mem-total $MEM --save "$T/seq1000.env"
got=$(e2e_metric "$METRICS" "pve_memory_size_bytes{id=\"node/$INJ\",pve_cluster=\"$CLUSTER\"}")
[[ $got == "$MEM" ]] || e2e_fail "pve_memory_size_bytes{id=\"node/$INJ\",pve_cluster=\"$CLUSTER\"} is $got, the report said $MEM"
expect_reject replay "the same envelope again, byte for byte" raw "$T/seq1000.env"
expect_reject replay "a fresh envelope with the same seq 1000" sealed "${SEALED[@]}" --seq 1000
expect_reject replay "seq 1001 sent 1 hour ago" sealed "${SEALED[@]}" --seq 1001 --sent-offset-ms -3600000
expect_reject replay "seq 1001 sent 1 hour ahead" sealed "${SEALED[@]}" --seq 1001 --sent-offset-ms 3600000
expect_reject bad_header "node name with a quote and a newline" \
    sealed --key-file "$T/c1.key" --cluster "$CLUSTER" --node $'bad"node\nx' --seq 1
expect_reject bad_header "node name with a backslash" \
    sealed --key-file "$T/c1.key" --cluster "$CLUSTER" --node 'bad\node' --seq 1
expect_reject bad_header "a 64-byte node name" \
    sealed --key-file "$T/c1.key" --cluster "$CLUSTER" --node "$(printf 'n%.0s' {1..64})" --seq 1
expect_reject version "envelope version 2" wrong-version "${SEALED[@]}" --seq 1001
expect_reject decode "authenticated plaintext that is not a Report" sealed-garbage "${SEALED[@]}" --seq 1001
expect_reject invalid_report "report naming another node than its envelope" invalid-report "${SEALED[@]}" --seq 1001
expect_reject limits "report with 4097 disks" limits "${SEALED[@]}" --seq 1001 --disks 4097

# None of the rejected envelopes above moved inj-node's replay state: seq 1001
# is still new. Sealed with the second key of c1 (key rotation).
expect_accept "seq 1001 sealed with c1's second key" \
    sealed --key-file "$T/c1-next.key" --cluster "$CLUSTER" --node "$INJ" --seq 1001
# A new boot id starts a new sequence, judged by sent time.
expect_accept "new boot id, seq 1" sealed "${SEALED[@]}" --seq 1 --boot-id 0123abcd-0000-4000-8000-000000000001
expect_reject replay "the first boot's envelope (seq 1000) replayed after the reboot" raw "$T/seq1000.env"

# ---- the end: the aggregator survived, its output is valid, clean exits ------
e2e_alive aggregator || e2e_fail "the aggregator died"
[[ $(e2e_http_code "$AGG_WEB/-/healthy") == 200 ]] || e2e_fail "/-/healthy is not 200 at the end"
curl -sS --max-time 10 -o "$T/final.txt" "$METRICS" || e2e_fail "GET /metrics failed"
python3 "$E2E_TOOL" validate "$T/final.txt" >"$T/validate.out" ||
    { cat "$T/validate.out"; e2e_fail "/metrics is not a valid exposition after the injections"; }
if command -v promtool >/dev/null 2>&1; then
    promtool check metrics <"$T/final.txt" >"$T/promtool.out" 2>&1 && [[ ! -s $T/promtool.out ]] ||
        { cat "$T/promtool.out"; e2e_fail "promtool check metrics failed after the injections"; }
else
    e2e_log "promtool not installed: final /metrics checked by e2etool.py only"
fi
grep -F 'bad' "$T/final.txt" | grep -v '^#' | grep -F 'node/' &&
    e2e_fail "a rejected node name made it into /metrics"
dropped_end=$(e2e_metric "$METRICS" "$DROPPED_SERIES")
[[ $dropped_end == "$dropped_start" ]] ||
    e2e_fail "the good agent dropped reports during the injections: $DROPPED_SERIES $dropped_start -> $dropped_end"
snap_or_fail
e2e_log "final: $(for x in "${KEYS[@]}"; do printf '%s=%s ' "$x" "${S[$x]}"; done)"

e2e_stop_checked agent 0
e2e_stop_checked aggregator 0
exit 0
