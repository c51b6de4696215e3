#!/bin/sh
# test.sh — the whole test suite: unit + end-to-end tests in a Debug build,
# the same again under AddressSanitizer + UndefinedBehaviorSanitizer, then
# every libFuzzer target for a short bounded time.
# Usage: scripts/test.sh            (FUZZ_SECONDS=N to change the fuzz time)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh" test
jobs=$(nproc)

run_suite() {   # $1 = build dir, $2 = build type, $3 = compiler
  cmake -S "$root" -B "$1" -DCMAKE_BUILD_TYPE="$2" -DCMAKE_C_COMPILER="$3" >/dev/null
  cmake --build "$1" -j"$jobs"
  ctest --test-dir "$1" --output-on-failure --no-tests=error -j"$jobs"
}

echo "== Debug build: unit and end-to-end tests"
run_suite "$root/build/debug" Debug gcc
echo "== ASan + UBSan build: unit and end-to-end tests"
run_suite "$root/build/asan" Asan gcc
echo "== libFuzzer targets (${FUZZ_SECONDS:-20}s each)"
cmake -S "$root" -B "$root/build/fuzz" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DPVESCOPE_FUZZ=ON >/dev/null
cmake --build "$root/build/fuzz" -j"$jobs"
"$root/tests/fuzz/run.sh" "$root/build/fuzz" "${FUZZ_SECONDS:-20}"
echo "== all tests passed"
