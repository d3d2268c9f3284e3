// Proxy mode: a gateway P with --electric-url in front of a gateway B that
// serves the Electric-compatible /v1/shape (no Electric can be installed
// here). Checks the upstream URL mapping and secret, pass-through of status,
// headers and body, local flagged-offset answers, and Electric outages.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { after, before, test } from 'node:test'

import { freePort, startCluster, startGateway } from '../lib/harness.mjs'
import { events, inserts, pull, pushBatch } from './lib.mjs'

let pg, backend, proxy
before(async () => {
  pg = await startCluster()
  backend = await startGateway({ databaseUrl: pg.url, shapeApi: true, shapeSecret: 'sek', longPollTimeout: 3 })
  proxy = await startGateway({ databaseUrl: pg.url, electricUrl: backend.url, electricSecret: 'sek', longPollTimeout: 3 })
})
after(async () => {
  await proxy?.stop()
  await backend?.stop()
  await pg?.stop()
})

test('/v1/shape checks the secret and validates like Electric', async () => {
  const shape = (q) => fetch(`${backend.url}/v1/shape?${q}`)
  assert.equal((await shape('table=%22eventlog_6_x%22&offset=-1')).status, 401)
  assert.equal((await shape('table=%22eventlog_6_x%22&offset=-1&secret=bad')).status, 401)
  const missing = await shape('table=%22eventlog_6_nope%22&offset=-1&secret=sek')
  assert.equal(missing.status, 400)
  assert.equal((await missing.json()).message, 'Invalid request')
  await pushBatch(backend.endpoint, 'shape-a', events(1, 2))
  assert.equal((await shape('table=%22eventlog_6_shape_a%22&offset=10&secret=sek')).status, 400)
  assert.equal((await shape('table=%22eventlog_6_shape_a%22&offset=0_0&secret=sek')).status, 400)  // handle required
  assert.equal((await shape('table=%22eventlog_6_shape_a%22&offset=-1&live=true&api_secret=sek')).status, 400)
  const ok = await shape('table=%22eventlog_6_shape_a%22&offset=-1&api_secret=sek')
  assert.equal(ok.status, 200)
  assert.equal(ok.headers.get('electric-offset'), '2_0')
  assert.ok(ok.headers.get('electric-schema'))
  assert.match(ok.headers.get('etag'), /^".+:-1:2_0"$/)
})

test('pulls through the proxy: same events, flagged offsets answered locally', async () => {
  await pushBatch(proxy.endpoint, 'proxied', events(1, 4))
  const first = await pull(proxy.endpoint, { storeId: 'proxied' })
  assert.equal(first.status, 200)
  assert.deepEqual(inserts(first.body).map((m) => m.value.seqNum), ['1', '2', '3', '4'])
  const handle = first.headers.get('electric-handle')
  assert.equal(first.headers.get('electric-offset'), '4_0~')  // flagged by the proxy
  assert.ok(first.headers.get('electric-schema'))              // Electric's headers pass through
  const ack = await pull(proxy.endpoint, { storeId: 'proxied', handle, offset: '4_0~' })
  assert.deepEqual(ack.body, [])
  // The plain offset, with the client's position learnt from the page (seqNum 4).
  assert.equal(ack.headers.get('electric-offset'), '4_0@4')
  const held = pull(proxy.endpoint, { storeId: 'proxied', handle, offset: '4_0@4' })
  await new Promise((r) => setTimeout(r, 300))
  await pushBatch(proxy.endpoint, 'proxied', events(5, 5))
  const live = await held
  assert.deepEqual(inserts(live.body).map((m) => m.value.seqNum), ['5'])
  assert.equal(live.headers.get('electric-offset'), '5_0~')
  assert.ok(live.headers.get('electric-cursor'))
})

test('a large page streams through unchanged', async () => {
  const big = events(1, 600).map((e) => ({ ...e, args: { blob: 'y'.repeat(2000), n: e.seqNum } }))
  for (let i = 0; i < big.length; i += 100) assert.equal((await pushBatch(proxy.endpoint, 'big', big.slice(i, i + 100))).status, 200)
  const direct = await fetch(`${backend.url}/v1/shape?table=%22eventlog_6_big%22&offset=-1&secret=sek`).then((r) => r.text())
  const viaProxy = await pull(proxy.endpoint, { storeId: 'big' })
  assert.equal(JSON.stringify(viaProxy.body), JSON.stringify(JSON.parse(direct)))
  assert.equal(inserts(viaProxy.body).length, 600)
})

test('Electric unreachable: the pull is held, then answered 200 at its own position', async () => {
  const port = await freePort()  // nothing listens there
  const lonely = await startGateway({ databaseUrl: pg.url, electricUrl: `http://127.0.0.1:${port}`, longPollTimeout: 2 })
  try {
    const r = await pull(lonely.endpoint, { storeId: 'proxied', handle: 'h1', offset: '5_0' })
    assert.equal(r.status, 200)
    assert.deepEqual(r.body, [])
    assert.equal(r.headers.get('electric-offset'), '5_0')
    assert.equal(r.headers.get('electric-handle'), 'h1')
    const metrics = await fetch(`${lonely.url}/metrics`).then((x) => x.text())
    assert.match(metrics, /livestore_gateway_upstream_errors_total [1-9]/)
  } finally {
    await lonely.stop()
  }
})

test('upstream statuses (409 for a client of unknown position) and their headers pass through unchanged', async () => {
  const port = await freePort()
  let seen = ''
  const fake = createServer((req, res) => {
    seen = req.url
    res.writeHead(409, { 'content-type': 'application/json', 'electric-handle': 'new-handle', 'cache-control': 'public, max-age=60, must-revalidate' })
    res.end('[{"headers":{"control":"must-refetch"}}]')
  })
  await new Promise((r) => fake.listen(port, '127.0.0.1', r))
  const gw = await startGateway({ databaseUrl: pg.url, electricUrl: `http://127.0.0.1:${port}`, electricSecret: 's3' })
  try {
    // An offset without "@<seqNum>" the gateway never handed out: it cannot
    // know which events the client has, so the 409 is Electric's to give.
    const r = await pull(gw.endpoint, { storeId: 'Mixed-Case', handle: 'old', offset: '1_0', live: true })
    assert.equal(r.status, 409)
    assert.equal(r.headers.get('electric-handle'), 'new-handle')
    assert.deepEqual(r.body, [{ headers: { control: 'must-refetch' } }])
    assert.equal(seen, '/v1/shape?table=%22eventlog_6_Mixed_Case%22&api_secret=s3&offset=1_0&handle=old&live=true')
  } finally {
    await gw.stop()
    fake.close()
  }
})
