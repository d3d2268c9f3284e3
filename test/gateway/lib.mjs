// Small HTTP helpers for the gateway integration tests: the exact requests
// the stock client sends (livestore-sync-protocol.md sections 3, 4 and 7).
export const PULL_TAG = '@livestore/sync-electric.Pull'
export const PUSH_TAG = '@livestore/sync-electric.Push'

/** The pull URL: endpoint?args=<encodeURIComponent(JSON)>. */
export function pullUrl(endpoint, { storeId, handle = null, offset = null, live = true, payload } = {}) {
  const args = { _tag: PULL_TAG, storeId }
  if (payload !== undefined) args.payload = payload
  args.handle = handle == null ? { _tag: 'None' } : { _tag: 'Some', value: { offset, handle } }
  args.live = live
  return `${endpoint}?args=${encodeURIComponent(JSON.stringify(args))}`
}

/** GET a pull; returns { status, headers, body (parsed when JSON), ms }. */
export async function pull(endpoint, opts, { timeout = 30_000 } = {}) {
  const t0 = performance.now()
  const r = await fetch(pullUrl(endpoint, opts), { signal: AbortSignal.timeout(timeout) })
  const text = await r.text()
  let body = text
  try { body = JSON.parse(text) } catch {}
  return { status: r.status, headers: r.headers, body, ms: performance.now() - t0 }
}

/** Chained events seqNum from..to (parent = seqNum - 1). */
export function events(from, to, { clientId = 'client-a', name = 'v1.ItemAdded' } = {}) {
  const out = []
  for (let s = from; s <= to; s++)
    out.push({ name, args: { id: `${clientId}-${s}`, text: `event ${s}` }, seqNum: s, parentSeqNum: s - 1, clientId, sessionId: `${clientId}-1` })
  return out
}

/** POST a push; body may be an object (the payload) or a raw string. */
export async function push(endpoint, body, { contentType = 'application/json' } = {}) {
  const r = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  })
  const text = await r.text()
  let json = null
  try { json = JSON.parse(text) } catch {}
  return { status: r.status, headers: r.headers, json, text }
}

export const pushBatch = (endpoint, storeId, batch) => push(endpoint, { _tag: PUSH_TAG, storeId, batch })

/** The insert items of a pull body (control items dropped). */
export const inserts = (body) => body.filter((m) => m.headers && m.headers.operation === 'insert')
