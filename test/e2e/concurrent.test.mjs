// Scenario (b): two clients commit 20 events each at the same moment. Their
// pushes race for the same seqNums; the loser's push is rejected, it pulls
// the winner's events, rebases and pushes again with new seqNums (doc §7.3).
// Both must converge to the same 40 events, each exactly once, and Postgres
// must hold exactly 40 rows chained 1..40.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { MODES, startBackend } from './lib/backend.mjs'
import { openClient } from './lib/client.mjs'
import { chainProblems, eventRows } from './lib/db.mjs'
import { explained, testScope, uniqueStoreId, useCluster } from './lib/suite.mjs'

const PER_CLIENT = 20
const CONVERGE_TIMEOUT = Number(process.env.E2E_CONVERGE_TIMEOUT_MS ?? 45_000)
const ctx = useCluster('concurrent')

for (const mode of MODES) {
  test(`(b) two concurrent writers, ${PER_CLIENT} events each [${mode}]`, { timeout: 150_000 }, async (t) => {
    const { dir, defer } = testScope(t, ctx, mode)
    const backend = await startBackend(mode, { databaseUrl: ctx.cluster.url, dir })
    defer(() => backend.stop())
    await explained(backend, async () => {
      const storeId = uniqueStoreId('concurrent')
      const open = async (clientId) => {
        const c = await openClient({ storeId, endpoint: backend.endpoint, clientId, logDir: dir })
        defer(() => c.close())
        return c
      }
      const clients = [await open('client-a'), await open('client-b')]
      // Both connected and idle, so both pushes really leave at the same time.
      for (const c of clients) await c.waitConnected()
      for (const c of clients) await c.waitSynced(0)

      const idsOf = (c) => Array.from({ length: PER_CLIENT }, (_, i) => `${c.clientId}-${String(i).padStart(2, '0')}`)
      const t0 = performance.now()
      // Both commands leave before either reply is awaited.
      await Promise.all(clients.map((c) => c.commit(...idsOf(c).map((id) => ({ id, text: id })))))

      const want = clients.flatMap(idsOf).sort()
      for (const c of clients) await c.waitForIds(want, { timeout: CONVERGE_TIMEOUT })
      for (const c of clients) await c.waitSynced(want.length, { timeout: CONVERGE_TIMEOUT })
      t.diagnostic(`[${mode}] converged in ${(performance.now() - t0).toFixed(0)} ms`)

      for (const c of clients) {
        // The items table's primary key already rejects a duplicate event; the sorted list shows a missing one.
        assert.deepEqual((await c.items()).map((r) => r.id).sort(), want, `${c.clientId} holds all events once`)
      }

      const rows = await eventRows(ctx.cluster.url, storeId)
      assert.equal(rows.length, want.length, 'Postgres rows')
      assert.deepEqual(chainProblems(rows), [])
      assert.deepEqual(rows.map((r) => r.args.id).sort(), want, 'each event stored exactly once')
      for (const c of clients) {
        // Each event is stored under its author and in the author's commit order.
        const mine = rows.filter((r) => r.clientId === c.clientId).map((r) => r.args.id)
        assert.deepEqual(mine, idsOf(c), `${c.clientId}'s events, in its order`)
      }
    })
  })
}
