#!/bin/bash
# The gateway under sanitizers (issue 5, "Sanitizers"):
#   asan: make -C gateway asan (ASan+UBSan build in gateway/build-asan, unit tests run under it), then every
#         HTTP integration test (test/gateway/) and the stress below against gateway/build-asan/livestore-gateway;
#   tsan: make -C gateway tsan (gateway/build-tsan, unit tests), then the long-poll tests (pull, proxy,
#         shutdown) and a concurrency stress (live polls, polls hung up on, pushes, SIGTERM under held
#         polls; built in and in proxy mode) against the ThreadSanitizer gateway.
# A sanitizer report aborts the gateway (halt_on_error, abort_on_error), so the tests fail; every gateway
# log is also scanned for reports. Exits non-zero on any failure or report.
#
#   bash test/sanitizers.sh [asan] [tsan]      (default: both; needs the extension installed: make install)
#
# Logs: build/sanitizers/<mode>/gw-*/gateway.log (the harness's work folder for this run).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
REPORT='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|WARNING: ThreadSanitizer|ERROR: ThreadSanitizer'
modes=("$@")
[ ${#modes[@]} -eq 0 ] && modes=(asan tsan)
failed=""

# The stress (both modes; written for TSan, useful to ASan for hung-up polls), built in and through a
# proxy gateway (P --electric-url B, B --shape-api): several stores, each with live pollers following the log, pollers that hang up mid-poll, and one writer; then
# SIGTERM while polls are held. Checks every poller saw every event and every held poll got a 200.
stress() {
  ROOT="$ROOT" timeout 300 node --input-type=module -e '
    // On timeout: exit normally, so the harness stops its Postgres and gateways.
    process.once("SIGTERM", () => { console.error("stress: timed out"); process.exit(1) })
    const root = process.env.ROOT
    const { startCluster, startGateway } = await import(`${root}/test/lib/harness.mjs`)
    const { events, pull, pushBatch, inserts } = await import(`${root}/test/gateway/lib.mjs`)
    const STORES = 4, POLLERS = 5, QUITTERS = 2, BATCHES = 12
    const sleep = (ms) => new Promise((res) => setTimeout(res, ms))
    let failures = 0
    const fail = (msg) => { failures++; console.error(msg) }
    const pg = await startCluster()
    const gws = []
    try {
      for (const mode of ["built-in", "proxy"]) {
        let gw
        if (mode === "built-in") {
          gw = await startGateway({ databaseUrl: pg.url, longPollTimeout: 2 })
        } else {
          const backend = await startGateway({ databaseUrl: pg.url, shapeApi: true, shapeSecret: "sek", longPollTimeout: 2 })
          gws.push(backend)
          gw = await startGateway({ databaseUrl: pg.url, electricUrl: backend.url, electricSecret: "sek", longPollTimeout: 2 })
        }
        gws.push(gw)
        let writing = true
        // Where a new client starts: handle None, then the headers of that answer (offset unflagged).
        const position = async (storeId) => {
          const r = await pull(gw.endpoint, { storeId, live: false })
          if (r.status !== 200) throw new Error(`${mode} ${storeId}: first pull ${r.status} ${JSON.stringify(r.body)}`)
          return { handle: r.headers.get("electric-handle"), offset: r.headers.get("electric-offset").replace(/~$/, ""), n: inserts(r.body).length }
        }
        const poller = async (storeId, until) => {
          let { handle, offset, n: seen } = await position(storeId)
          while (seen < until) {
            const r = await pull(gw.endpoint, { storeId, handle, offset, live: true })
            if (r.status !== 200) return fail(`${mode} ${storeId}: pull ${r.status} ${JSON.stringify(r.body)}`)
            seen += inserts(r.body).length
            offset = r.headers.get("electric-offset")
            handle = r.headers.get("electric-handle") ?? handle
          }
          if (seen !== until) fail(`${mode} ${storeId}: saw ${seen} events, want ${until}`)
        }
        const quitter = async (storeId) => {  // live polls abandoned after a random while
          const { handle, offset } = await position(storeId)
          while (writing) {
            const ms = 20 + Math.floor(Math.random() * 300)
            await pull(gw.endpoint, { storeId, handle, offset, live: true }, { timeout: ms }).catch(() => sleep(10))
          }
        }
        const writer = async (storeId) => {
          for (let b = 0; b < BATCHES; b++) {
            const r = await pushBatch(gw.endpoint, storeId, events(2 * b + 1, 2 * b + 2))
            if (r.status !== 200) return fail(`${mode} ${storeId}: push ${r.status} ${r.text}`)
            await sleep(5 + Math.random() * 20)
          }
        }
        const pollers = [], quitters = [], writers = []
        for (let s = 0; s < STORES; s++) {
          const id = `stress-${mode === "proxy" ? "p" : "b"}${s}`
          for (let p = 0; p < POLLERS; p++) pollers.push(poller(id, 2 * BATCHES))
          for (let q = 0; q < QUITTERS; q++) quitters.push(quitter(id))
          writers.push(writer(id))
        }
        await Promise.all(writers)
        await Promise.all(pollers)
        writing = false
        await Promise.all(quitters)
        // SIGTERM with polls held: every one is answered 200, the process exits 0.
        const heads = await Promise.all(Array.from({ length: STORES }, (_, s) => position(`stress-${mode === "proxy" ? "p" : "b"}${s}`)))
        const held = Array.from({ length: 10 }, (_, i) =>
          pull(gw.endpoint, { storeId: `stress-${mode === "proxy" ? "p" : "b"}${i % STORES}`, ...heads[i % STORES], live: true }))
        await sleep(300)
        const exit = await gw.stop("SIGTERM")
        if (exit.code !== 0) fail(`${mode}: gateway exit ${JSON.stringify(exit)}`)
        for (const r of await Promise.all(held)) if (r.status !== 200) fail(`${mode}: held poll answered ${r.status}`)
        console.log(`stress ${mode}: ${STORES} stores x (${POLLERS} pollers + ${QUITTERS} hanging up), ${BATCHES} batches each`)
      }
    } catch (e) {
      fail(e.stack)
    } finally {
      for (const gw of gws) await gw.stop()
      await pg.stop()
    }
    console.log(`stress: ${failures ? "FAILED" : "ok"}`)
    process.exit(failures ? 1 : 0)
  '
}

if [ ! -f "$(pg_config --sharedir)/extension/livestore.control" ]; then
  echo "the livestore extension is not installed: run make && make install first" >&2
  exit 1
fi

for mode in "${modes[@]}"; do
  case "$mode" in
    asan) tests=(test/gateway/) ;;
    tsan) tests=(test/gateway/pull.test.mjs test/gateway/proxy.test.mjs test/gateway/proxy-cancel.test.mjs test/gateway/shutdown.test.mjs
                 test/gateway/jwt.test.mjs) ;;  # jwt: the JWKS thread against request threads
    *) echo "unknown mode $mode (asan or tsan)"; exit 2 ;;
  esac
  echo "=== $mode: build + unit tests (make -C gateway $mode)"
  t0=$(date +%s)
  mkdir -p build/sanitizers
  build_log="build/sanitizers/$mode-build.log"
  if ! make -s -C gateway "$mode" >"$build_log" 2>&1; then
    tail -n 40 "$build_log"
    failed="$failed $mode-build"; continue
  fi
  echo "    $(grep -E '^\[  (PASSED|FAILED)' "$build_log" | tr -s ' ') ($(( $(date +%s) - t0 )) s, log $build_log)"

  work="$ROOT/build/sanitizers/$mode"
  rm -rf "$work" && mkdir -p "$work"
  export LIVESTORE_TEST_TMP="$work"
  export LIVESTORE_GATEWAY="$ROOT/gateway/build-$mode/livestore-gateway"
  export ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1
  export UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
  export TSAN_OPTIONS=halt_on_error=1:abort_on_error=1:second_deadlock_stack=1

  echo "=== $mode: HTTP tests against $LIVESTORE_GATEWAY"
  t0=$(date +%s)
  node --test --test-concurrency=1 --test-reporter=dot "${tests[@]}" || failed="$failed $mode-http"
  stress || failed="$failed $mode-stress"
  echo "    $(( $(date +%s) - t0 )) s"

  reports=$(grep -rlE "$REPORT" "$work" --include=gateway.log 2>/dev/null)
  if [ -n "$reports" ]; then
    failed="$failed $mode-reports"
    for log in $reports; do
      echo "--- sanitizer report in $log"
      # The report's head, then the frames in our own code (a deep recursion repeats one frame for pages).
      line=$(grep -m 1 -n -E "$REPORT" "$log" | cut -d: -f1)
      sed -n "$line,$((line + 8))p" "$log" | cut -c1-300
      echo "    ... frames in gateway/ and extension/ sources:"
      frames=$(tail -n +"$line" "$log" | grep -E '^ +#[0-9]+ .*(/gateway/(src|include)/|/extension/(src|include)/)' |
        awk '!seen[$0]++' | head -n 15 | cut -c1-300)
      echo "${frames:-    (none printed: a stack overflow shows only the innermost frames)}"
    done
  else
    echo "    no sanitizer report in $(find "$work" -name gateway.log | wc -l) gateway logs"
  fi
  unset LIVESTORE_TEST_TMP LIVESTORE_GATEWAY
done

echo
[ -n "$failed" ] && { echo "sanitizers: FAILED:$failed"; exit 1; }
echo "sanitizers: ok (${modes[*]})"
