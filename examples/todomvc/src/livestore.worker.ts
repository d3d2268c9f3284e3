// The leader worker: owns the OPFS database and the sync loop with the gateway.
// The endpoint arrives in the sync payload, so one build works with any gateway.
import { makeWorker } from '@livestore/adapter-web/worker'
import { makeSyncBackend } from '@livestore/sync-electric'

import { schema, SyncPayload } from './schema.ts'

makeWorker({
  schema,
  syncPayloadSchema: SyncPayload,
  sync: {
    backend: (args) => makeSyncBackend({ endpoint: (args.payload as typeof SyncPayload.Type).endpoint })(args),
  },
})
