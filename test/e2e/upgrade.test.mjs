// Zero-downtime upgrade: while live clients are pulling, a new gateway is
// started on the same port (SO_REUSEPORT) and the old one gets SIGTERM. The
// old one lets go of the port first, then answers its held polls; each
// client's next request reaches the new gateway, so live sync goes on
// without restarting any client (a refused or dropped pull would end it).
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'

import { startGateway, waitFor } from '../lib/harness.mjs'
import { AUTH_TOKEN } from './lib/backend.mjs'
import { openClient } from './lib/client.mjs'
import { chainProblems, eventRows } from './lib/db.mjs'
import { testScope, uniqueStoreId, useCluster } from './lib/suite.mjs'

const ctx = useCluster('upgrade')

test('live clients keep syncing across a gateway upgrade on the same port', { timeout: 120_000 }, async (t) => {
  const { dir, defer } = testScope(t, ctx, 'upgrade')
  const common = { databaseUrl: ctx.cluster.url, authToken: AUTH_TOKEN, drainSeconds: null }
  const old = await startGateway({ ...common, logFile: path.join(dir, 'gateway-old.log') })
  defer(() => old.stop())
  const storeId = uniqueStoreId('upgrade')
  const clients = []
  for (const id of ['client-a', 'client-b', 'client-c']) {
    const c = await openClient({ storeId, endpoint: old.endpoint, clientId: id, logDir: dir })
    defer(() => c.close())
    clients.push(c)
  }
  const [a, b, c] = clients
  await a.commit({ id: 'before-1', text: '' })
  await b.waitForIds(['before-1'])
  await c.waitForIds(['before-1'])

  const next = await startGateway({ ...common, port: old.port, logFile: path.join(dir, 'gateway-new.log') })
  defer(() => next.stop())
  await waitFor(() => readFileSync(next.logFile, 'utf8').includes('listening on'), { what: 'the new gateway to listen' })
  const exit = await old.stop('SIGTERM')
  assert.equal(exit.code, 0)

  await b.commit({ id: 'after-b', text: '' })
  await a.commit({ id: 'after-a', text: '' })
  for (const x of clients) await x.waitForIds(['before-1', 'after-b', 'after-a'], { timeout: 20_000 })
  const rows = await eventRows(ctx.cluster.url, storeId)
  assert.deepEqual(chainProblems(rows), [])
  assert.deepEqual(rows.map((r) => r.args.id).sort(), ['after-a', 'after-b', 'before-1'])
  const served = readFileSync(next.logFile, 'utf8').split('\n').filter((l) => l.includes('"route":"pull"')).length
  assert.ok(served > 0, 'the new gateway served the clients\' pulls')
})
