// Page prefetch (gw/page_prefetch.h): after a full page is served, the page
// after it is read on a prefetch thread into the page cache, so that a client
// catching up finds its next page there. Checked against a gateway with
// prefetching off on the same database: every answer byte for byte the same;
// the counts in /metrics say which pages were prefetched, which read for a
// request and which served from the cache; never a prefetch past the head.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { after, before, test } from 'node:test'

import { psql, startCluster, startGateway, waitFor } from '../lib/harness.mjs'
import { events, pullUrl, pushBatch } from './lib.mjs'

let pg, on, off, nocache
before(async () => {
  pg = await startCluster()
  const common = { databaseUrl: pg.url, longPollTimeout: 2, shapeApi: true }
  on = await startGateway({ ...common, args: ['--page-events', '3'] })  // prefetching on by default
  off = await startGateway({ ...common, args: ['--page-events', '3', '--page-prefetch', '0'] })
  nocache = await startGateway({ ...common, args: ['--page-events', '3', '--page-cache-mb', '0'] })
})
after(async () => {
  await on?.stop()
  await off?.stop()
  await nocache?.stop()
  await pg?.stop()
})

async function metrics(gw) {
  const text = await (await fetch(`${gw.url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text()
  const get = (name) => {
    const m = text.match(new RegExp(`^livestore_gateway_${name} (\\d+)`, 'm'))
    assert.ok(m, `${name} in /metrics`)
    return Number(m[1])
  }
  return { prefetches: get('page_prefetches_total'), queries: get('page_queries_total'), hits: get('page_cache_hits_total') }
}

// An answer as the client sees it: status, the headers that carry meaning, the exact body.
async function get(url) {
  const r = await fetch(url, { signal: AbortSignal.timeout(30_000) })
  const headers = {}
  for (const h of ['electric-handle', 'electric-offset', 'electric-has-data', 'electric-up-to-date', 'electric-schema',
                   'cache-control', 'content-type', 'content-length'])
    headers[h] = r.headers.get(h)
  return { status: r.status, headers, text: await r.text() }
}

const seqs = (a) => JSON.parse(a.text).filter((m) => m.value).map((m) => Number(m.value.seqNum))

// The LiveStore client's chain (handle None, then the offsets answered, live)
// until an empty page. `before(i)` runs before the i-th request after the first.
async function chain(gw, storeId, before = async () => {}) {
  const answers = [await get(pullUrl(gw.endpoint, { storeId }))]
  for (let i = 1; seqs(answers.at(-1)).length > 0; i++) {
    assert.ok(i < 20, 'the chain ends')
    await before(i)
    const last = answers.at(-1).headers
    answers.push(await get(pullUrl(gw.endpoint, { storeId, handle: last['electric-handle'], offset: last['electric-offset'] })))
  }
  return answers
}

test('a client catching up is served prefetched pages, byte for byte the pages read for it; none past the head', async () => {
  assert.equal((await pushBatch(on.endpoint, 'pf-a', events(1, 9))).status, 200)  // three full pages
  const m0 = await metrics(on)
  let want = m0.prefetches
  const answers = await chain(on, 'pf-a', async (i) => {
    // The page after each full page with more after it: 4-6 after 1-3, 7-9 after 4-6.
    if (i <= 2) {
      want++
      await waitFor(async () => (await metrics(on)).prefetches === want, { what: `prefetch ${i}` })
    } else {
      // 7-9 ends at the head: nothing to prefetch. Give a wrong one time to show.
      await new Promise((r) => setTimeout(r, 500))
    }
  })
  assert.deepEqual(answers.map(seqs), [[1, 2, 3], [4, 5, 6], [7, 8, 9], []])
  const m1 = await metrics(on)
  assert.equal(m1.prefetches - m0.prefetches, 2)
  assert.equal(m1.hits - m0.hits, 2, 'pages 4-6 and 7-9 came from the cache')
  assert.equal(m1.queries - m0.queries, 2, 'page 1-3 and the empty head page were read for their requests')

  const fresh = await chain(off, 'pf-a')
  assert.equal((await metrics(off)).prefetches, 0)
  assert.deepEqual(answers, fresh)
})

test('a short page after a full one is prefetched as the head page, equal to one read for its request', async () => {
  assert.equal((await pushBatch(on.endpoint, 'pf-b', events(1, 5))).status, 200)
  const m0 = await metrics(on)
  const answers = await chain(on, 'pf-b', async (i) => {
    if (i === 1) await waitFor(async () => (await metrics(on)).prefetches === m0.prefetches + 1, { what: 'prefetch' })
  })
  assert.deepEqual(answers.map(seqs), [[1, 2, 3], [4, 5], []])
  const m1 = await metrics(on)
  assert.equal(m1.prefetches - m0.prefetches, 1)
  assert.equal(m1.hits - m0.hits, 1, 'page 4-5 came from the cache (no write since it was read)')
  assert.deepEqual(answers, await chain(off, 'pf-b'))
})

test('/v1/shape pages are prefetched too, and equal the pages read for their requests', async () => {
  assert.equal((await pushBatch(on.endpoint, 'pf-c', events(1, 7))).status, 200)
  const table = await psql(pg.url, `SELECT table_name FROM livestore.store_info('pf-c')`)
  const shape = async (gw, before = async () => {}) => {
    const out = [await get(`${gw.url}/v1/shape?table=${table}&offset=-1`)]
    const upToDate = (a) => JSON.parse(a.text).some((m) => m.headers?.control === 'up-to-date')
    for (let i = 1; !upToDate(out.at(-1)); i++) {
      assert.ok(i < 20, 'the shape log ends')
      await before(i)
      const h = out.at(-1).headers
      out.push(await get(`${gw.url}/v1/shape?table=${table}&offset=${h['electric-offset']}&handle=${h['electric-handle']}`))
    }
    return out
  }
  const m0 = await metrics(on)
  let want = m0.prefetches
  const answers = await shape(on, async (i) => {
    if (i > 2) return
    want++
    await waitFor(async () => (await metrics(on)).prefetches === want, { what: `prefetch ${i}` })
  })
  assert.deepEqual(answers.map(seqs), [[1, 2, 3], [4, 5, 6], [7]])
  const m1 = await metrics(on)
  assert.equal(m1.prefetches - m0.prefetches, 2)
  assert.equal(m1.hits - m0.hits, 2)
  assert.deepEqual(answers, await shape(off))
})

test('a request that comes while its page is being prefetched waits for that read, and is served its page', async () => {
  assert.equal((await pushBatch(on.endpoint, 'pf-e', events(1, 13))).status, 200)
  const table = await psql(pg.url, `SELECT table_name FROM livestore.store_info('pf-e')`)
  const m0 = await metrics(on)
  const first = await get(pullUrl(on.endpoint, { storeId: 'pf-e' }))  // 1-3; 4-6 prefetched
  await waitFor(async () => (await metrics(on)).prefetches === m0.prefetches + 1, { what: 'prefetch of 4-6' })
  const at = (a) => pullUrl(on.endpoint, { storeId: 'pf-e', handle: a.headers['electric-handle'], offset: a.headers['electric-offset'] })
  // Hold the prefetch of 7-9 on a lock, so that the request for 7-9 waits for it.
  const locker = spawn('psql', [pg.url, '-X', '-q', '-v', 'ON_ERROR_STOP=1'], { stdio: ['pipe', 'ignore', 'inherit'] })
  locker.stdin.write(`BEGIN; LOCK TABLE public."${table}" IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(0);\n`)
  try {
    await waitFor(async () => (await psql(pg.url, `SELECT count(*) FROM pg_locks WHERE relation = 'public."${table}"'::regclass AND mode = 'AccessExclusiveLock' AND granted`)) !== '0', { what: 'the lock' })
    const second = await get(at(first))  // 4-6 from the cache; 7-9 prefetched, waits on the lock
    await waitFor(async () => (await psql(pg.url, `SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%livestore.events%'`)) === '1', { what: 'the prefetch waits on the lock' })
    const third = get(at(second))  // waits for the prefetch of 7-9
    await new Promise((r) => setTimeout(r, 1000))
    locker.stdin.end('COMMIT;\n')
    const answers = [first, second, await third]
    // 10-12 is read ahead as well (right after 7-9, the client waiting on it).
    await waitFor(async () => (await metrics(on)).prefetches === m0.prefetches + 3, { what: 'prefetch of 10-12' })
    answers.push(await get(at(answers[2])))
    const m1 = await metrics(on)
    assert.deepEqual(answers.map(seqs), [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]])
    assert.equal(m1.queries - m0.queries, 1, 'only page 1-3 was read for its request')
    assert.equal(m1.hits - m0.hits, 3)
  } finally {
    if (locker.exitCode === null) locker.stdin.end('ROLLBACK;\n')
    await new Promise((r) => (locker.exitCode !== null ? r() : locker.on('exit', r)))
  }
})

test('without a page cache (--page-cache-mb 0) nothing is prefetched', async () => {
  assert.equal((await pushBatch(nocache.endpoint, 'pf-d', events(1, 9))).status, 200)
  const m0 = await metrics(nocache)
  const answers = await chain(nocache, 'pf-d')
  assert.deepEqual(answers.map(seqs), [[1, 2, 3], [4, 5, 6], [7, 8, 9], []])
  const m1 = await metrics(nocache)
  assert.equal(m1.prefetches, 0)
  assert.equal(m1.queries - m0.queries, 4)
  assert.deepEqual(answers, await chain(off, 'pf-d'))
})
