#!/bin/sh
# test.sh — the whole test suite: unit + end-to-end tests in a Debug build,
# the same again under AddressSanitizer + UndefinedBehaviorSanitizer, then
# every libFuzzer target for a short bounded time.
# Usage: scripts/test.sh            (FUZZ_SECONDS=N to change the fuzz time)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh" test
jobs=$(nproc)

# ctest counts a skipped test (exit 77) as passed. Here every prerequisite
# has just been installed, so a skip means something is broken: fail on it
# unless ALLOW_SKIPS=1 (for machines that cannot run, say, a mount namespace).
run_suite() {   # $1 = build dir, $2 = build type, $3 = compiler
  cmake -S "$root" -B "$1" -DCMAKE_BUILD_TYPE="$2" -DCMAKE_C_COMPILER="$3" >/dev/null
  cmake --build "$1" -j"$jobs"
  log="$1/ctest.log"
  { ctest --test-dir "$1" --output-on-failure --no-tests=error -j"$jobs"; echo $? > "$log.rc"; } 2>&1 | tee "$log"
  [ "$(cat "$log.rc")" = 0 ] || exit 1
  if grep -q "The following tests did not run" "$log" && [ "${ALLOW_SKIPS:-0}" != 1 ]; then
    echo "test.sh: tests were skipped (see above); set ALLOW_SKIPS=1 to accept that" >&2
    exit 1
  fi
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
