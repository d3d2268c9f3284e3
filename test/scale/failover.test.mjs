// Postgres failover under load (deploy/patroni/patroni.yml): a primary and a
// synchronous standby managed by Patroni with etcd, a gateway on a multi-host
// connection string (target_session_attrs=read-write). The primary's machine
// is "lost" (kill -9 of its Patroni, then of its postmaster) while pushers
// record every acknowledgement, live pullers record every answer and real
// LiveStore clients sync. Then: no acknowledged event lost, no pull failed
// (held, empty 200), pushes got 503 and succeeded after, the time to recover
// measured, the extension's state (heads, handles) right on the promoted node.
import assert from 'node:assert/strict'
import path from 'node:path'
import { after, before, test } from 'node:test'

import { openClients, auditExactlyOnce, figure, losePrimary, sleep, startEtcd, startPatroni, startPusher } from './lib.mjs'
import { chainProblems, eventRows } from '../e2e/lib/db.mjs'
import { pullUrl } from '../gateway/lib.mjs'
import { freePort, makeWorkDir, psql, startGateway, waitFor } from '../lib/harness.mjs'

const LONG_POLL_S = 10
const RUN_LIMIT_MS = 120_000  // every loop below stops by then at the latest
let dir, etcd, nodes = [], gw

before(async () => {
  dir = makeWorkDir('scale-failover')
  etcd = await startEtcd({ dir: path.join(dir, 'etcd'), clientPort: await freePort(), peerPort: await freePort() })
  const node = async (name, ready) =>
    startPatroni({ dir: path.join(dir, name), name, pgPort: await freePort(), apiPort: await freePort(), etcd, ready })
  nodes.push(await node('pg1', '/primary'))
  nodes.push(await node('pg2', '/replica'))
  // Synchronous replication in place before any write counts.
  await waitFor(async () => (await psql(nodes[0].url, `SELECT sync_state FROM pg_stat_replication`)) === 'sync',
    { timeout: 60_000, interval: 250, what: 'pg2 as synchronous standby' })
  const hosts = nodes.map(() => '127.0.0.1').join(',')
  const ports = nodes.map((n) => n.pgPort).join(',')
  gw = await startGateway({
    databaseUrl: `host=${hosts} port=${ports} dbname=postgres user=postgres target_session_attrs=read-write connect_timeout=2`,
    longPollTimeout: LONG_POLL_S,
    logFile: path.join(dir, 'gateway.log'),
  })
})
after(async () => {
  await gw?.stop()
  for (const n of nodes.reverse()) await n.stop()
  await etcd?.stop()
  // A postmaster whose Patroni was killed is not stopped by anyone else.
  for (const n of nodes) {
    const pid = n.postmasterPid()
    if (pid) try { process.kill(pid, 'SIGKILL') } catch {}
  }
})

/** Follows a store with live pulls, as the client does; records every answer. */
function startPuller(storeId, stop) {
  const p = { statuses: {}, longest: 0, seen: 0, failures: [], done: null }
  p.done = (async () => {
    let offset = '0_0'
    const deadline = Date.now() + RUN_LIMIT_MS
    while (!stop.now && Date.now() < deadline) {
      const t0 = performance.now()
      try {
        const r = await fetch(pullUrl(gw.endpoint, { storeId, handle: 'h', offset }), { signal: AbortSignal.timeout(60_000) })
        const body = await r.text()
        p.statuses[r.status] = (p.statuses[r.status] ?? 0) + 1
        if (r.status !== 200) { p.failures.push(`${r.status} ${body}`); await sleep(100); continue }
        p.seen += JSON.parse(body).filter((m) => m.value).length
        offset = r.headers.get('electric-offset')
      } catch (e) {
        p.failures.push(`network: ${e.message}`)
        await sleep(100)
      }
      p.longest = Math.max(p.longest, performance.now() - t0)
    }
  })()
  return p
}

test('failover of the primary under pushes and live clients: nothing acknowledged lost, pulls never fail', { timeout: 300_000 }, async (t) => {
  const [primary, standby] = nodes
  const stop = { now: false }
  const stores = ['fo_push_a', 'fo_push_b', 'fo_push_c']
  const pushers = stores.map((s) => startPusher(gw.endpoint, s, stop, { limitMs: RUN_LIMIT_MS }))
  await waitFor(() => pushers.every((p) => p.acked.length > 0), { timeout: 30_000, what: 'first pushes acknowledged' })
  const stopPull = { now: false }
  const pullers = stores.map((s) => startPuller(s, stopPull))

  // Real clients: one writes (alone, see writeInTurns in lib.mjs), one follows.
  const clientStore = `fo_clients_${Date.now().toString(36)}`
  const clients = await openClients(t, { storeId: clientStore, n: 2, endpoint: gw.endpoint, dir })
  const want = []
  const writer = (async () => {
    const deadline = Date.now() + RUN_LIMIT_MS
    for (let i = 0; !stop.now && Date.now() < deadline; i++) {
      const id = `w-${i}`
      want.push(id)
      await clients[0].commit({ id, text: id })
      await sleep(400)
    }
  })()
  await sleep(3000)

  // What the extension says before the failover, on the primary.
  const infoBefore = Object.fromEntries(await Promise.all(stores.map(async (s) =>
    [s, await psql(primary.url, `SELECT handle FROM livestore.store_info('${s}')`)])))

  // The primary's machine is lost (its Patroni, then its postmaster).
  const { ackedBeforeKill, tKill, tPromoted } = await losePrimary(primary, standby, pushers)
  // Only pushes sent after the kill count: one in flight may still have committed on pg1.
  const ackedAfterKill = pushers.flatMap((p) => p.ackedAt.filter((_, i) => p.sentAt[i] > tKill))
  const firstPushAfter = Math.min(...ackedAfterKill)
  assert.ok(firstPushAfter > tPromoted - 1000, 'no push sent after the kill was acknowledged before a primary was back')
  await sleep(3000)
  stop.now = true
  await Promise.all([...pushers.map((p) => p.done), writer])
  // The pullers follow until they hold every stored event, then stop too.
  const storedCounts = await Promise.all(stores.map(async (s) => (await eventRows(standby.url, s)).length))
  await waitFor(() => pullers.every((p, i) => p.seen >= storedCounts[i]), { timeout: 30_000, what: 'pullers caught up' }).catch(() => {})
  stopPull.now = true
  await Promise.all(pullers.map((p) => p.done))

  // Pushes: only 200 or 503; each acknowledged event is on the promoted node, once, chained.
  let acked = 0, extra = 0
  for (const p of pushers) {
    assert.deepEqual(p.unexpected, [], `${p.storeId}: pushes answered 200 or 503 only`)
    const rows = await eventRows(standby.url, p.storeId)
    assert.deepEqual(chainProblems(rows), [], `${p.storeId}: chain intact on the promoted node`)
    const stored = new Set(rows.map((r) => r.args.id))
    const lost = p.acked.filter((id) => !stored.has(id))
    assert.deepEqual(lost, [], `${p.storeId}: no acknowledged event lost`)
    acked += p.acked.length
    extra += rows.length - p.acked.length
    // The extension's state on the promoted node: head = last event, same handle as before.
    assert.equal(Number(await psql(standby.url, `SELECT livestore.head('${p.storeId}')`)), rows.length, `${p.storeId}: head`)
    assert.equal(await psql(standby.url, `SELECT handle FROM livestore.store_info('${p.storeId}')`), infoBefore[p.storeId], `${p.storeId}: handle kept`)
  }
  // Pulls: never failed; they followed every event.
  for (const [i, p] of pullers.entries()) {
    assert.deepEqual(p.failures, [], `${stores[i]}: no pull failed`)
    assert.equal(p.seen, storedCounts[i], `${stores[i]}: the puller saw every stored event, once`)
  }
  const unavailable = pushers.reduce((n, p) => n + p.unavailable, 0)
  assert.ok(unavailable > 0, 'pushes were answered 503 during the failover')
  // Real clients: every write of the writer on both, once, and in Postgres.
  await auditExactlyOnce(clients, standby.url, clientStore, want)
  for (const c of clients) assert.equal(c.failure, null, `${c.clientId}'s sync never stopped`)

  const pulls = pullers.reduce((n, p) => n + (p.statuses[200] ?? 0), 0)
  figure(t, `failover: Patroni promoted the synchronous standby ${(tPromoted - tKill).toFixed(0)} ms after kill -9 of the primary (ttl 10 s); first push sent after the kill acknowledged ${(firstPushAfter - tKill).toFixed(0)} ms after it (${(firstPushAfter - tPromoted).toFixed(0)} ms after the promotion)`)
  figure(t, `failover: ${acked} events acknowledged (${ackedBeforeKill} before the kill), 0 lost, ${extra} stored without acknowledgement; ${unavailable} push answers 503 meanwhile; ${pulls} live pulls all 200 (longest held ${Math.max(...pullers.map((p) => p.longest)).toFixed(0)} ms); ${want.length} client writes on both clients exactly once`)
})
