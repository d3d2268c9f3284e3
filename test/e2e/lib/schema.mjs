// The LiveStore schema every e2e client uses: one synced event that inserts
// one row. Primary key `id` makes a duplicated event fail materialization, so
// "each event exactly once" is enforced by the client itself.
import { Events, makeSchema, Schema, State } from '@livestore/livestore'

export const items = State.SQLite.table({
  name: 'items',
  columns: {
    id: State.SQLite.text({ primaryKey: true }),
    text: State.SQLite.text({ default: '' }),
  },
})

export const itemAdded = Events.synced({
  name: 'v1.ItemAdded',
  schema: Schema.Struct({ id: Schema.String, text: Schema.String }),
})

export const schema = makeSchema({
  events: { itemAdded },
  state: State.SQLite.makeState({
    tables: { items },
    materializers: State.SQLite.materializers({ itemAdded }, { 'v1.ItemAdded': (a) => items.insert(a) }),
  }),
})

// The reference example's pull payload: the token travels only here (doc §4.2).
export const SyncPayload = Schema.Struct({ authToken: Schema.String })
