-- Event logs are append-only (LS003); drop_store removes a whole store.
\set VERBOSITY sqlstate
\set SHOW_CONTEXT never

SELECT livestore.create_store('ao');
SELECT livestore.append('ao', '[{"name":"v1.A","args":{},"seqNum":1,"parentSeqNum":0,"clientId":"c","sessionId":"s"},
                                {"name":"v1.B","args":{},"seqNum":2,"parentSeqNum":1,"clientId":"c","sessionId":"s"}]');

-- Statement-level triggers: refused even when no row would change.
UPDATE eventlog_6_ao SET name = 'v1.Changed' WHERE "seqNum" = 1;
UPDATE eventlog_6_ao SET name = 'v1.Changed' WHERE false;
DELETE FROM eventlog_6_ao WHERE "seqNum" = 2;
DELETE FROM eventlog_6_ao WHERE false;
TRUNCATE eventlog_6_ao;
INSERT INTO eventlog_6_ao VALUES (2, 1, 'v1.B', '{}', 'c', 's') ON CONFLICT ("seqNum") DO UPDATE SET name = 'v1.Upsert';
\set VERBOSITY default
UPDATE eventlog_6_ao SET name = 'v1.Changed';
TRUNCATE eventlog_6_ao;
\set VERBOSITY sqlstate
SELECT "seqNum", name FROM eventlog_6_ao ORDER BY 1;
-- The guard is a trigger, not a mere convention of the caller.
SELECT livestore._reject_change();

-- drop_store removes the table and the catalog row.
SELECT livestore.drop_store('ao');
SELECT to_regclass('eventlog_6_ao') AS table_left, count(*) AS catalog_rows
  FROM livestore.stores WHERE table_name = 'eventlog_6_ao';
SELECT livestore.head('ao') IS NULL AS no_head;

-- A dropped store is unknown (LS002) to every call, also in the session
-- that appended to it before (cached statements must not outlive it).
SELECT livestore.append('ao', '[{"name":"v1.A","args":{},"seqNum":1,"parentSeqNum":0,"clientId":"c","sessionId":"s"}]');
SELECT livestore.drop_store('ao');
SELECT * FROM livestore.events('ao');
SELECT * FROM livestore.shape_page('ao', 0);
SELECT livestore.drop_store('never_created');
SELECT livestore.drop_store('');
SELECT livestore.drop_store('a b');
SELECT livestore.drop_store(NULL);
\set VERBOSITY default
SELECT livestore.drop_store('never_created');
\set VERBOSITY sqlstate

-- Created again, the store starts over at head 0 in this same session.
SELECT livestore.create_store('ao');
SELECT livestore.append('ao', '[{"name":"v1.New","args":{},"seqNum":1,"parentSeqNum":0,"clientId":"c","sessionId":"s"}]');
SELECT "seqNum", name FROM eventlog_6_ao;
SELECT livestore.drop_store('ao');
