// Scenario (d), documented client behaviour (doc §3): when the client's first
// ping (HEAD) fails, `isConnected` stays false for the life of the client, so
// it never pushes and never applies pulled pages, even though pull and push
// themselves would work. Split endpoints point only the ping at a path the
// gateway does not serve. Run against the built-in gateway only: this pins
// the client, not a deployment mode.
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'

import { startBackend } from './lib/backend.mjs'
import { openClient } from './lib/client.mjs'
import { eventRows } from './lib/db.mjs'
import { explained, testScope, uniqueStoreId, useCluster } from './lib/suite.mjs'

const QUIET_MS = 4_000
const ctx = useCluster('head-fails')

test('(d) a client whose first HEAD fails never pushes nor applies pulls [built-in]', { timeout: 90_000 }, async (t) => {
  const { dir, defer } = testScope(t, ctx, 'built-in')
  const backend = await startBackend('built-in', { databaseUrl: ctx.cluster.url, dir })
  defer(() => backend.stop())
  await explained(backend, async () => {
    const badPing = `${backend.front.url}/e2e-no-such-ping`
    const head = await fetch(badPing, { method: 'HEAD' })
    if (head.ok) return t.skip(`the gateway answers HEAD ${badPing} with ${head.status}; cannot make the ping fail`)

    const storeId = uniqueStoreId('headfail')
    const open = async (clientId, endpoint, onSyncError) => {
      const c = await openClient({ storeId, endpoint, clientId, logDir: dir, onSyncError })
      defer(() => c.close())
      return c
    }
    // 'ignore': a failed connect must not shut the store down; we want to watch it stay offline.
    const deaf = await open('client-deaf', { pull: backend.endpoint, push: backend.endpoint, ping: badPing }, 'ignore')
    const ok = await open('client-ok', backend.endpoint, 'shutdown')

    await deaf.commit({ id: 'deaf-0', text: 'never pushed' })
    await ok.commit({ id: 'ok-0', text: 'pushed' })
    await ok.waitSynced(1)
    await sleep(QUIET_MS)

    const rows = await eventRows(ctx.cluster.url, storeId)
    assert.deepEqual(rows.map((r) => r.args.id), ['ok-0'], 'only the healthy client pushed')
    assert.equal(deaf.seen.has('ok-0'), false, 'the offline client did not apply the pulled event')
    const s = await deaf.status()
    assert.equal(s.pendingCount, 1, 'its own event is still waiting for the backend')
    assert.equal(s.isConnected, false, 'the client never considered itself connected')
    t.diagnostic(`offline client status after ${QUIET_MS} ms: ${JSON.stringify(s)}`)
  })
})
