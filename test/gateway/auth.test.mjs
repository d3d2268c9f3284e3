// Auth and limits: HS256 JWTs scoped to store ids (from the pull payload, a
// Bearer header or a cookie), the non-loopback refusal, push limits and
// rates (413/429), and pulls that are slowed but never refused.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createHmac } from 'node:crypto'
import { after, before, test } from 'node:test'

import { GATEWAY_BIN, psql, startCluster, startGateway } from '../lib/harness.mjs'
import { PUSH_TAG, events, pull, push, pushBatch } from './lib.mjs'

const SECRET = 'jwt-test-secret'
const b64url = (s) => Buffer.from(s).toString('base64url')
/** An independent signer (node:crypto), so the gateway's verifier is checked against another implementation. */
function jwt(claims, { secret = SECRET, alg = 'HS256' } = {}) {
  const head = b64url(JSON.stringify({ alg, typ: 'JWT' })) + '.' + b64url(JSON.stringify(claims))
  return head + '.' + createHmac('sha256', secret).update(head).digest('base64url')
}
const now = () => Math.floor(Date.now() / 1000)

let pg, gw
before(async () => {
  pg = await startCluster()
  gw = await startGateway({ databaseUrl: pg.url, args: ['--jwt-secret', SECRET, '--max-event-bytes', '1024', '--max-batch-events', '5'] })
})
after(async () => {
  await gw?.stop()
  await pg?.stop()
})

const pushWith = (headers, storeId, batch) =>
  fetch(gw.endpoint, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ _tag: PUSH_TAG, storeId, batch }) })

test('a token for store A reads and writes A, never B', async () => {
  const a = jwt({ read: ['store-a'], write: ['store-a'], exp: now() + 60 })
  assert.equal((await pushWith({ authorization: `Bearer ${a}` }, 'store-a', events(1, 1))).status, 200)
  assert.equal((await pushWith({ authorization: `Bearer ${a}` }, 'store-b', events(1, 1))).status, 403)
  assert.equal((await pull(gw.endpoint, { storeId: 'store-a', payload: { authToken: a } })).status, 200)
  assert.equal((await pull(gw.endpoint, { storeId: 'store-b', payload: { authToken: a } })).status, 403)
  assert.equal(await psql(pg.url, `SELECT count(*) FROM livestore.stores WHERE store_id = 'store-b'`), '0')
})

test('the token may come from a cookie; read-only tokens cannot push', async () => {
  const ro = jwt({ read: ['store-a'] })
  assert.equal((await pushWith({ cookie: `livestore_token=${ro}` }, 'store-a', events(2, 2))).status, 403)
  const rw = jwt({ read: '*', write: '*' })
  assert.equal((await pushWith({ cookie: `other=1; livestore_token=${rw}` }, 'store-a', events(2, 2))).status, 200)
})

test('missing, expired, forged, unsigned or non-HS256 tokens get 401', async () => {
  const claims = { read: '*', write: '*' }
  const bad = [
    undefined,
    jwt({ ...claims, exp: now() - 3600 }),
    jwt({ ...claims, nbf: now() + 3600 }),
    jwt(claims, { secret: 'wrong' }),
    jwt(claims).split('.').slice(0, 2).join('.') + '.',
    b64url(JSON.stringify({ alg: 'none' })) + '.' + b64url(JSON.stringify(claims)) + '.',
    jwt(claims, { alg: 'HS512' }),
    'not-a-jwt',
  ]
  for (const token of bad) {
    assert.equal((await pull(gw.endpoint, { storeId: 'store-a', payload: token ? { authToken: token } : undefined })).status, 401, `pull with ${token}`)
    const headers = token ? { authorization: `Bearer ${token}` } : {}
    assert.equal((await pushWith(headers, 'store-a', events(3, 3))).status, 401, `push with ${token}`)
  }
  assert.equal(await psql(pg.url, `SELECT livestore.head('store-a')`), '2')
})

test('limits: events per batch and bytes per event answer 413, nothing written', async () => {
  const h = { authorization: `Bearer ${jwt({ write: '*' })}` }
  assert.equal((await pushWith(h, 'store-a', events(3, 8))).status, 413)
  const big = events(3, 3).map((e) => ({ ...e, args: { pad: 'x'.repeat(2000) } }))
  assert.equal((await pushWith(h, 'store-a', big)).status, 413)
  assert.equal(await psql(pg.url, `SELECT livestore.head('store-a')`), '2')
})

test('a non-loopback listener without auth refuses to start unless --insecure', () => {
  const r = spawnSync(GATEWAY_BIN, ['--listen', '0.0.0.0:0', '--database-url', pg.url], { encoding: 'utf8', timeout: 10_000 })
  assert.equal(r.status, 2)
  assert.match(r.stderr, /without auth/)
})

test('push rates answer 429 with Retry-After; pulls over their rate are slowed, not refused', async () => {
  const limited = await startGateway({ databaseUrl: pg.url, longPollTimeout: 5, args: ['--push-rate-per-store', '2', '--pull-rate-per-ip', '2'] })
  try {
    const statuses = []
    for (let s = 1; s <= 6; s++) {
      const r = await pushBatch(limited.endpoint, 'rated', events(s, s))
      statuses.push(r.status)
      if (r.status === 429) assert.ok(Number(r.headers.get('retry-after')) >= 1)
      if (r.status !== 200) break
    }
    assert.ok(statuses.includes(429), `statuses ${statuses}`)
    const pulls = await Promise.all(Array.from({ length: 8 }, () => pull(limited.endpoint, { storeId: 'rated', live: false, handle: 'h', offset: '0_0' })))
    assert.ok(pulls.every((p) => p.status === 200), 'no pull is refused')
    assert.ok(Math.max(...pulls.map((p) => p.ms)) >= 400, 'pulls beyond the rate were delayed')
  } finally {
    await limited.stop()
  }
})
