// The soak test (make soak; not part of make test): a throwaway cluster and
// one gateway (built-in pulls, the default long-poll timeout), then N minutes
// of mixed load from HTTP-level clients in this process: writers pushing
// chained batches (two per store, so they race and rebase on 409) and live
// readers following electric-offset/-handle like the stock client (flagged
// offsets included). Every 10 s the gateway's RSS, threads, open files and
// request count are sampled. At the end: RSS over time and whether it grows
// (median of the middle third of the run against the last third),
// requests served, and an exact audit: every acknowledged event is in the log
// exactly once, nothing else is, and every reader received its store's whole
// log once, in order. Exit status 0 only when the audit is clean, no reader
// failed and RSS did not grow beyond the threshold.
//
// Environment: SOAK_MINUTES (10), SOAK_WRITERS (50), SOAK_READERS (200),
// SOAK_STORES (25), SOAK_PUSH_INTERVAL_MS (1000: mean pause between one
// writer's pushes), SOAK_MAX_BATCH (5), SOAK_LONG_POLL (20 s),
// SOAK_SAMPLE_S (10), SOAK_MAX_RSS_GROWTH_PCT (25), SOAK_OUT (report folder,
// default build/soak/<time>), LIVESTORE_GATEWAY (binary).
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'

import { REPO_ROOT, startCluster, startGateway } from '../lib/harness.mjs'
import { requestCounts, sleep, startMixedLoad } from '../faults/lib.mjs'

const num = (name, dflt) => (process.env[name] ? Number(process.env[name]) : dflt)
const MINUTES = num('SOAK_MINUTES', 10)
const WRITERS = num('SOAK_WRITERS', 50)
const READERS = num('SOAK_READERS', 200)
const STORES = num('SOAK_STORES', 25)
const INTERVAL = num('SOAK_PUSH_INTERVAL_MS', 1000)
const MAX_BATCH = num('SOAK_MAX_BATCH', 5)
const LONG_POLL = num('SOAK_LONG_POLL', 20)
const SAMPLE_S = num('SOAK_SAMPLE_S', 10)
const MAX_GROWTH = num('SOAK_MAX_RSS_GROWTH_PCT', 25)
const OUT = process.env.SOAK_OUT || path.join(REPO_ROOT, 'build/soak', new Date().toISOString().replace(/[:.]/g, '-'))

const lines = []
const say = (s = '') => { console.log(s); lines.push(s) }
const mib = (kb) => (kb / 1024).toFixed(1)

function procStats(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const field = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN)
  return { rssKb: field('VmRSS'), hwmKb: field('VmHWM'), threads: field('Threads'), fds: readdirSync(`/proc/${pid}/fd`).length }
}

mkdirSync(OUT, { recursive: true })
say(`soak: ${MINUTES} min, ${WRITERS} writers, ${READERS} live readers, ${STORES} stores, push every ~${INTERVAL} ms per writer (1..${MAX_BATCH} events), long poll ${LONG_POLL} s`)
say(`report: ${OUT}`)

const pg = await startCluster()
const gw = await startGateway({ databaseUrl: pg.url, longPollTimeout: LONG_POLL, logFile: path.join(OUT, 'gateway.log'), args: ['--quiet'] })
let exitCode = 1
try {
  const run = `soak_${Date.now().toString(36)}`
  const stores = Array.from({ length: STORES }, (_, i) => ({
    storeId: `${run}_${i}`,
    writers: Math.floor(WRITERS / STORES) + (i < WRITERS % STORES ? 1 : 0),
    readers: Math.floor(READERS / STORES) + (i < READERS % STORES ? 1 : 0),
  }))
  const load = startMixedLoad({
    endpoint: gw.endpoint,
    stores,
    // Writers start spread over one interval, then pause 0.5..1.5 x INTERVAL between pushes.
    writer: { maxBatch: MAX_BATCH, pace: () => INTERVAL * (0.5 + Math.random()), retryDelay: 500, allowed: [503] },
    reader: { timeout: (LONG_POLL + 30) * 1000 },
  })

  const t0 = Date.now()
  const samples = []
  const sample = async () => {
    const s = procStats(gw.proc.pid)
    const req = await requestCounts(gw.url)
    const acked = load.writers.reduce((n, w) => n + w.acked.length, 0)
    const delivered = load.readers.reduce((n, r) => n + r.ids.length, 0)
    const row = { t: Math.round((Date.now() - t0) / 1000), ...s, requests: req.total, acked, delivered, failures: load.readerFailures().length }
    samples.push(row)
    say(`  t=${String(row.t).padStart(4)} s  rss ${mib(row.rssKb).padStart(7)} MiB  threads ${row.threads}  fds ${String(row.fds).padStart(4)}  requests ${String(row.requests).padStart(8)}  events acked ${String(acked).padStart(7)}  delivered ${String(delivered).padStart(8)}  reader failures ${row.failures}`)
  }
  say('samples:')
  await sample()
  const end = t0 + MINUTES * 60_000
  while (Date.now() < end) {
    await sleep(Math.min(SAMPLE_S * 1000, Math.max(0, end - Date.now())))
    await sample()
    if (load.readerFailures().length) break  // a dead reader is a failed soak; stop early
  }
  const loadSeconds = (Date.now() - t0) / 1000
  const req = await requestCounts(gw.url)
  const metrics = await fetch(`${gw.url}/metrics`).then((r) => r.text())
  const dbErrors = Number(/^livestore_gateway_database_errors_total (\d+)/m.exec(metrics)?.[1] ?? NaN)

  say('audit: stopping writers, waiting for every reader to reach its store\'s head ...')
  const { problems, totals } = await load.finish(pg.url, { catchUpTimeout: (LONG_POLL + 30) * 1000 })
  await sample()

  // RSS: allocator arenas fill up over the first minutes, then RSS should be
  // flat. Compare the median of the middle third of the samples with the
  // median of the last third, and fit a slope over the last half.
  const body = samples.slice(1, -1)  // not the first (idle) nor the after-audit sample
  const third = Math.max(1, Math.floor(body.length / 3))
  const median = (xs) => { const v = [...xs].sort((x, y) => x - y); return v[Math.floor(v.length / 2)] }
  const mid = median(body.slice(third, Math.max(third + 1, body.length - third)).map((s) => s.rssKb))
  const late = median(body.slice(-third).map((s) => s.rssKb))
  const growthPct = ((late - mid) / mid) * 100
  const half = body.slice(Math.floor(body.length / 2))
  const mx = half.reduce((a, s) => a + s.t, 0) / half.length, my = half.reduce((a, s) => a + s.rssKb, 0) / half.length
  const slopeKbPerMin = 60 * half.reduce((a, s) => a + (s.t - mx) * (s.rssKb - my), 0) / (half.reduce((a, s) => a + (s.t - mx) ** 2, 0) || 1)
  const perMinute = samples.filter((s, i) => i === 0 || Math.floor(s.t / 60) > Math.floor(samples[i - 1].t / 60) || i === samples.length - 1)
  const statuses = {}
  for (const w of load.writers) for (const [k, n] of Object.entries(w.stats.statuses)) statuses[k] = (statuses[k] ?? 0) + n

  say()
  say('results:')
  say(`  load ran ${loadSeconds.toFixed(0)} s; gateway requests served ${req.total} (${(req.total / loadSeconds).toFixed(0)}/s): ${JSON.stringify(req.byRoute)}, by status ${JSON.stringify(req.byStatus)}`)
  say(`  pushes ${totals.pushes} (${(totals.pushes / loadSeconds).toFixed(1)}/s) by answer ${JSON.stringify(statuses)}; events acknowledged ${totals.acked}, stored ${totals.rows}`)
  say(`  live pulls ${totals.pulls} (${(totals.pulls / loadSeconds).toFixed(0)}/s); events delivered ${totals.delivered} (= ${READERS} readers x their store's log)`)
  say(`  database errors (gateway) ${dbErrors}; reader failures ${load.readerFailures().length}`)
  say(`  RSS over time (MiB): ${perMinute.map((s) => `${s.t}s ${mib(s.rssKb)}`).join(', ')}`)
  say(`  RSS: median of the middle third ${mib(mid)} MiB, of the last third ${mib(late)} MiB (${growthPct >= 0 ? '+' : ''}${growthPct.toFixed(1)}%); slope over the last half ${(slopeKbPerMin / 1024).toFixed(2)} MiB/min; peak (VmHWM) ${mib(samples.at(-1).hwmKb)} MiB; threads ${samples.at(-1).threads}, fds ${samples.at(-1).fds} after the audit`)
  say(`  audit: lost ${totals.lost}, duplicated ${totals.duplicates}, partial batches ${totals.partial}, stored but unacknowledged ${totals.foreign}, undelivered ${totals.undelivered}; ${problems.length} problem(s)`)
  for (const p of problems.slice(0, 20)) say(`    ${p}`)
  const grows = growthPct > MAX_GROWTH
  const ok = problems.length === 0 && !grows && totals.acked > 0
  say(`verdict: ${ok ? 'PASS' : 'FAIL'}${grows ? ` (RSS grew ${growthPct.toFixed(1)}% > ${MAX_GROWTH}%)` : ''}`)
  writeFileSync(path.join(OUT, 'rss.csv'), 't_s,rss_kb,hwm_kb,threads,fds,requests,events_acked,events_delivered\n' +
    samples.map((s) => [s.t, s.rssKb, s.hwmKb, s.threads, s.fds, s.requests, s.acked, s.delivered].join(',')).join('\n') + '\n')
  exitCode = ok ? 0 : 1
} catch (e) {
  say(`soak failed: ${e.stack ?? e}`)
} finally {
  writeFileSync(path.join(OUT, 'summary.txt'), lines.join('\n') + '\n')
  await gw.stop()
  await pg.stop()
}
process.exit(exitCode)
