#!/bin/sh
# Runs libFuzzer targets: first every regression input once, then fuzzing for
# SECONDS per target. Called by `make fuzz-smoke` and `make fuzz`
# (gateway/Makefile); see fuzz/README.md.
#
#   sh fuzz/run.sh BUILD_DIR SECONDS TARGET...     (from gateway/)
#
# Scratch corpora grow in BUILD_DIR/corpus/<target> (the committed seeds in
# fuzz/corpus/<target> are only read). A crash leaves
# BUILD_DIR/artifacts/<target>-crash-<sha1>; the log is
# BUILD_DIR/logs/<target>.log. Exits non-zero when any target found anything.
set -u
build="$1" seconds="$2"
shift 2
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
mkdir -p "$build/logs" "$build/artifacts"

# Inputs too large to commit, generated: a push whose args nest 1,000,000
# arrays deep (2 MB, under the default --max-body-bytes of 4 MiB).
deep="$build/regressions/fuzz_push_payload/deep-args-1000000.json"
if [ ! -s "$deep" ]; then
  mkdir -p "$(dirname "$deep")"
  {
    printf '{"_tag":"@livestore/sync-electric.Push","storeId":"s","batch":[{"name":"n","seqNum":1,'
    printf '"parentSeqNum":0,"clientId":"c","sessionId":"s","args":'
    head -c 1000000 /dev/zero | tr '\0' '['
    head -c 1000000 /dev/zero | tr '\0' ']'
    printf '}]}'
  } >"$deep"
fi

failed=""
for t in "$@"; do
  bin="$build/$t" log="$build/logs/$t.log"
  mkdir -p "$build/corpus/$t"
  : >"$log"
  start=$(date +%s)

  # 1. Regressions: every input once (committed ones, then generated ones),
  # each on its own so that every failing one is listed.
  bad=0
  for input in $(find "fuzz/regressions/$t" "$build/regressions/$t" -type f 2>/dev/null | sort); do
    if ! "$bin" "$input" >>"$log" 2>&1; then
      [ $bad -eq 0 ] && echo "FAIL $t: regression inputs still fail (log: $log; reproduce in gateway/: $bin <file>)"
      bad=$((bad + 1))
      echo "    $input:"
      grep -E 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|==FUZZ FINDING==|uncaught' "$log" |
        tail -n 1 | cut -c1-240 | sed 's/^/      /'
    fi
  done
  if [ $bad -gt 0 ]; then
    failed="$failed $t"
    continue
  fi

  # 2. Fuzzing.
  if "$bin" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
      -dict="fuzz/dict/$t.dict" -artifact_prefix="$build/artifacts/$t-" -print_final_stats=1 \
      "$build/corpus/$t" "fuzz/corpus/$t" >>"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1)
    echo "ok   $t: ${runs:-?} runs in $(( $(date +%s) - start )) s, $cov, corpus $(ls "$build/corpus/$t" | wc -l) files"
  else
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    echo "FAIL $t after $(( $(date +%s) - start )) s (log: $log)"
    grep -E 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|==FUZZ FINDING==|SUMMARY:|deadly signal|uncaught' "$log" |
      head -n 6 | cut -c1-240 | sed 's/^/    /'
    [ -n "$artifact" ] && echo "    reproduce (in gateway/): $bin $artifact"
    failed="$failed $t"
  fi
done

[ -z "$failed" ] || { echo "fuzz: findings in:$failed"; exit 1; }
