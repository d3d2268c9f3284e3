// Scenario (f): an existing Postgres table as an event source (issue 10).
// A table written by plain SQL, as an old backend would write it, is captured
// into a store (livestore.capture; its earlier rows imported with
// livestore.import_rows in the same transaction). A live real client follows
// every committed change: INSERT, UPDATE, DELETE, multi-row statements and
// multi-statement transactions; a rolled-back change never reaches it. The
// capture triggers emit inside the writer's transaction, whose commit NOTIFYs
// (livestore.notify is on by default): that wakes the gateway's held polls.
// The client keeps pushing its own events meanwhile (it rebases on the
// captured ones); a client opened afterwards catches up to the same state.
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { psql } from '../lib/harness.mjs'
import { MODES, startBackend } from './lib/backend.mjs'
import { openClient } from './lib/client.mjs'
import { chainProblems, eventRows } from './lib/db.mjs'
import { explained, testScope, uniqueStoreId, useCluster } from './lib/suite.mjs'

const HOP_TIMEOUT = Number(process.env.E2E_HOP_TIMEOUT_MS ?? 15_000)
const CONVERGE_TIMEOUT = Number(process.env.E2E_CONVERGE_TIMEOUT_MS ?? 45_000)
const lit = (s) => `'${s.replace(/'/g, "''")}'`
const byId = (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

const ctx = useCluster('capture')

for (const mode of MODES) {
  test(`(f) plain SQL writes to a captured table reach a live client [${mode}]`, { timeout: 180_000 }, async (t) => {
    const { dir, defer } = testScope(t, ctx, `capture-${mode}`)
    const backend = await startBackend(mode, { databaseUrl: ctx.cluster.url, dir })
    defer(() => backend.stop())
    const storeId = uniqueStoreId('capture')
    const table = `legacy_${storeId}`
    const sql = (q) => psql(ctx.cluster.url, q)
    const head = async () => Number(await sql(`SELECT livestore.head(${lit(storeId)})`))
    /** Run `q` (nothing when omitted), then read the table as the client should show it, in one psql. */
    const change = async (q = '') => JSON.parse(await sql(`${q}; SELECT coalesce(json_agg(t ORDER BY id), '[]') FROM ${table} t`))
    // Row changes made so far, as the capture must have turned them into events.
    const changes = { Inserted: 0, Updated: 0, Deleted: 0 }
    const tStart = performance.now()
    const step = (what) => t.diagnostic(`[${mode}] ${((performance.now() - tStart) / 1000).toFixed(1)} s: ${what}`)

    await explained(backend, async () => {
      // The old backend's table, with rows from before the capture.
      await sql(`
        CREATE TABLE ${table} (id text PRIMARY KEY, title text NOT NULL, done boolean NOT NULL DEFAULT false,
                               priority integer NOT NULL DEFAULT 0);
        INSERT INTO ${table} VALUES ('old-1', 'written before the capture', false, 1), ('old-2', 'also "old"', true, 2);
        BEGIN;
        SELECT livestore.capture('${table}', ${lit(storeId)}, 'v1.Legacy');
        SELECT livestore.import_rows('${table}', ${lit(storeId)}, 'v1.Legacy');
        COMMIT;`)
      changes.Inserted += 2

      const open = async (clientId) => {
        const c = await openClient({ storeId, endpoint: backend.endpoint, clientId, logDir: dir })
        defer(() => c.close())
        await c.waitConnected()
        return c
      }
      /** Wait until `c` shows exactly the rows `want` (default: the table's now). */
      const follows = async (c, what, { want, timeout = HOP_TIMEOUT } = {}) => {
        want ??= await change()
        let got
        await c.waitUntil(async () => {
          got = (await c.rows('legacy_todos')).sort(byId)
          return JSON.stringify(got) === JSON.stringify(want)
        }, { timeout, what: () => `${what}: ${JSON.stringify(want).slice(0, 300)}, has ${JSON.stringify(got ?? null).slice(0, 300)}` })
        step(what)
      }

      const a = await open('client-a')
      await follows(a, 'the imported rows')

      // One row at a time, timed to visible in the live client from psql's return (the commit is just before it)
      // and from psql's start (the change, its commit and a read of the table).
      const hop = []
      const timed = async (name, q) => {
        const t0 = performance.now()
        const want = await change(q)
        const t1 = performance.now()
        await follows(a, `the ${name}`, { want })
        const t2 = performance.now()
        hop.push(`${name} ${(t2 - t1).toFixed(0)} ms (${(t2 - t0).toFixed(0)} ms)`)
      }
      await timed('INSERT', `INSERT INTO ${table} VALUES ('new-1', 'inserted by SQL', false, 5)`)
      changes.Inserted++
      await timed('UPDATE', `UPDATE ${table} SET done = true, title = 'updated by SQL' WHERE id = 'new-1'`)
      changes.Updated++
      await timed('DELETE', `DELETE FROM ${table} WHERE id = 'old-1'`)
      changes.Deleted++
      t.diagnostic(`[${mode}] visible in the client after psql returned (after psql started): ${hop.join(', ')}`)

      // Multi-row statements: one event per row.
      await follows(a, '100 rows of one INSERT', {
        want: await change(`INSERT INTO ${table} SELECT 'bulk-' || lpad(i::text, 3, '0'), 'bulk ' || i, false, i FROM generate_series(1, 100) i`),
      })
      changes.Inserted += 100
      await follows(a, '50 rows of one UPDATE', { want: await change(`UPDATE ${table} SET done = true WHERE id LIKE 'bulk-%' AND priority % 2 = 0`) })
      changes.Updated += 50
      await follows(a, '50 rows of one DELETE', { want: await change(`DELETE FROM ${table} WHERE id LIKE 'bulk-%' AND done`) })
      changes.Deleted += 50

      // A rolled-back change emits nothing; a transaction of several statements is applied whole.
      const before = await head()
      await sql(`BEGIN; INSERT INTO ${table} VALUES ('ghost', 'rolled back', false, 0); UPDATE ${table} SET title = 'ghost' WHERE id = 'new-1'; ROLLBACK;`)
      assert.equal(await head(), before, 'a rolled-back change is not in the store')
      await sql(`BEGIN;
        INSERT INTO ${table} VALUES ('tx-1', 'in a transaction', false, 7);
        UPDATE ${table} SET priority = priority + 1 WHERE id IN ('tx-1', 'old-2');
        DELETE FROM ${table} WHERE id = 'bulk-001';
        COMMIT;`)
      changes.Inserted++
      changes.Updated += 2
      changes.Deleted++
      await follows(a, 'a transaction of three statements')
      await assert.rejects(sql(`TRUNCATE ${table}`), /TRUNCATE of .* is not allowed/)

      // The client writes to the same store while SQL writes to the table.
      await Promise.all([
        (async () => {
          for (let i = 1; i <= 5; i++) await a.commit({ id: `a-${i}`, text: `client write ${i}` })
        })(),
        (async () => {
          for (let i = 1; i <= 5; i++) {
            await sql(`UPDATE ${table} SET title = 'concurrent ${i}' WHERE id = 'tx-1'`)
            changes.Updated++
          }
        })(),
      ])
      const total = Object.values(changes).reduce((x, y) => x + y) + 5
      await a.waitSynced(total, { timeout: CONVERGE_TIMEOUT })
      assert.equal(await head(), total)
      await follows(a, 'the concurrent updates')
      assert.deepEqual((await a.items()).map((r) => r.id).sort(), ['a-1', 'a-2', 'a-3', 'a-4', 'a-5'])

      // The log: one event per committed row change, chained, from the server.
      const rows = await eventRows(ctx.cluster.url, storeId)
      assert.deepEqual(chainProblems(rows), [])
      const count = (name) => rows.filter((r) => r.name === name).length
      assert.deepEqual(
        { Inserted: count('v1.LegacyInserted'), Updated: count('v1.LegacyUpdated'), Deleted: count('v1.LegacyDeleted'), items: count('v1.ItemAdded') },
        { ...changes, items: 5 },
      )
      assert.ok(rows.filter((r) => r.name.startsWith('v1.Legacy')).every((r) => r.clientId === 'livestore-server'))
      assert.deepEqual(rows.find((r) => r.name === 'v1.LegacyUpdated').args, {
        old: { id: 'new-1', title: 'inserted by SQL', done: false, priority: 5 },
        new: { id: 'new-1', title: 'updated by SQL', done: true, priority: 5 },
      })

      // A transaction's changes are consecutive, in statement order.
      const tx = rows.findIndex((r) => r.name === 'v1.LegacyInserted' && r.args.new.id === 'tx-1')
      assert.deepEqual(rows.slice(tx, tx + 4).map((r) => r.name), ['v1.LegacyInserted', 'v1.LegacyUpdated', 'v1.LegacyUpdated', 'v1.LegacyDeleted'])
      assert.deepEqual(rows.slice(tx + 1, tx + 3).map((r) => r.args.new.id).sort(), ['old-2', 'tx-1'])
      assert.equal(rows[tx + 3].args.old.id, 'bulk-001')

      // A client opened now catches up to the same state.
      const b = await open('client-b')
      await follows(b, 'client-b catching up', { timeout: CONVERGE_TIMEOUT })
      await b.waitSynced(total, { timeout: CONVERGE_TIMEOUT })
      assert.deepEqual((await b.items()).map((r) => r.id).sort(), ['a-1', 'a-2', 'a-3', 'a-4', 'a-5'])
      step('client-b synced')
      t.after(() => step('closed'))
    })
  })
}
