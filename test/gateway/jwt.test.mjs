// Identity as production apps have it (issue 11), over real HTTP: asymmetric
// JWTs (RS*, PS*, ES*, EdDSA) verified against keys generated at test time
// and published by a local JWKS server; the first fetch, rotation, the
// document's cache lifetime, a provider that is down, tokens shaped like
// those of Auth0, Clerk, Keycloak, Supabase, Firebase and Cognito, every
// credential channel, and authorization by a SQL function over a
// `memberships` table (cache, revocation, failures, a database outage).
// Pulls are never answered non-2xx for a transient fault; pushes get 503.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, test } from 'node:test'

import { CLUSTER_SH, GATEWAY_BIN, makeWorkDir, psql, startCluster, startGateway, waitFor } from '../lib/harness.mjs'
import { makeKey, now, rawJwt, signJwt, startJwksServer } from '../lib/jwt.mjs'
import { PUSH_TAG, events, inserts, pullUrl } from './lib.mjs'

const cluster = (fn, ...args) => spawnSync('bash', ['-c', `source "$0" && ${fn} "$@"`, CLUSTER_SH, ...args], { encoding: 'utf8' })
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const ISS = 'https://idp.test/'
const keys = {
  rsa: makeKey('rsa', 'rsa-1'),
  rsa2: makeKey('rsa', 'rsa-2'),
  p256: makeKey('ec-p256', 'p256-1'),
  p384: makeKey('ec-p384', 'p384-1'),
  p521: makeKey('ec-p521', 'p521-1'),
  ed: makeKey('ed25519', 'ed-1'),
}

let pg, jwks, dir
const gateways = []
before(async () => {
  pg = await startCluster()
  dir = makeWorkDir('jwt')
  jwks = await startJwksServer({ keys: [keys.rsa.jwk(), keys.p256.jwk(), keys.p384.jwk(), keys.p521.jwk(), keys.ed.jwk()] })
  await psql(pg.url, `
    CREATE TABLE seen_claims (n serial, store text, claims text);
    CREATE FUNCTION record_claims(store_id text, events jsonb) RETURNS void LANGUAGE sql AS $$
      INSERT INTO public.seen_claims (store, claims) VALUES (store_id, current_setting('livestore.claims', true))
    $$;
    SELECT livestore.add_hook('jc-%', 'record_claims(text, jsonb)');
  `)
})
after(async () => {
  for (const g of gateways) await g.stop()
  await jwks?.stop()
  await pg?.stop()
})

/** A gateway (stopped at the end) with JWKS flags from `jwksUrl` unless `args` says otherwise. */
// A gateway with a JWKS URL fetches its keys in the background after it
// starts listening; until the first fetch has ended a push gets 503. Tests
// that are not about that moment wait for it (`firstFetch: false` to not).
async function gateway(args, opts = {}) {
  const g = await startGateway({ databaseUrl: pg.url, longPollTimeout: opts.longPollTimeout ?? 3, args, env: opts.env })
  gateways.push(g)
  if (args.includes('--jwt-jwks-url') && opts.firstFetch !== false) {
    await waitFor(async () => (await metric(g, 'livestore_gateway_jwks_fetches_total{result="ok"}')) +
      (await metric(g, 'livestore_gateway_jwks_fetches_total{result="error"}')) >= 1,
    { timeout: 10_000, what: 'the first JWKS fetch to end' })
  }
  return g
}
const jwksArgs = (url = jwks.url, extra = []) => ['--jwt-jwks-url', url, '--jwt-issuer', ISS, ...extra]

/** GET a pull with any extra headers; a URL may be given instead of pull options. */
async function pull(endpoint, opts, headers = {}, { url } = {}) {
  const t0 = performance.now()
  const r = await fetch(url ?? pullUrl(endpoint, opts), { headers, signal: AbortSignal.timeout(30_000) })
  const text = await r.text()
  let body = text
  try { body = JSON.parse(text) } catch {}
  return { status: r.status, headers: r.headers, body, ms: performance.now() - t0 }
}
async function push(endpoint, storeId, batch, headers = {}, contentType = 'application/json') {
  const r = await fetch(endpoint, {
    method: 'POST', headers: { 'content-type': contentType, ...headers },
    body: JSON.stringify({ _tag: PUSH_TAG, storeId, batch }), signal: AbortSignal.timeout(30_000),
  })
  const text = await r.text()
  return { status: r.status, headers: r.headers, text }
}
const bearer = (t) => ({ authorization: `Bearer ${t}` })
const head = (store) => psql(pg.url, `SELECT coalesce(livestore.head('${store}'), 0)`).then(Number)
async function metric(g, name) {
  const text = await fetch(`${g.url}/metrics`).then((r) => r.text())
  const m = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\d+)$`, 'm').exec(text)
  assert.ok(m, `${name} in /metrics`)
  return Number(m[1])
}
const claimsFor = (store, extra = {}) => ({ iss: ISS, sub: 'user-1', read: [store], write: [store], exp: now() + 600, ...extra })

test('every algorithm, from a JWKS URL: pull and push pass, and the signed payload reaches SQL as livestore.claims', async () => {
  const g = await gateway(jwksArgs())
  const store = 'jc-algs'
  const cases = [
    [keys.rsa, 'RS256'], [keys.rsa, 'RS384'], [keys.rsa, 'RS512'], [keys.rsa, 'PS256'], [keys.rsa, 'PS384'],
    [keys.rsa, 'PS512'], [keys.p256, 'ES256'], [keys.p384, 'ES384'], [keys.p521, 'ES512'], [keys.ed, 'EdDSA'],
  ]
  const signed = []
  for (const [i, [key, alg]] of cases.entries()) {
    const claims = claimsFor(store, { sub: `user-${alg}`, org: { id: i, roles: ['a', 'b'], deep: { x: [1, null] } }, name: 'Zoë "q"' })
    const token = signJwt(key, claims, { alg })
    const p = await pull(g.endpoint, { storeId: store, payload: { authToken: token }, live: false })
    assert.equal(p.status, 200, `${alg} pull: ${JSON.stringify(p.body)}`)
    const r = await push(g.endpoint, store, events(i + 1, i + 1), bearer(token))
    assert.equal(r.status, 200, `${alg} push: ${r.text}`)
    signed.push(JSON.stringify(claims))
  }
  const seen = JSON.parse(await psql(pg.url, `SELECT json_agg(claims ORDER BY n) FROM seen_claims WHERE store = '${store}'`))
  assert.deepEqual(seen, signed, 'each hook run saw its writer\'s payload exactly as signed')
})

test('channels: Authorization header, cookie (JSON pushes only), ?token= in the endpoint URL (pull, push), pull payload', async () => {
  const g = await gateway(jwksArgs())
  const store = 'jc-channels'
  const t = signJwt(keys.ed, claimsFor(store))
  const other = signJwt(keys.ed, claimsFor('elsewhere'))
  // Pull: each channel alone.
  for (const [what, opts, headers] of [
    ['payload', { payload: { authToken: t } }, {}],
    ['header', {}, bearer(t)],
    ['cookie', {}, { cookie: `a=1; livestore_token=${t}` }],
  ]) {
    const p = await pull(g.endpoint, { storeId: store, live: false, ...opts }, headers)
    assert.equal(p.status, 200, `pull by ${what}: ${JSON.stringify(p.body)}`)
  }
  // The stock client appends `?args=` to an endpoint that has a query string.
  const args = pullUrl('', { storeId: store, live: false }).slice(1)  // "args=..."
  const viaQuery = await pull(null, null, {}, { url: `${g.endpoint}?token=${t}?${args}` })
  assert.equal(viaQuery.status, 200, JSON.stringify(viaQuery.body))
  const viaQuery2 = await pull(null, null, {}, { url: `${g.endpoint}?token=${t}&${args}` })
  assert.equal(viaQuery2.status, 200)
  assert.equal((await pull(null, null, {}, { url: `${g.endpoint}?token=${other}?${args}` })).status, 403)
  assert.equal((await fetch(`${g.endpoint}?token=${t}`, { method: 'HEAD' })).status, 200, 'the ping ignores it')
  // Push.
  assert.equal((await push(`${g.endpoint}?token=${t}`, store, events(1, 1))).status, 200, 'push by ?token=')
  assert.equal((await push(g.endpoint, store, events(2, 2), bearer(t))).status, 200, 'push by header')
  assert.equal((await push(g.endpoint, store, events(3, 3), { cookie: `livestore_token=${t}` })).status, 200, 'push by cookie, JSON')
  const csrf = await push(g.endpoint, store, events(4, 4), { cookie: `livestore_token=${t}` }, 'text/plain')
  assert.equal(csrf.status, 401, `a cookie on a text/plain push (a cross-site form could send it): ${csrf.text}`)
  assert.equal((await push(g.endpoint, store, events(4, 4))).status, 401, 'no credential')
  assert.equal((await push(g.endpoint, store, events(4, 4), bearer(other))).status, 403, 'another store\'s token')
  assert.equal(await head(store), 3)
  // The first channel that verifies decides (header, cookie, query, payload).
  const p = await pull(g.endpoint, { storeId: store, payload: { authToken: t }, live: false }, bearer(other))
  assert.equal(p.status, 403)
  const expired = signJwt(keys.ed, claimsFor(store, { exp: now() - 120 }))
  assert.equal((await pull(g.endpoint, { storeId: store, payload: { authToken: t }, live: false }, bearer(expired))).status, 200,
    'an expired header token does not hide a valid payload token')
  // --auth-query-param '' turns the query channel off.
  const noQuery = await gateway(jwksArgs(jwks.url, ['--auth-query-param', '']))
  assert.equal((await push(`${noQuery.endpoint}?token=${t}`, store, events(4, 4))).status, 401)
})

test('the first JWKS fetch in flight: pulls are held (not refused) until the keys arrive, pushes get 503', async () => {
  const slow = await startJwksServer({ keys: [keys.p256.jwk()] })
  slow.delayMs = 2500
  try {
    const g = await gateway(jwksArgs(slow.url), { firstFetch: false })
    const t = signJwt(keys.p256, claimsFor('jc-first'))
    const pulled = pull(g.endpoint, { storeId: 'jc-first', payload: { authToken: t } })
    const early = await push(g.endpoint, 'jc-first', events(1, 1), bearer(t))
    assert.equal(early.status, 503, early.text)
    assert.equal(early.headers.get('retry-after'), '1')
    const p = await pulled
    assert.equal(p.status, 200, JSON.stringify(p.body))
    assert.ok(p.ms >= 1000, `held until the keys came (${p.ms.toFixed(0)} ms)`)
    assert.notEqual(p.headers.get('electric-handle'), 'pending', 'answered for real once the keys were there')
    assert.equal((await push(g.endpoint, 'jc-first', events(1, 1), bearer(t))).status, 200)
    assert.ok((await metric(g, 'livestore_gateway_auth_pending_total')) >= 2)
  } finally {
    await slow.stop()
  }
})

test('a provider that is down from the start: pulls answer 200 with an empty page at their own position, pushes 503; it recovers', async () => {
  const down = await startJwksServer({ keys: [keys.rsa.jwk()] })
  await down.stop()
  const g = await gateway(jwksArgs(down.url, ['--jwt-jwks-min-refetch', '1']), { longPollTimeout: 2, firstFetch: false })
  const t = signJwt(keys.rsa, claimsFor('jc-down'))
  const first = await pull(g.endpoint, { storeId: 'jc-down', payload: { authToken: t } })
  assert.equal(first.status, 200)
  assert.deepEqual(first.body, [])
  assert.equal(first.headers.get('electric-offset'), '-1')
  assert.ok(first.ms >= 1500, `held for the long-poll timeout (${first.ms.toFixed(0)} ms)`)
  const later = await pull(g.endpoint, { storeId: 'jc-down', payload: { authToken: t }, handle: 'h-1', offset: '4_0~' })
  assert.equal(later.status, 200)
  assert.equal(later.headers.get('electric-handle'), 'h-1')
  assert.equal(later.headers.get('electric-offset'), '4_0', 'the client\'s own position')
  assert.equal((await push(g.endpoint, 'jc-down', events(1, 1), bearer(t))).status, 503)
  assert.ok((await metric(g, 'livestore_gateway_jwks_fetches_total{result="error"}')) >= 1)
  assert.equal(await head('jc-down'), 0, 'nothing written, no store created without verified keys')
  await down.start()
  await waitFor(async () => (await push(g.endpoint, 'jc-down', events(1, 1), bearer(t))).status === 200,
    { timeout: 10_000, what: 'the push to pass once the provider is back' })
  await down.stop()
})

test('rotation without a restart: a new kid is fetched on first sight, the provider going down keeps the last good keys, old tokens expire', async () => {
  const idp = await startJwksServer({ keys: [keys.rsa.jwk()] })
  try {
    const g = await gateway(jwksArgs(idp.url, ['--jwt-jwks-min-refetch', '2', '--jwt-leeway', '0']), { longPollTimeout: 3 })
    const store = 'jc-rot'
    const old = signJwt(keys.rsa, claimsFor(store, { exp: now() + 4 }))
    assert.equal((await push(g.endpoint, store, events(1, 1), bearer(old))).status, 200)
    await sleep(2100)  // past the refetch floor
    // The provider publishes a second key and starts signing with it.
    idp.setKeys([keys.rsa.jwk(), keys.rsa2.jwk()])
    const fresh = signJwt(keys.rsa2, claimsFor(store))
    const before = idp.fetches
    const p = await pull(g.endpoint, { storeId: store, payload: { authToken: fresh }, live: false })
    assert.equal(p.status, 200, 'held while the new kid was fetched, then served')
    assert.equal(idp.fetches, before + 1)
    assert.equal((await push(g.endpoint, store, events(2, 2), bearer(fresh))).status, 200)
    // The provider goes down: the keys already fetched keep working.
    await idp.stop()
    assert.equal((await push(g.endpoint, store, events(3, 3), bearer(fresh))).status, 200)
    assert.equal((await push(g.endpoint, store, events(4, 4), bearer(old))).status, 200, 'the old key too, until its tokens expire')
    // A kid nobody has seen: maybe a rotation the gateway cannot fetch now, so transient.
    const unknown = signJwt(makeKey('rsa', 'rsa-3'), claimsFor(store))
    await sleep(2100)
    assert.equal((await push(g.endpoint, store, events(5, 5), bearer(unknown))).status, 503)
    const held = await pull(g.endpoint, { storeId: store, payload: { authToken: unknown }, handle: 'h', offset: '4_0' })
    assert.equal(held.status, 200, 'a pull is held and answered empty, never refused for a transient fault')
    assert.deepEqual(inserts(held.body), [])
    // The old token expires (leeway 0).
    await waitFor(async () => (await push(g.endpoint, store, events(5, 5), bearer(old))).status === 401, { timeout: 8000, what: 'the old token to expire' })
    assert.equal(await head(store), 4)
  } finally {
    await idp.stop()
  }
})

test('tokens with random kids cannot make the gateway hammer the provider (one fetch per --jwt-jwks-min-refetch)', async () => {
  const idp = await startJwksServer({ keys: [keys.p256.jwk()] })
  try {
    const g = await gateway(jwksArgs(idp.url, ['--jwt-jwks-min-refetch', '3']))
    const store = 'jc-random'
    assert.equal((await push(g.endpoint, store, events(1, 1), bearer(signJwt(keys.p256, claimsFor(store))))).status, 200)
    await sleep(3100)
    const before = idp.fetches
    const attacker = makeKey('ec-p256', 'x')
    const statuses = []
    const t0 = Date.now()
    while (Date.now() - t0 < 2500) {
      const t = signJwt(attacker, claimsFor(store), { kid: `random-${Math.random()}` })
      statuses.push((await push(g.endpoint, store, events(2, 2), bearer(t))).status)
      await sleep(20)
    }
    const fetched = idp.fetches - before
    assert.ok(fetched <= 1, `${fetched} fetches for ${statuses.length} random kids in 2.5 s`)
    assert.ok(statuses.every((s) => s === 401 || s === 503), `statuses ${[...new Set(statuses)]}`)
    assert.ok(statuses.includes(401), 'refused once the keys were known to be fresh')
    assert.equal(await head(store), 1)
  } finally {
    await idp.stop()
  }
})

test('the document\'s cache lifetime (Cache-Control: max-age) refreshes the keys without any unknown kid', async () => {
  const idp = await startJwksServer({ keys: [keys.ed.jwk(), keys.p384.jwk()], cacheControl: 'public, max-age=1' })
  try {
    const g = await gateway(jwksArgs(idp.url, ['--jwt-jwks-min-refetch', '1']))
    const store = 'jc-ttl'
    const t384 = signJwt(keys.p384, claimsFor(store))
    assert.equal((await push(g.endpoint, store, events(1, 1), bearer(t384))).status, 200)
    const before = idp.fetches
    idp.setKeys([keys.ed.jwk()])  // the P-384 key is withdrawn
    await sleep(2600)
    assert.ok(idp.fetches - before >= 2, `${idp.fetches - before} refreshes in 2.6 s with max-age=1`)
    const r = await push(g.endpoint, store, events(2, 2), bearer(t384))
    assert.equal(r.status, 401, `a withdrawn key no longer verifies: ${r.text}`)
    assert.equal((await push(g.endpoint, store, events(2, 2), bearer(signJwt(keys.ed, claimsFor(store))))).status, 200)
  } finally {
    await idp.stop()
  }
})

// Tokens shaped like each provider's, with the flags SECURITY.md gives for it.
const PROVIDERS = [
  {
    name: 'Auth0', key: 'rsa', flags: ['--jwt-issuer', 'https://tenant.auth0.test/', '--jwt-audience', 'https://api.todo.test', '--jwt-stores-claim', 'https://todo.test/livestore'],
    claims: (s) => ({ iss: 'https://tenant.auth0.test/', sub: 'auth0|64f1', aud: ['https://api.todo.test', 'https://tenant.auth0.test/userinfo'], azp: 'Xy12', scope: 'openid profile email', 'https://todo.test/livestore': { read: [s], write: [s] } }),
    bad: (s) => ({ iss: 'https://tenant.auth0.test/', sub: 'auth0|64f1', aud: 'https://tenant.auth0.test/userinfo', 'https://todo.test/livestore': { read: [s], write: [s] } }),
  },
  {
    name: 'Clerk', key: 'rsa', flags: ['--jwt-issuer', 'https://clerk.todo.test', '--auth-cookie', '__session', '--jwt-stores-claim', 'livestore'], channel: 'cookie',
    claims: (s) => ({ iss: 'https://clerk.todo.test', sub: 'user_2NNEqL2nrIRdJ194ndJqAHwEfxC', azp: 'https://todo.test', sid: 'sess_2NNE', nbf: now() - 10, livestore: { read: [s], write: [s] } }),
    bad: (s) => ({ iss: 'https://other.clerk.test', sub: 'user_x', livestore: { read: [s], write: [s] } }),
  },
  {
    name: 'Keycloak', key: 'rsa', enc: true, flags: ['--jwt-issuer', 'https://kc.test/realms/todo', '--jwt-audience', 'account', '--jwt-stores-claim', 'livestore'],
    claims: (s) => ({ iss: 'https://kc.test/realms/todo', aud: 'account', sub: 'f3b7-4c', typ: 'Bearer', azp: 'todo-web', preferred_username: 'alice', realm_access: { roles: ['offline_access', 'todo-user'] }, resource_access: { account: { roles: ['view-profile'] } }, livestore: { read: [s], write: [s] } }),
    bad: (s) => ({ iss: 'https://kc.test/realms/other', aud: 'account', sub: 'x', livestore: { read: [s], write: [s] } }),
  },
  {
    name: 'Supabase', key: 'p256', flags: ['--jwt-issuer', 'https://abcd.supabase.test/auth/v1', '--jwt-audience', 'authenticated', '--jwt-stores-claim', 'app_metadata.livestore'],
    claims: (s) => ({ iss: 'https://abcd.supabase.test/auth/v1', aud: 'authenticated', sub: '8d2c-11', role: 'authenticated', email: 'a@todo.test', session_id: 's1', is_anonymous: false, app_metadata: { provider: 'email', providers: ['email'], livestore: { read: [s], write: [s] } }, user_metadata: { livestore: { read: '*', write: '*' } } }),
    bad: (s) => ({ iss: 'https://abcd.supabase.test/auth/v1', aud: 'authenticated', sub: '8d2c-11', user_metadata: { livestore: { read: '*', write: '*' } }, app_metadata: {} }),
  },
  {
    name: 'Firebase', key: 'rsa', flags: ['--jwt-issuer', 'https://securetoken.google.com/todo-proj', '--jwt-audience', 'todo-proj'],
    claims: (s) => ({ iss: 'https://securetoken.google.com/todo-proj', aud: 'todo-proj', auth_time: now() - 100, user_id: 'Uid1', sub: 'Uid1', firebase: { identities: { email: ['a@todo.test'] }, sign_in_provider: 'password' }, read: [s], write: [s] }),
    bad: (s) => ({ iss: 'https://securetoken.google.com/other-proj', aud: 'other-proj', sub: 'Uid1', read: [s], write: [s] }),
  },
  {
    name: 'Cognito', key: 'rsa', flags: ['--jwt-issuer', 'https://cognito-idp.eu-west-1.amazonaws.test/eu-west-1_AbC', '--jwt-stores-claim', 'livestore'],
    claims: (s) => ({ iss: 'https://cognito-idp.eu-west-1.amazonaws.test/eu-west-1_AbC', sub: 'a1b2', 'cognito:groups': ['todo'], token_use: 'access', scope: 'aws.cognito.signin.user.admin', client_id: '5abc', username: 'alice', livestore: { read: [s], write: [s] } }),
    bad: (s) => ({ iss: 'https://cognito-idp.eu-west-1.amazonaws.test/eu-west-1_Other', sub: 'a1b2', livestore: { read: [s], write: [s] } }),
  },
]

test('tokens shaped like Auth0, Clerk, Keycloak, Supabase, Firebase and Cognito tokens, with their recipes', async (t) => {
  for (const p of PROVIDERS) {
    const key = makeKey(p.key === 'rsa' ? 'rsa' : 'ec-p256', `${p.name}-key`)
    const published = [key.jwk()]
    if (p.enc) published.unshift({ ...makeKey('rsa', 'enc-key').jwk(), use: 'enc', alg: 'RSA-OAEP' })  // Keycloak also lists an encryption key
    const idp = await startJwksServer({ keys: published })
    try {
      const g = await startGateway({ databaseUrl: pg.url, longPollTimeout: 2, args: ['--jwt-jwks-url', idp.url, ...p.flags] })
      try {
        const store = `prov-${p.name.toLowerCase()}`
        const tok = (claims) => signJwt(key, { iat: now(), exp: now() + 3600, ...claims })
        const good = tok(p.claims(store))
        const cred = (tk) => (p.channel === 'cookie' ? { cookie: `__session=${tk}` } : bearer(tk))
        const pl = await pull(g.endpoint, { storeId: store, live: false, ...(p.channel === 'cookie' ? {} : { payload: { authToken: good } }) }, p.channel === 'cookie' ? cred(good) : {})
        assert.equal(pl.status, 200, `${p.name} pull: ${JSON.stringify(pl.body)}`)
        const ps = await push(g.endpoint, store, events(1, 1), cred(good))
        assert.equal(ps.status, 200, `${p.name} push: ${ps.text}`)
        assert.equal((await push(g.endpoint, `${store}-other`, events(1, 1), cred(good))).status, 403, `${p.name}: another store`)
        const bad = await push(g.endpoint, store, events(2, 2), cred(tok(p.bad(store))))
        assert.ok([401, 403].includes(bad.status), `${p.name}: a token of another tenant or without the claims: ${bad.status} ${bad.text}`)
        t.diagnostic(`${p.name}: pull 200, push 200, other store 403, foreign token ${bad.status} (${JSON.parse(bad.text).error})`)
      } finally {
        await g.stop()
      }
    } finally {
      await idp.stop()
    }
  }
})

test('PEM public keys (--jwt-public-key) and a JWKS file (--jwt-jwks-file); bad key files stop the start', async () => {
  const work = makeWorkDir('jwt-files')
  const pemFile = path.join(work, 'keys.pem')
  writeFileSync(pemFile, keys.rsa2.pem + keys.p384.pem)
  const g = await gateway(['--jwt-public-key', pemFile])
  assert.equal((await push(g.endpoint, 'jc-pem', events(1, 1), bearer(signJwt(keys.rsa2, claimsFor('jc-pem'), { kid: null })))).status, 200)
  assert.equal((await push(g.endpoint, 'jc-pem', events(2, 2), bearer(signJwt(keys.p384, claimsFor('jc-pem'))))).status, 200)
  assert.equal((await push(g.endpoint, 'jc-pem', events(3, 3), bearer(signJwt(keys.rsa, claimsFor('jc-pem'))))).status, 401)

  const privFile = path.join(work, 'private.pem')
  writeFileSync(privFile, keys.rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }))
  const badJwks = path.join(work, 'bad.json')
  writeFileSync(badJwks, JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }))
  for (const [args, code, pattern] of [
    [['--jwt-public-key', privFile], 1, /private key/],
    [['--jwt-jwks-file', badJwks], 1, /no usable signature key/],
    [['--jwt-jwks-url', jwks.url], 2, /--jwt-issuer/],
    [['--jwt-jwks-url', 'ftp://x/jwks', '--jwt-issuer', 'x'], 2, /http/],
    [['--authorize-function', 'public.f', '--auth-token', 'x'], 2, /needs JWTs/],
  ]) {
    const r = spawnSync(GATEWAY_BIN, ['--listen', '127.0.0.1:0', '--database-url', pg.url, ...args], { encoding: 'utf8', timeout: 15_000 })
    assert.equal(r.status, code, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, pattern)
  }
})

// Last: it stops and restarts Postgres.
test('authorization in SQL: a memberships table decides, decisions are cached briefly, failures and outages never say yes', async () => {
  await psql(pg.url, `
    CREATE TABLE memberships (user_id text, list_id text, role text, PRIMARY KEY (user_id, list_id));
    INSERT INTO memberships VALUES ('alice', 'az-shared', 'owner'), ('bob', 'az-shared', 'viewer'), ('carol', 'az-shared', 'editor');
    CREATE FUNCTION public.can_access(claims jsonb, store_id text, access text) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$
    BEGIN
      IF claims->>'sub' = 'boom' THEN RAISE EXCEPTION 'authorization bug'; END IF;
      IF claims->>'sub' = 'null-user' THEN RETURN NULL; END IF;
      RETURN EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = claims->>'sub' AND m.list_id = store_id
                     AND (access = 'read' OR m.role IN ('owner', 'editor')));
    END $$;
  `)
  const work = makeWorkDir('jwt-authz')
  const jwksFile = path.join(work, 'jwks.json')
  writeFileSync(jwksFile, JSON.stringify({ keys: [keys.p256.jwk()] }))
  const g = await gateway(['--jwt-jwks-file', jwksFile, '--authorize-function', 'public.can_access', '--authorize-cache', '2'],
    { longPollTimeout: 2 })
  const tok = (sub) => signJwt(keys.p256, { sub, exp: now() + 600 })  // no read/write claims: the function decides
  const [alice, bob, carol] = ['alice', 'bob', 'carol'].map(tok)

  assert.equal((await pull(g.endpoint, { storeId: 'az-shared', payload: { authToken: alice }, live: false })).status, 200)
  assert.equal((await push(g.endpoint, 'az-shared', events(1, 1), bearer(alice))).status, 200)
  assert.equal((await pull(g.endpoint, { storeId: 'az-shared', payload: { authToken: bob }, live: false })).status, 200)
  assert.equal((await push(g.endpoint, 'az-shared', events(2, 2), bearer(bob))).status, 403, 'a viewer may not write')
  assert.equal((await pull(g.endpoint, { storeId: 'az-private', payload: { authToken: alice }, live: false })).status, 403)
  assert.equal((await psql(pg.url, `SELECT count(*) FROM livestore.stores WHERE store_id = 'az-private'`)), '0', 'a refused pull creates no store')
  const hits = await metric(g, 'livestore_gateway_authorize_cache_hits_total')
  const calls = await metric(g, 'livestore_gateway_authorize_calls_total{result="allow"}')
  assert.equal((await pull(g.endpoint, { storeId: 'az-shared', payload: { authToken: alice }, live: false })).status, 200)
  assert.equal(await metric(g, 'livestore_gateway_authorize_cache_hits_total'), hits + 1, 'answered from the cache')
  assert.equal(await metric(g, 'livestore_gateway_authorize_calls_total{result="allow"}'), calls)

  // Revocation takes effect within --authorize-cache.
  await psql(pg.url, `DELETE FROM memberships WHERE user_id = 'bob'`)
  await waitFor(async () => (await pull(g.endpoint, { storeId: 'az-shared', payload: { authToken: bob }, live: false })).status === 403,
    { timeout: 5000, what: 'the revocation to apply' })

  // NULL denies; an error in the function is never a yes.
  assert.equal((await push(g.endpoint, 'az-shared', events(2, 2), bearer(tok('null-user')))).status, 403)
  const boomPush = await push(g.endpoint, 'az-shared', events(2, 2), bearer(tok('boom')))
  assert.equal(boomPush.status, 500, boomPush.text)
  const boomPull = await pull(g.endpoint, { storeId: 'az-shared', payload: { authToken: tok('boom') }, handle: 'h', offset: '1_0' })
  assert.equal(boomPull.status, 200, 'held, then an empty page: a pull never fails')
  assert.deepEqual(boomPull.body, [])
  assert.ok((await metric(g, 'livestore_gateway_authorize_calls_total{result="error"}')) >= 2)

  // Postgres away: carol's decision is not cached; her push gets 503, her pull an empty page.
  cluster('cluster_stop', pg.dir)
  try {
    const r = await push(g.endpoint, 'az-shared', events(2, 2), bearer(carol))
    assert.equal(r.status, 503, r.text)
    const p = await pull(g.endpoint, { storeId: 'az-shared', payload: { authToken: carol }, handle: 'h', offset: '1_0' })
    assert.equal(p.status, 200)
    assert.deepEqual(p.body, [])
    assert.equal(p.headers.get('electric-offset'), '1_0')
  } finally {
    cluster('cluster_start', pg.dir, String(pg.port))
  }
  await waitFor(async () => (await push(g.endpoint, 'az-shared', events(2, 2), bearer(carol))).status === 200,
    { timeout: 15_000, what: 'carol\'s push once Postgres is back' })

  // A function that is not there: the gateway refuses to start.
  const r = spawnSync(GATEWAY_BIN, ['--listen', '127.0.0.1:0', '--database-url', pg.url, '--jwt-jwks-file', jwksFile,
    '--authorize-function', 'public.no_such_fn'], { encoding: 'utf8', timeout: 15_000 })
  assert.equal(r.status, 1, r.stderr)
  assert.match(r.stderr, /no function public\.no_such_fn\(jsonb,text,text\)/)
})
