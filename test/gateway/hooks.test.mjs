// Server-side logic (issue 9) through the gateway: hooks installed with
// livestore.add_hook run inside every push's append. A hook that calls
// livestore.reject gets the push a 422 with its message and JSON detail; any
// other error in a hook a 500 (never 200, never a 400 as if the client sent
// bad data); nothing of a refused batch is stored. The writer's verified JWT
// claims reach the hook as livestore.claims ('{}' without a JWT). Events that
// hooks emit reach live pulls, in the pushed store and in other stores.
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { after, before, test } from 'node:test'

import { psql, startCluster, startGateway, waitFor } from '../lib/harness.mjs'
import { PUSH_TAG, events, inserts, pull, pushBatch } from './lib.mjs'

const SECRET = 'hooks-jwt-secret'
const jwt = (claims) => {
  const head = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url') + '.' +
    Buffer.from(JSON.stringify(claims)).toString('base64url')
  return head + '.' + createHmac('sha256', SECRET).update(head).digest('base64url')
}

let pg, gw
before(async () => {
  pg = await startCluster()
  gw = await startGateway({ databaseUrl: pg.url, longPollTimeout: 10 })
  // Each test's hooks match only its own stores.
  await psql(pg.url, `
    CREATE FUNCTION reject_blocked(store_id text, events jsonb) RETURNS void LANGUAGE plpgsql AS $$
    DECLARE e jsonb;
    BEGIN
      FOR e IN SELECT * FROM jsonb_array_elements(events) LOOP
        IF e->'args'->>'text' LIKE '%blocked%' THEN
          PERFORM livestore.reject('todo text is blocked', jsonb_build_object('id', e->'args'->'id', 'seq', e->'seqNum'));
        ELSIF e->'args'->>'text' LIKE '%silent%' THEN
          PERFORM livestore.reject('refused without detail');
        ELSIF e->'args'->>'text' LIKE '%by hand%' THEN
          RAISE EXCEPTION 'raised by hand' USING ERRCODE = 'LS005', DETAIL = 'plain words';
        END IF;
      END LOOP;
    END $$;
    SELECT livestore.add_hook('rej-%', 'reject_blocked(text, jsonb)');

    CREATE TABLE other_log (n int);
    CREATE FUNCTION failing(store_id text, events jsonb) RETURNS void LANGUAGE plpgsql AS $$
    DECLARE t text := events->0->'args'->>'text';
    BEGIN
      INSERT INTO other_log VALUES (1);  -- rolled back with the batch
      IF t LIKE '%zero%' THEN PERFORM 1 / (jsonb_array_length(events) - jsonb_array_length(events));
      ELSIF t LIKE '%bad value%' THEN RAISE EXCEPTION 'a hook bug' USING ERRCODE = '22023';
      ELSIF t LIKE '%conflict%' THEN  -- an LS001 of another store is no conflict of this push
        PERFORM livestore.create_store('fail-side');
        PERFORM livestore.append('fail-side', '[{"name":"x","seqNum":5,"parentSeqNum":4,"clientId":"c","sessionId":"s"}]');
      END IF;
    END $$;
    SELECT livestore.add_hook('fail-%', 'failing(text, jsonb)');

    CREATE TABLE seen_claims (n serial, store text, setting text, parsed jsonb);
    CREATE FUNCTION record_claims(store_id text, events jsonb) RETURNS void LANGUAGE sql AS $$
      INSERT INTO public.seen_claims (store, setting, parsed)
      VALUES (store_id, current_setting('livestore.claims', true), livestore.claims())
    $$;
    SELECT livestore.add_hook('claims-%', 'record_claims(text, jsonb)');

    CREATE FUNCTION count_batch(store_id text, events jsonb) RETURNS void LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM jsonb_array_elements(events) e WHERE e->>'name' = 'v1.ItemAdded') THEN
        PERFORM livestore.emit(store_id, jsonb_build_array(jsonb_build_object(
          'name', 'v1.BatchSeen', 'args', jsonb_build_object('count', jsonb_array_length(events),
                                                             'last', events->-1->'seqNum'))));
      END IF;
    END $$;
    SELECT livestore.add_hook('emit-%', 'count_batch(text, jsonb)');

    CREATE FUNCTION audit(store_id text, events jsonb) RETURNS void LANGUAGE sql AS $$
      SELECT livestore.emit('audit-log', jsonb_build_array(jsonb_build_object(
        'name', 'v1.Audited', 'args', jsonb_build_object('store', store_id, 'count', jsonb_array_length(events)),
        'clientId', 'auditor')))
    $$;
    SELECT livestore.add_hook('src-%', 'audit(text, jsonb)');
  `)
})
after(async () => {
  await gw?.stop()
  await pg?.stop()
})

const head = (store) => psql(pg.url, `SELECT livestore.head('${store}')`).then(Number)
const rows = (store) => psql(pg.url, `SELECT coalesce(json_agg(e ORDER BY "seqNum"), '[]') FROM livestore.events('${store}') e`).then(JSON.parse)
async function metric(g, name) {
  const text = await fetch(`${g.url}/metrics`).then((r) => r.text())
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text)
  assert.ok(m, `${name} in /metrics`)
  return Number(m[1])
}
const withText = (batch, seq, text) => batch.map((e) => (e.seqNum === seq ? { ...e, args: { ...e.args, text } } : e))

test('a hook that calls livestore.reject: 422 with its message and JSON detail, nothing stored, counted', async () => {
  assert.equal((await pushBatch(gw.endpoint, 'rej-a', events(1, 2))).status, 200)
  const before = await metric(gw, 'livestore_gateway_push_rejected_total')

  const r = await pushBatch(gw.endpoint, 'rej-a', withText(events(3, 5), 4, 'this is blocked'))
  assert.equal(r.status, 422, r.text)
  // detail is reject()'s jsonb, embedded as JSON (jsonb's own text form).
  assert.equal(r.text, '{"success":false,"error":"todo text is blocked","code":"LS005","detail":{"id": "client-a-4", "seq": 4}}')
  assert.equal(r.headers.get('content-type'), 'application/json')
  assert.equal(await head('rej-a'), 2, 'nothing of the batch is stored')
  assert.equal((await rows('rej-a')).length, 2)
  assert.equal(await metric(gw, 'livestore_gateway_push_rejected_total'), before + 1)

  // The same batch again: refused again (nothing is retried or remembered).
  assert.equal((await pushBatch(gw.endpoint, 'rej-a', withText(events(3, 5), 4, 'this is blocked'))).status, 422)
  assert.equal(await metric(gw, 'livestore_gateway_push_rejected_total'), before + 2)

  // Without detail; and an LS005 raised by hand with a DETAIL that is not JSON.
  const silent = await pushBatch(gw.endpoint, 'rej-a', withText(events(3, 3), 3, 'silent'))
  assert.equal(silent.status, 422)
  assert.equal(silent.text, '{"success":false,"error":"refused without detail","code":"LS005"}')
  const byHand = await pushBatch(gw.endpoint, 'rej-a', withText(events(3, 3), 3, 'by hand'))
  assert.equal(byHand.status, 422)
  assert.deepEqual(byHand.json, { success: false, error: 'raised by hand', code: 'LS005', detail: 'plain words' })

  // The store keeps working: an acceptable batch at the same parent succeeds.
  const ok = await pushBatch(gw.endpoint, 'rej-a', events(3, 4))
  assert.equal(ok.status, 200, ok.text)
  assert.equal(ok.json.head, 4)
  assert.equal(await metric(gw, 'livestore_gateway_database_errors_total'), 0, 'a refusal is no database error')
  const log = readFileSync(gw.logFile, 'utf8')
  assert.match(log, /push to store rej-a refused by a hook: todo text is blocked detail: \{\\"id\\": \\"client-a-4\\", \\"seq\\": 4\}/)
})

test('any other error raised in a hook: 500 with its SQLSTATE, never 200 nor 400, nothing stored, logged with context', async () => {
  assert.equal((await pushBatch(gw.endpoint, 'fail-a', events(1, 1))).status, 200)
  const before = await metric(gw, 'livestore_gateway_push_hook_errors_total')
  const cases = [
    ['division by zero', 'zero', '22012'],
    ['a class-22 error (400 if it were the client\'s data)', 'bad value', '22023'],
    ['an LS001 of another store (409 if it were this push\'s conflict)', 'conflict', 'LS001'],
  ]
  for (const [what, text, code] of cases) {
    const r = await pushBatch(gw.endpoint, 'fail-a', withText(events(2, 3), 2, text))
    assert.equal(r.status, 500, `${what}: ${r.text}`)
    assert.equal(r.text, `{"success":false,"error":"a server-side hook failed","code":"${code}"}`, what)
  }
  assert.equal(await head('fail-a'), 1, 'nothing stored')
  assert.equal(await psql(pg.url, 'SELECT count(*) FROM other_log'), '1', "the hook's own writes are rolled back too")
  assert.equal(await metric(gw, 'livestore_gateway_push_hook_errors_total'), before + cases.length)
  const log = readFileSync(gw.logFile, 'utf8')
  assert.match(log, /push to store fail-a failed in a hook: 22012 division by zero .*context: .*livestore hook public\.failing\(text,jsonb\) on store \\"fail-a\\"/)
  assert.match(log, /failed in a hook: 22023 a hook bug/)
})

test('livestore.claims: the verified JWT payload (nested claims too) with --jwt-secret, {} without a JWT', async () => {
  // Generic plans too: the claims must be set before append() in every plan.
  // One thread, so one database session serves every push: the anonymous
  // push after the JWT ones shows that the setting is transaction-local.
  const jw = await startGateway({
    databaseUrl: pg.url,
    args: ['--jwt-secret', SECRET, '--allow-anonymous-push', '--threads', '1'],
    env: { PGOPTIONS: '-c plan_cache_mode=force_generic_plan' },
  })
  const tokenGw = await startGateway({ databaseUrl: pg.url, authToken: 'shared-token' })
  try {
    const exp = Math.floor(Date.now() / 1000) + 600
    const claimsOf = (i) => ({
      sub: `user-${i}`, write: ['claims-jwt'], read: '*', exp,
      org: { id: 7, roles: ['owner', 'admin'], nested: { deep: [1, { x: null }] } }, name: 'Zoë "quoted"',
    })
    // Several pushes, each with another user's token, back to back: each hook
    // run sees its own writer, never the previous one's.
    const N = 8
    for (let i = 1; i <= N; i++) {
      const r = await fetch(jw.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${jwt(claimsOf(i))}` },
        body: JSON.stringify({ _tag: PUSH_TAG, storeId: 'claims-jwt', batch: events(i, i) }),
      })
      assert.equal(r.status, 200, await r.text())
    }
    const anon = await pushBatch(jw.endpoint, 'claims-jwt', events(N + 1, N + 1))  // --allow-anonymous-push
    assert.equal(anon.status, 200, anon.text)
    assert.equal((await pushBatch(gw.endpoint, 'claims-open', events(1, 1))).status, 200)            // no auth
    assert.equal((await pushBatch(tokenGw.endpoint, 'claims-token', events(1, 1))).status, 200)      // --auth-token

    const seen = JSON.parse(await psql(pg.url, `SELECT json_agg(s ORDER BY n) FROM seen_claims s`))
    assert.equal(seen.length, N + 3)
    for (let i = 1; i <= N; i++) {
      const s = seen[i - 1]
      assert.equal(s.store, 'claims-jwt')
      assert.equal(s.setting, JSON.stringify(claimsOf(i)), 'the payload exactly as signed')
      assert.deepEqual(s.parsed, claimsOf(i))
    }
    for (const [i, store] of [[N, 'claims-jwt'], [N + 1, 'claims-open'], [N + 2, 'claims-token']]) {
      assert.equal(seen[i].store, store)
      assert.equal(seen[i].setting, '{}', `${store}: no JWT, no claims`)
      assert.deepEqual(seen[i].parsed, {})
    }
  } finally {
    await tokenGw.stop()
    await jw.stop()
  }
})

test('a hook that emits into the pushed store: 200 with the head after its event, and a live pull gets it', async () => {
  const first = await pull(gw.endpoint, { storeId: 'emit-a', live: true })  // creates the store
  const handle = first.headers.get('electric-handle')
  const held = pull(gw.endpoint, { storeId: 'emit-a', handle, offset: '0_0' })
  await new Promise((r) => setTimeout(r, 300))

  const r = await pushBatch(gw.endpoint, 'emit-a', events(1, 2))
  assert.equal(r.status, 200, r.text)
  assert.deepEqual(r.json, { success: true, head: 3 }, 'the head includes the emitted event')
  const stored = await rows('emit-a')
  assert.deepEqual(stored.map((e) => [e.seqNum, e.parentSeqNum, e.name]), [[1, 0, 'v1.ItemAdded'], [2, 1, 'v1.ItemAdded'], [3, 2, 'v1.BatchSeen']])
  assert.deepEqual(stored[2].args, { count: 2, last: 2 })
  assert.equal(stored[2].clientId, 'livestore-server')

  const woken = await held
  assert.equal(woken.status, 200)
  assert.ok(woken.ms < 5000, `woken by the push, not the timeout (${woken.ms} ms)`)
  assert.deepEqual(inserts(woken.body).map((m) => [m.value.seqNum, m.value.name]), [['1', 'v1.ItemAdded'], ['2', 'v1.ItemAdded'], ['3', 'v1.BatchSeen']])
  assert.equal(woken.headers.get('electric-offset'), '3_0~')

  // The writer is now behind its own push by the emitted event: its next
  // batch at parent 2 is a conflict, as with any rival write.
  const behind = await pushBatch(gw.endpoint, 'emit-a', events(3, 3))
  assert.equal(behind.status, 409)
  assert.equal(behind.json.head, 3)
  const next = await pushBatch(gw.endpoint, 'emit-a', events(4, 4))
  assert.deepEqual(next.json, { success: true, head: 5 })
})

test('a hook that emits into another store wakes a held live pull on that store', async () => {
  const first = await pull(gw.endpoint, { storeId: 'audit-log', live: true })
  const handle = first.headers.get('electric-handle')
  const offset = first.headers.get('electric-offset')
  const held = pull(gw.endpoint, { storeId: 'audit-log', handle, offset })
  await waitFor(async () => (await metric(gw, 'livestore_gateway_held_polls')) >= 1, { what: 'the pull to be held' })

  const r = await pushBatch(gw.endpoint, 'src-1', events(1, 3))
  assert.equal(r.status, 200, r.text)
  assert.equal(r.json.head, 3, 'the head of the pushed store only')

  const woken = await held
  assert.equal(woken.status, 200)
  assert.ok(woken.ms < 5000, `woken by the emit's NOTIFY, not the 10 s timeout (${woken.ms} ms)`)
  const got = inserts(woken.body)
  assert.equal(got.length, 1)
  assert.equal(got[0].value.name, 'v1.Audited')
  assert.equal(got[0].value.clientId, 'auditor')
  assert.deepEqual(JSON.parse(got[0].value.args), { store: 'src-1', count: 3 })
})
