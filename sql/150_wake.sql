-- Wake-ups without NOTIFY: every committed write to a store is published in
-- a ring in shared memory, read with livestore.wait_changes(since,
-- timeout_ms). Positions are large and vary between runs, so they are
-- printed relative to the one read first.
\set VERBOSITY sqlstate
\set SHOW_CONTEXT never

SELECT livestore.create_store('wa');
SELECT livestore.create_store('wb');
-- The default, auto, sends no NOTIFY in a database at 0.3.0 or newer (psql
-- would print a notification under the next command).
SHOW livestore.notify;
LISTEN livestore_events;
SELECT livestore.append('wa', '[{"name":"v1.A","args":{},"seqNum":1,"parentSeqNum":0,"clientId":"c","sessionId":"s"}]');
SELECT 'no notification above' AS checked;
UNLISTEN livestore_events;

-- since NULL: no changes, just where the ring is (and never "missed").
SELECT count(*) AS rows, bool_and(store_id IS NULL) AS position_only, bool_or(missed) AS missed
  FROM livestore.wait_changes(NULL);
SELECT position AS start FROM livestore.wait_changes(NULL) \gset

-- One append, autocommit: one change, then the position row.
SELECT livestore.append('wa', '[{"name":"v1.A","args":{},"seqNum":2,"parentSeqNum":1,"clientId":"c","sessionId":"s"}]');
SELECT position - :start AS pos, store_id, table_name, head, missed FROM livestore.wait_changes(:start, 0);

-- A transaction: two appends to one store and an emit to another give one
-- change per store, with the last head, in the order first written.
BEGIN;
SELECT livestore.append('wa', '[{"name":"v1.A","args":{},"seqNum":3,"parentSeqNum":2,"clientId":"c","sessionId":"s"}]');
SELECT livestore.emit('wb', '[{"name":"v1.B"},{"name":"v1.B"}]');
SELECT livestore.append('wa', '[{"name":"v1.A","args":{},"seqNum":4,"parentSeqNum":3,"clientId":"c","sessionId":"s"}]');
-- Nothing before the commit.
SELECT position - :start AS pos, store_id, head FROM livestore.wait_changes(:start + 1, 0);
COMMIT;
SELECT position - :start AS pos, store_id, table_name, head, missed FROM livestore.wait_changes(:start + 1, 0);

-- Rolled back, refused (LS001), re-sent (already stored: nothing new) and
-- invalid writes publish nothing; a wait with nothing new times out and
-- returns the position row alone.
BEGIN;
SELECT livestore.emit('wa', '[{"name":"v1.A"}]');
ROLLBACK;
SELECT livestore.append('wa', '[{"name":"v1.A","args":{},"seqNum":1,"parentSeqNum":0,"clientId":"other","sessionId":"s"}]');
SELECT livestore.append('wa', '[{"name":"v1.A","args":{},"seqNum":4,"parentSeqNum":3,"clientId":"c","sessionId":"s"}]');
SELECT livestore.append('wa', '[]');
SELECT position - :start AS pos, store_id, missed FROM livestore.wait_changes(:start + 3, 20);

-- announce() publishes the current head without writing.
SELECT livestore.announce('wb');
SELECT position - :start AS pos, store_id, table_name, head FROM livestore.wait_changes(:start + 3, 0);

-- More stores in one transaction than a commit publishes one by one (32):
-- one entry without a store, which tells every waiter that it missed
-- changes (the gateway then wakes all its polls). 32 stores are still
-- published one by one.
DO $$ BEGIN
  FOR i IN 1..33 LOOP PERFORM livestore.create_store('wm' || i); END LOOP;
END $$;
SELECT position AS before_many FROM livestore.wait_changes(NULL) \gset
BEGIN;
SELECT count(livestore.emit('wm' || i, '[{"name":"v1.M"}]')) FROM generate_series(1, 32) i;
COMMIT;
SELECT count(store_id) AS stores, bool_or(missed) AS missed FROM livestore.wait_changes(:before_many, 0);
SELECT position AS before_many FROM livestore.wait_changes(NULL) \gset
BEGIN;
SELECT count(livestore.emit('wm' || i, '[{"name":"v1.M"}]')) FROM generate_series(1, 33) i;
COMMIT;
SELECT count(store_id) AS stores, bool_or(missed) AS missed FROM livestore.wait_changes(:before_many, 0);
SELECT count(livestore.drop_store('wm' || i)) FROM generate_series(1, 33) i;

-- A position older than the ring keeps (4096 changes), or from before a
-- restart: the caller missed changes and must re-read what it follows.
SELECT position - :start AS pos, store_id, missed FROM livestore.wait_changes(1, 0);
SELECT position - :start AS pos, store_id, missed FROM livestore.wait_changes(:start + 1000000, 0);

-- Bad arguments (22023), and a prepared transaction that wrote (0A000: it
-- would commit where no wake-up is sent).
SELECT * FROM livestore.wait_changes(-1, 0);
SELECT * FROM livestore.wait_changes(0, -1);
SELECT * FROM livestore.wait_changes(0, 600001);
BEGIN;
SELECT livestore.emit('wb', '[{"name":"v1.B"}]');
PREPARE TRANSACTION 'ls_wake';
SELECT livestore.head('wb');

-- livestore.notify takes auto, on, off and the boolean spellings.
SET livestore.notify = true;
SHOW livestore.notify;
SET livestore.notify = 'no';
SHOW livestore.notify;
SET livestore.notify = sometimes;
RESET livestore.notify;

SELECT livestore.drop_store('wa');
SELECT livestore.drop_store('wb');
