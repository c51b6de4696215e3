#!/bin/sh
# build-debs.sh — build the pvescope-agent and pvescope-aggregator .debs.
# Usage: packaging/build-debs.sh OUTDIR
#
# The Debian packaging lives in packaging/debian, not in a top-level debian/:
# this script copies the working tree (without build/, .git, .local) to a
# temporary directory, puts packaging/debian there as debian/ and runs
# dpkg-buildpackage -us -uc -b in that copy. The tree itself stays free of
# debhelper's output, and the package is built from exactly the sources
# (committed or not) that are in the tree. Needs dpkg-dev, debhelper and the
# build dependencies of packaging/debian/control (scripts/deps.sh test).
set -eu
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)

# The package version is the changelog's; it must be the one the binaries print.
deb_version=$(dpkg-parsechangelog -l "$root/packaging/debian/changelog" -S Version)
cmake_version=$(sed -n 's/^project(pvescope VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
if [ "${deb_version%%-*}" != "$cmake_version" ]; then
    echo "build-debs: packaging/debian/changelog has $deb_version, CMakeLists.txt $cmake_version" >&2
    exit 1
fi

work=$(mktemp -d /tmp/pvescope-debs.XXXXXX)
trap 'rm -rf "$work"' EXIT
src="$work/pvescope-$deb_version"
mkdir "$src"
tar -C "$root" --exclude=./build --exclude=./.git --exclude=./.local --exclude=./debian -cf - . |
    tar -C "$src" -xf -
cp -r "$root/packaging/debian" "$src/debian"

jobs=$(nproc 2>/dev/null || echo 1)
(
    cd "$src"
    DEB_BUILD_OPTIONS="nocheck parallel=$jobs" dpkg-buildpackage -us -uc -b
)
for f in "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo; do
    [ -e "$f" ] && mv "$f" "$out/"
done
ls "$out"/pvescope-agent_"$deb_version"_*.deb "$out"/pvescope-aggregator_"$deb_version"_*.deb
