// Scenario (a): A writes and B reads, then the two take turns writing. Each
// hop's latency (commit in the writer -> row visible in the other client) is
// recorded, not asserted: it shows whether the gateway implements the
// long-poll commit-delay workaround (doc §8). Without it a client that just
// received a page cannot push until its held long-poll returns (~20 s), which
// exceeds the per-hop timeout.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { MODES, startBackend } from './lib/backend.mjs'
import { openClient } from './lib/client.mjs'
import { chainProblems, eventRows } from './lib/db.mjs'
import { summarize } from './lib/stats.mjs'
import { explained, testScope, uniqueStoreId, useCluster } from './lib/suite.mjs'

const TURNS = 5
const HOP_TIMEOUT = Number(process.env.E2E_HOP_TIMEOUT_MS ?? 15_000)
const ctx = useCluster('turns')

for (const mode of MODES) {
  test(`(a) A writes, B reads, then ${TURNS} turns [${mode}]`, { timeout: 150_000 }, async (t) => {
    const { dir, defer } = testScope(t, ctx, mode)
    const backend = await startBackend(mode, { databaseUrl: ctx.cluster.url, dir })
    defer(() => backend.stop())
    await explained(backend, async () => {
      const storeId = uniqueStoreId('turns')
      const open = async (clientId) => {
        const c = await openClient({ storeId, endpoint: backend.endpoint, clientId, logDir: dir })
        defer(() => c.close())
        return c
      }
      const a = await open('client-a')
      const b = await open('client-b')
      // Both live before the first write, so hop 0 measures sync, not boot.
      for (const c of [a, b]) await c.waitConnected()

      // Hop 0 is A -> B; hops 1..TURNS alternate B -> A, A -> B, ...
      const latencies = []
      const ids = []
      for (let hop = 0; hop <= TURNS; hop++) {
        const [writer, reader] = hop % 2 === 0 ? [a, b] : [b, a]
        const id = `${writer.clientId}-${hop}`
        ids.push(id)
        const tCommit = await writer.commit({ id, text: `hop ${hop}` })
        const tSeen = await reader.waitForIds([id], { timeout: HOP_TIMEOUT })
        latencies.push(tSeen - tCommit)
        t.diagnostic(`[${mode}] hop ${hop} ${writer.clientId} -> ${reader.clientId}: ${(tSeen - tCommit).toFixed(1)} ms`)
      }
      const all = summarize(latencies)
      const turns = summarize(latencies.slice(1))
      t.diagnostic(`[${mode}] write-to-other-client latency, all hops: ${all.text}; turns only: ${turns.text}`)
      t.diagnostic(`[${mode}] commit-delay workaround (turns under 1 s): ${turns.max < 1000 ? 'yes' : 'NO'}`)

      // Both clients confirmed everything (own events came back by pull) and agree.
      const events = TURNS + 1
      for (const c of [a, b]) await c.waitSynced(events)
      const want = [...ids].sort()
      assert.deepEqual((await a.items()).map((r) => r.id).sort(), want)
      assert.deepEqual((await b.items()).map((r) => r.id).sort(), want)

      const rows = await eventRows(ctx.cluster.url, storeId)
      assert.deepEqual(chainProblems(rows), [])
      assert.deepEqual(rows.map((r) => r.args.id), ids, 'Postgres holds the events in commit order')
    })
  })
}
