#!/usr/bin/env bash
# status_page.sh — the aggregator's status page at / as a real browser sees it:
# Debian's chromium, headless, without JavaScript (the page needs none).
#
# Cluster prod-fra1 of tests/fixtures/pve7 (make_cluster_fixture.py):
#   pve1   agent reports                                   up, 3 guests running
#   pve2   agent reports, its /proc has no loadavg, and    up, loadavg failing with
#          its --path.procfs contains  < b > & " ' ü       that path in its error
#   pve3   agent reported, then stopped                    stale after --stale-after=3s
#   pve4 pve5 pve7  online in .members, no agent           never reported
#   pve6   offline in .members, no agent                   never reported
# plus two bad messages from pvescope-e2e-inject (decode, unknown_cluster).
#
# chromium --dump-dom gives the DOM the browser built (status_dom.py flattens
# it), so the assertions also prove the report's text became text, not markup.
# chromium --screenshot writes SCREENSHOT (a PNG in the build directory) for
# a person to look at. The page has no script (asserted on the DOM); JavaScript
# stays enabled because --dump-dom and --screenshot fail without it.
#
# usage: status_page.sh PVESCOPE_AGENT PVESCOPE_AGGREGATOR PVESCOPE_E2E_INJECT SCREENSHOT
# Exit 0 pass, 1 fail, 77 skipped (python3, curl or chromium missing).
# CHROMIUM overrides the browser found on PATH.
# shellcheck disable=SC2034 # read by lib.sh
E2E_NAME=status_page
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[[ $# -eq 4 ]] || { echo "usage: $0 PVESCOPE_AGENT PVESCOPE_AGGREGATOR PVESCOPE_E2E_INJECT SCREENSHOT" >&2; exit 2; }
AGENT=$1
AGGREGATOR=$2
INJECT=$3
SCREENSHOT=$4
CHROMIUM=${CHROMIUM:-chromium}
FIX=$(cd "$E2E_HERE/../fixtures" && pwd)
C=prod-fra1

[[ -x $AGENT && -x $AGGREGATOR && -x $INJECT ]] || e2e_fail "not executable: $AGENT / $AGGREGATOR / $INJECT"
e2e_require_cmd python3 curl timeout "$CHROMIUM"

e2e_init
T=$E2E_TMP
T0=$(e2e_now_us)
N=$T/nodes
python3 "$E2E_HERE/make_cluster_fixture.py" make "$FIX" "$N" || e2e_fail "make_cluster_fixture.py make failed"

# Without the storage and thinpool collectors, whose outcome depends on the
# host (mountinfo, device-mapper), the only failing collector is pve2's loadavg:
# pve2 reads a copy of its /proc without loadavg, under a name that is markup.
HOSTILE="$T/h<b>&\"'"$'\xc3\xbc'
mkdir -p "$HOSTILE"
cp -r "$N/pve2/proc" "$HOSTILE/proc"
rm "$HOSTILE/proc/loadavg"

e2e_new_key "$AGENT" "$T/$C.key"
printf '%s %s\n' "$C" "$(cat "$T/$C.key")" >"$T/keyring"
e2e_start_aggregator "$AGGREGATOR" "$T/keyring" --stale-after=3s
STATUS="$AGG_WEB/"

start_node() {   # start_node NODE PROCFS
    e2e_start "agent-$1" "$AGENT" --node="$1" --cluster="$C" --key-file="$T/$C.key" \
        --aggregator="$AGG_INGEST" --interval=1s --path.pve="$N/$1/pve" --path.procfs="$2" \
        --path.sysfs="$N/$1/sys" --path.run="$N/$1/run" --path.rootfs="$FIX/pve-root" \
        --no-collector.storage --no-collector.thinpool
}
start_node pve1 "$N/pve1/proc"
start_node pve2 "$HOSTILE/proc"
start_node pve3 "$N/pve3/proc"
E2E_WATCH=(aggregator agent-pve1 agent-pve2 agent-pve3)

up() { e2e_metric_is "$AGG_WEB/metrics" "pve_up{id=\"node/$1\",pve_cluster=\"$C\"}" "$2"; }
e2e_wait_for "pve1, pve2 and pve3 reporting" 30 eval 'up pve1 1 && up pve2 1 && up pve3 1'
e2e_stop agent-pve3
E2E_WATCH=(aggregator agent-pve1 agent-pve2)
e2e_wait_for "pve3 stale" 20 up pve3 0

"$INJECT" garbage "$AGG_INGEST" 256 >/dev/null || e2e_fail "inject garbage failed"
e2e_new_key "$AGENT" "$T/nokey.key"
"$INJECT" sealed "$AGG_INGEST" --key-file "$T/nokey.key" --cluster nokey --node n1 --seq 1 >/dev/null ||
    e2e_fail "inject sealed (unknown cluster) failed"
rejected() { e2e_metric_is "$AGG_WEB/metrics" "pvescope_reports_rejected_total{reason=\"$1\"}" 1; }
e2e_wait_for "both injected messages rejected" 20 eval 'rejected decode && rejected unknown_cluster'
# A few more reports of pve1 and pve2, so that both are fresh when the browser looks.
e2e_wait_for "pve1 and pve2 still up" 10 eval 'up pve1 1 && up pve2 1'
e2e_log "cluster state ready after $(e2e_elapsed "$T0")s"

# ---- the browser ------------------------------------------------------------------
# A fresh profile per run; no sandbox (root in CI containers cannot use it).
browse() {   # browse OUT_LOG CHROMIUM-ARGS...
    local log=$1; shift
    rm -rf "$T/chromium-profile"
    timeout -k 5 "$(e2e_secs 40)" "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
        --no-first-run --no-default-browser-check --disable-extensions --disable-sync \
        --user-data-dir="$T/chromium-profile" "$@" 2>"$log"
}
dump_dom() {
    browse "$T/chromium-dom.log" --dump-dom "$STATUS" >"$T/dom.html" && grep -q '</html>' "$T/dom.html"
}
for attempt in 1 2 3; do
    dump_dom && break
    e2e_log "chromium --dump-dom attempt $attempt failed:"; tail -n 20 "$T/chromium-dom.log"
    (( attempt < 3 )) || e2e_fail "chromium could not dump the status page's DOM"
    sleep 1
done
python3 "$E2E_HERE/status_dom.py" "$T/dom.html" >"$T/dom.txt" || e2e_fail "status_dom.py failed on the DOM"
e2e_log "DOM dumped by $("$CHROMIUM" --version 2>/dev/null) after $(e2e_elapsed "$T0")s:"
cat "$T/dom.txt"

# expect_line REGEX DESCRIPTION — one line of the flattened DOM matches REGEX (whole line).
expect_line() {
    [[ $(grep -cxE -- "$1" "$T/dom.txt") == 1 ]] || e2e_fail "DOM: expected exactly one line matching '$1' ($2)"
}
V=$("$AGENT" --version | awk '{print $2}')
[[ -n $V ]] || e2e_fail "pvescope-agent --version printed no version"
AGE='[0-9]+\.[0-9] s'
SINCE='[0-9]+ (s|min [0-9]{2} s|h [0-9]{2} min|d [0-9]{2} h) since [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} UTC'
# The error as the agent wrote it, with the page's < & " ' ü as plain text.
ERR="$HOSTILE/proc/loadavg: No such file or directory"
ERR_RE=$(printf '%s' "$ERR" | sed 's/[][\.*^$(){}?+|/]/\\&/g')
expect_line "node $C\|pve1\|up\|online\|$AGE\|$V\|$SINCE\|3\|none" "pve1 up, 3 guests, nothing failing"
expect_line "node $C\|pve2\|up\|online\|$AGE\|$V\|$SINCE\|3\|loadavg \([0-9]+ failed cycles\): $ERR_RE" \
    "pve2 up, loadavg failing with its hostile path as text"
expect_line "markup pve2\|div,b,span" "pve2's failing cell: only the page's own elements"
expect_line "markup pve1\|span" "pve1's failing cell: 'none'"
expect_line "node $C\|pve3\|stale\|online\|[0-9]+(\.[0-9])? s\|$V\|$SINCE\|[0-9]+\|none" "pve3 stale"
for n in pve4 pve5 pve7; do
    expect_line "node $C\|$n\|never reported\|online\|—\|—\|—\|—\|—" "$n: online in .members, no agent"
done
expect_line "node $C\|pve6\|never reported\|offline\|—\|—\|—\|—\|—" "pve6: offline in .members, no agent"
[[ $(grep -c '^node ' "$T/dom.txt") == 7 ]] || e2e_fail "DOM: expected 7 node rows"
# 7 nodes in corosync.conf and .members, pve6 offline; 2 agents up, 1 stale, 4 without.
expect_line "cluster $C\|quorate\|7\|7 \(6 online\)\|2\|1\|4\|9\.1\.4" "the cluster row"
expect_line "reject decode\|1" "garbage counted as decode"
expect_line "reject unknown_cluster\|1" "the nokey cluster counted as unknown_cluster"
for r in oversize version bad_header bad_tag replay invalid_report limits; do
    expect_line "reject $r\|0" "no $r reject"
done
expect_line "summary 7 nodes 2 up 1 stale 4 never reported 1 with failing collectors 1 cluster, 3 of at most 10000 nodes with an agent" \
    "the summary line"
expect_line "script 0" "no script element"
e2e_log "DOM: 7 node rows, the cluster, rejects and the summary as expected"

# ---- the screenshot ----------------------------------------------------------------
rm -f "$SCREENSHOT"
for attempt in 1 2 3; do
    browse "$T/chromium-shot.log" --hide-scrollbars --window-size=1400,900 --screenshot="$SCREENSHOT" "$STATUS" &&
        [[ -s $SCREENSHOT ]] && break
    e2e_log "chromium --screenshot attempt $attempt failed:"; tail -n 20 "$T/chromium-shot.log"
    (( attempt < 3 )) || e2e_fail "chromium could not take a screenshot of the status page"
    sleep 1
done
# A PNG of the window's size with something drawn: a blank page of that size
# compresses to a few KiB; this one has tables, text and coloured badges.
python3 - "$SCREENSHOT" <<'EOF' || e2e_fail "the screenshot is not the PNG expected"
import struct, sys
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", data[16:24])
assert (w, h) == (1400, 900), f"size {w}x{h}"
print(f"screenshot {w}x{h}, {len(data)} bytes")
assert len(data) > 30000, f"only {len(data)} bytes: a blank page?"
EOF
e2e_log "screenshot: $SCREENSHOT"
e2e_stop_checked aggregator 0
e2e_log "done in $(e2e_elapsed "$T0")s"
