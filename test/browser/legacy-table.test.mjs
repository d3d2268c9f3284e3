// TodoMVC with an existing table (examples/todomvc/server/legacy.sql): the
// table todos_legacy, written by plain SQL as an old backend would, captured
// into one list with livestore.capture + import_rows, seen from two headless
// Chromium contexts on that list through a real livestore-gateway:
//
// - the rows already in the table (imported) are in both browsers, read-only
//   (no delete button, checkbox disabled), with the id 'legacy:<id>';
// - an INSERT by the old backend's role (no right in schema livestore) appears
//   in both browsers; UPDATEs of completed and of title show in both; a
//   two-row statement arrives whole; a rolled-back INSERT never shows; a
//   DELETE removes the todo in both;
// - todos created in a browser live next to them, and Clear completed leaves
//   completed legacy todos alone;
// - Postgres holds exactly the events expected (v1.LegacyTodoInserted /
//   Updated / Deleted from 'livestore-server', the browsers' own events), the
//   browsers' legacy todos equal the table, and todomvc.todo_stats (the
//   example's hook) counts the legacy todos as the browsers show them.
//
// Per-hop latencies are printed as diagnostics. Needs what todomvc.test.mjs
// needs (test/browser/setup.sh) and the livestore extension 0.2.0 (capture).
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, test } from 'node:test'

import { psql, startCluster, startGateway, waitFor } from '../lib/harness.mjs'
import * as L from './lib.mjs'

const HOP_TIMEOUT_MS = Number(process.env.HOP_TIMEOUT_MS ?? 20_000)
const freshStoreId = (prefix) => `${prefix}-${Date.now()}-${randomBytes(3).toString('hex')}`
const sqlString = (s) => `'${String(s).replaceAll("'", "''")}'`

// Predicates run in the page on (todos, arg).
const has = '(todos, text) => todos.some((t) => t.text === text)'
const hasAll = '(todos, texts) => texts.every((x) => todos.some((t) => t.text === x))'
const hasNot = '(todos, text) => !todos.some((t) => t.text === text)'
const isDone = '(todos, text) => todos.some((t) => t.text === text && t.completed)'
const renamed = '(todos, arg) => todos.some((t) => t.text === arg.to) && !todos.some((t) => t.text === arg.from)'
const cleared = `(todos, arg) => !todos.some((t) => t.text === arg.gone) &&
  arg.kept.every((x) => todos.some((t) => t.text === x && t.completed))`

let pg
let browser
let gw
let app
before(async () => {
  L.ensureBuilt()
  pg = await startCluster()
  L.loadServerRules(pg.url)
  browser = await L.launchBrowser()
  gw = await startGateway({ databaseUrl: pg.url })
  app = await L.startApp({ gateway: gw.endpoint })
})
after(async () => {
  await browser?.close()
  await app?.close()
  await gw?.stop()
  await pg?.stop()
})

test('a table written by plain SQL, captured into a list: rows appear, change and disappear in two browsers', async (t) => {
  const storeId = freshStoreId('legacy')
  const sql = (q) => psql(pg.url, q)
  // What the old backend runs: plain SQL as a role with rights on its table only.
  const backend = (q) => sql(`SET ROLE todomvc_legacy_backend; ${q}`)

  L.loadLegacyTable(pg.url, storeId)
  // Loading it again for the same list changes nothing.
  L.loadLegacyTable(pg.url, storeId)
  assert.equal(await sql(`SELECT has_schema_privilege('todomvc_legacy_backend', 'livestore', 'USAGE')`), 'f')
  const seeded = JSON.parse(await sql(`SELECT json_agg(json_build_array(id, title, completed) ORDER BY id) FROM todos_legacy`))
  assert.deepEqual(seeded, [[1, 'Renew the TLS certificate', false], [2, 'Back up the old database', true]])
  assert.equal(await sql(`SELECT livestore.head(${sqlString(storeId)})`), '2', 'import_rows: one event per existing row')

  const A = await L.openUser(browser, { appUrl: app.url, storeId, name: 'alice' })
  t.after(() => A.close())
  const B = await L.openUser(browser, { appUrl: app.url, storeId, name: 'bob' })
  t.after(() => B.close())

  const hops = []
  const diagnostics = () =>
    `--- alice:\n${A.logTail()}\n--- bob:\n${B.logTail()}\n--- gateway:\n${gw.logTail(30)}`
  async function hop(name, to, action, predicate, arg) {
    const t0 = await action()
    let t1
    try {
      t1 = await L.seenAt(to, predicate, arg, { timeout: HOP_TIMEOUT_MS })
    } catch (e) {
      throw new Error(`hop "${name}": not visible for ${to.name} within ${HOP_TIMEOUT_MS} ms (${e.message})\n${diagnostics()}`)
    }
    hops.push({ hop: name, ms: t1 - t0 })
  }
  /** Runs `statement` as the old backend; both pages until `predicate` holds in each, one hop per page. */
  async function sqlHop(name, statement, predicate, arg) {
    const t0 = Date.now()
    await backend(statement)
    const seen = await Promise.all([A, B].map((u) => L.seenAt(u, predicate, arg, { timeout: HOP_TIMEOUT_MS }))).catch((e) => {
      throw new Error(`${name}: not visible in both browsers within ${HOP_TIMEOUT_MS} ms (${e.message})\n${diagnostics()}`)
    })
    hops.push({ hop: `${name}, A sees`, ms: seen[0] - t0 }, { hop: `${name}, B sees`, ms: seen[1] - t0 })
  }
  /** The list's events in Postgres: [seqNum, name, args, clientId]. */
  const events = async () =>
    JSON.parse(
      (await sql(`SELECT json_agg(json_build_array("seqNum", name, args, "clientId") ORDER BY "seqNum")
                  FROM livestore.events(${sqlString(storeId)})`)) || '[]',
    )
  /** The table as the browsers should show it: [{id, text, completed}] by id. */
  const table = async () =>
    JSON.parse(
      (await sql(`SELECT json_agg(json_build_object('id', 'legacy:' || id, 'text', title, 'completed', completed) ORDER BY id)
                  FROM todos_legacy`)) || '[]',
    )
  const legacyShown = async (u) =>
    (await u.todos()).filter((x) => x.id.startsWith('legacy:')).sort((x, y) => Number(x.id.slice(7)) - Number(y.id.slice(7)))
  /** Both browsers show the same list, their legacy todos are the table, and todo_stats counts what they show. */
  async function consistent(label) {
    const [listA, listB] = [await A.todos(), await B.todos()]
    assert.deepEqual(listA, listB, `${label}: both browsers show the same list`)
    assert.deepEqual(await legacyShown(A), await table(), `${label}: the legacy todos are the table's rows`)
    const expected = { open: listA.filter((x) => !x.completed).length, done: listA.filter((x) => x.completed).length }
    // The pages render their own writes before pushing them: wait for Postgres.
    const row = await waitFor(
      async () => {
        const r = JSON.parse(
          (await sql(`SELECT json_build_object('open', open, 'done', done, 'last_seq', last_seq, 'head', livestore.head(store_id))
                      FROM todomvc.todo_stats WHERE store_id = ${sqlString(storeId)}`)) || 'null',
        )
        return r && r.open === expected.open && r.done === expected.done && r.last_seq === r.head && r
      },
      { timeout: 10_000, what: `${label}: todo_stats = ${JSON.stringify(expected)}` },
    ).catch(async (e) => {
      throw new Error(`${e.message}; row: ${await sql(`SELECT row_to_json(s) FROM todomvc.todo_stats s WHERE store_id = ${sqlString(storeId)}`)}`)
    })
    t.diagnostic(`${label}: todo_stats open ${row.open}, done ${row.done}, as shown in both browsers (head ${row.head})`)
  }

  // --- the rows that were there before the list -----------------------------
  // (a page is up before its first pull has arrived: wait for the rows)
  const imported = ['Renew the TLS certificate', 'Back up the old database']
  await Promise.all([A, B].map((u) => L.seenAt(u, hasAll, imported, { timeout: HOP_TIMEOUT_MS }))).catch((e) => {
    throw new Error(`the imported rows are not in both browsers within ${HOP_TIMEOUT_MS} ms (${e.message})\n${diagnostics()}`)
  })
  for (const u of [A, B]) {
    assert.deepEqual(await u.todos(), [
      { id: 'legacy:1', text: 'Renew the TLS certificate', completed: false },
      { id: 'legacy:2', text: 'Back up the old database', completed: true },
    ], `${u.name}: the imported rows, oldest first`)
    // Read-only: the table is their source of truth.
    const controls = await u.page.$$eval('#list li.legacy', (lis) =>
      lis.map((li) => ({ disabled: li.querySelector('.toggle').disabled, destroy: li.querySelector('.destroy') !== null })),
    )
    assert.deepEqual(controls, [{ disabled: true, destroy: false }, { disabled: true, destroy: false }], `${u.name}: read-only`)
    assert.equal(await u.page.textContent('#count'), '1 item left')
    assert.equal(await u.page.isHidden('#clear'), true, `${u.name}: nothing that Clear completed would remove`)
  }
  await consistent('imported rows')

  // --- the old backend writes its table ----------------------------------
  await sqlHop('SQL INSERT', `INSERT INTO todos_legacy (title) VALUES ('Call the plumber')`, has, 'Call the plumber')
  await sqlHop('SQL UPDATE completed', `UPDATE todos_legacy SET completed = true WHERE title = 'Call the plumber'`, isDone, 'Call the plumber')
  await sqlHop('SQL UPDATE title', `UPDATE todos_legacy SET title = 'Call the electrician' WHERE title = 'Call the plumber'`,
    renamed, { from: 'Call the plumber', to: 'Call the electrician' })
  await consistent('after an insert and two updates in SQL')

  // --- browser todos next to them --------------------------------------------
  await hop('A adds, B sees', B, () => L.addTodo(A, 'buy milk'), has, 'buy milk')
  await hop('B completes, A sees', A, () => L.toggleTodo(B, 'buy milk'), isDone, 'buy milk')
  // Clear completed removes the browser's completed todo, not the completed legacy ones.
  await hop('A clears completed, B sees', B, () => L.clearCompleted(A), cleared,
    { gone: 'buy milk', kept: ['Back up the old database', 'Call the electrician'] })
  await hop('B adds, A sees', A, () => L.addTodo(B, 'walk the dog'), has, 'walk the dog')

  // --- one statement, two rows; a rolled-back insert -------------------------
  await backend(`BEGIN; INSERT INTO todos_legacy (title) VALUES ('rolled back'); ROLLBACK;`)
  await sqlHop('SQL INSERT of two rows', `INSERT INTO todos_legacy (title) VALUES ('Order toner'), ('Pay the invoice')`,
    hasAll, ['Order toner', 'Pay the invoice'])
  for (const u of [A, B]) assert.ok(!(await u.todos()).some((x) => x.text === 'rolled back'), `${u.name}: a rollback emits nothing`)
  await consistent('after browser todos and a two-row insert')

  // --- the old backend deletes a row -----------------------------------------
  await sqlHop('SQL DELETE', `DELETE FROM todos_legacy WHERE title = 'Call the electrician'`, hasNot, 'Call the electrician')
  await consistent('after a delete in SQL')
  assert.deepEqual((await A.todos()).map((x) => [x.text, x.completed]), [
    ['Renew the TLS certificate', false],
    ['Back up the old database', true],
    ['walk the dog', false],
    ['Order toner', false],
    ['Pay the invoice', false],
  ], 'the list as a whole, oldest first (created_at for rows, createdAt for the browser\'s todos)')

  // --- what Postgres holds ---------------------------------------------------
  const log = await events()
  assert.deepEqual(log.map((e) => e[1]), [
    'v1.LegacyTodoInserted', 'v1.LegacyTodoInserted', // import_rows
    'v1.LegacyTodoInserted', 'v1.LegacyTodoUpdated', 'v1.LegacyTodoUpdated',
    'v1.TodoCreated', 'v1.TodoCompleted', 'v1.TodoClearedCompleted', 'v1.TodoCreated',
    'v1.LegacyTodoInserted', 'v1.LegacyTodoInserted', // one statement
    'v1.LegacyTodoDeleted',
  ])
  for (const e of log) {
    assert.equal(e[3] === 'livestore-server', e[1].startsWith('v1.Legacy'), `event ${e[0]} ${e[1]} from ${e[3]}`)
  }
  const row = (id, title, completed) => ({ id, title, completed })
  const pick = (r) => r && row(r.id, r.title, r.completed)
  assert.deepEqual(log.filter((e) => e[1].startsWith('v1.Legacy')).map((e) => [e[1], pick(e[2].old) ?? null, pick(e[2].new) ?? null]), [
    ['v1.LegacyTodoInserted', null, row(1, 'Renew the TLS certificate', false)],
    ['v1.LegacyTodoInserted', null, row(2, 'Back up the old database', true)],
    ['v1.LegacyTodoInserted', null, row(3, 'Call the plumber', false)],
    ['v1.LegacyTodoUpdated', row(3, 'Call the plumber', false), row(3, 'Call the plumber', true)],
    ['v1.LegacyTodoUpdated', row(3, 'Call the plumber', true), row(3, 'Call the electrician', true)],
    // id 4 went with the rollback (a sequence does not roll back)
    ['v1.LegacyTodoInserted', null, row(5, 'Order toner', false)],
    ['v1.LegacyTodoInserted', null, row(6, 'Pay the invoice', false)],
    ['v1.LegacyTodoDeleted', row(3, 'Call the electrician', true), null],
  ])
  // The two rows of one statement are one batch: consecutive, nothing between.
  const [toner, invoice] = log.filter((e) => e[2].new?.id === 5 || e[2].new?.id === 6)
  assert.equal(invoice[0], toner[0] + 1)

  const ms = hops.map((h) => h.ms)
  for (const h of hops) t.diagnostic(`${h.hop}: ${h.ms} ms`)
  t.diagnostic(`per-hop latency: median ${L.median(ms)} ms, max ${Math.max(...ms)} ms (${hops.length} hops)`)
})
