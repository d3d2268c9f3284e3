// The TodoMVC example (examples/todomvc) in Debian's headless chromium,
// driven by playwright-core: two independent browser contexts (two users, each
// with its own OPFS storage and LiveStore client) on one fresh list, syncing
// through a real livestore-gateway and Postgres. The page and the gateway are
// on different origins (two loopback ports), so every request is a real CORS
// request with a preflight.
//
// Latency is measured per hop, from the action in one browser to the change
// being rendered in the other, and printed (median, max, and one JSON line
// for the benchmark, also written to $BROWSER_HOPS_OUT when set). Only
// non-convergence within HOP_TIMEOUT_MS fails the test.
//
// Prerequisites (installed by test/browser/setup.sh, never by this file):
// /usr/bin/chromium, node_modules here and in examples/todomvc.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { after, before, test } from 'node:test'

import { freePort, psql, startCluster, startGateway } from '../lib/harness.mjs'
import * as L from './lib.mjs'

const HOP_TIMEOUT_MS = Number(process.env.HOP_TIMEOUT_MS ?? 20_000)
// Long enough for the sync client's 10 s ping loop to have had its chance.
const OFFLINE_OBSERVE_MS = Number(process.env.OFFLINE_OBSERVE_MS ?? 12_000)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const freshStoreId = (prefix) => `${prefix}-${Date.now()}-${randomBytes(3).toString('hex')}`

// Predicates on a page's rendered list [{id, text, completed}], run in the page.
const has = '(todos, text) => todos.some((t) => t.text === text)'
const hasNot = '(todos, text) => !todos.some((t) => t.text === text)'
const isDone = '(todos, text) => todos.some((t) => t.text === text && t.completed)'

let pg
let browser
before(async () => {
  L.ensureBuilt()
  pg = await startCluster()
  browser = await L.launchBrowser()
})
after(async () => {
  await browser?.close()
  await pg?.stop()
})

async function metric(gw, route) {
  const text = await (await fetch(`${gw.url}/metrics`)).text()
  let n = 0
  for (const m of text.matchAll(new RegExp(`^livestore_gateway_requests_total\\{route="${route}",[^}]*\\} (\\d+)`, 'gm'))) {
    n += Number(m[1])
  }
  return n
}

test('two browsers converge on one list through the gateway, cross-origin', async (t) => {
  const gw = await startGateway({ databaseUrl: pg.url })
  t.after(() => gw.stop())
  const app = await L.startApp({ gateway: gw.endpoint })
  t.after(() => app.close())
  assert.notEqual(new URL(app.url).origin, new URL(gw.endpoint).origin)

  const storeId = freshStoreId('todomvc')
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

  // The four hops of the issue ...
  await hop('A adds, B sees', B, () => L.addTodo(A, 'buy milk'), has, 'buy milk')
  await hop('B toggles, A sees', A, () => L.toggleTodo(B, 'buy milk'), isDone, 'buy milk')
  // (A has now received an event: this hop is the one a sync stall would delay)
  await hop('A adds again, B sees', B, () => L.addTodo(A, 'walk the dog'), has, 'walk the dog')
  await hop('A deletes, B sees', B, () => L.deleteTodo(A, 'buy milk'), hasNot, 'buy milk')
  // ... and the rest of the app: B adds, A completes, B clears completed.
  await hop('B adds, A sees', A, () => L.addTodo(B, 'water the plants'), has, 'water the plants')
  await hop('A toggles, B sees', B, () => L.toggleTodo(A, 'walk the dog'), isDone, 'walk the dog')

  // The filter is each user's own view (the URL hash), not synced state.
  const shown = async (u, hash) => {
    await u.page.evaluate((h) => (location.hash = h), hash)
    const texts = (await u.todos()).map((x) => x.text)
    await u.page.evaluate(() => (location.hash = '#/'))
    return texts
  }
  assert.deepEqual(await shown(A, '#/active'), ['water the plants'])
  assert.deepEqual(await shown(A, '#/completed'), ['walk the dog'])
  assert.deepEqual((await B.todos()).length, 2, 'a filter in A must not change B')

  await hop('B clears completed, A sees', A, () => L.clearCompleted(B), hasNot, 'walk the dog')

  // Both lists equal, and what Postgres holds is exactly the 7 events committed.
  const listA = await A.todos()
  const listB = await B.todos()
  assert.deepEqual(listA, listB)
  assert.deepEqual(listA.map((x) => [x.text, x.completed]), [['water the plants', false]])
  assert.equal(await psql(pg.url, `SELECT livestore.head('${storeId}')`), '7')
  const names = (await psql(pg.url, `SELECT name FROM livestore.events('${storeId}')`)).split('\n')
  assert.deepEqual(names, [
    'v1.TodoCreated', 'v1.TodoCompleted', 'v1.TodoCreated', 'v1.TodoDeleted',
    'v1.TodoCreated', 'v1.TodoCompleted', 'v1.TodoClearedCompleted',
  ])
  // Cross-origin for real: the browsers preflighted their requests.
  assert.ok((await metric(gw, 'preflight')) > 0, 'no CORS preflight reached the gateway')

  const ms = hops.map((h) => h.ms)
  const median = L.median(ms)
  const max = Math.max(...ms)
  for (const h of hops) t.diagnostic(`${h.hop}: ${h.ms} ms`)
  t.diagnostic(`per-hop latency: median ${median} ms, max ${max} ms (${hops.length} hops)`)
  const json = JSON.stringify({ bench: 'browser-todomvc-hops', unit: 'ms', hops: ms, median, max, names: hops.map((h) => h.hop) })
  console.log(`BROWSER_HOPS_JSON ${json}`)
  if (process.env.BROWSER_HOPS_OUT) writeFileSync(process.env.BROWSER_HOPS_OUT, json + '\n')
})

test('a page loaded while the gateway is down works locally, and syncs after a reload', async (t) => {
  // The gateway's port is chosen now, but nothing listens there yet.
  const port = await freePort()
  const endpoint = `http://127.0.0.1:${port}/api/electric`
  const app = await L.startApp({ gateway: endpoint })
  t.after(() => app.close())
  const storeId = freshStoreId('offline')

  // Carol opens the list while the gateway is down: the app boots from its
  // own OPFS storage, works, and says it cannot sync.
  const C = await L.openUser(browser, { appUrl: app.url, storeId, name: 'carol' })
  t.after(() => C.close())
  assert.equal(await C.page.getAttribute('#banner', 'data-state'), 'down')
  assert.ok(await C.page.isVisible('#banner .down'))
  await L.addTodo(C, 'written while down')
  await L.seenAt(C, has, 'written while down', { timeout: 5000 })

  const gw = await startGateway({ databaseUrl: pg.url, port })
  t.after(() => gw.stop())
  const startedAt = Date.now()

  // Dave opens the same list once the gateway runs: he syncs normally.
  const D = await L.openUser(browser, { appUrl: app.url, storeId, name: 'dave' })
  t.after(() => D.close())
  assert.equal(await D.page.isVisible('#banner'), false)
  await L.addTodo(D, 'written by dave')

  // Carol's page notices that the gateway is back (its own check, every 3 s) ...
  await C.page.waitForSelector('#banner[data-state="back"]', { timeout: 10_000 })
  // ... but her LiveStore client gave up at its first ping and pull: nothing
  // moves either way, not even after the client's 10 s ping interval.
  await sleep(Math.max(0, OFFLINE_OBSERVE_MS - (Date.now() - startedAt)))
  assert.deepEqual((await C.todos()).map((x) => x.text), ['written while down'],
    'documented: a page that loaded with the gateway down does not receive changes until reloaded')
  assert.deepEqual((await D.todos()).map((x) => x.text), ['written by dave'],
    'documented: a page that loaded with the gateway down does not send its changes until reloaded')
  assert.equal(await psql(pg.url, `SELECT livestore.head('${storeId}')`), '1')
  assert.ok(D.syncRequests.length > 0, 'the request log sees the sync client')
  const tried = C.syncRequests.filter((r) => r.t >= startedAt)
  assert.deepEqual(tried, [], 'documented: that client does not even ping again')
  t.diagnostic(`carol's client before the gateway started: ${C.syncRequests.map((r) => r.method).join(', ')}`)

  // A reload (the banner's button) syncs both ways; nothing written offline is lost.
  const t0 = Date.now()
  await Promise.all([C.page.waitForEvent('load'), C.page.click('#reload')])
  await C.page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 })
  assert.equal(await C.page.isVisible('#banner'), false)
  const both = '(todos) => ["written while down", "written by dave"].every((x) => todos.some((t) => t.text === x))'
  const [tc, td] = await Promise.all([
    L.seenAt(C, both, null, { timeout: HOP_TIMEOUT_MS }),
    L.seenAt(D, both, null, { timeout: HOP_TIMEOUT_MS }),
  ]).catch((e) => {
    throw new Error(`no convergence after the reload: ${e.message}\n--- carol:\n${C.logTail()}\n--- dave:\n${D.logTail()}`)
  })
  assert.deepEqual(await C.todos(), await D.todos())
  t.diagnostic(`after the reload: carol has dave's todo in ${tc - t0} ms, dave has carol's in ${td - t0} ms`)
})
