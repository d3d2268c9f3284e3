-- create_store: the v6 table, idempotence, adoption of a reference-server
-- table, and the store ids it refuses.
\set VERBOSITY sqlstate
\set SHOW_CONTEXT never

-- Tables of this test and the stores catalog, to show what a call changed.
CREATE VIEW cs_state AS
  SELECT left(s.store_id, 12) AS store_id, length(s.store_id) AS id_length, s.table_name, s.schema_name, livestore.head(s.store_id) AS head,
         s.handle ~ '^[0-9]+-[0-9]+$' AS handle_ok   -- "<table oid>-<creation time>": varies
    FROM livestore.stores s ORDER BY s.table_name;
CREATE VIEW cs_tables AS
  SELECT c.oid::regclass AS tbl FROM pg_class c
   WHERE c.relname LIKE 'eventlog%' AND c.relkind = 'r' ORDER BY 1::text;

SELECT livestore.create_store('demo_store');
SELECT livestore.create_store('demo_store');   -- idempotent
SELECT livestore.create_store('demo-store');   -- same table as demo_store
SELECT * FROM cs_state;
SELECT table_name, schema_name, head FROM livestore.store_info('demo-store');
SELECT livestore.head('demo_store');

-- The DDL is exactly the reference design's (livestore-sync-protocol.md 10).
CREATE TABLE reference_v6 (
  "seqNum"       INTEGER PRIMARY KEY,
  "parentSeqNum" INTEGER,
  "name"         TEXT    NOT NULL,
  "args"         JSONB   NOT NULL,
  "clientId"     TEXT    NOT NULL,
  "sessionId"    TEXT    NOT NULL
);
SELECT column_name, data_type, is_nullable, column_default
  FROM information_schema.columns WHERE table_name = 'eventlog_6_demo_store' ORDER BY ordinal_position;
(SELECT attnum, attname, atttypid, atttypmod, attnotnull, atthasdef, attidentity, attgenerated, attcollation
   FROM pg_attribute WHERE attrelid = 'eventlog_6_demo_store'::regclass AND attnum > 0
 EXCEPT
 SELECT attnum, attname, atttypid, atttypmod, attnotnull, atthasdef, attidentity, attgenerated, attcollation
   FROM pg_attribute WHERE attrelid = 'reference_v6'::regclass AND attnum > 0)
UNION ALL
(SELECT attnum, attname, atttypid, atttypmod, attnotnull, atthasdef, attidentity, attgenerated, attcollation
   FROM pg_attribute WHERE attrelid = 'reference_v6'::regclass AND attnum > 0
 EXCEPT
 SELECT attnum, attname, atttypid, atttypmod, attnotnull, atthasdef, attidentity, attgenerated, attcollation
   FROM pg_attribute WHERE attrelid = 'eventlog_6_demo_store'::regclass AND attnum > 0);
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
 WHERE conrelid = 'eventlog_6_demo_store'::regclass;
SELECT indexrelid::regclass, indisprimary FROM pg_index WHERE indrelid = 'eventlog_6_demo_store'::regclass;
SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger
 WHERE tgrelid = 'eventlog_6_demo_store'::regclass ORDER BY tgname;

-- Adoption: a log the reference server made, with rows. The head becomes
-- the highest seqNum and the table is not rewritten.
CREATE TABLE "eventlog_6_Legacy" (LIKE reference_v6 INCLUDING ALL);
INSERT INTO "eventlog_6_Legacy"
  SELECT i, i - 1, 'v1.Old', jsonb_build_object('i', i), 'ref-client', 'ref-session'
    FROM generate_series(1, 3) i;
SELECT relfilenode AS legacy_node FROM pg_class WHERE oid = '"eventlog_6_Legacy"'::regclass \gset
SELECT livestore.create_store('Legacy');
SELECT relfilenode = :legacy_node AS not_rewritten FROM pg_class WHERE oid = '"eventlog_6_Legacy"'::regclass;
SELECT table_name, schema_name, head FROM livestore.store_info('Legacy');
SELECT count(*) AS adopted_triggers FROM pg_trigger WHERE tgrelid = '"eventlog_6_Legacy"'::regclass;
SELECT livestore.append('Legacy', '[{"name":"v1.New","args":{},"seqNum":4,"parentSeqNum":3,"clientId":"c","sessionId":"s"}]');
SELECT "seqNum", "parentSeqNum", name FROM "eventlog_6_Legacy" ORDER BY 1;

-- An empty reference table is adopted with head 0.
CREATE TABLE eventlog_6_empty_ref (LIKE reference_v6 INCLUDING ALL);
SELECT livestore.create_store('empty_ref');
SELECT livestore.head('empty_ref');

-- A table of that name in another format is refused, and nothing changes.
CREATE TABLE eventlog_6_other (id integer PRIMARY KEY, body text);
CREATE TABLE eventlog_6_bigint (LIKE reference_v6 INCLUDING ALL);
ALTER TABLE eventlog_6_bigint ALTER "seqNum" TYPE bigint;
CREATE TABLE eventlog_6_nopk (LIKE reference_v6 INCLUDING ALL);
ALTER TABLE eventlog_6_nopk DROP CONSTRAINT eventlog_6_nopk_pkey;
SELECT livestore.create_store('bigint');
SELECT livestore.create_store('nopk');
\set VERBOSITY default
SELECT livestore.create_store('other');
\set VERBOSITY sqlstate
SELECT count(*) AS triggers_on_refused FROM pg_trigger
 WHERE tgrelid IN ('eventlog_6_other'::regclass, 'eventlog_6_bigint'::regclass, 'eventlog_6_nopk'::regclass);
DROP TABLE eventlog_6_other, eventlog_6_bigint, eventlog_6_nopk, reference_v6;

-- livestore.schema places new logs in another schema.
CREATE SCHEMA logs;
SET livestore.schema = 'logs';
SELECT livestore.create_store('elsewhere');
RESET livestore.schema;
SELECT livestore.create_store('elsewhere');    -- found through the catalog
SELECT table_name, schema_name, head FROM livestore.store_info('elsewhere');

-- Store ids the client would never send. None of them leaves a trace.
SELECT livestore.create_store('');
SELECT livestore.create_store(NULL);
SELECT livestore.create_store(repeat('x', 257));
SELECT livestore.create_store(repeat('x', 300));
SELECT livestore.create_store('x"; drop table y; --');
SELECT livestore.create_store('a b');
SELECT livestore.create_store('a.b');
SELECT livestore.create_store('café');
\set VERBOSITY default
SELECT livestore.create_store('x"; drop table y; --');
SELECT livestore.create_store(repeat('x', 300));
SELECT livestore.create_store(NULL);
\set VERBOSITY sqlstate
SELECT length(livestore.create_store(repeat('x', 256))::text) AS longest_id_ok;
SELECT * FROM cs_state;
SELECT * FROM cs_tables;

-- Clean up for the tests that follow.
SELECT livestore.drop_store(store_id) FROM livestore.stores;
DROP SCHEMA logs;
DROP VIEW cs_state, cs_tables;
