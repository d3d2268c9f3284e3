// The report of one `make bench` run: node bench/report.mjs bench/results/<stamp>
// Reads the run's JSON files, prints one Markdown table (every figure with its
// same-run baseline and the ratio), writes <stamp>.json, <stamp>.md and the
// latency charts (gnuplot) next to the run folder, copies them to latest.*,
// and, after a complete full run, refreshes the figures in bench/README.md.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

const run = path.resolve(process.argv[2] ?? '')
if (!fs.existsSync(run)) {
  console.error('usage: node bench/report.mjs bench/results/<stamp>')
  process.exit(2)
}
const results = path.dirname(run)
const stamp = path.basename(run)
const readJson = (name) => {
  const f = path.join(run, name)
  if (!fs.existsSync(f)) return null
  try {
    return JSON.parse(fs.readFileSync(f, 'utf8'))
  } catch {
    return { error: `unreadable ${name}` }
  }
}
const readJsonl = (name) => {
  const f = path.join(run, name)
  if (!fs.existsSync(f)) return []
  return fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => {
    try { return JSON.parse(l) } catch { return { error: 'unreadable line' } }
  })
}
const readText = (name) => {
  const f = path.join(run, name)
  return fs.existsSync(f) ? fs.readFileSync(f, 'utf8').trim() : ''
}

const ctx = readJson('context.json') ?? {}
const conc = String(ctx.concurrency ?? '1 16 64').split(/\s+/).filter(Boolean).map(Number)
const batches = String(ctx.batches ?? '1 50').split(/\s+/).filter(Boolean).map(Number)

// ---- formatting ----
const int = (x) => (x == null || !Number.isFinite(x) ? '?' : Math.round(x).toLocaleString('en-US'))
const ms = (x) => {
  if (x == null || !Number.isFinite(x)) return '?'
  if (x >= 100) return `${Math.round(x)} ms`
  if (x >= 10) return `${x.toFixed(1)} ms`
  return `${x.toFixed(2)} ms`
}
const ratio = (a, b, digits = 2) => (a == null || b == null || !b ? null : a / b)
const rx = (r, digits = 2) => (r == null || !Number.isFinite(r) ? '?' : `${r.toFixed(digits)}x`)
const mb = (x) => (x == null || !Number.isFinite(x) ? '?' : `${x.toFixed(1)} MB`)
const signed = (x) => (x >= 0 ? `+${x.toFixed(2)}` : `−${(-x).toFixed(2)}`)
const errNote = (j) => (j && j.errors > 0 ? ` (${int(j.errors)} errors)` : '')
const bad = (j) => !j || j.error
// The gateway's CPU time per 1,000 events delivered (loadgen pull and storm).
const cpuPer1k = (j) => (j?.gateway?.cpu_s == null || !j.events ? '?' : `${((j.gateway.cpu_s * 1e6) / j.events).toFixed(2)} ms`)

const rows = []
const row = (bench, kase, measured, baseline, r, target, status) =>
  rows.push({ bench, case: kase, measured, baseline, ratio: r, target, status })
const met = (ok) => (ok == null ? '—' : ok ? 'met' : '**missed**')

// ---- 0: the load generator's ceiling ----
const headGw = Object.fromEntries(conc.map((c) => [c, readJson(`head_gateway_c${c}.json`)]))
// Push points may have several rounds (push_<side>_c<C>_b<B>_r<R>.json): each
// side's best round (events/s) is reported, with that round's latency CDF.
const pushRound = {}
function bestRound(side, c, b) {
  const files = fs.readdirSync(run).filter((f) => f.startsWith(`push_${side}_c${c}_b${b}_r`) && f.endsWith('.json'))
  let best = null
  for (const f of files) {
    const j = readJson(f)
    if (!j || j.error) { best = best ?? j; continue }
    const round = Number(f.match(/_r(\d+)\.json$/)[1])
    j.round = round
    j.rounds = files.length
    if (!best || best.error || j.events_per_s > best.events_per_s) best = j
  }
  if (best && !best.error) pushRound[`${side}/${c}/${b}`] = best.round
  return best ?? readJson(`push_${side}_c${c}_b${b}.json`)
}
const push = {}
for (const b of batches)
  for (const c of conc)
    push[`${b}/${c}`] = Object.fromEntries(['db', 'append', 'gateway', 'reference'].map((s) => [s, bestRound(s, c, b)]))
const rounds = Math.max(1, ...Object.values(push).flatMap((p) => Object.values(p).map((j) => j?.rounds ?? 1)))
for (const c of conc) {
  const lines = batches.map((b) => readJsonl(`ceiling_c${c}_b${b}.jsonl`))
  const head = lines.flat().find((l) => l.mode === 'get')
  const gw = headGw[c]
  if (!head && !gw) continue
  // The load generator's request ceiling: the better of the two trivial endpoints.
  const best = Math.max(head?.requests_per_s ?? 0, gw && !bad(gw) ? gw.requests_per_s : 0)
  const sidesAtC = batches.flatMap((b) => [push[`${b}/${c}`].gateway, push[`${b}/${c}`].reference]).filter((x) => x && !bad(x))
  const fastest = sidesAtC.length ? Math.max(...sidesAtC.map((x) => x.requests_per_s)) : null
  const r = ratio(best, fastest)
  row('0 load generator ceiling', `HEAD, c=${c}`,
    `loadgen → gateway HEAD: ${gw && !bad(gw) ? int(gw.requests_per_s) : '?'} req/s; → trivial responder: ${head ? int(head.requests_per_s) : '?'} req/s`,
    fastest != null ? `fastest push side at c=${c}: ${int(fastest)} requests/s` : 'no push side measured', r != null ? `${rx(r, 1)} headroom` : '—',
    '≥ 2x headroom', met(r == null ? null : r >= 2))
}
for (const b of batches)
  for (const c of conc) {
    const l = readJsonl(`ceiling_c${c}_b${b}.jsonl`).find((x) => x.mode === 'ceiling-push')
    if (!l) continue
    const p = push[`${b}/${c}`]
    const http = [p.gateway, p.reference].filter((x) => x && !bad(x))
    const best = http.length ? Math.max(...http.map((x) => x.events_per_s)) : null
    const r = ratio(l.events_per_s, best)
    row('0 load generator ceiling', `push b=${b}, c=${c}`, `loadgen alone: ${int(l.events_per_s)} events/s`,
      best != null ? `fastest HTTP side: ${int(best)} events/s` : 'no HTTP side measured', r != null ? `${rx(r, 1)} headroom` : '—',
      '≥ 2x headroom', met(r == null ? null : r >= 2))
  }

// ---- 1: SQL append (bench/sql's own table) ----
const sqlMd = readText('sql.md')
if (sqlMd) {
  const lines = sqlMd.split('\n').filter((l) => l.trim().startsWith('|'))
  const cells = (l) => l.trim().replace(/^\||\|$/g, '').split('|').map((s) => s.trim())
  const header = lines.length ? cells(lines[0]).map((h) => h.toLowerCase()) : []
  const col = (re) => header.findIndex((h) => re.test(h))
  const [ib, ic, ia, ii, io] = [col(/batch/), col(/client|session/), col(/append/), col(/insert/), col(/notify on/)]
  const [iac, iic] = [col(/append cpu/), col(/insert cpu/)]
  const num = (x) => Number(String(x ?? '').replace(/[^0-9.]/g, ''))
  const cpu = (i, v) => (i >= 0 ? ` (backend CPU ${v[i]} µs/event)` : '')
  if (ib >= 0 && ic >= 0 && ia >= 0 && ii >= 0) {
    for (const l of lines.slice(2)) {
      const v = cells(l)
      const a = num(v[ia]), i = num(v[ii])
      const r = ratio(a, i)
      row('1 SQL append (pgbench)', `batch ${v[ib]}, ${v[ic]} sessions, default settings`, `livestore.append: ${int(a)} events/s${cpu(iac, v)}`,
        `bare multi-row INSERT: ${int(i)} events/s${cpu(iic, v)}`, rx(r), 'append ≥ 0.9x INSERT', met(r == null ? null : r >= 0.9))
      if (io >= 0) {  // for LISTEN-based consumers: a NOTIFY per commit
        const o = num(v[io]), ro = ratio(o, i)
        row('1 SQL append (pgbench)', `batch ${v[ib]}, ${v[ic]} sessions, livestore.notify = on`, `livestore.append: ${int(o)} events/s`,
          `bare multi-row INSERT: ${int(i)} events/s`, rx(ro), '—', '—')
      }
    }
  } else {
    row('1 SQL append (pgbench)', 'bench/sql/run.sh', 'table format not recognised: see sql.md in the results', '', '', '', '—')
  }
} else if (fs.existsSync(path.join(run, 'sql.log'))) {
  row('1 SQL append (pgbench)', 'bench/sql/run.sh', 'failed or printed nothing: see sql.log in the results', '', '', '', 'error')
}

// ---- 1: hooks and emit against append (bench/sql/hooks.sh's table) ----
const hooksMd = readText('sql-hooks.md')
if (hooksMd) {
  const lines = hooksMd.split('\n').filter((l) => l.trim().startsWith('|'))
  const cells = (l) => l.trim().replace(/^\||\|$/g, '').split('|').map((s) => s.trim())
  const header = lines.length ? cells(lines[0]) : []
  const cols = ['batch', 'clients', 'livestore.notify', 'append (no hooks)', 'append + no-op hook', 'append + projection hook', 'emit']
    .map((h) => header.indexOf(h))
  if (cols.every((i) => i >= 0)) {
    const [ib, ic, inot, ia, inop, iprj, iemt] = cols
    for (const l of lines.slice(2)) {
      const v = cells(l)
      const num = (i) => Number(v[i].replace(/[^0-9.]/g, ''))
      const [a, n, p, e] = [num(ia), num(inop), num(iprj), num(iemt)]
      row('1 SQL append: hooks, emit (pgbench)', `batch ${v[ib]}, ${v[ic]} sessions${v[inot] === 'off' ? ', notify off' : ''}`,
        `append + no-op hook: ${int(n)}; append + projection hook: ${int(p)}; emit: ${int(e)} events/s`,
        `livestore.append, no hooks: ${int(a)} events/s`,
        `${rx(ratio(n, a))} no-op hook; ${rx(ratio(p, a))} projection hook; ${rx(ratio(e, a))} emit`, '—', '—')
    }
  } else {
    row('1 SQL append: hooks, emit (pgbench)', 'bench/sql/hooks.sh', 'table format not recognised: see sql-hooks.md in the results', '', '', '', '—')
  }
} else if (fs.existsSync(path.join(run, 'sql-hooks.log'))) {
  row('1 SQL append: hooks, emit (pgbench)', 'bench/sql/hooks.sh', 'failed or printed nothing: see sql-hooks.log in the results', '', '', '', 'error')
}

// ---- 1: capture, import and consumers (bench/sql/capture.sh's tables) ----
const captureMd = readText('sql-capture.md')
if (captureMd) {
  // Its tables, each as its header cells and rows of cells.
  const tables = []
  let cur = null
  for (const l of captureMd.split('\n')) {
    if (!l.trim().startsWith('|')) { cur = null; continue }
    const c = l.trim().replace(/^\||\|$/g, '').split('|').map((s) => s.trim())
    if (!cur) tables.push((cur = { header: c, rows: [] }))
    else if (!c.every((x) => /^:?-+:?$/.test(x))) cur.rows.push(c)
  }
  const find = (...names) => tables.find((t) => names.every((n) => t.header.includes(n)))
  const num = (s) => Number(String(s ?? '').replace(/[^0-9.]/g, ''))
  const B = '1 SQL: capture, import, consume'
  let seen = 0
  const cap = find('rows per INSERT', 'clients', 'tables', 'plain INSERT rows/s', 'captured INSERT rows/s')
  if (cap) {
    seen++
    const i = (n) => cap.header.indexOf(n)
    for (const v of cap.rows) {
      const plain = num(v[i('plain INSERT rows/s')]), c = num(v[i('captured INSERT rows/s')])
      const notify = i('livestore.notify') >= 0 && v[i('livestore.notify')] === 'off' ? ', notify off' : ''
      const tables = v[i('tables')] === 'one for all' ? 'one table for all' : 'a table each'
      row(B, `capture: ${v[i('rows per INSERT')]} row${v[i('rows per INSERT')] === '1' ? '' : 's'} per INSERT, ${v[i('clients')]} sessions, ${tables}${notify}`,
        `INSERT into a captured table: ${int(c)} rows/s`, `INSERT into a plain table: ${int(plain)} rows/s`,
        rx(ratio(c, plain)), '—', '—')
    }
  }
  const imp = find('rows', 'import_rows rows/s', 'COPY TO STDOUT rows/s', 'INSERT ... SELECT rows/s')
  if (imp) {
    seen++
    const i = (n) => imp.header.indexOf(n)
    for (const v of imp.rows) {
      const r = num(v[i('import_rows rows/s')]), cp = num(v[i('COPY TO STDOUT rows/s')]), ins = num(v[i('INSERT ... SELECT rows/s')])
      row(B, `import: ${int(num(v[i('rows')]))} rows, batch ${v[i('batch')] ?? '?'}`,
        `livestore.import_rows: ${int(r)} rows/s (${v[i('import_rows s')] ?? '?'} s)`,
        `COPY TO STDOUT: ${int(cp)} rows/s; INSERT ... SELECT into a copy: ${int(ins)} rows/s`,
        `${rx(ratio(r, cp))} COPY; ${rx(ratio(r, ins))} INSERT`, '—', '—')
    }
  }
  const con = find('events', 'stores', 'workers', 'events/s')
  if (con) {
    seen++
    const i = (n) => con.header.indexOf(n)
    const ib = con.header.findIndex((h) => h.startsWith('one INSERT'))
    const one = con.rows.find((v) => v[i('workers')] === '1')
    for (const v of con.rows) {
      const e = num(v[i('events/s')]), base = num(v[ib])
      row(B, `consume: ${int(num(v[i('events')]))} events in ${v[i('stores')]} stores, ${v[i('workers')]} worker${v[i('workers')] === '1' ? '' : 's'}, max_events ${v[i('max_events')] ?? '?'}`,
        `livestore.consume workers: ${int(e)} events/s`,
        `one INSERT ... SELECT of the same events: ${int(base)} rows/s${one && one !== v ? `; 1 worker: ${int(num(one[i('events/s')]))} events/s` : ''}`,
        `${rx(ratio(e, base))} INSERT${one && one !== v ? `; ${rx(ratio(e, num(one[i('events/s')])))} 1 worker` : ''}`, '—', '—')
    }
  }
  if (!seen) row(B, 'bench/sql/capture.sh', 'table format not recognised: see sql-capture.md in the results', '', '', '', '—')
} else if (fs.existsSync(path.join(run, 'sql-capture.log'))) {
  row('1 SQL: capture, import, consume', 'bench/sql/capture.sh', 'failed or printed nothing: see sql-capture.log in the results', '', '', '', 'error')
}

// ---- 2: HTTP push ----
for (const b of batches)
  for (const c of conc) {
    const p = push[`${b}/${c}`]
    if (!p.gateway && !p.db) continue
    const { db, append, gateway: gw, reference: ref } = p
    if (bad(gw) || bad(db)) {
      row('2 HTTP push', `b=${b}, c=${c}`, bad(gw) ? `gateway: ${gw?.error ?? 'missing'}` : '', bad(db) ? `ceiling: ${db?.error ?? 'missing'}` : '', '', '', 'error')
      continue
    }
    const rCeil = ratio(gw.events_per_s, db.events_per_s)
    const rRef = ref && !bad(ref) ? ratio(gw.events_per_s, ref.events_per_s) : null
    const rApp = append && !bad(append) ? ratio(gw.events_per_s, append.events_per_s) : null
    row('2 HTTP push', `b=${b}, c=${c}: events/s`, `gateway: ${int(gw.events_per_s)}${errNote(gw)}`,
      `DB ceiling (INSERT over libpq): ${int(db.events_per_s)}${errNote(db)}; append over libpq: ${append && !bad(append) ? int(append.events_per_s) : '?'}; reference: ${ref && !bad(ref) ? int(ref.events_per_s) : '?'}${errNote(ref)}`,
      `${rx(rCeil)} ceiling; ${rx(rApp)} append; ${rx(rRef)} reference`, '≥ 0.9x ceiling', met(rCeil >= 0.9 && !(gw.errors > 0)))
    const rP99 = ref && !bad(ref) ? ratio(gw.latency?.p99_ms, ref.latency?.p99_ms) : null
    row('2 HTTP push', `b=${b}, c=${c}: latency`, `gateway: p50 ${ms(gw.latency?.p50_ms)}, p99 ${ms(gw.latency?.p99_ms)}`,
      `reference: p50 ${ms(ref?.latency?.p50_ms)}, p99 ${ms(ref?.latency?.p99_ms)}; DB ceiling p99 ${ms(db.latency?.p99_ms)}`,
      `p99 ${rx(rP99)} reference`, 'p99 ≤ 0.33x reference', met(rP99 == null ? null : rP99 <= 1 / 3))
  }

// Issue 12, targets 2 and 6: the gateway's p99 against the ceiling's at the
// same point, and the gateway's CPU time per push (sampled from /proc over
// the measured window; the reference proxy's alongside).
for (const b of batches)
  for (const c of conc) {
    const p = push[`${b}/${c}`]
    if (!p || bad(p.gateway) || bad(p.db)) continue
    const { db, gateway: gw, reference: ref } = p
    const rP99 = ratio(gw.latency?.p99_ms, db.latency?.p99_ms)
    row('2 HTTP push', `b=${b}, c=${c}: p99 against the ceiling`, `gateway p99 ${ms(gw.latency?.p99_ms)}`,
      `DB ceiling p99 ${ms(db.latency?.p99_ms)}`, `p99 ${rx(rP99)} ceiling`, 'p99 ≤ 1.25x ceiling', met(rP99 == null ? null : rP99 <= 1.25))
    if (gw.server_cpu_us_per_request == null) continue
    const us = (x) => (x == null || !Number.isFinite(x) ? '?' : `${x.toFixed(x < 10 ? 1 : 0)} µs`)
    const refCpu = ref && !bad(ref) && ref.server_cpu_us_per_request != null
    row('2 HTTP push', `b=${b}, c=${c}: gateway CPU`,
      `gateway: ${us(gw.server_cpu_us_per_request)} per push, ${us(gw.server_cpu_us_per_event)} per event (${Math.round(gw.server?.cpu_pct ?? 0)}% of a core)`,
      refCpu ? `reference: ${us(ref.server_cpu_us_per_request)} per push, ${us(ref.server_cpu_us_per_event)} per event` : '—',
      refCpu ? `${rx(ratio(gw.server_cpu_us_per_request, ref.server_cpu_us_per_request))} reference` : '—', '—', '—')
  }

{
  const ins = readJson('diag_insert.json'), an = readJson('diag_append_notify.json'), ap = readJson('diag_append.json')
  if (ins && an && ap && !bad(ins)) {
    row('2 HTTP push (diagnosis)', `b=1, c=${ins.concurrency}: the NOTIFY inside append`,
      `append with its NOTIFY inside (livestore.notify = on): ${int(an.events_per_s)}${errNote(an)}; as the gateway runs it (notify off${ap.announce ? ', then announce()' : ''}): ${int(ap.events_per_s)}${errNote(ap)}`,
      `INSERT alone: ${int(ins.events_per_s)}`, `${rx(ratio(an.events_per_s, ins.events_per_s))} with NOTIFY; ${rx(ratio(ap.events_per_s, ins.events_per_s))} notify off`, '—', '—')
  }
}

// ---- 3: fan-out ----
const fan1 = readJson('fanout_1.json')
// The load generator's best request rate in this run (HEAD, any endpoint):
// taking 2 responses per reader (the event, then the flagged follow-up) costs
// it at least 2R / rate on its own.
const lgRate = Math.max(0, ...conc.flatMap((c) => [readJsonl(`ceiling_c${c}_b${batches[0]}.jsonl`).find((l) => l.mode === 'get')?.requests_per_s ?? 0, headGw[c] && !bad(headGw[c]) ? headGw[c].requests_per_s : 0]))
const fanFiles = fs.readdirSync(run).filter((f) => /^fanout_\d+\.json$/.test(f)).map((f) => Number(f.match(/\d+/)[0])).sort((a, b) => a - b)
for (const r of fanFiles.filter((n) => n !== 1)) {
  const f = readJson(`fanout_${r}.json`)
  if (bad(f)) {
    row('3 live fan-out', `${r} readers`, `error: ${f?.error}`, '', '', '', 'error')
    continue
  }
  const lossy = f.missing > 0 || f.errors > 0 || f.push_errors > 0
  const rr = fan1 && !bad(fan1) ? ratio(f.latency?.p99_ms, fan1.latency?.p99_ms) : null
  row('3 live fan-out', `${int(r)} readers, 1 push / ${f.interval_ms} ms`,
    `push→receive p50 ${ms(f.latency?.p50_ms)}, p99 ${ms(f.latency?.p99_ms)} (${int(f.deliveries)} deliveries${lossy ? `, ${int(f.missing)} missing, ${int(f.errors)} errors` : ', none missing'}); gateway RSS peak ${mb(f.gateway?.rss_peak_mb)}, CPU ${Math.round(f.gateway?.cpu_pct ?? 0)}% of a core`,
    (fan1 && !bad(fan1) ? `1 reader: p50 ${ms(fan1.latency?.p50_ms)}, p99 ${ms(fan1.latency?.p99_ms)}` : 'no 1-reader run') +
      (lgRate > 0 ? `; the load generator alone needs ≥ ${ms((2 * r * 1000) / lgRate)} to take ${int(2 * r)} responses at its ${int(lgRate)} req/s` : ''),
    `p99 ${rx(rr, 1)} one reader`, fanTarget(r), r >= 1000 ? met(f.latency?.p99_ms < fanTargetMs(r) && !lossy) : lossy ? '**lossy**' : '—')
  // Issue 12 target 6: the gateway's CPU time per pull delivered, which the
  // machine's other load barely moves (unlike the latency).
  const cpuUs = f.gateway?.cpu_s > 0 ? f.gateway.cpu_s * 1e6 : null
  if (cpuUs && f.deliveries > 0) {
    const lgUs = f.loadgen_cpu_s > 0 ? f.loadgen_cpu_s * 1e6 : null
    row('3 live fan-out (CPU)', `${int(r)} readers: gateway CPU per pull delivered`,
      `${int(cpuUs / f.deliveries)} µs per event delivered to a reader, ${int(cpuUs / Math.max(1, f.reader_requests))} µs per pull answered (${int(f.reader_requests)} pulls for ${int(f.deliveries)} deliveries); gateway CPU ${f.gateway.cpu_s.toFixed(2)} s${f.seconds ? ` in ${f.seconds.toFixed(1)} s` : ''}`,
      lgUs ? `load generator: ${int(lgUs / f.deliveries)} µs per event delivered (${(lgUs / 1e6).toFixed(2)} s CPU)` : '—',
      lgUs ? `${rx(ratio(cpuUs, lgUs), 2)} the load generator's CPU` : '—', '—', '—')
  }
}
// The diagnosis points, each against the default gateway's run at the same
// reader count: fanout_<readers>_<suffix><value>.json. With rss, the row adds
// the RSS peaks.
function fanDiagnosis(suffix, flag, baseName, rss) {
  const re = new RegExp(`^fanout_(\\d+)_${suffix}(\\d+)\\.json$`)
  for (const f of fs.readdirSync(run).filter((n) => re.test(n)).sort()) {
    const [, r, v] = f.match(re).map(Number)
    const d = readJson(f), base = readJson(`fanout_${r}.json`)
    if (bad(d)) {
      row('3 live fan-out (diagnosis)', `${int(r)} readers, ${flag} ${v}`, `error: ${d?.error}`, '', '', '', 'error')
      continue
    }
    const lossy = d.missing > 0 || d.errors > 0 || d.push_errors > 0
    const hasBase = base && !bad(base)
    row('3 live fan-out (diagnosis)', `${int(r)} readers, gateway ${flag} ${v}`,
      `push→receive p50 ${ms(d.latency?.p50_ms)}, p99 ${ms(d.latency?.p99_ms)} (${int(d.deliveries)} deliveries${lossy ? `, ${int(d.missing)} missing, ${int(d.errors)} errors` : ', none missing'}); gateway ${rss ? `RSS peak ${mb(d.gateway?.rss_peak_mb)}, ` : ''}CPU ${d.gateway?.cpu_s > 0 && d.deliveries > 0 ? int((d.gateway.cpu_s * 1e6) / d.deliveries) : '?'} µs per event delivered`,
      hasBase ? `${baseName}: p50 ${ms(base.latency?.p50_ms)}, p99 ${ms(base.latency?.p99_ms)}${rss ? `, RSS peak ${mb(base.gateway?.rss_peak_mb)}` : ''}` : `no ${baseName} run`,
      hasBase ? `p99 ${rx(ratio(d.latency?.p99_ms, base.latency?.p99_ms), 2)} default${rss ? `; RSS ${rx(ratio(d.gateway?.rss_peak_mb, base.gateway?.rss_peak_mb), 2)}` : ''}` : '—', '—', lossy ? '**lossy**' : '—')
  }
}
// 1,000 readers on a gateway with another thread pool; the largest reader
// count with less memory per connection.
fanDiagnosis('threads', '--threads', 'default threads', false)
fanDiagnosis('mhb', '--max-header-bytes', 'default (32768)', true)
function fanTarget(r) { return r >= 10000 ? 'p99 < 1 s' : r >= 1000 ? 'p99 < 100 ms' : '—' }
function fanTargetMs(r) { return r >= 10000 ? 1000 : 100 }

// ---- 4: held polls ----
const hold = readJson('hold.json')
if (hold) {
  if (bad(hold)) row('4 held long polls', '', `error: ${hold.error}`, '', '', '', 'error')
  else {
    const total = hold.rss_held_mb
    row('4 held long polls', `${int(hold.conns)} idle long polls`,
      `gateway RSS ${mb(total)} (${hold.rss_per_poll_kb?.toFixed(1)} KB per held poll); ${int(hold.errors)} errors; all ${int(hold.released_ok)} answered 200 with the event after one push (p50 ${ms(hold.release_latency?.p50_ms)}, p99 ${ms(hold.release_latency?.p99_ms)})`,
      `idle gateway: ${mb(hold.rss_idle_mb)}`, rx(ratio(total, hold.rss_idle_mb), 1), '< 100 MB, 0 errors',
      met(total < 100 && hold.errors === 0))
  }
}

// ---- 5: initial pull ----
const big = readJson('pull_big.json'), small = readJson('pull_small.json'), copy = readJson('pull_copy.json')
if (big) {
  if (bad(big) || bad(copy)) row('5 initial pull', '', `error: ${big?.error || copy?.error}`, '', '', '', 'error')
  else {
    const r = ratio(big.events_per_s, copy.rows_per_s)
    row('5 initial pull', `${int(big.expected || big.events)} events, one fresh reader`,
      `gateway: ${int(big.events_per_s)} events/s (${big.seconds.toFixed(1)} s, ${int(big.pages)} pages, ${(big.bytes / 1e6).toFixed(0)} MB${big.complete ? '' : ', INCOMPLETE'}; gateway CPU ${cpuPer1k(big)} per 1,000 events)`,
      `COPY (SELECT ...) TO STDOUT: ${int(copy.rows_per_s)} rows/s (${copy.seconds.toFixed(2)} s)`, rx(r), '≥ 0.5x COPY', met(r >= 0.5 && big.complete))
    if (small && !bad(small)) {
      const rm = ratio(big.gateway?.rss_peak_mb, small.gateway?.rss_peak_mb)
      row('5 initial pull', 'gateway memory', `peak RSS ${mb(big.gateway?.rss_peak_mb)} paging ${int(big.events)} events`,
        `peak RSS ${mb(small.gateway?.rss_peak_mb)} paging ${int(small.events)} events`, rx(rm), 'flat (≤ 1.2x for 10x the log)', met(rm <= 1.2))
    }
  }
}

// ---- 12: cold-start storm ----
// Clients opening one store at once, page sharing off (--page-cache-mb 0) and
// on (the default), same run: page queries per page offset and time to all
// caught up.
const stormOff = readJson('storm_off.json'), stormOn = readJson('storm_on.json')
if (stormOn) {
  if (bad(stormOn) || bad(stormOff)) row('12 cold-start storm', '', `error: ${stormOn?.error || stormOff?.error}`, '', '', '', 'error')
  else {
    const side = (j) => `${int(j.page_queries)} page queries (${j.queries_per_page?.toFixed(1)} per page offset); all ${int(j.clients)} caught up in ${j.seconds_all_caught_up.toFixed(1)} s` +
      ` (${int(j.complete_clients)} complete); ${int(j.requests)} requests, ${(j.bytes / 1e6).toFixed(0)} MB served; gateway CPU ${cpuPer1k(j)} per 1,000 events`
    row('12 cold-start storm', `${int(stormOn.clients)} clients open one store of ${int(stormOn.expected)} events at once`,
      `sharing on: ${side(stormOn)}`, `sharing off: ${side(stormOff)}`, rx(ratio(stormOn.seconds_all_caught_up, stormOff.seconds_all_caught_up)),
      'each page built once (≤ 2 queries per page offset)',
      met(stormOn.queries_per_page <= 2 && stormOn.complete_clients === stormOn.clients))
  }
}

// ---- 6: proxy overhead ----
for (const kase of ['empty', 'page']) {
  const p = readJson(`proxy_${kase}.json`)
  if (!p) continue
  if (bad(p)) {
    row('6 proxy overhead', kase, `error: ${p.error}`, '', '', '', 'error')
    continue
  }
  const t = Object.fromEntries(p.targets.map((x) => [x.name, x]))
  const d = t.direct, px = t.proxy, rf = t.reference
  const add50 = px.latency.p50_ms - d.latency.p50_ms, add99 = px.latency.p99_ms - d.latency.p99_ms
  const label = kase === 'empty' ? 'empty page at the head' : `page of ${px.events_per_page} events`
  const errs = (x) => (x.errors ? `, ${x.errors} errors` : '')
  row('6 proxy overhead', `${label}, ${int(p.rounds)} requests each`,
    `gateway proxy → /v1/shape: p50 ${ms(px.latency.p50_ms)}, p99 ${ms(px.latency.p99_ms)}${errs(px)}`,
    `built-in directly: p50 ${ms(d.latency.p50_ms)}, p99 ${ms(d.latency.p99_ms)}; reference proxy → /v1/shape: p50 ${ms(rf?.latency?.p50_ms)}, p99 ${ms(rf?.latency?.p99_ms)}`,
    `${signed(add50)} ms p50, ${signed(add99)} ms p99 (reference ${signed(rf.latency.p50_ms - d.latency.p50_ms)} ms p50)`,
    '< 0.5 ms added at p50', met(add50 < 0.5 && !px.errors))
}

// ---- 7: browser hops ----
const hops = readJson('browser_hops.json')
if (hops && Array.isArray(hops.hops) && hops.hops.length) {
  // Without flagged offsets each hop waits for the sender's held long poll:
  // 20.3 s measured with the reference stack (docs: browser-client.md 6).
  const stall = 20300
  row('7 browser hop (TodoMVC)', `${hops.hops.length} hops, two headless Chromium contexts, cross-origin`,
    `action → visible in the other browser: median ${int(hops.median)} ms, max ${int(hops.max)} ms`,
    'reference stack without flagged offsets: 20.3 s per hop (documented, not re-measured)', rx(ratio(hops.median, stall), 3),
    'well under 1 s', met(hops.max < 1000))
} else if (fs.existsSync(path.join(run, 'browser.log'))) {
  row('7 browser hop (TodoMVC)', 'test/browser', 'failed or measured nothing: see browser.log in the results', '', '', '', 'error')
}

// ---- 8: auth: JWTs and authorization in SQL ----
// Each side's best round (lowest p50) for push and for pull, against the
// gateway without JWTs; the added milliseconds are what a user feels.
{
  const best = (kind, side) => {
    const files = fs.readdirSync(run).filter((f) => f.startsWith(`auth_${kind}_${side}_r`) && f.endsWith('.json'))
    let b = null
    for (const f of files) {
      const j = readJson(f)
      if (j && !j.error && (!b || j.latency?.p50_ms < b.latency?.p50_ms)) b = j
      else if (!b) b = j
    }
    return b
  }
  const base = { push: best('push', 'none'), pull: best('pull', 'none') }
  const sides = [['rs256', 'RS256 token'], ['es256', 'ES256 token'],
    ['authz_cached', 'ES256 + authorization function, cached'], ['authz_uncached', 'ES256 + authorization function, not cached']]
  const lat = (j) => (bad(j) ? `error: ${j?.error ?? 'missing'}` : `p50 ${ms(j.latency?.p50_ms)}, p99 ${ms(j.latency?.p99_ms)}${errNote(j)}`)
  for (const [side, label] of sides) {
    for (const kind of ['push', 'pull']) {
      const j = best(kind, side), b = base[kind]
      if (!j && !b) continue
      const add = !bad(j) && !bad(b) ? j.latency.p50_ms - b.latency.p50_ms : null
      row('8 auth', `${kind === 'push' ? 'push, batch 1' : 'pull, empty page'}, c=1: ${label}`, lat(j),
        `no JWT: ${lat(b)}`, add == null ? '?' : `${signed(add)} ms p50 (${rx(ratio(j.latency.p50_ms, b.latency.p50_ms))})`, '—', '—')
    }
  }
}

// ---- 9-11: beyond one machine (bench/scale.mjs) ----
const scaleError = (mode, bench) => {
  const e = readJson(`${mode}_error.json`)
  if (e) row(bench, 'bench/scale.mjs', `error: ${e.error}`, '', '', '', 'error')
}
const perWrite = (j, x) => (j && !bad(j) && j.pushes > 0 ? x / j.pushes : null)
const originPerWrite = (j) => perWrite(j, (j?.origin?.pulls ?? NaN) + (j?.origin?.pushes ?? NaN))
// A failed reader request (errors) is retried after 100 ms, as the client does: shown, but what must hold is
// every event at every reader once (none missing, none repeated) and every push acknowledged.
const delivered = (j) => `${int(j.deliveries)} of ${int(j.expected_deliveries)} deliveries${j.missing || j.duplicates ? `, **${int(j.missing)} missing, ${int(j.duplicates)} repeated**` : ', none missing'}${j.errors ? `; ${int(j.errors)} reader requests failed and were retried (${Object.entries(j.error_statuses ?? {}).map(([k, v]) => `${k}: ${v}`).join(', ')})` : ''}`
const lossless = (j) => j && !bad(j) && !j.missing && !j.duplicates && !j.push_errors && j.deliveries === j.expected_deliveries
{
  const B = '9 cache: many readers of one store (nginx)'
  // The gateway's requests per write through nginx stay a constant: at most
  // what test/scale/cache.test.mjs allows (8), whatever the readers.
  const MAX_ORIGIN = 8
  const counts = fs.readdirSync(run).map((f) => /^cache_(?:nginx|direct)_(\d+)\.json$/.exec(f)?.[1]).filter(Boolean).map(Number)
  const readerCounts = [...new Set(counts)].sort((a, b) => a - b)
  const first = readerCounts.length ? readJson(`cache_nginx_${readerCounts[0]}.json`) : null
  for (const r of readerCounts) {
    const n = readJson(`cache_nginx_${r}.json`), d = readJson(`cache_direct_${r}.json`)
    if (bad(n) || bad(d)) {
      row(B, `${int(r)} readers`, bad(n) ? `nginx: ${n?.error ?? 'missing'}` : '', bad(d) ? `direct: ${d?.error ?? 'missing'}` : '', '', '', 'error')
      continue
    }
    const on = originPerWrite(n), od = originPerWrite(d), o1 = originPerWrite(first)
    row(B, `${int(r)} live readers, ${n.pushes} writes: requests reaching the gateway`,
      `through nginx: ${on?.toFixed(1)} per write (${int(n.origin.pulls)} pulls, ${int(n.origin.pushes)} pushes)`,
      `direct: ${od?.toFixed(1)} per write (${int(d.origin.pulls)} pulls, ${int(d.origin.pushes)} pushes)`,
      `${int(ratio(od, on))}x fewer than direct${r !== readerCounts[0] && o1 ? `; ${rx(ratio(on, o1))} nginx at ${int(readerCounts[0])} readers` : ''}`,
      `≤ ${MAX_ORIGIN} per write, whatever the readers`, met(on != null && on <= MAX_ORIGIN && lossless(n)))
    row(B, `${int(r)} live readers: push → receive`,
      `through nginx: p50 ${ms(n.latency?.p50_ms)}, p99 ${ms(n.latency?.p99_ms)} (${delivered(n)})`,
      `direct: p50 ${ms(d.latency?.p50_ms)}, p99 ${ms(d.latency?.p99_ms)} (${delivered(d)})`,
      `p50 ${rx(ratio(n.latency?.p50_ms, d.latency?.p50_ms))}, p99 ${rx(ratio(n.latency?.p99_ms, d.latency?.p99_ms))}`,
      'every event to every reader', met(lossless(n) && lossless(d)))
    const cpu = (j) => perWrite(j, (j.gateway?.cpu_s ?? NaN) * 1000)
    const pct = (j) => `${(j.gateway?.cpu_pct ?? NaN).toFixed(1)}% of a core`
    row(B, `${int(r)} live readers: gateway CPU`,
      `through nginx: ${ms(cpu(n))} per write (${pct(n)}); nginx's worker: ${ms(perWrite(n, (n.cache?.cpu_s ?? NaN) * 1000))} per write`,
      `direct: ${ms(cpu(d))} per write (${pct(d)})`,
      rx(ratio(cpu(n), cpu(d)), 3), '—', '—')
  }
  scaleError('cache', B)
}
{
  const B = '10 gateways behind HAProxy'
  const sideRuns = (side) => fs.readdirSync(run).filter((f) => new RegExp(`^gateways_${side}_r\\d+\\.json$`).test(f)).sort().map(readJson)
  const median = (xs) => { const v = xs.filter(Number.isFinite).sort((a, b) => a - b); return v.length ? v[Math.floor((v.length - 1) / 2)] : null }
  const lat = (js) => js.filter((j) => !bad(j)).map((j) => `p50 ${ms(j.latency?.p50_ms)}, p99 ${ms(j.latency?.p99_ms)}`).join('; ') || 'error'
  const p50 = (js) => median(js.filter((j) => !bad(j)).map((j) => j.latency?.p50_ms))
  const same = sideRuns('same')
  const base = same.length ? `same gateway (readers and writer on gw2): ${lat(same)}` : 'no same-gateway run'
  for (const [side, label] of [['cross', 'cross-gateway wake-up: readers on gw2, writer on gw1'], ['haproxy', 'readers and writer through HAProxy (3 gateways, leastconn)']]) {
    const js = sideRuns(side)
    if (!js.length) continue
    const ok = js.every(lossless) && same.every(lossless)
    const j0 = js.find((j) => !bad(j))
    row(B, `${label}, ${int(j0?.readers)} live readers, 1 push / ${j0?.interval_ms} ms${js.length > 1 ? `, ${js.length} rounds` : ''}`,
      `${lat(js)}${ok ? ', none missing' : ` (${js.map((j) => (bad(j) ? j?.error : delivered(j))).join('; ')})`}`, base,
      `p50 ${rx(ratio(p50(js), p50(same)))} (${signed(p50(js) - p50(same))} ms)`, 'every event to every reader', met(ok))
  }
  scaleError('gateways', B)
}
{
  const B = '11 Postgres failover (Patroni)'
  const f = readJson('failover.json')
  if (f && !bad(f)) {
    const limit = (f.ttl_s + 2) * 1000
    row(B, `kill -9 of the primary under ${f.pushers} pushers (synchronous standby)`,
      `promoted after ${(f.promotion_ms / 1000).toFixed(2)} s; ` + (f.longest_stall_ms !== undefined
        ? `longest stall between two acknowledgements of one pusher ${(f.longest_stall_ms / 1000).toFixed(2)} s; first push sent after the promotion acknowledged ${int(f.first_ack_after_promotion_ms)} ms after it${f.acked_between_kill_and_promotion ? ` (${int(f.acked_between_kill_and_promotion)} pushes sent after the kill were committed by the killed primary's surviving backends and replicated)` : ''}`
        : `first push sent after the kill acknowledged after ${(f.first_ack_ms / 1000).toFixed(2)} s (${int(f.first_ack_after_promotion_ms)} ms after the promotion)`),
      `Patroni's ttl: ${f.ttl_s} s (deploy/patroni/patroni.yml); setup ${f.setup_s.toFixed(1)} s`, rx(ratio(f.promotion_ms, f.ttl_s * 1000)),
      `promotion ≤ ttl + 2 s`, met(f.promotion_ms <= limit))
    row(B, 'acknowledged events lost', `${int(f.lost)} of ${int(f.acked)} acknowledged (${int(f.acked_before_kill)} before the kill); ${int(f.unavailable)} pushes answered 503 meanwhile${f.unexpected?.length ? `; unexpected: ${f.unexpected.join(', ')}` : ''}`,
      `${int(f.extra)} stored without an acknowledgement (in flight at the kill)`, '—', '0 lost', met(f.lost === 0 && !f.unexpected?.length))
  } else if (f) row(B, '', `error: ${f.error}`, '', '', '', 'error')
  scaleError('failover', B)
}

// ---- the table ----
const esc = (s) => String(s ?? '').replace(/\|/g, '\\|')
let md = '| Benchmark | Case | Measured | Baseline (same run) | Ratio | Target | Status |\n|---|---|---|---|---|---|---|\n'
for (const r of rows) md += `| ${[r.bench, r.case, r.measured, r.baseline, r.ratio, r.target, r.status].map(esc).join(' | ')} |\n`
const loadEnd = readText('loadavg_end.txt')
const header = `livestore benchmarks, ${ctx.date ?? stamp}${ctx.quick ? ' (quick mode)' : ''}: ${ctx.cpus} × ${ctx.cpu_model}, ${ctx.mem_gb} GB, Linux ${ctx.kernel}, ${ctx.postgres} (fsync on), Node ${ctx.node}, git ${ctx.git}; load average ${ctx.loadavg_start} at start, ${loadEnd || '?'} at end; push points: ${ctx.seconds} s measured after ${ctx.warmup} s warm-up${rounds > 1 ? `, best of ${rounds} rounds per side (sides alternating)` : ''}.`
console.log(header + '\n\n' + md)

// ---- charts (gnuplot) ----
const charts = []
function gnuplot(script, out) {
  try {
    execFileSync('gnuplot', [], { input: script, stdio: ['pipe', 'ignore', 'pipe'] })
    charts.push(out)
  } catch (e) {
    console.error(`gnuplot failed for ${out}: ${String(e.stderr ?? e.message).slice(0, 500)}`)
  }
}
const cdf = (name) => {
  const f = path.join(run, name)
  return fs.existsSync(f) && fs.statSync(f).size > 0 ? f : null
}
const sides = [['gateway', 'gateway', '#1f77b4'], ['reference', 'reference proxy', '#d62728'], ['db', 'DB ceiling (INSERT, libpq)', '#2ca02c'], ['append', 'append over libpq', '#9467bd']]
const pushPng = path.join(results, `push-latency-${stamp}.png`)
if (Object.keys(pushRound).length || batches.some((b) => conc.some((c) => cdf(`cdf_gateway_c${c}_b${b}.dat`)))) {
  let g = `set terminal pngcairo size ${440 * conc.length},${380 * batches.length} font 'sans,9'\nset output '${pushPng}'\n`
  g += `set multiplot layout ${batches.length},${conc.length} title 'Push latency CDF, ${ctx.date ?? stamp}: gateway vs reference proxy vs database-only ceiling (same run)'\n`
  g += "set logscale x\nset grid\nset key outside below horizontal font ',8' samplen 2\nset xlabel 'latency (ms, log scale)'\nset ylabel 'fraction of requests'\nset yrange [0:1]\n"
  for (const b of batches)
    for (const c of conc) {
      const plots = sides.map(([s, title, color]) => [cdf(`cdf_${s}_c${c}_b${b}_r${pushRound[`${s}/${c}/${b}`] ?? 1}.dat`) ?? cdf(`cdf_${s}_c${c}_b${b}.dat`), title, color]).filter(([f]) => f)
      g += `set title 'batch ${b}, ${c} concurrent stores'\n`
      g += plots.length ? `plot ${plots.map(([f, t, col]) => `'${f}' using 1:2 with lines lw 2 lc rgb '${col}' title '${t}'`).join(', ')}\n` : 'plot 0 notitle\n'
    }
  g += 'unset multiplot\n'
  gnuplot(g, pushPng)
}
const fanPng = path.join(results, `fanout-latency-${stamp}.png`)
const fanCdfs = fanFiles.map((r) => [r, cdf(`cdf_fanout_${r}.dat`)]).filter(([, f]) => f)
if (fanCdfs.length) {
  let g = `set terminal pngcairo size 840,420 font 'sans,9'\nset output '${fanPng}'\nset logscale x\nset grid\nset key bottom right\n`
  g += `set title 'Live fan-out: push-to-receive latency CDF across readers, ${ctx.date ?? stamp}'\nset xlabel 'latency (ms, log scale)'\nset ylabel 'fraction of deliveries'\nset yrange [0:1]\n`
  g += `plot ${fanCdfs.map(([r, f]) => `'${f}' using 1:2 with lines lw 2 title '${r} reader${r === 1 ? '' : 's'}'`).join(', ')}\n`
  gnuplot(g, fanPng)
}

// ---- files ----
const raw = {}
for (const f of fs.readdirSync(run).sort()) {
  if (f.endsWith('.json') && f !== 'context.json') raw[f.replace(/\.json$/, '')] = readJson(f)
  else if (f.endsWith('.jsonl')) raw[f.replace(/\.jsonl$/, '')] = readJsonl(f)
}
const out = { context: { ...ctx, loadavg_end: loadEnd }, rows, table_markdown: md, sql_markdown: sqlMd || null, sql_hooks_markdown: hooksMd || null, sql_capture_markdown: captureMd || null, charts, raw }
fs.writeFileSync(path.join(results, `bench-${stamp}.json`), JSON.stringify(out, null, 2))
fs.writeFileSync(path.join(results, `bench-${stamp}.md`), header + '\n\n' + md)
for (const [from, to] of [[`bench-${stamp}.json`, 'latest.json'], [`bench-${stamp}.md`, 'latest.md'], [path.basename(pushPng), 'push-latency.png'], [path.basename(fanPng), 'fanout-latency.png']])
  if (fs.existsSync(path.join(results, from))) fs.copyFileSync(path.join(results, from), path.join(results, to))
console.error(`results: ${path.join(results, `bench-${stamp}.json`)}${charts.length ? `, charts: ${charts.join(', ')}` : ''}`)

// ---- bench/README.md: the latest figures of a complete full run ----
const complete = !ctx.quick && ['push', 'fanout', 'hold', 'pull', 'proxy'].every((k) => rows.some((r) => r.bench.toLowerCase().includes(k === 'push' ? 'http push' : k === 'fanout' ? 'fan-out' : k === 'hold' ? 'held' : k === 'pull' ? 'initial pull' : 'proxy')))
const readme = path.join(path.dirname(results), 'README.md')
if (complete && process.env.BENCH_UPDATE_README !== '0' && fs.existsSync(readme)) {
  const text = fs.readFileSync(readme, 'utf8')
  const begin = '<!-- latest-figures:begin -->', end = '<!-- latest-figures:end -->'
  const i = text.indexOf(begin), j = text.indexOf(end)
  if (i >= 0 && j > i) {
    const block = `${begin}\n${header}\n\n${md}\n![push latency](results/push-latency.png) (written by the run, not committed)\n${end}`
    fs.writeFileSync(readme, text.slice(0, i) + block + text.slice(j + end.length))
    console.error('bench/README.md: latest figures updated')
  }
}
