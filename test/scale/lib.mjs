// Shared by the `make test-scale` scenarios (test/scale/*.test.mjs): running
// the real engines (HAProxy, pgbouncer, etcd, Patroni) as child processes on
// free 127.0.0.1 ports, reading gateway metrics, and summarizing timings.
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { appendFileSync, closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import path from 'node:path'

import { REPO_ROOT, waitFor } from '../lib/harness.mjs'
import { events, pullUrl, pushBatch } from '../gateway/lib.mjs'
import { openClient } from '../e2e/lib/client.mjs'
import { chainProblems, eventRows } from '../e2e/lib/db.mjs'

export const DEPLOY = path.join(REPO_ROOT, 'deploy')
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// Every process started here is killed when the test process exits, however it exits.
const live = new Set()
process.once('exit', () => {
  for (const p of live) {
    try { p.kill('SIGKILL') } catch {}
  }
})

/** True once something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port) {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port })
    s.once('connect', () => { s.destroy(); resolve(true) })
    s.once('error', () => resolve(false))
  })
}

export function tail(file, lines = 40) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

/**
 * Start a long-running engine process with its output in logFile.
 * opts: env, uid/gid (run as another user), ready (async fn: true when up), readyTimeout.
 * Returns { proc, pid, logFile, exited, stop(signal), kill9() }.
 */
export async function startProcess(bin, args, { logFile, env, uid, gid, ready, readyTimeout = 30_000, cwd } = {}) {
  mkdirSync(path.dirname(logFile), { recursive: true })
  const fd = openSync(logFile, 'a')
  const proc = spawn(bin, args, { stdio: ['ignore', fd, fd], env: { ...process.env, ...env }, uid, gid, cwd })
  closeSync(fd)
  live.add(proc)
  const exited = new Promise((resolve) => {
    proc.once('exit', (code, signal) => { live.delete(proc); resolve({ code, signal }) })
    proc.once('error', (error) => { live.delete(proc); resolve({ code: null, signal: null, error }) })
  })
  let gone = null
  exited.then((r) => (gone = r))
  const h = {
    proc,
    pid: proc.pid,
    logFile,
    exited,
    async stop(signal = 'SIGTERM', { timeout = 10_000 } = {}) {
      if (gone) return gone
      proc.kill(signal)
      const t = setTimeout(() => proc.kill('SIGKILL'), timeout)
      const r = await exited
      clearTimeout(t)
      return r
    },
    kill9: () => h.stop('SIGKILL'),
  }
  if (ready) {
    const died = exited.then((r) => { throw new Error(`${bin} exited before it was ready (${JSON.stringify(r)})`) })
    await Promise.race([
      waitFor(ready, { timeout: readyTimeout, interval: 100, what: `${path.basename(bin)} ready` }),
      died,
    ]).catch((e) => {
      proc.kill('SIGKILL')
      throw new Error(`${e.message}\n${tail(logFile)}`)
    })
    died.catch(() => {})
  }
  return h
}

/**
 * HAProxy with deploy/haproxy/haproxy.cfg (unchanged) in front of the given
 * gateways (harness gateway objects); `port` is its free listening port.
 */
export async function startHaproxy({ port, gateways, logFile }) {
  const env = { LIVESTORE_HAPROXY_BIND: `127.0.0.1:${port}` }
  gateways.forEach((g, i) => (env[`LIVESTORE_GATEWAY_${i + 1}`] = `127.0.0.1:${g.port}`))
  const h = await startProcess('haproxy', ['-db', '-f', path.join(DEPLOY, 'haproxy/haproxy.cfg')], {
    logFile,
    env,
    ready: () => portOpen(port),
  })
  return { ...h, url: `http://127.0.0.1:${port}`, endpoint: `http://127.0.0.1:${port}/api/electric` }
}

/** uid and gid of the postgres user (pgbouncer, Postgres and Patroni refuse root), or {} when not root. */
export function postgresIds() {
  if (process.getuid() !== 0) return {}
  const id = (flag) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim())
  return { uid: id('-u'), gid: id('-g') }
}

/**
 * pgbouncer with deploy/pgbouncer/pgbouncer.ini, only its addresses and
 * authentication replaced (pgbouncer reads no environment, and a second
 * [pgbouncer] section would reset the first): database `name` is `db`
 * (libpq settings), on 127.0.0.1:port, trusting the postgres user as the
 * test clusters do. Returns { ...process, url, adminUrl }.
 */
export async function startPgbouncer({ dir, port, db, name = 'postgres' }) {
  mkdirSync(dir, { recursive: true })
  const ids = postgresIds()
  writeFileSync(path.join(dir, 'userlist.txt'), '"postgres" ""\n')
  const set = {
    listen_addr: '127.0.0.1',
    listen_port: String(port),
    auth_type: 'trust',
    auth_file: path.join(dir, 'userlist.txt'),
    unix_socket_dir: dir,
    pidfile: path.join(dir, 'pgbouncer.pid'),
  }
  let section = ''
  const lines = readFileSync(path.join(DEPLOY, 'pgbouncer/pgbouncer.ini'), 'utf8').split('\n').map((line) => {
    const header = /^\[(\w+)\]/.exec(line)
    if (header) section = header[1]
    const kv = /^(\w+)\s*=/.exec(line)
    if (!kv) return line
    if (section === 'databases') return `${name} = ${db}`
    if (kv[1] in set) {
      const v = set[kv[1]]
      delete set[kv[1]]
      return `${kv[1]} = ${v}`
    }
    return line
  })
  for (const [k, v] of Object.entries(set)) lines.push(`${k} = ${v}`)  // [pgbouncer] is the last section
  const ini = path.join(dir, 'pgbouncer.ini')
  writeFileSync(ini, lines.join('\n'))
  if (ids.uid !== undefined) spawnSync('chown', ['-R', 'postgres:', dir])
  const h = await startProcess('pgbouncer', [ini], { logFile: path.join(dir, 'pgbouncer.log'), ...ids, ready: () => portOpen(port) })
  // The admin console refuses trust over TCP: its socket then.
  return { ...h, url: `postgresql://postgres@127.0.0.1:${port}/${name}`, adminUrl: `postgresql://postgres@/pgbouncer?host=${dir}&port=${port}` }
}

/** etcd (Debian's etcd-server 3.4), one member, on 127.0.0.1 ports. Returns { ...process, endpoint }. */
export async function startEtcd({ dir, clientPort, peerPort }) {
  mkdirSync(dir, { recursive: true })
  const client = `http://127.0.0.1:${clientPort}`
  const peer = `http://127.0.0.1:${peerPort}`
  const h = await startProcess('etcd', [
    '--name', 'etcd1', '--data-dir', path.join(dir, 'data'),
    '--listen-client-urls', client, '--advertise-client-urls', client,
    '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `etcd1=${peer}`, '--initial-cluster-state', 'new',
  ], { logFile: path.join(dir, 'etcd.log'), ready: async () => (await fetch(`${client}/health`).catch(() => null))?.ok })
  return { ...h, endpoint: `127.0.0.1:${clientPort}` }
}

/**
 * One Patroni node (as the postgres user) with deploy/patroni/patroni.yml;
 * the node's addresses come from the environment as the file says, and only
 * post_bootstrap is pointed at this checkout's script. The start is done when
 * the REST API answers 200 on `ready` ('/primary' or '/replica'). Returns { ...process, name, pgPort, api, dataDir, postmasterPid() }.
 */
export async function startPatroni({ dir, name, pgPort, apiPort, etcd, ready }) {
  mkdirSync(dir, { recursive: true })
  const yml = readFileSync(path.join(DEPLOY, 'patroni/patroni.yml'), 'utf8').replace(
    /^(\s*post_bootstrap:).*$/m,
    `$1 ${path.join(DEPLOY, 'patroni/post-bootstrap.sh')}`,
  )
  const cfg = path.join(dir, 'patroni.yml')
  writeFileSync(cfg, yml)
  const dataDir = path.join(dir, 'data')
  const ids = postgresIds()
  if (ids.uid !== undefined) {
    spawnSync('chown', ['-R', 'postgres:', dir])
    // Postgres's default socket folder on Debian.
    mkdirSync('/var/run/postgresql', { recursive: true })
    spawnSync('chown', ['postgres:', '/var/run/postgresql'])
  }
  const api = `http://127.0.0.1:${apiPort}`
  const env = {
    PATRONI_NAME: name,
    PATRONI_RESTAPI_LISTEN: `127.0.0.1:${apiPort}`,
    PATRONI_RESTAPI_CONNECT_ADDRESS: `127.0.0.1:${apiPort}`,
    PATRONI_POSTGRESQL_LISTEN: `127.0.0.1:${pgPort}`,
    PATRONI_POSTGRESQL_CONNECT_ADDRESS: `127.0.0.1:${pgPort}`,
    PATRONI_POSTGRESQL_DATA_DIR: dataDir,
    PATRONI_POSTGRESQL_PGPASS: path.join(dir, 'pgpass'),
    PATRONI_ETCD3_HOSTS: etcd.endpoint,
    HOME: dir,
  }
  const status = async (what) => (await fetch(`${api}${what}`, { signal: AbortSignal.timeout(2000) }).catch(() => null))?.status ?? 0
  const h = await startProcess('patroni', [cfg], {
    logFile: path.join(dir, 'patroni.log'), env, ...ids, cwd: dir, readyTimeout: 120_000,
    ready: async () => (await status(ready)) === 200,
  })
  return {
    ...h,
    name,
    pgPort,
    api,
    dataDir,
    url: `postgresql://postgres@127.0.0.1:${pgPort}/postgres`,
    /** GET on a Patroni REST endpoint (/primary, /replica, /health): its status, 0 when unreachable. */
    role: status,
    postmasterPid: () => {
      try { return Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]) } catch { return null }
    },
  }
}

/** Prometheus text of a gateway's /metrics parsed into { 'name{labels}': value }. */
export async function metrics(gw) {
  const r = await fetch(`${gw.url}/metrics`, { signal: AbortSignal.timeout(5000) })
  const out = {}
  for (const line of (await r.text()).split('\n')) {
    const m = /^([a-z_]+(?:\{[^}]*\})?) ([0-9.e+-]+)$/.exec(line)
    if (m) out[m[1]] = Number(m[2])
  }
  return out
}

/** Sum of the counters whose key starts with `prefix` (all label sets). */
export const sumOf = (m, prefix) => Object.entries(m).reduce((s, [k, v]) => (k.startsWith(prefix) ? s + v : s), 0)

/**
 * Pulls and pushes a gateway answered, by /metrics (pings are left out: the
 * balancer's health checks are pings too).
 */
export async function endpointRequests(gw) {
  const m = await metrics(gw)
  return Object.entries(m)
    .filter(([k]) => k.startsWith('livestore_gateway_requests_total{') && /route="(pull|push)"/.test(k))
    .reduce((s, [, v]) => s + v, 0)
}

/** p-th percentile (0..100) of numbers, nearest rank. */
export function percentile(xs, p) {
  if (!xs.length) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]
}

export const summary = (xs) =>
  `n=${xs.length} p50=${percentile(xs, 50).toFixed(1)} p99=${percentile(xs, 99).toFixed(1)} max=${Math.max(...xs).toFixed(1)} ms`

/**
 * Print a measured figure (TAP diagnostic) and add it to build/scale-figures.txt,
 * which `make test-scale` prints at the end.
 */
export function figure(t, text) {
  t.diagnostic(text)
  mkdirSync(path.join(REPO_ROOT, 'build'), { recursive: true })
  appendFileSync(path.join(REPO_ROOT, 'build/scale-figures.txt'), `${new Date().toISOString()} ${text}\n`)
}

// One live pull held by gateway `held`, one push through gateway `via`: the
// time from sending the push until the held pull is answered with it.
export async function wakeHops(storeId, via, held, rounds, startSeq) {
  const hops = []
  let seq = startSeq
  for (let i = 0; i < rounds; i++) {
    const heldBefore = (await metrics(held))['livestore_gateway_held_polls']
    const answer = fetch(pullUrl(held.endpoint, { storeId, handle: 'h', offset: `${seq}_0` }), { signal: AbortSignal.timeout(30_000) })
      .then(async (r) => ({ t: performance.now(), status: r.status, body: await r.json() }))
    let ready = false
    for (let w = 0; w < 200 && !ready; w++) {
      ready = (await metrics(held))['livestore_gateway_held_polls'] > heldBefore
      if (!ready) await sleep(5)
    }
    assert.ok(ready, 'the live pull is held')
    const t0 = performance.now()
    const ack = await pushBatch(via.endpoint, storeId, events(seq + 1, seq + 1))
    assert.equal(ack.status, 200)
    const r = await answer
    assert.equal(r.status, 200)
    assert.deepEqual(r.body.filter((m) => m.value).map((m) => m.value.seqNum), [String(seq + 1)], 'woken with the new event')
    hops.push(r.t - t0)
    seq++
  }
  return { hops, seq }
}

/**
 * n real LiveStore clients of one store, connected and synced; closed at the
 * end of test t. `endpoint` may be a function of the client's index.
 */
export async function openClients(t, { storeId, n, endpoint, dir }) {
  // In parallel: a client process takes seconds to boot on a busy machine.
  const at = typeof endpoint === 'function' ? endpoint : () => endpoint
  const clients = await Promise.all(
    Array.from({ length: n }, (_, i) => openClient({ storeId, endpoint: at(i), clientId: `c${i}`, logDir: dir, readyTimeout: 90_000 })),
  )
  for (const c of clients) t.after(() => c.close())
  for (const c of clients) await c.waitConnected({ timeout: 30_000 })
  for (const c of clients) await c.waitSynced(0, { timeout: 30_000 })
  return clients
}

// The clients write in turns: a writer first holds every earlier event, so
// it never rebases. (Several stock 0.4.0 clients writing at once break while
// rebasing, even on one gateway: livestorejs/livestore#641, see
// test/faults/clients.test.mjs.) `beforeRound(round)` runs first.
export async function writeInTurns(clients, rounds, prefix, want, beforeRound = async () => {}) {
  for (let round = 0; round < rounds; round++) {
    await beforeRound(round)
    const writer = clients[round % clients.length]
    await writer.waitForIds(want, { timeout: 60_000 })
    const ids = [`${prefix}-${round}-a`, `${prefix}-${round}-b`]
    want.push(...ids)
    await writer.commit(...ids.map((id) => ({ id, text: id })))
    await writer.waitSynced(undefined, { timeout: 60_000 })
    await sleep(100)
  }
  return want
}

/** Every client and Postgres hold exactly `want`, each once, chained 1..n. */
export async function auditExactlyOnce(clients, url, storeId, want) {
  want = [...want].sort()
  for (const c of clients) await c.waitForIds(want, { timeout: 60_000 })
  for (const c of clients) await c.waitSynced(want.length, { timeout: 60_000 })
  for (const c of clients) assert.deepEqual((await c.items()).map((r) => r.id).sort(), want, `${c.clientId}: every event once`)
  const rows = await eventRows(url, storeId)
  assert.deepEqual(chainProblems(rows), [])
  assert.deepEqual(rows.map((r) => r.args.id).sort(), want, 'Postgres: every event stored once')
}

/** Milliseconds on the monotonic clock. */
export const now = () => Number(process.hrtime.bigint()) / 1e6

/**
 * Pushes one event at a time to its own store through `endpoint` until
 * stop.now (or limitMs); 503 means "again, same batch". Records every
 * acknowledged event with the times its push was sent and acknowledged.
 */
export function startPusher(endpoint, storeId, stop, { limitMs = 120_000 } = {}) {
  const p = { storeId, acked: [], ackedAt: [], sentAt: [], unavailable: 0, unexpected: [], done: null }
  p.done = (async () => {
    let seq = 0
    const deadline = Date.now() + limitMs
    while (!stop.now && Date.now() < deadline) {
      const batch = events(seq + 1, seq + 1, { clientId: storeId })
      let r
      const sent = now()
      try {
        r = await pushBatch(endpoint, storeId, batch)
      } catch (e) {
        p.unexpected.push(`network: ${e.message}`)
        await sleep(100)
        continue
      }
      if (r.status === 200) {
        p.acked.push(batch[0].args.id)
        p.ackedAt.push(now())
        p.sentAt.push(sent)
        seq++
      } else if (r.status === 503) {
        p.unavailable++
        await sleep(50)
      } else {
        p.unexpected.push(`${r.status} ${r.text}`)
        await sleep(100)
      }
    }
  })()
  return p
}

/**
 * The primary's machine is lost under the pushers: kill -9 of its Patroni
 * first (or it would restart Postgres in place), then of its postmaster.
 * Waits until Patroni reports the standby as primary and every pusher has
 * an acknowledgement after that. Returns { ackedBeforeKill, tKill, tPromoted } (now()).
 */
export async function losePrimary(primary, standby, pushers) {
  const ackedBeforeKill = pushers.reduce((n, p) => n + p.acked.length, 0)
  await primary.kill9()
  process.kill(primary.postmasterPid(), 'SIGKILL')
  const tKill = now()
  await waitFor(async () => (await standby.role('/primary')) === 200, { timeout: 60_000, interval: 50, what: 'the standby promoted by Patroni' })
  const tPromoted = now()
  await waitFor(() => pushers.every((p) => p.ackedAt.some((x) => x > tPromoted)), { timeout: 60_000, what: 'pushes acknowledged after the failover' })
  return { ackedBeforeKill, tKill, tPromoted }
}

export { sleep }
