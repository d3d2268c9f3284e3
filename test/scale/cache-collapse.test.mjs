// deploy/nginx: however many readers wait for the same live poll, the gateway
// sees one request. nginx 1.22 counts a cache key's requests in a 10-bit field
// (`uses`) that wraps at 1,024: with the default proxy_cache_min_uses 1, every
// 1,024th request for a URL whose first answer is still in flight skips
// proxy_cache_lock and goes to the gateway uncached (10,000 readers: ten held
// polls per URL). The shipped config sets proxy_cache_min_uses 0.
// COLLAPSE_POLLS (2,100: two wraps) identical live polls are sent through nginx
// and all of them read by nginx (its stub_status) before the write; checks: the
// gateway holds one poll and answers one pull, every poll gets the write
// exactly once, nginx's access log shows one MISS for the URL.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { after, before, test } from 'node:test'

import { makeWorkDir, startCluster, startGateway, waitFor } from '../lib/harness.mjs'
import { PUSH_TAG, events, inserts, pull, pullUrl } from '../gateway/lib.mjs'
import { get, installDeps, originPulls, startNginx } from './cache-lib.mjs'
import { figure } from './lib.mjs'

const POLLS = Number(process.env.COLLAPSE_POLLS ?? 2100)

let dir, pg, gw, nginx
before(async () => {
  installDeps()
  dir = makeWorkDir('scale-collapse')
  pg = await startCluster({ dir: path.join(dir, 'pg') })
  // The polls must stay held while they are sent: a long poll longer than that.
  gw = await startGateway({ databaseUrl: pg.url, longPollTimeout: 40, logFile: path.join(dir, 'gateway.log') })
  nginx = await startNginx({ gatewayPort: gw.port, dir: path.join(dir, 'nginx') })
})
after(async () => {
  await nginx?.stop('SIGTERM')
  await gw?.stop()
  await pg?.stop()
})

const push = (storeId, batch) => fetch(gw.endpoint, {
  method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ _tag: PUSH_TAG, storeId, batch }),
  signal: AbortSignal.timeout(30_000),
})

async function heldPolls() {
  const m = /^livestore_gateway_held_polls (\d+)$/m.exec(await (await fetch(`${gw.url}/metrics`)).text())
  assert.ok(m, 'the gateway reports livestore_gateway_held_polls')
  return Number(m[1])
}

/** Requests nginx has read so far (stub_status: "accepts handled requests"). */
async function nginxRequests() {
  const m = /^\s*\d+\s+\d+\s+(\d+)\s*$/m.exec(await (await fetch(nginx.statusUrl)).text())
  assert.ok(m, 'stub_status answers')
  return Number(m[1])
}

test(`${POLLS} identical live polls through nginx reach the gateway as one`, { timeout: 180_000 }, async (t) => {
  const storeId = `scale_collapse_${Date.now().toString(36)}`
  assert.equal((await push(storeId, events(1, 1))).status, 200)
  // The position after event 1, as a client that caught up holds it.
  let at = { storeId, live: false }
  for (;;) {
    const r = await pull(gw.endpoint, at)
    assert.equal(r.status, 200)
    at = { storeId, live: false, handle: r.headers.get('electric-handle'), offset: r.headers.get('electric-offset').replace(/~$/, '') }
    if (inserts(r.body).length === 0) break
  }
  const url = pullUrl(nginx.endpoint, { ...at, live: true })

  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity })
  t.after(() => agent.destroy())
  const requests0 = await nginxRequests()
  const pulls0 = await originPulls(gw.url)
  const answers = []
  for (let i = 0; i < POLLS; i += 250) {
    for (let k = i; k < Math.min(POLLS, i + 250); k++) answers.push(get(agent, url, { timeout: 60_000 }))
    await new Promise((r) => setTimeout(r, 20))
  }
  // Every poll read by nginx (one stub_status request of ours is counted too),
  // none answered yet: all of them wait for the first one's answer.
  await waitFor(async () => (await nginxRequests()) >= requests0 + POLLS + 1, { timeout: 60_000, interval: 100, what: `nginx read ${POLLS} polls` })
  await waitFor(async () => (await heldPolls()) >= 1, { timeout: 10_000, interval: 100, what: 'the gateway holds a poll' })
  const held = await heldPolls()

  assert.equal((await push(storeId, events(2, 2))).status, 200)
  const got = await Promise.all(answers)
  for (const r of got) {
    assert.equal(r.status, 200, r.text.slice(0, 200))
    assert.deepEqual(inserts(JSON.parse(r.text)).map((m) => Number(m.value.seqNum)), [2])
  }
  const pulls = (await originPulls(gw.url)) - pulls0

  // nginx logs a request when it ends: all of ours, by URI.
  const uri = url.slice(nginx.url.length)
  const lines = () => readFileSync(nginx.accessLog, 'utf8').split('\n').filter((l) => l.endsWith(` "${uri}"`))
  await waitFor(() => lines().length >= POLLS, { timeout: 10_000, what: 'access log lines' })
  const status = {}
  for (const l of lines()) status[l.split(' ')[4]] = (status[l.split(' ')[4]] ?? 0) + 1
  figure(t, `nginx collapse: ${POLLS} identical live polls -> ${held} held by the gateway, ${pulls} pull(s) answered; nginx ${JSON.stringify(status)}`)
  assert.equal(held, 1, `polls held by the gateway for one URL (${POLLS} readers)`)
  assert.equal(pulls, 1, 'pulls the gateway answered for one URL')
  assert.deepEqual(status, { MISS: 1, HIT: POLLS - 1 })
})
