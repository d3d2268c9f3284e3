// Electric offsets (electric-shape-api.md §8.1): "-1", "now", "<tx>_<op>" and
// "<tx>_inf", with 64-bit tx values (a commit LSN). Ordered by tx, then op;
// "inf" is above any op. Kept as BigInt so nothing is rounded past 2^53.
export const BEFORE_ALL = Object.freeze({ tx: -1n, op: 0n, inf: false })

/** Parse a request's offset; null when Electric would answer "has invalid format". */
export function parseOffset(text) {
  if (text === '-1') return BEFORE_ALL
  const m = /^(\d+)_(\d+|inf)$/.exec(text)
  if (!m) return null
  return { tx: BigInt(m[1]), op: m[2] === 'inf' ? 0n : BigInt(m[2]), inf: m[2] === 'inf' }
}

export function formatOffset(o) {
  if (o.tx < 0n) return '-1'
  return `${o.tx}_${o.inf ? 'inf' : o.op}`
}

/** <0, 0, >0 as a is before, at, after b. */
export function compareOffsets(a, b) {
  if (a.tx !== b.tx) return a.tx < b.tx ? -1 : 1
  if (a.inf !== b.inf) return a.inf ? 1 : -1
  if (a.inf) return 0
  return a.op === b.op ? 0 : a.op < b.op ? -1 : 1
}

export const snapshotChunk = (i) => ({ tx: 0n, op: BigInt(i), inf: false })
export const SNAPSHOT_END = Object.freeze({ tx: 0n, op: 0n, inf: true })
