// Scenario (g): identity as production apps have it (issue 11), with the real
// client. Tokens are ES256, signed by a stand-in identity provider whose JWKS
// a local server publishes; the gateway verifies them against that JWKS and
// asks an authorization function in SQL, which reads the app's own
// `memberships` table, whether the user may read or write the list.
//
// The credentials travel the way the stock client can carry them: the token
// is in the endpoint URL's query string (`/api/electric?token=...`, kept by
// the client on pull, push and ping) and in the sync payload (pulls only).
//
// Alice and Bob share one list and sync it both ways; Alice may not open
// Bob's private list: her pull is refused with 403 (the stock client then
// stops syncing that store), and nothing she commits there reaches the log.
// A session that outlives its token: the pull ends with 401 at expiry, and
// the store re-opened with a fresh token syncs on from its disk storage.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'

import { psql } from '../lib/harness.mjs'
import { makeKey, now, signJwt, startJwksServer } from '../lib/jwt.mjs'
import { MODES, startBackend } from './lib/backend.mjs'
import { openClient } from './lib/client.mjs'
import { chainProblems, eventRows } from './lib/db.mjs'
import { explained, testScope, uniqueStoreId, useCluster } from './lib/suite.mjs'

const HOP_TIMEOUT = Number(process.env.E2E_HOP_TIMEOUT_MS ?? 15_000)
const CONVERGE_TIMEOUT = Number(process.env.E2E_CONVERGE_TIMEOUT_MS ?? 45_000)
const ISSUER = 'https://idp.test/auth/v1'
const lit = (s) => `'${s.replace(/'/g, "''")}'`

const ctx = useCluster('authorize')
const key = makeKey('ec-p256', 'idp-key-1')
let jwks = null
let installed = null
const install = () => (installed ??= (async () => {
  jwks = await startJwksServer({ keys: [key.jwk()] })
  await psql(ctx.cluster.url, `
    CREATE TABLE memberships (user_id text NOT NULL, list_id text NOT NULL, role text NOT NULL,
                              PRIMARY KEY (user_id, list_id));
    -- Read for every member, write for owners and editors.
    CREATE FUNCTION public.can_access(claims jsonb, store_id text, access text) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
      SELECT EXISTS (SELECT 1 FROM memberships m
                     WHERE m.user_id = claims->>'sub' AND m.list_id = store_id
                       AND (access = 'read' OR m.role IN ('owner', 'editor')))
    $$;
  `)
})())

const token = (sub) => signJwt(key, { iss: ISSUER, aud: 'authenticated', sub, role: 'authenticated', exp: now() + 3600 })

for (const mode of MODES) {
  test(`(g1) an authorization function over a memberships table: a shared list syncs, another user's list is refused [${mode}]`, { timeout: 150_000 }, async (t) => {
    await install()
    const { dir, defer } = testScope(t, ctx, `authorize-${mode}`)
    const shared = uniqueStoreId('shared')
    const bobs = uniqueStoreId('bobs')
    await psql(ctx.cluster.url, `INSERT INTO memberships VALUES
      ('alice', ${lit(shared)}, 'owner'), ('bob', ${lit(shared)}, 'editor'), ('bob', ${lit(bobs)}, 'owner')`)
    const backend = await startBackend(mode, {
      databaseUrl: ctx.cluster.url, dir,
      frontArgs: ['--jwt-jwks-url', jwks.url, '--jwt-issuer', ISSUER, '--jwt-audience', 'authenticated',
                  '--authorize-function', 'public.can_access'],
    })
    defer(() => backend.stop())
    await explained(backend, async () => {
      const open = async (user, storeId, opts = {}) => {
        const jwt = token(user)
        const c = await openClient({
          storeId, endpoint: `${backend.endpoint}?token=${jwt}`, clientId: `${user}-${storeId.slice(-6)}`,
          logDir: dir, authToken: jwt, ...opts,
        })
        defer(() => c.close())
        await c.waitConnected()
        return c
      }
      const alice = await open('alice', shared)
      const bob = await open('bob', shared)
      await alice.commit({ id: 'alice-1', text: 'milk' })
      await bob.waitForIds(['alice-1'], { timeout: HOP_TIMEOUT })
      await bob.commit({ id: 'bob-1', text: 'bread' })
      await alice.waitForIds(['bob-1'], { timeout: HOP_TIMEOUT })
      for (const c of [alice, bob]) await c.waitSynced(2, { timeout: CONVERGE_TIMEOUT })
      const rows = await eventRows(ctx.cluster.url, shared)
      assert.deepEqual(chainProblems(rows), [])
      assert.deepEqual(rows.map((r) => r.args.id), ['alice-1', 'bob-1'], 'pushes carried the token in the query string')

      // Bob's private list: Alice is no member.
      const bobAlone = await open('bob', bobs)
      await bobAlone.commit({ id: 'bob-secret', text: 'private' })
      await bobAlone.waitSynced(1, { timeout: CONVERGE_TIMEOUT })
      const intruder = await openClient({
        storeId: bobs, endpoint: `${backend.endpoint}?token=${token('alice')}`, clientId: 'alice-intruder',
        logDir: dir, authToken: token('alice'),
      })
      defer(() => intruder.close())
      await intruder.commit({ id: 'alice-intrusion', text: 'should never arrive' }).catch(() => {})
      await intruder.waitUntil(() => intruder.failure || intruder.exit, { timeout: CONVERGE_TIMEOUT, what: 'the refused pull to end the sync' })
        .catch(() => {})
      assert.match(String(intruder.failure ?? intruder.exit), /403/, 'the client saw the 403 of its pull')
      assert.ok(!intruder.seen.has('bob-secret'), "Alice never received Bob's private todo")
      const log = readFileSync(backend.front.logFile, 'utf8')
      assert.match(log, new RegExp(`"route":"pull","status":403[^\\n]*"store":"${bobs}"`))
      assert.deepEqual((await eventRows(ctx.cluster.url, bobs)).map((r) => r.args.id), ['bob-secret'])
      t.diagnostic(`[${mode}] refused pull: ${String(intruder.failure).split('\n')[0].slice(0, 160)}`)
    })
  })
}

test('(g2) a session longer than its token: its pull ends with 401 at expiry; re-opened with a fresh token, the store syncs on from disk [built-in]', { timeout: 180_000 }, async (t) => {
  await install()
  const { dir, defer } = testScope(t, ctx, 'expiry')
  const storeId = uniqueStoreId('expiry')
  await psql(ctx.cluster.url, `INSERT INTO memberships VALUES ('carol', ${lit(storeId)}, 'owner'), ('dave', ${lit(storeId)}, 'editor')`)
  const backend = await startBackend('built-in', {
    databaseUrl: ctx.cluster.url, dir, longPollTimeout: 3,
    frontArgs: ['--jwt-jwks-url', jwks.url, '--jwt-issuer', ISSUER, '--jwt-audience', 'authenticated',
                '--authorize-function', 'public.can_access', '--jwt-leeway', '0'],
  })
  defer(() => backend.stop())
  await explained(backend, async () => {
    const open = async (user, clientId, exp, storage = { type: 'in-memory' }) => {
      const jwt = signJwt(key, { iss: ISSUER, aud: 'authenticated', sub: user, exp })
      const c = await openClient({ storeId, endpoint: `${backend.endpoint}?token=${jwt}`, clientId, logDir: dir, authToken: jwt, storage })
      defer(() => c.close())
      await c.waitConnected()
      return c
    }
    const disk = { type: 'fs', baseDirectory: `${dir}/carol-data` }
    const dave = await open('dave', 'dave', now() + 3600)
    const shortExp = now() + 30
    const carol = await open('carol', 'carol', shortExp, disk)
    await carol.commit({ id: 'carol-1', text: 'before expiry' })
    await dave.waitForIds(['carol-1'], { timeout: HOP_TIMEOUT })
    await carol.waitSynced(1, { timeout: CONVERGE_TIMEOUT })
    // The token expires: the next pull gets 401 and the stock client stops syncing.
    await carol.waitUntil(() => carol.failure, { timeout: 60_000, what: 'the pull to be refused at expiry' }).catch(() => {})
    assert.match(String(carol.failure), /401/, `the client saw the 401 of its pull (exp ${shortExp}, now ${now()})`)
    await carol.close()
    await dave.commit({ id: 'dave-1', text: 'while carol was away' })
    await dave.waitSynced(2, { timeout: CONVERGE_TIMEOUT })
    // Re-opened with a fresh token (in Node: shutdown, then createStorePromise again).
    const again = await open('carol', 'carol', now() + 3600, disk)
    await again.waitForIds(['carol-1', 'dave-1'], { timeout: CONVERGE_TIMEOUT })
    await again.commit({ id: 'carol-2', text: 'after the new token' })
    await dave.waitForIds(['carol-2'], { timeout: HOP_TIMEOUT })
    const rows = await eventRows(ctx.cluster.url, storeId)
    assert.deepEqual(chainProblems(rows), [])
    assert.deepEqual(rows.map((r) => r.args.id), ['carol-1', 'dave-1', 'carol-2'])
  })
})

test('close the stand-in provider', async () => {
  await jwks?.stop()
})
