// The official Electric client (@electric-sql/client, ShapeStream and Shape)
// against the gateway's built-in /v1/shape on a real Postgres: initial sync
// over several pages, live updates from SQL and from pushes, resume after a
// gateway restart, 409 must-refetch when the store is dropped and created
// again, every column's value as the client parses it, `columns` and a
// `where` on "seqNum", and Electric's 400 for every parameter the gateway
// cannot honour.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import { FetchError, Shape, ShapeStream } from '@electric-sql/client'

import { psql, startCluster, startGateway, waitFor } from '../lib/harness.mjs'
import { pushBatch } from '../gateway/lib.mjs'

const PAGE = 3  // --page-events: every sync below spans several pages

let pg, gw
before(async () => {
  pg = await startCluster()
  // A long-poll timeout longer than the gateway's 2 s page cache: a poll that times out reads the log afresh.
  gw = await startGateway({ databaseUrl: pg.url, shapeApi: true, longPollTimeout: 3, args: ['--page-events', String(PAGE)] })
})
after(async () => {
  await gw?.stop()
  await pg?.stop()
  // The client's up-to-date tracker (a module singleton) throttles its
  // localStorage writes with a 60 s timer that is not unref'd: in Node it
  // would hold this process for up to a minute after the last test. Leave
  // once the results are reported (the exit code is node:test's).
  setTimeout(() => process.exit(), 1000).unref()
})

const sql = (q) => psql(pg.url, q)
const tableOf = async (store) => `"${await sql(`SELECT livestore.table_name('${store}')`)}"`
const emit = (store, evs) => sql(`SELECT livestore.emit('${store}', '${JSON.stringify(evs).replaceAll("'", "''")}'::jsonb)`)
const byName = (n) => ({ name: 'v1.Added', args: { n } })

/**
 * A ShapeStream on `store` that records every request and every message.
 * Returns { stream, shape, requests, messages, inserts(), stop() }.
 */
async function open(store, { params = {}, offset, handle, onError } = {}) {
  const ac = new AbortController()
  const requests = []  // { url, status, offset }
  const messages = []
  // Recorded when sent, so that a prefetch the client aborts counts too.
  const fetchClient = async (input, init) => {
    const r = { url: new URL(String(input)), status: undefined, offset: undefined }
    requests.push(r)
    const res = await fetch(input, init)
    r.status = res.status
    r.offset = res.headers.get('electric-offset')
    return res
  }
  const stream = new ShapeStream({
    url: `${gw.url}/v1/shape`,
    params: { table: await tableOf(store), ...params },
    offset,
    handle,
    signal: ac.signal,
    fetchClient,
    onError,
  })
  stream.subscribe((batch) => { messages.push(...batch) }, () => {})
  const shape = new Shape(stream)
  return {
    stream,
    shape,
    requests,
    messages,
    inserts: () => messages.filter((m) => m.headers?.operation === 'insert'),
    stop: () => { stream.unsubscribeAll(); ac.abort() },
  }
}

const seqs = (rows) => rows.map((r) => r.seqNum).sort((a, b) => a - b)
const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

test('initial sync over several pages, then live updates from SQL and from pushes', async () => {
  await sql(`SELECT livestore.create_store('cl-live')`)
  await emit('cl-live', range(1, 10).map(byName))
  const c = await open('cl-live')
  try {
    const rows = await c.shape.rows
    assert.deepEqual(seqs(rows), range(1, 10))
    // -1, 3_0, 6_0, 9_0: four pages before the client is up to date, and no
    // prefetch of a fifth (the last page carries electric-up-to-date).
    const initial = c.requests.filter((r) => !r.url.searchParams.has('live'))
    assert.deepEqual(initial.map((r) => r.url.searchParams.get('offset')), ['-1', '3_0', '6_0', '9_0'])
    assert.deepEqual(initial.map((r) => r.offset), ['3_0', '6_0', '9_0', '10_0'])
    assert.equal(c.stream.isUpToDate, true)

    await emit('cl-live', [byName(11), byName(12)])
    await waitFor(() => c.shape.currentRows.length === 12, { what: 'events emitted from SQL, live' })
    const push = await pushBatch(gw.endpoint, 'cl-live', [
      { name: 'v1.Pushed', args: { via: 'http' }, seqNum: 13, parentSeqNum: 12, clientId: 'web', sessionId: 'web-1' },
    ])
    assert.equal(push.status, 200)
    await waitFor(() => c.shape.currentRows.length === 13, { what: 'a pushed event, live' })
    assert.ok(c.requests.some((r) => r.url.searchParams.get('live') === 'true' && r.offset === '13_0'))
    // Each event exactly once, in log order.
    assert.deepEqual(c.inserts().map((m) => m.value.seqNum), range(1, 13))
  } finally {
    c.stop()
  }
})

test('every column arrives as the client parses it: integers, text, args as JSON, NULL parentSeqNum', async () => {
  await sql(`SELECT livestore.create_store('cl-values')`)
  const args = [
    { id: 't1', text: 'plain' },
    { nested: { deep: [1, 2.5, -3e-7, { x: null }] }, flag: true, off: false, none: null },
    { quote: 'say "hi"', backslash: 'a\\b', newline: 'l1\nl2', tab: '\t', unicode: 'żółw 🐢 日本' },
    [1, 'two', { three: 3 }],
    'just a string',
    42,
    {},
  ]
  await emit('cl-values', args.map((a, i) => ({
    name: `v1.Kind${i} "q" 🐢`, args: a, clientId: `client-${i} ü`, sessionId: `s'${i}`,
  })))
  // A row written by hand with no parent: the column is nullable.
  const table = await tableOf('cl-values')
  await sql(`INSERT INTO ${table} ("seqNum", "parentSeqNum", name, args, "clientId", "sessionId")
             VALUES (8, NULL, 'v1.Orphan', '{"k":"v"}', 'sql', 'sql-1')`)
  const c = await open('cl-values')
  try {
    const rows = (await c.shape.rows).sort((a, b) => a.seqNum - b.seqNum)
    assert.equal(rows.length, 8)
    args.forEach((a, i) => {
      const row = rows[i]
      assert.deepEqual(Object.keys(row).sort(), ['args', 'clientId', 'name', 'parentSeqNum', 'seqNum', 'sessionId'])
      assert.equal(row.seqNum, i + 1)
      assert.equal(row.parentSeqNum, i)
      assert.deepEqual(row.args, a)
      assert.equal(row.name, `v1.Kind${i} "q" 🐢`)
      assert.equal(row.clientId, `client-${i} ü`)
      assert.equal(row.sessionId, `s'${i}`)
    })
    assert.deepEqual(rows[7], { seqNum: 8, parentSeqNum: null, name: 'v1.Orphan', args: { k: 'v' }, clientId: 'sql', sessionId: 'sql-1' })
    const schemaReply = await fetch(`${gw.url}/v1/shape?table=${encodeURIComponent(table)}&offset=-1`)
    const schema = JSON.parse(schemaReply.headers.get('electric-schema'))
    assert.deepEqual(schema.seqNum, { type: 'int4', not_null: true, pk_index: 0 })
    assert.deepEqual(schema.args, { type: 'jsonb', not_null: true })
    // Keys as Electric writes them: "schema"."table"/"pk".
    assert.equal(c.inserts()[0].key, `"public".${table}/"1"`)
  } finally {
    c.stop()
  }
})

test('resume after a gateway restart: the live stream carries on, and a new stream picks up handle and offset', async () => {
  await sql(`SELECT livestore.create_store('cl-resume')`)
  await emit('cl-resume', range(1, 5).map(byName))
  const c = await open('cl-resume')
  let c2
  try {
    await c.shape.rows
    const handle = c.stream.shapeHandle
    const offset = c.stream.lastOffset
    assert.equal(offset, '5_0')
    await gw.restart()
    await emit('cl-resume', range(6, 8).map(byName))  // written while the live stream reconnects
    await waitFor(() => c.shape.currentRows.length === 8, { timeout: 30_000, what: 'the live stream after the restart' })
    assert.equal(c.stream.shapeHandle, handle)  // stable across restarts: no refetch
    assert.deepEqual(c.inserts().map((m) => m.value.seqNum), range(1, 8))
    assert.ok(!c.messages.some((m) => m.headers?.control === 'must-refetch'))

    // A second client resumes from what the first had before the restart.
    c2 = await open('cl-resume', { handle, offset })
    await waitFor(() => c2.stream.isUpToDate, { what: 'the resumed stream up to date' })
    assert.equal(c2.requests[0].url.searchParams.get('offset'), '5_0')
    assert.equal(c2.requests[0].url.searchParams.get('handle'), handle)
    assert.deepEqual(c2.inserts().map((m) => m.value.seqNum), [6, 7, 8])  // no duplicate, no gap
    await emit('cl-resume', [byName(9)])
    await waitFor(() => c2.inserts().length === 4, { what: 'a live event on the resumed stream' })
    assert.deepEqual(c2.inserts().map((m) => m.value.seqNum), [6, 7, 8, 9])
  } finally {
    c.stop()
    c2?.stop()
  }
})

test('409 must-refetch: a store dropped and created again under the same table while the client is live', async () => {
  await sql(`SELECT livestore.create_store('cl-rotate')`)
  await emit('cl-rotate', range(1, 7).map(byName))
  const c = await open('cl-rotate')
  try {
    await c.shape.rows
    const oldHandle = c.stream.shapeHandle
    await waitFor(() => c.requests.some((r) => r.url.searchParams.get('live') === 'true'), { what: 'a live poll' })
    // The new log is shorter than the old offset: without a refetch the client would miss all of it.
    await sql(`BEGIN; SELECT livestore.drop_store('cl-rotate'); SELECT livestore.create_store('cl-rotate');
               SELECT livestore.emit('cl-rotate', '[{"name":"v1.Fresh","args":{"n":101}},{"name":"v1.Fresh","args":{"n":102}}]'); COMMIT;`)
    await waitFor(() => c.shape.currentRows.length === 2 && c.shape.currentRows.every((r) => r.name === 'v1.Fresh'),
      { timeout: 20_000, what: 'the client refetched the new log' })
    assert.ok(c.requests.some((r) => r.status === 409))
    assert.ok(c.messages.some((m) => m.headers?.control === 'must-refetch'))
    assert.notEqual(c.stream.shapeHandle, oldHandle)
    assert.deepEqual(c.shape.currentRows.map((r) => r.args.n).sort(), [101, 102])
    const refetch = c.requests.find((r, i) => i > 0 && c.requests[i - 1].status === 409)
    assert.equal(refetch.url.searchParams.get('offset'), '-1')
    assert.equal(refetch.url.searchParams.get('expired_handle'), oldHandle)  // the client's own parameters are accepted
    assert.ok(refetch.url.searchParams.has('cache-buster'))
  } finally {
    c.stop()
  }
})

test('409 over plain HTTP: a poll held while its store is dropped and created again gets the new handle', async () => {
  await sql(`SELECT livestore.create_store('cl-held')`)
  await emit('cl-held', range(1, 2).map(byName))
  const url = `${gw.url}/v1/shape?table=${encodeURIComponent(await tableOf('cl-held'))}`
  const first = await fetch(`${url}&offset=-1`)
  await first.arrayBuffer()
  const handle = first.headers.get('electric-handle')
  const held = fetch(`${url}&offset=2_0&handle=${handle}&live=true&cursor=`)
  await new Promise((r) => setTimeout(r, 300))
  await sql(`BEGIN; SELECT livestore.drop_store('cl-held'); SELECT livestore.create_store('cl-held');
             SELECT livestore.emit('cl-held', '[{"name":"a","args":{}},{"name":"b","args":{}},{"name":"c","args":{}}]'); COMMIT;`)
  const r = await held
  assert.equal(r.status, 409)
  assert.deepEqual(await r.json(), [{ headers: { control: 'must-refetch' } }])
  assert.equal(r.headers.get('electric-offset'), null)
  const fresh = await fetch(`${url}&offset=-1`)
  await fresh.arrayBuffer()
  assert.notEqual(fresh.headers.get('electric-handle'), handle)
  assert.equal(r.headers.get('electric-handle'), fresh.headers.get('electric-handle'))
  // The old handle stays refused, whatever its offset.
  for (const offset of ['0_0', '2_0', '3_0']) assert.equal((await fetch(`${url}&offset=${offset}&handle=${handle}`)).status, 409)
})

test('409 without a handle for a poll whose store is dropped; the table is then unknown (400), and not created again', async () => {
  await sql(`SELECT livestore.create_store('cl-gone')`)
  await emit('cl-gone', range(1, 2).map(byName))
  const table = await tableOf('cl-gone')
  const url = `${gw.url}/v1/shape?table=${encodeURIComponent(table)}`
  const first = await fetch(`${url}&offset=-1`)
  await first.arrayBuffer()
  const held = fetch(`${url}&offset=2_0&handle=${first.headers.get('electric-handle')}&live=true&cursor=`)
  await new Promise((r) => setTimeout(r, 300))
  await sql(`SELECT livestore.drop_store('cl-gone')`)
  const r = await held  // at the long-poll timeout at the latest
  assert.equal(r.status, 409)
  assert.equal(r.headers.get('electric-handle'), null)
  assert.deepEqual(await r.json(), [{ headers: { control: 'must-refetch' } }])
  const again = await fetch(`${url}&offset=-1`)
  assert.equal(again.status, 400)
  assert.match((await again.json()).errors.table[0], /does not exist/)
  assert.equal(await sql(`SELECT count(*) FROM livestore.stores WHERE store_id = 'cl-gone'`), '0')
})

test('409 for a handle the gateway never issued: the client starts over and ends with every row', async () => {
  await sql(`SELECT livestore.create_store('cl-foreign')`)
  await emit('cl-foreign', range(1, 4).map(byName))
  const c = await open('cl-foreign', { handle: '999-123', offset: '2_0' })
  try {
    await waitFor(() => c.shape.currentRows.length === 4 && c.stream.isUpToDate, { what: 'a full refetch' })
    assert.equal(c.requests[0].status, 409)
    assert.deepEqual(c.inserts().map((m) => m.value.seqNum), [1, 2, 3, 4])
  } finally {
    c.stop()
  }
})

test('columns and a where on "seqNum", initial and live', async () => {
  await sql(`SELECT livestore.create_store('cl-filter')`)
  await emit('cl-filter', range(1, 10).map(byName))
  const c = await open('cl-filter', {
    params: { columns: ['seqNum', 'args'], where: '"seqNum" > 3 AND "seqNum" <= 12 AND "seqNum" <> 5' },
  })
  try {
    const rows = await c.shape.rows
    assert.deepEqual(seqs(rows), [4, 6, 7, 8, 9, 10])
    for (const r of rows) assert.deepEqual(r, { seqNum: r.seqNum, args: { n: r.seqNum } })
    assert.equal(c.requests[0].url.searchParams.get('columns'), '"seqNum","args"')
    await emit('cl-filter', range(11, 14).map(byName))
    await waitFor(() => c.shape.currentRows.length === 8, { what: 'live rows inside the where' })
    await emit('cl-filter', [byName(15)])
    await waitFor(() => c.stream.lastOffset === '15_0', { what: 'the stream past an event outside the where' })
    assert.deepEqual(seqs(c.shape.currentRows), [4, 6, 7, 8, 9, 10, 11, 12])
    assert.deepEqual(c.inserts().map((m) => m.value.seqNum), [4, 6, 7, 8, 9, 10, 11, 12])
  } finally {
    c.stop()
  }
})

test('a where the gateway cannot evaluate reaches the client as Electric\'s 400, naming it', async () => {
  await sql(`SELECT livestore.create_store('cl-refused')`)
  let seen
  const c = await open('cl-refused', {
    params: { where: `name = 'v1.Added'` },
    onError: (e) => { seen = e },  // returning nothing: the stream stops
  })
  try {
    await waitFor(() => seen, { what: 'onError' })
    assert.ok(seen instanceof FetchError)
    assert.equal(seen.status, 400)
    assert.equal(seen.json.message, 'Invalid request')
    assert.deepEqual(Object.keys(seen.json.errors), ['where'])
    assert.match(seen.json.errors.where[0], /"seqNum"/)
    assert.equal(c.shape.currentRows.length, 0)
  } finally {
    c.stop()
  }
})

test('every parameter it does not support answers 400 in Electric\'s format, naming it; supported ones answer 200', async () => {
  await sql(`SELECT livestore.create_store('cl-params')`)
  await emit('cl-params', range(1, 2).map(byName))
  const table = encodeURIComponent(await tableOf('cl-params'))
  const get = async (extra) => {
    const r = await fetch(`${gw.url}/v1/shape?table=${table}&offset=-1&${extra}`)
    const text = await r.text()
    return { status: r.status, body: JSON.parse(text), cache: r.headers.get('cache-control') }
  }
  const refused = [
    ['where', 'where=' + encodeURIComponent(`"seqNum" > 1 OR "seqNum" < 0`)],
    ['where', 'where=' + encodeURIComponent(`"seqNum" > $1`)],
    ['where', 'where=' + encodeURIComponent(`seqNum > 1`)],  // folds to seqnum: no such column
    ['where', 'where=' + encodeURIComponent(`"seqNum" > 1.5`)],
    ['where', 'where='],
    ['params[1]', 'params%5B1%5D=3'],
    ['params', 'params=' + encodeURIComponent('{"1":"3"}')],
    ['columns', 'columns=' + encodeURIComponent('"name","args"')],  // without the primary key
    ['columns', 'columns=' + encodeURIComponent('"seqNum","nope"')],
    ['columns', 'columns=' + encodeURIComponent('"seqNum",')],
    ['replica', 'replica=partial'],
    ['log', 'log=changes_only'],
    ['live_sse', 'live_sse=true'],
    ['experimental_live_sse', 'experimental_live_sse=true'],
    ['subset__where', 'subset__where=x'],
    ['subset__limit', 'subset__limit=1'],
    ['subset__order_by', 'subset__order_by=x'],
    ['queryable_columns', 'queryable_columns=seqNum'],
    ['experimental_compaction', 'experimental_compaction=true'],
    ['foo', 'foo=bar'],
  ]
  for (const [name, query] of refused) {
    const r = await get(query)
    assert.equal(r.status, 400, query)
    assert.equal(r.body.message, 'Invalid request', query)
    assert.deepEqual(Object.keys(r.body.errors), [name], query)
    assert.equal(typeof r.body.errors[name][0], 'string', query)
    assert.equal(r.cache, 'no-store', query)
  }
  assert.deepEqual((await get('columns=' + encodeURIComponent('"seqNum","nope"'))).body.errors.columns,
    ['The following columns are not found on the table: nope'])
  assert.deepEqual((await get('columns=' + encodeURIComponent('"name"'))).body.errors.columns,
    ['The list of columns must include all primary key columns, missing: seqNum'])
  for (const query of ['log=full', 'replica=default', 'replica=full', 'live_sse=false', 'cursor=1', 'expired_handle=x',
                       'cache-buster=y', 'source_id=s', 'columns=' + encodeURIComponent('"seqNum"'),
                       'where=' + encodeURIComponent(`("seqNum" >= 2) and 3 > "seqNum"`)]) {
    const r = await get(query)
    assert.equal(r.status, 200, query)
    assert.ok(Array.isArray(r.body), query)
  }
  assert.deepEqual((await get('where=' + encodeURIComponent(`("seqNum" >= 2) and 3 > "seqNum"`))).body.map((m) => m.value.seqNum), ['2'])
})
