// Reading a store's event log straight from Postgres, to check what the
// gateway stored independently of what the clients believe.
import { psql } from '../../lib/harness.mjs'

const lit = (s) => `'${s.replace(/'/g, "''")}'`

/** The store's log table as `schema.table`: the extension's catalog first, else the v6 name (doc §5.2). */
async function logTable(url, storeId) {
  const q = `SELECT coalesce(
      (SELECT format('%I.%I', schema_name, table_name) FROM livestore.store_info(${lit(storeId)}) WHERE table_name IS NOT NULL),
      (SELECT to_regclass(format('public.%I', 'eventlog_6_' || regexp_replace(${lit(storeId)}, '[^a-zA-Z0-9_]', '_', 'g')))::text))`
  return (await psql(url, q)) || null
}

/** All rows in seqNum order: [{seqNum, parentSeqNum, name, clientId, sessionId, args}]; [] when no table. */
export async function eventRows(url, storeId) {
  const table = await logTable(url, storeId)
  if (!table) return []
  const out = await psql(url, `SELECT coalesce(json_agg(t ORDER BY "seqNum"), '[]') FROM ${table} t`)
  return JSON.parse(out)
}

/** Assert-friendly summary: problems with the seqNum chain 1..n, or [] when it is intact. */
export function chainProblems(rows) {
  const problems = []
  rows.forEach((r, i) => {
    if (r.seqNum !== i + 1) problems.push(`row ${i}: seqNum ${r.seqNum}, expected ${i + 1}`)
    if (r.parentSeqNum !== r.seqNum - 1) problems.push(`seqNum ${r.seqNum}: parentSeqNum ${r.parentSeqNum}`)
  })
  return problems
}
