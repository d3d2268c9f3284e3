// One shape of the simulator: a handle, the snapshot cut into chunks and the
// log of transactions committed since, with Electric's offsets (§8):
// snapshot chunks answer at "0_<i>", log entries sit at "<lsn>_<op>" (op steps
// by 2 inside a transaction), "0_inf" is the end of the snapshot. Chunks close
// once their JSON reaches `chunkBytes` (ELECTRIC_SHAPE_CHUNK_BYTES_THRESHOLD),
// also in the middle of a transaction, so pages end where Electric's would.
import { compareOffsets, formatOffset, snapshotChunk, SNAPSHOT_END } from './offset.mjs'

// Electric encodes messages with sorted map keys (§7.2).
function sorted(obj) {
  const out = {}
  for (const k of Object.keys(obj).sort()) out[k] = obj[k]
  return out
}

const keyOf = (table, row) => `"${table.schema}"."${table.name}"/"${String(row[table.key]).replaceAll('/', '//')}"`
const valueOf = (table, row) => sorted(Object.fromEntries(table.columns.map((c) => [c, row[c]])))

export function newHandle(table) {
  let h = 0
  for (const ch of table.rel) h = (h * 31 + ch.charCodeAt(0)) >>> 0
  const micros = BigInt(Date.now()) * 1000n + BigInt(Math.floor(Math.random() * 1000))
  return `${h % 100000000}-${micros}`
}

export class Shape {
  /** `lsn()` hands out the next commit LSN (shared by every shape, as Postgres does). */
  constructor({ table, snapshot, chunkBytes, lsn }) {
    this.table = table
    this.handle = newHandle(table)
    this.chunkBytes = chunkBytes
    this.lsn = lsn
    this.lastKey = snapshot.lastKey
    this.chunks = [[]]
    let bytes = 0
    for (const row of snapshot.rows) {
      const json = JSON.stringify({
        headers: { operation: 'insert', relation: [table.schema, table.name] },
        key: keyOf(table, row),
        value: valueOf(table, row),
      })
      if (bytes >= chunkBytes) {
        this.chunks.push([])
        bytes = 0
      }
      this.chunks[this.chunks.length - 1].push(json)
      bytes += json.length
    }
    // Every initial snapshot ends with snapshot-end (§7.5).
    this.chunks[this.chunks.length - 1].push(JSON.stringify({
      headers: { control: 'snapshot-end', xip_list: snapshot.xipList, xmax: snapshot.xmax, xmin: snapshot.xmin },
    }))
    this.log = []           // {offset, json}
    this.ends = new Set()   // indexes of log entries that close a chunk
    this.bytes = 0          // of the open log chunk
    this.waiters = new Set()
  }

  get lastOffset() {
    return this.log.length ? this.log[this.log.length - 1].offset : SNAPSHOT_END
  }

  /** New rows (oldest first): one transaction per xid, appended, waiters woken. */
  append(rows) {
    if (!rows.length) return
    for (let i = 0; i < rows.length;) {
      let j = i
      while (j < rows.length && rows[j].__xid === rows[i].__xid) j++
      const tx = this.lsn()
      for (let k = i; k < j; k++) {
        const row = rows[k]
        const headers = {
          lsn: String(tx),
          op_position: (k - i) * 2,
          operation: 'insert',
          relation: [this.table.schema, this.table.name],
          txids: [Number(row.__xid)],
        }
        if (k === j - 1) headers.last = true
        const json = JSON.stringify({ headers: sorted(headers), key: keyOf(this.table, row), value: valueOf(this.table, row) })
        this.log.push({ offset: { tx, op: BigInt((k - i) * 2), inf: false }, json })
        this.bytes += json.length
        if (this.bytes >= this.chunkBytes) {
          this.ends.add(this.log.length - 1)
          this.bytes = 0
        }
      }
      i = j
    }
    this.lastKey = rows[rows.length - 1][this.table.key]
    for (const wake of [...this.waiters]) wake()
  }

  /**
   * The page for a request at `offset` (§8.3): {items, offset, upToDate},
   * `items` empty when nothing is past it; null when the offset is out of
   * bounds for this shape.
   */
  page(offset) {
    if (offset.tx < 0n) return { items: this.chunks[0], offset: snapshotChunk(0), upToDate: false }
    if (offset.tx === 0n && !offset.inf) {
      const i = Number(offset.op)
      if (i >= this.chunks.length) return null
      if (i + 1 < this.chunks.length) return { items: this.chunks[i + 1], offset: snapshotChunk(i + 1), upToDate: false }
      return this.logPage(0)
    }
    if (offset.tx === 0n) return this.logPage(0)
    if (compareOffsets(offset, this.lastOffset) > 0) return null
    let start = this.log.length
    while (start > 0 && compareOffsets(this.log[start - 1].offset, offset) > 0) start--
    return this.logPage(start)
  }

  logPage(start) {
    if (start >= this.log.length) return { items: [], offset: this.lastOffset, upToDate: true }
    let end = start
    while (end < this.log.length - 1 && !this.ends.has(end)) end++
    return {
      items: this.log.slice(start, end + 1).map((e) => e.json),
      offset: this.log[end].offset,
      upToDate: end === this.log.length - 1,
    }
  }

  describe() {
    return { handle: this.handle, snapshotChunks: this.chunks.length, logEntries: this.log.length, lastOffset: formatOffset(this.lastOffset) }
  }
}
