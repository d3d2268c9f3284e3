// Fault (b): Postgres restarted (stopped, down for a while, started again)
// twice under held long polls and in-flight pushes. No pull may ever get a
// non-2xx answer or a dropped connection (either ends a real client's sync);
// pushes get 200 or 503 (409 only between competing writers) and succeed when
// re-sent; every acknowledged event is stored once and reaches every reader.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import { startCluster, startGateway, waitFor } from '../lib/harness.mjs'
import { heldPolls, restartPostgres, sleep, startMixedLoad, tryPush } from './lib.mjs'

const RESTARTS = 2
const DOWN_MS = 2500  // longer than a poll's remaining wait: some held polls time out while Postgres is away

let pg, gw
before(async () => {
  pg = await startCluster()
  gw = await startGateway({ databaseUrl: pg.url, longPollTimeout: 2, args: ['--quiet'] })
})
after(async () => {
  await gw?.stop()
  await pg?.stop()
})

test(`Postgres restarted ${RESTARTS}x under held polls and pushes: pulls always 200, pushes 200/503, nothing lost`, { timeout: 120_000 }, async (t) => {
  const run = `pgr_${Date.now().toString(36)}`
  const stores = [
    ...[0, 1].map((i) => ({ storeId: `${run}_idle${i}`, writers: 0, readers: 5 })),  // only held polls
    ...[0, 1, 2].map((i) => ({ storeId: `${run}_busy${i}`, writers: 1, readers: 4 })),
    { storeId: `${run}_duel`, writers: 2, readers: 4 },
  ]
  const load = startMixedLoad({
    endpoint: gw.endpoint,
    stores,
    writer: { maxBatch: 3, pace: () => 20 + Math.random() * 40, retryDelay: 200, allowed: [503] },
    reader: { timeout: 30_000 },
  })
  const idle = load.stores.filter((s) => s.writers.length === 0)
  let result
  try {
    const seen = []
    for (let i = 0; i < RESTARTS; i++) {
      await sleep(1500)
      // The idle stores' readers are held again (the others come and go). After
      // a restart they are first held while the LISTEN connection comes back,
      // which on a loaded machine can take longer than the pause above.
      let held = 0
      await waitFor(async () => (held = await heldPolls(gw.url)) >= 10,
                    { timeout: 10_000, what: `10 held polls before restart ${i + 1}` })
      const before503 = load.writers.reduce((n, w) => n + (w.stats.statuses[503] ?? 0), 0)
      await restartPostgres(pg, { downMs: DOWN_MS })
      seen.push({ held, down503: load.writers.reduce((n, w) => n + (w.stats.statuses[503] ?? 0), 0) - before503 })
      assert.deepEqual(load.readerFailures(), [], `after restart ${i + 1}`)
    }
    // Wake-ups work again: an append to an idle store reaches its held readers.
    for (const s of idle) {
      const r = await tryPush(gw.endpoint, s.storeId, [{ name: 'v1.ItemAdded', args: { id: `${s.storeId}-x`, text: `${s.storeId}-x of ${s.storeId}` }, seqNum: 1, parentSeqNum: 0, clientId: 'solo', sessionId: 'solo-1' }])
      assert.equal(r.status, 200, JSON.stringify(r))
    }
    await waitFor(() => idle.every((s) => s.readers.every((r) => r.last === 1)), { timeout: 5000, what: 'idle readers to get the new event' })
    await sleep(1000)  // load after the last restart
    for (const [i, s] of seen.entries()) t.diagnostic(`restart ${i + 1}: ${s.held} polls held when Postgres stopped; ${s.down503} pushes answered 503 while it was away`)
    // The idle stores' extra event has no writer: audit their logs against readers only.
    for (const s of idle) s.writers.push({ acked: [`${s.storeId}-x`], attempts: [], unexpected: [], stats: { requests: 1, unknown: 0, conflicts: 0 }, clientId: 'solo', sessionId: 'solo-1', storeId: s.storeId })
    result = await load.finish(pg.url)
  } finally {
    await load.stopWriters()
    for (const r of load.readers) await r.stop()
  }
  const { problems, totals } = result
  assert.deepEqual(problems, [])
  const statuses = {}
  for (const w of load.writers) for (const [k, n] of Object.entries(w.stats?.statuses ?? {})) statuses[k] = (statuses[k] ?? 0) + n
  const pullStatuses = {}
  for (const r of load.readers) for (const [k, n] of Object.entries(r.statuses)) pullStatuses[k] = (pullStatuses[k] ?? 0) + n
  t.diagnostic(`pushes by answer ${JSON.stringify(statuses)}; pulls by answer ${JSON.stringify(pullStatuses)} (${load.readers.length} live readers, 0 failed)`)
  t.diagnostic(`${totals.rows} events stored = ${totals.acked} acknowledged; delivered ${totals.delivered} (every reader got its whole log once); lost ${totals.lost}, duplicated ${totals.duplicates}, partial ${totals.partial}`)
  assert.ok((statuses[503] ?? 0) > 0, 'some pushes met Postgres down (503)')
  assert.ok(Object.keys(pullStatuses).every((s) => s === '200'), 'pulls only ever answered 200')
})
