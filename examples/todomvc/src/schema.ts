// The TodoMVC schema: events are what syncs through the gateway (each one a
// row of the store's Postgres event log); the `todos` table is each browser's
// own SQLite state, rebuilt from those events by the materializers below.
// server/hooks.sql mirrors these materializers in Postgres (todo_stats), so a
// new event here needs a line there too.
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
}

const materializers = State.SQLite.materializers(events, {
  'v1.TodoCreated': (todo) => todos.insert(todo).onConflict('id', 'ignore'),
  'v1.TodoCompleted': ({ id }) => todos.update({ completed: true }).where({ id }),
  'v1.TodoUncompleted': ({ id }) => todos.update({ completed: false }).where({ id }),
  'v1.TodoDeleted': ({ id }) => todos.delete().where({ id }),
  'v1.TodoClearedCompleted': () => todos.delete().where({ completed: true }),
  'v1.TodoRejected': ({ id, reason }) => todos.update({ rejected: reason }).where({ id }),
})

export const schema = makeSchema({ events, state: State.SQLite.makeState({ tables: { todos }, materializers }) })

// Sent by the page to its leader worker, which passes it to the sync backend:
// `endpoint` is the gateway URL (the worker cannot read the page's URL), and
// `authToken` reaches the gateway in every pull for `--auth-token`.
export const SyncPayload = Schema.Struct({ endpoint: Schema.String, authToken: Schema.optional(Schema.String) })
