// Several gateways on one database behind HAProxy (deploy/haproxy/haproxy.cfg,
// unchanged): real LiveStore clients' requests spread over the gateways; a
// write through one gateway wakes live pulls held by another (the hop is
// measured); one gateway killed with -9 under live clients: every client
// keeps syncing and ends with every event exactly once.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { readFileSync } from 'node:fs'
import path from 'node:path'

import { freePort, makeWorkDir, startCluster, startGateway } from '../lib/harness.mjs'
import { events, pushBatch } from '../gateway/lib.mjs'
import { auditExactlyOnce, endpointRequests, figure, metrics, openClients, sleep, startHaproxy, summary, wakeHops, writeInTurns } from './lib.mjs'

const GATEWAYS = 3
const LONG_POLL_S = 10
let dir, pg, gws = [], lb

before(async () => {
  dir = makeWorkDir('scale-haproxy')
  pg = await startCluster({ dir: path.join(dir, 'pg') })
  for (let i = 1; i <= GATEWAYS; i++)
    gws.push(await startGateway({ databaseUrl: pg.url, longPollTimeout: LONG_POLL_S, logFile: path.join(dir, `gw${i}.log`) }))
  lb = await startHaproxy({ port: await freePort(), gateways: gws, logFile: path.join(dir, 'haproxy.log') })
})
after(async () => {
  await lb?.stop()
  for (const g of gws) await g.stop()
  await pg?.stop()
})

const uniqueStore = (name) => `scale_${name}_${Date.now().toString(36)}`
const now = () => Number(process.hrtime.bigint()) / 1e6

test('a client\'s requests spread across the gateways; all clients converge', { timeout: 120_000 }, async (t) => {
  const storeId = uniqueStore('spread')
  const before = await Promise.all(gws.map(endpointRequests))
  const clients = await openClients(t, { storeId, n: 4, endpoint: lb.endpoint, dir })
  const want = await writeInTurns(clients, 8, 'spread', [])
  await auditExactlyOnce(clients, pg.url, storeId, want)
  const served = (await Promise.all(gws.map(endpointRequests))).map((n, i) => n - before[i])
  figure(t, `haproxy: pulls+pushes per gateway, 4 clients writing 8 times in turns: ${served.join(' / ')}`)
  for (const [i, n] of served.entries()) assert.ok(n > 0, `gateway ${i + 1} served requests (${served})`)
})

test('a write through one gateway wakes live pulls held by another (hop measured)', { timeout: 120_000 }, async (t) => {
  const storeId = uniqueStore('hop')
  assert.equal((await pushBatch(gws[0].endpoint, storeId, events(1, 1))).status, 200)
  const cross = await wakeHops(storeId, gws[0], gws[1], 50, 1)
  const same = await wakeHops(storeId, gws[0], gws[0], 50, cross.seq)
  figure(t, `haproxy: cross-gateway wake hop (push via gw1 -> pull held by gw2 answered): ${summary(cross.hops)}`)
  figure(t, `haproxy: same-gateway wake hop (push via gw1 -> pull held by gw1 answered): ${summary(same.hops)}`)
  // Every hop ended with the event before the 10 s long-poll timeout: a missed wake-up would show as a ~10 s hop.
  for (const h of cross.hops) assert.ok(h < (LONG_POLL_S - 1) * 1000, `woken by the push, not by the timeout (${h.toFixed(0)} ms)`)
})

test('kill -9 of one gateway under live clients: they keep syncing, every event exactly once', { timeout: 180_000 }, async (t) => {
  const storeId = uniqueStore('kill')
  const clients = await openClients(t, { storeId, n: 4, endpoint: lb.endpoint, dir })
  const KILL_AT = 4
  let victim, tKill, killRound
  const retriedBefore = haproxyRetries()
  const want = []
  await writeInTurns(clients, 12, 'kill', want, async (round) => {
    if (round === KILL_AT + 1) killRound = want.slice(-2)
    if (round !== KILL_AT) return
    // The gateway holding most of the clients' live pulls, once they all wait.
    let held
    for (let w = 0; w < 100; w++) {
      held = await Promise.all(gws.map(async (g) => (await metrics(g))['livestore_gateway_held_polls']))
      if (held.reduce((a, b) => a + b) >= clients.length) break
      await sleep(50)
    }
    victim = held.indexOf(Math.max(...held))
    assert.ok(held[victim] > 0, `a gateway holds live pulls before the kill (${held})`)
    figure(t, `haproxy: live pulls held per gateway before kill -9 of gw${victim + 1}: ${held.join(' / ')}`)
    tKill = now()
    await gws[victim].kill9()
  })
  await auditExactlyOnce(clients, pg.url, storeId, want)
  for (const c of clients) assert.equal(c.failure, null, `${c.clientId}'s sync never stopped`)
  const recovered = Math.max(...clients.map((c) => Math.max(...killRound.map((id) => c.seen.get(id)))))
  figure(t, `haproxy: kill -9 of a gateway under 4 live clients: writes made right after the kill seen by every client ${(recovered - tKill).toFixed(0)} ms after it; ${want.length} events, each exactly once on every client and in Postgres; requests HAProxy retried: ${haproxyRetries() - retriedBefore}`)

  // The gateway comes back: HAProxy's health check lets it in again.
  const back = gws[victim]
  await back.start()
  const base = await endpointRequests(back)
  await sleep(2500)  // rise 2 x inter 1s
  await writeInTurns(clients, 4, 'after', want)
  assert.ok((await endpointRequests(back)) > base, 'the restarted gateway serves again')
  await auditExactlyOnce(clients, pg.url, storeId, want)
})

/** Requests HAProxy's log shows as retried (the retries field of `option httplog`, "+N" when redispatched). */
function haproxyRetries() {
  let text = ''
  try { text = readFileSync(lb.logFile, 'utf8') } catch {}
  let n = 0
  for (const m of text.matchAll(/ [-A-Za-z]{4} \d+\/\d+\/\d+\/\d+\/\+?(\d+) \d+\/\d+ "/g)) if (Number(m[1]) > 0) n++
  return n
}
