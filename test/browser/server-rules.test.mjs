// The TodoMVC example's server-side rules (examples/todomvc/server/hooks.sql:
// livestore hooks in Postgres) seen from two headless Chromium contexts on one
// list, through a real livestore-gateway:
//
// - the new-todo input is disabled ("Loading…") until the store has booted,
//   then enabled and focused; keys typed before that go nowhere;
// - a todo with a blocklisted word (whole word, any case) is accepted, then
//   compensated by a v1.TodoRejected that the server emits in the same
//   transaction: it disappears in both browsers, which both show the reason;
//   Postgres holds the TodoCreated followed by the TodoRejected;
// - todo_stats (kept by a hook in the append's transaction) matches what both
//   browsers show after a mix of actions, rejected todos not counted;
// - a todo emitted from SQL with livestore.emit appears in both browsers, and
//   runs the same rules.
//
// Per-hop latencies are printed as diagnostics. Needs what todomvc.test.mjs
// needs (test/browser/setup.sh) and the livestore extension 0.2.0 (hooks, emit).
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, test } from 'node:test'

import { psql, startCluster, startGateway, waitFor } from '../lib/harness.mjs'
import * as L from './lib.mjs'

const HOP_TIMEOUT_MS = Number(process.env.HOP_TIMEOUT_MS ?? 20_000)
const freshStoreId = (prefix) => `${prefix}-${Date.now()}-${randomBytes(3).toString('hex')}`
const sqlString = (s) => `'${String(s).replaceAll("'", "''")}'`

// Predicates run in the page on (todos, arg, notices).
const has = '(todos, text) => todos.some((t) => t.text === text)'
const hasNot = '(todos, text) => !todos.some((t) => t.text === text)'
const isDone = '(todos, text) => todos.some((t) => t.text === text && t.completed)'
const isOpen = '(todos, text) => todos.some((t) => t.text === text && !t.completed)'
// Rejected: out of the list, and a notice with the server's reason.
const rejected = `(todos, arg, notices) => !todos.some((t) => t.text === arg.text) &&
  notices.some((n) => n.text === arg.notice)`
const noticeFor = (text, word) => `“${text}” was rejected by the server: contains the blocked word "${word}"`

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

test('server rules in two browsers: loading input, blocked word rejected everywhere, todo_stats, events from SQL', async (t) => {
  const storeId = freshStoreId('rules')
  const sql = (q) => psql(pg.url, q)

  // --- Alice's page while her store boots ---------------------------------
  // Her page's fetch of /config.json (awaited before the store is created) is
  // held, so the page is looked at in the state a slow boot shows.
  const A = await L.openUser(browser, { appUrl: app.url, storeId, name: 'alice', load: false })
  t.after(() => A.close())
  let releaseConfig
  const configHeld = new Promise((r) => (releaseConfig = r))
  const configAsked = new Promise((resolve) =>
    A.page.route('**/config.json', async (route) => {
      resolve()
      await configHeld
      await route.continue()
    }),
  )
  const navigation = A.page.goto(A.url)
  await configAsked
  const booting = await A.page.$eval('#new-todo', (el) => ({ disabled: el.disabled, placeholder: el.placeholder }))
  assert.deepEqual(booting, { disabled: true, placeholder: 'Loading…' }, 'the input must wait for the store')
  assert.equal(await A.page.textContent('#store'), storeId, 'the page says which list is loading')
  await A.page.keyboard.type('typed while loading')
  assert.equal(await A.page.inputValue('#new-todo'), '', 'nothing may be typed into the input before the store is up')
  releaseConfig()
  await navigation
  await A.page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 })
  await A.page.unroute('**/config.json')
  const ready = await A.page.$eval('#new-todo', (el) => ({
    disabled: el.disabled,
    placeholder: el.placeholder,
    focused: document.activeElement === el,
    value: el.value,
  }))
  assert.deepEqual(ready, { disabled: false, placeholder: 'What needs to be done?', focused: true, value: '' })

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
    return t0
  }
  /** What each todo looks like in Postgres: [seqNum, name, args, clientId] per event. */
  const events = async () =>
    JSON.parse(
      (await sql(`SELECT json_agg(json_build_array("seqNum", name, args, "clientId") ORDER BY "seqNum")
                  FROM livestore.events(${sqlString(storeId)})`)) || '[]',
    )
  /** Both pages until `predicate` holds in each; one hop per page, from t0. */
  async function bothSee(name, t0, predicate, arg) {
    const seen = await Promise.all([A, B].map((u) => L.seenAt(u, predicate, arg, { timeout: HOP_TIMEOUT_MS }))).catch((e) => {
      throw new Error(`${name}: not visible in both browsers within ${HOP_TIMEOUT_MS} ms (${e.message})\n${diagnostics()}`)
    })
    hops.push({ hop: `${name}, A sees`, ms: seen[0] - t0 }, { hop: `${name}, B sees`, ms: seen[1] - t0 })
  }
  /** A todo created from SQL, as `make demo` prints it. */
  const emitTodo = (text) =>
    sql(`SELECT livestore.emit(${sqlString(storeId)}, jsonb_build_array(jsonb_build_object(
           'name', 'v1.TodoCreated',
           'args', jsonb_build_object('id', gen_random_uuid(), 'text', ${sqlString(text)}, 'createdBy', 'psql',
                                      'createdAt', (extract(epoch FROM clock_timestamp()) * 1000)::bigint))))`)
  /** todo_stats equals what both browsers show, once Postgres has every event the pages wrote. */
  async function statsMatch(label, expected) {
    const [listA, listB] = [await A.todos(), await B.todos()]
    assert.deepEqual(listA, listB, `${label}: both browsers show the same list`)
    const shown = { open: listA.filter((x) => !x.completed).length, done: listA.filter((x) => x.completed).length }
    assert.deepEqual(shown, expected, `${label}: the browsers show ${JSON.stringify(shown)}`)
    // The pages render their own writes before pushing them: wait for Postgres.
    const row = await waitFor(
      async () => {
        const r = JSON.parse(
          (await sql(`SELECT json_build_object('open', open, 'done', done, 'last_seq', last_seq,
                        'head', livestore.head(store_id))
                      FROM todomvc.todo_stats WHERE store_id = ${sqlString(storeId)}`)) || 'null',
        )
        return r && r.open === expected.open && r.done === expected.done && r
      },
      { timeout: 10_000, what: `${label}: todo_stats = ${JSON.stringify(expected)}` },
    ).catch(async (e) => {
      throw new Error(`${e.message}; row: ${await sql(`SELECT row_to_json(s) FROM todomvc.todo_stats s WHERE store_id = ${sqlString(storeId)}`)}`)
    })
    assert.equal(row.last_seq, row.head, `${label}: todo_stats counted the whole log`)
    t.diagnostic(`${label}: todo_stats open ${row.open}, done ${row.done}, as shown in both browsers (head ${row.head})`)
  }

  // --- the rule: a blocked word is accepted, then compensated --------------
  // Alice's input has the focus: she just types.
  await hop('A adds (keyboard, right after boot), B sees', B, async () => {
    await A.page.keyboard.type('buy milk')
    const t0 = Date.now()
    await A.page.keyboard.press('Enter')
    return t0
  }, has, 'buy milk')

  const spam = { text: 'Buy SPAM today', notice: noticeFor('Buy SPAM today', 'spam') }
  await bothSee('A adds a blocked todo: rejected', await L.addTodo(A, spam.text), rejected, spam)
  for (const u of [A, B]) {
    assert.deepEqual((await u.notices()).map((n) => n.text), [spam.notice], `${u.name}'s notices`)
    assert.deepEqual((await u.todos()).map((x) => x.text), ['buy milk'], `${u.name}'s list`)
    assert.equal(await u.page.textContent('#count'), '1 item left', `${u.name}: a rejected todo is not left to do`)
  }
  // Postgres: the TodoCreated as pushed, then the server's TodoRejected for its id.
  const log = await events()
  assert.deepEqual(log.map((e) => e[1]), ['v1.TodoCreated', 'v1.TodoCreated', 'v1.TodoRejected'])
  const [, created, rejection] = log
  assert.equal(created[2].text, spam.text)
  assert.equal(rejection[0], created[0] + 1, 'the rejection follows the batch')
  assert.deepEqual(rejection[2], { id: created[2].id, reason: 'contains the blocked word "spam"' })
  assert.equal(rejection[3], 'livestore-server')
  assert.notEqual(created[3], 'livestore-server')

  // A whole word only: "spamalot" is not "spam". The decision is taken in the
  // push's transaction, so once the TodoCreated is in Postgres it is final.
  await hop('A adds, B sees', B, () => L.addTodo(A, 'spamalot tickets'), has, 'spamalot tickets')
  await waitFor(async () => (await events()).some((e) => e[2]?.text === 'spamalot tickets'), { what: 'spamalot in Postgres' })
  assert.equal((await events()).filter((e) => e[1] === 'v1.TodoRejected').length, 1, '"spamalot" must not be rejected')

  // --- todo_stats follows every kind of event -----------------------------
  await hop('B completes, A sees', A, () => L.toggleTodo(B, 'buy milk'), isDone, 'buy milk')
  await hop('B adds, A sees', A, () => L.addTodo(B, 'walk the dog'), has, 'walk the dog')
  await hop('A completes, B sees', B, () => L.toggleTodo(A, 'walk the dog'), isDone, 'walk the dog')
  await hop('A completes again, B sees', B, () => L.toggleTodo(A, 'spamalot tickets'), isDone, 'spamalot tickets')
  await hop('B uncompletes, A sees', A, () => L.toggleTodo(B, 'spamalot tickets'), isOpen, 'spamalot tickets')
  await statsMatch('after created, rejected, completed, uncompleted', { open: 1, done: 2 })

  await hop('B clears completed, A sees', A, () => L.clearCompleted(B), hasNot, 'walk the dog')

  // --- events from SQL ----------------------------------------------------
  // (psql starts a process and connects: its ~0.05 s are in these hops)
  const tEmit = Date.now()
  await emitTodo('call the plumber')
  await bothSee('SQL emits (psql)', tEmit, has, 'call the plumber')
  assert.equal((await events()).at(-1)[3], 'livestore-server', 'emit fills in the server identity')
  await statsMatch('after cleared and emitted from SQL', { open: 2, done: 0 })

  await hop('A deletes, B sees', B, () => L.deleteTodo(A, 'spamalot tickets'), hasNot, 'spamalot tickets')
  // The rules run for events from SQL too.
  const scam = { text: 'Wire money to the Scam-Bank', notice: noticeFor('Wire money to the Scam-Bank', 'scam') }
  const tScam = Date.now()
  await emitTodo(scam.text)
  await bothSee('SQL emits a blocked todo: rejected', tScam, rejected, scam)
  await statsMatch('after deleted and a rejected todo from SQL', { open: 1, done: 0 })

  // The whole log, in order.
  assert.deepEqual((await events()).map((e) => e[1]), [
    'v1.TodoCreated', 'v1.TodoCreated', 'v1.TodoRejected', 'v1.TodoCreated', 'v1.TodoCompleted', 'v1.TodoCreated',
    'v1.TodoCompleted', 'v1.TodoCompleted', 'v1.TodoUncompleted', 'v1.TodoClearedCompleted', 'v1.TodoCreated',
    'v1.TodoDeleted', 'v1.TodoCreated', 'v1.TodoRejected',
  ])

  // --- dismissing a notice is each browser's own business -----------------
  await A.page.locator('#notices li', { hasText: 'Buy SPAM today' }).locator('.dismiss').click()
  assert.deepEqual((await A.notices()).map((n) => n.text), [scam.notice])
  assert.deepEqual((await B.notices()).map((n) => n.text), [spam.notice, scam.notice])
  await A.load()
  assert.deepEqual((await A.notices()).map((n) => n.text), [scam.notice], 'a dismissed notice stays dismissed after a reload')

  const ms = hops.map((h) => h.ms)
  for (const h of hops) t.diagnostic(`${h.hop}: ${h.ms} ms`)
  t.diagnostic(`per-hop latency: median ${L.median(ms)} ms, max ${Math.max(...ms)} ms (${hops.length} hops)`)
})
