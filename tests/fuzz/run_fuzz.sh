#!/usr/bin/env bash
# Runs every libFuzzer target of a Fuzz build for SECONDS each (docs/reliability.md "Fuzzing").
#   tests/fuzz/run_fuzz.sh BUILD_DIR SECONDS [TARGET ...]
# Each target starts from its seeds and its regression corpus (copied: the repository is not written), with
# ASan + UBSan, a 10 s per-input timeout (a hang is a failure) and a 2 GB memory limit. A crash, hang or
# sanitizer report stops with exit 1 and names the input, saved as OUT/crash-<target>-*; add it to
# tests/fuzz/regress/<target>/ with the fix, and ctest replays it from then on. Prints executions and coverage
# (libFuzzer's cov: edges, ft: features) per target.
set -uo pipefail
build=${1:?usage: run_fuzz.sh BUILD_DIR SECONDS [TARGET ...]}
secs=${2:?usage: run_fuzz.sh BUILD_DIR SECONDS [TARGET ...]}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(csv number market panel_cache config problem targets model import results)
out=${FUZZ_OUT:-$(mktemp -d /tmp/zz-fuzz-run.XXXXXX)}
mkdir -p "$out"
failed=0
printf '%-12s %10s %8s %8s %8s  %s\n' target execs exec/s cov ft result
for t in "${targets[@]}"; do
  bin="$build/tests/fuzz/fuzz_$t"
  if [ ! -x "$bin" ]; then
    echo "run_fuzz: $bin not built (cmake -S . -B BUILD -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Fuzz)" >&2
    exit 2
  fi
  corpus="$out/corpus-$t"
  mkdir -p "$corpus"
  cp -r "$here/seeds/$t/." "$corpus/"
  [ -d "$here/regress/$t" ] && cp -r "$here/regress/$t/." "$corpus/"
  log="$out/$t.log"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$bin" "$corpus" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$out/crash-$t-" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  if [ $rc -eq 0 ]; then
    res=ok
  else
    res="FAILED (exit $rc): $(ls "$out"/crash-"$t"-* 2>/dev/null | tr '\n' ' ')"
    failed=1
    tail -40 "$log" >&2
  fi
  printf '%-12s %10s %8s %8s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$res"
done
echo "logs and corpora in $out"
exit $failed
