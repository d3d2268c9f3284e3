// Scenario (c): a client with fs storage syncs, the gateway is restarted on
// the same port, and the client reopened from disk resumes with its persisted
// handle and offset (doc §6.7) and keeps syncing with a new client. Any
// re-sent old event or refused offset would kill the resumed pull.
// A third client stays open across the restart; whether its live pull
// survives (graceful restart, doc §6.8) is recorded, not asserted.
import assert from 'node:assert/strict'
import path from 'node:path'
import { test } from 'node:test'

import { MODES, startBackend } from './lib/backend.mjs'
import { openClient } from './lib/client.mjs'
import { chainProblems, eventRows } from './lib/db.mjs'
import { explained, testScope, uniqueStoreId, useCluster } from './lib/suite.mjs'

const ctx = useCluster('resume')

for (const mode of MODES) {
  test(`(c) fs client resumes after a gateway restart [${mode}]`, { timeout: 150_000 }, async (t) => {
    const { dir, defer } = testScope(t, ctx, mode)
    const backend = await startBackend(mode, { databaseUrl: ctx.cluster.url, dir })
    defer(() => backend.stop())
    await explained(backend, async () => {
      const storeId = uniqueStoreId('resume')
      const open = async (clientId, storage) => {
        const c = await openClient({ storeId, endpoint: backend.endpoint, clientId, storage, logDir: dir })
        defer(() => c.close())
        return c
      }
      const fsStorage = { type: 'fs', baseDirectory: path.join(dir, 'client-a-data') }

      let a = await open('client-a', fsStorage)
      const b = await open('client-b')
      await a.commit({ id: 'a-0', text: '' }, { id: 'a-1', text: '' }, { id: 'a-2', text: '' })
      await b.waitForIds(['a-0', 'a-1', 'a-2'])
      await b.commit({ id: 'b-0', text: '' }, { id: 'b-1', text: '' })
      await a.waitForIds(['b-0', 'b-1'])
      await a.waitSynced(5)
      await a.close()

      await backend.restart()

      // Reopened from disk: the five events are there before any sync.
      a = await open('client-a', fsStorage)
      const before = ['a-0', 'a-1', 'a-2', 'b-0', 'b-1']
      assert.deepEqual((await a.items()).map((r) => r.id).sort(), before, 'state restored from disk')

      const c = await open('client-c')
      await c.waitForIds(before)
      await a.commit({ id: 'a-3', text: 'after restart' })
      await c.waitForIds(['a-3'])
      await c.commit({ id: 'c-0', text: 'after restart' })
      await a.waitForIds(['c-0'])
      for (const x of [a, c]) await x.waitSynced(7)
      const want = [...before, 'a-3', 'c-0'].sort()
      assert.deepEqual((await a.items()).map((r) => r.id).sort(), want)
      assert.deepEqual((await c.items()).map((r) => r.id).sort(), want)

      const rows = await eventRows(ctx.cluster.url, storeId)
      assert.deepEqual(chainProblems(rows), [])
      assert.deepEqual(rows.map((r) => r.args.id), ['a-0', 'a-1', 'a-2', 'b-0', 'b-1', 'a-3', 'c-0'])

      // Informational: B never closed; did its live pull survive the restart?
      let survived = 'yes'
      try {
        await b.waitForIds(['a-3', 'c-0'], { timeout: 5_000 })
      } catch (e) {
        survived = `no (${e.message.split('\n')[0].slice(0, 200)})`
      }
      t.diagnostic(`[${mode}] client open across the gateway restart kept pulling: ${survived}`)
    })
  })
}
