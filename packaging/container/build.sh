#!/bin/sh
# build.sh — build the aggregator image with buildah (no daemon needed).
#
# Usage: packaging/container/build.sh [TAG]        (default TAG: localhost/pvescope-aggregator:latest)
#   BASE=IMAGE   use this base image (e.g. docker.io/library/debian:12-slim) as is.
#   Without BASE, the base is a Debian 12 minbase root made with debootstrap from
#   the Debian archive (MIRROR, default http://deb.debian.org/debian), cached as
#   $PVESCOPE_CACHE/bookworm-minbase.tar (default /var/cache/pvescope) and kept
#   in buildah's storage as localhost/pvescope-debian-base:bookworm, so only the
#   first run needs debootstrap.
#   BUILDAH_OPTS  global buildah options, e.g. "--root DIR --runroot DIR".
#   BUD_OPTS      more `buildah bud` options, e.g. "--layers" to keep a layer
#                 cache (with vfs every layer is a full copy: several GB).
# Isolation is chroot and storage vfs: works as root without a daemon, without
# user namespaces or overlayfs. Needs root, buildah and debootstrap.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
tag=${1:-localhost/pvescope-aggregator:latest}
cache=${PVESCOPE_CACHE:-/var/cache/pvescope}
mirror=${MIRROR:-http://deb.debian.org/debian}
base_tag=localhost/pvescope-debian-base:bookworm
# shellcheck disable=SC2086
bh() { buildah --storage-driver vfs ${BUILDAH_OPTS:-} "$@"; }

make_base() {
  tarball=$cache/bookworm-minbase.tar
  if [ ! -s "$tarball" ]; then
    mkdir -p "$cache"
    tmp=$(mktemp -d "$cache/rootfs.XXXXXX")
    echo "build.sh: debootstrap bookworm (minbase) from $mirror" >&2
    debootstrap --variant=minbase bookworm "$tmp" "$mirror" >"$tmp.log" 2>&1 || {
      cat "$tmp.log" >&2; rm -rf "$tmp" "$tmp.log"; exit 1; }
    # What debian:12-slim has: the release, its updates and security updates;
    # no package lists or downloaded packages.
    cat >"$tmp/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
SOURCES
    rm -rf "$tmp"/var/cache/apt/archives/*.deb "$tmp"/var/cache/apt/*.bin "$tmp"/var/lib/apt/lists/*
    mkdir -p "$tmp/var/lib/apt/lists/partial"
    tar -C "$tmp" --numeric-owner -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$tmp" "$tmp.log"
  fi
  echo "build.sh: importing $tarball as $base_tag" >&2
  ctr=$(bh from scratch)
  bh add "$ctr" "$tarball" / >/dev/null
  bh config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --cmd /bin/bash --os linux --arch "$(dpkg --print-architecture)" "$ctr"
  bh commit --quiet --rm "$ctr" "$base_tag" >/dev/null
}

if [ -z "${BASE:-}" ]; then
  bh inspect --type image "$base_tag" >/dev/null 2>&1 || make_base
  BASE=$base_tag
fi
echo "build.sh: building $tag from $BASE" >&2
# shellcheck disable=SC2086
bh bud --isolation chroot --format docker --pull-never ${BUD_OPTS:-} \
  --build-arg BASE="$BASE" -f "$here/Containerfile" -t "$tag" "$src"
