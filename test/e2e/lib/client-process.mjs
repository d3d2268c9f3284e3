// Child-process entry: one real LiveStore client (Node adapter + the stock
// @livestore/sync-electric backend), driven by the test over IPC.
//
// Why a process per client: the Node adapter's shutdown channel is a
// BroadcastChannel named after the storeId only, so two stores of the same
// storeId in one process shut each other down when either one's sync fails
// (or is reset). Separate processes are also what real clients are.
//
// argv[2] is JSON: { storeId, endpoint, clientId, sessionId, storage, authToken, onSyncError, ping, headers }.
// `headers` are added to every request the client sends, as a browser adds a
// same-origin cookie or a proxy in front of the gateway adds Authorization:
// the stock client itself sends no credential on push (doc section 7.1).
// Ops: commit, items, rejections, rows (any table of schema.mjs), status, close.
// Messages to the parent: {type:'ready'}, {type:'items', t, ids}, {type:'shutdown', ok, cause},
// {type:'reply', id, result|error}. Times `t` are process.hrtime in ms: the
// monotonic clock is shared by all processes on the machine, so a commit time
// in one client and a first-seen time in another can be subtracted.
import { makeAdapter } from '@livestore/adapter-node'
import { createStorePromise, EventSequenceNumber, makeShutdownDeferred, StoreInternalsSymbol } from '@livestore/livestore'
import { makeSyncBackend } from '@livestore/sync-electric'
import { Cause, Deferred, Effect, Exit } from 'effect'

import { itemAdded, items, rejections, schema, SyncPayload, tables } from './schema.mjs'

const cfg = JSON.parse(process.argv[2])
const now = () => Number(process.hrtime.bigint()) / 1e6
const send = (msg) => process.connected && process.send(msg)

// The parent going away (test crash, timeout) must not leave clients behind.
process.on('disconnect', () => process.exit(0))

// Effect's fetch client reads globalThis.fetch at every request.
if (cfg.headers) {
  const plainFetch = globalThis.fetch
  globalThis.fetch = (input, init = {}) => {
    const headers = new Headers(init.headers ?? (input instanceof Request ? input.headers : undefined))
    for (const [k, v] of Object.entries(cfg.headers)) headers.set(k, v)
    return plainFetch(input, { ...init, headers })
  }
}

const shutdownDeferred = Effect.runSync(makeShutdownDeferred)
Effect.runPromiseExit(Deferred.await(shutdownDeferred)).then((exit) => {
  // Reported whatever the reason; the parent treats any shutdown it did not ask for as a failure.
  send({
    type: 'shutdown',
    t: now(),
    ok: Exit.isSuccess(exit),
    cause: Exit.isSuccess(exit) ? JSON.stringify(exit.value) : Cause.pretty(exit.cause),
  })
})

const store = await createStorePromise({
  storeId: cfg.storeId,
  schema,
  disableDevtools: true,
  shutdownDeferred,
  syncPayloadSchema: SyncPayload,
  syncPayload: { authToken: cfg.authToken },
  adapter: makeAdapter({
    storage: cfg.storage,
    clientId: cfg.clientId,
    sessionId: cfg.sessionId,
    sync: {
      backend: makeSyncBackend({ endpoint: cfg.endpoint, ...(cfg.ping ? { ping: cfg.ping } : {}) }),
      onSyncError: cfg.onSyncError,
    },
  }),
})

// Every change of the items table is reported with its time, so the parent
// knows when each id first appeared here.
store.subscribe(items, (rows) => send({ type: 'items', t: now(), ids: rows.map((r) => r.id) }))

const ops = {
  // Separate commits, back to back: the leader batches them as a real app's would.
  commit: ({ items: list }) => {
    const t = now()
    for (const it of list) store.commit(itemAdded(it))
    return { t }
  },
  items: () => store.query(items),
  rejections: () => store.query(rejections),
  rows: ({ table }) => store.query(tables[table]),
  // store.syncStatus() is the session's view (pending = not yet taken by the
  // leader); what the backend confirmed is the leader's sync state.
  status: async () => {
    const leaderThread = store[StoreInternalsSymbol].clientSession.leaderThread
    const ls = await Effect.runPromise(leaderThread.syncState.get)
    const net = await Effect.runPromise(leaderThread.networkStatus.get)
    const str = EventSequenceNumber.Client.toString
    return {
      session: store.syncStatus(),
      upstreamHead: str(ls.upstreamHead),
      localHead: str(ls.localHead),
      pendingCount: ls.pending.length,
      isConnected: net.isConnected,
    }
  },
  close: async () => {
    await store.shutdownPromise()
    return { t: now() }
  },
}

process.on('message', async ({ id, op, ...args }) => {
  try {
    const result = await ops[op](args)
    send({ type: 'reply', id, result })
  } catch (e) {
    send({ type: 'reply', id, error: String(e?.stack ?? e) })
  }
  // Also after a failed close (a store the sync already shut down): the process is done.
  if (op === 'close') setTimeout(() => process.exit(0), 50)
})

send({ type: 'ready', t: now() })
