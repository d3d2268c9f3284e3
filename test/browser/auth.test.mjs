// TodoMVC with identity (issue 11), as `make demo` runs it: a stand-in
// identity provider (examples/todomvc/server/idp.mjs) signs ES256 tokens and
// publishes its JWKS; the gateway verifies them against it and asks
// todomvc.can_access (examples/todomvc/server/memberships.sql) who may open
// which list. In two headless Chromium contexts:
//
// - alice and bob, both members of one list, sync it both ways cross-origin,
//   the token travelling in the endpoint's query string and the sync payload;
//   a reload signs in again with a new token and keeps syncing;
// - alice opening bob's list is refused: the page says she is not a member,
//   shows none of bob's todos, and nothing of hers reaches his list;
// - once bob adds her to todomvc.memberships, a reload opens the list.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { after, before, test } from 'node:test'

import { psql, startCluster, startGateway } from '../lib/harness.mjs'
import * as L from './lib.mjs'

const HOP_TIMEOUT_MS = Number(process.env.HOP_TIMEOUT_MS ?? 20_000)
const fresh = (prefix) => `${prefix}-${Date.now()}-${randomBytes(3).toString('hex')}`
const has = '(todos, text) => todos.some((t) => t.text === text)'

let pg, browser, gw, app, idp
before(async () => {
  L.ensureBuilt()
  pg = await startCluster()
  await psql(pg.url, `\\i ${path.join(L.APP_DIR, 'server/memberships.sql')}`)
  const { startIdp } = await import(path.join(L.APP_DIR, 'server/idp.mjs'))
  idp = await startIdp()
  browser = await L.launchBrowser()
  gw = await startGateway({ databaseUrl: pg.url, args: ['--jwt-jwks-url', idp.jwksUrl, '--jwt-issuer', idp.issuer,
    '--jwt-audience', idp.audience, '--authorize-function', 'todomvc.can_access', '--authorize-cache', '1'] })
  app = await L.startApp({ gateway: gw.endpoint, idp: idp.url })
})
after(async () => {
  await browser?.close()
  await app?.close()
  await gw?.stop()
  await idp?.close()
  await pg?.stop()
})

test('two users share one list; neither opens the other\'s until made a member', async (t) => {
  const shared = fresh('shared'), bobs = fresh('bob')
  await psql(pg.url, `INSERT INTO todomvc.memberships VALUES ('alice', '${shared}', 'owner'), ('bob', '${shared}', 'editor'),
    ('bob', '${bobs}', 'owner')`)
  const A = await L.openUser(browser, { appUrl: app.url, storeId: shared, name: 'alice' })
  t.after(() => A.close())
  const B = await L.openUser(browser, { appUrl: app.url, storeId: shared, name: 'bob' })
  t.after(() => B.close())
  try {
    await L.addTodo(A, 'from alice')
    await L.seenAt(B, has, 'from alice', { timeout: HOP_TIMEOUT_MS })
    await L.addTodo(B, 'from bob')
    await L.seenAt(A, has, 'from bob', { timeout: HOP_TIMEOUT_MS })
    const sync = A.syncRequests.filter((r) => r.method === 'GET' || r.method === 'POST')
    assert.ok(sync.length > 0 && sync.every((r) => /\/api\/electric\?token=ey/.test(r.url)), 'the token rides in the endpoint URL')
    assert.ok(sync.some((r) => r.method === 'POST'), 'pushes carry it too')

    // A reload signs in again: another token (iat and exp move on), the same
    // list from OPFS, and the sync goes on (what a long session does).
    const before = new URL(sync[0].url).searchParams.get('token').split('?')[0]
    await new Promise((r) => setTimeout(r, 1100))
    await A.load()
    await L.addTodo(A, 'after the reload')
    await L.seenAt(B, has, 'after the reload', { timeout: HOP_TIMEOUT_MS })
    const after = A.syncRequests.filter((r) => r.method === 'POST').at(-1)
    assert.notEqual(new URL(after.url).searchParams.get('token'), before, 'the reloaded page pushes with its new token')

    // bob's own list, with a todo in it.
    const Bown = await L.openUser(browser, { appUrl: app.url, storeId: bobs, name: 'bob' })
    t.after(() => Bown.close())
    await L.addTodo(Bown, 'bob only')
    for (let i = 0; i < 100 && (await psql(pg.url, `SELECT coalesce(livestore.head('${bobs}'), 0)`)) === '0'; i++) await new Promise((r) => setTimeout(r, 100))
    assert.equal(await psql(pg.url, `SELECT livestore.head('${bobs}')`), '1')

    // alice may not open it.
    const Aint = await L.openUser(browser, { appUrl: app.url, storeId: bobs, name: 'alice', load: false })
    t.after(() => Aint.close())
    await Aint.page.goto(Aint.url)
    await Aint.page.waitForSelector('body[data-ready="refused"]', { timeout: 30_000 })
    const banner = await Aint.page.textContent('#auth')
    assert.match(banner, /alice is not a member of this list/)
    assert.deepEqual(await Aint.todos(), [], "none of bob's todos")
    assert.equal(await Aint.page.getAttribute('#new-todo', 'disabled'), '', 'nothing can be typed')
    t.diagnostic(`alice on bob's list: "${banner}"`)

    // bob adds her; a reload opens the list with his todo.
    await psql(pg.url, `INSERT INTO todomvc.memberships VALUES ('alice', '${bobs}', 'editor')`)
    await new Promise((r) => setTimeout(r, 1200))  // past --authorize-cache
    await Aint.load()
    await L.seenAt(Aint, has, 'bob only', { timeout: HOP_TIMEOUT_MS })
    assert.equal(await Aint.page.isHidden('#auth'), true)
  } catch (e) {
    e.message += `\n--- alice\n${A.logTail()}\n--- bob\n${B.logTail()}\n--- gateway\n${gw.logTail(30)}`
    throw e
  }
})
