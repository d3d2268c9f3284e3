// Cache headers of the LiveStore endpoint (built-in mode), what deploy/nginx
// and deploy/varnish rely on (gw/pull_cache.h): long-lived initial and full
// pages, briefly cacheable live answers whose empty timeouts carry a new
// cursor in the offset (never the request's own URL), and no-store on
// everything else: errors, 401/403, pushes, pings, header/cookie credentials.
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { after, before, test } from 'node:test'

import { startCluster, startGateway } from '../lib/harness.mjs'
import { PUSH_TAG, events, inserts, pull, pullUrl } from './lib.mjs'

const SECRET = 'cache-test-secret'
function jwt(claims) {
  const head = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url') + '.' +
    Buffer.from(JSON.stringify(claims)).toString('base64url')
  return head + '.' + createHmac('sha256', SECRET).update(head).digest('base64url')
}
const LONG = 'public, max-age=604800, s-maxage=3600, stale-while-revalidate=2629746'
const LIVE = 'public, max-age=5, stale-while-revalidate=5'
const token = jwt({ read: ['cache-a'], write: ['cache-a'] })
const auth = { authToken: token }

let pg, gw
before(async () => {
  pg = await startCluster()
  gw = await startGateway({ databaseUrl: pg.url, longPollTimeout: 1, shapeApi: true, shapeSecret: 'shape-s', args: ['--jwt-secret', SECRET, '--page-events', '3'] })
})
after(async () => {
  await gw?.stop()
  await pg?.stop()
})

const pushAs = (headers, batch) => fetch(gw.endpoint, {
  method: 'POST', headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify({ _tag: PUSH_TAG, storeId: 'cache-a', batch }),
})

test('pushes and pings are no-store', async () => {
  const ok = await pushAs({ authorization: `Bearer ${token}` }, events(1, 4))
  assert.equal(ok.status, 200)
  assert.equal(ok.headers.get('cache-control'), 'no-store')
  const conflict = await pushAs({ authorization: `Bearer ${token}` }, events(1, 1, { clientId: 'client-b' }))
  assert.equal(conflict.status, 409)
  assert.equal(conflict.headers.get('cache-control'), 'no-store')
  const ping = await fetch(gw.endpoint, { method: 'HEAD' })
  assert.equal(ping.status, 200)
  assert.equal(ping.headers.get('cache-control'), 'no-store')
})

test('the initial page and full pages are cacheable for long; a partial live page briefly', async () => {
  const first = await pull(gw.endpoint, { storeId: 'cache-a', payload: auth })
  assert.equal(first.headers.get('cache-control'), LONG)
  assert.equal(first.headers.get('electric-offset'), '3_0~')
  const handle = first.headers.get('electric-handle')
  assert.match(first.headers.get('etag'), new RegExp(`^"${handle}:-1:3_0~"$`))
  const rest = await pull(gw.endpoint, { storeId: 'cache-a', payload: auth, handle, offset: '3_0~' })
  assert.deepEqual(inserts(rest.body).map((m) => m.value.seqNum), ['4'])
  assert.equal(rest.headers.get('cache-control'), LIVE)
  assert.equal(rest.headers.get('etag'), `"${handle}:3_0~:4_0~"`)
  const full = await pull(gw.endpoint, { storeId: 'cache-a', payload: auth, handle, offset: '0_0', live: false })
  assert.equal(inserts(full.body).length, 3)
  assert.equal(full.headers.get('cache-control'), LONG)
  const tip = await pull(gw.endpoint, { storeId: 'cache-a', payload: auth, handle, offset: '3_0', live: false })
  assert.equal(tip.headers.get('cache-control'), 'public, max-age=60, stale-while-revalidate=300')
})

test('a flagged offset: an empty page at once, the plain offset, briefly cacheable', async () => {
  const r = await pull(gw.endpoint, { storeId: 'cache-a', payload: auth, handle: 'h', offset: '4_0~' })
  assert.deepEqual(inserts(r.body), [])
  assert.equal(r.headers.get('electric-offset'), '4_0')
  assert.equal(r.headers.get('cache-control'), LIVE)
})

test('a timed-out live poll names a new URL each time: the cursor in its offset only grows', async () => {
  let offset = '4_0'
  const seen = new Set([offset])
  for (let i = 0; i < 3; i++) {
    const r = await pull(gw.endpoint, { storeId: 'cache-a', payload: auth, handle: 'h', offset })
    assert.deepEqual(r.body, [{ headers: { control: 'up-to-date' } }])
    assert.equal(r.headers.get('cache-control'), LIVE)
    const next = r.headers.get('electric-offset')
    assert.match(next, /^4_\d+$/)
    assert.ok(BigInt(next.split('_')[1]) > BigInt(offset.split('_')[1]), `${next} after ${offset}`)
    assert.ok(!seen.has(next))
    assert.notEqual(r.headers.get('etag'), null)
    seen.add(next)
    offset = next
  }
  // The cursor offset is an ordinary position: events after 4 come back.
  assert.equal((await pushAs({ authorization: `Bearer ${token}` }, events(5, 5))).status, 200)
  const r = await pull(gw.endpoint, { storeId: 'cache-a', payload: auth, handle: 'h', offset })
  assert.deepEqual(inserts(r.body).map((m) => m.value.seqNum), ['5'])
  assert.equal(r.headers.get('electric-offset'), '5_0~')
})

test('answers to header or cookie credentials are no-store (a shared cache does not key on them)', async () => {
  const url = pullUrl(gw.endpoint, { storeId: 'cache-a', handle: 'h', offset: '4_0~' })
  const bearer = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
  assert.equal(bearer.status, 200)
  assert.equal(bearer.headers.get('cache-control'), 'no-store')
  const cookie = await fetch(url, { headers: { cookie: `livestore_token=${token}` } })
  assert.equal(cookie.status, 200)
  assert.equal(cookie.headers.get('cache-control'), 'no-store')
  // The same token in the URL (args.payload): cacheable.
  const inUrl = await pull(gw.endpoint, { storeId: 'cache-a', payload: auth, handle: 'h', offset: '4_0~' })
  assert.equal(inUrl.headers.get('cache-control'), LIVE)
})

test('errors are no-store: 400, 401, 403, 404, 405', async () => {
  const statuses = []
  for (const [url, init] of [
    [`${gw.endpoint}`, {}],
    [pullUrl(gw.endpoint, { storeId: 'cache-a', handle: 'h', offset: 'garbage', payload: auth }), {}],
    [pullUrl(gw.endpoint, { storeId: 'cache-a', handle: 'h', offset: '4_0' }), {}],
    [pullUrl(gw.endpoint, { storeId: 'cache-b', payload: auth }), {}],
    [`${gw.url}/nope`, {}],
    [gw.endpoint, { method: 'PUT' }],
  ]) {
    const r = await fetch(url, init)
    statuses.push(r.status)
    assert.equal(r.headers.get('cache-control'), 'no-store', `${r.status} ${url}`)
  }
  assert.deepEqual(statuses, [400, 400, 401, 403, 404, 405])
})

test('/v1/shape: Electric\'s cache-control, a cursor on live answers, no-store on errors', async () => {
  const shape = (q) => fetch(`${gw.url}/v1/shape?table=eventlog_6_cache_a&secret=shape-s&${q}`)
  const first = await shape('offset=-1')
  assert.equal(first.status, 200)
  assert.equal(first.headers.get('cache-control'), LONG)
  const handle = first.headers.get('electric-handle')
  const live = await shape(`offset=5_0&handle=${handle}&live=true`)
  assert.equal(live.status, 200)
  assert.equal(live.headers.get('cache-control'), LIVE)
  assert.match(live.headers.get('electric-cursor'), /^\d+$/)
  assert.equal(live.headers.get('electric-offset'), '5_0')  // Electric's own offsets: the cursor travels apart
  const bad = await shape('offset=nonsense')
  assert.equal(bad.status, 400)
  assert.equal(bad.headers.get('cache-control'), 'no-store')
  const denied = await fetch(`${gw.url}/v1/shape?table=eventlog_6_cache_a&offset=-1`)
  assert.equal(denied.status, 401)
  assert.equal(denied.headers.get('cache-control'), 'no-store')
})
