// Proxy mode: upstream requests follow their client (issue 14, item 3). A
// client that goes away while its live pull is held (libmicrohttpd does not
// watch a suspended connection) must cancel the gateway's request to Electric
// at once, not when Electric answers. The upstream here is a small Node HTTP
// server that holds every live poll until the end of the test and counts the
// connections the gateway opens and closes; the gateway's
// livestore_gateway_upstream_open gauge counts its open transfers.
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import net from 'node:net'
import { after, before, test } from 'node:test'

import { freePort, startCluster, startGateway } from '../lib/harness.mjs'
import { pullUrl } from './lib.mjs'

const CLIENTS = 1000
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

let pg, gw, upstream
const seen = { requests: 0, opened: 0, closed: 0 }
const held = new Set()  // upstream responses never answered (ended in `after`)

before(async () => {
  pg = await startCluster()
  const port = await freePort()
  upstream = createServer((req, res) => {
    seen.requests++
    const q = new URL(req.url, 'http://x').searchParams
    const table = q.get('table') ?? ''
    const headers = { 'content-type': 'application/json', 'electric-handle': q.get('handle') ?? 'h', 'electric-offset': q.get('offset') ?? '0_0' }
    if (table.includes('quick')) {
      // A normal live poll: Electric answers after a while.
      setTimeout(() => {
        res.writeHead(200, { ...headers, 'electric-has-data': 'false', 'electric-up-to-date': '' })
        res.end('[{"headers":{"control":"up-to-date"}}]')
      }, 300)
      return
    }
    held.add(res)
    res.on('close', () => held.delete(res))
    if (table.includes('stream')) {
      // Headers and part of the body, then nothing. The gateway waits for a
      // whole answer up to 64 KiB of body, then streams: with 70 KiB sent,
      // the client has the headers and its connection is suspended in the
      // body reader.
      res.writeHead(200, { ...headers, 'electric-has-data': 'true' })
      res.write('[' + ' '.repeat(70 * 1024))
    }
    // Otherwise a held long poll: no answer at all.
  })
  upstream.keepAliveTimeout = 60_000
  upstream.requestTimeout = 0
  upstream.headersTimeout = 60_000
  upstream.on('connection', (s) => {
    seen.opened++
    s.on('close', () => seen.closed++)
  })
  await new Promise((r) => upstream.listen(port, '127.0.0.1', r))
  gw = await startGateway({ databaseUrl: pg.url, electricUrl: `http://127.0.0.1:${port}`, longPollTimeout: 20 })
})
after(async () => {
  for (const res of held) res.destroy()
  upstream?.closeAllConnections?.()
  await new Promise((r) => (upstream ? upstream.close(r) : r()))
  await gw?.stop()
  await pg?.stop()
})

async function metric(name) {
  const text = await fetch(`${gw.url}/metrics`).then((r) => r.text())
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text)
  assert.ok(m, `${name} in /metrics`)
  return Number(m[1])
}

async function until(what, check, ms) {
  const t0 = performance.now()
  for (;;) {
    if (await check()) return performance.now() - t0
    if (performance.now() - t0 > ms) assert.fail(`${what}: not within ${ms} ms`)
    await sleep(20)
  }
}

/** A raw HTTP/1.1 GET of a live pull on its own socket (so it can be dropped mid-poll). */
function openPull(storeId, onData) {
  const url = new URL(pullUrl(gw.endpoint, { storeId, handle: 'h', offset: '5_0', live: true }))
  const s = net.connect(gw.port, '127.0.0.1')
  s.on('error', () => {})
  if (onData) s.on('data', onData)
  s.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n`)
  return s
}

test('1,000 clients vanish mid-poll: their upstream transfers are closed at once', async () => {
  assert.equal(await metric('livestore_gateway_upstream_open'), 0)
  const cancelled0 = await metric('livestore_gateway_upstream_cancelled_total')
  const base = { ...seen }
  const sockets = []
  for (let i = 0; i < CLIENTS; i++) {
    sockets.push(openPull(`held-${i % 10}`))
    if (i % 100 === 99) await sleep(10)
  }
  await until('every poll reached the upstream', () => seen.requests - base.requests >= CLIENTS, 15_000)
  const openBefore = await metric('livestore_gateway_upstream_open')
  assert.equal(openBefore, CLIENTS)
  const held0 = held.size
  assert.ok(held0 >= CLIENTS)

  const t0 = performance.now()
  for (const s of sockets) s.destroy()
  const gaugeMs = await until('gauge back to 0', async () => (await metric('livestore_gateway_upstream_open')) === 0, 3000)
  const closedMs = await until('upstream saw every connection closed',
    () => seen.closed - base.closed >= CLIENTS && held.size === held0 - CLIENTS, 3000)
  const cancelled = (await metric('livestore_gateway_upstream_cancelled_total')) - cancelled0
  const total = performance.now() - t0
  console.log(`# ${CLIENTS} clients dropped: upstream_open ${openBefore} -> 0 in ${gaugeMs.toFixed(0)} ms; ` +
    `upstream connections closed ${seen.closed - base.closed}/${seen.opened - base.opened} in ${closedMs.toFixed(0)} ms ` +
    `(${total.toFixed(0)} ms after the drop); cancelled_total +${cancelled}`)
  assert.equal(cancelled, CLIENTS)
  assert.ok(total < 3000)
  // The gateway is fine afterwards: its own endpoints answer.
  assert.equal((await fetch(`${gw.url}/healthz`)).status, 200)
})

test('clients that vanish while the body streams close their upstream too', async () => {
  const base = { ...seen }
  const cancelled0 = await metric('livestore_gateway_upstream_cancelled_total')
  const N = 50
  let headersSeen = 0
  const sockets = []
  for (let i = 0; i < N; i++) {
    let got = ''
    const s = openPull('stream', (d) => {
      if (got.includes('\r\n\r\n')) return
      got += d.toString('latin1')
      if (got.includes('\r\n\r\n')) headersSeen++
    })
    sockets.push(s)
  }
  await until('every client got the streamed headers', () => headersSeen >= N, 10_000)
  assert.equal(await metric('livestore_gateway_upstream_open'), N)
  for (const s of sockets) s.destroy()
  await until('gauge back to 0', async () => (await metric('livestore_gateway_upstream_open')) === 0, 3000)
  await until('upstream saw them closed', () => seen.closed - base.closed >= N, 3000)
  assert.equal((await metric('livestore_gateway_upstream_cancelled_total')) - cancelled0, N)
})

test('a normal proxied live pull still completes, and the gauge returns to 0', async () => {
  const cancelled0 = await metric('livestore_gateway_upstream_cancelled_total')
  const pending = fetch(pullUrl(gw.endpoint, { storeId: 'quick', handle: 'h', offset: '7_0', live: true }))
  await until('the poll is open upstream', async () => (await metric('livestore_gateway_upstream_open')) === 1, 3000)
  const r = await pending
  assert.equal(r.status, 200)
  // A short answer leaves whole once Electric has sent all of it: with its
  // length, not chunked.
  assert.equal(r.headers.get('content-length'), String('[{"headers":{"control":"up-to-date"}}]'.length))
  assert.equal(r.headers.get('transfer-encoding'), null)
  assert.equal(r.headers.get('electric-offset'), '7_0')
  assert.equal(r.headers.get('electric-up-to-date'), 'true', 'kept through the proxy (not empty: libmicrohttpd)')
  assert.deepEqual(await r.json(), [{ headers: { control: 'up-to-date' } }])
  await until('gauge back to 0', async () => (await metric('livestore_gateway_upstream_open')) === 0, 2000)
  assert.equal(await metric('livestore_gateway_upstream_cancelled_total'), cancelled0)
})

test('Electric unreachable: clients that vanish while their poll waits to retry are let go at once', async () => {
  const port = await freePort()  // nothing listens there
  const lonely = await startGateway({ databaseUrl: pg.url, electricUrl: `http://127.0.0.1:${port}`, longPollTimeout: 20 })
  try {
    const gone = async () => {
      const text = await fetch(`${lonely.url}/metrics`).then((r) => r.text())
      return Number(/^livestore_gateway_requests_total\{route="pull",status="499"\} (\d+)$/m.exec(text)?.[1] ?? 0)
    }
    const N = 20
    const url = new URL(pullUrl(lonely.endpoint, { storeId: 'nowhere', handle: 'h', offset: '5_0', live: true }))
    const sockets = []
    for (let i = 0; i < N; i++) {
      const s = net.connect(lonely.port, '127.0.0.1')
      s.on('error', () => {})
      s.write(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)
      sockets.push(s)
    }
    await sleep(800)  // past the first failed attempt: waiting to retry
    for (const s of sockets) s.destroy()
    // Without the watch they would be freed only at the poll's deadline (20 s).
    const ms = await until('the held requests are freed', async () => (await gone()) === N, 3000)
    console.log(`# ${N} polls waiting on an unreachable Electric freed ${ms.toFixed(0)} ms after their clients left`)
  } finally {
    await lonely.stop()
  }
})
