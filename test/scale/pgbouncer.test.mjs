// Gateways through pgbouncer in transaction mode (deploy/pgbouncer/pgbouncer.ini)
// with --database-pooled, LISTEN on a direct session (--listen-database-url):
// real clients on different gateways push and pull, live pulls are woken
// across gateways, and the worker connections of many gateways fold onto the
// pool's few server connections (counted with SHOW POOLS and pg_stat_activity,
// against the same gateways and load without pgbouncer).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { after, before, test } from 'node:test'

import { freePort, makeWorkDir, psql, startCluster, startGateway } from '../lib/harness.mjs'
import { events, pullUrl, pushBatch } from '../gateway/lib.mjs'
import { auditExactlyOnce, figure, openClients, startPgbouncer, summary, wakeHops, writeInTurns } from './lib.mjs'

const GATEWAYS = 4
const THREADS = 32
let dir, pg, bouncer

before(async () => {
  dir = makeWorkDir('scale-pgbouncer')
  pg = await startCluster({ dir: path.join(dir, 'pg') })
  // Room for every gateway thread's own connection in the comparison without
  // pgbouncer (4 x 32 + 4 x 2 direct sessions): the gateway spreads
  // connections over all its threads, and each opens one.
  await psql(pg.url, 'ALTER SYSTEM SET max_connections = 200')
  await pg.restart()
  bouncer = await startPgbouncer({ dir: path.join(dir, 'pgbouncer'), port: await freePort(), db: `host=127.0.0.1 port=${pg.port} dbname=postgres` })
})
after(async () => {
  await bouncer?.stop()
  await pg?.stop()
})

async function startGateways(t, { pooled }) {
  const gws = []
  for (let i = 1; i <= GATEWAYS; i++) {
    const args = ['--threads', String(THREADS)]
    if (pooled) args.push('--database-pooled', '--listen-database-url', pg.url)
    const gw = await startGateway({
      databaseUrl: pooled ? bouncer.url : pg.url,
      longPollTimeout: 10,
      args,
      logFile: path.join(dir, `gw${i}-${pooled ? 'pooled' : 'direct'}.log`),
    })
    t.after(() => gw.stop())
    gws.push(gw)
  }
  return gws
}

/** SHOW POOLS of the gateways' database as { cl_active, sv_active, sv_idle, ... }. */
function pool() {
  const out = execFileSync('psql', [bouncer.adminUrl, '-X', '-A', '-c', 'SHOW POOLS'], { encoding: 'utf8' }).trim().split('\n')
  const cols = out[0].split('|')
  const row = out.slice(1).map((l) => l.split('|')).find((r) => r[0] === 'postgres')
  return Object.fromEntries(cols.map((c, i) => [c, Number.isNaN(Number(row[i])) ? row[i] : Number(row[i])]))
}

/** Client backends in Postgres, this query's own excluded. */
const backends = async () => Number(await psql(pg.url, `SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`))

/** Many concurrent non-live pulls and pushes on every gateway, so that most worker threads open their connection. */
async function load(gws, storeId) {
  for (let round = 0; round < 3; round++) {
    const pulls = gws.flatMap((g) =>
      Array.from({ length: 96 }, () =>
        fetch(pullUrl(g.endpoint, { storeId, handle: 'h', offset: '0_0', live: false }), { signal: AbortSignal.timeout(60_000) }).then((r) => r.status),
      ),
    )
    const pushes = gws.map((g) => pushBatch(g.endpoint, `${storeId}_${g.port}_${round}`, events(1, 1)).then((r) => r.status))
    for (const s of await Promise.all([...pulls, ...pushes])) assert.equal(s, 200)
  }
}

test('gateways through pgbouncer (transaction mode): clients sync, live pulls are woken, connections fold', { timeout: 300_000 }, async (t) => {
  const gws = await startGateways(t, { pooled: true })
  const storeId = `scale_pgb_${Date.now().toString(36)}`

  // Real clients, each on its own gateway: every write reaches the others
  // through a LISTEN on another gateway's direct session.
  const clients = await openClients(t, { storeId, n: 3, endpoint: (i) => gws[i].endpoint, dir })
  const want = await writeInTurns(clients, 6, 'pgb', [])
  await auditExactlyOnce(clients, pg.url, storeId, want)

  // The hop from a push through gateway 1 to a pull held by gateway 2.
  const hopStore = `${storeId}_hop`
  assert.equal((await pushBatch(gws[0].endpoint, hopStore, events(1, 1))).status, 200)
  const { hops } = await wakeHops(hopStore, gws[0], gws[1], 30, 1)
  figure(t, `pgbouncer: cross-gateway wake hop through pgbouncer (transaction mode): ${summary(hops)}`)

  await load(gws, storeId)
  const p = pool()
  const sv = p.sv_active + p.sv_idle + p.sv_used + p.sv_tested + p.sv_login
  const cl = p.cl_active + p.cl_waiting
  const pgBackends = await backends()
  figure(t, `pgbouncer: ${GATEWAYS} gateways x ${THREADS} threads under load: ${cl} client connections at pgbouncer -> ${sv} server connections (pool ${p.pool_mode}); Postgres client backends in all: ${pgBackends} (the pool's plus ${GATEWAYS} x 2 direct sessions for LISTEN and announcements)`)
  assert.equal(p.pool_mode, 'transaction')
  assert.ok(sv <= 25, `server connections stay within default_pool_size + reserve_pool_size (${sv})`)
  assert.ok(cl > sv, `more gateway connections than server connections: folded (${cl} -> ${sv})`)
  // The direct sessions: one wake-up session per gateway (waiting in
  // livestore.wait_changes(), or LISTENing before extension 0.3.0), on Postgres itself.
  assert.equal(Number(await psql(pg.url, `SELECT count(*) FROM pg_stat_activity
    WHERE query = 'LISTEN livestore_events' OR query LIKE '%FROM livestore.wait_changes($1::bigint, 1000)'`)), GATEWAYS)

  // After the load the clients still sync live, through the same pool.
  await writeInTurns(clients, 3, 'after', want)
  await auditExactlyOnce(clients, pg.url, storeId, want)
})

test('the same gateways and load without pgbouncer: one Postgres backend per worker thread', { timeout: 300_000 }, async (t) => {
  const gws = await startGateways(t, { pooled: false })
  const storeId = `scale_direct_${Date.now().toString(36)}`
  assert.equal((await pushBatch(gws[0].endpoint, storeId, events(1, 1))).status, 200)
  await load(gws, storeId)
  const n = await backends()
  figure(t, `pgbouncer: without it, ${GATEWAYS} gateways x ${THREADS} threads under the same load: ${n} Postgres client backends`)
  assert.ok(n > 25, `without a pool Postgres carries every gateway thread's connection (${n})`)
})
