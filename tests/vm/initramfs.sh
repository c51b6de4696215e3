#!/usr/bin/env bash
# initramfs.sh — the guest's whole root file system, as one uncompressed cpio:
# busybox-static, the kernel's own tools the test uses as oracles (nvme-cli,
# lm-sensors, dmsetup, lvm, thin_check), the pvescope binaries under test
# with every shared library ldd names (libasan/libubsan in the Asan build),
# the kernel modules nvme and dm-thin-pool need in load order, and the guest
# scripts of tests/vm/guest.
#
# usage: initramfs.sh KERNEL_ROOT KVER OUT.cpio VM_CONF AGENT AGGREGATOR
#   KERNEL_ROOT  a linux-image .deb unpacked with dpkg -x (depmod already run)
set -euo pipefail

[[ $# -eq 6 ]] || { echo "usage: $0 KERNEL_ROOT KVER OUT.cpio VM_CONF AGENT AGGREGATOR" >&2; exit 2; }
KROOT=$1 KVER=$2 OUT=$3 CONF=$4 AGENT=$5 AGGREGATOR=$6
GUEST=$(cd "$(dirname "${BASH_SOURCE[0]}")/guest" && pwd)
ROOT=$(mktemp -d "${TMPDIR:-/tmp}/pvescope-vm-root.XXXXXX")
trap 'rm -rf "$ROOT"' EXIT

# merged-/usr, as on the host: the paths ldd prints resolve unchanged
mkdir -p "$ROOT"/{usr/bin,usr/sbin,usr/lib,usr/lib64,usr/local/bin,etc/lvm,proc,sys,dev,run,tmp,root,var/lib/vz}
ln -s usr/bin "$ROOT/bin"
ln -s usr/sbin "$ROOT/sbin"
ln -s usr/lib "$ROOT/lib"
ln -s usr/lib64 "$ROOT/lib64"

# put SRC [DEST]: a file (symlinks followed) at DEST, once
put() {
	local src=$1 dst=${2:-$1}
	[[ -e $ROOT$dst ]] && return 0
	mkdir -p "$ROOT$(dirname "$dst")"
	cp -L "$src" "$ROOT$dst"
}

# put_exec SRC [DEST]: an executable and every shared object ldd resolves
put_exec() {
	local src=$1 dst=${2:-$1} lib deps
	[[ -e $src ]] || { echo "initramfs: missing $src" >&2; exit 1; }
	rm -f "$ROOT$dst"          # a busybox applet link of the same name
	put "$src" "$dst"
	deps=$(ldd "$src" 2>&1) || deps=""    # a static binary: nothing to add
	if [[ $deps == *"not found"* ]]; then
		echo "initramfs: $src has unresolved libraries:" >&2
		echo "$deps" >&2
		exit 1
	fi
	# "libx.so.1 => /lib/x86_64-linux-gnu/libx.so.1 (0x...)", "/lib64/ld-linux-x86-64.so.2 (0x...)"
	for lib in $(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$deps"); do
		put "$lib"
	done
}

put /bin/busybox /usr/bin/busybox
for applet in $(/usr/bin/busybox --list-full); do
	[[ -e $ROOT/$applet || -L $ROOT/$applet ]] || ln -s /usr/bin/busybox "$ROOT/$applet"
done

for tool in nvme sensors lvm dmsetup pdata_tools; do
	put_exec "$(command -v "$tool")"
done
for l in pvcreate vgcreate lvcreate lvs vgs pvs lvchange vgchange; do
	ln -sf lvm "$ROOT$(dirname "$(command -v lvm)")/$l"
done
for t in thin_check thin_dump thin_repair; do
	ln -sf pdata_tools "$ROOT$(dirname "$(command -v pdata_tools)")/$t"
done
put_exec "$AGENT" /usr/local/bin/pvescope-agent
put_exec "$AGGREGATOR" /usr/local/bin/pvescope-aggregator

put /etc/sensors3.conf
[[ -d /etc/sensors.d ]] && mkdir -p "$ROOT/etc/sensors.d"
echo "root:x:0:0:root:/root:/bin/sh" >"$ROOT/etc/passwd"
echo "root:x:0:" >"$ROOT/etc/group"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$ROOT/etc/hosts"
install -m 0644 "$GUEST/lvm.conf" "$ROOT/etc/lvm/lvm.conf"
install -m 0644 "$CONF" "$ROOT/etc/pvescope-vm.conf"
install -m 0755 "$GUEST/init" "$ROOT/init"
install -m 0755 "$GUEST/scenario.sh" "$ROOT/usr/local/bin/scenario.sh"
mkdir -p "$ROOT/etc/pve"
cp -a "$GUEST/etc-pve/." "$ROOT/etc/pve/"

# Kernel modules: the dependency closure (soft dependencies included, e.g.
# crc64-rocksoft for t10-pi) in load order, as the host's modprobe computes
# it from the unpacked kernel. The guest insmods /etc/modules.load in order.
MODDIR=$KROOT/lib/modules/$KVER
for m in nvme dm-thin-pool crc32c_generic; do
	modprobe -C /dev/null -d "$KROOT" -S "$KVER" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++' >"$ROOT/etc/modules.paths"
[[ -s $ROOT/etc/modules.paths ]] || { echo "initramfs: no modules found in $MODDIR" >&2; exit 1; }
: >"$ROOT/etc/modules.load"
while read -r ko; do
	rel=${ko#"$MODDIR"/}
	mkdir -p "$ROOT/lib/modules/$KVER/$(dirname "$rel")"
	cp "$ko" "$ROOT/lib/modules/$KVER/$rel"
	echo "$rel" >>"$ROOT/etc/modules.load"
done <"$ROOT/etc/modules.paths"
rm "$ROOT/etc/modules.paths"
cp "$MODDIR"/modules.{order,builtin,builtin.modinfo} "$ROOT/lib/modules/$KVER/"
depmod -b "$ROOT" "$KVER"   # so the kernel's request_module finds them too

# Uncompressed: nothing to decompress in the guest, which matters under TCG.
(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
