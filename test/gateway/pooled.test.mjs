// --database-pooled and --listen-database-url against plain Postgres (no
// pooler needed): statements run unnamed (what pgbouncer's transaction mode
// requires), the wake-ups (wait_changes(), or LISTEN before extension 0.3.0)
// use the separate session URL,
// and a push through one gateway wakes a live pull held by another one.
// test/scale/pgbouncer.test.mjs runs the same flags through a real pgbouncer.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, test } from 'node:test'

import { psql, startCluster, startGateway, waitFor } from '../lib/harness.mjs'
import { events, inserts, pull, pushBatch } from './lib.mjs'

let pg, a, b, listenUrl
before(async () => {
  pg = await startCluster()
  // Every statement is logged with its name: "execute <unnamed>" or "execute ls_append".
  await psql(pg.url, 'CREATE ROLE ls_listener LOGIN SUPERUSER')
  await psql(pg.url, 'ALTER SYSTEM SET log_min_duration_statement = 0')
  await psql(pg.url, 'SELECT pg_reload_conf()')
  listenUrl = pg.url.replace('postgres@', 'ls_listener@')
  const args = ['--database-pooled', '--listen-database-url', listenUrl]
  a = await startGateway({ databaseUrl: pg.url, longPollTimeout: 10, args })
  b = await startGateway({ databaseUrl: pg.url, longPollTimeout: 10, args })
})
after(async () => {
  await a?.stop()
  await b?.stop()
  await pg?.stop()
})

test('push, re-sent push and pull work with unnamed statements', async () => {
  assert.equal((await pushBatch(a.endpoint, 'pooled-a', events(1, 3))).status, 200)
  const again = await pushBatch(a.endpoint, 'pooled-a', events(1, 3))
  assert.equal(again.status, 200, 'a re-sent identical batch succeeds')
  assert.equal((await pushBatch(a.endpoint, 'pooled-a', events(3, 4, { clientId: 'client-b' }))).status, 409)
  const r = await pull(b.endpoint, { storeId: 'pooled-a', handle: 'h', offset: '0_0' })
  assert.equal(r.status, 200)
  assert.deepEqual(inserts(r.body).map((m) => m.value.seqNum), ['1', '2', '3'])
  assert.equal(await psql(pg.url, `SELECT count(*) FROM eventlog_6_pooled_a`), '3')
})

test('a push through gateway A wakes a live pull held by gateway B (wake-ups on the session URL)', async () => {
  const held = pull(b.endpoint, { storeId: 'pooled-a', handle: 'h', offset: '3_0' })
  await new Promise((r) => setTimeout(r, 300))
  assert.equal((await pushBatch(a.endpoint, 'pooled-a', events(4, 4))).status, 200)
  const r = await held
  assert.deepEqual(inserts(r.body).map((m) => m.value.seqNum), ['4'])
  assert.ok(r.ms < 9000, `woken before the 10 s long-poll timeout (${r.ms.toFixed(0)} ms)`)
})

test('the wake-ups run on the --listen-database-url session only; nothing is prepared by name', async () => {
  const listeners = await psql(pg.url, `SELECT usename FROM pg_stat_activity
    WHERE pid <> pg_backend_pid() AND (query = 'LISTEN livestore_events' OR query LIKE '%FROM livestore.wait_changes(%') ORDER BY 1`)
  assert.deepEqual(listeners.split('\n'), ['ls_listener', 'ls_listener'], 'one wake-up session per gateway, as ls_listener')
  const log = await waitFor(() => {
    const text = readFileSync(pg.log, 'utf8')
    return text.includes('execute <unnamed>: SELECT livestore.append') && text
  }, { what: 'the append logged as an unnamed statement' })
  assert.equal(/execute ls_\w+/.test(log), false, 'no named (prepared) statement was executed')
  assert.equal(/SET statement_timeout|SET livestore\.notify/.test(log), false, 'no session setting but application_name')
  // The append turns livestore.notify off inside its own statement (for an
  // extension before 0.3.0, whose gateways get the announcer's notifications).
  assert.match(log, /set_config\('livestore\.notify', 'off', true\)/)
})
