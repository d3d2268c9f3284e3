// Fault (c): pg_terminate_backend() on every connection of the gateway (its
// workers, application_name 'livestore-gateway', and its wake-up connection:
// waiting in livestore.wait_changes(), or LISTENing before extension 0.3.0)
// three times while pushers and live readers run. Held polls are still
// answered 200; once the wake-up connection is back, an append wakes held polls
// at once (not at the long-poll timeout); pushes recover; nothing is lost.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import { psql, startCluster, startGateway, waitFor } from '../lib/harness.mjs'
import { gatewayBackends, GATEWAY_BACKENDS, sleep, startMixedLoad, tryPush } from './lib.mjs'

// The gateway's wake-up connection: waiting in livestore.wait_changes()
// (extension 0.3.0+), or LISTENing on an older extension.
const isWakeUp = (query) => /^LISTEN/i.test(query) || /livestore\.wait_changes/.test(query)

const ROUNDS = 3
const LONG_POLL_S = 10  // a wake-up must come well before a held poll's deadline

let pg, gw
before(async () => {
  pg = await startCluster()
  gw = await startGateway({ databaseUrl: pg.url, longPollTimeout: LONG_POLL_S, args: ['--quiet'] })
})
after(async () => {
  await gw?.stop()
  await pg?.stop()
})

test(`pg_terminate_backend on the gateway's connections (${ROUNDS} rounds): polls answered, wake-ups back, pushes recover`, { timeout: 120_000 }, async (t) => {
  const run = `term_${Date.now().toString(36)}`
  const load = startMixedLoad({
    endpoint: gw.endpoint,
    stores: [
      { storeId: `${run}_idle`, writers: 0, readers: 6 },
      ...[0, 1, 2].map((i) => ({ storeId: `${run}_busy${i}`, writers: 1, readers: 3 })),
      { storeId: `${run}_duel`, writers: 2, readers: 3 },
    ],
    writer: { maxBatch: 3, pace: () => 10 + Math.random() * 30, retryDelay: 200, allowed: [503] },
    reader: { timeout: LONG_POLL_S * 1000 + 30_000 },
  })
  const idle = load.stores[0]
  let idleSeq = 0
  const pushIdle = async () => {
    const id = `${idle.storeId}-x${++idleSeq}`
    const r = await tryPush(gw.endpoint, idle.storeId, [{ name: 'v1.ItemAdded', args: { id, text: `${id} of ${idle.storeId}` }, seqNum: idleSeq, parentSeqNum: idleSeq - 1, clientId: 'solo', sessionId: 'solo-1' }])
    assert.equal(r.status, 200, `push to the idle store: ${JSON.stringify(r)}`)
    return id
  }
  let result
  const rounds = []
  try {
    await sleep(1000)
    for (let i = 0; i < ROUNDS; i++) {
      const before = await gatewayBackends(pg.url)
      const listen = before.filter((b) => isWakeUp(b.query))
      assert.equal(listen.length, 1, `one wake-up connection before round ${i + 1}: ${JSON.stringify(before)}`)
      const tKill = performance.now()
      const killed = (await psql(pg.url, `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity WHERE ${GATEWAY_BACKENDS}`))
      // The wake-up connection comes back (a new backend).
      const back = await waitFor(async () => (await gatewayBackends(pg.url)).find((b) => isWakeUp(b.query) && b.pid !== listen[0].pid),
        { timeout: 10_000, what: 'a new wake-up connection' })
      const listenMs = performance.now() - tKill
      // The idle readers are held again, each by a request whose deadline is
      // at least 4 s away: an answer within 2.5 s of the append is a wake-up.
      await sleep(300)
      await waitFor(() => idle.readers.every((r) => Date.now() - r.since < (LONG_POLL_S - 4) * 1000),
        { timeout: (LONG_POLL_S + 5) * 1000, what: 'fresh held polls' })
      const t0 = performance.now()
      await pushIdle()
      await waitFor(() => idle.readers.every((r) => r.last === idleSeq), { timeout: 2500, what: `idle readers woken by append ${idleSeq}` })
      rounds.push({ killed: Number(killed), listenMs, listenApp: JSON.stringify(back.app), wakeMs: performance.now() - t0 })
      assert.deepEqual(load.readerFailures(), [], `after round ${i + 1}`)
      await sleep(800)
    }
    idle.writers.push({ acked: Array.from({ length: idleSeq }, (_, k) => `${idle.storeId}-x${k + 1}`), attempts: [], unexpected: [], stats: { requests: idleSeq, unknown: 0, conflicts: 0 }, clientId: 'solo', sessionId: 'solo-1', storeId: idle.storeId })
    const tFinish = performance.now()
    result = await load.finish(pg.url)
    t.diagnostic(`finish (writers stop, readers catch up, audit): ${(performance.now() - tFinish).toFixed(0)} ms`)
  } finally {
    await load.stopWriters()
    for (const r of load.readers) await r.stop()
  }
  for (const [i, r] of rounds.entries())
    t.diagnostic(`round ${i + 1}: ${r.killed} backends terminated; wake-up connection back within ${r.listenMs.toFixed(0)} ms (application_name ${r.listenApp}); held polls woken ${r.wakeMs.toFixed(0)} ms after the next append`)
  const statuses = {}
  for (const w of load.writers) for (const [k, n] of Object.entries(w.stats.statuses ?? {})) statuses[k] = (statuses[k] ?? 0) + n
  const pulls = {}
  for (const r of load.readers) for (const [k, n] of Object.entries(r.statuses)) pulls[k] = (pulls[k] ?? 0) + n
  t.diagnostic(`pushes by answer ${JSON.stringify(statuses)}; pulls by answer ${JSON.stringify(pulls)}; ${result.totals.rows} events stored = acknowledged, lost ${result.totals.lost}, duplicated ${result.totals.duplicates}`)
  assert.deepEqual(result.problems, [])
  assert.ok(Object.keys(pulls).every((s) => s === '200'), 'pulls only ever answered 200')
})

// Regressions: pulls after terminated connections, the wake-up connection named.
test('after its connections are terminated, a pull with events already in the log is answered at once', async (t) => {
  const one = await startGateway({ databaseUrl: pg.url, longPollTimeout: 6, args: ['--threads', '1', '--quiet'] })
  try {
    const storeId = `stale_${Date.now().toString(36)}`
    const batch = [1, 2, 3].map((n) => ({ name: 'v1.ItemAdded', args: { id: `s${n}`, text: 't' }, seqNum: n, parentSeqNum: n - 1, clientId: 'c', sessionId: 's' }))
    assert.equal((await tryPush(one.endpoint, storeId, batch)).status, 200)
    const terminateWorkers = () => psql(pg.url, `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'livestore-gateway'`)
    const { pull, inserts } = await import('../gateway/lib.mjs')
    const cases = [['non-live from 0_0', { live: false, offset: '0_0' }, 3], ['flagged 2_0~', { live: true, offset: '2_0~' }, 1], ['live from 1_0', { live: true, offset: '1_0' }, 2]]
    const slow = []
    for (const [what, opts, n] of cases) {
      await terminateWorkers()
      const r = await pull(one.endpoint, { storeId, handle: 'h', ...opts })
      t.diagnostic(`${what}, right after its connection was terminated: ${r.status}, ${inserts(r.body).length} events, ${r.ms.toFixed(0)} ms`)
      assert.equal(r.status, 200)
      assert.equal(inserts(r.body).length, n)
      if (r.ms > 2000) slow.push(`${what}: ${r.ms.toFixed(0)} ms`)
    }
    assert.deepEqual(slow, [], 'pulls with events waiting answered within 2 s')
  } finally {
    await one.stop()
  }
})

test('the wake-up connection identifies itself (application_name livestore-gateway)', {
}, async () => {
  const listen = (await gatewayBackends(pg.url)).filter((b) => isWakeUp(b.query))
  assert.ok(listen.length >= 1)
  for (const b of listen) assert.equal(b.app, 'livestore-gateway')
})
