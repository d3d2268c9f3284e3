// The Postgres side of the simulator: resolve a `table` parameter, describe
// its columns (the `electric-schema` header, §4.1), take a snapshot in a
// REPEATABLE READ READ ONLY transaction (§8.2) and read rows committed since
// (polled by primary key: the simulator is for append-only event logs with a
// single integer primary key, such as LiveStore's "seqNum"). Every value is
// the column's text output (§7.3); rows carry their inserting xid (xmin), so
// the rows of one transaction become one transaction in the log.
const quoteIdent = (s) => `"${s.replaceAll('"', '""')}"`

/** `name`, `schema.name`, `"Quoted"` (§3): {schema, name} or null if malformed. */
export function parseTableParam(text) {
  const part = String.raw`(?:"((?:[^"]|"")+)"|([^."]+))`
  const m = new RegExp(`^${part}(?:\\.${part})?$`).exec(text ?? '')
  if (!m) return null
  const one = (quoted, plain) => (quoted !== undefined ? quoted.replaceAll('""', '"') : plain.toLowerCase())
  if (m[3] === undefined && m[4] === undefined) return { schema: 'public', name: one(m[1], m[2]) }
  return { schema: one(m[1], m[2]), name: one(m[3], m[4]) }
}

/** Columns, key and schema header of an existing table; null when it does not exist. */
export async function describeTable(pool, { schema, name }) {
  const rel = `${quoteIdent(schema)}.${quoteIdent(name)}`
  const { rows: [{ oid }] } = await pool.query('SELECT to_regclass($1)::oid AS oid', [rel])
  if (oid == null) return null
  const { rows: cols } = await pool.query(
    `SELECT a.attname, t.typname, a.attnotnull, a.attndims, a.atttypmod, t.typcategory,
            (SELECT array_position(i.indkey::int2[], a.attnum) - array_lower(i.indkey::int2[], 1) FROM pg_index i
              WHERE i.indrelid = a.attrelid AND i.indisprimary) AS pk_index
       FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [oid],
  )
  const schemaHeader = {}
  for (const c of cols) {
    const entry = { type: c.typcategory === 'A' ? c.typname.replace(/^_/, '') : c.typname }
    if (c.typcategory === 'A') entry.dims = Math.max(1, c.attndims)
    if (c.pk_index != null) entry.pk_index = c.pk_index
    if (c.attnotnull) entry.not_null = true
    if ((c.typname === 'varchar' || c.typname === 'text') && c.atttypmod > 4) entry.max_length = c.atttypmod - 4
    schemaHeader[c.attname] = entry
  }
  const pk = cols.filter((c) => c.pk_index != null).sort((a, b) => a.pk_index - b.pk_index)
  if (pk.length !== 1 || !['int2', 'int4', 'int8'].includes(pk[0].typname))
    throw new Error(`electric-sim serves append-only tables with one integer primary key; ${rel} has none`)
  const select = cols.map((c) => `${quoteIdent(c.attname)}::text AS ${quoteIdent(c.attname)}`).join(', ')
  return {
    schema,
    name,
    rel,
    columns: cols.map((c) => c.attname),
    key: pk[0].attname,
    schemaHeader,
    // Rows after $1 (by key), with their xid, oldest first (ordered by the
    // column itself, not its ::text output of the same name).
    rowsSql: `SELECT ${select}, xmin::text AS "__xid" FROM ${rel} WHERE ${quoteIdent(pk[0].attname)} > $1::bigint ORDER BY ${rel}.${quoteIdent(pk[0].attname)}`,
  }
}

/** The snapshot: {rows, xmin, xmax, xipList, lastKey} read in one REPEATABLE READ transaction. */
export async function takeSnapshot(pool, table) {
  const client = await pool.connect()
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
    const { rows: [snap] } = await client.query(
      `SELECT pg_snapshot_xmin(s)::text AS xmin, pg_snapshot_xmax(s)::text AS xmax,
              ARRAY(SELECT pg_snapshot_xip(s)::text) AS xip FROM pg_current_snapshot() s`,
    )
    const { rows } = await client.query(table.rowsSql, ['-9223372036854775808'])
    await client.query('COMMIT')
    return { rows, xmin: snap.xmin, xmax: snap.xmax, xipList: snap.xip, lastKey: lastKeyOf(table, rows, null) }
  } catch (e) {
    await client.query('ROLLBACK').catch(() => {})
    throw e
  } finally {
    client.release()
  }
}

/** Rows committed after `lastKey`, oldest first. */
export async function rowsAfter(pool, table, lastKey) {
  const { rows } = await pool.query(table.rowsSql, [lastKey ?? '-9223372036854775808'])
  return rows
}

export const lastKeyOf = (table, rows, fallback) => (rows.length ? rows[rows.length - 1][table.key] : fallback)
