// The scale benchmarks of `make bench` (issue 13): the engines started from
// deploy/ exactly as `make test-scale` starts them (test/scale/lib.mjs,
// test/scale/cache-lib.mjs), driven by bench/loadgen or by the failover
// test's pushers. One JSON file per measured side into the run folder;
// bench/report.mjs turns them into rows.
//
//   node bench/scale.mjs cache    --run DIR --db URL --loadgen BIN [--readers "2000 10000"] [--writes 10] [--interval-ms 1000]
//   node bench/scale.mjs gateways --run DIR --db URL --loadgen BIN [--readers 100] [--seconds 10] [--interval-ms 250] [--rounds 2]
//   node bench/scale.mjs failover --run DIR [--pushers 3] [--before-seconds 3]
//
// Common: --gateway BIN (default: the work tree's), --token T (the gateways'
// --auth-token; readers send it as payload.authToken), --gateway-args "..."
// (extra gateway flags, e.g. the rate limits switched off).
import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'

import { freePort, makeWorkDir, psql, startGateway, waitFor } from '../test/lib/harness.mjs'
import { eventRows } from '../test/e2e/lib/db.mjs'
import { startNginx } from '../test/scale/cache-lib.mjs'
import { losePrimary, now, sleep, startEtcd, startHaproxy, startPatroni, startPusher } from '../test/scale/lib.mjs'

const [mode, ...rest] = process.argv.slice(2)
const { values: opt } = parseArgs({
  args: rest,
  options: Object.fromEntries(['run', 'db', 'loadgen', 'gateway', 'token', 'gateway-args', 'readers', 'writes', 'interval-ms',
    'seconds', 'rounds', 'pushers', 'before-seconds', 'dir'].map((k) => [k, { type: 'string' }])),
})
const run = opt.run ?? die('--run DIR')
const token = opt.token ?? ''
const gwArgs = (opt['gateway-args'] ?? '').split(/\s+/).filter(Boolean)
const workDir = opt.dir ?? makeWorkDir(`bench-${mode}`)
const stamp = Date.now().toString(36)

function die(msg) {
  console.error(`bench/scale.mjs: ${msg}`)
  process.exit(2)
}
const log = (msg) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`)
const save = (name, obj) => writeFileSync(path.join(run, name), JSON.stringify(obj, null, 1) + '\n')

// Stopped on a signal too (bench/run.sh's cleanup sends SIGTERM).
const stops = []
for (const sig of ['SIGTERM', 'SIGINT']) process.once(sig, async () => { await stopAll(); process.exit(130) })
async function stopAll() {
  while (stops.length) await stops.pop()().catch(() => {})
}

function gateway(name, extra = {}) {
  return startGateway({
    bin: opt.gateway, databaseUrl: opt.db, authToken: token || undefined, args: gwArgs, logFile: path.join(run, `${name}.log`), ...extra,
  }).then((gw) => { stops.push(() => gw.stop()); return gw })
}

/** One loadgen run; its JSON (or {error}). */
function loadgen(args) {
  return new Promise((resolve) => {
    const p = spawn(opt.loadgen ?? die('--loadgen BIN'), args.map(String), { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = '', err = ''
    p.stdout.on('data', (d) => (out += d))
    p.stderr.on('data', (d) => (err += d))
    p.on('exit', (code) => {
      if (err) writeFileSync(path.join(run, 'loadgen.log'), err, { flag: 'a' })
      try { resolve(JSON.parse(out)) } catch { resolve({ error: `loadgen exited ${code}: ${(err || out).slice(0, 300)}` }) }
    })
  })
}

/** nginx's worker (the process doing the work; worker_processes 1), from its master's pid file. */
function nginxWorker(dir) {
  try {
    const master = readFileSync(path.join(dir, 'nginx.pid'), 'utf8').trim()
    return Number(readFileSync(`/proc/${master}/task/${master}/children`, 'utf8').trim().split(/\s+/)[0]) || 0
  } catch { return 0 }
}

/**
 * What nginx did with the readers' pulls (its access log, test/scale/cache-lib.mjs's format): requests by
 * cache status, and the URLs that reached the gateway more than once (one MISS per URL is the collapse;
 * more means nginx let identical requests through its cache lock).
 */
function nginxLog(file) {
  const status = {}, misses = new Map()
  let text = ''
  try { text = readFileSync(file, 'utf8') } catch { return null }
  for (const line of text.split('\n')) {
    const f = line.split(' ')
    if (f[2] !== 'GET') continue
    status[f[4]] = (status[f[4]] ?? 0) + 1
    if (f[4] === 'MISS') misses.set(f.at(-1), (misses.get(f.at(-1)) ?? 0) + 1)
  }
  const repeated = [...misses.values()].filter((n) => n > 1)
  return { status, miss_urls: misses.size, urls_missed_more_than_once: repeated.length, max_misses_per_url: Math.max(0, ...misses.values()) }
}

// ---- cache: R live readers of one store through nginx against the same readers direct ----
// A fresh gateway (and cache) per side: readers' polls would linger until their timeout.
async function cache() {
  const readers = (opt.readers ?? '2000 10000').split(/\s+/).filter(Boolean).map(Number)
  const writes = Number(opt.writes ?? 10), interval = Number(opt['interval-ms'] ?? 1000)
  for (const [i, r] of readers.entries()) {
    for (const front of i % 2 ? ['nginx', 'direct'] : ['direct', 'nginx']) {
      log(`cache: ${r} live readers, ${front}, ${writes} writes`)
      const gw = await gateway(`cache_gw_${front}_${r}`)
      let url = gw.endpoint, heldWant = r, cachePid = 0, ngx
      if (front === 'nginx') {
        const dir = path.join(workDir, `nginx_${r}`)
        ngx = await startNginx({ gatewayPort: gw.port, dir })
        stops.push(() => ngx.stop('SIGTERM'))
        url = ngx.endpoint
        heldWant = 1  // the collapsed poll
        cachePid = nginxWorker(dir)
      }
      const j = await loadgen(['fanout', '--url', url, '--metrics-url', gw.url, '--held-want', heldWant, '--token', token,
        // --max-pushes ends the writing; the time bound is generous: a push waits for a busy gateway.
        '--readers', r, '--store', `cache_${front}_${r}_${stamp}`, '--seconds', (4 * writes * interval) / 1000,
        '--interval-ms', interval, '--max-pushes', writes, '--pid', gw.proc.pid, '--cache-pid', cachePid,
        '--drain-seconds', 20, '--samples', path.join(run, `cdf_cache_${front}_${r}.dat`), '--label', `${r} readers, ${front}`])
      save(`cache_${front}_${r}.json`, { front, ...j, ...(ngx ? { nginx_log: nginxLog(ngx.accessLog) } : {}) })
      log(`cache: ${r} readers, ${front}: measured${j.error ? ` (${j.error})` : ''}`)
      await stopAll()
    }
  }
}

// ---- gateways: the wake-up across gateways against the same gateway, HAProxy in front ----
async function gateways() {
  const readers = Number(opt.readers ?? 100), seconds = Number(opt.seconds ?? 10)
  const interval = Number(opt['interval-ms'] ?? 250), rounds = Number(opt.rounds ?? 1)
  const gws = []
  for (let i = 1; i <= 3; i++) gws.push(await gateway(`gateways_gw${i}`))
  const lb = await startHaproxy({ port: await freePort(), gateways: gws, logFile: path.join(run, 'gateways_haproxy.log') })
  stops.push(() => lb.stop())
  const all = gws.map((g) => g.url).join(',')
  // Readers on gw2 throughout; the writer on gw2 (same), on gw1 (cross), or
  // both through HAProxy (leastconn spreads the readers over all three).
  const sides = {
    same: { url: gws[1].endpoint, push: gws[1].endpoint, metrics: gws[1].url, pid: gws[1].proc.pid },
    cross: { url: gws[1].endpoint, push: gws[0].endpoint, metrics: gws[1].url, pid: gws[1].proc.pid },
    haproxy: { url: lb.endpoint, push: lb.endpoint, metrics: all, pid: 0 },
  }
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 ? ['same', 'cross', 'haproxy'] : ['haproxy', 'cross', 'same']
    for (const side of order) {
      log(`gateways: ${readers} readers, ${side}, round ${round}`)
      const s = sides[side]
      const j = await loadgen(['fanout', '--url', s.url, '--push-url', s.push, '--metrics-url', s.metrics, '--token', token,
        '--readers', readers, '--store', `gateways_${side}_r${round}_${stamp}`, '--seconds', seconds, '--interval-ms', interval,
        '--pid', s.pid, '--samples', path.join(run, `cdf_gateways_${side}_r${round}.dat`), '--label', side])
      save(`gateways_${side}_r${round}.json`, { side, round, ...j })
    }
  }
  await stopAll()
}

// ---- failover: Patroni promotes the synchronous standby after kill -9 of the primary ----
async function failover() {
  const nPushers = Number(opt.pushers ?? 3), beforeS = Number(opt['before-seconds'] ?? 3)
  const t0 = now()
  log('failover: etcd, Patroni primary and synchronous standby (deploy/patroni)')
  const etcd = await startEtcd({ dir: path.join(workDir, 'etcd'), clientPort: await freePort(), peerPort: await freePort() })
  stops.push(() => etcd.stop())
  const nodes = []
  for (const [name, ready] of [['pg1', '/primary'], ['pg2', '/replica']]) {
    const n = await startPatroni({ dir: path.join(workDir, name), name, pgPort: await freePort(), apiPort: await freePort(), etcd, ready })
    nodes.push(n)
    // A postmaster whose Patroni was killed is stopped by nobody else.
    stops.push(async () => {
      await n.stop()
      const pid = n.postmasterPid()
      if (pid) try { process.kill(pid, 'SIGKILL') } catch {}
    })
  }
  const [primary, standby] = nodes
  await waitFor(async () => (await psql(primary.url, 'SELECT sync_state FROM pg_stat_replication')) === 'sync',
    { timeout: 60_000, interval: 250, what: 'pg2 as synchronous standby' })
  const gw = await gateway('failover_gw', {
    databaseUrl: `host=127.0.0.1,127.0.0.1 port=${primary.pgPort},${standby.pgPort} dbname=postgres user=postgres target_session_attrs=read-write connect_timeout=2`,
    authToken: undefined, longPollTimeout: 10,
  })
  const setupS = (now() - t0) / 1000
  log(`failover: set up in ${setupS.toFixed(1)} s; ${nPushers} pushers, kill -9 of the primary after ${beforeS} s`)

  const stop = { now: false }
  const stores = Array.from({ length: nPushers }, (_, i) => `failover_${i}_${stamp}`)
  const pushers = stores.map((s) => startPusher(gw.endpoint, s, stop, { limitMs: 120_000 }))
  await waitFor(() => pushers.every((p) => p.acked.length > 0), { timeout: 30_000, what: 'first pushes acknowledged' })
  await sleep(beforeS * 1000)
  const { ackedBeforeKill, tKill, tPromoted } = await losePrimary(primary, standby, pushers)
  await sleep(1000)
  stop.now = true
  await Promise.all(pushers.map((p) => p.done))

  // The audit: every acknowledged event on the promoted node. Only pushes sent
  // after the kill count for recovery (one in flight may have committed on pg1).
  let acked = 0, lost = 0, extra = 0
  for (const p of pushers) {
    const stored = new Set((await eventRows(standby.url, p.storeId)).map((r) => r.args.id))
    lost += p.acked.filter((id) => !stored.has(id)).length
    acked += p.acked.length
    extra += stored.size - p.acked.length
  }
  // Recovery as a writer sees it. Pushes sent between the kill and the
  // promotion can still be acknowledged: the killed postmaster's backends run
  // on until they notice, and the synchronous standby confirms their commits.
  // So the figures are the longest stall between two acknowledgements of one
  // pusher (the outage its user sees) and the first acknowledgement of a push
  // sent after the promotion (the promoted node serving).
  const sentAfter = (t) => pushers.flatMap((p) => p.ackedAt.filter((_, i) => p.sentAt[i] > t))
  const firstAck = Math.min(...sentAfter(tKill))
  const firstAckPromoted = Math.min(...sentAfter(tPromoted))
  const gaps = pushers.map((p) => Math.max(0, ...p.ackedAt.slice(1).map((t, i) => t - p.ackedAt[i])))
  const out = {
    setup_s: setupS, pushers: nPushers, promotion_ms: tPromoted - tKill, first_ack_ms: firstAck - tKill,
    first_ack_after_promotion_ms: firstAckPromoted - tPromoted, longest_stall_ms: Math.max(...gaps),
    acked_between_kill_and_promotion: pushers.reduce((n, p) => n + p.ackedAt.filter((t, i) => p.sentAt[i] > tKill && t <= tPromoted).length, 0),
    acked, acked_before_kill: ackedBeforeKill, lost, extra,
    unavailable: pushers.reduce((n, p) => n + p.unavailable, 0), unexpected: pushers.flatMap((p) => p.unexpected).slice(0, 5),
    ttl_s: Number(/^\s*ttl:\s*(\d+)/m.exec(readFileSync(new URL('../deploy/patroni/patroni.yml', import.meta.url), 'utf8'))?.[1]),
  }
  save('failover.json', out)
  log(`failover: promoted after ${out.promotion_ms.toFixed(0)} ms, longest stall ${out.longest_stall_ms.toFixed(0)} ms, first push sent after the promotion acknowledged after ${out.first_ack_after_promotion_ms.toFixed(0)} ms; ${acked} acknowledged, ${lost} lost`)
  await stopAll()
}

const modes = { cache, gateways, failover }
if (!modes[mode]) die('usage: node bench/scale.mjs cache|gateways|failover --run DIR ...')
mkdirSync(workDir, { recursive: true })
try {
  await modes[mode]()
} catch (e) {
  log(`${mode} failed: ${e.stack ?? e}`)
  save(`${mode}_error.json`, { error: String(e.message ?? e).slice(0, 2000) })
  await stopAll()
  process.exit(1)
}
process.exit(0)
