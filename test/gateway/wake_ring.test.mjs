// Wake-ups across gateways: a live pull held on gateway B is woken by pushes
// through gateway A on the same database (B's wake-up connection follows
// livestore.wait_changes(), or LISTENs before extension 0.3.0). B starts a
// wait at most every 5 ms, so a burst of commits reaches it in a few waits,
// some landing in a wait, some in the pause between two.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import { startCluster, startGateway } from '../lib/harness.mjs'
import { events, inserts, pull, pushBatch } from './lib.mjs'

let pg, gwA, gwB
before(async () => {
  pg = await startCluster()
  gwA = await startGateway({ databaseUrl: pg.url, longPollTimeout: 20, authToken: 'tok' })
  gwB = await startGateway({ databaseUrl: pg.url, longPollTimeout: 20, authToken: 'tok' })
})
after(async () => {
  await gwA?.stop()
  await gwB?.stop()
  await pg?.stop()
})
const auth = { authToken: 'tok' }

// Follows the store on `endpoint` from `offset` as the client does (live
// pulls, the offset of each answer) until it holds `want` events or 60 s passed.
// `unwoken`: held pulls (a plain offset) answered without events, i.e. by the
// long-poll timeout (20 s) instead of a wake-up.
async function follow(endpoint, storeId, handle, offset, want) {
  const seen = []
  let unwoken = 0
  const deadline = Date.now() + 60_000
  while (seen.length < want && Date.now() < deadline) {
    const r = await pull(endpoint, { storeId, payload: auth, handle, offset })
    assert.equal(r.status, 200)
    const got = inserts(r.body).map((m) => Number(m.value.seqNum))
    if (got.length === 0 && !offset.endsWith('~')) unwoken++
    seen.push(...got)
    offset = r.headers.get('electric-offset')
  }
  return { seen, unwoken }
}

test('a pull held on one gateway is woken by a push through another', async () => {
  const first = await pull(gwB.endpoint, { storeId: 'Ring-One', payload: auth })
  const handle = first.headers.get('electric-handle')
  const held = pull(gwB.endpoint, { storeId: 'Ring-One', payload: auth, handle, offset: '0_0' })
  await new Promise((r) => setTimeout(r, 300))  // B's wait is idle, in flight
  assert.equal((await pushBatch(gwA.endpoint, 'Ring-One', events(1, 1))).status, 200)
  const r = await held
  assert.equal(r.status, 200)
  // The event itself, not the long-poll timeout's empty answer (20 s).
  assert.deepEqual(inserts(r.body).map((m) => m.value.seqNum), ['1'])
})

test('a burst of pushes through one gateway reaches a reader on another, every event in order', async () => {
  const n = 300
  const first = await pull(gwB.endpoint, { storeId: 'Ring-Burst', payload: auth })
  const handle = first.headers.get('electric-handle')
  const reader = follow(gwB.endpoint, 'Ring-Burst', handle, '0_0', n)
  for (let i = 1; i <= n; i++) assert.equal((await pushBatch(gwA.endpoint, 'Ring-Burst', events(i, i))).status, 200)
  const { seen, unwoken } = await reader
  assert.deepEqual(seen, Array.from({ length: n }, (_, i) => i + 1))
  assert.equal(unwoken, 0, 'every held pull was woken by a change, none by the long-poll timeout')
})
