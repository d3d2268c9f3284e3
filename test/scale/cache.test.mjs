// Issue 13 item 1: many live readers of one store through a shared HTTP cache.
// A real cluster and gateway (built-in mode, JWT auth), then the same scenario
// direct and through nginx and Varnish, each started from its deploy/ file:
// CACHE_READERS raw live readers (default 300) plus, through each cache, two
// real LiveStore clients; CACHE_WRITES writes (one of them a real client's
// commit, pushed through the cache), with an idle stretch longer than the
// long poll in the middle (timed-out polls come back with a new cursor).
// Checks: every reader and client gets every event exactly once, in order;
// live delivery continues after the idle stretch (no stale loop: each reader
// is bounded in requests); through a cache the pulls reaching the gateway per
// write stay a small constant; a client without credentials never gets a
// cached answer meant for a credentialed one; the HEAD ping works.
// Prints: ready time, delivery p50/p99 per write, origin pulls per write.
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import http from 'node:http'
import path from 'node:path'
import { after, before, test } from 'node:test'

import { openClient } from '../e2e/lib/client.mjs'
import { makeWorkDir, startCluster, startGateway } from '../lib/harness.mjs'
import { PUSH_TAG, events, pullUrl } from '../gateway/lib.mjs'
import { RawReader, get, hrNow, installDeps, originPulls, percentile, sleep, startNginx, startVarnish } from './cache-lib.mjs'

const READERS = Number(process.env.CACHE_READERS ?? 300)
const WRITES = Number(process.env.CACHE_WRITES ?? 10)
const FRONTS = (process.env.CACHE_FRONTS ?? 'direct,nginx,varnish').split(',').filter(Boolean)
const LONG_POLL_S = 5
const PRELOAD = 5  // events in the store before the readers start
// A cache must keep the gateway's pulls per write a constant, whatever READERS is.
const MAX_ORIGIN_PULLS_PER_WRITE = 8

const SECRET = 'scale-cache-secret'
function jwt(claims) {
  const head = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url') + '.' +
    Buffer.from(JSON.stringify(claims)).toString('base64url')
  return head + '.' + createHmac('sha256', SECRET).update(head).digest('base64url')
}

let dir, pg, gw
const fronts = {}
const figures = []
before(async () => {
  installDeps()
  dir = makeWorkDir('scale-cache')
  pg = await startCluster({ dir: path.join(dir, 'pg') })
  gw = await startGateway({
    databaseUrl: pg.url, longPollTimeout: LONG_POLL_S, logFile: path.join(dir, 'gateway.log'),
    args: ['--jwt-secret', SECRET, '--allow-anonymous-push'],
  })
  fronts.direct = { name: 'direct', endpoint: gw.endpoint, stop: async () => {} }
  if (FRONTS.includes('nginx')) fronts.nginx = await startNginx({ gatewayPort: gw.port, dir: path.join(dir, 'nginx') })
  if (FRONTS.includes('varnish')) fronts.varnish = await startVarnish({ gatewayPort: gw.port, dir: path.join(dir, 'varnish') })
})
after(async () => {
  for (const f of Object.values(fronts)) await f.stop().catch(() => {})
  await gw?.stop()
  await pg?.stop()
  if (figures.length) {
    console.log(`\ncache scenario: ${READERS} raw live readers, ${WRITES} writes, long poll ${LONG_POLL_S} s`)
    console.table(figures)
  }
})

const pushRaw = (endpoint, storeId, batch) => fetch(endpoint, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ _tag: PUSH_TAG, storeId, batch }),
  signal: AbortSignal.timeout(30_000),
})

async function waitAll(pred, { timeout, what }) {
  const deadline = Date.now() + timeout
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms: ${what}`)
    await sleep(20)
  }
}

for (const name of FRONTS) {
  test(`${READERS} live readers of one store, ${name}`, { timeout: 600_000 }, async (t) => {
    const front = fronts[name]
    const storeId = `scale_cache_${name}_${Date.now().toString(36)}`
    const token = jwt({ read: [storeId] })
    const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity })
    const cleanup = []
    t.after(async () => {
      for (const fn of cleanup.reverse()) await fn().catch(() => {})
      agent.destroy()
    })
    const preload = events(1, PRELOAD, { clientId: 'writer' })
    assert.equal((await pushRaw(gw.endpoint, storeId, preload)).status, 200)

    // Every request a reader makes is counted: live polls are held, so a
    // healthy reader makes a few per write; a stale loop would make thousands.
    const maxRequests = 20 + (WRITES + 4) * 6
    const readers = Array.from({ length: READERS }, () =>
      new RawReader({ agent, endpoint: front.endpoint, storeId, authToken: token, maxRequests }))
    const t0 = hrNow()
    for (const r of readers) r.start()
    cleanup.push(async () => { for (const r of readers) r.stop() })
    const failures = () => readers.filter((r) => r.failure).map((r) => r.failure)
    await waitAll(() => failures().length > 0 || readers.every((r) => r.readyAt !== null && r.last === PRELOAD),
      { timeout: 180_000, what: 'readers ready' })
    assert.deepEqual(failures().slice(0, 5), [])
    const readyS = (Math.max(...readers.map((r) => r.readyAt)) - t0) / 1000

    const clients = []
    if (name !== 'direct') {
      for (const clientId of ['real-a', 'real-b']) {
        const c = await openClient({ storeId, endpoint: front.endpoint, clientId, logDir: path.join(dir, name), authToken: token })
        cleanup.push(() => c.close())
        clients.push(c)
      }
      for (const c of clients) await c.waitConnected({ timeout: 30_000 })
      for (const c of clients) await c.waitSynced(PRELOAD, { timeout: 30_000 })
    }

    const origin0 = await originPulls(gw.url)
    const writeAt = new Map()  // seqNum -> hrtime ms of the write
    const ids = preload.map((e) => e.args.id)
    for (let k = 1; k <= WRITES; k++) {
      const seq = PRELOAD + k
      if (k === 3 && clients.length) {
        // A real client's commit: its push goes through the cache (a POST, passed).
        const id = `real-a-${k}`
        writeAt.set(seq, await clients[0].commit({ id, text: id }))
        ids.push(id)
      } else {
        const [e] = events(seq, seq, { clientId: 'writer' })
        writeAt.set(seq, hrNow())
        const r = await pushRaw(front.endpoint, storeId, [e])
        assert.equal(r.status, 200, await r.text())
        ids.push(e.args.id)
      }
      await waitAll(() => failures().length > 0 || readers.every((r) => r.last >= seq),
        { timeout: 60_000, what: `write ${k} at every reader (${readers.filter((r) => r.last >= seq).length}/${READERS})` })
      assert.deepEqual(failures().slice(0, 5), [])
      // Halfway, stay idle past the long poll: every held poll times out and
      // comes back with a new cursor; the next write must still arrive.
      if (k !== Math.ceil(WRITES / 2)) {
        await sleep(200)
        continue
      }
      await sleep((LONG_POLL_S + 3) * 1000)  // any time after the first timeout, a cursor offset
      const plain = readers.filter((r) => !/^\d+_[1-9]\d*$/.test(r.offset)).map((r) => r.offset)
      assert.deepEqual(plain.slice(0, 5), [], 'after the idle stretch every reader polls at a cursor offset')
    }
    const originPerWrite = ((await originPulls(gw.url)) - origin0) / WRITES

    // Exactly once, in order: RawReader fails on any gap or repeat; each got the whole log.
    for (const r of readers) assert.equal(r.last, PRELOAD + WRITES)
    for (const c of clients) {
      await c.waitForIds(ids, { timeout: 30_000 })
      assert.deepEqual((await c.items()).map((row) => row.id).sort(), [...ids].sort(), `${c.clientId} holds every event once`)
    }

    const lat = []
    // Raw pushes only: a real client's commit also waits for its own push loop.
    for (const r of readers)
      for (const [seq, at] of writeAt) if (!ids[seq - 1].startsWith('real-')) lat.push(r.seen.get(seq) - at)
    lat.sort((a, b) => a - b)
    const row = {
      front: name, readers: READERS, 'ready s': +readyS.toFixed(2),
      'delivery p50 ms': Math.round(percentile(lat, 0.5)), 'delivery p99 ms': Math.round(percentile(lat, 0.99)),
      'origin pulls/write': +originPerWrite.toFixed(1),
      'reader requests/write': +(readers.reduce((n, r) => n + r.requests, 0) / READERS / WRITES).toFixed(1),
    }
    figures.push(row)
    t.diagnostic(JSON.stringify(row))
    if (name !== 'direct') {
      assert.ok(originPerWrite <= MAX_ORIGIN_PULLS_PER_WRITE,
        `through ${name}: ${originPerWrite} pulls reached the gateway per write (${READERS} readers)`)
      await checkAuth(front, storeId, token, readers[0])
      // The client's ping: a HEAD without args reaches the gateway as a HEAD.
      const ping = await fetch(front.endpoint, { method: 'HEAD' })
      assert.equal(ping.status, 200)
    }
  })
}

/** A cached answer meant for a credentialed reader never reaches a client without credentials. */
async function checkAuth(front, storeId, token, reader) {
  const agent = new http.Agent({ keepAlive: false })
  const at = { storeId, handle: reader.handle, offset: `${reader.last}_0~` }
  const withToken = pullUrl(front.endpoint, { ...at, payload: { authToken: token } })
  for (let i = 0; i < 2; i++) assert.equal((await get(agent, withToken)).status, 200)  // now cached
  // The same position without the token, with a wrong one, with another store's: refused by the gateway.
  const denied = [
    pullUrl(front.endpoint, at),
    pullUrl(front.endpoint, { ...at, payload: { authToken: 'forged' } }),
    pullUrl(front.endpoint, { ...at, payload: { authToken: jwt({ read: ['other-store'] }) } }),
  ]
  for (const url of denied) {
    const r = await get(agent, url)
    assert.ok(r.status === 401 || r.status === 403, `${front.name}: ${r.status} for ${decodeURIComponent(url)}`)
    assert.equal(r.headers['cache-control'], 'no-store')
  }
  // Credentials in a header: the answer is not stored; the same URL without them is refused.
  const bare = pullUrl(front.endpoint, at)
  const bearer = await get(agent, bare, { headers: { authorization: `Bearer ${token}` } })
  assert.equal(bearer.status, 200)
  assert.equal(bearer.headers['cache-control'], 'no-store')
  for (let i = 0; i < 2; i++) assert.equal((await get(agent, bare)).status, 401, `${front.name}: header-authorized answer reused`)
  const cookie = await get(agent, bare, { headers: { cookie: `livestore_token=${token}` } })
  assert.equal(cookie.status, 200)
  assert.equal((await get(agent, bare)).status, 401, `${front.name}: cookie-authorized answer reused`)
}
