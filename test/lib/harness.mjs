// Test harness shared by the e2e tests (test/e2e) and HTTP integration tests:
// a throwaway Postgres cluster (via test/lib/cluster.sh) and livestore-gateway
// processes on free ports. Plain ESM on node: builtins only, so any node:test
// file can import it without installing anything.
import { execFile, spawn, spawnSync } from 'node:child_process'
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const execFileP = promisify(execFile)

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const CLUSTER_SH = path.join(REPO_ROOT, 'test/lib/cluster.sh')
export const GATEWAY_BIN = process.env.LIVESTORE_GATEWAY || path.join(REPO_ROOT, 'gateway/livestore-gateway')
// Work files (clusters, logs, client databases) live in the git-ignored build/
// folder so a failed run can be inspected; LIVESTORE_TEST_TMP overrides it.
export const WORK_ROOT = process.env.LIVESTORE_TEST_TMP || path.join(REPO_ROOT, 'build/test-harness')

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// Anything still running when the test process exits (a crashed test, a
// forgotten stop()) is stopped synchronously here, so no Postgres or gateway
// outlives the run.
const live = new Set()
process.once('exit', () => {
  for (const cleanup of live) {
    try { cleanup() } catch {}
  }
})

/** A fresh private directory under WORK_ROOT; the postgres user must be able to enter it. */
export function makeWorkDir(prefix = 'run') {
  mkdirSync(WORK_ROOT, { recursive: true })
  const dir = mkdtempSync(path.join(WORK_ROOT, `${prefix}-`))
  chmodSync(dir, 0o755)
  return dir
}

/** A TCP port that was free on 127.0.0.1 a moment ago (the kernel picks it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

/** Poll `fn` until it returns a truthy value; that value is returned. */
export async function waitFor(fn, { timeout = 15_000, interval = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout
  let lastErr
  for (;;) {
    try {
      const v = await fn()
      if (v) return v
    } catch (e) {
      lastErr = e
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${lastErr ? `: ${lastErr.message}` : ''}`)
    }
    await sleep(interval)
  }
}

/**
 * Run SQL through the psql CLI; returns stdout without the trailing newline.
 * Unaligned, tuples only, `|` between columns, one row per line.
 */
export async function psql(url, sql) {
  try {
    const { stdout } = await execFileP('psql', [url, '-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
      env: { ...process.env, PGCONNECT_TIMEOUT: '10' },
      maxBuffer: 64 * 1024 * 1024,
    })
    return stdout.replace(/\n$/, '')
  } catch (e) {
    throw new Error(`psql failed: ${sql}\n${e.stderr || e.message}`)
  }
}

function clusterSh(fn, ...args) {
  // cluster.sh switches to the postgres user itself when we are root.
  const r = spawnSync('bash', ['-c', `source "$0" && ${fn} "$@"`, CLUSTER_SH, ...args], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${fn} ${args.join(' ')} failed:\n${r.stdout}${r.stderr}`)
  return r.stdout
}

/**
 * A throwaway Postgres cluster with `CREATE EXTENSION livestore` done (at
 * the version in LIVESTORE_TEST_EXTENSION_VERSION when set, e.g. to run a
 * suite against an older extension's SQL).
 * opts: { dir, keep } — keep leaves the data directory after stop().
 */
export async function startCluster({ dir, keep = !!process.env.LIVESTORE_KEEP_TMP } = {}) {
  const ownDir = !dir
  dir ??= path.join(makeWorkDir('pg'), 'cluster')
  let port
  // The free port can be taken between freePort() and postgres binding it; try again then.
  for (let attempt = 1; ; attempt++) {
    port = await freePort()
    try {
      clusterSh('cluster_start', dir, String(port))
      break
    } catch (e) {
      if (attempt >= 3) throw e
    }
  }
  const url = `postgresql://postgres@127.0.0.1:${port}/postgres`
  const cleanup = () => clusterSh('cluster_stop', dir)
  live.add(cleanup)
  const version = process.env.LIVESTORE_TEST_EXTENSION_VERSION
  if (version && !/^[0-9.]+$/.test(version)) throw new Error(`LIVESTORE_TEST_EXTENSION_VERSION: not a version: ${version}`)
  await psql(url, `CREATE EXTENSION IF NOT EXISTS livestore${version ? ` VERSION '${version}'` : ''}`)
  return {
    url,
    port,
    dir,
    log: path.join(dir, 'postgres.log'),
    async stop() {
      live.delete(cleanup)
      clusterSh('cluster_stop', dir)
      if (ownDir && !keep) rmSync(path.dirname(dir), { recursive: true, force: true })
    },
    async restart() {
      clusterSh('cluster_stop', dir)
      clusterSh('cluster_start', dir, String(port))
    },
  }
}

/** HEAD the endpoint; true on 200. */
async function pingOk(url) {
  try {
    const r = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(2000) })
    return r.status === 200
  } catch {
    return false
  }
}

function tail(file, lines = 40) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

/**
 * Spawn livestore-gateway on 127.0.0.1 and wait until HEAD on its endpoint answers 200.
 * opts: databaseUrl, endpoint ('/api/electric'), electricUrl, electricSecret,
 *   shapeApi (bool), shapeSecret, longPollTimeout (s), authToken, args (extra flags),
 *   port (default: a free one), logFile, bin, env, readyTimeout (ms).
 * Returns { url, endpoint, port, logFile, proc, args, stop(signal), kill9(), restart(), start() }.
 */
export async function startGateway(opts = {}) {
  const endpointPath = opts.endpoint ?? '/api/electric'
  const port = opts.port ?? (await freePort())
  const bin = opts.bin ?? GATEWAY_BIN
  const logFile = opts.logFile ?? path.join(makeWorkDir('gw'), 'gateway.log')
  const args = ['--listen', `127.0.0.1:${port}`]
  if (opts.databaseUrl) args.push('--database-url', opts.databaseUrl)
  if (opts.electricUrl) args.push('--electric-url', opts.electricUrl)
  if (opts.electricSecret) args.push('--electric-secret', opts.electricSecret)
  if (opts.shapeApi) args.push('--shape-api')
  if (opts.shapeSecret) args.push('--shape-secret', opts.shapeSecret)
  if (opts.endpoint) args.push('--endpoint', opts.endpoint)
  if (opts.longPollTimeout != null) args.push('--long-poll-timeout', String(opts.longPollTimeout))
  if (opts.authToken) args.push('--auth-token', opts.authToken)
  // A graceful stop waits until no request came for this long (default here 0,
  // so tests stop fast; the upgrade test uses the gateway's own default).
  if (opts.drainSeconds !== undefined) {
    if (opts.drainSeconds !== null) args.push('--drain-seconds', String(opts.drainSeconds))
  } else args.push('--drain-seconds', '0')
  if (opts.args) args.push(...opts.args)

  const url = `http://127.0.0.1:${port}`
  const gw = {
    url,
    endpoint: url + endpointPath,
    port,
    logFile,
    args,
    proc: null,
    exited: null,
    async start() {
      if (gw.proc) throw new Error('gateway already running')
      // Appending: a restart keeps the earlier run's log in the same file.
      const fd = openSync(logFile, 'a')
      const proc = spawn(bin, args, { stdio: ['ignore', fd, fd], env: { ...process.env, ...opts.env } })
      closeSync(fd)
      gw.proc = proc
      // A spawn failure (ENOENT) emits 'error' and no 'exit'.
      gw.exited = new Promise((resolve) => {
        proc.once('exit', (code, signal) => resolve({ code, signal }))
        proc.once('error', (error) => resolve({ code: null, signal: null, error }))
      })
      const cleanup = () => { try { proc.kill('SIGKILL') } catch {} }
      live.add(cleanup)
      gw.exited.then(() => {
        live.delete(cleanup)
        if (gw.proc === proc) gw.proc = null
      })
      const deadline = Date.now() + (opts.readyTimeout ?? 15_000)
      for (;;) {
        if (gw.proc !== proc) {
          const { code, signal, error } = await gw.exited
          throw new Error(`gateway exited before it was ready (code ${code}, signal ${signal}${error ? `, ${error.message}` : ''}): ${bin} ${args.join(' ')}\n${tail(logFile)}`)
        }
        if (await pingOk(gw.endpoint)) return gw
        if (Date.now() > deadline) {
          await gw.kill9()
          throw new Error(`gateway not ready (HEAD ${gw.endpoint} != 200) within the timeout\n${tail(logFile)}`)
        }
        await sleep(50)
      }
    },
    /** Signal the gateway (SIGTERM: graceful) and wait; SIGKILL after `timeout` ms. Returns {code, signal}. */
    async stop(signal = 'SIGTERM', { timeout = 10_000 } = {}) {
      const proc = gw.proc
      if (!proc) return null
      proc.kill(signal)
      const t = setTimeout(() => proc.kill('SIGKILL'), timeout)
      const res = await gw.exited
      clearTimeout(t)
      return res
    },
    kill9() {
      return gw.stop('SIGKILL')
    },
    /** Stop (gracefully unless given a signal) and start again on the same port. */
    async restart(signal = 'SIGTERM') {
      await gw.stop(signal)
      return gw.start()
    },
    logTail: (lines) => tail(logFile, lines),
  }
  return gw.start()
}
