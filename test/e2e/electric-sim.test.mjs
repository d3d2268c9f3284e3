// Proxy mode against an Electric that rotates its shapes (test/electric-sim,
// written from Electric's API docs): live clients keep syncing across a
// redeploy that rotates every handle and across one that loses Electric's
// storage (re-snapshot, new offsets). The stock client cannot handle a 409
// (its sync would stop for the session, and onSyncError 'shutdown' makes that
// fail the test at once); the gateway follows the rotation for it. Offsets are
// past 2^32 and pages cut transactions (about 3 events a page). Every event
// reaches every client exactly once; Postgres holds 1..N chained.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { startBackend } from './lib/backend.mjs'
import { openClient } from './lib/client.mjs'
import { chainProblems, eventRows } from './lib/db.mjs'
import { explained, testScope, uniqueStoreId, useCluster } from './lib/suite.mjs'

const ctx = useCluster('electric-sim')

test('(h) live clients sync on across Electric redeploys (handles rotated, storage lost) [electric-sim]', { timeout: 150_000 }, async (t) => {
  const { dir, defer } = testScope(t, ctx, 'electric-sim')
  const backend = await startBackend('electric-sim', { databaseUrl: ctx.cluster.url, dir, longPollTimeout: 5 })
  defer(() => backend.stop())
  const { sim } = backend
  const metric = async (name) =>
    Number((await fetch(`${backend.front.url}/metrics`).then((r) => r.text())).match(new RegExp(`^${name} (\\d+)`, 'm'))[1])
  await explained(backend, async () => {
    const storeId = uniqueStoreId('sim')
    const open = async (clientId) => {
      const c = await openClient({ storeId, endpoint: backend.endpoint, clientId, logDir: dir })
      defer(() => c.close())
      return c
    }
    const a = await open('client-a')
    const b = await open('client-b')
    const ids = (prefix, n) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`)
    const all = []
    const commit = async (c, list) => {
      all.push(...list)
      await c.commit(...list.map((id) => ({ id, text: id })))
    }

    // Initial traffic: 10 events (several pages), both ways.
    await commit(a, ids('a', 7))
    await b.waitForIds(all)
    await commit(b, ids('b', 3))
    await a.waitForIds(all)
    for (const c of [a, b]) await c.waitSynced(all.length)
    // Both clients are now held in live polls at a position the gateway knows.
    await new Promise((r) => setTimeout(r, 300))

    const resume = {}
    for (const [what, act] of [['rotate', () => sim.rotate()], ['lose storage', () => sim.loseStorage()]]) {
      const rotations = await metric('livestore_gateway_upstream_rotations_total')
      const requests = await metric('livestore_gateway_upstream_rotation_requests_total')
      const t0 = performance.now()
      await act()
      const list = ids(`${what.replace(' ', '_')}-a`, 4)  // one push, one transaction over 2 pages
      await commit(a, list)
      await b.waitForIds(list)
      resume[what] = Math.round(performance.now() - t0)
      const back = ids(`${what.replace(' ', '_')}-b`, 2)
      await commit(b, back)
      await a.waitForIds(back)
      for (const c of [a, b]) await c.waitSynced(all.length)
      const followed = (await metric('livestore_gateway_upstream_rotations_total')) - rotations
      assert.ok(followed >= 1, `${what}: the gateway followed a 409`)
      const used = (await metric('livestore_gateway_upstream_rotation_requests_total')) - requests
      t.diagnostic(`[${what}] rotate to event at the other client: ${resume[what]} ms; ${followed} 409s followed with ${used} upstream requests (${(used / followed).toFixed(1)} per rotation, plus the 409 itself)`)
      await new Promise((r) => setTimeout(r, 300))
    }
    assert.ok(sim.stats().byStatus['409'] >= 2, 'Electric answered 409s')

    for (const x of [a, b]) {
      await x.waitSynced(all.length)
      assert.deepEqual((await x.items()).map((r) => r.id).sort(), [...all].sort(), `${x.clientId} holds every event once`)
    }
    const rows = await eventRows(ctx.cluster.url, storeId)
    assert.equal(rows.length, all.length)
    assert.deepEqual(chainProblems(rows), [])
  })
})
