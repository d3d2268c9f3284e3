-- livestore.capture(): every committed row change of an existing table
-- becomes an event, one emit per statement, in the writers' commit order.
\set VERBOSITY sqlstate
\set SHOW_CONTEXT never

CREATE TABLE todos_legacy (id integer PRIMARY KEY, title text NOT NULL, done boolean NOT NULL DEFAULT false);
INSERT INTO todos_legacy VALUES (1, 'before capture');
SELECT livestore.capture('todos_legacy', 'legacy-list', 'v1.Legacy');
SELECT source, store_id, event_prefix FROM livestore.list_captures();
SELECT livestore.head('legacy-list');          -- created, empty: existing rows are import_rows' job

-- Insert, update, delete; a multi-row statement is one batch.
INSERT INTO todos_legacy VALUES (2, 'milk'), (3, 'bread'), (4, 'eggs');
UPDATE todos_legacy SET done = true WHERE id IN (2, 4);
DELETE FROM todos_legacy WHERE id = 3;
UPDATE todos_legacy SET title = title WHERE false;    -- no row: no event
INSERT INTO todos_legacy VALUES (5, 'upsert') ON CONFLICT (id) DO UPDATE SET title = excluded.title;
INSERT INTO todos_legacy VALUES (5, 'upserted') ON CONFLICT (id) DO UPDATE SET title = excluded.title;
SELECT "seqNum", "parentSeqNum", name, args, "clientId" FROM livestore.events('legacy-list');

-- A rolled-back change emits nothing; a savepoint rolled back takes its
-- events with it.
BEGIN;
INSERT INTO todos_legacy VALUES (6, 'rolled back');
ROLLBACK;
BEGIN;
INSERT INTO todos_legacy VALUES (7, 'kept');
SAVEPOINT s;
INSERT INTO todos_legacy VALUES (8, 'undone');
ROLLBACK TO s;
COMMIT;
SELECT "seqNum", name, args->'new'->>'id' AS id FROM livestore.events('legacy-list', 7);

-- 25,000 rows in one statement: emitted in slices of 10,000 (three emits),
-- every row once, in order.
INSERT INTO todos_legacy SELECT g, 'bulk ' || g FROM generate_series(1000, 25999) g;
SELECT count(*) AS events, min("seqNum") AS first, max("seqNum") AS last,
       bool_and((args->'new'->>'id')::int = "seqNum" + 990) AS in_row_order
  FROM livestore.events('legacy-list', 9, 100000);
DELETE FROM todos_legacy WHERE id >= 1000;
SELECT livestore.head('legacy-list');

-- The same table into a second store, with its own prefix.
SELECT livestore.capture('todos_legacy', 'audit', 'v2.Row');
UPDATE todos_legacy SET title = 'milk!' WHERE id = 2;
SELECT name, args->'new'->>'title' AS title FROM livestore.events('audit');
SELECT name FROM livestore.events('legacy-list', 50008);

-- Refused: TRUNCATE (55000) and DROP TABLE (2BP01) while captured; twice
-- (42710); not a table (42809); an event log (42809); bad input.
TRUNCATE todos_legacy;
DROP TABLE todos_legacy;
SELECT livestore.capture('todos_legacy', 'audit', 'v2.Row');
CREATE VIEW legacy_view AS SELECT * FROM todos_legacy;
SELECT livestore.capture('legacy_view', 'v', 'v1.V');
SELECT livestore.capture('eventlog_6_audit', 'meta', 'v1.M');
SELECT livestore.capture('todos_legacy', 'bad id', 'v1.X');
SELECT livestore.capture('todos_legacy', 'x', '');
SELECT livestore.capture('todos_legacy', NULL, 'v1.X');
SELECT livestore.uncapture('todos_legacy', 'nope');
SELECT count(*) AS stores_from_bad_input FROM livestore.stores WHERE store_id IN ('v', 'meta', 'x');

-- Only the extension's owner captures (the triggers emit with its rights).
-- The old backend's role needs no right in schema livestore to be captured,
-- and cannot point the capture trigger at a store of its choice.
CREATE ROLE regress_ls_app;
GRANT ALL ON todos_legacy TO regress_ls_app;
SET ROLE regress_ls_app;
INSERT INTO todos_legacy VALUES (9, 'by the app role');
CREATE TRIGGER sneak AFTER INSERT ON todos_legacy REFERENCING NEW TABLE AS livestore_new
  FOR EACH STATEMENT EXECUTE FUNCTION livestore._capture('other', 'v1.Sneak');  -- 42501
RESET ROLE;
GRANT USAGE ON SCHEMA livestore TO regress_ls_app;
GRANT EXECUTE ON FUNCTION livestore.capture(regclass, text, text), livestore.uncapture(regclass, text)
  TO regress_ls_app;
SET ROLE regress_ls_app;
SELECT livestore.capture('todos_legacy', 'mine', 'v1.Mine');       -- 42501
SELECT livestore.uncapture('todos_legacy', 'audit');               -- 42501
RESET ROLE;
SELECT name, args->'new'->>'title' AS title FROM livestore.events('audit', 1);

-- uncapture: the triggers go, the store and its log stay.
SELECT livestore.uncapture('todos_legacy', 'audit');
SELECT livestore.uncapture('todos_legacy', 'legacy-list');
INSERT INTO todos_legacy VALUES (10, 'not captured');
SELECT livestore.head('audit'), livestore.head('legacy-list');
SELECT count(*) AS triggers_left FROM pg_trigger WHERE tgrelid = 'todos_legacy'::regclass AND tgname LIKE 'livestore%';
TRUNCATE todos_legacy;

REVOKE ALL ON todos_legacy FROM regress_ls_app;
REVOKE ALL ON SCHEMA livestore FROM regress_ls_app;
REVOKE ALL ON FUNCTION livestore.capture(regclass, text, text), livestore.uncapture(regclass, text)
  FROM regress_ls_app;
DROP ROLE regress_ls_app;
DROP VIEW legacy_view;
DROP TABLE todos_legacy;
SELECT count(*) AS dropped FROM (SELECT livestore.drop_store(store_id) FROM livestore.stores) d;
