#!/usr/bin/env bash
# Builds every fuzz target of fuzz/ and runs each for SECONDS (default 20) on the stable
# toolchain: cargo-fuzz with `--sanitizer none` (libFuzzer's coverage-guided engine with
# sanitizer-coverage instrumentation, which stable rustc accepts; AddressSanitizer would need
# `-Zsanitizer`, i.e. nightly — camr forbids unsafe code, so what ASan adds is little). Installs
# cargo-fuzz (into target/tools/cargo-fuzz) and a C++ compiler (libFuzzer is C++) when missing.
#
#   scripts/fuzz.sh 20              # every target, 20 s each (CI)
#   scripts/fuzz.sh 3600 cert_chain # one target, an hour
#
# The committed seeds (fuzz/seeds/<target>/) are read, never written: new inputs go to
# fuzz/target/corpus/<target>/, crashes to fuzz/artifacts/<target>/. Prints one line per target
# (executions, coverage, corpus, result) and exits 1 if any target found a crash, a timeout or
# an out-of-memory. Reproduce a finding with
#   target/tools/cargo-fuzz/bin/cargo-fuzz run --fuzz-dir fuzz -s none -O -a TARGET fuzz/artifacts/TARGET/crash-…
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-20}"
shift || true
root="$PWD"
tools="$root/target/tools"
cargo_fuzz="$tools/cargo-fuzz/bin/cargo-fuzz"
fuzz_version="0.13.2"

if ! command -v c++ >/dev/null 2>&1; then
  echo "fuzz: installing g++ (libFuzzer is C++)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++ >/dev/null
fi
if [ ! -x "$cargo_fuzz" ] || ! "$cargo_fuzz" --version 2>/dev/null | grep -q "$fuzz_version"; then
  echo "fuzz: installing cargo-fuzz $fuzz_version into $tools/cargo-fuzz"
  cargo install cargo-fuzz --locked --version "=$fuzz_version" --root "$tools/cargo-fuzz" \
    --target-dir "$tools/cargo-fuzz-build"
  rm -rf "$tools/cargo-fuzz-build"
fi

# The fuzz workspace has its own target dir (instrumented builds never mix with the rest).
unset CARGO_TARGET_DIR
fdir=(--fuzz-dir fuzz)
opts=(--fuzz-dir fuzz --sanitizer none --release --debug-assertions)
echo "fuzz: building the targets (release, debug assertions, sanitizer-coverage)"
"$cargo_fuzz" build "${opts[@]}"

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <("$cargo_fuzz" list "${fdir[@]}")
fi
summary="fuzz/target/fuzz-summary.tsv"
mkdir -p fuzz/target
# Targets run side by side, one per core (each libFuzzer process is single-threaded); set
# FUZZ_JOBS to change it. Rows are printed in target order once all have ended.
jobs_max="${FUZZ_JOBS:-$(nproc)}"

# Runs target $1 for $secs and writes its summary row to fuzz/target/$1.row.
run_one() {
  local t="$1" corpus="fuzz/target/corpus/$1" seeds="fuzz/seeds/$1" log="fuzz/target/$1.log"
  local status execs done_line cov ft units result
  mkdir -p "$corpus" "$seeds" "fuzz/artifacts/$t"
  set +e
  "$cargo_fuzz" run "${opts[@]}" "$t" "$corpus" "$seeds" -- \
    -max_total_time="$secs" -timeout=20 -rss_limit_mb=2560 -max_len=1048576 \
    -print_final_stats=1 -close_fd_mask=3 >"$log" 2>&1
  status=$?
  set -e
  execs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -1)
  done_line=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE|INITED)' "$log" | tail -1)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$done_line")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$done_line")
  units=$(find "$corpus" -type f | wc -l)
  if [ "$status" -eq 0 ]; then
    result=ok
  else
    result="FAILED (exit $status; see $log and fuzz/artifacts/$t/)"
    grep -E 'panicked at|ERROR: libFuzzer|SUMMARY' "$log" | head -5 >&2 || true
  fi
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$secs" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$units" "$result" \
    >"fuzz/target/$t.row"
}

echo "fuzz: ${#targets[@]} targets, ${secs} s each, ${jobs_max} at a time"
for t in "${targets[@]}"; do
  rm -f "fuzz/target/$t.row"
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
  run_one "$t" &
done
wait
printf 'target\tseconds\texecutions\tcov\tft\tcorpus\tresult\n' >"$summary"
failed=0
for t in "${targets[@]}"; do
  row="fuzz/target/$t.row"
  if [ ! -s "$row" ]; then
    printf '%s\t%s\t?\t?\t?\t?\tFAILED (no result)\n' "$t" "$secs" >"$row"
  fi
  grep -q 'FAILED' "$row" && failed=1
  tee -a "$summary" <"$row"
done
echo "fuzz: summary in $summary"
exit "$failed"
