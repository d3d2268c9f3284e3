// The extension versions the gateway works with: --version says what it is
// and what it finds; at start it refuses a database whose extension is
// missing or older than it needs (0.2.0: livestore.claims and hooks), with a
// message that says what to run, and starts once the extension is updated.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { after, before, test } from 'node:test'

import { GATEWAY_BIN, psql, REPO_ROOT, startCluster, startGateway } from '../lib/harness.mjs'
import { events, pushBatch } from './lib.mjs'

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
