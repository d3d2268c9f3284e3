// GET (built-in pull): Electric-format pages, flagged offsets, held live
// polls woken by appends, paging, auth, and no error on transient faults.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import { psql, startCluster, startGateway } from '../lib/harness.mjs'
import { events, inserts, pull, pullUrl, pushBatch } from './lib.mjs'

let pg, gw
before(async () => {
  pg = await startCluster()
  gw = await startGateway({ databaseUrl: pg.url, longPollTimeout: 5, authToken: 'tok%en+1', args: ['--page-events', '3'] })
})
after(async () => {
  await gw?.stop()
  await pg?.stop()
})
const auth = { authToken: 'tok%en+1' }

test('a first pull (handle None) creates the store and answers at once', async () => {
  const r = await pull(gw.endpoint, { storeId: 'Pull-A', payload: auth })
  assert.equal(r.status, 200)
  assert.deepEqual(r.body, [])
  assert.equal(r.headers.get('electric-offset'), '0_0')
  assert.ok(r.headers.get('electric-handle'))
  assert.equal(await psql(pg.url, `SELECT livestore.head('Pull-A')`), '0')
  assert.equal(await psql(pg.url, `SELECT to_regclass('public."eventlog_6_Pull_A"') IS NOT NULL`), 't')
})

test('pages are Electric insert messages with text values, flagged after events', async () => {
  assert.equal((await pushBatch(gw.endpoint, 'Pull-A', events(1, 5))).status, 200)
  const handle = (await pull(gw.endpoint, { storeId: 'Pull-A', payload: auth })).headers.get('electric-handle')
  const p1 = await pull(gw.endpoint, { storeId: 'Pull-A', payload: auth, handle, offset: '0_0' })
  assert.equal(p1.status, 200)
  const rows = inserts(p1.body)
  assert.deepEqual(rows.map((m) => m.value.seqNum), ['1', '2', '3'])  // --page-events 3
  assert.deepEqual(rows[0].headers.relation, ['public', 'eventlog_6_Pull_A'])
  assert.equal(rows[0].key, '"public"."eventlog_6_Pull_A"/"1"')
  assert.deepEqual(rows[0].value, { seqNum: '1', parentSeqNum: '0', name: 'v1.ItemAdded', args: rows[0].value.args, clientId: 'client-a', sessionId: 'client-a-1' })
  assert.deepEqual(JSON.parse(rows[0].value.args), { id: 'client-a-1', text: 'event 1' })
  assert.equal(p1.headers.get('electric-offset'), '3_0~')
  assert.equal(p1.headers.get('electric-handle'), handle)
  assert.equal(p1.headers.get('cache-control'), 'public, max-age=604800, s-maxage=3600, stale-while-revalidate=2629746')  // a full page never changes

  // A flagged offset: the rest at once, flagged again; then an empty page, plain.
  const p2 = await pull(gw.endpoint, { storeId: 'Pull-A', payload: auth, handle, offset: '3_0~' })
  assert.deepEqual(inserts(p2.body).map((m) => m.value.seqNum), ['4', '5'])
  assert.equal(p2.headers.get('electric-offset'), '5_0~')
  const p3 = await pull(gw.endpoint, { storeId: 'Pull-A', payload: auth, handle, offset: '5_0~' })
  assert.deepEqual(inserts(p3.body), [])
  assert.equal(p3.headers.get('electric-offset'), '5_0')
  assert.ok(p3.ms < 2500, `flagged live pull answered at once (${p3.ms} ms)`)
})

test('a live pull with nothing new is held until an append, then gets it', async () => {
  const handle = 'any-handle'  // an unknown handle is positioned by its offset alone
  const held = pull(gw.endpoint, { storeId: 'Pull-A', payload: auth, handle, offset: '5_0' })
  await new Promise((r) => setTimeout(r, 300))
  assert.equal((await pushBatch(gw.endpoint, 'Pull-A', events(6, 6))).status, 200)
  const r = await held
  assert.deepEqual(inserts(r.body).map((m) => m.value.seqNum), ['6'])
  assert.equal(r.headers.get('electric-offset'), '6_0~')
  assert.ok(r.ms >= 250 && r.ms < 4500, `woken by the append (${r.ms} ms)`)
})

test('one commit into more than 32 stores wakes held pulls too (the ring says "missed")', async () => {
  // A commit publishes up to 32 stores one by one, more as one "missed"
  // entry: the gateway then wakes every held poll to re-read.
  await psql(pg.url, `SELECT count(livestore.create_store('Pull-M' || i)) FROM generate_series(1, 33) i`)
  const held = pull(gw.endpoint, { storeId: 'Pull-M33', payload: auth, handle: 'h', offset: '0_0' })
  await new Promise((r) => setTimeout(r, 300))
  await psql(pg.url, `BEGIN;
    SELECT count(livestore.emit('Pull-M' || i, '[{"name":"v1.Many","args":{}}]')) FROM generate_series(1, 33) i;
    COMMIT;`)
  const r = await held
  assert.equal(r.status, 200)
  assert.deepEqual(inserts(r.body).map((m) => [m.value.seqNum, m.value.name]), [['1', 'v1.Many']])
  assert.ok(r.ms >= 250 && r.ms < 4500, `woken by the commit, not the 5 s timeout (${r.ms} ms)`)
})

test('a held pull times out with 200, the same offset and up-to-date', async () => {
  const r = await pull(gw.endpoint, { storeId: 'Pull-A', payload: auth, handle: 'h', offset: '6_0' })
  assert.equal(r.status, 200)
  assert.ok(r.ms >= 4500, `held for the long-poll timeout (${r.ms} ms)`)
  assert.deepEqual(r.body, [{ headers: { control: 'up-to-date' } }])
  // The same position, with a new cache cursor after '_' (gw/pull_cache.h).
  assert.match(r.headers.get('electric-offset'), /^6_[1-9]\d*$/)
  assert.equal(r.headers.get('electric-has-data'), 'false')
  // Present on every answer that ends with up-to-date (Electric's client
  // stops prefetching on it); libmicrohttpd cannot send it empty.
  assert.equal(r.headers.get('electric-up-to-date'), 'true')
})

test('non-live pulls are answered at once', async () => {
  const r = await pull(gw.endpoint, { storeId: 'Pull-A', payload: auth, handle: 'h', offset: '6_0', live: false })
  assert.ok(r.ms < 2500)
  assert.ok(r.headers.get('electric-schema'))
  assert.equal(r.headers.get('electric-up-to-date'), 'true', 'the end of the log')
})

test('a wrong or missing token is 401; malformed args are 400', async () => {
  assert.equal((await pull(gw.endpoint, { storeId: 'Pull-A', payload: { authToken: 'nope' } })).status, 401)
  assert.equal((await pull(gw.endpoint, { storeId: 'Pull-A' })).status, 401)
  const bad = async (q) => (await fetch(`${gw.endpoint}${q}`)).status
  assert.equal(await bad(''), 400)
  assert.equal(await bad('?args=%7B'), 400)
  assert.equal(await bad(`?args=${encodeURIComponent(JSON.stringify({ _tag: 'x', storeId: 'a', handle: { _tag: 'None' }, live: true }))}`), 400)
  assert.equal((await fetch(pullUrl(gw.endpoint, { storeId: 'a b', payload: auth }))).status, 400)
  assert.equal((await pull(gw.endpoint, { storeId: 'Pull-A', payload: auth, handle: 'h', offset: 'garbage' })).status, 400)
})

test('a held pull survives a Postgres restart and still answers 200', async () => {
  const held = pull(gw.endpoint, { storeId: 'Pull-A', payload: auth, handle: 'h', offset: '6_0' })
  await new Promise((r) => setTimeout(r, 200))
  await pg.restart()
  const r = await held
  assert.equal(r.status, 200)
  assert.match(r.headers.get('electric-offset'), /^6_\d+$/)  // cursor or not: see gw/pull_cache.h
  // And the next pull and push work again.
  assert.equal((await pushBatch(gw.endpoint, 'Pull-A', events(7, 7))).status, 200)
  const n = await pull(gw.endpoint, { storeId: 'Pull-A', payload: auth, handle: 'h', offset: '6_0' })
  assert.deepEqual(inserts(n.body).map((m) => m.value.seqNum), ['7'])
})

test('CORS: preflight allows the client headers; responses expose electric-*', async () => {
  const pre = await fetch(gw.endpoint, { method: 'OPTIONS', headers: { origin: 'http://app.test', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,b3,traceparent' } })
  assert.equal(pre.status, 204)
  assert.equal(pre.headers.get('access-control-allow-origin'), 'http://app.test')
  assert.match(pre.headers.get('access-control-allow-headers'), /content-type.*b3.*traceparent/)
  assert.match(pre.headers.get('access-control-allow-methods'), /GET.*POST.*HEAD/)
  const r = await fetch(pullUrl(gw.endpoint, { storeId: 'Pull-A', payload: auth }), { headers: { origin: 'http://app.test' } })
  assert.match(r.headers.get('access-control-expose-headers'), /electric-handle.*electric-offset/)
  assert.match(r.headers.get('vary'), /Origin/)
})
