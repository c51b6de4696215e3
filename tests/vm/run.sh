#!/usr/bin/env bash
# run.sh — the QEMU guest test: the real pvescope agent and aggregator of a
# build, inside a throw-away guest running the stock Debian kernel, against
# real kernel drivers (two emulated NVMe controllers, an LVM thin pool,
# NVMe hwmon). The guest prints the aggregator's /metrics and what the
# kernel's own tools say (nvme-cli, dmsetup, lm-sensors, lvs); check.py then
# asserts that the two agree. See tests/vm/README.md.
#
# usage: run.sh BUILD_DIR
# Exit 0 pass, 1 fail, 77 skipped: only when QEMU or a guest kernel cannot be
# had at all (no qemu-system-x86_64; no cached kernel and none downloadable).
#
# Knobs (environment):
#   PVESCOPE_VM_CACHE    kernel cache, outside the source tree, shared by runs
#                        (default /var/cache/pvescope-vm, else ~/.cache/pvescope-vm)
#   PVESCOPE_VM_KERNEL   pin the kernel package (linux-image-6.1.0-56-amd64);
#                        default: what linux-image-amd64 depends on
#   VM_ACCEL=auto|kvm|tcg   auto: kvm only with vmx/svm in /proc/cpuinfo and a
#                        writable /dev/kvm, otherwise tcg
#   VM_CHECK=nvme,thin,sensors   areas check.py asserts (default: all)
#   VM_WORN_WARNING=0x05 smart_critical_warning injected into the worn controller
#   VM_TIMEOUT=240       seconds the guest may run
#   VM_SHELL=1           after the scenario, a shell on the console (no timeout)
#   VM_KEEP=1            keep the work directory (disk images, initramfs, dumps)
#   VM_APPEND="..."      extra kernel command line (loglevel=7 to watch the boot)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log() { printf '[vm %s] %s\n' "$(date +%T)" "$*" >&2; }
skip() { echo "SKIP (vm_hardware): $*"; exit 77; }
fail() { echo "FAIL (vm_hardware): $*" >&2; exit 1; }

[[ $# -eq 1 ]] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
BUILD=$(cd "$1" && pwd)
AGENT=$BUILD/pvescope-agent
AGGREGATOR=$BUILD/pvescope-aggregator
[[ -x $AGENT && -x $AGGREGATOR ]] || fail "no pvescope-agent / pvescope-aggregator in $BUILD"

T_START=$(date +%s.%N)
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (scripts/deps.sh test)"
# Everything else is a test dependency that CI has: missing means broken.
for tool in busybox nvme sensors lvm dmsetup pdata_tools cpio depmod modprobe xz python3 flock ldd; do
	command -v "$tool" >/dev/null || fail "'$tool' is not installed (scripts/deps.sh test installs it)"
done
ldd /bin/busybox >/dev/null 2>&1 && fail "/bin/busybox is not static (install busybox-static)"

# ------------------------------------------------------------ kernel cache
# One extracted kernel per version, prepared under an exclusive lock and then
# only read: parallel runs share it safely. Nothing is installed on the host.
pick_cache_dir() {
	local d
	for d in "${PVESCOPE_VM_CACHE:-}" /var/cache/pvescope-vm "${XDG_CACHE_HOME:-$HOME/.cache}/pvescope-vm"; do
		[[ -n $d ]] || continue
		mkdir -p "$d" 2>/dev/null && [[ -w $d ]] && { echo "$d"; return; }
		[[ -n ${PVESCOPE_VM_CACHE:-} ]] && fail "PVESCOPE_VM_CACHE=$d is not a writable directory"
	done
	fail "no writable kernel cache directory"
}
CACHE=$(pick_cache_dir)

# The version linux-image-amd64 depends on today (empty when apt knows none).
# No early-exiting reader in the pipe: under pipefail the writer's SIGPIPE
# would fail it.
apt_kernel_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ && !n++ { print $2 }'
}

resolve_kernel_pkg() {
	local pkg=${PVESCOPE_VM_KERNEL:-}
	if [[ -z $pkg ]]; then
		pkg=$(apt_kernel_pkg)
		if [[ -z $pkg && $(id -u) -eq 0 ]]; then
			apt-get update -qq >&2 || true
			pkg=$(apt_kernel_pkg)
		fi
	fi
	[[ -z $pkg || $pkg == linux-image-* ]] || pkg=linux-image-$pkg
	echo "$pkg"
}

# vmlinuz -> vmlinux: the bzImage's protected-mode part carries the
# compressed kernel at payload_offset (header 0x248, length at 0x24c).
# The ELF inside has a PVH entry note (CONFIG_PVH=y), which QEMU's -kernel
# boots directly: no in-guest decompression (4 s under TCG).
extract_vmlinux() {
	local bz=$1 out=$2 setup_sects off len
	setup_sects=$(od -An -tu1 -j $((0x1f1)) -N1 "$bz" | tr -d ' ')
	off=$(od -An -tu4 -j $((0x248)) -N4 "$bz" | tr -d ' ')
	len=$(od -An -tu4 -j $((0x24c)) -N4 "$bz" | tr -d ' ')
	[[ -n $setup_sects && -n $off && -n $len ]] || return 1
	[[ $setup_sects -eq 0 ]] && setup_sects=4
	dd if="$bz" of="$out.xz" bs=1M iflag=skip_bytes,count_bytes \
		skip=$(((setup_sects + 1) * 512 + off)) count="$len" status=none || return 1
	# the payload ends with the 4-byte decompressed size: not part of the stream
	xz -dc --single-stream "$out.xz" >"$out.tmp" || return 1
	rm -f "$out.xz"
	[[ $(head -c 4 "$out.tmp" | od -An -c | tr -d ' ') == '177ELF' ]] || { rm -f "$out.tmp"; return 1; }
	mv "$out.tmp" "$out"
}

# prepare_kernel PKG: leaves $CACHE/<kver>/{boot/vmlinuz-<kver>,vmlinux,lib/modules}
# and a .complete marker; returns 1 when the package cannot be had. Every step
# is checked by hand: set -e does not apply inside a function called with ||.
prepare_kernel() {
	local pkg=$1 kver=${1#linux-image-} dir tmp
	dir=$CACHE/$kver
	[[ -f $dir/.complete ]] && return 0
	log "kernel cache: fetching $pkg into $CACHE"
	tmp=$(mktemp -d "$CACHE/.prepare.XXXXXX") || return 1
	if ! (cd "$tmp" && apt-get download -q "$pkg" >download.log 2>&1); then
		cat "$tmp/download.log" >&2
		rm -rf "$tmp"
		return 1
	fi
	dpkg -x "$tmp/$pkg"_*.deb "$tmp/root" &&
		depmod -b "$tmp/root" "$kver" &&   # the .deb ships no modules.dep
		extract_vmlinux "$tmp/root/boot/vmlinuz-$kver" "$tmp/root/vmlinux" ||
		{ rm -rf "$tmp"; fail "could not unpack $pkg into a kernel with a PVH vmlinux"; }
	touch "$tmp/root/.complete"
	rm -rf "$dir"
	mv "$tmp/root" "$dir"
	rm -rf "$tmp"
}

# newest complete kernel in the cache (for runs without apt)
cached_kernel() { ls -1d "$CACHE"/*/.complete 2>/dev/null | sort -V | tail -n 1 | xargs -r dirname | xargs -r basename; }

# Readers hold a shared lock for the whole run; a run that must add a kernel
# takes it exclusively (prepare_kernel re-checks: another run may have won).
t0=$(date +%s.%N)
exec 8>"$CACHE/.lock"
flock -s -w 600 8 || fail "could not lock $CACHE/.lock within 600 s"
KPKG=$(resolve_kernel_pkg)
KVER=
if [[ -n $KPKG && ! -f $CACHE/${KPKG#linux-image-}/.complete ]]; then
	flock -x -w 600 8 || fail "could not lock $CACHE/.lock exclusively within 600 s"
	prepare_kernel "$KPKG" || log "kernel cache: could not fetch $KPKG"
	flock -s 8
fi
if [[ -n $KPKG && -f $CACHE/${KPKG#linux-image-}/.complete ]]; then
	KVER=${KPKG#linux-image-}
elif [[ -z ${PVESCOPE_VM_KERNEL:-} ]]; then
	KVER=$(cached_kernel)
	[[ -n $KVER ]] && log "kernel cache: apt gave no usable kernel, using cached $KVER"
fi
[[ -n $KVER ]] || skip "no guest kernel: nothing cached in $CACHE and '${KPKG:-linux-image-amd64}' not downloadable"
KROOT=$CACHE/$KVER
log "kernel $KVER ready in $(elapsed "$t0")s ($KROOT)"

# ------------------------------------------------------------- work dir
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pvescope-vm.XXXXXX")
QEMU_PID=
cleanup() {
	local rc=$?
	[[ -n $QEMU_PID ]] && kill "$QEMU_PID" 2>/dev/null
	if [[ ${VM_KEEP:-0} == 1 || ($rc -ne 0 && $rc -ne 77) ]]; then
		log "work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap cleanup EXIT

# --------------------------------------------------------------- initramfs
WORN_WARNING=${VM_WORN_WARNING:-0x05}
NODE=pve-vm
CLUSTER=vmlab
cat >"$WORK/vm.conf" <<EOF
# written by tests/vm/run.sh; read by the guest's /init and scenario
NODE=$NODE
CLUSTER=$CLUSTER
HEALTHY_SERIAL=pvescope-healthy
WORN_SERIAL=pvescope-worn
WORN_WARNING=$WORN_WARNING
SHELL_AFTER=${VM_SHELL:-0}
EOF
t0=$(date +%s.%N)
"$HERE/initramfs.sh" "$KROOT" "$KVER" "$WORK/initramfs.cpio" "$WORK/vm.conf" "$AGENT" "$AGGREGATOR"
log "initramfs built in $(elapsed "$t0")s ($(du -h "$WORK/initramfs.cpio" | cut -f1))"

# ------------------------------------------------------------------- QEMU
truncate -s 1G "$WORK/nvme-healthy.img"
truncate -s 64M "$WORK/nvme-worn.img"

ACCEL=${VM_ACCEL:-auto}
if [[ $ACCEL == auto ]]; then
	# /dev/kvm alone proves nothing: a software KVM (kvm-pvm) has no vmx/svm
	# and runs a stock guest far slower than TCG, when it runs it at all.
	if [[ -w /dev/kvm ]] && grep -qwE 'vmx|svm' /proc/cpuinfo; then ACCEL=kvm; else ACCEL=tcg; fi
fi
case $ACCEL in
	kvm) CPU=host ;;
	tcg) CPU=max ;;   # SSE4.2/PCLMUL: crc32c-intel & co. load as on real hardware
	*) fail "VM_ACCEL must be auto, kvm or tcg" ;;
esac

APPEND="console=ttyS0 panic=-1 quiet loglevel=1 mitigations=off ${VM_APPEND:-}"
# Two controllers at fixed PCI slots, so the hwmon chips are always
# nvme-pci-0020 (healthy) and nvme-pci-0028 (worn). No network device at
# all: every socket of the test is on the guest's loopback.
QEMU=(qemu-system-x86_64
	-machine q35,accel="$ACCEL" -cpu "$CPU" -smp 2 -m 1024
	-nodefaults -no-user-config -display none -nic none -serial stdio -no-reboot
	-kernel "$KROOT/vmlinux" -initrd "$WORK/initramfs.cpio" -append "$APPEND"
	-drive file="$WORK/nvme-healthy.img",if=none,id=nvm0,format=raw
	-device nvme,serial=pvescope-healthy,drive=nvm0,id=nvme-healthy,addr=0x4
	-drive file="$WORK/nvme-worn.img",if=none,id=nvm1,format=raw
	-device nvme,serial=pvescope-worn,drive=nvm1,id=nvme-worn,addr=0x5,smart_critical_warning="$WORN_WARNING"
)
CONSOLE=$BUILD/vm-console.log
log "accel=$ACCEL kernel=$KVER console log: $CONSOLE"
t0=$(date +%s.%N)
set +e
if [[ ${VM_SHELL:-0} == 1 ]]; then
	"${QEMU[@]}" | tee "$CONSOLE"
	qrc=${PIPESTATUS[0]}
else
	# The console goes to the log; progress lines are echoed as they come.
	timeout "${VM_TIMEOUT:-240}" "${QEMU[@]}" </dev/null >"$CONSOLE" 2>&1 &
	QEMU_PID=$!
	tail -n +1 -f --pid="$QEMU_PID" "$CONSOLE" 2>/dev/null | grep --line-buffered -a '^pvescope-vm:' >&2
	wait "$QEMU_PID"
	qrc=$?
	QEMU_PID=
fi
set -e
log "guest ran ${ACCEL} for $(elapsed "$t0")s (qemu exit status $qrc)"
[[ $qrc -eq 124 ]] && { tail -n 60 "$CONSOLE" >&2; fail "the guest did not power off within ${VM_TIMEOUT:-240}s"; }

# ------------------------------------------------------------------ check
set +e
python3 "$HERE/check.py" --console "$CONSOLE" --out "$WORK/dumps" \
	--node "$NODE" --cluster "$CLUSTER" --worn-warning "$WORN_WARNING"
crc=$?
set -e
log "total $(elapsed "$T_START")s"
if [[ $crc -ne 0 ]]; then
	if [[ $crc -eq 1 ]]; then
		for s in agent-log aggregator-log; do
			echo "---- $s ----" >&2
			cat "$WORK/dumps/$s.txt" >&2 2>/dev/null
		done
		echo "(every section of the console as a file: $WORK/dumps)" >&2
	else
		echo "---- guest console ($CONSOLE), last 150 lines ----" >&2
		tail -n 150 "$CONSOLE" >&2
	fi
	fail "check.py found $([[ $crc -eq 1 ]] && echo "mismatches" || echo "an error (status $crc)")"
fi
exit 0
