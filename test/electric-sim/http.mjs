// Electric's response headers (electric-shape-api.md §4-§6, §9.2): the
// cursor, cache-control by case, ETags, CORS and the error bodies.
const CURSOR_EPOCH = Date.parse('2024-10-09T00:00:00Z')

/** §9.2: the next cursor for a live response, strictly above the request's. */
export function nextCursor(longPollMs, requestCursor) {
  const t = Math.floor(longPollMs / 1000)
  if (t === 0) return '0'
  const d = Math.floor((Date.now() - CURSOR_EPOCH) / 1000)
  const next = Math.ceil(d / t) * t
  const prev = Number.parseInt(requestCursor ?? '', 10)
  if (!Number.isFinite(prev) || next > prev) return String(next)
  return String(prev + 1 + Math.floor(Math.random() * 3600))
}

/** §5.1, for a response below 400. */
export function cacheControl({ initial, live }) {
  if (initial) return 'public, max-age=604800, s-maxage=3600, stale-while-revalidate=2629746'
  if (live) return 'public, max-age=5, stale-while-revalidate=5'
  return 'public, max-age=60, stale-while-revalidate=300'
}

const EXPOSED = 'electric-cursor,electric-handle,electric-has-data,electric-offset,electric-schema,electric-up-to-date,electric-internal-known-error,retry-after'

export function baseHeaders(req) {
  return {
    'electric-server': 'ElectricSQL/1.7.12 (livestore electric-sim)',
    'x-request-id': Math.random().toString(36).slice(2),
    'access-control-allow-origin': req.headers.origin ?? '*',
    'access-control-expose-headers': EXPOSED,
    'access-control-allow-methods': 'GET, POST, HEAD, DELETE, OPTIONS',
  }
}

/** 400 with Electric's body: `errors` is {field: [message, ...]}. */
export function invalid(res, req, errors) {
  res.writeHead(400, {
    ...baseHeaders(req),
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'surrogate-control': 'no-store',
  })
  res.end(JSON.stringify({ message: 'Invalid request', errors }))
}

/** 401 from the secret check: before CORS, no JSON content type (§6, §11). */
export function unauthorized(res) {
  res.writeHead(401, { 'cache-control': 'no-store' })
  res.end(JSON.stringify({ message: 'Unauthorized - Invalid API secret' }))
}

/** 409 must-refetch with the replacement handle (§10). */
export function mustRefetch(res, req, handle) {
  res.writeHead(409, {
    ...baseHeaders(req),
    'content-type': 'application/json; charset=utf-8',
    'electric-handle': handle,
    etag: `"${handle}"`,
    'cache-control': 'public, max-age=60, must-revalidate',
  })
  res.end(JSON.stringify([{ headers: { control: 'must-refetch' } }]))
}

/** `If-None-Match` matches `etag` (comma list, quotes stripped, W/ never matches, §5.3). */
export function notModified(req, etag) {
  const inm = req.headers['if-none-match']
  if (!inm) return false
  const want = etag.replaceAll('"', '')
  return inm.split(',').map((s) => s.trim()).some((s) => !s.startsWith('W/') && s.replaceAll('"', '') === want)
}
