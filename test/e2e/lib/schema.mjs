// The LiveStore schema every e2e client uses: one synced event that inserts
// one row. Primary key `id` makes a duplicated event fail materialization, so
// "each event exactly once" is enforced by the client itself.
// `v1.ItemRejected` is the compensating event a server-side hook emits
// (hooks.test.mjs): it removes the item and records why.
// `v1.LegacyInserted/Updated/Deleted` are what livestore.capture(table, store,
// 'v1.Legacy') emits for each row change of a Postgres table (capture.test.mjs):
// args {new}, {old, new}, {old}, rows as to_jsonb; `legacy_todos` follows them.
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

// The columns of the captured Postgres table (capture.test.mjs creates it).
export const legacyTodos = State.SQLite.table({
  name: 'legacy_todos',
  columns: {
    id: State.SQLite.text({ primaryKey: true }),
    title: State.SQLite.text({ default: '' }),
    done: State.SQLite.boolean({ default: false }),
    priority: State.SQLite.integer({ default: 0 }),
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

const LegacyRow = Schema.Struct({ id: Schema.String, title: Schema.String, done: Schema.Boolean, priority: Schema.Number })
export const legacyInserted = Events.synced({ name: 'v1.LegacyInserted', schema: Schema.Struct({ new: LegacyRow }) })
export const legacyUpdated = Events.synced({ name: 'v1.LegacyUpdated', schema: Schema.Struct({ old: LegacyRow, new: LegacyRow }) })
export const legacyDeleted = Events.synced({ name: 'v1.LegacyDeleted', schema: Schema.Struct({ old: LegacyRow }) })

const events = { itemAdded, itemRejected, legacyInserted, legacyUpdated, legacyDeleted }

/** The client's tables by name (the `rows` op of client-process.mjs). */
export const tables = { items, rejections, legacy_todos: legacyTodos }

export const schema = makeSchema({
  events,
  state: State.SQLite.makeState({
    tables,
    materializers: State.SQLite.materializers(events, {
      'v1.ItemAdded': (a) => items.insert(a),
      'v1.ItemRejected': ({ id, reason }) => [items.delete().where({ id }), rejections.insert({ id, reason })],
      // Plain inserts: a row captured twice fails materialization (primary key).
      'v1.LegacyInserted': ({ new: row }) => legacyTodos.insert(row),
      'v1.LegacyUpdated': ({ old, new: row }) => legacyTodos.update(row).where({ id: old.id }),
      'v1.LegacyDeleted': ({ old }) => legacyTodos.delete().where({ id: old.id }),
    }),
  }),
})

// The reference example's pull payload: the token travels only here (doc §4.2).
export const SyncPayload = Schema.Struct({ authToken: Schema.String })
