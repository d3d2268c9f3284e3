// The TodoMVC schema: events are what syncs through the gateway (each one a
// row of the store's Postgres event log); the `todos` table is each browser's
// own SQLite state, rebuilt from those events by the materializers below.
// server/hooks.sql mirrors these materializers in Postgres (todo_stats), so a
// new event here needs a line there too.
//
// Three events come from an existing table instead of a browser: the rows of
// `todos_legacy`, written by plain SQL as an old backend would, captured into
// one list by server/legacy.sql (livestore.capture and import_rows). They
// carry the row as Postgres' to_jsonb() makes it, and become todos with the id
// `legacy:<primary key>`, which no app-made id can take (nanoid and uuids have
// no ':'). The table stays their source of truth: the page shows them
// read-only, and Clear completed leaves them alone.
import { Events, makeSchema, Schema, State } from '@livestore/livestore'

export const todos = State.SQLite.table({
  name: 'todos',
  columns: {
    id: State.SQLite.text({ primaryKey: true }),
    text: State.SQLite.text({ default: '' }),
    completed: State.SQLite.boolean({ default: false }),
    createdBy: State.SQLite.text({ default: '' }),
    createdAt: State.SQLite.integer({ default: 0 }),
    // Set by a v1.TodoRejected from the server: the todo leaves the list and
    // this reason is shown instead.
    rejected: State.SQLite.text({ nullable: true }),
  },
})

// A row of todos_legacy as to_jsonb() encodes it (column names are the keys;
// columns not named here are ignored). Its constraints (server/legacy.sql)
// guarantee these types: a row that did not fit would fail every browser.
const LegacyRow = Schema.Struct({
  id: Schema.Union(Schema.Number, Schema.String),
  title: Schema.String,
  completed: Schema.Boolean,
  created_at: Schema.optional(Schema.String), // timestamptz, ISO 8601 with offset
})
type LegacyRow = typeof LegacyRow.Type

/** The todo id of a legacy row; no other todo id contains ':'. */
export const LEGACY_ID_PREFIX = 'legacy:'
export const isLegacy = (id: string) => id.startsWith(LEGACY_ID_PREFIX)
const legacyId = (row: LegacyRow) => `${LEGACY_ID_PREFIX}${row.id}`
const legacyTodo = (row: LegacyRow) => {
  const createdAt = row.created_at === undefined ? NaN : Date.parse(row.created_at)
  return {
    id: legacyId(row),
    text: row.title,
    completed: row.completed,
    createdBy: 'todos_legacy',
    createdAt: Number.isFinite(createdAt) ? createdAt : 0,
  }
}

export const events = {
  todoCreated: Events.synced({
    name: 'v1.TodoCreated',
    schema: Schema.Struct({ id: Schema.String, text: Schema.String, createdBy: Schema.String, createdAt: Schema.Number }),
  }),
  todoCompleted: Events.synced({ name: 'v1.TodoCompleted', schema: Schema.Struct({ id: Schema.String }) }),
  todoUncompleted: Events.synced({ name: 'v1.TodoUncompleted', schema: Schema.Struct({ id: Schema.String }) }),
  todoDeleted: Events.synced({ name: 'v1.TodoDeleted', schema: Schema.Struct({ id: Schema.String }) }),
  todoClearedCompleted: Events.synced({ name: 'v1.TodoClearedCompleted', schema: Schema.Struct({}) }),
  // Emitted by the server only (examples/todomvc/server/hooks.sql), right after
  // a TodoCreated it refuses to keep: the push was accepted, so this event is
  // how every browser learns that the todo is gone, and why.
  todoRejected: Events.synced({ name: 'v1.TodoRejected', schema: Schema.Struct({ id: Schema.String, reason: Schema.String }) }),
  // Emitted by the server only: livestore.capture('todos_legacy', <list>,
  // 'v1.LegacyTodo') turns every committed INSERT, UPDATE and DELETE of a row
  // into one of these (import_rows: an Inserted for each row already there).
  legacyTodoInserted: Events.synced({ name: 'v1.LegacyTodoInserted', schema: Schema.Struct({ new: LegacyRow }) }),
  legacyTodoUpdated: Events.synced({ name: 'v1.LegacyTodoUpdated', schema: Schema.Struct({ old: LegacyRow, new: LegacyRow }) }),
  legacyTodoDeleted: Events.synced({ name: 'v1.LegacyTodoDeleted', schema: Schema.Struct({ old: LegacyRow }) }),
}

const materializers = State.SQLite.materializers(events, {
  'v1.TodoCreated': (todo) => todos.insert(todo).onConflict('id', 'ignore'),
  'v1.TodoCompleted': ({ id }) => todos.update({ completed: true }).where({ id }),
  'v1.TodoUncompleted': ({ id }) => todos.update({ completed: false }).where({ id }),
  'v1.TodoDeleted': ({ id }) => todos.delete().where({ id }),
  // Legacy todos belong to their table: only a change of their row removes them.
  'v1.TodoClearedCompleted': () =>
    todos.delete().where({ completed: true, id: { op: 'NOT LIKE', value: `${LEGACY_ID_PREFIX}%` } }),
  'v1.TodoRejected': ({ id, reason }) => todos.update({ rejected: reason }).where({ id }),
  // The row as it is now, whatever the list had before (an upsert: also right
  // for a row changed before the list saw it, e.g. captured without import).
  'v1.LegacyTodoInserted': ({ new: row }) => todos.insert(legacyTodo(row)).onConflict('id', 'replace'),
  'v1.LegacyTodoUpdated': ({ old, new: row }) =>
    legacyId(old) === legacyId(row)
      ? todos.insert(legacyTodo(row)).onConflict('id', 'replace')
      : // the primary key itself changed: the old todo goes, the new one comes
        [todos.delete().where({ id: legacyId(old) }), todos.insert(legacyTodo(row)).onConflict('id', 'replace')],
  'v1.LegacyTodoDeleted': ({ old }) => todos.delete().where({ id: legacyId(old) }),
})

export const schema = makeSchema({ events, state: State.SQLite.makeState({ tables: { todos }, materializers }) })

// Sent by the page to its leader worker, which passes it to the sync backend:
// `endpoint` is the gateway URL (the worker cannot read the page's URL), and
// `authToken` reaches the gateway in every pull for `--auth-token`.
export const SyncPayload = Schema.Struct({ endpoint: Schema.String, authToken: Schema.optional(Schema.String) })
