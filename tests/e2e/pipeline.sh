#!/usr/bin/env bash
# pipeline.sh — end to end: one real agent (this machine's /proc) → aggregator
# → /metrics (promtool, gzip, HTTP endpoints) → a real Prometheus server, then
# the agent is stopped and its node must go stale everywhere.
#
# usage: pipeline.sh PVESCOPE_AGENT PVESCOPE_AGGREGATOR
# Exit 0 pass, 1 fail, 77 skipped (a prerequisite is missing).
# PROMETHEUS / PROMTOOL override the binaries found on PATH.
E2E_NAME=pipeline
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 2 ]] || { echo "usage: $0 PVESCOPE_AGENT PVESCOPE_AGGREGATOR" >&2; exit 2; }
AGENT=$1
AGGREGATOR=$2
PROMETHEUS=${PROMETHEUS:-prometheus}
PROMTOOL=${PROMTOOL:-promtool}
NODE=e2e-node
CLUSTER=e2e
STALE=3
JOB=pvescope-e2e

[[ -x $AGENT && -x $AGGREGATOR ]] || e2e_fail "not executable: $AGENT / $AGGREGATOR"
e2e_require_cmd python3 curl awk "$PROMTOOL" "$PROMETHEUS"
[[ -r /proc/meminfo && -r /proc/stat ]] || e2e_skip "no readable /proc/meminfo and /proc/stat"

e2e_init
T=$E2E_TMP

# ---- keys, aggregator, agent --------------------------------------------
e2e_new_key "$AGENT" "$T/cluster.key"
printf '%s %s\n' "$CLUSTER" "$(cat "$T/cluster.key")" >"$T/keyring"

e2e_start_aggregator "$AGGREGATOR" "$T/keyring" --stale-after=${STALE}s
METRICS="$AGG_WEB/metrics"
e2e_start agent "$AGENT" --aggregator="$AGG_INGEST" --interval=1s --key-file="$T/cluster.key" \
    --cluster="$CLUSTER" --node="$NODE"
E2E_WATCH=(aggregator agent)

e2e_wait_for "pve_up{id=\"node/$NODE\",pve_cluster=\"$CLUSTER\"} 1 on /metrics" 30 \
    e2e_metric_is "$METRICS" "pve_up{id=\"node/$NODE\",pve_cluster=\"$CLUSTER\"}" 1
e2e_log "node $NODE is up on /metrics"
# The interval ratios (pve_cpu_usage_ratio, pve_node_cpu_iowait_ratio) come
# with the agent's second report; wait for them so that the plain and the
# gzipped bodies below have the same families.
e2e_wait_for "pve_cpu_usage_ratio for $NODE (second report)" 30 \
    e2e_metric_present "$METRICS" "pve_cpu_usage_ratio{id=\"node/$NODE\",pve_cluster=\"$CLUSTER\"}"

# ---- promtool check metrics -----------------------------------------------
# promtool exits 0 only when the text parses and has no lint problem; it
# prints problems (to stdout or stderr depending on the version). Our names
# are meant to be lint-clean, so any output at all is a failure.
curl -sS --max-time 10 -D "$T/plain.hdr" -o "$T/plain.txt" "$METRICS" || e2e_fail "GET /metrics failed"
"$PROMTOOL" check metrics <"$T/plain.txt" >"$T/promtool.out" 2>&1
rc=$?
if [[ $rc -ne 0 || -s $T/promtool.out ]]; then
    echo "---- promtool check metrics (exit status $rc) ----"
    cat "$T/promtool.out"
    e2e_fail "promtool check metrics reported problems with /metrics (exit status $rc)"
fi
e2e_log "promtool check metrics: clean ($(grep -vc '^#' "$T/plain.txt") samples)"
python3 "$E2E_TOOL" validate "$T/plain.txt" >"$T/validate.out" ||
    { cat "$T/validate.out"; e2e_fail "/metrics is not a valid exposition"; }
grep -qi '^content-type: text/plain; version=0.0.4' "$T/plain.hdr" ||
    { cat "$T/plain.hdr"; e2e_fail "/metrics Content-Type is not text/plain; version=0.0.4"; }

# ---- gzip -----------------------------------------------------------------
curl -sS --max-time 10 -H 'Accept-Encoding: gzip' -D "$T/gz.hdr" -o "$T/body.gz" "$METRICS" ||
    e2e_fail "GET /metrics with gzip failed"
grep -qiE '^content-encoding: *gzip' "$T/gz.hdr" ||
    { cat "$T/gz.hdr"; e2e_fail "Accept-Encoding: gzip did not give Content-Encoding: gzip"; }
python3 "$E2E_TOOL" gunzip "$T/body.gz" "$T/gunzipped.txt" || e2e_fail "the gzip body does not decompress"
"$PROMTOOL" check metrics <"$T/gunzipped.txt" >"$T/promtool-gz.out" 2>&1 && [[ ! -s $T/promtool-gz.out ]] ||
    { cat "$T/promtool-gz.out"; e2e_fail "promtool check metrics failed on the decompressed gzip body"; }
python3 "$E2E_TOOL" families "$T/plain.txt" >"$T/plain.families"
python3 "$E2E_TOOL" families "$T/gunzipped.txt" >"$T/gz.families"
diff -u "$T/plain.families" "$T/gz.families" || e2e_fail "gzip body has other families than the plain one"
e2e_metric_is "$T/gunzipped.txt" "pve_up{id=\"node/$NODE\",pve_cluster=\"$CLUSTER\"}" 1 || e2e_fail "gzip body lacks pve_up 1 for $NODE"
# curl --compressed, as people check an exporter by hand: it decodes only
# the first gzip member of a body, so the whole text must be in that one.
curl -sS --max-time 10 --compressed -D "$T/curl-gz.hdr" -o "$T/curl-gz.txt" "$METRICS" ||
    e2e_fail "curl --compressed /metrics failed"
grep -qiE '^content-encoding: *gzip' "$T/curl-gz.hdr" ||
    { cat "$T/curl-gz.hdr"; e2e_fail "curl --compressed did not get a gzip body"; }
"$PROMTOOL" check metrics <"$T/curl-gz.txt" >"$T/promtool-curl-gz.out" 2>&1 && [[ ! -s $T/promtool-curl-gz.out ]] ||
    { cat "$T/promtool-curl-gz.out"; e2e_fail "promtool check metrics failed on curl --compressed's body"; }
python3 "$E2E_TOOL" families "$T/curl-gz.txt" >"$T/curl-gz.families"
diff -u "$T/plain.families" "$T/curl-gz.families" || e2e_fail "curl --compressed's body has other families than the plain one"
e2e_metric_is "$T/curl-gz.txt" "pve_up{id=\"node/$NODE\",pve_cluster=\"$CLUSTER\"}" 1 ||
    e2e_fail "curl --compressed's body lacks pve_up 1 for $NODE"
[[ $(tail -c 1 "$T/curl-gz.txt" | od -An -tx1) == " 0a" ]] || e2e_fail "curl --compressed's body does not end with a newline"
if grep -qi '^content-encoding' "$T/plain.hdr"; then
    cat "$T/plain.hdr"
    e2e_fail "a request without Accept-Encoding got a Content-Encoding"
fi
e2e_log "gzip: $(stat -c %s "$T/body.gz") bytes compressed, $(wc -l <"$T/plain.families") families in both"

# ---- other endpoints --------------------------------------------------------
for check in "/-/healthy GET 200" "/-/ready GET 200" "/ GET 200" "/no-such-page GET 404" \
             "/metrics POST 405" "/-/healthy POST 405"; do
    read -r path method want <<<"$check"
    args=()
    [[ $method == POST ]] && args=(-X POST --data x)
    got=$(e2e_http_code "$AGG_WEB$path" "${args[@]}")
    [[ $got == "$want" ]] || e2e_fail "$method $path: HTTP $got, expected $want"
done
e2e_log "HTTP endpoints: healthy/ready/status 200, unknown 404, POST 405"

# ---- one target per cluster: /metrics?cluster=NAME ----------------------------
curl -sS --max-time 10 -o "$T/only.txt" "$METRICS?cluster=$CLUSTER" || e2e_fail "GET /metrics?cluster= failed"
e2e_metric_is "$T/only.txt" "pve_up{id=\"node/$NODE\",pve_cluster=\"$CLUSTER\"}" 1 ||
    e2e_fail "/metrics?cluster=$CLUSTER lacks its node"
curl -sS --max-time 10 -o "$T/other.txt" "$METRICS?cluster=no-such-cluster" || e2e_fail "GET /metrics?cluster= failed"
[[ $(e2e_metric "$T/other.txt" "pve_up{id=\"node/$NODE\",pve_cluster=\"$CLUSTER\"}") == absent ]] ||
    e2e_fail "/metrics?cluster=no-such-cluster shows $CLUSTER's node"
grep -q '^pvescope_build_info' "$T/other.txt" || e2e_fail "/metrics?cluster= lost the aggregator's self metrics"
e2e_log "/metrics?cluster=: $CLUSTER's node only where asked; self metrics always"

# ---- Prometheus -------------------------------------------------------------
# Prometheus asks for gzip on every scrape: the values checked below come
# through the compressed body.
cat >"$T/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: $JOB
    static_configs:
      - targets: ['${AGG_WEB#http://}']
EOF
e2e_start_prometheus "$T/prometheus.yml"
E2E_WATCH=(aggregator agent prometheus)
e2e_log "prometheus ready at $PROM"

promql() { python3 "$E2E_TOOL" promql "$PROM" "$1"; }
promql_is() { [[ $(promql "$1" 2>/dev/null) == "$2" ]]; }

e2e_wait_for "Prometheus: pve_up{id=\"node/$NODE\",pve_cluster=\"$CLUSTER\"} == 1" 30 promql_is "pve_up{id=\"node/$NODE\",pve_cluster=\"$CLUSTER\"}" 1
e2e_wait_for "Prometheus: up{job=\"$JOB\"} == 1" 10 promql_is "up{job=\"$JOB\"}" 1

# Integers compared exactly (python: no float rounding in bash).
int_equal() { python3 -c 'import sys; from decimal import Decimal as D; sys.exit(0 if D(sys.argv[1]) == D(sys.argv[2]) else 1)' "$1" "$2"; }

mem_kb=$(awk '$1 == "MemTotal:" {print $2}' /proc/meminfo)
want_mem=$(( mem_kb * 1024 ))
got_mem=$(promql "pve_memory_size_bytes{id=\"node/$NODE\",pve_cluster=\"$CLUSTER\"}") || e2e_fail "query pve_memory_size_bytes failed"
int_equal "$got_mem" "$want_mem" ||
    e2e_fail "pve_memory_size_bytes in Prometheus is $got_mem, MemTotal*1024 is $want_mem"
direct_mem=$(e2e_metric "$METRICS" "pve_memory_size_bytes{id=\"node/$NODE\",pve_cluster=\"$CLUSTER\"}")
[[ $direct_mem == "$want_mem" ]] || e2e_fail "pve_memory_size_bytes on /metrics is $direct_mem, expected $want_mem"

want_cpus=$(grep -c '^cpu[0-9]' /proc/stat)
got_cpus=$(promql "pve_cpu_usage_limit{id=\"node/$NODE\",pve_cluster=\"$CLUSTER\"}") || e2e_fail "query pve_cpu_usage_limit failed"
int_equal "$got_cpus" "$want_cpus" ||
    e2e_fail "pve_cpu_usage_limit in Prometheus is $got_cpus, /proc/stat has $want_cpus cpuN lines"
got_up=$(promql "up{job=\"$JOB\"}")
[[ $got_up == 1 ]] || e2e_fail "up{job=\"$JOB\"} is $got_up"
e2e_log "Prometheus: pve_memory_size_bytes=$got_mem (MemTotal ${mem_kb} kB), pve_cpu_usage_limit=$got_cpus, up=1"

# ---- the agent stops: the node goes stale ----------------------------------
E2E_WATCH=(aggregator prometheus)
t_kill=$(e2e_now_us)
e2e_stop_checked agent 0

# Direct: every body is self-consistent (pve_up 1 <=> age <= stale-after), and
# pve_up turns 0 within stale-after + margin.
check_stale_direct() {
    curl -sS --max-time 10 -o "$T/stale.txt" "$METRICS" || return 1
    local up age
    { read -r up; read -r age; } < <(e2e_metric "$T/stale.txt" "pve_up{id=\"node/$NODE\",pve_cluster=\"$CLUSTER\"}" \
        "pvescope_node_report_age_seconds{id=\"node/$NODE\",pve_cluster=\"$CLUSTER\"}")
    case $up in
    1) python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) <= $STALE else 1)" "$age" ||
           e2e_fail "pve_up is 1 with a report age of ${age}s > stale-after ${STALE}s"
       return 1 ;;
    0) python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) > $STALE else 1)" "$age" ||
           e2e_fail "pve_up is 0 with a report age of only ${age}s <= stale-after ${STALE}s"
       return 0 ;;
    *) e2e_fail "pve_up{id=\"node/$NODE\",pve_cluster=\"$CLUSTER\"} is '$up' on /metrics after the agent stopped" ;;
    esac
}
MARGIN=$(( STALE + 7 ))            # stale window + margin (scaled in slow builds)
e2e_wait_for "/metrics: pve_up{id=\"node/$NODE\",pve_cluster=\"$CLUSTER\"} 0 after the agent stopped" $MARGIN check_stale_direct
e2e_log "/metrics: pve_up 0 $(e2e_elapsed "$t_kill")s after SIGTERM to the agent"

e2e_wait_for "Prometheus: pve_up{id=\"node/$NODE\",pve_cluster=\"$CLUSTER\"} == 0" $MARGIN promql_is "pve_up{id=\"node/$NODE\",pve_cluster=\"$CLUSTER\"}" 0
e2e_wait_for "Prometheus: pve_memory_size_bytes{id=\"node/$NODE\",pve_cluster=\"$CLUSTER\"} has no series" $MARGIN \
    promql_is "pve_memory_size_bytes{id=\"node/$NODE\",pve_cluster=\"$CLUSTER\"}" absent
e2e_log "Prometheus: pve_up 0 and pve_memory_size_bytes gone $(e2e_elapsed "$t_kill")s after SIGTERM"

# Direct: only identity, liveness and self families still name the node (an
# offline node stays listed, as the exporter lists offline cluster nodes);
# the exposition stays valid.
curl -sS --max-time 10 -o "$T/stale.txt" "$METRICS" || e2e_fail "GET /metrics failed"
[[ $(e2e_metric "$T/stale.txt" "pve_memory_size_bytes{id=\"node/$NODE\",pve_cluster=\"$CLUSTER\"}") == absent ]] ||
    e2e_fail "/metrics still has pve_memory_size_bytes for the stale node"
left=$(python3 "$E2E_TOOL" series "$T/stale.txt" | grep -F "id=\"node/$NODE\"" | sed 's/{.*//' | sort -u | tr '\n' ' ')
[[ $left == "pve_node_info pve_up pvescope_node_report_age_seconds pvescope_node_reports_accepted_total " ]] ||
    e2e_fail "families still naming the stale node: $left"
"$PROMTOOL" check metrics <"$T/stale.txt" >"$T/promtool-stale.out" 2>&1 && [[ ! -s $T/promtool-stale.out ]] ||
    { cat "$T/promtool-stale.out"; e2e_fail "promtool check metrics failed on the stale /metrics"; }

# ---- shutdown: clean exits, no sanitizer reports ---------------------------
e2e_stop prometheus TERM 30
e2e_stop_checked aggregator 0
exit 0
