// Test-side handle on one real LiveStore client running in its own process
// (see client-process.mjs for why a process). Every wait here fails fast,
// with the client's log, when the client's sync shuts down or the process dies.
import { fork } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'client-process.mjs')
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/**
 * Open a client. opts: storeId, endpoint (string or {push,pull,ping}), clientId,
 * logDir, storage ({type:'in-memory'} default, or {type:'fs', baseDirectory}),
 * authToken ('dev-token'), onSyncError ('shutdown': sync failures become visible),
 * ping (sync-electric ping options), headers (added to every request), readyTimeout (ms).
 */
export async function openClient(opts) {
  const clientId = opts.clientId
  const cfg = {
    storeId: opts.storeId,
    endpoint: opts.endpoint,
    clientId,
    sessionId: `${clientId}-1`,
    storage: opts.storage ?? { type: 'in-memory' },
    authToken: opts.authToken ?? 'dev-token',
    onSyncError: opts.onSyncError ?? 'shutdown',
    ping: opts.ping,
    headers: opts.headers,
  }
  const logFile = path.join(opts.logDir, `client-${clientId}.log`)
  const fd = openSync(logFile, 'a')
  const proc = fork(CHILD, [JSON.stringify(cfg)], {
    stdio: ['ignore', fd, fd, 'ipc'],
    // LS_DEV makes LiveStore log swallowed sync errors too.
    env: { ...process.env, LS_DEV: process.env.LS_DEV ?? '1' },
  })
  closeSync(fd)

  let nextId = 1
  const pending = new Map()
  let ready
  const readyP = new Promise((resolve) => (ready = resolve))
  const c = {
    clientId,
    logFile,
    proc,
    /** id -> first time (hrtime ms, in the client) the id was in the items table. */
    seen: new Map(),
    ids: [],
    /** Set when the store shut down without being asked to: the sync died. */
    failure: null,
    exit: null,
    closing: false,
  }
  const logTail = (n = 30) => {
    try {
      return readFileSync(logFile, 'utf8').split('\n').slice(-n).join('\n')
    } catch {
      return ''
    }
  }
  const problem = () =>
    c.failure ? `client ${clientId} shut down: ${c.failure}` : c.exit ? `client ${clientId} exited (${c.exit})` : null

  proc.on('message', (m) => {
    if (m.type === 'ready') ready()
    else if (m.type === 'items') {
      c.ids = m.ids
      for (const id of m.ids) if (!c.seen.has(id)) c.seen.set(id, m.t)
    } else if (m.type === 'shutdown') {
      if (!c.closing) c.failure = m.cause
    } else if (m.type === 'reply') {
      const p = pending.get(m.id)
      pending.delete(m.id)
      if (m.error) p?.reject(new Error(`client ${clientId}: ${m.error}`))
      else p?.resolve(m.result)
    }
  })
  const exited = new Promise((resolve) =>
    proc.on('exit', (code, signal) => {
      c.exit = `code ${code}, signal ${signal}`
      for (const p of pending.values()) p.reject(new Error(`${problem()}\n${logTail()}`))
      pending.clear()
      resolve()
    }),
  )

  const call = (op, args = {}) =>
    new Promise((resolve, reject) => {
      if (c.exit) return reject(new Error(problem()))
      const id = nextId++
      pending.set(id, { resolve, reject })
      proc.send({ id, op, ...args })
    })

  /** Poll `fn` (sync or async) until truthy; abort at once if the client broke. `what` may be a function. */
  c.waitUntil = async (fn, { timeout = 15_000, what: label = 'condition' } = {}) => {
    const deadline = Date.now() + timeout
    for (;;) {
      const what = typeof label === 'function' ? label() : label
      if (problem()) throw new Error(`${problem()} while waiting for ${what}\n${logTail()}`)
      const v = await fn()
      if (v) return v
      if (Date.now() > deadline) {
        throw new Error(`client ${clientId}: timed out after ${timeout} ms waiting for ${what}; has ${c.ids.length} items\n${logTail()}`)
      }
      await sleep(10)
    }
  }
  /** Commit items (separate commits, back to back); resolves with the client's commit time. */
  c.commit = async (...list) => (await call('commit', { items: list })).t
  c.items = () => call('items')
  c.rejections = () => call('rejections')
  /** All rows of one of the client's tables (schema.mjs `tables`). */
  c.rows = (table) => call('rows', { table })
  c.status = () => call('status')
  /** Wait until every id is visible here; resolves with the time the last one appeared. */
  c.waitForIds = async (ids, opts = {}) => {
    await c.waitUntil(() => ids.every((id) => c.seen.has(id)), { what: `${ids.length} ids (${ids.slice(0, 3).join(',')}…)`, ...opts })
    return Math.max(...ids.map((id) => c.seen.get(id)))
  }
  /**
   * Wait until the leader has nothing left to push and (if given) the backend-confirmed
   * head's global seqNum is `head`. Heads print as e<global>[.<client>][r<rebaseGeneration>].
   */
  let lastStatus
  c.waitSynced = (head, opts = {}) =>
    c.waitUntil(
      async () => {
        const s = (lastStatus = await c.status())
        const global = Number(/^e(\d+)/.exec(s.upstreamHead)?.[1])
        return s.pendingCount === 0 && (head === undefined || global === head) ? s : null
      },
      { what: () => `synced${head !== undefined ? ` to e${head}` : ''} (last status ${JSON.stringify(lastStatus)})`, ...opts },
    )
  /** Wait until the client's ping succeeded: only then does it push and apply pulls (doc §3). */
  c.waitConnected = (opts = {}) =>
    c.waitUntil(async () => (await c.status()).isConnected, { what: 'isConnected', ...opts })
  /** Graceful shutdown (persists fs storage). */
  c.close = async ({ timeout = 10_000 } = {}) => {
    if (c.exit) return
    c.closing = true
    const t = setTimeout(() => proc.kill('SIGKILL'), timeout)
    await call('close').catch(() => {})
    await exited
    clearTimeout(t)
  }
  c.kill = async () => {
    if (c.exit) return
    c.closing = true
    proc.kill('SIGKILL')
    await exited
  }
  c.logTail = logTail

  const timeout = opts.readyTimeout ?? 30_000
  let timer
  const timedOut = new Promise((resolve) => (timer = setTimeout(() => resolve('timeout'), timeout)))
  const r = await Promise.race([readyP, exited.then(() => 'exit'), timedOut])
  clearTimeout(timer)
  if (r === 'exit' || r === 'timeout') {
    await c.kill()
    throw new Error(`client ${clientId} did not boot (${r})\n${logTail()}`)
  }
  return c
}
