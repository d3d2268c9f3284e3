// HTTP-level load for the fault-injection tests and the soak test: pushers that
// behave like the stock client's push loop (doc §7.3: chained seqNums, the same
// batch re-sent after any failure, rebase on 409 using the head from its body),
// live pullers that follow electric-offset/-handle like the client's pull loop
// (doc §6.6; any non-2xx or dropped connection ends them, as it ends a real
// client's sync), and an exact audit of a store's log against what each writer
// was told and what each reader received. Node builtins only.
import { inserts, pullUrl, PUSH_TAG } from '../gateway/lib.mjs'
import { psql } from '../lib/harness.mjs'

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const lit = (s) => `'${String(s).replace(/'/g, "''")}'`

/** One POST; never throws. Returns { status, json } or { error } (no answer: refused, reset, timeout). */
export async function tryPush(endpoint, storeId, batch, { timeout = 15_000 } = {}) {
  try {
    const r = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ _tag: PUSH_TAG, storeId, batch }),
      signal: AbortSignal.timeout(timeout),
    })
    const text = await r.text()
    let json = null
    try { json = JSON.parse(text) } catch {}
    return { status: r.status, json, text }
  } catch (e) {
    return { error: e.cause?.code ?? e.name ?? String(e) }
  }
}

/**
 * A pusher for one store. Its events carry unique ids (`args.id`); it keeps the
 * head it believes in and pushes the next 1..maxBatch pending events chained
 * onto it. 200: acknowledged (head from the body). 409: rejected; rebase onto
 * the body's head with new seqNums (doc §7.3). Anything else, or no answer:
 * outcome unknown, the identical batch is sent again (the extension answers
 * 200 for a batch that is already stored identically, 409 for one that is not).
 * `allowed` lists the statuses that are not a test failure (200/409 always are).
 */
export class Writer {
  constructor({ endpoint, storeId, clientId, maxBatch = 4, retryDelay = 100, pace = 0, allowed = [503], timeout = 15_000 }) {
    Object.assign(this, { endpoint, storeId, clientId, maxBatch, retryDelay, pace, allowed, timeout })
    this.sessionId = `${clientId}-1`
    this.head = 0
    this.generated = 0
    this.pending = []  // events not yet acknowledged, in commit order: { id, text }
    this.current = null  // the exact batch being sent (kept identical across retries)
    this.acked = []  // ids, in acknowledgement order
    this.attempts = []  // every request: { events: [[seqNum, id]], outcome, status }
    this.unexpected = []  // statuses that are not 200/409/allowed
    this.stats = { requests: 0, ok: 0, conflicts: 0, unknown: 0, statuses: {} }
    this.stopping = false
    this.done = null
  }

  /** Ask the loop to finish: the batch in flight is completed (200 or 409), then it ends. */
  stop() { this.stopping = true }

  start({ stopDeadline = 60_000 } = {}) {
    this.done = this.#run(stopDeadline)
    return this
  }

  async #run(stopDeadline) {
    let gaveUpAt = null
    for (;;) {
      if (!this.current) {
        if (this.stopping) return
        const k = 1 + Math.floor(Math.random() * this.maxBatch)
        while (this.pending.length < k) {
          const id = `${this.clientId}-${++this.generated}`
          this.pending.push({ id, text: `${id} of ${this.storeId}` })
        }
        this.current = this.pending.slice(0, k).map((e, i) => ({
          name: 'v1.ItemAdded', args: { id: e.id, text: e.text }, seqNum: this.head + 1 + i, parentSeqNum: this.head + i,
          clientId: this.clientId, sessionId: this.sessionId,
        }))
      }
      if (this.stopping) {
        gaveUpAt ??= Date.now() + stopDeadline
        if (Date.now() > gaveUpAt) {
          this.unexpected.push(`gave up on a batch still unanswered ${stopDeadline} ms after stop()`)
          return
        }
      }
      const attempt = { events: this.current.map((e) => [e.seqNum, e.args.id]), outcome: 'pending', status: null }
      this.attempts.push(attempt)
      this.stats.requests++
      const r = await tryPush(this.endpoint, this.storeId, this.current, { timeout: this.timeout })
      attempt.status = r.status ?? r.error
      this.stats.statuses[attempt.status] = (this.stats.statuses[attempt.status] ?? 0) + 1
      if (r.status === 200 && r.json?.success === true && Number.isInteger(r.json.head)) {
        attempt.outcome = 'ack'
        this.stats.ok++
        this.acked.push(...this.current.map((e) => e.args.id))
        this.pending.splice(0, this.current.length)
        this.head = r.json.head
        this.current = null
      } else if (r.status === 409 && Number.isInteger(r.json?.head)) {
        attempt.outcome = 'rejected'
        this.stats.conflicts++
        this.head = r.json.head
        this.current = null  // rebase: the same pending events, new seqNums
      } else {
        attempt.outcome = 'unknown'
        this.stats.unknown++
        if (r.status !== undefined && !this.allowed.includes(r.status))
          this.unexpected.push(`push ${attempt.events[0][0]}..: ${r.status} ${r.text?.slice(0, 200)}`)
        await sleep(this.retryDelay)
      }
      if (this.pace) await sleep(typeof this.pace === 'function' ? this.pace() : this.pace)
    }
  }
}

/**
 * A live puller: the client's pull loop over HTTP. Starts with handle None,
 * then follows electric-handle/-offset (flagged offsets included) with
 * live:true. Checks every answer as the client would (2xx, both headers, a
 * JSON array, inserts gap-free right after its position) and stops at the
 * first violation, non-2xx or dropped connection, recording it in `failures`.
 */
export class Reader {
  constructor({ endpoint, storeId, authToken, timeout = 60_000, name = '' }) {
    Object.assign(this, { endpoint, storeId, authToken, timeout, name })
    this.handle = null
    this.offset = null
    this.last = 0  // last seqNum received
    this.ids = []  // args.id of every received event, in order
    this.failures = []
    this.requests = 0
    this.statuses = {}
    this.controller = new AbortController()
    this.stopped = false
    this.done = null
  }

  start() {
    this.done = this.#run()
    return this
  }

  stop() {
    this.stopped = true
    this.controller.abort()
    return this.done
  }

  async #run() {
    while (!this.stopped) {
      const url = pullUrl(this.endpoint, {
        storeId: this.storeId, handle: this.handle, offset: this.offset, live: true,
        ...(this.authToken ? { payload: { authToken: this.authToken } } : {}),
      })
      let r, text
      this.requests++
      this.since = Date.now()  // when the current request left
      try {
        r = await fetch(url, { signal: AbortSignal.any([this.controller.signal, AbortSignal.timeout(this.timeout)]) })
        text = await r.text()
      } catch (e) {
        if (this.stopped) return
        return this.#fail(`pull at ${this.offset}: no answer (${e.cause?.code ?? e.name}: ${e.cause?.message ?? e.message})`)
      }
      this.statuses[r.status] = (this.statuses[r.status] ?? 0) + 1
      if (r.status < 200 || r.status > 299) return this.#fail(`pull at ${this.offset}: status ${r.status} ${text.slice(0, 200)}`)
      const handle = r.headers.get('electric-handle'), offset = r.headers.get('electric-offset')
      if (!handle || !offset) return this.#fail(`pull at ${this.offset}: missing electric-handle/-offset`)
      let body = []
      if (r.status !== 204) {
        try { body = JSON.parse(text) } catch { return this.#fail(`pull at ${this.offset}: body is not JSON: ${text.slice(0, 100)}`) }
        if (!Array.isArray(body)) return this.#fail(`pull at ${this.offset}: body is not an array`)
      }
      for (const m of inserts(body)) {
        const seq = Number(m.value.seqNum)
        if (seq !== this.last + 1 || Number(m.value.parentSeqNum) !== this.last)
          return this.#fail(`pull at ${this.offset}: got seqNum ${seq} (parent ${m.value.parentSeqNum}) after ${this.last}`)
        this.last = seq
        this.ids.push(JSON.parse(m.value.args).id)
      }
      this.handle = handle
      this.offset = offset
    }
  }

  #fail(message) {
    this.failures.push(`${this.name || this.storeId}: ${message}`)
    this.stopped = true
  }
}

/** Every row of a store's log, in seqNum order, straight from Postgres. */
export async function logRows(url, storeId) {
  const table = await psql(url, `SELECT format('%I.%I', schema_name, table_name) FROM livestore.store_info(${lit(storeId)}) WHERE table_name IS NOT NULL`)
  if (!table) return []
  return JSON.parse(await psql(url, `SELECT coalesce(json_agg(t ORDER BY "seqNum"), '[]') FROM ${table} t`))
}

/** logRows for many stores in two psql calls: Map storeId -> rows. */
export async function logRowsMany(url, storeIds) {
  const out = new Map(storeIds.map((id) => [id, []]))
  const tables = await psql(url, `SELECT s, format('%I.%I', i.schema_name, i.table_name) FROM unnest(ARRAY[${storeIds.map(lit).join(',')}]::text[]) s,
    LATERAL livestore.store_info(s) i WHERE i.table_name IS NOT NULL`)
  const parts = tables.split('\n').filter(Boolean).map((line) => {
    const [id, table] = line.split('|')
    return `SELECT ${lit(id)} AS s, coalesce(json_agg(t ORDER BY "seqNum"), '[]') AS rows FROM ${table} t`
  })
  if (parts.length === 0) return out
  const json = await psql(url, `SELECT json_object_agg(s, rows) FROM (${parts.join(' UNION ALL ')}) x`)
  for (const [id, rows] of Object.entries(JSON.parse(json))) out.set(id, rows)
  return out
}

/** How many events of `attempt` sit in `rows` at exactly the seqNums it was sent with. */
export function presentAt(rows, attempt) {
  return attempt.events.filter(([seq, id]) => rows[seq - 1]?.seqNum === seq && rows[seq - 1]?.args?.id === id).length
}

/**
 * The exact audit of one store's log (rows from logRows) against its writers,
 * all of them finished: the chain is 1..N gap-free; every acknowledged event is
 * there exactly once, unchanged, at the seqNum of its acknowledged batch;
 * nothing else is there (no event of a batch that was never acknowledged, no
 * duplicate); no request's batch is partly present.
 * Returns { problems: [...], lost, duplicates, partial, foreign }.
 */
export function auditStore(rows, writers) {
  const problems = []
  rows.forEach((r, i) => {
    if (r.seqNum !== i + 1) problems.push(`row ${i}: seqNum ${r.seqNum}, expected ${i + 1}`)
    if (r.parentSeqNum !== r.seqNum - 1) problems.push(`seqNum ${r.seqNum}: parentSeqNum ${r.parentSeqNum}`)
  })
  const count = new Map()
  for (const r of rows) count.set(r.args?.id, (count.get(r.args?.id) ?? 0) + 1)
  const acked = new Map()  // id -> writer
  for (const w of writers) for (const id of w.acked) acked.set(id, w)
  let lost = 0, duplicates = 0, partial = 0, foreign = 0
  for (const [id, w] of acked) {
    const n = count.get(id) ?? 0
    if (n === 0) { lost++; problems.push(`acknowledged event ${id} (${w.clientId}) is missing`) }
  }
  for (const [id, n] of count) {
    if (n > 1) { duplicates++; problems.push(`event ${id} stored ${n} times`) }
    if (!acked.has(id)) { foreign++; problems.push(`event ${id} is stored but was never acknowledged`) }
  }
  for (const w of writers) {
    for (const a of w.attempts) {
      const p = presentAt(rows, a)
      if (p !== 0 && p !== a.events.length) {
        partial++
        problems.push(`batch ${a.events[0][0]}..${a.events.at(-1)[0]} of ${w.clientId} (${a.outcome}, ${a.status}) is partly stored: ${p}/${a.events.length}`)
      } else if (a.outcome === 'ack' && p !== a.events.length) {
        problems.push(`acknowledged batch ${a.events[0][0]}..${a.events.at(-1)[0]} of ${w.clientId} is not at its seqNums`)
      }
    }
    for (const r of rows.filter((x) => x.clientId === w.clientId)) {
      if (r.sessionId !== w.sessionId || r.name !== 'v1.ItemAdded' || r.args.text !== `${r.args.id} of ${w.storeId}`)
        problems.push(`seqNum ${r.seqNum}: stored event differs from what ${w.clientId} sent: ${JSON.stringify(r)}`)
    }
    if (w.current) problems.push(`${w.clientId} ended with a batch still unanswered`)
  }
  return { problems, lost, duplicates, partial, foreign }
}

/** Attempts of these writers whose outcome is still open, checked against the log now: each must be 0 or all present. */
export function partialUnknowns(rows, writers) {
  const out = { checked: 0, present: 0, absent: 0, partial: [] }
  for (const w of writers)
    for (const a of w.attempts) {
      if (a.outcome !== 'unknown' && a.outcome !== 'pending') continue
      out.checked++
      const p = presentAt(rows, a)
      if (p === 0) out.absent++
      else if (p === a.events.length) out.present++
      else out.partial.push(`${w.clientId} ${a.events[0][0]}..${a.events.at(-1)[0]}: ${p}/${a.events.length}`)
    }
  return out
}

/** Backends of the gateway (application_name, and its LISTEN connection, which sets none). */
export const GATEWAY_BACKENDS = `backend_type = 'client backend' AND pid <> pg_backend_pid()
  AND (application_name = 'livestore-gateway' OR query ILIKE 'LISTEN livestore_events%')`

/** Sum of livestore_gateway_requests_total by route (and status), from /metrics. */
export async function requestCounts(baseUrl) {
  const text = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(5000) }).then((r) => r.text())
  const out = { total: 0, byRoute: {}, byStatus: {} }
  for (const m of text.matchAll(/^livestore_gateway_requests_total\{route="([^"]+)",status="(\d+)"\} (\d+)$/gm)) {
    const n = Number(m[3])
    out.total += n
    out.byRoute[m[1]] = (out.byRoute[m[1]] ?? 0) + n
    out.byStatus[m[2]] = (out.byStatus[m[2]] ?? 0) + n
  }
  return out
}

/**
 * Writers and live readers on several stores. `stores`: [{ storeId, writers, readers }]
 * (counts). Returns the running load; finish() stops the writers, lets every
 * reader catch up with its store's final log, stops the readers and audits:
 * the log against the writers (auditStore) and each reader's received ids
 * against the log (every event delivered once, in order).
 */
export function startMixedLoad({ endpoint, stores, writer = {}, reader = {} }) {
  const load = { stores: [], writers: [], readers: [] }
  for (const s of stores) {
    const entry = { storeId: s.storeId, writers: [], readers: [] }
    for (let i = 0; i < (s.readers ?? 0); i++)
      entry.readers.push(new Reader({ endpoint, storeId: s.storeId, name: `${s.storeId}/r${i}`, ...reader }).start())
    for (let i = 0; i < (s.writers ?? 0); i++)
      entry.writers.push(new Writer({ endpoint, storeId: s.storeId, clientId: `${s.storeId}-w${i}`, ...writer }).start())
    load.stores.push(entry)
    load.writers.push(...entry.writers)
    load.readers.push(...entry.readers)
  }
  load.readerFailures = () => load.readers.flatMap((r) => r.failures)
  load.stopWriters = async () => {
    for (const w of load.writers) w.stop()
    await Promise.all(load.writers.map((w) => w.done))
  }
  load.finish = async (databaseUrl, { catchUpTimeout = 30_000 } = {}) => {
    await load.stopWriters()
    const all = await logRowsMany(databaseUrl, load.stores.map((s) => s.storeId))
    const problems = []
    const totals = { rows: 0, acked: 0, pushes: 0, unknown: 0, conflicts: 0, lost: 0, duplicates: 0, partial: 0, foreign: 0, pulls: 0, delivered: 0, undelivered: 0 }
    const deadline = Date.now() + catchUpTimeout
    for (const s of load.stores) {
      const rows = all.get(s.storeId)
      const a = auditStore(rows, s.writers)
      problems.push(...a.problems.map((p) => `${s.storeId}: ${p}`))
      for (const w of s.writers) {
        problems.push(...w.unexpected.map((u) => `${w.clientId}: ${u}`))
        totals.acked += w.acked.length
        totals.pushes += w.stats.requests
        totals.unknown += w.stats.unknown
        totals.conflicts += w.stats.conflicts
      }
      for (const k of ['lost', 'duplicates', 'partial', 'foreign']) totals[k] += a[k]
      // A lone writer is never behind: an unanswered batch re-sent is 200 whether it landed or not.
      if (s.writers.length === 1 && s.writers[0].stats.conflicts > 0)
        problems.push(`${s.storeId}: ${s.writers[0].stats.conflicts} 409s without a competing writer`)
      totals.rows += rows.length
      // Readers: each must reach the final head (a flagged offset may still be answered on the way).
      const t0 = Date.now()
      while (Date.now() < deadline && s.readers.some((r) => !r.stopped && r.last < rows.length)) await sleep(50)
      if (process.env.FAULTS_DEBUG && Date.now() - t0 > 1000) console.error(`catch-up of ${s.storeId} took ${Date.now() - t0} ms; head ${rows.length}`)
      const ids = rows.map((r) => r.args.id)
      for (const r of s.readers) {
        await r.stop()
        totals.pulls += r.requests
        totals.delivered += r.ids.length
        if (r.failures.length) continue  // reported below with every reader failure
        if (r.ids.length !== ids.length || r.ids.some((id, i) => id !== ids[i])) {
          totals.undelivered += Math.max(0, ids.length - r.ids.length)
          problems.push(`${r.name}: received ${r.ids.length} events, the log holds ${ids.length}${r.ids.length < ids.length ? '' : ' (or in another order)'}`)
        }
      }
    }
    problems.push(...load.readerFailures())
    return { problems, totals }
  }
  return load
}

/**
 * Stop Postgres, keep it down `downMs`, start it again on the same port and
 * data (cluster.sh, like the harness's cluster.restart(), but without
 * blocking this process: the load keeps running while Postgres is away).
 */
export async function restartPostgres(cluster, { downMs = 1000 } = {}) {
  const { execFile } = await import('node:child_process')
  const { CLUSTER_SH } = await import('../lib/harness.mjs')
  const sh = (fn) => new Promise((resolve, reject) =>
    execFile('bash', ['-c', `source "$0" && ${fn} "$1" "$2"`, CLUSTER_SH, cluster.dir, String(cluster.port)], (e, out, err) =>
      e ? reject(new Error(`${fn}: ${e.message}\n${out}${err}`)) : resolve()))
  await sh('cluster_stop')
  await sleep(downMs)
  await sh('cluster_start')
}

/** The gateway's backends now: [{ pid, app, query }]. */
export async function gatewayBackends(databaseUrl) {
  const out = await psql(databaseUrl, `SELECT pid, application_name, left(query, 100) FROM pg_stat_activity WHERE ${GATEWAY_BACKENDS}`)
  return out.split('\n').filter(Boolean).map((l) => {
    const [pid, app, query] = l.split('|')
    return { pid: Number(pid), app, query }
  })
}

/** Held polls (gauge) from /metrics. */
export async function heldPolls(baseUrl) {
  const text = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(5000) }).then((r) => r.text())
  return Number(/^livestore_gateway_held_polls (\d+)$/m.exec(text)?.[1] ?? NaN)
}
