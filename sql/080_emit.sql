-- livestore.emit(): events from SQL, numbered after the head by the
-- extension, with the server's identity where the caller names none.
\set VERBOSITY sqlstate
\set SHOW_CONTEXT never
\getenv abs_builddir PG_ABS_BUILDDIR
\set notes :abs_builddir '/results/080_emit.notifications'

-- A missing store is created; identities default to 'livestore-server';
-- args missing is stored as JSON null; the new head is returned.
SELECT livestore.emit('em', '[{"name":"v1.Created","args":{"id":"a"}},
                              {"name":"v1.Noted","clientId":"job-7","sessionId":"nightly"}]');
SELECT livestore.head('em');
SELECT * FROM livestore.events('em');

-- Emitted events chain with client appends in both directions.
SELECT livestore.append('em', '[{"name":"v1.Client","args":{},"seqNum":3,"parentSeqNum":2,"clientId":"c","sessionId":"s"}]');
SELECT livestore.emit('em', '[{"name":"v1.Server","args":[1,2.50,"x",null,true]}]');
SELECT "seqNum", "parentSeqNum", name, args, "clientId" FROM livestore.events('em', 2);

-- In one transaction with appends: emit numbers after the transaction's own
-- writes; a rollback takes both back.
BEGIN;
SELECT livestore.append('em', '[{"name":"v1.Client","args":{},"seqNum":5,"parentSeqNum":4,"clientId":"c","sessionId":"s"}]');
SELECT livestore.emit('em', '[{"name":"v1.Server","args":{}}]');
ROLLBACK;
SELECT livestore.head('em');

-- Extra keys are ignored, as by append; the args keep numbers exactly.
SELECT livestore.emit('em', '[{"name":"v1.Big","args":{"n":123456789012345678901234567890.5},"extra":1}]');
SELECT args FROM livestore.events('em', 4);

-- Bad input: nothing is written, the head stays 5.
SELECT livestore.emit('em', '{"name":"v1.A"}');                           -- 22023 not an array
SELECT livestore.emit('em', '"v1.A"');                                    -- 22023
SELECT livestore.emit('em', '[]');                                        -- 22023 empty
SELECT livestore.emit('em', '[{"name":"v1.A","seqNum":6}]');              -- 22023 numbered by emit
SELECT livestore.emit('em', '[{"name":"v1.A","parentSeqNum":5}]');        -- 22023
SELECT livestore.emit('em', '[{"args":{}}]');                             -- 22023 name missing
SELECT livestore.emit('em', '[{"name":""}]');                             -- 22023 empty name
SELECT livestore.emit('em', '[{"name":7}]');                              -- 22023
SELECT livestore.emit('em', '[{"name":"v1.A","clientId":5}]');            -- 22023
SELECT livestore.emit('em', '[{"name":"v1.A","sessionId":""}]');          -- 22023
SELECT livestore.emit('em', '[{"name":"v1.A"}, 3]');                      -- 22023 not an object
SELECT livestore.emit('em', (SELECT jsonb_agg(jsonb_build_object('name', 'v1.A')) FROM generate_series(1, 10001)));  -- 54000
SELECT livestore.emit('bad id', '[{"name":"v1.A"}]');                     -- 22023 store id
SELECT livestore.emit(NULL, '[{"name":"v1.A"}]');                         -- 22004
SELECT livestore.emit('em', NULL);                                        -- 22004
SELECT livestore.head('em');
SELECT count(*) AS stores_created_by_bad_input FROM livestore.stores WHERE store_id = 'bad id';

-- seqNum is an integer: a store at its end has no room left (22003).
SELECT livestore.create_store('em-full');
-- (its head is the log's last seqNum: a row written there directly)
INSERT INTO eventlog_6_em_full VALUES (2147483647, NULL, 'v1.Last', '{}', 'c', 's');
SELECT livestore.emit('em-full', '[{"name":"v1.A"}]');

-- Wake-ups: with livestore.notify = on, emit notifies like append, at commit.
SET livestore.notify = on;
LISTEN livestore_events;
\t on
\o :notes
SELECT 'emit, autocommit' AS step;
SELECT livestore.emit('em', '[{"name":"v1.A"}]');
SELECT 'emit with livestore.notify = off: nothing' AS step;
SET livestore.notify = off;
SELECT livestore.emit('em', '[{"name":"v1.A"}]');
SET livestore.notify = on;
SELECT 'emit rolled back: nothing' AS step;
BEGIN;
SELECT livestore.emit('em', '[{"name":"v1.A"}]');
ROLLBACK;
\o
\t off
UNLISTEN livestore_events;
RESET livestore.notify;
SELECT regexp_replace(trim(line), 'PID [0-9]+', 'PID n') AS output
  FROM regexp_split_to_table(pg_read_file(:'notes'), E'\n') WITH ORDINALITY AS t(line, n)
 WHERE line <> '' ORDER BY n;

-- A role with EXECUTE on emit (and nothing else) emits; it cannot write
-- the log directly.
CREATE ROLE regress_ls_job;
GRANT USAGE ON SCHEMA livestore TO regress_ls_job;
GRANT EXECUTE ON FUNCTION livestore.emit(text, jsonb) TO regress_ls_job;
SET ROLE regress_ls_job;
SELECT livestore.emit('em', '[{"name":"v1.FromJob"}]');
SELECT livestore.emit('em-new', '[{"name":"v1.FromJob"}]');
INSERT INTO eventlog_6_em VALUES (100, 99, 'v1.B', '{}', 'c', 's');        -- 42501
SELECT livestore.append('em', '[{"name":"v1.A","args":{},"seqNum":9,"parentSeqNum":8,"clientId":"c","sessionId":"s"}]');  -- 42501
RESET ROLE;
SELECT "seqNum", name, "clientId" FROM livestore.events('em', 7);
REVOKE ALL ON SCHEMA livestore FROM regress_ls_job;
REVOKE ALL ON FUNCTION livestore.emit(text, jsonb) FROM regress_ls_job;
DROP ROLE regress_ls_job;

SELECT count(*) AS dropped FROM (SELECT livestore.drop_store(store_id) FROM livestore.stores) d;
