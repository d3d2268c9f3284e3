// The todo-digest worker processes every event exactly once while it is
// killed (SIGKILL, inside a batch's transaction), restarted, run as two
// processes at once, and cut off from Postgres (a terminated backend, then a
// restart of Postgres), with events appended all along.
//
// Exactly once is made visible by the worker's ledger (WORKER_LEDGER=1): one
// row per processed (store_id, seqNum) under a primary key, written in the
// batch's transaction, so processing an event twice fails loudly instead of
// counting it twice. At the end every matching store's ledger is exactly
// 1..head, and the digest's counts are those of the events appended.
//
// Run: node --test examples/worker/test/ (after `npm ci` in examples/worker;
// the extension must be installed in the system Postgres).
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'

import pg from 'pg'

import { makeWorkDir, psql, startCluster, waitFor } from '../../../test/lib/harness.mjs'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const WORKER = path.join(HERE, '..', 'worker.mjs')
const SETUP_SQL = path.join(HERE, '..', 'setup.sql')
const LISTS = ['list-a', 'list-b', 'list-c', 'list-d', 'list-e', 'list-f']
const OTHER = 'other-1' // not LIKE 'list-%': the worker must never touch it
const BACKLOG = 1500 // appended before the first worker starts
const MAX_EVENTS = 12_000 // a cap on the events appended while workers run (about 800/s until stopped)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

let dir, cluster, db
const workers = new Set()

before(async () => {
  dir = makeWorkDir('worker')
  cluster = await startCluster({ dir: path.join(dir, 'pg') })
  await psql(cluster.url, readFileSync(SETUP_SQL, 'utf8'))
  db = new pg.Client({ connectionString: cluster.url })
  await db.connect()
})

after(async () => {
  for (const w of workers) w.proc.kill('SIGKILL')
  await Promise.all([...workers].map((w) => w.exited))
  await db?.end().catch(() => {})
  await cluster?.stop()
})

const one = async (sql, params) => (await db.query(sql, params)).rows[0]

// --- appending -------------------------------------------------------------
// What was appended, per store: the text of every v1.TodoCreated by seqNum, and the head.
const appended = new Map([...LISTS, OTHER].map((s) => [s, { created: new Map(), head: 0, total: 0 }]))
let appendedCount = 0
let eventNo = 0

async function emitBatch(client, store = Math.random() < 0.05 ? OTHER : LISTS[Math.floor(Math.random() * LISTS.length)]) {
  const n = 1 + Math.floor(Math.random() * 20)
  const events = []
  for (let i = 0; i < n; i++) {
    const no = ++eventNo
    events.push(
      Math.random() < 0.1
        ? { name: 'v1.TodoCompleted', args: { id: `t${no - 1}` } }
        : // Quotes, backslashes, braces and commas: the worker passes texts as array parameters.
          { name: 'v1.TodoCreated', args: { id: `t${no}`, text: `todo ${no} "q" \\ {a,b} é`, createdBy: 'test', createdAt: no } },
    )
  }
  const { head } = (await client.query('SELECT livestore.emit($1, $2::jsonb) AS head', [store, JSON.stringify(events)])).rows[0]
  const s = appended.get(store)
  events.forEach((e, i) => {
    if (e.name === 'v1.TodoCreated') s.created.set(head - n + 1 + i, e.args.text)
  })
  s.head = Math.max(s.head, head)
  s.total += n
  appendedCount += n
}

/** Two connections appending concurrently until stop() or MAX_EVENTS. */
function startAppending() {
  let stopping = false
  const loop = async () => {
    const client = new pg.Client({ connectionString: cluster.url })
    await client.connect()
    try {
      while (!stopping && appendedCount < BACKLOG + MAX_EVENTS) {
        await emitBatch(client)
        await sleep(25)
      }
    } finally {
      await client.end()
    }
  }
  const done = Promise.all([loop(), loop()])
  return { done, stop: () => ((stopping = true), done) }
}

// --- workers ---------------------------------------------------------------
let workerNo = 0
function startWorker(extraEnv = {}) {
  const name = `w${++workerNo}`
  const logFile = path.join(dir, `${name}.log`)
  const fd = openSync(logFile, 'a')
  const proc = spawn(process.execPath, [WORKER], {
    stdio: ['ignore', fd, fd],
    env: {
      ...process.env,
      // The role of setup.sql: its grants must be enough.
      DATABASE_URL: cluster.url.replace('postgres@', 'todo_digest_worker@'),
      WORKER_NAME: name,
      WORKER_STORES: 'list-%',
      WORKER_BATCH: '200',
      WORKER_LEDGER: '1',
      // A slow side effect: the worker spends most of its time inside a batch's transaction.
      WORKER_DELAY_MS: '40',
      // Never in this test: work must be found through the wake-ups.
      WORKER_SAFETY_POLL_MS: '600000',
      ...extraEnv,
    },
  })
  closeSync(fd)
  const w = { name, proc, logFile }
  w.exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })))
  w.exited.then(() => workers.delete(w))
  workers.add(w)
  w.log = () => readFileSync(logFile, 'utf8')
  w.batches = () => (w.log().match(/\] batch \d+:/g) ?? []).length
  return w
}

/**
 * SIGKILL `w` while its transaction holds a consumed, uncommitted batch: its
 * backend is idle in a transaction that has written (moved positions), i.e.
 * between consume() and COMMIT.
 */
async function killInsideBatch(w) {
  await waitFor(
    async () =>
      (await one(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE application_name = $1 AND state = 'idle in transaction' AND backend_xid IS NOT NULL`,
        [w.name],
      )).n > 0,
    { timeout: 20_000, interval: 2, what: `${w.name} inside a batch` },
  )
  w.proc.kill('SIGKILL')
  assert.deepEqual(await w.exited, { code: null, signal: 'SIGKILL' })
}

const waitBatches = (w, n) => waitFor(() => w.batches() >= n, { timeout: 20_000, what: `${w.name}: ${n} batches\n${w.log()}` })

test('every event is processed exactly once across SIGKILLs, restarts, two workers, a lost connection and a Postgres restart', { timeout: 180_000 }, async (t) => {
  const t0 = performance.now()
  // A backlog first.
  while (appendedCount < BACKLOG) await emitBatch(db)
  const appending = startAppending()
  let kills = 0
  const step = (what) => t.diagnostic(`${((performance.now() - t0) / 1000).toFixed(1)} s: ${what} (${appendedCount} events appended)`)
  try {
    const w1 = startWorker()
    await waitBatches(w1, 2)
    await killInsideBatch(w1)
    kills++
    step('w1 killed inside a batch')

    const w2 = startWorker()
    await waitBatches(w2, 2)
    await killInsideBatch(w2)
    kills++
    step('w2 killed inside a batch')

    // Two workers of the consumer at once: each gets its own stores.
    const w3 = startWorker()
    const w4 = startWorker()
    await Promise.all([waitBatches(w3, 3), waitBatches(w4, 3)])
    await killInsideBatch(w3)
    kills++
    step('w3 killed inside a batch (w4 running alongside)')

    const w5 = startWorker()
    await waitBatches(w5, 2)
    // A lost connection: w4 reconnects and goes on.
    const before4 = w4.batches()
    await one(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'w4'`)
    await waitFor(() => (w4.log().match(/\] connected$/gm) ?? []).length >= 2,
      { timeout: 20_000, what: `w4 reconnected\n${w4.log()}` })
    await waitBatches(w4, before4 + 2)
    step('w4 reconnected after pg_terminate_backend')
    await killInsideBatch(w5)
    kills++
    step('w5 killed inside a batch (w4 running alongside)')
    const w6 = startWorker()
    await waitBatches(w6, 1)

    await appending.stop()
    step('appending stopped')
    t.diagnostic(`${appendedCount} events appended (${BACKLOG} before the first worker), ${kills} SIGKILLs inside a batch`)

    // Both remaining workers catch up.
    const caughtUp = async () => {
      const r = await one(`SELECT count(*)::int AS stores, coalesce(sum(behind), 0)::int AS behind
                             FROM livestore.list_consumers() WHERE consumer = 'todo-digest'`)
      return r.stores === LISTS.length && r.behind === 0
    }
    await waitFor(caughtUp, { timeout: 60_000, what: `the workers catching up\n${w4.log()}\n${w6.log()}` })
    const tCaughtUp = performance.now()

    // Postgres restarts under the idle workers: they retry until it is back, then listen again.
    const connects = (w) => (w.log().match(/\] connected$/gm) ?? []).length
    const connected = [w4, w6].map(connects)
    await db.end()
    await cluster.restart()
    db = new pg.Client({ connectionString: cluster.url })
    await db.connect()
    await waitFor(() => connects(w4) > connected[0] && connects(w6) > connected[1],
      { timeout: 30_000, what: `both workers reconnected after a Postgres restart\n${w4.log()}\n${w6.log()}` })
    step('both workers reconnected after a Postgres restart')

    // Idle workers are woken through wait_changes() (their safety poll is 10 minutes away).
    const tEmit = performance.now()
    await emitBatch(db, 'list-a')
    await waitFor(async () => {
      const r = await one(`SELECT count(*)::int AS n FROM public.todo_digest_ledger`)
      return r.n === appendedCount - appended.get(OTHER).total
    }, { timeout: 5_000, interval: 10, what: 'an idle worker woken through wait_changes()' })
    t.diagnostic(`idle worker: append to processed in ${(performance.now() - tEmit).toFixed(0)} ms`)

    // SIGTERM: the batch in hand finishes, exit 0.
    for (const w of [w4, w6]) w.proc.kill('SIGTERM')
    for (const w of [w4, w6]) {
      assert.deepEqual(await w.exited, { code: 0, signal: null }, w.log())
      assert.match(w.log(), /SIGTERM: stopping after the current batch\n.*stopped after \d+ batches\n$/)
    }
    t.diagnostic(`caught up ${((tCaughtUp - t0) / 1000).toFixed(1)} s after the start; batches per worker: ${
      [w1, w2, w3, w4, w5, w6].map((w) => `${w.name}=${w.batches()}`).join(' ')}`)

    // --- exactly once ------------------------------------------------------
    const logs = [w1, w2, w3, w4, w5, w6].map((w) => w.log()).join('\n')
    assert.doesNotMatch(logs, /duplicate key/, 'no event was processed twice')
    for (const store of LISTS) {
      const exp = appended.get(store)
      const head = (await one('SELECT livestore.head($1) AS head', [store])).head
      assert.equal(head, exp.head, `${store}: head`)
      const ledger = await one(
        `SELECT count(*)::int AS n, min(seq_num) AS lo, max(seq_num) AS hi,
                count(*) FILTER (WHERE name = 'v1.TodoCreated')::int AS created
           FROM public.todo_digest_ledger WHERE store_id = $1`, [store])
      // The primary key forbids repeats: n rows from 1 to head are each event once.
      assert.deepEqual(ledger, { n: head, lo: 1, hi: head, created: exp.created.size }, `${store}: ledger`)
      const digest = await one('SELECT created, last_text, last_seq FROM public.todo_digest WHERE store_id = $1', [store])
      const lastText = exp.created.get(Math.max(...exp.created.keys()))
      assert.deepEqual(digest, { created: exp.created.size, last_text: lastText, last_seq: head }, `${store}: digest`)
    }
    // The store that does not match the pattern was never touched.
    assert.equal((await one(`SELECT count(*)::int AS n FROM public.todo_digest WHERE store_id NOT LIKE 'list-%'`)).n, 0)
    assert.equal((await one(`SELECT count(*)::int AS n FROM public.todo_digest_ledger WHERE store_id NOT LIKE 'list-%'`)).n, 0)
    assert.equal((await one(`SELECT count(*)::int AS n FROM livestore.list_consumers() WHERE store_id = $1`, [OTHER])).n, 0)
    assert.ok(appended.get(OTHER).total > 0, 'the other store got events')
    // Each worker that ran alongside another did part of the work.
    assert.ok(w3.batches() > 0 && w4.batches() > 0)
    const byWorker = await db.query(`SELECT worker, count(*)::int AS n FROM public.todo_digest_ledger GROUP BY 1 ORDER BY 1`)
    t.diagnostic(`events per worker: ${byWorker.rows.map((r) => `${r.worker}=${r.n}`).join(' ')}`)
  } finally {
    await appending.stop()
  }
})
