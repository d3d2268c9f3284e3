// Shared by the `make test-scale` scenarios (test/scale/*.test.mjs): running
// the real engines (HAProxy, pgbouncer, etcd, Patroni) as child processes on
// free 127.0.0.1 ports, reading gateway metrics, and summarizing timings.
import { spawn } from 'node:child_process'
import { appendFileSync, closeSync, mkdirSync, openSync, readFileSync } from 'node:fs'
import { connect } from 'node:net'
import path from 'node:path'

import { REPO_ROOT, WORK_ROOT, waitFor } from '../lib/harness.mjs'

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
  mkdirSync(WORK_ROOT, { recursive: true })
  appendFileSync(path.join(path.dirname(WORK_ROOT), 'scale-figures.txt'), `${new Date().toISOString()} ${text}\n`)
}

export { sleep }
