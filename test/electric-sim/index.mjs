// An Electric sync-service simulator for tests, written from Electric's HTTP
// API documentation (../../../shared/docs/electric-shape-api.md), not from the
// gateway's own /v1/shape. It serves `GET /v1/shape` for real Postgres tables
// (LiveStore event logs) with what a proxy in front of a real Electric meets:
// log-position offsets past 2^32, chunked initial syncs, transactions cut
// across pages, 409 rotations on demand, 400 for a missing table, 401 for a
// bad secret, the long-poll timeout as 200 (or 204, as before 1.0.4),
// `electric-cursor`, `electric-has-data`, `electric-up-to-date`, ETags and
// cache headers. Not simulated: where/columns/subsets, SSE, replica=full.
//
//   const sim = await startElectricSim({ databaseUrl, secret, chunkBytes: 600 })
//   sim.url                 // http://127.0.0.1:<port> (gateway --electric-url)
//   await sim.rotate()      // redeploy: every shape gets a new handle (409)
//   await sim.loseStorage() // storage lost: new shapes, re-snapshot, new offsets
//   sim.stats()             // requests by status, by handle; rotations
//
// The same over HTTP: POST /_sim/rotate, POST /_sim/lose-storage, GET /_sim/stats.
import { createServer } from 'node:http'
import pg from 'pg'

import { baseHeaders, cacheControl, invalid, mustRefetch, nextCursor, notModified, unauthorized } from './http.mjs'
import { formatOffset, parseOffset } from './offset.mjs'
import { Shape } from './shape.mjs'
import { describeTable, parseTableParam, rowsAfter, takeSnapshot } from './table.mjs'

export async function startElectricSim({
  databaseUrl,
  port = 0,
  secret = null,         // ELECTRIC_SECRET; null: ELECTRIC_INSECURE
  chunkBytes = 10_000,   // ELECTRIC_SHAPE_CHUNK_BYTES_THRESHOLD (dev setting)
  longPollMs = 20_000,   // ELECTRIC_LONG_POLL_TIMEOUT
  pollMs = 20,           // how often new rows are looked for
  legacy204 = false,     // answer a long-poll timeout 204 (Electric before 1.0.4)
  firstLsn = 2n ** 32n + 4096n,
} = {}) {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4 })
  let lsn = firstLsn
  const nextLsn = () => (lsn += 1024n)
  const shapes = new Map()   // table rel -> Promise<Shape> (the current shape)
  const held = new Set()     // responses of held live requests
  const stats = { requests: 0, byStatus: {}, byHandle: {}, rotations: 0, storageLosses: 0 }
  const opts = { legacy204 }

  // Described once (Electric keeps its shapes' schemas too); a missing table is looked up again.
  const tables = new Map()
  async function tableFor(ref) {
    const key = `${ref.schema}.${ref.name}`
    if (!tables.has(key)) {
      const described = await describeTable(pool, ref)
      if (!described) return null
      tables.set(key, described)
    }
    return tables.get(key)
  }

  function shapeFor(table) {
    let p = shapes.get(table.rel)
    if (!p) {
      p = takeSnapshot(pool, table).then((snapshot) => new Shape({ table, snapshot, chunkBytes, lsn: nextLsn }))
      p.catch(() => shapes.delete(table.rel))
      shapes.set(table.rel, p)
    }
    return p
  }

  // New rows for every shape, oldest first.
  let polling = false
  const poller = setInterval(async () => {
    if (polling) return
    polling = true
    try {
      for (const p of [...shapes.values()]) {
        const shape = await p.catch(() => null)
        if (shape) shape.append(await rowsAfter(pool, shape.table, shape.lastKey))
      }
    } catch {
      // the database is away for now: try again on the next tick
    } finally {
      polling = false
    }
  }, pollMs)

  const count = (status, handle) => {
    stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1
    if (handle) stats.byHandle[handle] = (stats.byHandle[handle] ?? 0) + 1
  }

  async function serveShape(req, res, q) {
    if (secret !== null && (q.get('secret') ?? q.get('api_secret')) !== secret) return count(401), unauthorized(res)
    // Validation order of §3.
    const offsetText = q.get('offset')
    if (offsetText === null || offsetText === '') return count(400), invalid(res, req, { offset: ["can't be blank"] })
    const offset = offsetText === 'now' ? 'now' : parseOffset(offsetText)
    if (!offset) return count(400), invalid(res, req, { offset: ['has invalid format'] })
    const initial = offsetText === '-1' || offset === 'now'
    const handle = initial ? null : q.get('handle')
    if (!initial && !handle) return count(400), invalid(res, req, { handle: ["can't be blank when offset != -1"] })
    const live = q.has('live') && q.get('live') !== 'false'
    if (live && offsetText === '-1') return count(400), invalid(res, req, { live: ["can't be true when offset == -1"] })
    if (live && offset === 'now') return count(400), invalid(res, req, { live: ["can't be true when offset is 'now'"] })
    const tableParam = q.get('table')
    if (!tableParam) return count(400), invalid(res, req, { table: ["can't be blank"] })
    const ref = parseTableParam(tableParam)
    const table = ref && (await tableFor(ref))
    if (!table) {
      const name = ref ? `"${ref.schema}"."${ref.name}"` : tableParam
      return count(400), invalid(res, req, {
        table: [`Table ${name} does not exist. If the table name contains capitals or special characters you must quote it.`],
      })
    }
    const shape = await shapeFor(table)
    if (handle !== null && handle !== shape.handle) return count(409, handle), mustRefetch(res, req, shape.handle)

    const headers = {
      ...baseHeaders(req),
      'content-type': 'application/json; charset=utf-8',
      'electric-handle': shape.handle,
      'cache-control': cacheControl({ initial: offsetText === '-1', live }),
    }
    if (!live) headers['electric-schema'] = JSON.stringify(table.schemaHeader)
    if (live) headers['electric-cursor'] = nextCursor(longPollMs, q.get('cursor'))
    const upToDate = (at) => JSON.stringify({ headers: { control: 'up-to-date', global_last_seen_lsn: String(at.tx > lsn ? at.tx : lsn) } })
    const send = (status, extra, items) => {
      count(status, shape.handle)
      const all = { ...headers, ...extra }
      if (status === 200 && notModified(req, all.etag)) {
        delete all['electric-schema']
        res.writeHead(304, all)
        return res.end()
      }
      res.writeHead(status, all)
      if (req.method === 'HEAD' || status === 204) return res.end()
      res.end(`[${items.join(',')}]`)
    }

    if (offset === 'now') {
      const at = shape.lastOffset
      return send(200, {
        'electric-offset': formatOffset(at), 'electric-up-to-date': '', 'electric-has-data': 'false',
        etag: `"${shape.handle}:now:${formatOffset(at)}:${process.hrtime.bigint()}"`,
      }, [upToDate(at)])
    }
    let page = shape.page(offset)
    if (!page) return count(400), invalid(res, req, { offset: ['out of bounds for this shape'] })
    if (page.items.length === 0 && live) {
      // Long poll: until a transaction arrives, the handle rotates, or the timeout.
      const outcome = await new Promise((resolve) => {
        const done = (why) => {
          clearTimeout(timer)
          shape.waiters.delete(wake)
          held.delete(res)
          res.off('close', gone)
          resolve(why)
        }
        const wake = () => done('data')
        const gone = () => done('gone')
        const timer = setTimeout(() => done('timeout'), longPollMs)
        res.rotate = () => done('rotated')
        shape.waiters.add(wake)
        held.add(res)
        res.on('close', gone)
      })
      if (outcome === 'gone') return
      if (outcome === 'rotated' || handle !== shape.handle) return count(409, handle), mustRefetch(res, req, shape.handle)
      if (outcome === 'timeout') {
        const at = formatOffset(offset)
        const extra = { 'electric-offset': at, 'electric-has-data': 'false', etag: `"${shape.handle}:${at}:${at}:${process.hrtime.bigint()}"` }
        if (opts.legacy204) return send(204, extra, [])
        return send(200, { ...extra, 'electric-up-to-date': '' }, [upToDate(offset)])
      }
      page = shape.page(offset)
    }
    const at = formatOffset(page.offset)
    const extra = { 'electric-offset': at, 'electric-has-data': 'true', etag: `"${shape.handle}:${offsetText}:${at}"` }
    const items = [...page.items]
    if (page.upToDate) {
      extra['electric-up-to-date'] = ''
      items.push(upToDate(page.offset))
    }
    send(200, extra, items)
  }

  /** Redeploy: every shape keeps its log and offsets but gets a new handle; held polls get 409. */
  async function rotate() {
    stats.rotations++
    for (const p of shapes.values()) {
      const shape = await p
      const old = shape.handle
      shape.handle = `${old.split('-')[0]}-${BigInt(Date.now()) * 1000n + BigInt(stats.rotations)}`
    }
    for (const res of [...held]) res.rotate?.()
  }

  /** Storage lost: every shape is dropped (new handles, a new snapshot, new offsets); held polls are cut. */
  async function loseStorage() {
    stats.storageLosses++
    await Promise.allSettled([...shapes.values()])
    shapes.clear()
    tables.clear()
    for (const res of [...held]) res.socket?.destroy()
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://sim')
    const path = url.pathname.replace(/\/+/g, '/').replace(/\/$/, '')
    stats.requests++
    const fail = (e) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json', 'cache-control': 'no-store' })
        res.end(JSON.stringify({ error: 'Internal server error', detail: String(e?.message ?? e) }))
      } else res.destroy()
    }
    if (path === '/v1/shape' && (req.method === 'GET' || req.method === 'HEAD')) return serveShape(req, res, url.searchParams).catch(fail)
    if (path === '/v1/shape' && req.method === 'OPTIONS') return res.writeHead(204, { ...baseHeaders(req), 'access-control-max-age': '86400' }).end()
    if (path === '/v1/health') return res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"active"}')
    if (path === '/_sim/rotate' && req.method === 'POST') return rotate().then(() => res.writeHead(204).end(), fail)
    if (path === '/_sim/lose-storage' && req.method === 'POST') return loseStorage().then(() => res.writeHead(204).end(), fail)
    if (path === '/_sim/stats') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(sim.stats()))
    if (path === '') return res.writeHead(200).end()
    res.writeHead(404).end('Not found')
  })
  await new Promise((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve))

  const sim = {
    url: `http://127.0.0.1:${server.address().port}`,
    port: server.address().port,
    rotate,
    loseStorage,
    /** Long-poll timeouts answered 204 (Electric before 1.0.4) or 200. */
    setLegacy204: (on) => { opts.legacy204 = !!on },
    stats: () => structuredClone(stats),
    async shapes() {
      const out = {}
      for (const [rel, p] of shapes) out[rel] = (await p.catch(() => null))?.describe() ?? null
      return out
    },
    async close() {
      clearInterval(poller)
      for (const res of [...held]) res.socket?.destroy()
      server.closeAllConnections?.()
      await new Promise((resolve) => server.close(resolve))
      await pool.end()
    },
  }
  return sim
}
