// Proxy mode against an Electric that behaves like the real one
// (test/electric-sim, written from Electric's API docs): offsets past 2^32,
// pages cut inside transactions, and shapes that rotate (409 must-refetch).
// The gateway follows a rotation for its client: the client never sees the
// 409, gets every event once, in order, and carries its position in the
// offset ("<offset>@<seqNum>") through the new handle.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { after, before, test } from 'node:test'

import { startElectricSim } from '../electric-sim/index.mjs'
import { freePort, startCluster, startGateway } from '../lib/harness.mjs'
import { events, inserts, pull, pushBatch } from './lib.mjs'

const SECRET = 'sim-secret'
let pg, sim, proxy
before(async () => {
  pg = await startCluster()
  // ~3 events per chunk: an 8-event push is one transaction over 3 pages.
  sim = await startElectricSim({ databaseUrl: pg.url, secret: SECRET, chunkBytes: 600, longPollMs: 1500 })
  proxy = await startGateway({ databaseUrl: pg.url, electricUrl: sim.url, electricSecret: SECRET, longPollTimeout: 3 })
})
after(async () => {
  await proxy?.stop()
  await sim?.close()
  await pg?.stop()
})

const seqs = (body) => inserts(body).map((m) => Number(m.value.seqNum))
const metric = async (name) => Number((await fetch(`${proxy.url}/metrics`).then((r) => r.text())).match(new RegExp(`^${name} (\\d+)`, 'm'))[1])

/** Pull as the stock client does (next handle/offset from each answer) until `want` events arrived. */
async function follow(storeId, at, want, { live = true, max = 40 } = {}) {
  const got = []
  let { handle, offset } = at
  for (let i = 0; i < max && got.length < want; i++) {
    const r = await pull(proxy.endpoint, { storeId, handle, offset, live: live && handle != null })
    assert.equal(r.status, 200, `pull ${i} at ${handle} ${offset}: ${r.status} ${JSON.stringify(r.body)}`)
    got.push(...seqs(r.body))
    handle = r.headers.get('electric-handle')
    offset = r.headers.get('electric-offset')
  }
  return { got, handle, offset }
}

const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i)

test('the simulator answers like Electric (secret, missing table, offsets past 2^32, chunks, cursor, timeouts)', async () => {
  const shape = (q) => fetch(`${sim.url}/v1/shape?${q}`)
  assert.equal((await shape('table=x&offset=-1')).status, 401)
  assert.equal((await shape(`table=x&offset=-1&secret=bad`)).status, 401)
  const missing = await shape(`table=%22eventlog_6_nope%22&offset=-1&secret=${SECRET}`)
  assert.equal(missing.status, 400)
  assert.match((await missing.json()).errors.table[0], /^Table "public"."eventlog_6_nope" does not exist/)
  assert.equal((await shape(`table=x&offset=10&secret=${SECRET}`)).status, 400)

  assert.equal((await pushBatch(proxy.endpoint, 'sim_self', events(1, 4))).status, 200)
  const first = await shape(`table=%22eventlog_6_sim_self%22&offset=-1&api_secret=${SECRET}`)
  assert.equal(first.headers.get('electric-offset'), '0_0')
  assert.equal(first.headers.get('cache-control'), 'public, max-age=604800, s-maxage=3600, stale-while-revalidate=2629746')
  assert.equal(first.headers.get('electric-up-to-date'), null)  // -1 is never up to date
  assert.ok(JSON.parse(first.headers.get('electric-schema')).seqNum.pk_index === 0)
  const handle = first.headers.get('electric-handle')
  assert.deepEqual(seqs(await first.json()), [1, 2, 3])  // one chunk of a 2-chunk snapshot
  const second = await shape(`table=%22eventlog_6_sim_self%22&offset=0_0&handle=${handle}&secret=${SECRET}`)
  const body = await second.json()
  assert.deepEqual(seqs(body), [4])
  assert.equal(body.at(-1).headers.control, 'snapshot-end')
  const etag = second.headers.get('etag')
  const again = await fetch(`${sim.url}/v1/shape?table=%22eventlog_6_sim_self%22&offset=0_0&handle=${handle}&secret=${SECRET}`, { headers: { 'if-none-match': etag } })
  assert.equal(again.status, 304)

  // Live: one 8-event transaction past 2^32, cut over several pages.
  let offset = second.headers.get('electric-offset')
  const held = shape(`table=%22eventlog_6_sim_self%22&offset=0_inf&handle=${handle}&live=true&secret=${SECRET}`)
  await new Promise((r) => setTimeout(r, 100))
  assert.equal((await pushBatch(proxy.endpoint, 'sim_self', events(5, 12))).status, 200)
  const live = await held
  assert.ok(live.headers.get('electric-cursor'))
  assert.equal(live.headers.get('cache-control'), 'public, max-age=5, stale-while-revalidate=5')
  const pages = [await live.json()]
  offset = live.headers.get('electric-offset')
  for (let i = 0; i < 6 && !pages.at(-1).at(-1).headers.control; i++) {
    const r = await shape(`table=%22eventlog_6_sim_self%22&offset=${offset}&handle=${handle}&secret=${SECRET}`)
    pages.push(await r.json())
    offset = r.headers.get('electric-offset')
  }
  assert.ok(pages.length >= 3, `${pages.length} pages`)
  const rows = pages.flat().filter((m) => m.headers.operation)
  assert.deepEqual(rows.map((m) => Number(m.value.seqNum)), range(5, 12))
  assert.equal(new Set(rows.map((m) => m.headers.lsn)).size, 1, 'one transaction')
  assert.ok(BigInt(rows[0].headers.lsn) > 2n ** 32n)
  assert.equal(pages[0].at(-1).headers.last, undefined, 'the first page ends inside the transaction')
  assert.equal(rows.at(-1).headers.last, true)
  assert.match(offset, /^\d{10,}_14$/)
  assert.equal(BigInt(offset.split('_')[0]), BigInt(rows[0].headers.lsn))

  // Long-poll timeout: 200 [up-to-date], has-data false, same offset; 204 on old versions.
  const idle = await shape(`table=%22eventlog_6_sim_self%22&offset=${offset}&handle=${handle}&live=true&secret=${SECRET}`)
  assert.equal(idle.status, 200)
  assert.equal(idle.headers.get('electric-has-data'), 'false')
  assert.equal(idle.headers.get('electric-offset'), offset)
  assert.equal(idle.headers.get('electric-up-to-date'), '', 'present, empty, as Electric sends it')
  assert.equal((await idle.json())[0].headers.control, 'up-to-date')
  sim.setLegacy204(true)
  try {
    const old = await shape(`table=%22eventlog_6_sim_self%22&offset=${offset}&handle=${handle}&live=true&secret=${SECRET}`)
    assert.equal(old.status, 204)
    assert.equal(old.headers.get('electric-offset'), offset)
  } finally {
    sim.setLegacy204(false)
  }
})

test('proxied pulls: offsets past 2^31, transactions over several pages, every event once', async () => {
  await pushBatch(proxy.endpoint, 'pages', events(1, 7))
  const initial = await follow('pages', { handle: null, offset: null }, 7, { live: false })
  assert.deepEqual(initial.got, range(1, 7))
  const held = follow('pages', initial, 10)
  await new Promise((r) => setTimeout(r, 200))
  await pushBatch(proxy.endpoint, 'pages', events(8, 17))  // one transaction, several pages
  const live = await held
  assert.deepEqual(live.got, range(8, 17))
  const [tx, rest] = live.offset.split('_')
  assert.ok(BigInt(tx) > 2n ** 31n, live.offset)
  assert.match(rest, /^\d+(@17)?~?$/)
  // With the legacy 204 timeout, the position stays in the offset.
  sim.setLegacy204(true)
  try {
    const ack = await pull(proxy.endpoint, { storeId: 'pages', handle: live.handle, offset: live.offset })
    const r = await pull(proxy.endpoint, { storeId: 'pages', handle: live.handle, offset: ack.headers.get('electric-offset') })
    assert.equal(r.status, 204)
    assert.equal(r.headers.get('electric-offset'), `${tx}_${rest.split('@')[0].replace('~', '')}@17`)
  } finally {
    sim.setLegacy204(false)
  }
})

test('a rotated handle (redeploy): no 409 reaches the client, no duplicate, no gap', async (t) => {
  await pushBatch(proxy.endpoint, 'rot', events(1, 5))
  const a = await follow('rot', { handle: null, offset: null }, 5, { live: false })
  const settled = await pull(proxy.endpoint, { storeId: 'rot', handle: a.handle, offset: a.offset })  // flagged follow-up
  const at = { handle: settled.headers.get('electric-handle'), offset: settled.headers.get('electric-offset') }
  assert.match(at.offset, /@5$/)
  const followed = await metric('livestore_gateway_upstream_rotations_total')

  // Rotation while the client's live pull is held, then new events.
  const held = follow('rot', at, 3)
  await new Promise((r) => setTimeout(r, 200))
  await sim.rotate()
  await pushBatch(proxy.endpoint, 'rot', events(6, 8))
  const b = await held
  assert.deepEqual(b.got, [6, 7, 8])
  assert.notEqual(b.handle, at.handle, 'the client follows the new handle')
  assert.ok((await metric('livestore_gateway_upstream_rotations_total')) > followed)
  assert.ok(sim.stats().byStatus['409'] >= 1, 'Electric did answer 409')

  // Rotation while idle: the next pull at the old handle just goes on.
  await sim.rotate()
  await pushBatch(proxy.endpoint, 'rot', events(9, 9))
  const c = await follow('rot', b, 1)
  assert.deepEqual(c.got, [9])

  // How long a held client waits for the gateway to follow (reported, not asserted).
  const ack = await pull(proxy.endpoint, { storeId: 'rot', handle: c.handle, offset: c.offset })
  const waiting = pull(proxy.endpoint, { storeId: 'rot', handle: c.handle, offset: ack.headers.get('electric-offset') })
  await new Promise((r) => setTimeout(r, 200))
  const before = { rotations: await metric('livestore_gateway_upstream_rotations_total'), requests: await metric('livestore_gateway_upstream_rotation_requests_total') }
  const t0 = performance.now()
  await sim.rotate()
  const answer = await waiting
  const ms = performance.now() - t0
  assert.equal(answer.status, 200)
  assert.deepEqual(seqs(answer.body), [])
  assert.match(answer.headers.get('electric-offset'), /@9$/)
  const requests = (await metric('livestore_gateway_upstream_rotation_requests_total')) - before.requests
  const rotations = (await metric('livestore_gateway_upstream_rotations_total')) - before.rotations
  t.diagnostic(`held pull answered ${ms.toFixed(0)} ms after the rotation; ${requests} upstream requests for ${rotations} rotation(s) of a 9-event shape (plus the 409)`)
})

test('Electric lost its storage: re-snapshot with new offsets, the client gets only what it lacks', async () => {
  await pushBatch(proxy.endpoint, 'lost', events(1, 8))
  const a = await follow('lost', { handle: null, offset: null }, 8, { live: false })
  assert.deepEqual(a.got, range(1, 8))
  const settled = await pull(proxy.endpoint, { storeId: 'lost', handle: a.handle, offset: a.offset })
  const at = { handle: settled.headers.get('electric-handle'), offset: settled.headers.get('electric-offset') }

  // The held poll's connection is cut; the retry meets a 409 for a new shape.
  const held = pull(proxy.endpoint, { storeId: 'lost', handle: at.handle, offset: at.offset })
  await new Promise((r) => setTimeout(r, 200))
  await sim.loseStorage()
  const r = await held
  assert.equal(r.status, 200)
  assert.deepEqual(seqs(r.body), [], 'nothing new, nothing again')
  assert.notEqual(r.headers.get('electric-handle'), at.handle)
  assert.match(r.headers.get('electric-offset'), /^0_(\d+|inf)@8$/)  // an offset of the new shape

  await sim.loseStorage()
  await pushBatch(proxy.endpoint, 'lost', events(9, 11))
  const b = await follow('lost', { handle: r.headers.get('electric-handle'), offset: r.headers.get('electric-offset') }, 3)
  assert.deepEqual(b.got, [9, 10, 11])
  const c = await follow('lost', b, 1, { max: 2 })  // nothing more comes
  assert.deepEqual(c.got, [])
})

test('an Electric that rotates on every request: the pull ends 200 at the client position, never 409', async () => {
  let n = 0
  const fake = createServer((req, res) => {
    const url = new URL(req.url, 'http://x')
    n++
    if (url.searchParams.get('offset') === '-1') {
      res.writeHead(200, { 'content-type': 'application/json', 'electric-handle': `h-${n}`, 'electric-offset': '0_0' })
      return res.end('[]')
    }
    res.writeHead(409, { 'content-type': 'application/json', 'electric-handle': `h-${n}` })
    res.end('[{"headers":{"control":"must-refetch"}}]')
  })
  const port = await freePort()
  await new Promise((r) => fake.listen(port, '127.0.0.1', r))
  const gw = await startGateway({ databaseUrl: pg.url, electricUrl: `http://127.0.0.1:${port}`, longPollTimeout: 2 })
  try {
    const r = await pull(gw.endpoint, { storeId: 'spinning', handle: 'h-0', offset: '4294967302_4@57' })
    assert.equal(r.status, 200)
    assert.deepEqual(r.body, [])
    assert.equal(r.headers.get('electric-handle'), 'h-0')
    assert.equal(r.headers.get('electric-offset'), '4294967302_4@57')
    assert.ok(n > 16, `${n} upstream requests`)  // 8 rotations followed (2 requests each), then retried
  } finally {
    await gw.stop()
    fake.close()
  }
})
