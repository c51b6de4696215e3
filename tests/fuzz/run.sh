#!/bin/sh
# run.sh — run every libFuzzer target for a bounded time from its seed corpus.
# Usage: tests/fuzz/run.sh BUILD_DIR [SECONDS_PER_TARGET]
# Fails (non-zero) on the first crash, leak, sanitizer report or timeout.
set -eu
build=$(cd "$1" && pwd)
secs=${2:-20}
here=$(cd "$(dirname "$0")" && pwd)
for t in fuzz_envelope fuzz_report fuzz_pbdecode fuzz_members fuzz_keyring fuzz_proc fuzz_pve fuzz_guests fuzz_nvme_smart \
         fuzz_thinpool fuzz_zfs fuzz_sensors_raw fuzz_webconfig fuzz_rw_series; do
  work=$(mktemp -d)
  # Seeds are read-only inputs; new finds go to a scratch corpus.
  seeds=$here/seeds/$t
  mkdir -p "$work/corpus"
  echo "fuzz: $t for ${secs}s"
  if ! (cd "$work" && "$build/tests/fuzz/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 "$work/corpus" "$seeds" >"$work/log" 2>&1); then
    tail -n 60 "$work/log"
    echo "fuzz: $t FAILED (reproducer, if any, in $work)" >&2
    exit 1
  fi
  grep -E '^stat::number_of_executed_units|^Done' "$work/log" | tr '\n' ' '
  echo
  rm -rf "$work"
done
