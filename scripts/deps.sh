#!/bin/sh
# deps.sh — install what building and testing pvescope needs (Debian 12, root).
# Usage: scripts/deps.sh [build|test]   (default: test, which is a superset)
# Idempotent: does nothing when every package is already installed.
set -eu
what=${1:-test}
# libyaml, GnuTLS and libcrypt (libxcrypt): the aggregator's --web.config.file.
# libsnappy-dev and libcurl4-gnutls-dev: the aggregator's --remote-write.url
# (snappy-compressed protobuf over HTTP(S), TLS through the GnuTLS we link anyway).
# libisal-dev (Intel ISA-L, igzip): gzip of /metrics streamed from the
# pre-rendered pieces, with no copy of the whole text, faster than libdeflate
# at level 1 (docs/decisions.md).
build_pkgs="cmake make gcc pkg-config protobuf-c-compiler libprotobuf-c-dev libnanomsg-dev
  libsodium-dev libmicrohttpd-dev zlib1g-dev curl libsensors-dev libyaml-dev libgnutls28-dev libcrypt-dev
  libsnappy-dev libcurl4-gnutls-dev libisal-dev"
# openssl (certificates) and apache2-utils (htpasswd -B: bcrypt hashes, as the
# exporter-toolkit docs make them) for the web config and container tests;
# valgrind for e2e_valgrind (memcheck on the end-to-end cluster run);
# victoria-metrics: the second real remote_write receiver of e2e_remote_write
# (Prometheus is the first).
test_pkgs="libcmocka-dev prometheus clang libclang-rt-14-dev python3 python3-yaml iproute2 util-linux
  chromium fonts-dejavu-core openssl apache2-utils valgrind victoria-metrics"
# The QEMU guest test (tests/vm): the emulator, the kernel's own tools as
# oracles, and what the busybox initramfs is built from.
vm_pkgs="qemu-system-x86 nvme-cli lm-sensors lvm2 thin-provisioning-tools busybox-static cpio kmod
  xz-utils"
# wrk scrapes the aggregator and prometheus-pushgateway in fleet_vs_pushgateway.sh.
# libdeflate-dev: pvescope-bench-aggregator render compares the streamed gzip
# with libdeflate's one-shot compression of the whole text (what /metrics did
# before); the bench is built with the tests.
bench_pkgs="prometheus-node-exporter hyperfine prometheus-pushgateway wrk libdeflate-dev"
# The packaging tests (tests/packaging, tests/container, tests/man):
# dpkg-buildpackage with debhelper, lintian, systemd-analyze (systemd), a
# debootstrap root checked against the archive keyring, ps (procps), the
# container image build (buildah) and the man page lint (groff).
pkg_pkgs="dpkg-dev debhelper lintian systemd debootstrap debian-archive-keyring gpgv procps buildah
  groff-base"
pkgs=$build_pkgs
[ "$what" = build ] || pkgs="$pkgs $test_pkgs $vm_pkgs $bench_pkgs $pkg_pkgs"

missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: need root to apt-get install:$missing" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Packaged daemons (prometheus, node_exporter) must not start on install:
# the tests start their own instances on free ports.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
