-- events() in C (0.4.0): a scan of the log's primary key, no query per
-- call. The same answers as the SQL version: order, limits, errors, NULLs,
-- privileges; and the cached table of a store never outlives it.
\set VERBOSITY sqlstate
\set SHOW_CONTEXT never

SELECT p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'c') AS in_c, p.prosrc
  FROM pg_proc p WHERE p.oid = 'livestore.events(text, integer, integer)'::regprocedure;

-- 2,500 events appended out of the order a heap would keep them in: read
-- back in seqNum order, every one once, pages of any size.
SELECT livestore.create_store('ev');
SELECT livestore.append('ev', (SELECT jsonb_agg(jsonb_build_object('name', 'v1.E', 'args', jsonb_build_object('n', s),
  'seqNum', s, 'parentSeqNum', s - 1, 'clientId', 'c', 'sessionId', 's') ORDER BY s) FROM generate_series(1, 2500) s));
SELECT count(*) AS n, min("seqNum"), max("seqNum"),
       bool_and("seqNum" = (args->>'n')::int AND "parentSeqNum" = "seqNum" - 1) AS rows_intact
  FROM livestore.events('ev', 0, 100000);
-- Rows come in seqNum order (ordinality = position in the result).
SELECT bool_and(e."seqNum" = e.ord + 100) AS in_order, count(*) AS n
  FROM livestore.events('ev', 100, 2000) WITH ORDINALITY AS e("seqNum", p, nm, a, c, s, ord);
SELECT count(*) AS default_page FROM livestore.events('ev');
SELECT count(*) AS default_page_after FROM livestore.events('ev', 2000);
SELECT "seqNum" FROM livestore.events('ev', 2497, 10);
SELECT "seqNum" FROM livestore.events('ev', 0, 1);
SELECT count(*) AS at_head FROM livestore.events('ev', 2500);
SELECT count(*) AS beyond_head FROM livestore.events('ev', 2147483647);
SELECT count(*) AS from_min FROM livestore.events('ev', -2147483648, 3);
SELECT count(*) AS none_asked FROM livestore.events('ev', 0, 0);
SELECT count(*) AS huge_limit FROM livestore.events('ev', 2400, 2147483647);
-- The same rows as the table itself, byte for byte.
SELECT (SELECT md5(string_agg(e::text, '|' ORDER BY "seqNum")) FROM livestore.events('ev', 0, 100000) e)
     = (SELECT md5(string_agg(t::text, '|' ORDER BY "seqNum")) FROM eventlog_6_ev t) AS same_rows;
-- A result larger than work_mem spills to disk and stays whole.
SET work_mem = '64kB';
SELECT count(*) AS spilled, sum("seqNum") FROM livestore.events('ev', 0, 100000);
RESET work_mem;
-- Large "args" stored out of line (TOAST) come back whole.
SELECT livestore.append('ev', jsonb_build_array(jsonb_build_object('name', 'v1.Big',
  'args', jsonb_build_object('blob', (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 4000) i)),
  'seqNum', 2501, 'parentSeqNum', 2500, 'clientId', 'c', 'sessionId', 's')));
SELECT length(args->>'blob') AS blob_length,
       args = (SELECT t.args FROM eventlog_6_ev t WHERE t."seqNum" = 2501) AS same_args
  FROM livestore.events('ev', 2500);
-- Inside one statement every call sees the same snapshot; in SQL too.
SELECT count(*) FROM livestore.events('ev', 2490) e, livestore.events('ev', 2499) f;

-- Bad input: as before. STRICT: a NULL argument gives no rows.
SELECT * FROM livestore.events('ev', 0, -1);
SELECT * FROM livestore.events('no-such-store');
SELECT * FROM livestore.events('bad id with spaces and more than enough characters to be far too long for a table name');
SELECT count(*) AS null_store FROM livestore.events(NULL, 0, 10);
SELECT count(*) AS null_after FROM livestore.events('ev', NULL, 10);
SELECT count(*) AS null_max FROM livestore.events('ev', 0, NULL);
\set VERBOSITY default
SELECT * FROM livestore.events('no-such-store');
\set VERBOSITY sqlstate

-- Dropped and created again in this session: the new log is read, never the
-- cached one; in between the store does not exist.
SELECT count(*) AS before_drop FROM livestore.events('ev');
SELECT livestore.drop_store('ev');
SELECT * FROM livestore.events('ev');
SELECT livestore.create_store('ev');
SELECT * FROM livestore.events('ev');
SELECT livestore.append('ev', '[{"name":"v1.Again","args":{"a":1},"seqNum":1,"parentSeqNum":0,"clientId":"c2","sessionId":"s2"}]');
SELECT * FROM livestore.events('ev');
-- In one transaction: dropped, made again under another schema, read.
BEGIN;
SELECT livestore.drop_store('ev');
CREATE SCHEMA ev_elsewhere;
SET LOCAL livestore.schema = 'ev_elsewhere';
SELECT livestore.create_store('ev');
SELECT livestore.append('ev', '[{"name":"v1.Third","args":{},"seqNum":1,"parentSeqNum":0,"clientId":"c3","sessionId":"s3"}]');
SELECT "seqNum", name, "clientId" FROM livestore.events('ev');
ROLLBACK;
SELECT "seqNum", name, "clientId" FROM livestore.events('ev');

-- An adopted log with a dropped column (its columns' numbers have a gap),
-- then a column added after adoption: the right columns either way.
CREATE TABLE public.eventlog_6_adopted ("seqNum" integer PRIMARY KEY, "parentSeqNum" integer, gone int,
  "name" text NOT NULL, "args" jsonb NOT NULL, "clientId" text NOT NULL, "sessionId" text NOT NULL);
ALTER TABLE eventlog_6_adopted DROP COLUMN gone;
INSERT INTO eventlog_6_adopted SELECT s, NULLIF(s - 1, 0), 'v1.Ref', jsonb_build_object('n', s), 'ref', 'r' FROM generate_series(1, 4) s;
SELECT livestore.create_store('adopted');
SELECT * FROM livestore.events('adopted', 1, 2);
ALTER TABLE eventlog_6_adopted ADD COLUMN extra text DEFAULT 'x';
SELECT * FROM livestore.events('adopted', 2);
-- Without its primary key (read with a plain SELECT then).
ALTER TABLE eventlog_6_adopted DROP CONSTRAINT eventlog_6_adopted_pkey;
SELECT "seqNum", "parentSeqNum", args FROM livestore.events('adopted', 0, 3);
SELECT livestore.drop_store('adopted');

-- Rows written before the last column was added (with a default): they
-- carry five values on the page, the sixth comes from the catalog.
CREATE TABLE public.eventlog_6_grown ("seqNum" integer PRIMARY KEY, "parentSeqNum" integer,
  "name" text NOT NULL, "args" jsonb NOT NULL, "clientId" text NOT NULL);
INSERT INTO eventlog_6_grown VALUES (1, NULL, 'v1.Old', '{}', 'c');
ALTER TABLE eventlog_6_grown ADD COLUMN "sessionId" text NOT NULL DEFAULT 'from-default';
INSERT INTO eventlog_6_grown VALUES (2, 1, 'v1.New', '{"k":2}', 'c', 'own');
SELECT livestore.create_store('grown');
SELECT * FROM livestore.events('grown');
-- With row-level security on, the log is read through SQL (its policies
-- apply as to the SQL version; the owner here is a superuser: all rows).
ALTER TABLE eventlog_6_grown ENABLE ROW LEVEL SECURITY;
SELECT "seqNum", "sessionId" FROM livestore.events('grown', 1);
SELECT livestore.drop_store('grown');

-- Privileges: EXECUTE is needed (42501 without it); with it, the log is read
-- as the extension's owner, though the role cannot read the table itself.
CREATE ROLE regress_ls_reader;
CREATE ROLE regress_ls_none;
GRANT USAGE ON SCHEMA livestore TO regress_ls_reader, regress_ls_none;
GRANT EXECUTE ON FUNCTION livestore.events(text, integer, integer) TO regress_ls_reader;
SET ROLE regress_ls_reader;
SELECT "seqNum", name FROM livestore.events('ev');
SELECT * FROM eventlog_6_ev;
RESET ROLE;
SET ROLE regress_ls_none;
SELECT * FROM livestore.events('ev');
RESET ROLE;
REVOKE ALL ON SCHEMA livestore FROM regress_ls_reader, regress_ls_none;
REVOKE ALL ON FUNCTION livestore.events(text, integer, integer) FROM regress_ls_reader;
DROP ROLE regress_ls_reader, regress_ls_none;

SELECT livestore.drop_store('ev');
