// The extension versions the gateway works with: --version says what it is
// and what it finds; at start it refuses a database whose extension is
// missing or older than it needs (0.2.0: livestore.claims and hooks), with a
// message that says what to run, and starts once the extension is updated.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { after, before, test } from 'node:test'

import { GATEWAY_BIN, psql, REPO_ROOT, startCluster, startGateway } from '../lib/harness.mjs'
import { events, inserts, pull, pushBatch } from './lib.mjs'

const VERSION = readFileSync(`${REPO_ROOT}/livestore.control`, 'utf8').match(/^default_version = '(.*)'/m)[1]
const run = (args, env = {}) =>
  spawnSync(GATEWAY_BIN, args, { encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...env } })
const dbUrl = (url, db) => url.replace(/\/postgres$/, `/${db}`)
// The log is JSON lines: their messages, one a line.
const messages = (out) => out.split('\n').filter(Boolean).map((l) => { try { return JSON.parse(l).msg } catch { return l } }).join('\n')

let pg
before(async () => {
  pg = await startCluster()
  await psql(pg.url, 'CREATE DATABASE old_ext')
  await psql(pg.url, 'CREATE DATABASE no_ext')
  await psql(pg.url, 'CREATE DATABASE ext_030')
  await psql(dbUrl(pg.url, 'ext_030'), "CREATE EXTENSION livestore VERSION '0.3.0'")
  await psql(dbUrl(pg.url, 'old_ext'), "CREATE EXTENSION livestore VERSION '0.1.0'")
})
after(async () => { await pg?.stop() })

test('--version prints its own version and the extension version it finds', () => {
  const r = run(['--version', '--database-url', pg.url])
  assert.equal(r.status, 0, r.stderr)
  const lines = r.stdout.split('\n')
  assert.equal(lines[0], `livestore-gateway ${VERSION}`)
  assert.match(lines[1], /works with the livestore extension 0\.2\.0 or newer/)
  assert.equal(lines[2], `extension: ${VERSION} (database "postgres")`)
  // DATABASE_URL works as well as the flag, like every other setting.
  assert.match(run(['--version'], { DATABASE_URL: dbUrl(pg.url, 'old_ext') }).stdout, /extension: 0\.1\.0 \(database "old_ext"\), too old/)
  assert.match(run(['--version', '--database-url', dbUrl(pg.url, 'no_ext')]).stdout, /extension: not installed \(database "no_ext"\)/)
})

test('--version says so when it cannot connect, and needs no database at all', () => {
  const down = run(['--version', '--database-url', 'postgresql://postgres@127.0.0.1:1/none?connect_timeout=1'])
  assert.equal(down.status, 0)
  assert.match(down.stdout, /^livestore-gateway /)
  assert.match(down.stdout, /extension: unknown, cannot connect to the database: /)
  const none = run(['--version'], { DATABASE_URL: '' })
  assert.equal(none.status, 0)
  assert.match(none.stdout, /extension: not checked \(no --database-url or DATABASE_URL\)/)
  assert.match(run(['--help']).stdout, /--version +print the gateway's version/)
})

test('refuses to start on a 0.1.0 extension, and starts after ALTER EXTENSION UPDATE', async () => {
  const url = dbUrl(pg.url, 'old_ext')
  const r = run(['--listen', '127.0.0.1:0', '--database-url', url])
  assert.equal(r.status, 1)
  assert.match(messages(r.stderr), /refusing to start: livestore-gateway \S+ needs the livestore extension 0\.2\.0 or newer; database "old_ext" has 0\.1\.0: .*ALTER EXTENSION livestore UPDATE/)
  await psql(url, 'ALTER EXTENSION livestore UPDATE')
  const gw = await startGateway({ databaseUrl: url })
  try {
    assert.equal((await pushBatch(gw.endpoint, 'after-update', events(1, 2))).status, 200)
    // ALTER EXTENSION UPDATE goes to the newest version, this repository's.
    const found = new RegExp(`livestore extension ${VERSION.replaceAll('.', '\\.')} in database "old_ext" \\(this gateway works with 0\\.2\\.0 or newer\\)`)
    assert.match(messages(gw.logTail()), found)
  } finally {
    await gw.stop()
  }
})

test('refuses to start on a database without the extension', () => {
  const r = run(['--listen', '127.0.0.1:0', '--database-url', dbUrl(pg.url, 'no_ext')])
  assert.equal(r.status, 1)
  assert.match(messages(r.stderr), /refusing to start: .* it is not installed in database "no_ext": run CREATE EXTENSION livestore/)
})

// 0.4.0 made livestore.events() a C function: the gateway pages a store read
// through 0.3.0's PL/pgSQL events() and through the C one alike.
test('pulls the same pages from 0.3.0 and, after ALTER EXTENSION UPDATE, from 0.4.0', async () => {
  const url = dbUrl(pg.url, 'ext_030')
  // Every page read from Postgres (no page cache), 400 events a page.
  const gwArgs = ['--page-cache-mb', '0', '--page-events', '400']
  const pullAll = async (endpoint) => {
    const first = await pull(endpoint, { storeId: 'paged', live: false })
    assert.equal(first.status, 200)
    const handle = first.headers.get('electric-handle')
    const pages = []
    let offset = '0_0'
    for (let i = 0; i < 20; i++) {
      const r = await pull(endpoint, { storeId: 'paged', handle, offset, live: false })
      assert.equal(r.status, 200)
      const got = inserts(r.body)
      if (got.length === 0) break
      pages.push({ offset: r.headers.get('electric-offset'), items: got })
      offset = r.headers.get('electric-offset')
    }
    return pages
  }
  let gw = await startGateway({ databaseUrl: url, args: gwArgs })
  let before
  try {
    assert.match(messages(gw.logTail()), /livestore extension 0\.3\.0 in database "ext_030"/)
    await pull(gw.endpoint, { storeId: 'paged', live: false })
    for (let s = 1; s <= 1000; s += 100) assert.equal((await pushBatch(gw.endpoint, 'paged', events(s, s + 99))).status, 200)
    before = await pullAll(gw.endpoint)
  } finally {
    await gw.stop()
  }
  assert.deepEqual(before.map((p) => p.items.length), [400, 400, 200])
  assert.deepEqual(before.flatMap((p) => p.items.map((m) => Number(m.value.seqNum))), Array.from({ length: 1000 }, (_, i) => i + 1))
  await psql(url, 'ALTER EXTENSION livestore UPDATE')
  assert.match(await psql(url, "SELECT extversion || ' ' || (SELECT l.lanname FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang WHERE p.oid = 'livestore.events(text, integer, integer)'::regprocedure) FROM pg_extension WHERE extname = 'livestore'"), new RegExp(`${VERSION.replaceAll('.', '\\.')} c`))
  gw = await startGateway({ databaseUrl: url, args: gwArgs })
  try {
    assert.deepEqual(await pullAll(gw.endpoint), before)
  } finally {
    await gw.stop()
  }
})
