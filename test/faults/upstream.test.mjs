// Fault (d): proxy mode (--electric-url) with an upstream "Electric" that
// misbehaves: a raw TCP server here that, per table (store id), resets the
// connection, answers late, trickles or truncates the body, sends garbage or
// error statuses, or goes away and comes back. The client-facing contract that
// is the gateway's own is asserted: a connection-level failure before
// Electric's headers is held and answered 200 with an empty page at the
// client's own handle and offset; Electric's HTTP statuses pass through. What
// happens once Electric's 200 headers have been forwarded (the body is
// streamed, not buffered) is recorded in a table, and the gateway must stay up.
import assert from 'node:assert/strict'
import net from 'node:net'
import { after, before, test } from 'node:test'

import { freePort, startCluster, startGateway } from '../lib/harness.mjs'
import { pullUrl } from '../gateway/lib.mjs'
import { sleep } from './lib.mjs'

const LONG_POLL_S = 2
const UPSTREAM_TIMEOUT_S = 21  // the smallest the gateway accepts (Electric holds polls 20 s)

const PAGE = JSON.stringify([1, 2, 3].map((n) => ({
  key: `"public"."eventlog_6_x"/"${n}"`,
  value: { seqNum: String(n), parentSeqNum: String(n - 1), name: 'v1.ItemAdded', args: JSON.stringify({ id: `e${n}`, text: 't' }), clientId: 'c', sessionId: 's' },
  headers: { operation: 'insert', relation: ['public', 'eventlog_6_x'] },
})))

// What the fake Electric does for each table; `hits` counts its requests.
const BEHAVIOUR = {
  ok: (s, q) => answer(s, 200, { 'electric-handle': q.handle ?? 'h', 'electric-offset': q.offset, 'electric-has-data': 'false' }, '[{"headers":{"control":"up-to-date"}}]'),
  reset: (s) => s.resetAndDestroy(),
  partial_headers: (s) => { s.write('HTTP/1.1 200 OK\r\nelectric-handle: h\r\nelectric-off'); setTimeout(() => s.resetAndDestroy(), 100) },
  slow_headers: (s, q) => setTimeout(() => BEHAVIOUR.ok(s, q), (UPSTREAM_TIMEOUT_S + 5) * 1000),  // past the upstream timeout
  late_headers: (s, q) => setTimeout(() => BEHAVIOUR.ok(s, q), 3000),  // past the long poll, within the upstream timeout
  trickle: (s, q) => trickle(s, q, 2000),  // whole page within the upstream timeout
  trickle_too_slow: (s, q) => trickle(s, q, (UPSTREAM_TIMEOUT_S + 10) * 1000),
  garbage: (s, q) => answer(s, 200, { 'electric-handle': 'h', 'electric-offset': '9_0' }, 'this is not JSON <html>'),
  no_offset: (s) => answer(s, 200, { 'electric-handle': 'h' }, '[]'),
  truncated: (s) => { s.write(head(200, { 'electric-handle': 'h', 'electric-offset': '3_0', 'content-length': String(PAGE.length) }) + PAGE.slice(0, 40)); setTimeout(() => s.end(), 100) },
  chunked_cut: (s) => { s.write(head(200, { 'electric-handle': 'h', 'electric-offset': '3_0', 'transfer-encoding': 'chunked' }) + `28\r\n${PAGE.slice(0, 40)}\r\n`); setTimeout(() => s.resetAndDestroy(), 100) },
  status_503: (s) => answer(s, 503, { 'retry-after': '5' }, '{"message":"overloaded"}'),
  status_500: (s) => answer(s, 500, {}, '{"message":"boom"}'),
  status_400: (s) => answer(s, 400, {}, '{"message":"Invalid request"}'),
}
const hits = {}

function head(status, headers) {
  return `HTTP/1.1 ${status} X\r\n${Object.entries({ 'content-type': 'application/json', connection: 'close', ...headers }).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`
}
function answer(s, status, headers, body) {
  s.end(head(status, { 'content-length': String(Buffer.byteLength(body)), ...headers }) + body)
}
function trickle(s, q, overMs) {
  s.write(head(200, { 'electric-handle': 'h', 'electric-offset': '3_0', 'content-length': String(PAGE.length) }))
  const pieces = 20
  let i = 0
  const step = () => {
    if (s.destroyed) return
    const part = PAGE.slice(Math.floor((i * PAGE.length) / pieces), Math.floor(((i + 1) * PAGE.length) / pieces))
    if (++i >= pieces) return s.end(part)
    s.write(part)
    setTimeout(step, overMs / pieces)
  }
  setTimeout(step, overMs / pieces)
}

/** The fake Electric: raw TCP, so it can misbehave below HTTP too. */
function fakeElectric(port) {
  const sockets = new Set()
  const server = net.createServer((s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => {})
    let buf = ''
    s.on('data', (d) => {
      buf += d.toString('latin1')
      if (!buf.includes('\r\n\r\n')) return
      const target = buf.split(' ')[1]
      buf = ''
      const q = Object.fromEntries(new URL(target, 'http://x').searchParams)
      const mode = /^"eventlog_6_up_(.+)"$/.exec(q.table)?.[1] ?? 'ok'
      hits[mode] = (hits[mode] ?? 0) + 1
      ;(BEHAVIOUR[mode] ?? BEHAVIOUR.ok)(s, q)
    })
  })
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({
    close: () => new Promise((r) => { server.close(r); for (const s of sockets) s.destroy() }),
  })))
}

/** A pull through the proxy, recording what the client would see (a cut response included). */
async function probe(endpoint, storeId, { handle = 'h-client', offset = '7_0', live = true } = {}) {
  const t0 = performance.now()
  const r = { status: null, body: null, offset: null, handle: null, cut: null }
  try {
    const res = await fetch(pullUrl(endpoint, { storeId, handle, offset, live }), { signal: AbortSignal.timeout(30_000) })
    r.status = res.status
    r.offset = res.headers.get('electric-offset')
    r.handle = res.headers.get('electric-handle')
    try { r.body = await res.text() } catch (e) { r.cut = `body cut: ${e.cause?.code ?? e.name}` }
  } catch (e) {
    r.cut = `no answer: ${e.cause?.code ?? e.name}`
  }
  r.ms = performance.now() - t0
  return r
}

let pg, electric, gw, electricPort
before(async () => {
  pg = await startCluster()
  electricPort = await freePort()
  electric = await fakeElectric(electricPort)
  gw = await startGateway({
    databaseUrl: pg.url, electricUrl: `http://127.0.0.1:${electricPort}`, longPollTimeout: LONG_POLL_S,
    args: ['--upstream-timeout', String(UPSTREAM_TIMEOUT_S)],
  })
})
after(async () => {
  await gw?.stop()
  await electric?.close()
  await pg?.stop()
})

test('a misbehaving Electric: held-then-empty where ours (503 too), other statuses pass through, the gateway stays up', { timeout: 90_000 }, async (t) => {
  const modes = Object.keys(BEHAVIOUR).filter((m) => m !== 'ok')
  // All at once: each case is independent (its own table) and most of them wait.
  const results = Object.fromEntries(await Promise.all(modes.map(async (m) => [m, await probe(gw.endpoint, `up_${m}`)])))
  const rows = [['upstream behaviour', 'upstream requests', 'client sees', 'electric-offset', 'ms']]
  for (const m of modes) {
    const r = results[m]
    const sees = r.cut ? `${r.status ?? ''} ${r.cut}`.trim() : `${r.status} ${JSON.stringify(r.body.slice(0, 40))}${r.body.length > 40 ? '…' : ''}`
    rows.push([m, hits[m] ?? 0, sees, r.offset ?? '-', r.ms.toFixed(0)])
  }
  for (const row of rows) t.diagnostic(row.map((c, i) => String(c).padEnd([18, 8, 60, 8, 6][i])).join(' | '))

  // Connection-level failures before any header: held, then 200 [] at the client's own position.
  for (const m of ['reset', 'partial_headers', 'slow_headers']) {
    const r = results[m]
    assert.equal(r.status, 200, `${m}: ${JSON.stringify(r)}`)
    assert.equal(r.body, '[]', m)
    assert.equal(r.offset, '7_0', m)
    assert.equal(r.handle, 'h-client', m)
  }
  assert.ok(hits.reset >= 2, 'a reset is retried while the poll may wait')
  // Retried every 500 ms while another try still fits before the poll's deadline.
  assert.ok(results.reset.ms >= LONG_POLL_S * 1000 - 800 && results.reset.ms < LONG_POLL_S * 1000 + 3000, `reset: held about the long-poll timeout (${results.reset.ms} ms)`)
  // Slow headers end at the upstream timeout (the only bound on a request in flight).
  assert.ok(results.slow_headers.ms >= UPSTREAM_TIMEOUT_S * 1000 - 300, `slow_headers: ${results.slow_headers.ms} ms`)
  // Headers later than the long poll but within the upstream timeout: Electric's answer, late.
  assert.equal(results.late_headers.status, 200)
  assert.equal(results.late_headers.body, '[{"headers":{"control":"up-to-date"}}]')
  // A slow but complete body streams through intact; events flag the offset (doc §8).
  assert.equal(results.trickle.status, 200)
  assert.equal(results.trickle.body, PAGE)
  assert.equal(results.trickle.offset, '3_0~')
  // 502/503/504 mean "unavailable for now": retried like an unreachable
  // Electric, then 200 [] at the client's position (a 5xx would end the
  // client's sync for its session). Other statuses pass through unchanged.
  assert.equal(results.status_503.status, 200)
  assert.equal(results.status_503.body, '[]')
  assert.equal(results.status_503.offset, '7_0')
  assert.ok(hits.status_503 >= 2, 'a 503 is retried while the poll may wait')
  assert.equal(results.status_500.status, 500)
  assert.equal(results.status_400.status, 400)
  // Once Electric's 200 is forwarded, a broken body cannot become a clean
  // answer: the client must see the cut (never a short body that looks whole).
  for (const m of ['trickle_too_slow', 'truncated', 'chunked_cut'])
    assert.ok(results[m].cut, `${m}: the client-facing response must be visibly cut, got ${JSON.stringify(results[m])}`)

  // The gateway is still up and proxies normally.
  assert.equal((await fetch(gw.endpoint, { method: 'HEAD' })).status, 200)
  const ok = await probe(gw.endpoint, 'up_ok')
  assert.equal(ok.status, 200)
  assert.equal(ok.offset, '7_0')
  const metrics = await fetch(`${gw.url}/metrics`).then((r) => r.text())
  t.diagnostic(metrics.split('\n').find((l) => l.startsWith('livestore_gateway_upstream_errors_total')))
})

test('Electric goes away and comes back: held polls answered 200 at their position, then proxied again', { timeout: 60_000 }, async (t) => {
  const port = await freePort()
  let fake = await fakeElectric(port)
  const gw2 = await startGateway({ databaseUrl: pg.url, electricUrl: `http://127.0.0.1:${port}`, longPollTimeout: LONG_POLL_S, args: ['--upstream-timeout', String(UPSTREAM_TIMEOUT_S)] })
  try {
    assert.equal((await probe(gw2.endpoint, 'away', { offset: '4_0' })).status, 200)
    // Held polls in flight when Electric goes away.
    const inflight = Array.from({ length: 5 }, () => probe(gw2.endpoint, 'up_late_headers', { offset: '4_0' }))
    await sleep(300)
    await fake.close()
    const down = await Promise.all([...inflight, ...Array.from({ length: 5 }, () => probe(gw2.endpoint, 'away', { offset: '4_0' }))])
    for (const r of down) {
      assert.equal(r.status, 200, JSON.stringify(r))
      assert.equal(r.body, '[]')
      assert.equal(r.offset, '4_0')
    }
    t.diagnostic(`Electric closed with 5 polls in flight + 5 new: all 10 answered 200 [] at 4_0 in ${Math.min(...down.map((r) => r.ms)).toFixed(0)}..${Math.max(...down.map((r) => r.ms)).toFixed(0)} ms`)
    // Back on the same port: a poll held meanwhile gets Electric's own answer.
    const waiting = probe(gw2.endpoint, 'away', { offset: '4_0' })
    await sleep(700)
    fake = await fakeElectric(port)
    const back = await waiting
    assert.equal(back.status, 200)
    assert.equal(back.body, '[{"headers":{"control":"up-to-date"}}]', 'answered by Electric once it was back')
    t.diagnostic(`a poll sent while Electric was away got Electric's answer ${back.ms.toFixed(0)} ms later, once it came back`)
  } finally {
    await gw2.stop()
    await fake.close()
  }
})
