#!/usr/bin/env bash
# remote_write.sh — the aggregator's Prometheus remote_write against real
# receivers (real processes, real HTTP).
#
#   receivers  the fixture cluster (tests/fixtures/pve7: pve1 pve2 pve4 pve5
#              pve7 report, pve6 offline, make_cluster_fixture.py moving the
#              counters) → one aggregator writing to a real
#              Prometheus (--web.enable-remote-write-receiver) and to Debian's
#              victoria-metrics behind basic auth, in batches of 100 samples.
#              Once the agents have stopped (--stale-after 1h keeps their state),
#              every series of /metrics must be in each receiver at one
#              snapshot's timestamp with the cluster/replica external labels,
#              with the same value (bit for bit in Prometheus; VictoriaMetrics
#              keeps ~12 significant digits; self metrics that move by
#              themselves excepted), and nothing else; named series by hand too.
#   faults     a stub receiver (rwtool.py stub) answering 503 five times then
#              204 (bearer token), 400 always (basic auth), and never; plus a
#              real Prometheus stopped for a while and started again: retries
#              counted, every snapshot of the outage arrives, 400s are dropped,
#              counted and logged once, and SIGTERM ends the aggregator at once
#              while a request hangs.
#
# usage: remote_write.sh receivers|faults PVESCOPE_AGENT PVESCOPE_AGGREGATOR
# Exit 0 pass, 1 fail, 77 skipped (a prerequisite is missing).
# PROMETHEUS / VICTORIA_METRICS override the binaries found on PATH.
E2E_NAME=remote_write-${1:-}
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 3 && ($1 == receivers || $1 == faults) ]] ||
    { echo "usage: $0 receivers|faults PVESCOPE_AGENT PVESCOPE_AGGREGATOR" >&2; exit 2; }
SCENARIO=$1
AGENT=$2
AGGREGATOR=$3
PROMETHEUS=${PROMETHEUS:-prometheus}
VICTORIA_METRICS=${VICTORIA_METRICS:-victoria-metrics}
FIX=$(cd "$E2E_HERE/../fixtures" && pwd)
GEN="$E2E_HERE/make_cluster_fixture.py"
RWTOOL="$E2E_HERE/rwtool.py"
C=prod-fra1
EXT_CLUSTER=rw-e2e             # the external `cluster` label (pve_cluster stays the PVE name)

[[ -x $AGENT && -x $AGGREGATOR ]] || e2e_fail "not executable: $AGENT / $AGGREGATOR"
e2e_require_cmd python3 curl "$PROMETHEUS"
[[ $SCENARIO == receivers ]] && e2e_require_cmd "$VICTORIA_METRICS"

e2e_init
T=$E2E_TMP
rw() { python3 "$RWTOOL" "$@"; }
metric() { e2e_metric "$AGG_WEB/metrics" "$@"; }

# wait_value DESC SECS SERIES PYTHON_CONDITION_ON_v
wait_value() {
    local desc=$1 secs=$2 series=$3 cond=$4
    check_value() {
        local v; v=$(metric "$series" 2>/dev/null) || return 1
        [[ $v != absent ]] && python3 -c "import sys; v=float(sys.argv[1]); sys.exit(0 if ($cond) else 1)" "$v"
    }
    e2e_wait_for "$desc" "$secs" check_value
}

start_prometheus_receiver() {
    cat >"$T/prometheus.yml" <<EOF2
global:
  scrape_interval: 15s
EOF2
    e2e_start_prometheus "$T/prometheus.yml" --web.enable-remote-write-receiver
    e2e_log "prometheus receiver at $PROM"
}

e2e_new_key "$AGENT" "$T/$C.key"
printf '%s %s\n' "$C" "$(cat "$T/$C.key")" >"$T/keyring"

# ==== receivers ================================================================
receivers() {
    python3 "$GEN" make "$FIX" "$T/nodes" || e2e_fail "make_cluster_fixture.py make failed"
    start_prometheus_receiver
    local vm_port; vm_port=$(e2e_free_ports 1)
    VM="http://127.0.0.1:$vm_port"
    e2e_start vm "$VICTORIA_METRICS" -storageDataPath="$T/vm-data" -httpListenAddr="127.0.0.1:$vm_port" \
        -httpAuth.username=pvescope -httpAuth.password='s3cret:pw' -loggerLevel=ERROR
    e2e_wait_for "victoria-metrics answering" 30 \
        bash -c "[[ \$(curl -s -o /dev/null -w '%{http_code}' -u 'pvescope:s3cret:pw' $VM/health) == 200 ]]"
    e2e_log "victoria-metrics at $VM (basic auth)"
    printf 'pvescope:s3cret:pw\n' >"$T/vm.auth"

    e2e_start_aggregator "$AGGREGATOR" "$T/keyring" --stale-after=1h \
        --remote-write.url="$PROM/api/v1/write" \
        --remote-write.url="$VM/api/v1/write" --remote-write.basic-auth-file="$T/vm.auth" \
        --remote-write.external-label=cluster=$EXT_CLUSTER --remote-write.external-label=replica=a \
        --remote-write.interval=1s --remote-write.max-samples-per-send=100
    E2E_WATCH=(aggregator prometheus vm)
    e2e_start ticker python3 "$GEN" tick "$T/nodes"   # moves /proc/stat: CPU ratios need two different reports
    local n
    for n in pve1 pve2 pve4 pve5 pve7; do
        e2e_start "agent-$n" "$AGENT" --node="$n" --cluster="$C" --key-file="$T/$C.key" \
            --aggregator="$AGG_INGEST" --interval=1s --path.pve="$T/nodes/$n/pve" \
            --path.procfs="$T/nodes/$n/proc" --path.sysfs="$T/nodes/$n/sys" --path.run="$T/nodes/$n/run" \
            --path.rootfs="$FIX/pve-root"
        E2E_WATCH+=("agent-$n")
    done
    # Two reports from every node (CPU ratios need two), then the agents stop:
    # with --stale-after=1h nothing in the store changes any more.
    for n in pve1 pve2 pve4 pve5 pve7; do
        wait_value "node/$n reporting twice" 30 "pve_cpu_usage_ratio{id=\"node/$n\",pve_cluster=\"$C\"}" "v >= 0"
    done
    for n in pve1 pve2 pve4 pve5 pve7; do e2e_stop_checked "agent-$n" 0; done
    e2e_stop ticker TERM 5
    E2E_WATCH=(aggregator prometheus vm)
    local frozen_ms=$(( $(e2e_now_us) / 1000 ))
    e2e_log "agents stopped; the store is frozen from $frozen_ms"

    # The receivers' newest snapshot after the freeze, and /metrics taken after
    # it: the same state, so the same series and values.
    local kind base auth ts=0 sel="{cluster=\"$EXT_CLUSTER\",replica=\"a\"}"
    for kind in prom vm; do
        if [[ $kind == prom ]]; then base=$PROM auth=-; else base=$VM auth='pvescope:s3cret:pw'; fi
        newest() {
            ts=$(rw latest-ts "$kind" "$base" "$auth" "pvescope_build_info$sel") || return 1
            (( ts > frozen_ms + 1000 ))
        }
        e2e_wait_for "$kind: a snapshot taken after the freeze" 20 newest
        sleep 1                         # every batch of that snapshot has arrived (VM: and is searchable)
        curl -sS --max-time 10 -o "$T/metrics-$kind.txt" "$AGG_WEB/metrics" || e2e_fail "GET /metrics failed"
        rw snapshot "$kind" "$base" "$auth" "$sel" "$ts" "$T/snap-$kind.json" || e2e_fail "$kind: reading back failed"
        # Prometheus stores float64 as sent; VictoriaMetrics converts to a decimal
        # of about 12 significant digits at ingest (0.51632289305952339 reads
        # back as 0.51632289306), so it is compared to a relative 1e-11.
        local count rel=0
        [[ $kind == vm ]] && rel=1e-11
        count=$(rw compare "$T/metrics-$kind.txt" "$T/snap-$kind.json" "cluster=$EXT_CLUSTER,replica=a" \
            '^pvescope_(remote_write_|node_report_age_seconds)' "$rel") ||
            { echo "$count"; e2e_fail "$kind: the series at $ts differ from /metrics (above)"; }
        e2e_log "$kind: all $count series of /metrics read back at $ts with equal values and the external labels"
        SNAP_COUNT[$kind]=$count
    done
    [[ ${SNAP_COUNT[prom]} == "${SNAP_COUNT[vm]}" ]] || e2e_fail "series counts differ: ${SNAP_COUNT[*]}"
    (( SNAP_COUNT[prom] > 1000 )) || e2e_fail "only ${SNAP_COUNT[prom]} series: the fixture cluster should give > 1000"

    # Named series, by hand: a guest with quotes, a backslash and UTF-8 in its
    # name; a node's CPU ratio (3/10 from the fixture's /proc/stat); build info.
    local odd='pve_guest_info{cluster="rw-e2e",id="qemu/103",name="odd\"name\\with'"'"'quotes-ünï%41",node="pve1",pve_cluster="prod-fra1",replica="a",tags="legacy,mixed separators;ok",template="0",type="qemu"}'
    local want
    for kind in prom vm; do
        for want in "$odd 1" \
            "pve_cpu_usage_ratio{cluster=\"rw-e2e\",id=\"node/pve1\",pve_cluster=\"prod-fra1\",replica=\"a\"} 0.3" \
            "pvescope_build_info{cluster=\"rw-e2e\",replica=\"a\",version=\"0.1.0\"} 1"; do
            python3 - "$T/snap-$kind.json" "$want" <<'PY' || e2e_fail "$kind: $want not read back"
import json, sys
snap = json.load(open(sys.argv[1]))
key, value = sys.argv[2].rsplit(" ", 1)
sys.exit(0 if key in snap and float(snap[key]) == float(value) else 1)
PY
        done
    done
    e2e_log "named series (odd guest name, node CPU ratio, build info) equal in both receivers"

    # Batches of at most 100 samples: several requests per snapshot, all 204.
    local url sent reqs
    for url in "$PROM/api/v1/write" "$VM/api/v1/write"; do
        { read -r sent; read -r reqs; } < <(metric "pvescope_remote_write_samples_total{url=\"$url\",result=\"sent\"}" \
            "pvescope_remote_write_requests_total{url=\"$url\",code=\"204\"}")
        python3 -c "import sys; s, r = float(sys.argv[1]), float(sys.argv[2]); sys.exit(0 if r > 0 and 50 < s / r <= 100 else 1)" \
            "$sent" "$reqs" || e2e_fail "$url: $sent samples in $reqs requests: not batches of <= 100"
        [[ $(metric "pvescope_remote_write_samples_total{url=\"$url\",result=\"dropped\"}") == 0 &&
           $(metric "pvescope_remote_write_samples_total{url=\"$url\",result=\"failed\"}") == 0 ]] ||
            e2e_fail "$url: samples dropped or failed"
        e2e_log "$url: $sent samples in $reqs requests of <= 100"
    done
    e2e_stop_checked aggregator 0
}

# ==== faults ===================================================================
faults() {
    printf 'tok-%s\n' "$RANDOM$RANDOM" >"$T/token"
    printf 'rw-user:pa55:word\n' >"$T/basic"
    e2e_start stub python3 "$RWTOOL" stub "$T/stub.port" "$T/token" "$T/basic"
    e2e_wait_for "stub receiver listening" 10 test -s "$T/stub.port"
    local stub="http://127.0.0.1:$(cat "$T/stub.port")"
    start_prometheus_receiver
    local prom_port=${PROM##*:}

    e2e_start_aggregator "$AGGREGATOR" "$T/keyring" \
        --remote-write.url="$stub/flaky" --remote-write.bearer-token-file="$T/token" \
        --remote-write.url="$stub/bad" --remote-write.basic-auth-file="$T/basic" \
        --remote-write.url="$PROM/api/v1/write" \
        --remote-write.url="$stub/hang" \
        --remote-write.external-label=cluster=$EXT_CLUSTER --remote-write.external-label=replica=b \
        --remote-write.interval=1s
    E2E_WATCH=(aggregator prometheus stub)
    local t_start_ms=$(( $(e2e_now_us) / 1000 ))
    local F="url=\"$stub/flaky\"" B="url=\"$stub/bad\"" P="url=\"$PROM/api/v1/write\""

    # 503 five times (retried with backoff: ~0.1+0.2+0.4+0.8+1.6 s), then 204s.
    wait_value "flaky: accepted after the 503s" 30 "pvescope_remote_write_queue_batches{$F}" "v == 0"
    wait_value "flaky: accepted after the 503s" 30 "pvescope_remote_write_requests_total{$F,code=\"204\"}" "v >= 3"
    [[ $(metric "pvescope_remote_write_requests_total{$F,code=\"503\"}") == 5 &&
       $(metric "pvescope_remote_write_retries_total{$F}") == 5 &&
       $(metric "pvescope_remote_write_samples_total{$F,result=\"dropped\"}") == 0 &&
       $(metric "pvescope_remote_write_samples_total{$F,result=\"failed\"}") == 0 ]] ||
        e2e_fail "flaky: expected 5 retried 503s and nothing dropped: $(grep "$stub/flaky" <(curl -s "$AGG_WEB/metrics"))"
    e2e_log "flaky: five 503s retried (retries_total 5), then every batch accepted"

    # 400: dropped at once, counted, never retried, logged once with the body's first line.
    wait_value "bad: three batches refused" 20 "pvescope_remote_write_requests_total{$B,code=\"400\"}" "v >= 3"
    local failed reqs400
    { read -r failed; read -r reqs400; } < <(metric "pvescope_remote_write_samples_total{$B,result=\"failed\"}" \
        "pvescope_remote_write_requests_total{$B,code=\"400\"}")
    [[ $(metric "pvescope_remote_write_retries_total{$B}") == 0 ]] || e2e_fail "bad: 400s were retried"
    python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= 3 * 10 else 1)" "$failed" ||
        e2e_fail "bad: only $failed samples counted as failed after $reqs400 refused requests"
    local lines; lines=$(grep -c "remote write to $stub/bad: HTTP 400" "${E2E_LOG[aggregator]}")
    [[ $lines == 1 ]] || e2e_fail "bad: $lines log lines about the 400s, expected one per minute"
    grep -q "HTTP 400: bad request: out of bounds sample; batch of" "${E2E_LOG[aggregator]}" ||
        e2e_fail "bad: the log line does not carry the body's first line"
    ! grep -q "second line" "${E2E_LOG[aggregator]}" || e2e_fail "bad: more than the body's first line logged"
    e2e_log "bad: $reqs400 requests refused with 400, $failed samples failed, no retry, one log line"

    # The stub saw the remote write headers and the right credentials on every request.
    local stats; stats=$(curl -sS --max-time 10 "$stub/stats") || e2e_fail "stub /stats"
    python3 - "$stats" <<'PY' || e2e_fail "stub: $stats"
import json, sys
s = json.loads(sys.argv[1])
assert not s["header_problems"], s["header_problems"]
assert s["/flaky"].get("503") == 5 and s["/flaky"].get("204", 0) >= 3, s["/flaky"]
assert s["/bad"].get("400", 0) >= 3 and set(s["/bad"]) == {"400"}, s["/bad"]
assert s["/hang"].get("hang") == 1, s["/hang"]
PY
    e2e_log "stub: remote write 1.0 headers, bearer token and basic auth on every request; one hung request"

    # Prometheus away for 6 s, then back on its port with its data: the
    # batches queued meanwhile arrive, in order, with no snapshot missing.
    wait_value "prometheus: first batches accepted" 20 "pvescope_remote_write_requests_total{$P,code=\"204\"}" "v >= 2"
    e2e_stop prometheus TERM 20
    local t_down_ms=$(( $(e2e_now_us) / 1000 ))
    sleep "$(e2e_secs 6)"
    wait_value "prometheus down: requests retried" 10 "pvescope_remote_write_retries_total{$P}" "v >= 2"
    local queued; queued=$(metric "pvescope_remote_write_queue_batches{$P}")
    (( queued >= 4 )) || e2e_fail "prometheus down 6 s: only $queued batches queued"
    e2e_start prometheus "$PROMETHEUS" --config.file="$T/prometheus.yml" --storage.tsdb.path="$E2E_TMP/prom-data" \
        --web.listen-address="127.0.0.1:$prom_port" --web.enable-remote-write-receiver
    local t_up_ms=$(( $(e2e_now_us) / 1000 ))
    wait_value "prometheus back: queue drained" 60 "pvescope_remote_write_queue_batches{$P}" "v == 0"
    wait_value "prometheus back: queue drained" 10 "pvescope_remote_write_last_success_timestamp_seconds{$P}" \
        "v * 1000 > $t_up_ms"
    [[ $(metric "pvescope_remote_write_samples_total{$P,result=\"dropped\"}") == 0 ]] ||
        e2e_fail "prometheus: samples dropped though the queue had room"
    local end_ms=$(( $(e2e_now_us) / 1000 ))
    rw timestamps prom "$PROM" - "pvescope_build_info{cluster=\"$EXT_CLUSTER\",replica=\"b\"}" \
        "$t_start_ms" "$end_ms" >"$T/ts.txt" || e2e_fail "reading the snapshots back from prometheus"
    python3 - "$T/ts.txt" "$t_down_ms" "$t_up_ms" <<'PY' || e2e_fail "prometheus: snapshots missing (above)"
import sys
ts = [int(x) for x in open(sys.argv[1]).read().split()]
down, up = int(sys.argv[2]), int(sys.argv[3])
during = [t for t in ts if down <= t <= up]
gaps = [(a, b) for a, b in zip(ts, ts[1:]) if b - a > 1500]
print("snapshots read back: %d, %d of them taken while prometheus was down" % (len(ts), len(during)))
if gaps or len(during) < 5:
    print("gaps: %s" % gaps)
    sys.exit(1)
PY
    local retries; retries=$(metric "pvescope_remote_write_retries_total{$P}")
    e2e_log "prometheus: back after $(( (t_up_ms - t_down_ms) / 1000 ))s; every snapshot of the outage arrived ($retries retries)"

    # SIGTERM with a request hanging on /hang and 503s nowhere: exits at once.
    local t0; t0=$(e2e_now_us)
    e2e_stop_checked aggregator 0
    local took_ms=$(( ($(e2e_now_us) - t0) / 1000 ))
    (( took_ms < 2000 * E2E_TIME_FACTOR )) || e2e_fail "SIGTERM took ${took_ms} ms with a request hanging"
    e2e_log "SIGTERM with a hung request: exited in ${took_ms} ms"
}

declare -A SNAP_COUNT=()
"$SCENARIO"
