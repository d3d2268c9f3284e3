// Fault (a): kill -9 of the gateway in the middle of a stream of pushes.
// 12 stores with one pusher each and one store with two competing pushers
// (rebasing on 409 from the head in its body) push as fast as they can; the
// gateway is killed with SIGKILL three times and restarted on the same port.
// At each kill, once the dead gateway's backends are gone, every batch still
// without an answer must be wholly in the log or wholly absent. At the end the
// log must hold exactly the acknowledged batches, whole, chained 1..N.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import { psql, startCluster, startGateway, waitFor } from '../lib/harness.mjs'
import { auditStore, GATEWAY_BACKENDS, logRowsMany, partialUnknowns, presentAt, sleep, Writer } from './lib.mjs'

const KILLS = Number(process.env.FAULTS_KILLS ?? 4)
const LOAD_MS = 1500

let pg, gw
before(async () => {
  pg = await startCluster()
  gw = await startGateway({ databaseUrl: pg.url, args: ['--quiet'] })
})
after(async () => {
  await gw?.stop()
  await pg?.stop()
})

test(`kill -9 under concurrent pushes (${KILLS} kills): exactly the acknowledged batches, whole`, { timeout: 120_000 }, async (t) => {
  const run = Date.now().toString(36)
  const stores = []
  const writers = []
  for (let i = 0; i < 12; i++) {
    const storeId = `kill_${run}_${i}`
    const w = new Writer({ endpoint: gw.endpoint, storeId, clientId: `solo-${i}`, maxBatch: 5, allowed: [503] })
    stores.push({ storeId, writers: [w], competing: false })
    writers.push(w)
  }
  const duelId = `kill_${run}_duel`
  const duel = ['duel-a', 'duel-b'].map((clientId) => new Writer({ endpoint: gw.endpoint, storeId: duelId, clientId, maxBatch: 4, allowed: [503] }))
  stores.push({ storeId: duelId, writers: duel, competing: true })
  writers.push(...duel)
  for (const w of writers) w.start()

  const kills = []
  try {
    for (let k = 0; k < KILLS; k++) {
      await sleep(LOAD_MS)
      const inFlight = writers.map((w) => [w, w.attempts.at(-1)]).filter(([, a]) => a?.outcome === 'pending')
      const t0 = Date.now()
      await gw.kill9()
      const tKilled = Date.now()
      // The dead gateway's backends finish (commit or roll back) whatever they
      // were running; only then is the log final for the unanswered batches.
      await waitFor(async () => (await psql(pg.url, `SELECT count(*) FROM pg_stat_activity WHERE ${GATEWAY_BACKENDS}`)) === '0',
        { timeout: 15_000, what: 'the killed gateway\'s backends to exit' })
      await waitFor(() => inFlight.every(([, a]) => a.outcome !== 'pending'), { what: 'in-flight pushes to fail' })
      const rows = await logRowsMany(pg.url, stores.map((s) => s.storeId))
      // The requests cut by the kill: each batch wholly stored or wholly absent.
      const cut = { inFlight: inFlight.length, unanswered: 0, stored: 0, absent: 0, answered: 0 }
      for (const [w, a] of inFlight) {
        if (a.outcome !== 'unknown') { cut.answered++; continue }
        cut.unanswered++
        const p = presentAt(rows.get(w.storeId), a)
        if (p === a.events.length) cut.stored++
        else if (p === 0) cut.absent++
        else assert.fail(`kill ${k + 1}: batch ${a.events[0][0]}..${a.events.at(-1)[0]} of ${w.clientId} partly stored (${p}/${a.events.length})`)
      }
      // And every batch that ever went without an answer so far (re-sends and refused connections included).
      const all = { checked: 0, partial: [] }
      for (const s of stores) {
        const r = partialUnknowns(rows.get(s.storeId), s.writers)
        all.checked += r.checked
        all.partial.push(...r.partial)
      }
      assert.deepEqual(all.partial, [], `kill ${k + 1}: unanswered batches partly stored`)
      kills.push({ ...cut, checked: all.checked })
      const tChecked = Date.now()
      await gw.start()  // same port, same flags
      kills.at(-1).ms = `kill ${tKilled - t0} ms, backends gone + audit ${tChecked - tKilled} ms, restart ${Date.now() - tChecked} ms`
    }
    await sleep(LOAD_MS)
  } finally {
    for (const w of writers) w.stop()
    await Promise.all(writers.map((w) => w.done))
  }

  let totals = { rows: 0, acked: 0, requests: 0, unknown: 0, conflicts: 0, lost: 0, duplicates: 0, partial: 0, foreign: 0 }
  const finalRows = await logRowsMany(pg.url, stores.map((s) => s.storeId))
  for (const s of stores) {
    const rows = finalRows.get(s.storeId)
    const a = auditStore(rows, s.writers)
    assert.deepEqual(a.problems, [], `store ${s.storeId}`)
    totals.rows += rows.length
    for (const k of ['lost', 'duplicates', 'partial', 'foreign']) totals[k] += a[k]
    for (const w of s.writers) {
      totals.acked += w.acked.length
      totals.requests += w.stats.requests
      totals.unknown += w.stats.unknown
      totals.conflicts += w.stats.conflicts
      assert.deepEqual(w.unexpected, [], `${w.clientId}: unexpected answers`)
      // A lone pusher is never behind: an unanswered batch re-sent is 200 whether it landed or not.
      if (!s.competing) assert.equal(w.stats.conflicts, 0, `${w.clientId}: 409 without a competitor`)
    }
  }
  assert.equal(totals.rows, totals.acked, 'rows = acknowledged events')
  assert.ok(duel.every((w) => w.acked.length > 0), 'both competing pushers got batches in')
  for (const [i, k] of kills.entries())
    t.diagnostic(`kill ${i + 1}: ${k.inFlight} pushes in flight, ${k.unanswered} cut without an answer (${k.stored} wholly stored, ${k.absent} wholly absent, 0 partial), ${k.answered} answered first; ${k.checked} unanswered requests so far checked whole-or-absent; ${k.ms}`)
  t.diagnostic(`${totals.requests} push requests, ${totals.rows} events acknowledged and stored, ${totals.unknown} unanswered/503 (re-sent), ` +
    `${totals.conflicts} 409 rebases (competing store); lost ${totals.lost}, duplicated ${totals.duplicates}, partial ${totals.partial}, unacknowledged ${totals.foreign}`)
})
