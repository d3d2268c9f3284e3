// Fan-out (issue 12): the live pulls that one append wakes at the same offset
// share one answer (gw/answer_cache.h: one page query, one body, one
// libmicrohttpd response queued on every connection), and so do their
// flagged-offset follow-ups; every reader still gets every event once, and
// what differs per request (the CORS headers of its Origin) is not shared.
import assert from 'node:assert/strict'
import http from 'node:http'
import { after, before, test } from 'node:test'

import { startCluster, startGateway } from '../lib/harness.mjs'
import { events, inserts, pull, pullUrl, pushBatch } from './lib.mjs'

let pg, gw
before(async () => {
  pg = await startCluster()
  // Few threads: many readers per thread, as under real fan-out.
  gw = await startGateway({ databaseUrl: pg.url, longPollTimeout: 20, args: ['--threads', '4'] })
})
after(async () => {
  await gw?.stop()
  await pg?.stop()
})

// A pull on a connection of its own (held polls must not queue behind each other).
function get(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers, timeout: 30_000 }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c) => (text += c))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: JSON.parse(text) }))
    })
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timeout`)))
    req.on('error', reject)
  })
}

async function metrics() {
  const { text } = await new Promise((resolve, reject) => {
    http.get(`${gw.url}/metrics`, { agent: false }, (res) => {
      let text = ''
      res.on('data', (c) => (text += c))
      res.on('end', () => resolve({ text }))
    }).on('error', reject)
  })
  const n = (name) => {
    const m = text.match(new RegExp(`^livestore_gateway_${name} (\\d+)`, 'm'))
    assert.ok(m, `${name} in /metrics`)
    return Number(m[1])
  }
  return { held: n('held_polls'), built: n('pull_answers_built_total'), shared: n('pull_answers_shared_total'), queries: n('page_queries_total') }
}

async function waitHeld(n) {
  for (let i = 0; ; i++) {
    if ((await metrics()).held >= n) return
    assert.ok(i < 200, `${n} polls held`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

const seqs = (r) => inserts(r.body).map((m) => m.value.seqNum)

test('readers woken by one append share one answer; their flagged follow-ups share one too', async () => {
  const storeId = 'Share-A'
  assert.equal((await pushBatch(gw.endpoint, storeId, events(1, 2))).status, 200)
  const handle = (await pull(gw.endpoint, { storeId })).headers.get('electric-handle')
  const N = 40
  const held = Array.from({ length: N }, () => get(pullUrl(gw.endpoint, { storeId, handle, offset: '2_0' })))
  await waitHeld(N)
  const m0 = await metrics()
  assert.equal((await pushBatch(gw.endpoint, storeId, events(3, 3))).status, 200)
  const woken = await Promise.all(held)
  const m1 = await metrics()
  for (const r of woken) {
    assert.equal(r.status, 200)
    assert.deepEqual(seqs(r), ['3'])  // the event, once
    assert.equal(r.headers['electric-offset'], '3_0~')
    assert.equal(r.headers['electric-handle'], handle)
    assert.equal(r.headers.etag, woken[0].headers.etag)
  }
  // Every answer counted once: built here or shared; most of them shared.
  assert.equal(m1.built - m0.built + (m1.shared - m0.shared), N)
  assert.ok(m1.shared - m0.shared >= N / 2, `answers shared: ${m1.shared - m0.shared} of ${N}`)
  assert.ok(m1.queries - m0.queries <= 4, `page queries for one append: ${m1.queries - m0.queries}`)

  // The follow-ups at the flagged offset: answered at once, empty, at the plain offset.
  const follow = await Promise.all(Array.from({ length: N }, () => get(pullUrl(gw.endpoint, { storeId, handle, offset: '3_0~' }))))
  const m2 = await metrics()
  for (const r of follow) {
    assert.equal(r.status, 200)
    assert.deepEqual(seqs(r), [])
    assert.deepEqual(r.body, [{ headers: { control: 'up-to-date' } }])
    assert.equal(r.headers['electric-offset'], '3_0')
  }
  assert.equal(m2.built - m1.built + (m2.shared - m1.shared), N)
  assert.ok(m2.shared - m1.shared >= 1, `follow-up answers shared: ${m2.shared - m1.shared} of ${N}`)

  // The next append reaches everyone again, once.
  const again = Array.from({ length: N }, () => get(pullUrl(gw.endpoint, { storeId, handle, offset: '3_0' })))
  await waitHeld(N)
  assert.equal((await pushBatch(gw.endpoint, storeId, events(4, 5))).status, 200)
  for (const r of await Promise.all(again)) assert.deepEqual(seqs(r), ['4', '5'])
})

test('an answer is shared only with requests from the same Origin (CORS headers differ)', async () => {
  const storeId = 'Share-B'
  assert.equal((await pushBatch(gw.endpoint, storeId, events(1, 1))).status, 200)
  const handle = (await pull(gw.endpoint, { storeId })).headers.get('electric-handle')
  const origins = ['http://a.example', 'http://b.example', 'http://a.example', undefined]
  const held = origins.map((o) => get(pullUrl(gw.endpoint, { storeId, handle, offset: '1_0' }), o ? { origin: o } : {}))
  await waitHeld(origins.length)
  assert.equal((await pushBatch(gw.endpoint, storeId, events(2, 2))).status, 200)
  const got = await Promise.all(held)
  got.forEach((r, i) => {
    assert.deepEqual(seqs(r), ['2'])
    assert.equal(r.headers['access-control-allow-origin'], origins[i])
  })
})
