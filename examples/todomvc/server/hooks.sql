-- The TodoMVC example's server-side rules, in Postgres (livestore 0.2.0 hooks).
--
-- Load as a superuser into the database that has the extension (make demo and
-- the browser test do this); loading it again changes nothing:
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f examples/todomvc/server/hooks.sql
--
-- Two hooks run inside every append (and every livestore.emit), in the same
-- transaction, for every store (pattern '%'; each store is one todo list):
--
--   todomvc.track_todos           keeps todomvc.todo_items (each todo's state)
--                                 and todomvc.todo_stats (per list: open, done),
--                                 rows of todos_legacy captured into a list
--                                 (server/legacy.sql) included
--   todomvc.reject_blocked_words  a v1.TodoCreated whose text contains a word of
--                                 todomvc.todo_blocklist (whole word, any case)
--                                 is accepted, and answered with a compensating
--                                 v1.TodoRejected {id, reason} emitted into the
--                                 same store: every browser applies it (the todo
--                                 disappears and the reason is shown)
--
-- Why compensate rather than livestore.reject(): the stock LiveStore client
-- cannot be told that a batch is refused for good; it would retry it forever and
-- push nothing after it. Refusing is for misbehaving clients; a rule that users
-- should see is an event.
--
-- Rights: the tables and the hook functions belong to the role todomvc_rules
-- (NOLOGIN), and hooks run as their function's owner, so the rules can write
-- their own tables and call livestore.emit, and nothing else. Adding a hook
-- needs a superuser (who is a member of every role).
--
-- The projection follows the app's materializers (src/schema.ts) event by event,
-- so the counts are what every browser shows once it has caught up: a rejected
-- todo is neither open nor done.
--
-- Remove the rules:
--   SELECT livestore.drop_hook('%', 'todomvc.reject_blocked_words(text,jsonb)');
--   SELECT livestore.drop_hook('%', 'todomvc.track_todos(text,jsonb)');
--   DROP SCHEMA todomvc CASCADE;

BEGIN;

DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'todomvc_rules') THEN
    CREATE ROLE todomvc_rules NOLOGIN;
  END IF;
END
$$;
GRANT USAGE ON SCHEMA livestore TO todomvc_rules;
GRANT EXECUTE ON FUNCTION livestore.emit(text, jsonb) TO todomvc_rules;

CREATE SCHEMA IF NOT EXISTS todomvc AUTHORIZATION todomvc_rules;

-- Everything below, up to RESET ROLE, belongs to todomvc_rules.
SET LOCAL ROLE todomvc_rules;

-- Each todo of each list, as the app's materializers leave it.
CREATE TABLE IF NOT EXISTS todomvc.todo_items (
  store_id  text    NOT NULL,
  id        text    NOT NULL,
  text      text,
  completed boolean NOT NULL DEFAULT false,
  rejected  text,                -- the reason, once a v1.TodoRejected names this todo
  PRIMARY KEY (store_id, id)
);

-- Per list (store id): todos open and done, rejected ones not counted.
CREATE TABLE IF NOT EXISTS todomvc.todo_stats (
  store_id   text        PRIMARY KEY,
  open       integer     NOT NULL,
  done       integer     NOT NULL,
  last_seq   integer     NOT NULL,   -- the last event counted: livestore.head(store_id) once committed
  updated_at timestamptz NOT NULL
);

-- Words a todo may not contain (one word each, compared case-insensitively).
CREATE TABLE IF NOT EXISTS todomvc.todo_blocklist (
  word text PRIMARY KEY CHECK (word ~ '^\w+$')
);
INSERT INTO todomvc.todo_blocklist (word) VALUES ('spam'), ('scam'), ('phishing')
ON CONFLICT DO NOTHING;

-- Hook 1: the projection. A batch is a JSON array of stored events
-- {seqNum, parentSeqNum, name, args, clientId, sessionId}.
CREATE OR REPLACE FUNCTION todomvc.track_todos(store text, batch jsonb) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  e    jsonb;
  todo text;
BEGIN
  FOR e IN SELECT value FROM jsonb_array_elements(batch) ORDER BY (value->>'seqNum')::integer LOOP
    todo := e->'args'->>'id';
    CASE e->>'name'
      WHEN 'v1.TodoCreated' THEN
        -- Like the app: a second TodoCreated with a known id changes nothing (the
        -- row may already exist, text unknown, if a rejection was counted first).
        INSERT INTO todomvc.todo_items AS t (store_id, id, text) VALUES (store, todo, e->'args'->>'text')
        ON CONFLICT (store_id, id) DO UPDATE SET text = excluded.text WHERE t.text IS NULL;
      WHEN 'v1.TodoCompleted' THEN
        UPDATE todomvc.todo_items SET completed = true WHERE store_id = store AND id = todo;
      WHEN 'v1.TodoUncompleted' THEN
        UPDATE todomvc.todo_items SET completed = false WHERE store_id = store AND id = todo;
      WHEN 'v1.TodoDeleted' THEN
        DELETE FROM todomvc.todo_items WHERE store_id = store AND id = todo;
      WHEN 'v1.TodoClearedCompleted' THEN
        -- legacy todos (below) belong to their table: only their row removes them
        DELETE FROM todomvc.todo_items WHERE store_id = store AND completed AND id NOT LIKE 'legacy:%';
      WHEN 'v1.TodoRejected' THEN
        INSERT INTO todomvc.todo_items AS t (store_id, id, rejected) VALUES (store, todo, e->'args'->>'reason')
        ON CONFLICT (store_id, id) DO UPDATE SET rejected = excluded.rejected;
      -- Rows of todos_legacy captured into this list (server/legacy.sql): the
      -- todo 'legacy:<id>' is the row as it is now (the app's INSERT OR REPLACE).
      WHEN 'v1.LegacyTodoInserted', 'v1.LegacyTodoUpdated' THEN
        IF e->>'name' = 'v1.LegacyTodoUpdated' AND e->'args'->'old'->>'id' <> e->'args'->'new'->>'id' THEN  -- a new key
          DELETE FROM todomvc.todo_items WHERE store_id = store AND id = 'legacy:' || (e->'args'->'old'->>'id');
        END IF;
        INSERT INTO todomvc.todo_items AS t (store_id, id, text, completed)
        VALUES (store, 'legacy:' || (e->'args'->'new'->>'id'), e->'args'->'new'->>'title',
                (e->'args'->'new'->>'completed')::boolean)
        ON CONFLICT (store_id, id) DO UPDATE SET text = excluded.text, completed = excluded.completed, rejected = NULL;
      WHEN 'v1.LegacyTodoDeleted' THEN
        DELETE FROM todomvc.todo_items WHERE store_id = store AND id = 'legacy:' || (e->'args'->'old'->>'id');
      ELSE
        NULL;  -- events of other apps: not ours
    END CASE;
  END LOOP;

  -- Recounted from todo_items: appends to one store are serialized by the
  -- extension, so this count is exact for the log as of this batch.
  INSERT INTO todomvc.todo_stats AS s (store_id, open, done, last_seq, updated_at)
  SELECT store,
         count(*) FILTER (WHERE NOT i.completed AND i.rejected IS NULL),
         count(*) FILTER (WHERE i.completed AND i.rejected IS NULL),
         (SELECT max((value->>'seqNum')::integer) FROM jsonb_array_elements(batch)),
         now()
  FROM todomvc.todo_items i
  WHERE i.store_id = store
  ON CONFLICT (store_id) DO UPDATE
    SET open = excluded.open, done = excluded.done,
        last_seq = greatest(s.last_seq, excluded.last_seq), updated_at = excluded.updated_at;
END
$fn$;

-- Hook 2: the business rule. Accept the batch, then compensate: one
-- v1.TodoRejected {id, reason} per offending TodoCreated, emitted into the same
-- store right after the batch (same transaction). The emitted batch runs the
-- hooks too: track_todos counts the rejection, and this hook finds nothing in it.
CREATE OR REPLACE FUNCTION todomvc.reject_blocked_words(store text, batch jsonb) RETURNS void
LANGUAGE plpgsql AS $fn$
DECLARE
  rejections jsonb;
BEGIN
  SELECT jsonb_agg(jsonb_build_object(
           'name', 'v1.TodoRejected',
           'args', jsonb_build_object('id', hit.id, 'reason', format('contains the blocked word "%s"', hit.word)))
         ORDER BY hit.seq)
  INTO rejections
  FROM (
    SELECT DISTINCT ON (c.seq) c.seq, c.id, b.word
    FROM (
      SELECT (value->>'seqNum')::integer AS seq, value->'args'->>'id' AS id, value->'args'->>'text' AS body
      FROM jsonb_array_elements(batch)
      WHERE value->>'name' = 'v1.TodoCreated'
        -- only events the app can decode: a TodoRejected must name a real id
        AND jsonb_typeof(value->'args'->'id') = 'string'
        AND jsonb_typeof(value->'args'->'text') = 'string'
    ) c
    CROSS JOIN LATERAL regexp_split_to_table(lower(c.body), '\W+') AS w(token)
    JOIN todomvc.todo_blocklist b ON lower(b.word) = w.token
    ORDER BY c.seq, b.word
  ) hit;

  IF rejections IS NOT NULL THEN
    PERFORM livestore.emit(store, rejections);
  END IF;
END
$fn$;

RESET ROLE;

-- The order matters little (a rejection counted before its TodoCreated is
-- handled), but the projection first reads best in livestore.list_hooks().
DO $$
DECLARE
  h regprocedure;
BEGIN
  FOREACH h IN ARRAY ARRAY['todomvc.track_todos(text,jsonb)', 'todomvc.reject_blocked_words(text,jsonb)']::regprocedure[] LOOP
    IF NOT EXISTS (SELECT FROM livestore.list_hooks() l WHERE l.store_pattern = '%' AND l.hook = h) THEN
      PERFORM livestore.add_hook('%', h);
    END IF;
  END LOOP;
END
$$;

COMMIT;
