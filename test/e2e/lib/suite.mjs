// Per-file and per-test plumbing: one Postgres cluster per test file (started
// in before(), stopped in after(); logs kept under build/test-harness/), a work folder per test, and a cleanup
// stack per test so clients close before the gateways they talk to.
import { after, before } from 'node:test'
import { mkdirSync, rmSync } from 'node:fs'
import path from 'node:path'

import { makeWorkDir, startCluster } from '../../lib/harness.mjs'

export function useCluster(name) {
  const ctx = { cluster: null, dir: null }
  before(async () => {
    ctx.dir = makeWorkDir(`e2e-${name}`)
    ctx.cluster = await startCluster({ dir: path.join(ctx.dir, 'pg') })
  })
  after(async () => {
    await ctx.cluster?.stop()
    // The data folder is big; the logs (postgres.log, gateway and client logs) stay for inspection.
    if (ctx.cluster && !process.env.LIVESTORE_KEEP_TMP) rmSync(path.join(ctx.cluster.dir, 'data'), { recursive: true, force: true })
  })
  return ctx
}

/** A folder for this test's logs and client files, and `defer(fn)`: run at test end, last in first out. */
export function testScope(t, ctx, name) {
  const dir = path.join(ctx.dir, name.replace(/[^a-zA-Z0-9_-]+/g, '_'))
  mkdirSync(dir, { recursive: true })
  const stack = []
  t.after(async () => {
    while (stack.length) await Promise.resolve().then(stack.pop()).catch(() => {})
  })
  return { dir, defer: (fn) => stack.push(fn) }
}

/** A storeId unique to this run, valid for the client (^[a-zA-Z0-9_-]+$). */
export const uniqueStoreId = (name) => `e2e_${name}_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`

/** Run `fn`; if it throws, append the gateways' log tails to the error so a failure explains itself. */
export async function explained(backend, fn) {
  try {
    return await fn()
  } catch (e) {
    if (backend) e.message += `\n${backend.logs()}`
    throw e
  }
}
