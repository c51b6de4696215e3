#!/usr/bin/env bash
# container_image.sh — build packaging/container/Containerfile with buildah
# (chroot isolation, vfs storage, base image from debootstrap: no registry
# needed) and run the image the way a container engine would: its own
# ENTRYPOINT, USER, VOLUME and HEALTHCHECK as recorded in the image config.
#
# Checks: the image config (non-root user, ports, volume, entry point,
# health check); the image holds the pvescope-aggregator package of this
# tree (dpkg status "install ok installed", the changelog's version, the
# binary dpkg's) and no build tools; its pvescope user is the system account
# uid/gid 971; the aggregator runs as that user without capabilities; it
# answers /-/healthy and /metrics on 9715 and takes a real agent report on
# 9716 (pve_up 1); the health check command succeeds against it and fails
# when nothing listens; a flag appended to the entry point overrides its
# default, and the health check follows it: TLS with basic auth from an
# appended --web.config.file on a moved port; SIGTERM stops it with status 0.
#
# usage: container_image.sh SOURCE_DIR PVESCOPE_AGENT
# Needs root, buildah, debootstrap, unshare, curl, python3 (scripts/deps.sh).
# Never skips: a missing prerequisite is a failure. The base root file system
# and buildah's storage are cached in $PVESCOPE_CACHE (default /var/cache/pvescope).
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: $0 SOURCE_DIR PVESCOPE_AGENT" >&2; exit 2; }
SRC=$(cd "$1" && pwd)
AGENT=$2
fail() { echo "container_image: FAIL: $*" >&2; exit 1; }
log() { echo "container_image: $*" >&2; }

[[ $(id -u) -eq 0 ]] || fail "needs root (buildah with chroot isolation, unshare)"
for c in buildah debootstrap unshare curl python3 ip flock openssl htpasswd; do
    command -v "$c" >/dev/null || fail "$c is missing (scripts/deps.sh installs it)"
done
[[ -x $AGENT ]] || fail "not executable: $AGENT"

CACHE=${PVESCOPE_CACHE:-/var/cache/pvescope}
STORE=$CACHE/containers
mkdir -p "$STORE"
export PVESCOPE_CACHE=$CACHE
export BUILDAH_OPTS="--root $STORE/storage --runroot $STORE/run"
TAG=localhost/pvescope-aggregator:ctest
# shellcheck disable=SC2086
bh() { buildah --storage-driver vfs $BUILDAH_OPTS "$@"; }

# One build at a time in this storage (the Debug and Asan suites share it).
exec 9>"$STORE/lock"
flock 9

T=$(mktemp -d /tmp/pvescope-container.XXXXXX)
trap 'rm -rf "$T"' EXIT

# ---- build --------------------------------------------------------------
old_id=$(bh inspect --type image --format '{{.FromImageID}}' "$TAG" 2>/dev/null || true)
start=$SECONDS
"$SRC/packaging/container/build.sh" "$TAG" >"$T/build.log" 2>&1 || { tail -50 "$T/build.log"; fail "image build failed"; }
log "built $TAG in $((SECONDS - start))s"
new_id=$(bh inspect --type image --format '{{.FromImageID}}' "$TAG")
# The previous build's image is untagged now: drop it so the cache stays one image.
if [[ -n $old_id && $old_id != "$new_id" ]]; then
    bh rmi "$old_id" >/dev/null 2>&1 || true
fi

# ---- the image config ---------------------------------------------------
bh inspect --type image "$TAG" >"$T/inspect.json"
python3 - "$T/inspect.json" "$T" <<'PY' || fail "image config (see above)"
import json, sys
cfg = json.load(open(sys.argv[1]))["Docker"]["config"]
out = sys.argv[2]
bad = []
def want(cond, what):
    if not cond:
        bad.append(what)
want(cfg.get("User") == "pvescope:pvescope", "USER pvescope:pvescope, got %r" % cfg.get("User"))
want(set(cfg.get("ExposedPorts") or {}) == {"9715/tcp", "9716/tcp"},
     "EXPOSE 9715 9716, got %r" % cfg.get("ExposedPorts"))
want(set(cfg.get("Volumes") or {}) == {"/etc/pvescope"}, "VOLUME /etc/pvescope, got %r" % cfg.get("Volumes"))
ep = cfg.get("Entrypoint") or []
want(ep == ["/usr/bin/pvescope-aggregator", "--keyring=/etc/pvescope/keyring",
            "--web.listen-address=:9715", "--ingest.listen=tcp://[::]:9716"], "ENTRYPOINT, got %r" % ep)
want(not cfg.get("Cmd"), "no CMD (arguments append to the entry point), got %r" % cfg.get("Cmd"))
hc = (cfg.get("Healthcheck") or {}).get("Test") or []
want(hc == ["CMD", "/usr/bin/pvescope-aggregator", "--healthcheck=running"],
     "HEALTHCHECK CMD [pvescope-aggregator --healthcheck=running] (docker format), got %r" % hc)
want(not any(e.startswith("DEBIAN_FRONTEND=") for e in cfg.get("Env") or []), "DEBIAN_FRONTEND leaks into the image env")
for m in bad:
    print("image config: " + m, file=sys.stderr)
if bad:
    sys.exit(1)
# NUL-separated argv for the shell
open(out + "/entrypoint", "w").write("\0".join(ep) + "\0")
open(out + "/healthcheck", "w").write("\0".join(hc[1:]) + "\0")
PY
log "image config: user, ports, volume, entry point, health check as expected"

# ---- the package inside the image ----------------------------------------
want_version=$(sed -n '1s/^pvescope (\([^)]*\)).*/\1/p' "$SRC/packaging/debian/changelog")
[[ -n $want_version ]] || fail "no version in the first line of packaging/debian/changelog"
ctr=$(bh from --pull-never --name "pvescope-ctest-pkg-$$" "$TAG")
in_image() { bh run --isolation chroot --user 0:0 "$ctr" -- "$@"; }   # root: find reads apt's partial/
# shellcheck disable=SC2016  # dpkg-query's own ${field} format
pkg=$(in_image dpkg-query -W -f='${Status}|${Version}' pvescope-aggregator 2>&1) || pkg="dpkg-query failed: $pkg"
owner=$(in_image dpkg-query -S /usr/bin/pvescope-aggregator 2>&1) || owner="dpkg-query failed: $owner"
user=$(in_image getent passwd pvescope 2>&1) || user=none
group=$(in_image getent group pvescope 2>&1) || group=none
aggver=$(in_image pvescope-aggregator --version 2>&1) || aggver="--version failed: $aggver"
# shellcheck disable=SC2016
devtools=$(in_image dpkg-query -W -f='${db:Status-Abbrev}${Package} ' cmake gcc debhelper dpkg-dev libsodium-dev 2>/dev/null || true)
lists=$(in_image find /var/lib/apt/lists /var/cache/apt/archives /tmp -type f 2>&1 | grep -v '/lock$' || true)
bh rm "$ctr" >/dev/null
[[ $pkg == "install ok installed|$want_version" ]] ||
    fail "pvescope-aggregator in the image: '$pkg', want 'install ok installed|$want_version'"
[[ $owner == "pvescope-aggregator: /usr/bin/pvescope-aggregator" ]] ||
    fail "/usr/bin/pvescope-aggregator is not the package's: $owner"
[[ $aggver == *"${want_version%%-*}"* ]] || fail "the image's aggregator --version '$aggver' lacks ${want_version%%-*}"
[[ $user == "pvescope:x:971:971:"*":/nonexistent:/usr/sbin/nologin" ]] ||
    fail "the image's pvescope user: '$user', want the system account 971:971 without home or shell"
[[ $group == "pvescope:x:971:" ]] || fail "the image's pvescope group: '$group', want gid 971"
[[ $devtools != *"ii "* ]] || fail "build tools in the final image: $devtools"
[[ -z $lists ]] || fail "apt lists, downloaded packages or /tmp files left in the image: $lists"
log "package pvescope-aggregator $want_version installed ok, owns the binary; user pvescope 971:971; no build tools, no apt lists"

# ---- key ring in a directory mounted as the volume ------------------------
"$AGENT" --init-key="$T/cluster.key" >/dev/null
mkdir -m 0750 "$T/etc-pvescope"
printf 'ctest %s\n' "$(cat "$T/cluster.key")" >"$T/etc-pvescope/keyring"
chmod 0640 "$T/etc-pvescope/keyring"
# A web config with TLS and basic auth for the last run (the image's user reads it).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$T/etc-pvescope/web.key" -out "$T/etc-pvescope/web.crt" \
    >"$T/openssl.log" 2>&1 || { cat "$T/openssl.log"; fail "openssl could not make a certificate"; }
printf 'tls_server_config: {cert_file: web.crt, key_file: web.key}\nbasic_auth_users:\n  prom: %s\n' \
    "$(htpasswd -nbBC 10 "" ctest-pw | tr -d ':\n')" >"$T/etc-pvescope/web.yml"
chmod 0640 "$T/etc-pvescope"/web.*
chgrp -R 971 "$T/etc-pvescope"       # the image's pvescope group: root-owned, group-readable

# ---- run, in a network and PID namespace of its own -----------------------
# Ports 9715/9716 are then free whatever runs on this machine, and every
# process started here ends with the namespace.
cat >"$T/inner.sh" <<'INNER'
set -euo pipefail
T=$1 AGENT=$2 TAG=$3
fail() { echo "container_image: FAIL: $*" >&2; exit 1; }
log() { echo "container_image: $*" >&2; }
# shellcheck disable=SC2086
bh() { buildah --storage-driver vfs $BUILDAH_OPTS "$@"; }
mapfile -d '' EP <"$T/entrypoint"
mapfile -d '' HC <"$T/healthcheck"
ip link set lo up
ctr=$(bh from --pull-never --name pvescope-ctest-$$ "$TAG")
trap 'bh rm "$ctr" >/dev/null 2>&1 || true' EXIT
run() { bh run --isolation chroot -v "$T/etc-pvescope:/etc/pvescope:ro" "$ctr" -- "$@"; }
# The HEALTHCHECK runs inside the running container (docker exec): with its
# volume, here as in run().
# shellcheck disable=SC2086
healthcheck() {
    timeout 10 buildah --storage-driver vfs $BUILDAH_OPTS run --isolation chroot \
        -v "$T/etc-pvescope:/etc/pvescope:ro" "$ctr" -- "${HC[@]}" >"$T/hc.log" 2>&1
}
agg_pid() {   # the aggregator's PID (this namespace holds only ours)
    local d
    for d in /proc/[0-9]*; do
        [[ $(cat "$d/comm" 2>/dev/null) == pvescope-aggreg ]] && { echo "${d#/proc/}"; return 0; }
    done
    return 1
}
wait_http() {   # URL: up to 30s
    for _ in $(seq 150); do curl -sf -o /dev/null --max-time 1 "$1" && return 0; sleep 0.2; done
    return 1
}
stop_agg() {    # SIGTERM to the aggregator; buildah run returns its status
    local pid; pid=$(agg_pid) || fail "no aggregator process to stop"
    kill -TERM "$pid"
    local rc=0; wait "$runner" || rc=$?
    [[ $rc -eq 0 ]] || { cat "$T/agg.log"; fail "the aggregator exited with status $rc on SIGTERM"; }
}

rc=0; healthcheck || rc=$?
# 1 is the check's own verdict (no aggregator to probe); 124 would be the timeout,
# 125+ buildah failing to run it at all.
[[ $rc -eq 1 ]] || { cat "$T/hc.log"; fail "the health check exits $rc with no aggregator running, not 1"; }
log "health check fails with nothing listening"

run "${EP[@]}" >"$T/agg.log" 2>&1 &
runner=$!
wait_http http://127.0.0.1:9715/-/healthy || { cat "$T/agg.log"; fail "no /-/healthy on :9715 within 30s"; }
pid=$(agg_pid) || fail "aggregator process not found"
uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
capeff=$(awk '/^CapEff:/ {print $2}' "/proc/$pid/status")
[[ $uid == 971 ]] || fail "the aggregator runs as uid $uid, not the image's pvescope (971)"
[[ $capeff == 0000000000000000 ]] || fail "the aggregator has capabilities $capeff"
tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- '--keyring=/etc/pvescope/keyring --web.listen-address=:9715 --ingest.listen=tcp://[::]:9716' ||
    fail "the aggregator's command line is not the entry point: $(tr '\0' ' ' <"/proc/$pid/cmdline")"
log "aggregator runs as uid 971 with no capabilities, the entry point's command line"

healthcheck || { cat "$T/hc.log"; fail "the image's health check fails against a running aggregator"; }
log "health check succeeds"

"$AGENT" --once --once.timeout=10s --aggregator=tcp://127.0.0.1:9716 --key-file="$T/cluster.key" \
    --cluster=ctest --node=ctn1 --log.level=warn || fail "the agent could not deliver a report to :9716"
curl -sS --max-time 5 -o "$T/metrics" http://127.0.0.1:9715/metrics || fail "GET /metrics failed"
grep -qxF 'pve_up{id="node/ctn1",pve_cluster="ctest"} 1' "$T/metrics" ||
    { grep '^pve_up' "$T/metrics" >&2 || true; fail "/metrics lacks pve_up 1 for the agent's report"; }
grep -q '^pvescope_' "$T/metrics" || fail "/metrics lacks the aggregator's own pvescope_* series"
log "/metrics on :9715 shows the report the agent sent to :9716"
stop_agg
log "SIGTERM: exit status 0"

# Arguments after the image name are appended: the later flag wins.
run "${EP[@]}" --web.listen-address=:19715 >"$T/agg2.log" 2>&1 &
runner=$!
wait_http http://127.0.0.1:19715/-/ready || { cat "$T/agg2.log"; fail "an appended --web.listen-address=:19715 is not used"; }
curl -sf -o /dev/null --max-time 2 http://127.0.0.1:9715/-/healthy && fail "still listening on :9715 after the override"
stop_agg
log "an appended flag overrides the entry point's default"

# The health check follows appended flags: TLS + basic auth on another port.
run "${EP[@]}" --web.listen-address=:19716 --web.config.file=/etc/pvescope/web.yml >"$T/agg3.log" 2>&1 &
runner=$!
for _ in $(seq 150); do
    curl -sf -o /dev/null --max-time 1 --cacert "$T/etc-pvescope/web.crt" -u prom:ctest-pw \
        https://127.0.0.1:19716/-/healthy && break
    sleep 0.2
done
curl -sf -o /dev/null --max-time 2 --cacert "$T/etc-pvescope/web.crt" -u prom:ctest-pw \
    https://127.0.0.1:19716/-/healthy || { cat "$T/agg3.log"; fail "no https /-/healthy on :19716"; }
healthcheck || { cat "$T/hc.log"; fail "the health check fails against the TLS + basic auth aggregator"; }
grep -q 'healthy: https://127.0.0.1:19716/-/healthy answered 401 from its basic auth' "$T/hc.log" ||
    fail "the health check did not probe https on :19716 through basic auth: $(cat "$T/hc.log")"
stop_agg
log "the health check follows an appended --web.config.file (TLS, basic auth) and --web.listen-address"
INNER
start=$SECONDS
unshare --net --pid --fork --kill-child --mount-proc bash "$T/inner.sh" "$T" "$(readlink -f "$AGENT")" "$TAG" ||
    fail "running the image (above)"
log "ran the image in $((SECONDS - start))s: PASS"
