// The reference LiveStore "API proxy" of the Electric sync backend, written
// from /work/shared/docs/livestore-sync-protocol.md (sections 4, 5, 7, 10, 11)
// as the benchmark peer of livestore-gateway. It does what the reference
// example server (examples/web-todomvc-sync-electric, routes/api/electric.ts
// + server/db.ts at livestore v0.4.0) does, on plain node:http:
//
//   GET  ?args=  decode args, check payload.authToken (401), CREATE TABLE IF
//                NOT EXISTS when the handle is None (needsInit), then return
//                fetch(makeElectricUrl(...)) unchanged (status, headers, body);
//   POST         decode the push payload (a bad shape: 500, as the framework
//                answers a thrown decode error), ONE multi-row INSERT of the
//                batch into the v6 table with the `postgres` package
//                (`INSERT INTO ${sql(table)} ${sql(events)}`), {"success":true};
//                no parentSeqNum check: the "seqNum" primary key is the only guard;
//   HEAD         200 (the example leaves HEAD to the framework; the test
//                provider copies Electric's status: here always 200).
//
// One deliberate difference, in the reference's favour: the example builds a
// new `postgres()` client (a new connection) per request and ends it after;
// this one keeps one pool for the process (REFERENCE_POOL connections,
// default 16, the gateway's default worker/connection count), which is how a
// production deployment would run it. REFERENCE_CONNECT_PER_REQUEST=1
// restores the example's connection-per-request behaviour.
//
// Environment: DATABASE_URL (required), ELECTRIC_URL (origin of the shape
// API; /v1/shape is appended), ELECTRIC_SECRET (sent as api_secret),
// AUTH_TOKEN (default insecure-token-change-me), LISTEN (127.0.0.1:8788),
// ENDPOINT (/api/electric), REFERENCE_POOL (16).
import http from 'node:http'
import postgres from 'postgres'

const DATABASE_URL = process.env.DATABASE_URL
if (!DATABASE_URL) {
  console.error('reference: DATABASE_URL is required')
  process.exit(2)
}
const ELECTRIC_URL = (process.env.ELECTRIC_URL || 'http://127.0.0.1:3000').replace(/\/+$/, '')
const ELECTRIC_SECRET = process.env.ELECTRIC_SECRET || ''
const AUTH_TOKEN = process.env.AUTH_TOKEN ?? 'insecure-token-change-me'
const [HOST, PORT] = (process.env.LISTEN || '127.0.0.1:8788').split(':')
const ENDPOINT = process.env.ENDPOINT || '/api/electric'
const POOL = Number(process.env.REFERENCE_POOL || 16)
const PER_REQUEST = process.env.REFERENCE_CONNECT_PER_REQUEST === '1'

const PULL_TAG = '@livestore/sync-electric.Pull'
const PUSH_TAG = '@livestore/sync-electric.Push'
const PERSISTENCE_FORMAT_VERSION = 6

// ---- toTableName (protocol doc 5.2) --------------------------------------

/** Effect's Hash.string: over UTF-16 code units, last to first, then optimize(). */
function hashString(str) {
  let h = 5381
  let i = str.length
  while (i) h = (Math.imul(h, 33) ^ str.charCodeAt(--i)) >>> 0
  return ((h & 0xbfffffff) | ((h >>> 1) & 0x40000000)) | 0
}

export function toTableName(storeId) {
  const escaped = storeId.replace(/[^a-zA-Z0-9_]/g, '_')
  const name = `eventlog_${PERSISTENCE_FORMAT_VERSION}_${escaped}`
  if (name.length > 63) return `eventlog_${PERSISTENCE_FORMAT_VERSION}_hash_${hashString(storeId)}`
  return name
}

// ---- makeElectricUrl (protocol doc 5.1, 5.3) -----------------------------

class DecodeError extends Error {}

/** Decodes the pull args the way the reference proxy does (URLSearchParams, then decodeURIComponent). */
function decodeArgs(searchParams) {
  const raw = searchParams.get('args')
  if (raw == null) throw new DecodeError('missing args')
  // ArgsSchema = compose(StringFromUriComponent, parseJson(PullPayload)): a second decode, as the reference does.
  const args = JSON.parse(decodeURIComponent(raw))
  if (args === null || typeof args !== 'object' || args._tag !== PULL_TAG) throw new DecodeError('bad _tag')
  if (typeof args.storeId !== 'string') throw new DecodeError('bad storeId')
  if (typeof args.live !== 'boolean') throw new DecodeError('bad live')
  const h = args.handle
  if (!h || (h._tag !== 'None' && h._tag !== 'Some')) throw new DecodeError('bad handle')
  if (h._tag === 'Some' && (!h.value || typeof h.value.offset !== 'string' || typeof h.value.handle !== 'string'))
    throw new DecodeError('bad handle value')
  return args
}

export function makeElectricUrl({ electricHost, searchParams, sourceId, sourceSecret, apiSecret }) {
  const args = decodeArgs(searchParams)
  const tableName = toTableName(args.storeId)
  const needsInit = args.handle._tag === 'None'
  const url = new URL('/v1/shape', electricHost)
  url.searchParams.set('table', `"${tableName}"`)
  if (sourceId) url.searchParams.set('source_id', sourceId)
  if (sourceSecret) url.searchParams.set('source_secret', sourceSecret)
  if (apiSecret) url.searchParams.set('api_secret', apiSecret)
  if (needsInit) {
    url.searchParams.set('offset', '-1')
  } else {
    url.searchParams.set('offset', args.handle.value.offset)
    url.searchParams.set('handle', args.handle.value.handle)
    url.searchParams.set('live', args.live ? 'true' : 'false')
  }
  return { url: url.toString(), storeId: args.storeId, needsInit, payload: args.payload }
}

// ---- the database (server/db.ts) ------------------------------------------

const shared = PER_REQUEST ? null : postgres(DATABASE_URL, { max: POOL, onnotice: () => {} })

function makeDb(storeId) {
  const tableName = toTableName(storeId)
  const sql = shared ?? postgres(DATABASE_URL, { max: 1, onnotice: () => {} })
  const migrate = () => sql`
    CREATE TABLE IF NOT EXISTS ${sql(tableName)} (
      "seqNum" INTEGER PRIMARY KEY,
      "parentSeqNum" INTEGER,
      "name" TEXT NOT NULL,
      "args" JSONB NOT NULL,
      "clientId" TEXT NOT NULL,
      "sessionId" TEXT NOT NULL
    )`
  const createEvents = async (events) => {
    await sql`INSERT INTO ${sql(tableName)} ${sql(events)}`
  }
  return { migrate, createEvents, disconnect: () => (shared ? Promise.resolve() : sql.end()) }
}

// ---- the push payload (ApiSchema.PushPayload) ------------------------------

const isInt = (x) => typeof x === 'number' && Number.isInteger(x)

/** Schema.decodeUnknownSync(PushPayload): shape and types, excess keys dropped. */
function decodePushPayload(payload) {
  if (payload === null || typeof payload !== 'object') throw new DecodeError('payload is not an object')
  if (payload._tag !== PUSH_TAG) throw new DecodeError('bad _tag')
  if (typeof payload.storeId !== 'string') throw new DecodeError('bad storeId')
  if (!Array.isArray(payload.batch)) throw new DecodeError('batch is not an array')
  const batch = payload.batch.map((e, i) => {
    if (e === null || typeof e !== 'object') throw new DecodeError(`batch[${i}] is not an object`)
    if (typeof e.name !== 'string') throw new DecodeError(`batch[${i}].name`)
    if (!isInt(e.seqNum)) throw new DecodeError(`batch[${i}].seqNum`)
    if (!isInt(e.parentSeqNum)) throw new DecodeError(`batch[${i}].parentSeqNum`)
    if (typeof e.clientId !== 'string') throw new DecodeError(`batch[${i}].clientId`)
    if (typeof e.sessionId !== 'string') throw new DecodeError(`batch[${i}].sessionId`)
    return { name: e.name, args: e.args, seqNum: e.seqNum, parentSeqNum: e.parentSeqNum, clientId: e.clientId, sessionId: e.sessionId }
  })
  return { _tag: payload._tag, storeId: payload.storeId, batch }
}

// ---- HTTP -----------------------------------------------------------------

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'content-encoding', 'te', 'trailer', 'upgrade'])

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-length': Buffer.byteLength(body), ...headers })
  res.end(body)
}

async function readBody(req) {
  const chunks = []
  for await (const c of req) chunks.push(c)
  return Buffer.concat(chunks).toString('utf8')
}

async function handleGet(req, res, url) {
  const { url: upstream, storeId, needsInit, payload } = makeElectricUrl({
    electricHost: ELECTRIC_URL,
    searchParams: url.searchParams,
    apiSecret: ELECTRIC_SECRET || undefined,
  })
  if (payload?.authToken !== AUTH_TOKEN) return send(res, 401, JSON.stringify({ error: 'Invalid auth token' }))
  if (needsInit) {
    const db = makeDb(storeId)
    await db.migrate()
    await db.disconnect()
  }
  // return fetch(url): the upstream response, unchanged.
  const r = await fetch(upstream)
  const headers = {}
  for (const [k, v] of r.headers) if (!HOP_BY_HOP.has(k)) headers[k] = v
  res.writeHead(r.status, headers)
  if (r.body) for await (const chunk of r.body) res.write(chunk)
  res.end()
}

async function handlePost(req, res) {
  const payload = JSON.parse(await readBody(req))
  const parsed = decodePushPayload(payload)
  const db = makeDb(parsed.storeId)
  try {
    await db.createEvents(parsed.batch)
  } finally {
    await db.disconnect()
  }
  send(res, 200, JSON.stringify({ success: true }))
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://localhost')
    if (url.pathname !== ENDPOINT) return send(res, 404, JSON.stringify({ error: 'not found' }))
    if (req.method === 'HEAD') {
      res.writeHead(200)
      return res.end()
    }
    if (req.method === 'GET') return await handleGet(req, res, url)
    if (req.method === 'POST') return await handlePost(req, res)
    return send(res, 405, JSON.stringify({ error: 'method not allowed' }))
  } catch (e) {
    // The framework's answer to a thrown handler: 500.
    if (!res.headersSent) send(res, 500, JSON.stringify({ error: String(e?.message ?? e) }))
    else res.destroy()
  }
})
server.keepAliveTimeout = 120_000
server.headersTimeout = 125_000
server.requestTimeout = 0
server.listen(Number(PORT), HOST, () => console.log(`reference proxy on http://${HOST}:${PORT}${ENDPOINT} -> ${ELECTRIC_URL}/v1/shape (pool ${PER_REQUEST ? 'per request' : POOL})`))

// A benchmark peer: stop at once (in-flight requests are the caller's business).
const stop = () => {
  server.closeAllConnections?.()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
