// POST (push): success, conflicts with the head, idempotent re-sends, bad
// input answered 4xx with nothing written, and Postgres outages as 503.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import { psql, startCluster, startGateway } from '../lib/harness.mjs'
import { PUSH_TAG, events, push, pushBatch } from './lib.mjs'

let pg, gw
before(async () => {
  pg = await startCluster()
  gw = await startGateway({ databaseUrl: pg.url, args: ['--max-body-bytes', '65536'] })
})
after(async () => {
  await gw?.stop()
  await pg?.stop()
})

const count = (table) => psql(pg.url, `SELECT count(*) FROM "${table}"`).then(Number)

test('first push creates the store and appends; the answer is {"success":true}', async () => {
  const r = await pushBatch(gw.endpoint, 'push-a', events(1, 3))
  assert.equal(r.status, 200)
  assert.equal(r.json.success, true)
  assert.equal(r.json.head, 3)
  assert.equal(await count('eventlog_6_push_a'), 3)
  assert.equal(await psql(pg.url, `SELECT args::text FROM eventlog_6_push_a WHERE "seqNum" = 2`), '{"id": "client-a-2", "text": "event 2"}')
})

test('a re-sent batch (lost acknowledgement) succeeds without writing', async () => {
  const r = await pushBatch(gw.endpoint, 'push-a', events(1, 3))
  assert.equal(r.status, 200)
  assert.equal(await count('eventlog_6_push_a'), 3)
})

test('a batch behind the head answers 409 with the head, and writes nothing', async () => {
  const r = await pushBatch(gw.endpoint, 'push-a', events(2, 4, { clientId: 'client-b' }))
  assert.equal(r.status, 409)
  assert.equal(r.json.success, false)
  assert.equal(r.json.code, 'LS001')
  assert.equal(r.json.head, 3)
  assert.equal(await count('eventlog_6_push_a'), 3)
})

test('malformed pushes get 400 with a message and write nothing', async () => {
  const good = events(4, 4)
  const cases = [
    ['not JSON', '{"_tag":'],
    ['not an object', '[1,2]'],
    ['wrong _tag', { _tag: 'nope', storeId: 'push-a', batch: good }],
    ['missing storeId', { _tag: PUSH_TAG, batch: good }],
    ['SQL-looking storeId', { _tag: PUSH_TAG, storeId: 'x"; drop table y; --', batch: good }],
    ['batch not an array', { _tag: PUSH_TAG, storeId: 'push-a', batch: {} }],
    ['empty batch', { _tag: PUSH_TAG, storeId: 'push-a', batch: [] }],
    ['float seqNum', { _tag: PUSH_TAG, storeId: 'push-a', batch: [{ ...good[0], seqNum: 4.5 }] }],
    ['huge seqNum', '{"_tag":"' + PUSH_TAG + '","storeId":"push-a","batch":[{"name":"n","args":1,"seqNum":99999999999999999999,"parentSeqNum":3,"clientId":"c","sessionId":"s"}]}'],
    ['broken chain', { _tag: PUSH_TAG, storeId: 'push-a', batch: [good[0], { ...good[0], seqNum: 6, parentSeqNum: 5 }] }],
    ['missing name', { _tag: PUSH_TAG, storeId: 'push-a', batch: [{ ...good[0], name: undefined }] }],
    ['empty clientId', { _tag: PUSH_TAG, storeId: 'push-a', batch: [{ ...good[0], clientId: '' }] }],
    ['deep nesting', '{"_tag":"' + PUSH_TAG + '","storeId":"push-a","batch":' + '['.repeat(5000) + ']'.repeat(5000) + '}'],
  ]
  for (const [what, body] of cases) {
    const r = await push(gw.endpoint, body)
    assert.equal(r.status, 400, `${what}: ${r.status} ${r.text}`)
    assert.equal(typeof r.json?.error, 'string', `${what}: error message`)
  }
  assert.equal(await count('eventlog_6_push_a'), 3)
})

test('oversized bodies get 413, wrong content types 415', async () => {
  const big = events(4, 400).map((e) => ({ ...e, args: { pad: 'x'.repeat(200) } }))
  const r = await pushBatch(gw.endpoint, 'push-a', big)
  assert.equal(r.status, 413)
  const t = await push(gw.endpoint, { _tag: PUSH_TAG, storeId: 'push-a', batch: events(4, 4) }, { contentType: 'application/x-www-form-urlencoded' })
  assert.equal(t.status, 415)
  assert.equal(await count('eventlog_6_push_a'), 3)
})

test('with Postgres down a push answers 503 with Retry-After, and succeeds once it is back', async () => {
  await pg.restart()  // drops every gateway connection
  const ok = await pushBatch(gw.endpoint, 'push-a', events(4, 4))
  assert.equal(ok.status, 200, ok.text)  // reconnected transparently
  await psql(pg.url, 'SELECT 1')
  const { execFileSync } = await import('node:child_process')
  execFileSync('bash', ['-c', `source test/lib/cluster.sh && cluster_stop "${pg.dir}"`], { cwd: new URL('../..', import.meta.url).pathname })
  try {
    const down = await pushBatch(gw.endpoint, 'push-a', events(5, 5))
    assert.equal(down.status, 503)
    assert.ok(Number(down.headers.get('retry-after')) >= 1)
  } finally {
    execFileSync('bash', ['-c', `source test/lib/cluster.sh && cluster_start "${pg.dir}" ${pg.port}`], { cwd: new URL('../..', import.meta.url).pathname })
  }
  const again = await pushBatch(gw.endpoint, 'push-a', events(5, 5))
  assert.equal(again.status, 200)
  assert.equal(await count('eventlog_6_push_a'), 5)
})

test('numbers and strings reach Postgres exactly as sent; hostile JSON is refused, never fatal', async () => {
  // Sent as raw text: JSON.stringify would already round these.
  const raw = (seq, args) => `{"_tag":"${PUSH_TAG}","storeId":"exact","batch":[{"name":"v1.N","args":${args},` +
    `"seqNum":${seq},"parentSeqNum":${seq - 1},"clientId":"c","sessionId":"s"}]}`
  assert.equal((await push(gw.endpoint, raw(1, '{"x":-247762.47309469618,"big":567149435820338640000,"huge":1.8e308}'))).status, 200)
  const stored = JSON.parse(await psql(pg.url, `SELECT args::text FROM eventlog_6_exact WHERE "seqNum" = 1`))
  assert.equal(stored.x, -247762.47309469618)
  assert.equal(stored.big, 567149435820338640000)
  assert.equal(stored.huge, 1.8e308)
  for (const args of ['"v1.\\udc00"', '"\\u0000"', '['.repeat(100000) + ']'.repeat(100000)]) {
    const r = await push(gw.endpoint, raw(2, args))
    assert.ok(r.status === 400 || r.status === 413, `${args.slice(0, 20)}: ${r.status} ${r.text}`)
  }
  assert.equal((await fetch(gw.endpoint, { method: 'HEAD' })).status, 200, 'the gateway is still up')
  assert.equal(await count('eventlog_6_exact'), 1)
})
