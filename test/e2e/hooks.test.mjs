// Scenario (e): server-side logic in Postgres (issue 9) with the real client.
// Events emitted from SQL (livestore.emit) reach a live client; a batch that
// a hook refuses with livestore.reject is answered 422 and never stored; a
// compensating event that a hook emits after accepting a batch reaches every
// client; the writer's verified JWT reaches the hook as livestore.claims.
//
// What the stock client does with a refused batch (doc section 7.3): it cannot
// be told that a refusal is final. It keeps the events locally, re-sends the
// same batch forever (backoff 1 s doubling to 30 s, and at once after every
// rebase onto other clients' events), and everything it commits after the
// refused batch stays local too. It keeps pulling: other clients' events still
// reach it. Hence refusal is for enforcement against misbehaving clients; rules
// that users should see are compensating events.
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'

import { psql } from '../lib/harness.mjs'
import { MODES, startBackend } from './lib/backend.mjs'
import { openClient } from './lib/client.mjs'
import { chainProblems, eventRows } from './lib/db.mjs'
import { explained, testScope, uniqueStoreId, useCluster } from './lib/suite.mjs'

const HOP_TIMEOUT = Number(process.env.E2E_HOP_TIMEOUT_MS ?? 15_000)
const CONVERGE_TIMEOUT = Number(process.env.E2E_CONVERGE_TIMEOUT_MS ?? 45_000)
const JWT_SECRET = 'e2e-hooks-jwt-secret'
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const lit = (s) => `'${s.replace(/'/g, "''")}'`

const ctx = useCluster('hooks')
// The hooks, each on its own store pattern (uniqueStoreId gives e2e_<name>_...),
// installed once, by the first test (root-level before() hooks do not wait
// for each other).
let installed = null
const installHooks = () => (installed ??= psql(ctx.cluster.url, `
    CREATE FUNCTION e2e_refuse(store_id text, events jsonb) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM jsonb_array_elements(events) e WHERE e->'args'->>'text' LIKE '%blocked%') THEN
        PERFORM livestore.reject('blocked words are refused', jsonb_build_object('rule', 'blocklist'));
      END IF;
    END $$;
    SELECT livestore.add_hook('e2e_refuse_%', 'e2e_refuse(text, jsonb)');

    CREATE FUNCTION e2e_compensate(store_id text, events jsonb) RETURNS void LANGUAGE plpgsql AS $$
    DECLARE e jsonb;
    BEGIN
      FOR e IN SELECT * FROM jsonb_array_elements(events) LOOP
        IF e->>'name' = 'v1.ItemAdded' AND e->'args'->>'text' LIKE '%forbidden%' THEN
          PERFORM livestore.emit(store_id, jsonb_build_array(jsonb_build_object('name', 'v1.ItemRejected',
            'args', jsonb_build_object('id', e->'args'->>'id', 'reason', 'contains a forbidden word'))));
        END IF;
      END LOOP;
    END $$;
    SELECT livestore.add_hook('e2e_comp_%', 'e2e_compensate(text, jsonb)');

    CREATE TABLE e2e_writers (n serial, store text, ids jsonb, claims jsonb);
    CREATE FUNCTION e2e_record_writer(store_id text, events jsonb) RETURNS void LANGUAGE sql AS $$
      INSERT INTO public.e2e_writers (store, ids, claims)
      SELECT store_id, jsonb_agg(e->'args'->'id'), livestore.claims() FROM jsonb_array_elements(events) e
    $$;
    SELECT livestore.add_hook('e2e_claims_%', 'e2e_record_writer(text, jsonb)');
  `))

async function metric(gw, name) {
  const text = await fetch(`${gw.url}/metrics`).then((r) => r.text())
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text)
  assert.ok(m, `${name} in /metrics`)
  return Number(m[1])
}

function jwt(claims) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`
  return `${head}.${createHmac('sha256', JWT_SECRET).update(head).digest('base64url')}`
}

/** Gateways of `mode`, two helpers to open clients, and the store id; stopped at test end. */
async function setUp(t, mode, name, backendOpts = {}) {
  await installHooks()
  const { dir, defer } = testScope(t, ctx, `${name}-${mode}`)
  const backend = await startBackend(mode, { databaseUrl: ctx.cluster.url, dir, ...backendOpts })
  defer(() => backend.stop())
  const storeId = uniqueStoreId(name)
  const open = async (clientId, opts = {}) => {
    const c = await openClient({ storeId, endpoint: backend.endpoint, clientId, logDir: dir, ...opts })
    defer(() => c.close())
    await c.waitConnected()
    return c
  }
  return { backend, storeId, open }
}

for (const mode of MODES) {
  test(`(e1) an event emitted from SQL reaches a live client [${mode}]`, { timeout: 120_000 }, async (t) => {
    const { backend, storeId, open } = await setUp(t, mode, 'emit')
    await explained(backend, async () => {
      const a = await open('client-a')
      await a.commit({ id: 'a-1', text: 'first' })
      await a.waitSynced(1)

      const t0 = performance.now()
      const head = await psql(ctx.cluster.url, `SELECT livestore.emit(${lit(storeId)},
        '[{"name":"v1.ItemAdded","args":{"id":"from-sql","text":"emitted by SQL"}}]')`)
      assert.equal(head, '2')
      await a.waitForIds(['from-sql'], { timeout: HOP_TIMEOUT })
      t.diagnostic(`[${mode}] emit to visible in the client: ${(performance.now() - t0).toFixed(0)} ms`)

      // The client goes on after it: its next event is numbered after the emitted one.
      await a.commit({ id: 'a-2', text: 'after' })
      await a.waitSynced(3, { timeout: CONVERGE_TIMEOUT })
      const rows = await eventRows(ctx.cluster.url, storeId)
      assert.deepEqual(chainProblems(rows), [])
      assert.deepEqual(rows.map((r) => [r.args.id, r.clientId]), [['a-1', 'client-a'], ['from-sql', 'livestore-server'], ['a-2', 'client-a']])
      assert.deepEqual((await a.items()).map((r) => r.id).sort(), ['a-1', 'a-2', 'from-sql'])
    })
  })

  test(`(e2) a batch refused by a hook gets 422 and is never stored; the client keeps pulling [${mode}]`, { timeout: 150_000 }, async (t) => {
    const { backend, storeId, open } = await setUp(t, mode, 'refuse')
    await explained(backend, async () => {
      const a = await open('client-a')
      const b = await open('client-b')
      await a.commit({ id: 'a-ok', text: 'fine' })
      await b.waitForIds(['a-ok'], { timeout: HOP_TIMEOUT })
      await a.waitSynced(1)
      const rejected0 = await metric(backend.front, 'livestore_gateway_push_rejected_total')

      await a.commit({ id: 'a-bad', text: 'a blocked word' })
      await a.waitUntil(async () => (await metric(backend.front, 'livestore_gateway_push_rejected_total')) > rejected0, { what: 'a 422 in /metrics' })
      const log = readFileSync(backend.front.logFile, 'utf8')
      assert.match(log, new RegExp(`push to store ${storeId} refused by a hook: blocked words are refused`))
      assert.match(log, new RegExp(`"route":"push","status":422[^\\n]*"store":"${storeId}"`))
      assert.ok((await a.items()).some((r) => r.id === 'a-bad'), 'the writer keeps its refused event locally')

      // Other clients' events still reach A, and A stays up.
      await b.commit({ id: 'b-1', text: 'from b' })
      await a.waitForIds(['b-1'], { timeout: HOP_TIMEOUT })
      // A rebases its refused batch onto b-1 and re-sends it: refused again.
      await a.commit({ id: 'a-after', text: 'committed after the refused one' })
      await a.waitUntil(async () => (await metric(backend.front, 'livestore_gateway_push_rejected_total')) >= rejected0 + 2,
        { timeout: CONVERGE_TIMEOUT, what: 'the stock client re-sending the refused batch' })
      await sleep(1500)

      const rows = await eventRows(ctx.cluster.url, storeId)
      assert.deepEqual(chainProblems(rows), [])
      assert.deepEqual(rows.map((r) => r.args.id), ['a-ok', 'b-1'], 'nothing of the refused batch, nor what followed it, is stored')
      assert.ok(!b.seen.has('a-bad') && !b.seen.has('a-after'), 'the other client never sees them')
      const status = await a.status()
      assert.ok(status.pendingCount >= 2, `the writer still holds its events as pending (${JSON.stringify(status)})`)
      assert.equal(a.failure, null, 'the writer did not shut down')
      t.diagnostic(`[${mode}] refused pushes counted: ${(await metric(backend.front, 'livestore_gateway_push_rejected_total')) - rejected0}`)
    })
  })

  test(`(e3) a compensating event emitted by a hook reaches both clients [${mode}]`, { timeout: 150_000 }, async (t) => {
    const { backend, storeId, open } = await setUp(t, mode, 'comp')
    await explained(backend, async () => {
      const a = await open('client-a')
      const b = await open('client-b')
      await a.commit({ id: 'a-1', text: 'fine' }, { id: 'a-2', text: 'a forbidden word' })

      const converged = (c) => c.waitUntil(async () => {
        const rej = await c.rejections()
        return rej.length === 1 && c.ids.length === 1 && c.ids[0] === 'a-1' ? rej : null
      }, { timeout: CONVERGE_TIMEOUT, what: `${c.clientId}: a-2 rejected, a-1 kept` })
      for (const c of [a, b]) {
        assert.deepEqual(await converged(c), [{ id: 'a-2', reason: 'contains a forbidden word' }])
        await c.waitSynced(3, { timeout: CONVERGE_TIMEOUT })
      }
      const rows = await eventRows(ctx.cluster.url, storeId)
      assert.deepEqual(chainProblems(rows), [])
      assert.deepEqual(rows.map((r) => [r.name, r.args.id, r.clientId]),
        [['v1.ItemAdded', 'a-1', 'client-a'], ['v1.ItemAdded', 'a-2', 'client-a'], ['v1.ItemRejected', 'a-2', 'livestore-server']])

      // Both go on normally after it.
      await b.commit({ id: 'b-1', text: 'from b' })
      await a.waitForIds(['b-1'], { timeout: HOP_TIMEOUT })
      for (const c of [a, b]) await c.waitSynced(4, { timeout: CONVERGE_TIMEOUT })
      for (const c of [a, b]) assert.deepEqual((await c.items()).map((r) => r.id).sort(), ['a-1', 'b-1'])
    })
  })

  test(`(e4) the writer's verified JWT reaches a hook as livestore.claims [${mode}]`, { timeout: 150_000 }, async (t) => {
    const storeId = uniqueStoreId('claims')
    const exp = Math.floor(Date.now() / 1000) + 3600
    const claims = {
      a: { sub: 'user-a', read: [storeId], write: [storeId], exp, org: { id: 1, roles: ['owner'] } },
      b: { sub: 'user-b', read: [storeId], write: [storeId], exp, org: { id: 1, roles: ['member'] } },
    }
    await installHooks()
    const { dir, defer } = testScope(t, ctx, `claims-${mode}`)
    const backend = await startBackend(mode, { databaseUrl: ctx.cluster.url, dir, frontArgs: ['--jwt-secret', JWT_SECRET] })
    defer(() => backend.stop())
    await explained(backend, async () => {
      // The token rides in the pull payload (what the stock client sends) and,
      // for pushes, in an Authorization header added to every request.
      const open = async (clientId, token) => {
        const c = await openClient({ storeId, endpoint: backend.endpoint, clientId, logDir: dir, authToken: token, headers: { authorization: `Bearer ${token}` } })
        defer(() => c.close())
        await c.waitConnected()
        return c
      }
      const a = await open('client-a', jwt(claims.a))
      const b = await open('client-b', jwt(claims.b))
      await a.commit({ id: 'a-1', text: 'by a' })
      await b.waitForIds(['a-1'], { timeout: HOP_TIMEOUT })
      await b.commit({ id: 'b-1', text: 'by b' })
      for (const c of [a, b]) await c.waitSynced(2, { timeout: CONVERGE_TIMEOUT })

      const seen = JSON.parse(await psql(ctx.cluster.url,
        `SELECT json_agg(w ORDER BY n) FROM e2e_writers w WHERE store = ${lit(storeId)}`))
      assert.deepEqual(seen.map((w) => [w.ids, w.claims]), [[['a-1'], claims.a], [['b-1'], claims.b]])
    })
  })
}
