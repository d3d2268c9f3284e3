// The LiveStore schema every e2e client uses: one synced event that inserts
// one row. Primary key `id` makes a duplicated event fail materialization, so
// "each event exactly once" is enforced by the client itself.
// `v1.ItemRejected` is the compensating event a server-side hook emits
// (hooks.test.mjs): it removes the item and records why.
import { Events, makeSchema, Schema, State } from '@livestore/livestore'

export const items = State.SQLite.table({
  name: 'items',
  columns: {
    id: State.SQLite.text({ primaryKey: true }),
    text: State.SQLite.text({ default: '' }),
  },
})

export const rejections = State.SQLite.table({
  name: 'rejections',
  columns: {
    id: State.SQLite.text({ primaryKey: true }),
    reason: State.SQLite.text({ default: '' }),
  },
})

export const itemAdded = Events.synced({
  name: 'v1.ItemAdded',
  schema: Schema.Struct({ id: Schema.String, text: Schema.String }),
})

export const itemRejected = Events.synced({
  name: 'v1.ItemRejected',
  schema: Schema.Struct({ id: Schema.String, reason: Schema.String }),
})

export const schema = makeSchema({
  events: { itemAdded, itemRejected },
  state: State.SQLite.makeState({
    tables: { items, rejections },
    materializers: State.SQLite.materializers({ itemAdded, itemRejected }, {
      'v1.ItemAdded': (a) => items.insert(a),
      'v1.ItemRejected': ({ id, reason }) => [items.delete().where({ id }), rejections.insert({ id, reason })],
    }),
  }),
})

// The reference example's pull payload: the token travels only here (doc §4.2).
export const SyncPayload = Schema.Struct({ authToken: Schema.String })
