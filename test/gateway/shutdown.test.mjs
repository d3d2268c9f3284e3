// SIGTERM: held long polls are answered (200, same offset) before the
// process exits 0; the gateway's ping never depends on Postgres.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { after, before, test } from 'node:test'

import { freePort, GATEWAY_BIN, startCluster, startGateway, waitFor } from '../lib/harness.mjs'
import { events, pull, pushBatch } from './lib.mjs'

let pg
before(async () => { pg = await startCluster() })
after(async () => { await pg?.stop() })

test('SIGTERM answers every held poll and exits 0', async () => {
  const gw = await startGateway({ databaseUrl: pg.url, longPollTimeout: 20 })
  await pushBatch(gw.endpoint, 'bye', events(1, 1))
  const held = Array.from({ length: 5 }, () => pull(gw.endpoint, { storeId: 'bye', handle: 'h', offset: '1_0' }))
  await new Promise((r) => setTimeout(r, 500))
  const t0 = Date.now()
  const exit = await gw.stop('SIGTERM')
  assert.equal(exit.code, 0)
  assert.ok(Date.now() - t0 < 10_000)
  for (const r of await Promise.all(held)) {
    assert.equal(r.status, 200)
    assert.equal(r.headers.get('electric-offset'), '1_0')
  }
})

test('ping answers 200 while Postgres is down; /healthz says 503', async () => {
  const gw = await startGateway({ databaseUrl: 'postgresql://postgres@127.0.0.1:1/none?connect_timeout=1' })
  try {
    assert.equal((await fetch(gw.endpoint, { method: 'HEAD' })).status, 200)
    assert.equal((await fetch(`${gw.url}/healthz`)).status, 503)
    assert.equal((await fetch(`${gw.url}/nowhere`)).status, 404)
    assert.equal((await fetch(gw.endpoint, { method: 'PUT' })).status, 405)
  } finally {
    await gw.stop()
  }
})

test('systemd socket activation: the gateway serves the socket it is given (LISTEN_FDS)', async () => {
  const port = await freePort()
  // systemd-socket-activate plays systemd: it owns the socket and passes it as fd 3.
  const proc = spawn('systemd-socket-activate', ['-l', `127.0.0.1:${port}`, GATEWAY_BIN, '--database-url', pg.url, '--listen', '127.0.0.1:1'], { stdio: 'ignore' })
  try {
    const ping = () => fetch(`http://127.0.0.1:${port}/api/electric`, { method: 'HEAD' }).then((r) => r.status === 200, () => false)
    assert.ok(await waitFor(ping, { what: 'HEAD through the activated socket' }))
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200)
  } finally {
    proc.kill('SIGTERM')
    await new Promise((r) => proc.once('exit', r))
  }
})
