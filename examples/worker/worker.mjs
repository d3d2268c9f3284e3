// todo-digest: a worker that processes every event of the TodoMVC lists exactly
// once with livestore.consume(), and keeps a per-list digest (todo_digest).
//
// Each batch is one transaction: BEGIN; consume (which moves the consumer's
// positions, uncommitted); the digest rows; COMMIT. The positions and the
// digest commit together or not at all, so a crash anywhere before COMMIT
// replays the batch and a committed batch is never handed out again.
//
// It does not poll: a second connection waits in livestore.wait_changes()
// (every committed write to a store is published there, extension 0.3.0+)
// and wakes the loop when a store it follows advanced; a slow safety timer
// also looks now and then. It reconnects after a lost connection, and on
// SIGTERM/SIGINT it finishes the batch in hand and exits 0.
//
// Environment:
//   DATABASE_URL           required; e.g. postgresql://todo_digest_worker@127.0.0.1:5432/app
//   WORKER_CONSUMER        consumer name (todo-digest): its positions are shared by all its workers
//   WORKER_STORES          LIKE pattern on store ids (%: every list)
//   WORKER_BATCH           events per batch, 1..10000 (500)
//   WORKER_SAFETY_POLL_MS  look for work this often even without a notification (30000)
//   WORKER_LEDGER=1        also record each processed (store_id, seqNum) in todo_digest_ledger
//   WORKER_DELAY_MS        for tests: sleep this long inside each batch's transaction (0),
//                          as a slow side effect would
//   WORKER_NAME            the connection's application_name and the ledger's worker (todo-digest/<pid>)
import pg from 'pg'

const env = process.env
const int = (v, dflt) => (v === undefined || v === '' ? dflt : Number.parseInt(v, 10))
const cfg = {
  databaseUrl: env.DATABASE_URL,
  consumer: env.WORKER_CONSUMER || 'todo-digest',
  stores: env.WORKER_STORES || '%',
  batch: int(env.WORKER_BATCH, 500),
  safetyPollMs: int(env.WORKER_SAFETY_POLL_MS, 30_000),
  ledger: env.WORKER_LEDGER === '1',
  delayMs: int(env.WORKER_DELAY_MS, 0),
  name: env.WORKER_NAME || `todo-digest/${process.pid}`,
}

const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`
const log = (msg) => console.log(`${new Date().toISOString()} [${cfg.name}] ${msg}`)

if (!cfg.databaseUrl) {
  console.error('DATABASE_URL is required')
  process.exit(2)
}
if (!(cfg.batch >= 1 && cfg.batch <= 10_000) || !(cfg.safetyPollMs > 0) || !(cfg.delayMs >= 0)) {
  console.error('WORKER_BATCH must be 1..10000, WORKER_SAFETY_POLL_MS > 0, WORKER_DELAY_MS >= 0')
  process.exit(2)
}

// A LIKE pattern as a regular expression, to ignore changes of other stores.
const storeMatches = new RegExp(
  '^' +
    cfg.stores.replace(/\\(.)|([%_])|([.*+?^${}()|[\]\\])/gs, (_, escaped, wild, special) =>
      escaped !== undefined ? escaped.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : wild === '%' ? '.*' : wild === '_' ? '.' : '\\' + special,
    ) +
    '$',
  's',
)

// --- waking up -------------------------------------------------------------
// `dirty`: there may be work. Set by a wake-up, the safety timer, a batch
// that found events (there may be more), and every (re)connect.
let dirty = true
let stopping = false
let wakeUp = () => {}
function poke() {
  dirty = true
  wakeUp()
}
/** Resolves on poke() or stop, or after `ms` (when given). */
function pause(ms) {
  return new Promise((resolve) => {
    const timer = ms === undefined ? null : setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      wakeUp = () => {}
      resolve()
    }
    wakeUp = done
  })
}
const safetyTimer = setInterval(poke, cfg.safetyPollMs)

// --- the connection --------------------------------------------------------
async function connect() {
  const client = new pg.Client({
    connectionString: cfg.databaseUrl,
    application_name: cfg.name,
    keepAlive: true,
    connectionTimeoutMillis: 10_000,
  })
  // Without an 'error' listener a lost idle connection would crash the process.
  const lost = (why) => {
    if (client.broken) return
    client.broken = true
    if (!stopping) log(`connection lost: ${why}`)
    poke() // the loop notices `broken` and reconnects
  }
  client.on('error', (e) => lost(e.message))
  client.on('end', () => lost('closed'))
  try {
    await client.connect()
  } catch (e) {
    client.broken = true
    client.end().catch(() => {})
    throw e
  }
  return client
}

// --- wake-ups ----------------------------------------------------------------
// A connection of its own waits in livestore.wait_changes(), a second at a
// time (the wait holds its statement's snapshot), and pokes the loop when a
// followed store advanced, or when changes were missed (more than the ring
// keeps, a server restart) and after every reconnect: then it just looks.
async function follow() {
  while (!stopping) {
    const waker = new pg.Client({
      connectionString: cfg.databaseUrl,
      application_name: `${cfg.name}/wake`,
      keepAlive: true,
      connectionTimeoutMillis: 10_000,
    })
    waker.on('error', () => {}) // the pending query fails too: handled below
    try {
      await waker.connect()
      let since = (await waker.query('SELECT position FROM livestore.wait_changes(NULL)')).rows[0].position
      poke()
      while (!stopping) {
        const { rows } = await waker.query(
          'SELECT position, store_id, missed FROM livestore.wait_changes($1, 1000)',
          [since],
        )
        const last = rows[rows.length - 1] // position only: where to go on from
        since = last.position
        if (last.missed || rows.some((r) => r.store_id !== null && storeMatches.test(r.store_id))) poke()
      }
    } catch (e) {
      if (!stopping) {
        log(`wake-up connection: ${e.message}; again in 1 s`)
        await new Promise((r) => setTimeout(r, 1000))
      }
    } finally {
      await waker.end().catch(() => {})
    }
  }
}

// --- one batch, one transaction --------------------------------------------
const UPSERT_DIGEST = `
  INSERT INTO public.todo_digest AS d (store_id, created, last_text, last_seq)
  SELECT * FROM unnest($1::text[], $2::integer[], $3::text[], $4::integer[])
  ON CONFLICT (store_id) DO UPDATE
     SET created    = d.created + excluded.created,
         last_text  = coalesce(excluded.last_text, d.last_text),
         last_seq   = excluded.last_seq,
         updated_at = now()`
const INSERT_LEDGER = `
  INSERT INTO public.todo_digest_ledger (store_id, seq_num, name, worker)
  SELECT s, n, e, $4 FROM unnest($1::text[], $2::integer[], $3::text[]) AS x(s, n, e)`

let batches = 0
/** Returns the number of events processed (committed). */
async function processBatch(client) {
  const t0 = performance.now()
  await client.query('BEGIN')
  try {
    const { rows } = await client.query(
      'SELECT store_id, "seqNum", name, args FROM livestore.consume($1, $2, $3)',
      [cfg.consumer, cfg.stores, cfg.batch],
    )
    if (rows.length === 0) {
      // COMMIT, not ROLLBACK: consume() may have created positions for new stores.
      await client.query('COMMIT')
      return 0
    }
    // Rows come store by store, each store's in seqNum order.
    const digest = new Map()
    let created = 0
    for (const e of rows) {
      let d = digest.get(e.store_id)
      if (!d) digest.set(e.store_id, (d = { created: 0, lastText: null, lastSeq: 0 }))
      if (e.name === 'v1.TodoCreated') {
        d.created++
        created++
        d.lastText = String(e.args?.text ?? '')
      }
      d.lastSeq = e.seqNum
    }
    // Slow work would happen here. An error thrown anywhere in this block rolls
    // back the positions too: the batch is handed out again.
    if (cfg.delayMs) await new Promise((r) => setTimeout(r, cfg.delayMs))
    const stores = [...digest.keys()]
    const ds = [...digest.values()]
    await client.query(UPSERT_DIGEST, [stores, ds.map((d) => d.created), ds.map((d) => d.lastText), ds.map((d) => d.lastSeq)])
    if (cfg.ledger) {
      await client.query(INSERT_LEDGER, [rows.map((e) => e.store_id), rows.map((e) => e.seqNum), rows.map((e) => e.name), cfg.name])
    }
    await client.query('COMMIT')
    batches++
    const shown = stores.slice(0, 3).map((s) => `${s}@${digest.get(s).lastSeq}`).join(' ')
    log(
      `batch ${batches}: ${plural(rows.length, 'event')}, ${created} v1.TodoCreated, ${plural(stores.length, 'store')} ` +
        `(${shown}${stores.length > 3 ? ' …' : ''}) in ${(performance.now() - t0).toFixed(0)} ms`,
    )
    return rows.length
  } catch (e) {
    // Nothing of the batch is kept; on a lost connection Postgres rolls back by itself.
    await client.query('ROLLBACK').catch(() => {})
    throw e
  }
}

// --- the loop --------------------------------------------------------------
async function run() {
  log(`starting: consumer "${cfg.consumer}", stores like '${cfg.stores}', batches of ${cfg.batch}`)
  let client = null
  let backoff = 250
  while (!stopping) {
    try {
      if (!client || client.broken) {
        client?.end().catch(() => {})
        client = null
        client = await connect()
        log('connected')
        backoff = 250
        dirty = true // whatever was appended while away
      }
      if (!dirty) await pause()
      if (stopping) break
      if (client.broken) continue
      dirty = false
      const n = await processBatch(client)
      if (n > 0) dirty = true // there may be more: ask again at once
    } catch (e) {
      if (stopping) break
      log(`error: ${e.message}; retrying in ${backoff} ms`)
      if (client) client.broken = true
      await pause(backoff)
      backoff = Math.min(backoff * 2, 10_000)
    }
  }
  clearInterval(safetyTimer)
  if (client) {
    client.broken = true
    await client.end().catch(() => {})
  }
  log(`stopped after ${batches} batches`)
}

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    if (stopping) {
      log(`${sig} again: exiting now (an open transaction rolls back)`)
      process.exit(1)
    }
    stopping = true
    log(`${sig}: stopping after the current batch`)
    wakeUp()
    // A batch stuck on a dead connection must not keep the process: leaving is
    // safe at any point, since an uncommitted batch is handed out again.
    setTimeout(() => {
      log('still busy after 10 s: exiting (an open transaction rolls back)')
      process.exit(1)
    }, 10_000).unref()
  })
}

const following = follow()
await run()
await following
