# lib.sh — shared helpers of the pvescope e2e scripts; sourced, not run.
#
# Every process a script starts goes through e2e_start, which records its pid;
# the EXIT trap stops those pids (and only those), dumps the daemon logs when
# the script fails, and removes the temporary directory (kept with
# E2E_KEEP_TMP=1).
#
# Environment:
#   E2E_TIME_FACTOR  multiplies every deadline (the sanitizer build sets 3)
#   E2E_KEEP_TMP=1   keep the temporary directory
#   E2E_WRAPPER      a command line the daemons (pvescope-agent and
#                    pvescope-aggregator, never the tools) run under, e.g.
#                    "valgrind --error-exitcode=99 --leak-check=full"; split on
#                    spaces. e2e_stop_checked then also fails on a memcheck
#                    report in the daemon's log.

set -u
set -o pipefail

if (( BASH_VERSINFO[0] < 5 )); then
    echo "SKIP: the e2e scripts need bash >= 5 (for \$EPOCHREALTIME), this is $BASH_VERSION"
    exit 77
fi

E2E_NAME=${E2E_NAME:-e2e}
E2E_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_TOOL="$E2E_HERE/e2etool.py"
E2E_TIME_FACTOR=${E2E_TIME_FACTOR:-1}
E2E_TMP=
declare -A E2E_PID=()      # name -> pid of every process we started
declare -A E2E_LOG=()      # name -> its log file
declare -a E2E_ORDER=()    # names in start order
declare -A E2E_WRAPPED=()  # name -> 1 when it runs under E2E_WRAPPER

# Sanitizer settings for the daemons (only matter in the Asan build).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

e2e_log() { printf '[%s %s] %s\n' "$E2E_NAME" "$(date +%T.%3N)" "$*"; }

e2e_skip() {
    echo "SKIP ($E2E_NAME): $*"
    exit 77
}

e2e_fail() {
    echo "FAIL ($E2E_NAME): $*" >&2
    exit 1
}

# e2e_require_cmd CMD... — skips (77) when a prerequisite is missing.
e2e_require_cmd() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || e2e_skip "'$c' is not installed (needed by this test)"
    done
}

# Seconds from a base value, scaled for slow (sanitizer) builds.
e2e_secs() { echo $(( $1 * E2E_TIME_FACTOR )); }

# Wall clock in microseconds (bash 5 $EPOCHREALTIME; its decimal mark follows the locale).
e2e_now_us() { local t=$EPOCHREALTIME; echo "${t//[.,]/}"; }

# e2e_deadline SECS — prints the absolute deadline in microseconds (SECS is scaled).
e2e_deadline() { echo $(( $(e2e_now_us) + $(e2e_secs "$1") * 1000000 )); }

e2e_before() { (( $(e2e_now_us) < $1 )); }

# Seconds elapsed since a e2e_now_us value, with one decimal.
e2e_elapsed() { local d=$(( $(e2e_now_us) - $1 )); printf '%d.%d' $(( d / 1000000 )) $(( d % 1000000 / 100000 )); }

e2e_init() {
    E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/pvescope-$E2E_NAME.XXXXXX") || e2e_fail "mktemp failed"
    trap e2e_cleanup EXIT
    trap 'e2e_log "interrupted (SIGINT)"; exit 130' INT
    trap 'e2e_log "got SIGTERM from outside (ctest timeout, or someone killing by name?)"; exit 143' TERM
}

# True while pid is a live (not zombie) process.
e2e_pid_alive() {
    local st
    st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
    [[ -n $st && $st != Z && $st != X ]]
}

e2e_alive() { e2e_pid_alive "${E2E_PID[$1]}"; }

# Children get SIGTERM if this script dies without running its trap (SIGKILL):
# setpriv --pdeathsig execs the command, so $! stays the daemon's own pid.
E2E_PDEATH=()
if setpriv --help 2>/dev/null | grep -q -- --pdeathsig; then
    E2E_PDEATH=(setpriv --pdeathsig=TERM --)
fi

# The daemons' wrapper (E2E_WRAPPER), as words; a missing wrapper program is
# a missing prerequisite.
read -r -a E2E_WRAP <<<"${E2E_WRAPPER:-}"
if (( ${#E2E_WRAP[@]} )) && ! command -v "${E2E_WRAP[0]}" >/dev/null 2>&1; then
    e2e_skip "E2E_WRAPPER names '${E2E_WRAP[0]}', which is not installed"
fi

# The aggregator refuses root without --allow-root; the tests run as root in CI.
E2E_AGG_ROOT=()
if (( EUID == 0 )); then E2E_AGG_ROOT=(--allow-root); fi

# True when CMD (a path) is one of the daemons E2E_WRAPPER applies to.
e2e_is_daemon() { [[ ${1##*/} == pvescope-agent || ${1##*/} == pvescope-aggregator ]]; }

# e2e_start NAME CMD ARGS... — starts CMD in the background, log in
# $E2E_TMP/NAME.log; a daemon runs under E2E_WRAPPER when one is set (exec'd
# by setpriv, so $! is still the daemon's pid: valgrind runs in it).
e2e_start() {
    local name=$1; shift
    local log="$E2E_TMP/$name.log"
    local wrap=()
    e2e_is_daemon "$1" && wrap=("${E2E_WRAP[@]}")
    "${E2E_PDEATH[@]}" "${wrap[@]}" "$@" >"$log" 2>&1 </dev/null &
    E2E_PID[$name]=$!
    E2E_LOG[$name]=$log
    E2E_WRAPPED[$name]=$(( ${#wrap[@]} > 0 ))
    [[ " ${E2E_ORDER[*]} " == *" $name "* ]] || E2E_ORDER+=("$name")
    e2e_log "started $name (pid $!): ${wrap[*]}${wrap[*]:+ }$*"
}

# e2e_stop NAME [SIGNAL] [WAIT_SECS] — signals NAME, waits for it to exit and
# sets E2E_RC to its exit status (E2E_RC=timeout when it would not exit; it is
# then killed). A process already gone just reports its status.
E2E_RC=
e2e_stop() {
    local name=$1 sig=${2:-TERM} secs=${3:-20}
    local pid=${E2E_PID[$name]:-}
    E2E_RC=
    [[ -n $pid ]] || { E2E_RC=none; return; }
    kill -s "$sig" "$pid" 2>/dev/null
    local dl; dl=$(e2e_deadline "$secs")
    while e2e_pid_alive "$pid" && e2e_before "$dl"; do sleep 0.05; done
    if e2e_pid_alive "$pid"; then
        kill -s KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        E2E_RC=timeout
    else
        wait "$pid" 2>/dev/null
        E2E_RC=$?
    fi
    unset "E2E_PID[$name]"
    e2e_log "stopped $name (pid $pid) with SIG$sig: exit status $E2E_RC"
}

# Fails when a log shows a sanitizer report, or (under E2E_WRAPPER) a
# valgrind memcheck error or a definitely lost block.
e2e_check_sanitizers() {
    local name
    for name in "$@"; do
        local log=${E2E_LOG[$name]}
        local pat='ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:|SUMMARY: (Address|Leak|Undefined)'
        pat+='|ERROR SUMMARY: [1-9]|definitely lost: [1-9]'
        if grep -qE "$pat" "$log"; then
            echo "---- $name: sanitizer report ($log, from the first match) ----" >&2
            grep -m1 -nE -A 80 "$pat" "$log" >&2
            e2e_fail "$name: sanitizer report in its log"
        fi
        # Under valgrind, its summary must be there: proof that memcheck ran to the end.
        if [[ ${E2E_WRAPPED[$name]:-0} == 1 && ${E2E_WRAP[0]##*/} == valgrind ]] &&
           ! grep -q 'ERROR SUMMARY: 0 errors' "$log"; then
            tail -n 30 "$log" >&2
            e2e_fail "$name: ran under valgrind but its log has no 'ERROR SUMMARY: 0 errors'"
        fi
    done
}

# e2e_stop_checked NAME EXPECTED_RC — stop with SIGTERM, then assert the exit
# status and a clean log.
e2e_stop_checked() {
    local name=$1 want=${2:-0}
    e2e_stop "$name" TERM 30
    e2e_check_sanitizers "$name"
    [[ $E2E_RC == "$want" ]] || e2e_fail "$name exited with status $E2E_RC after SIGTERM (expected $want)"
}

e2e_dump_logs() {
    local name
    for name in "${E2E_ORDER[@]}"; do
        local log=${E2E_LOG[$name]}
        [[ -s $log ]] || continue
        echo "---- $name log ($log), last 200 lines ----" >&2
        tail -n 200 "$log" >&2
    done
}

e2e_cleanup() {
    local rc=$?
    trap - EXIT
    local name
    # Stop in reverse start order (agents before the aggregator).
    local i
    for (( i=${#E2E_ORDER[@]}-1; i>=0; i-- )); do
        name=${E2E_ORDER[$i]}
        [[ -n ${E2E_PID[$name]:-} ]] || continue
        e2e_stop "$name" TERM 10 >/dev/null
    done
    # A script's own teardown (network namespaces...), once its processes are gone.
    if declare -F e2e_cleanup_hook >/dev/null; then
        e2e_cleanup_hook
    fi
    if [[ $rc -ne 0 && $rc -ne 77 ]]; then
        e2e_dump_logs
    fi
    if [[ -n $E2E_TMP && -d $E2E_TMP ]]; then
        if [[ ${E2E_KEEP_TMP:-0} == 1 ]]; then
            echo "kept $E2E_TMP" >&2
        else
            rm -rf "$E2E_TMP"
        fi
    fi
    if [[ $rc -eq 0 ]]; then
        e2e_log "PASS"
    elif [[ $rc -ne 77 ]]; then
        e2e_log "FAILED (exit status $rc)"
    fi
    exit "$rc"
}

# e2e_wait_for DESC SECS CMD... — polls CMD until it succeeds; fails the test
# at the deadline. Also fails early when a process named in E2E_WATCH died.
E2E_WATCH=()
e2e_wait_for() {
    local desc=$1 secs=$2; shift 2
    local dl; dl=$(e2e_deadline "$secs")
    local w
    while :; do
        "$@" && return 0
        for w in "${E2E_WATCH[@]}"; do
            e2e_alive "$w" || e2e_fail "$w died while waiting for: $desc"
        done
        e2e_before "$dl" || e2e_fail "timed out after $(e2e_secs "$secs")s waiting for: $desc"
        sleep 0.1
    done
}

# HTTP status of a request: e2e_http_code URL [curl args...]
e2e_http_code() {
    local url=$1; shift
    curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" "$url"
}

# e2e_metric URL SERIES... — one value per series ("absent" when missing).
e2e_metric() { python3 "$E2E_TOOL" metric "$@"; }

# e2e_metric_is URL SERIES VALUE
# e2e_start_prometheus CONFIG [FLAGS...] — starts a real Prometheus
# ($PROMETHEUS) with CONFIG (and FLAGS) on a free loopback port, retrying when
# another process takes the port first; data in $E2E_TMP/prom-data. Sets PROM
# to its base URL once /-/ready answers.
e2e_start_prometheus() {
    local config=$1 attempt port dl
    shift
    for attempt in 1 2 3; do
        port=$(e2e_free_ports 1)
        PROM="http://127.0.0.1:$port"
        mkdir -p "$E2E_TMP/prom-data"
        e2e_start prometheus "$PROMETHEUS" --config.file="$config" \
            --storage.tsdb.path="$E2E_TMP/prom-data" --web.listen-address="127.0.0.1:$port" "$@"
        dl=$(e2e_deadline 60)
        while e2e_alive prometheus && e2e_before "$dl"; do
            [[ $(e2e_http_code "$PROM/-/ready") == 200 ]] && return 0
            sleep 0.2
        done
        e2e_alive prometheus && e2e_fail "prometheus not ready within $(e2e_secs 60)s"
        e2e_stop prometheus TERM 5
        grep -qi 'address already in use' "${E2E_LOG[prometheus]}" ||
            e2e_fail "prometheus exited during startup (status $E2E_RC)"
        e2e_log "prometheus port $port was taken, retrying"
    done
    e2e_fail "prometheus could not bind a free port in 3 attempts"
}

e2e_metric_is() { [[ $(e2e_metric "$1" "$2" 2>/dev/null) == "$3" ]]; }
e2e_metric_present() { local v; v=$(e2e_metric "$1" "$2" 2>/dev/null) && [[ -n $v && $v != absent ]]; }

e2e_free_ports() { python3 "$E2E_TOOL" free-ports "$1"; }

# e2e_new_key AGENT_BIN FILE — a fresh cluster key file (pvescope-agent --init-key).
e2e_new_key() {
    local agent=$1 file=$2
    "$agent" --init-key="$file" >/dev/null || e2e_fail "pvescope-agent --init-key=$file failed"
}

# e2e_start_aggregator AGGREGATOR_BIN KEYRING [extra flags...] — starts
# "aggregator" on free ports (retrying when a port was taken meanwhile) and
# waits until /-/healthy answers. Sets AGG_INGEST (nanomsg URL) and AGG_WEB
# (http://127.0.0.1:PORT). With a --web.config.file, set E2E_AGG_SCHEME=https
# and E2E_AGG_CURL=(curl arguments: CA, credentials) for the health check.
E2E_AGG_SCHEME=http
E2E_AGG_CURL=()
e2e_start_aggregator() {
    local bin=$1 keyring=$2; shift 2
    local attempt ports ingest web
    for attempt in 1 2 3; do
        ports=$(e2e_free_ports 2) || e2e_fail "cannot find free ports"
        read -r ingest web <<<"$ports"
        AGG_INGEST="tcp://127.0.0.1:$ingest"
        AGG_WEB="$E2E_AGG_SCHEME://127.0.0.1:$web"
        e2e_start aggregator "$bin" "${E2E_AGG_ROOT[@]}" --keyring="$keyring" --ingest.listen="$AGG_INGEST" \
            --web.listen-address="127.0.0.1:$web" "$@"
        local dl; dl=$(e2e_deadline 30)
        while e2e_alive aggregator && e2e_before "$dl"; do
            [[ $(e2e_http_code "$AGG_WEB/-/healthy" "${E2E_AGG_CURL[@]}") == 200 ]] && return 0
            sleep 0.05
        done
        if e2e_alive aggregator; then
            e2e_fail "aggregator did not answer /-/healthy within $(e2e_secs 30)s"
        fi
        e2e_stop aggregator TERM 5
        if grep -qiE 'in use|cannot listen' "${E2E_LOG[aggregator]}"; then
            e2e_log "aggregator could not bind (attempt $attempt), retrying on other ports:"
            cat "${E2E_LOG[aggregator]}"
            mv "${E2E_LOG[aggregator]}" "${E2E_LOG[aggregator]}.$attempt"
            continue
        fi
        e2e_fail "aggregator exited during startup (status $E2E_RC)"
    done
    e2e_fail "aggregator could not bind free ports in 3 attempts"
}
