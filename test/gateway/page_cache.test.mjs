// The built-in pull's pages (gw/shape_encode.h, gw/page_cache.h): encoded in
// the gateway the same in meaning as livestore.shape_page(); a cached page
// equals one built fresh; the cache key holds the store's handle (a store
// dropped and created again under the same id serves no stale page); and
// concurrent identical page requests make one page query (/metrics).
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import http from 'node:http'
import { after, before, test } from 'node:test'

import { psql, startCluster, startGateway } from '../lib/harness.mjs'
import { inserts, pull, pullUrl, pushBatch } from './lib.mjs'

let pg, gw
before(async () => {
  pg = await startCluster()
  gw = await startGateway({ databaseUrl: pg.url, longPollTimeout: 5, args: ['--page-events', '3'] })
})
after(async () => {
  await gw?.stop()
  await pg?.stop()
})

// A GET on a connection of its own: a pooled keep-alive connection may belong
// to a gateway thread that is busy waiting on the lock below.
function get(url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: 30_000 }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c) => (text += c))
      res.on('end', () => resolve({ status: res.statusCode, text }))
    })
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timeout`)))
    req.on('error', reject)
  })
}

async function metric(name) {
  const { text } = await get(`${gw.url}/metrics`)
  const m = text.match(new RegExp(`^${name} (\\d+)`, 'm'))
  assert.ok(m, `${name} in /metrics`)
  return Number(m[1])
}

// Text that needs every kind of JSON escaping, and more than one UTF-8 byte.
const tricky = (s) => ({
  name: `v1.Odd"\\${s}`,
  args: { text: `quote " backslash \\ newline \n tab \t ctrl \u0001 é 😀 </script> ${s}`, n: s, nested: { a: [1, null] } },
  seqNum: s,
  parentSeqNum: s - 1,
  clientId: `client "${s}"`,
  sessionId: `s\\${s}`,
})
const batch = (from, to, make = tricky) => Array.from({ length: to - from + 1 }, (_, i) => make(from + i))

async function handleOf(storeId) {
  return (await pull(gw.endpoint, { storeId })).headers.get('electric-handle')
}

test('pages equal shape_page() in meaning; a cached page equals one built fresh', async () => {
  const handle = await handleOf('pc-a')
  assert.equal((await pushBatch(gw.endpoint, 'pc-a', batch(1, 7))).status, 200)
  const sql = JSON.parse(`[${await psql(pg.url, `SELECT body FROM livestore.shape_page('pc-a', 3, 3)`)}]`)
  const q0 = await metric('livestore_gateway_page_queries_total')
  const h0 = await metric('livestore_gateway_page_cache_hits_total')
  const s0 = await metric('livestore_gateway_pull_answers_shared_total')
  const fresh = await pull(gw.endpoint, { storeId: 'pc-a', handle, offset: '3_0' })  // asked for the first time
  const again = await pull(gw.endpoint, { storeId: 'pc-a', handle, offset: '3_0' })  
  const cached = await pull(gw.endpoint, { storeId: 'pc-a', handle, offset: '3_0' })
  assert.equal(await metric('livestore_gateway_page_queries_total'), q0 + 1)
  // Live pulls: the page from the cache, or the whole answer built for an
  // identical pull (gw/answer_cache.h, within a second of it).
  assert.equal(await metric('livestore_gateway_page_cache_hits_total') - h0 +
               (await metric('livestore_gateway_pull_answers_shared_total')) - s0, 2)
  assert.deepEqual(inserts(fresh.body), sql)
  assert.deepEqual(again.body, fresh.body)
  assert.deepEqual(cached.body, fresh.body)
  assert.equal(cached.headers.get('electric-offset'), fresh.headers.get('electric-offset'))
  assert.deepEqual(JSON.parse(inserts(cached.body)[1].value.args), tricky(5).args)
  assert.ok(await metric('livestore_gateway_page_cache_bytes') > 0)
  // The head page (fewer events than a page) is the SQL's too.
  const tail = await pull(gw.endpoint, { storeId: 'pc-a', handle, offset: '6_0', live: false })
  const sqlTail = JSON.parse(`[${await psql(pg.url, `SELECT body FROM livestore.shape_page('pc-a', 6, 3)`)}]`)
  assert.deepEqual(inserts(tail.body), sqlTail)
})

test('a store dropped and created again under the same id serves no stale page', async () => {
  const old = await handleOf('pc-b')
  assert.equal((await pushBatch(gw.endpoint, 'pc-b', batch(1, 4))).status, 200)
  for (let i = 0; i < 3; i++) await pull(gw.endpoint, { storeId: 'pc-b', handle: old, offset: '0_0' })
  await psql(pg.url, `SELECT livestore.drop_store('pc-b')`)
  await psql(pg.url, `SELECT livestore.create_store('pc-b')`)
  const fresh = (s) => ({ name: 'v1.New', args: { again: s }, seqNum: s, parentSeqNum: s - 1, clientId: 'c2', sessionId: 's2' })
  await psql(pg.url, `SELECT livestore.append('pc-b', '${JSON.stringify(batch(1, 4, fresh))}'::jsonb)`)
  const handle = await handleOf('pc-b')  // the client starts over
  assert.notEqual(handle, old)
  const r = await pull(gw.endpoint, { storeId: 'pc-b', handle, offset: '0_0' })
  assert.deepEqual(inserts(r.body).map((m) => m.value.name), ['v1.New', 'v1.New', 'v1.New'])
  assert.equal(r.headers.get('electric-handle'), handle)
})

test('concurrent identical page requests make one page query', async () => {
  const handle = await handleOf('pc-c')
  assert.equal((await pushBatch(gw.endpoint, 'pc-c', batch(1, 6))).status, 200)
  const table = await psql(pg.url, `SELECT table_name FROM livestore.store_info('pc-c')`)
  // Hold the page query on a lock, so that every request arrives while it runs.
  const locker = spawn('psql', [pg.url, '-X', '-q', '-v', 'ON_ERROR_STOP=1'], { stdio: ['pipe', 'ignore', 'inherit'] })
  locker.stdin.write(`BEGIN; LOCK TABLE public."${table}" IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(0);\n`)
  try {
    for (let i = 0; ; i++) {  // the lock is held
      if ((await psql(pg.url, `SELECT count(*) FROM pg_locks WHERE relation = 'public."${table}"'::regclass AND mode = 'AccessExclusiveLock' AND granted`)) !== '0') break
      assert.ok(i < 100, 'the lock was taken')
      await new Promise((r) => setTimeout(r, 50))
    }
    const q0 = await metric('livestore_gateway_page_queries_total')
    const N = 8
    const one = async () => {
      const r = await get(pullUrl(gw.endpoint, { storeId: 'pc-c', handle, offset: '3_0', live: false }))
      return { status: r.status, body: JSON.parse(r.text) }
    }
    const pulls = [one()]
    for (let i = 0; ; i++) {  // the first request's page query waits on the lock
      const waiting = await psql(pg.url, `SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%livestore.events%'`)
      if (waiting === '1') break
      assert.ok(i < 200, 'the page query waits on the lock')
      await new Promise((r) => setTimeout(r, 20))
    }
    // The others, while the query still waits: they wait for it (on another
    // gateway thread) or find its page in the cache after it (on the same one):
    // one query either way. (Not /metrics meanwhile: the gateway may have
    // queued its connection on the busy thread.)
    for (let i = 1; i < N; i++) pulls.push(one())
    await new Promise((r) => setTimeout(r, 1000))
    locker.stdin.end('COMMIT;\n')
    const pages = await Promise.all(pulls)
    for (const p of pages) {
      assert.equal(p.status, 200)
      assert.deepEqual(inserts(p.body).map((m) => m.value.seqNum), ['4', '5', '6'])
    }
    assert.equal(await metric('livestore_gateway_page_queries_total'), q0 + 1)
  } finally {
    if (locker.exitCode === null) locker.stdin.end('ROLLBACK;\n')
    await new Promise((r) => (locker.exitCode !== null ? r() : locker.on('exit', r)))
  }
})
