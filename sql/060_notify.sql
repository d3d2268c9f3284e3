-- With livestore.notify = on: NOTIFY livestore_events at the commit of each
-- successful append, and for nothing else (the default, auto, sends none in
-- a database at 0.3.0 or newer: see 150_wake). psql prints notifications
-- with the sender's PID, so they are written (\o) to a file, read back and
-- printed without the PID.
\set VERBOSITY sqlstate
\set SHOW_CONTEXT never
\getenv abs_builddir PG_ABS_BUILDDIR
\set notes :abs_builddir '/results/060_notify.notifications'

SELECT livestore.create_store('note');
SELECT livestore.create_store('a-b');
SELECT livestore.create_store(repeat('a', 60));
SET livestore.notify = on;
LISTEN livestore_events;

\t on
\o :notes
SELECT 'one append, autocommit' AS step;
SELECT livestore.append('note', '[{"name":"v1.A","args":{},"seqNum":1,"parentSeqNum":0,"clientId":"c","sessionId":"s"},
                                  {"name":"v1.A","args":{},"seqNum":2,"parentSeqNum":1,"clientId":"c","sessionId":"s"}]');
SELECT 'two appends in one transaction: nothing before the commit' AS step;
BEGIN;
SELECT livestore.append('note', '[{"name":"v1.A","args":{},"seqNum":3,"parentSeqNum":2,"clientId":"c","sessionId":"s"}]');
SELECT livestore.append('note', '[{"name":"v1.A","args":{},"seqNum":4,"parentSeqNum":3,"clientId":"c","sessionId":"s"}]');
SELECT 'commit' AS step;
COMMIT;
SELECT 'rolled back, conflicting, re-sent, invalid: no notification' AS step;
BEGIN;
SELECT livestore.append('note', '[{"name":"v1.A","args":{},"seqNum":5,"parentSeqNum":4,"clientId":"c","sessionId":"s"}]');
ROLLBACK;
SELECT livestore.append('note', '[{"name":"v1.A","args":{},"seqNum":1,"parentSeqNum":0,"clientId":"other","sessionId":"s"}]');
SELECT livestore.append('note', '[{"name":"v1.A","args":{},"seqNum":4,"parentSeqNum":3,"clientId":"c","sessionId":"s"}]');
SELECT livestore.append('note', '[]');
SELECT 'the payload names the table, for ids with a dash and hashed ids' AS step;
SELECT livestore.append('a-b', '[{"name":"v1.A","args":{},"seqNum":1,"parentSeqNum":0,"clientId":"c","sessionId":"s"}]');
SELECT livestore.append(repeat('a', 60), '[{"name":"v1.A","args":{},"seqNum":1,"parentSeqNum":0,"clientId":"c","sessionId":"s"}]');
UNLISTEN livestore_events;
SELECT 'after UNLISTEN' AS step;
SELECT livestore.append('note', '[{"name":"v1.A","args":{},"seqNum":5,"parentSeqNum":4,"clientId":"c","sessionId":"s"}]');
\o
\t off

-- What psql printed (results without headers), in order, with the PID masked.
SELECT regexp_replace(trim(line), 'PID [0-9]+', 'PID n') AS output
  FROM regexp_split_to_table(pg_read_file(:'notes'), E'\n') WITH ORDINALITY AS t(line, n)
 WHERE line <> '' ORDER BY n;
-- Every payload is JSON naming the table, the store and the new head.
SELECT m[1]::jsonb AS payload
  FROM regexp_matches(pg_read_file(:'notes'), 'with payload "([^\n]*)" received', 'g') AS m;

RESET livestore.notify;
SELECT livestore.drop_store(store_id) FROM livestore.stores;

-- livestore.notify = off: appends send nothing; announce() sends the same
-- payload from its own transaction, committed asynchronously.
SELECT livestore.create_store('quiet');
SET livestore.notify = off;
LISTEN livestore_events;
\t on
\o :notes
SELECT livestore.append('quiet', '[{"name":"v1.A","args":{},"seqNum":1,"parentSeqNum":0,"clientId":"c","sessionId":"s"}]');
SELECT 'announce' AS step;
BEGIN;
SELECT livestore.announce('quiet');
SHOW synchronous_commit;
COMMIT;
\o
\t off
SHOW synchronous_commit;
RESET livestore.notify;
UNLISTEN livestore_events;
SELECT regexp_replace(trim(line), 'PID [0-9]+', 'PID n') AS output
  FROM regexp_split_to_table(pg_read_file(:'notes'), E'\n') WITH ORDINALITY AS t(line, n)
 WHERE line <> '' ORDER BY n;
SELECT livestore.announce('nope');
SELECT livestore.announce(NULL) IS NULL AS strict;
-- Only superusers choose where new tables go.
CREATE ROLE ls_notify_app;
SET ROLE ls_notify_app;
SET livestore.schema = 'other';
RESET ROLE;
DROP ROLE ls_notify_app;
SELECT livestore.drop_store('quiet');
