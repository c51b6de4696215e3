#!/bin/bash
# debs.sh — the packaging test (ctest packaging_debs, label packaging).
#
#  1. builds pvescope-agent and pvescope-aggregator .debs with
#     packaging/build-debs.sh (dpkg-buildpackage -us -uc -b on a copy of the tree)
#  2. lintian on the .changes: fails on any error or warning
#  3. systemd-analyze verify on both units (in a root made of the .debs plus
#     the host's systemd units), and systemd-analyze security --offline with
#     an exposure ceiling for each, so a weakened unit fails
#  4. a clean Debian root (debootstrap --variant=minbase bookworm, cached as a
#     tarball in $PVESCOPE_DEBOOTSTRAP_CACHE, default
#     /var/cache/pvescope-debootstrap), the .debs installed with apt (their
#     dependencies from the archive), and in a chroot: the postinst's key
#     handling (hint off PVE; key created once /etc/pve/priv exists; never
#     replaced), the pvescope user, both binaries' --version, an aggregator
#     as user pvescope with the packaged ARGS and an agent --once with the
#     postinst's key, pve_up of the node on /metrics; then purge: conffiles,
#     /etc/pvescope, the user and the enable links gone, the cluster key kept.
# Needs root, the network to the Debian archive and scripts/deps.sh test.
# Never skips: a missing tool is a failure.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
NAME=packaging_debs
t_start=$EPOCHREALTIME
log() { printf '[%s %s] %s\n' "$NAME" "$(date +%T)" "$*"; }
fail() { echo "FAIL ($NAME): $*" >&2; exit 1; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$t_start" "$EPOCHREALTIME"; }

[ "$(id -u)" = 0 ] || fail "needs root (debootstrap, chroot, mounts)"
for c in dpkg-buildpackage dh lintian debootstrap systemd-analyze curl flock python3 chroot; do
    command -v "$c" >/dev/null || fail "'$c' is missing (scripts/deps.sh test installs it)"
done

tmp=$(mktemp -d /tmp/pvescope-pkgtest.XXXXXX)
croot="$tmp/root"
agg_pid=
cleanup() {
    local rc=$?
    [ -n "$agg_pid" ] && kill "$agg_pid" 2>/dev/null && wait "$agg_pid" 2>/dev/null
    local m
    for m in "$croot/proc" "$croot/sys"; do
        if mountpoint -q "$m"; then umount "$m" || umount -l "$m" || true; fi
    done
    # Never follow a mount that is somehow still there.
    if ! grep -q " $tmp/" /proc/self/mounts; then
        rm -rf --one-file-system "$tmp"
    else
        echo "$NAME: left $tmp (still mounted)" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# --- 1. build ---------------------------------------------------------------
out="$tmp/debs"
log "building the packages"
"$root/packaging/build-debs.sh" "$out" > "$tmp/build.log" 2>&1 || { tail -40 "$tmp/build.log" >&2; fail "package build failed"; }
version=$(dpkg-parsechangelog -l "$root/packaging/debian/changelog" -S Version)
arch=$(dpkg --print-architecture)
agent_deb="$out/pvescope-agent_${version}_$arch.deb"
agg_deb="$out/pvescope-aggregator_${version}_$arch.deb"
changes="$out/pvescope_${version}_$arch.changes"
for f in "$agent_deb" "$agg_deb" "$changes"; do [ -f "$f" ] || fail "missing $f"; done
# Every file each package must ship (and the units nowhere else).
expect_files() {   # DEB FILE...
    local deb=$1 f list
    shift
    list=$(dpkg-deb -c "$deb" | awk '{print $6}')
    for f in "$@"; do
        grep -qx "\\.$f" <<<"$list" || fail "$(basename "$deb") lacks $f"
    done
}
expect_files "$agent_deb" /usr/bin/pvescope-agent /lib/systemd/system/pvescope-agent.service \
    /etc/default/pvescope-agent /usr/share/doc/pvescope-agent/README.md \
    /usr/share/man/man8/pvescope-agent.8.gz
expect_files "$agg_deb" /usr/bin/pvescope-aggregator /lib/systemd/system/pvescope-aggregator.service \
    /etc/default/pvescope-aggregator /etc/pvescope/ /usr/share/doc/pvescope-aggregator/README.md \
    /usr/share/man/man8/pvescope-aggregator.8.gz
dpkg-deb -c "$agent_deb" | grep -q pvescope-aggregator && fail "the agent package ships aggregator files"
dpkg-deb -c "$agg_deb" | grep -q 'bin/pvescope-agent' && fail "the aggregator package ships the agent"
dpkg-deb -f "$agent_deb" Depends | grep -q libnanomsg5 || fail "agent Depends lack the shared libraries"
# gzip of /metrics is ISA-L's: the aggregator (and so the container image,
# which installs its .deb with apt) must pull libisal2 in.
dpkg-deb -f "$agg_deb" Depends | grep -q libisal2 || fail "aggregator Depends lack libisal2 (ISA-L, gzip)"
log "built $(basename "$agent_deb") $(basename "$agg_deb") ($(elapsed) s)"

# --- 2. lintian --------------------------------------------------------------
log "lintian"
lintian --fail-on error,warning "$changes" > "$tmp/lintian.log" 2>&1 ||
    { cat "$tmp/lintian.log" >&2; fail "lintian reports errors or warnings"; }
grep -E '^[EW]: ' "$tmp/lintian.log" && fail "lintian printed errors or warnings"
grep -E '^[IP]: ' "$tmp/lintian.log" || true

# --- 3. systemd units ----------------------------------------------------------
# verify resolves ExecStart= and the units' dependencies under --root: the
# two packages unpacked, plus the host's own units (multi-user.target, ...).
log "systemd-analyze verify and security"
uroot="$tmp/unitroot"
mkdir -p "$uroot/lib/systemd/system"
dpkg-deb -x "$agent_deb" "$uroot"
dpkg-deb -x "$agg_deb" "$uroot"
cp -an /lib/systemd/system/. "$uroot/lib/systemd/system/"
units=("$uroot/lib/systemd/system/pvescope-agent.service" "$uroot/lib/systemd/system/pvescope-aggregator.service")
if ! systemd-analyze verify --root="$uroot" "${units[@]}" > "$tmp/verify.log" 2>&1 || [ -s "$tmp/verify.log" ]; then
    cat "$tmp/verify.log" >&2
    fail "systemd-analyze verify found problems in the units"
fi
# Exposure ceilings (0-10, lower is better; systemd's --threshold is in
# tenths), a hair above today's: agent 2.7 (root with CAP_SYS_ADMIN and
# CAP_SYS_PTRACE, devices nvme and dm control, and capset allowed so that the
# agent can drop the capabilities of disabled collectors), aggregator 1.1.
check_exposure() {   # UNIT CEILING_TENTHS
    if ! systemd-analyze security --offline=true --root="$uroot" --threshold="$2" "$1" > "$tmp/security.log" 2>&1; then
        grep -E '✗|Overall' "$tmp/security.log" >&2
        fail "$(basename "$1"): exposure above $2/10"
    fi
    log "  $(grep -o 'Overall exposure level.*' "$tmp/security.log")"
}
check_exposure "${units[0]}" 28
check_exposure "${units[1]}" 11
# The settings the exposure score does not weigh, read back as systemd parsed them.
unit_has() {   # UNIT LINE
    grep -qxF "$2" "$1" || fail "$(basename "$1") lacks '$2'"
}
for l in 'CapabilityBoundingSet=CAP_SYS_ADMIN CAP_SYS_PTRACE' 'ProtectSystem=strict' 'NoNewPrivileges=yes' \
    'SystemCallFilter=~@privileged @resources' 'SystemCallFilter=capset' \
    'EnvironmentFile=-/etc/default/pvescope-agent' 'ExecStart=/usr/bin/pvescope-agent $ARGS' 'Restart=on-failure'; do
    unit_has "${units[0]}" "$l"
done
for l in 'User=pvescope' 'CapabilityBoundingSet=' 'ProtectSystem=strict' 'NoNewPrivileges=yes' \
    'EnvironmentFile=-/etc/default/pvescope-aggregator' 'ExecStart=/usr/bin/pvescope-aggregator $ARGS' 'Restart=on-failure'; do
    unit_has "${units[1]}" "$l"
done

# --- 4. a clean Debian root ---------------------------------------------------
# The archive apt uses here (deb.debian.org unless sources say otherwise).
mirror=$(grep -hsoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
             /etc/apt/sources.list.d/*.list | head -1 | awk '{print $2}' || true)
mirror=${PVESCOPE_DEBIAN_MIRROR:-${mirror:-http://deb.debian.org/debian}}
cache=${PVESCOPE_DEBOOTSTRAP_CACHE:-/var/cache/pvescope-debootstrap}
tarball="$cache/bookworm-minbase-$(printf %s "$mirror" | md5sum | cut -c1-8).tar"
mkdir -p "$cache"
(
    flock 9
    if [ ! -f "$tarball" ]; then
        log "debootstrap --variant=minbase bookworm from $mirror (cached in $tarball)"
        d=$(mktemp -d "$cache/root.XXXXXX")
        trap 'rm -rf --one-file-system "$d"' EXIT
        debootstrap --variant=minbase bookworm "$d" "$mirror" > "$cache/debootstrap.log" 2>&1 ||
            { tail -20 "$cache/debootstrap.log" >&2; exit 1; }
        chmod 0755 "$d"
        tar -C "$d" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    fi
) 9> "$cache/lock" || fail "debootstrap failed"
mkdir "$croot"
tar -C "$croot" -xf "$tarball"
chmod 0755 "$croot"   # its / (mktemp makes 0700 directories)
mount -t proc proc "$croot/proc"
mount -t sysfs -o ro sysfs "$croot/sys"
cp /etc/resolv.conf "$croot/etc/resolv.conf"
# No daemon may start inside the chroot on its own (there is no systemd there
# anyway; this also covers sysvinit fallbacks).
printf '#!/bin/sh\nexit 101\n' > "$croot/usr/sbin/policy-rc.d"
chmod +x "$croot/usr/sbin/policy-rc.d"
mkdir -p "$croot/tmp/debs"
cp "$agent_deb" "$agg_deb" "$croot/tmp/debs/"
in_root() { chroot "$croot" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }
log "clean root ready ($(elapsed) s)"

in_root apt-get update -qq > "$tmp/apt.log" 2>&1 || { cat "$tmp/apt.log" >&2; fail "apt-get update in the root failed"; }
# The agent first, on a machine without /etc/pve: a hint, no key.
in_root apt-get install -y -q --no-install-recommends "/tmp/debs/$(basename "$agent_deb")" > "$tmp/install-agent.log" 2>&1 ||
    { cat "$tmp/install-agent.log" >&2; fail "apt-get install pvescope-agent failed"; }
grep -q "pvescope-agent: /etc/pve/priv not found" "$tmp/install-agent.log" ||
    { cat "$tmp/install-agent.log" >&2; fail "the agent's postinst printed no hint off Proxmox VE"; }
[ ! -e "$croot/etc/pve" ] || fail "the agent's postinst created /etc/pve on a machine without it"
in_root apt-get install -y -q --no-install-recommends "/tmp/debs/$(basename "$agg_deb")" > "$tmp/install-agg.log" 2>&1 ||
    { cat "$tmp/install-agg.log" >&2; fail "apt-get install pvescope-aggregator failed"; }
for p in pvescope-agent pvescope-aggregator; do
    [ "$(in_root dpkg-query -W -f='${Status} ${Version}' "$p")" = "install ok installed $version" ] ||
        fail "$p is not installed at $version"
    [ -L "$croot/etc/systemd/system/multi-user.target.wants/$p.service" ] || fail "$p.service is not enabled"
    [ -f "$croot/etc/default/$p" ] || fail "/etc/default/$p missing"
done
log "installed with apt ($(elapsed) s)"

# The system user.
IFS=: read -r _ _ uid gid _ home shell <<<"$(in_root getent passwd pvescope)" || fail "no user pvescope"
(( uid > 0 && uid < 1000 )) || fail "pvescope is not a system user (uid $uid)"
[ "$(in_root getent group pvescope | cut -d: -f3)" = "$gid" ] || fail "pvescope's primary group is not pvescope"
[ "$shell" = /usr/sbin/nologin ] && [ "$home" = /nonexistent ] || fail "pvescope: shell $shell, home $home"

# A Proxmox VE node (pmxcfs mounted means /etc/pve/priv exists): the postinst
# creates the key, and never replaces it.
key="$croot/etc/pve/priv/pvescope/cluster.key"
mkdir -p "$croot/etc/pve/priv"
in_root dpkg-reconfigure pvescope-agent > "$tmp/reconf1.log" 2>&1 || { cat "$tmp/reconf1.log" >&2; fail "dpkg-reconfigure failed"; }
[ -f "$key" ] || { cat "$tmp/reconf1.log" >&2; fail "the postinst created no key with /etc/pve/priv present"; }
[ "$(in_root stat -c '%a %U' /etc/pve/priv/pvescope/cluster.key)" = "600 root" ] || fail "key mode/owner: $(stat -c '%a %u' "$key")"
sum=$(sha256sum < "$key")
in_root dpkg-reconfigure pvescope-agent > "$tmp/reconf2.log" 2>&1 || { cat "$tmp/reconf2.log" >&2; fail "dpkg-reconfigure failed"; }
[ "$(sha256sum < "$key")" = "$sum" ] || fail "the postinst replaced an existing key"
grep -q "created the cluster key" "$tmp/reconf2.log" && fail "the postinst claims to have created an existing key"

# Both binaries, from the packages.
[ "$(in_root pvescope-agent --version)" = "pvescope-agent $version" ] || fail "pvescope-agent --version: $(in_root pvescope-agent --version)"
[ "$(in_root pvescope-aggregator --version)" = "pvescope-aggregator $version" ] || fail "pvescope-aggregator --version"

# The key ring, made root:root first: the aggregator's postinst gives it to group pvescope.
printf 'pkgtest %s\n' "$(cat "$key")" > "$croot/etc/pvescope/keyring"
chmod 0640 "$croot/etc/pvescope/keyring"
in_root dpkg-reconfigure pvescope-aggregator > "$tmp/reconf3.log" 2>&1 || { cat "$tmp/reconf3.log" >&2; fail "dpkg-reconfigure failed"; }
# (stat in the root: user and group names are the root's)
[ "$(in_root stat -c '%a %U %G' /etc/pvescope/keyring)" = "640 root pvescope" ] ||
    fail "keyring: $(in_root stat -c '%a %U %G' /etc/pvescope/keyring)"

# The aggregator as user pvescope with the packaged ARGS (the key ring path),
# on loopback ports; the agent --once with the key the postinst made (its
# default --key-file).
read -r web ingest <<<"$(python3 "$root/tests/e2e/e2etool.py" free-ports 2 | tr '\n' ' ')"
agg_args=$(. "$croot/etc/default/pvescope-aggregator"; echo "$ARGS")
[ "$agg_args" = "--keyring=/etc/pvescope/keyring" ] || fail "packaged aggregator ARGS: $agg_args"
# shellcheck disable=SC2086
chroot --userspec=pvescope:pvescope "$croot" /usr/bin/pvescope-aggregator $agg_args \
    --web.listen-address="127.0.0.1:$web" --ingest.listen="tcp://127.0.0.1:$ingest" > "$tmp/aggregator.log" 2>&1 &
agg_pid=$!
for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$web/-/ready" >/dev/null && break
    kill -0 "$agg_pid" 2>/dev/null || { cat "$tmp/aggregator.log" >&2; fail "the aggregator exited"; }
    sleep 0.1
done
curl -sf "http://127.0.0.1:$web/-/ready" >/dev/null || { cat "$tmp/aggregator.log" >&2; fail "the aggregator never got ready"; }
# (numeric: the host's names for the root's uids differ)
[ "$(ps -o uid= -p "$agg_pid" | tr -d ' ')" = "$uid" ] || fail "the aggregator runs as uid $(ps -o uid= -p "$agg_pid"), not pvescope's $uid"
in_root pvescope-agent --once --aggregator="tcp://127.0.0.1:$ingest" --cluster=pkgtest --node=pkgnode > "$tmp/agent.log" 2>&1 ||
    { cat "$tmp/agent.log" >&2; fail "pvescope-agent --once failed"; }
want='pve_up{id="node/pkgnode",pve_cluster="pkgtest"} 1'
for _ in $(seq 50); do
    curl -sf "http://127.0.0.1:$web/metrics" > "$tmp/metrics.txt" && grep -qxF "$want" "$tmp/metrics.txt" && break
    sleep 0.1
done
grep -qxF "$want" "$tmp/metrics.txt" || { cat "$tmp/aggregator.log" "$tmp/agent.log" >&2; grep '^pve_up' "$tmp/metrics.txt" >&2; fail "no '$want' on /metrics"; }
grep -q '^pve_node_load1{id="node/pkgnode",pve_cluster="pkgtest"} ' "$tmp/metrics.txt" ||
    fail "the chroot agent's /proc readings are missing (pve_node_load1)"
kill "$agg_pid"
wait "$agg_pid" || true
agg_pid=
log "agent in the root reported to the aggregator in the root: $want ($(elapsed) s)"

# --- purge ---------------------------------------------------------------------
in_root apt-get purge -y -q pvescope-agent pvescope-aggregator > "$tmp/purge.log" 2>&1 ||
    { cat "$tmp/purge.log" >&2; fail "apt-get purge failed"; }
for p in pvescope-agent pvescope-aggregator; do
    st=$(in_root dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ -z "$st" ] || [ "$st" = not-installed ] || fail "$p after purge: $st"
    for f in "/etc/default/$p" "/usr/bin/$p" "/lib/systemd/system/$p.service" \
             "/etc/systemd/system/multi-user.target.wants/$p.service"; do
        [ ! -e "$croot$f" ] && [ ! -L "$croot$f" ] || fail "$f survives the purge"
    done
done
[ ! -e "$croot/etc/pvescope" ] || fail "/etc/pvescope survives the purge"
in_root getent passwd pvescope >/dev/null && fail "user pvescope survives the purge"
in_root getent group pvescope >/dev/null && fail "group pvescope survives the purge"
[ "$(sha256sum < "$key")" = "$sum" ] || fail "the purge touched the cluster key (shared by the whole cluster)"
log "purged: conffiles, /etc/pvescope, the pvescope user and the enable links gone, the cluster key kept"
log "PASS ($(elapsed) s)"
