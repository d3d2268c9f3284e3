-- append(): the happy path, idempotent re-sends, head conflicts, and every
-- malformed batch. After each error the log and head must be unchanged.
\set VERBOSITY sqlstate
\set SHOW_CONTEXT never

-- A chained batch of n events starting at seqNum `first`, as the client sends it.
CREATE FUNCTION ev_batch(first bigint, n integer, client text DEFAULT 'client-a')
RETURNS jsonb LANGUAGE sql AS $$
  SELECT jsonb_agg(jsonb_build_object('name', 'v1.ItemAdded',
           'args', jsonb_build_object('id', client || '-' || s),
           'seqNum', s, 'parentSeqNum', s - 1, 'clientId', client, 'sessionId', client || '-1')
         ORDER BY s)
    FROM generate_series(first, first + n - 1) s
$$;
-- What an error must not have changed.
\set unchanged 'SELECT livestore.head(''app'') AS head, (SELECT count(*) FROM eventlog_6_app) AS rows;'

SELECT livestore.create_store('app');
:unchanged

-- Happy path: a chain over several batches; the new head is returned.
SELECT livestore.append('app', ev_batch(1, 1));
SELECT livestore.append('app', ev_batch(2, 3));
SELECT livestore.append('app', '[{"name":"v1.NoArgs","seqNum":5,"parentSeqNum":4,"clientId":"client-b","sessionId":"b-1"},
  {"name":"v1.NullArgs","args":null,"seqNum":6,"parentSeqNum":5,"clientId":"client-b","sessionId":"b-1"},
  {"name":"v1.Scalar","args":"text \"quoted\" ✓","seqNum":7,"parentSeqNum":6,"clientId":"client-b","sessionId":"b-1"},
  {"name":"v1.Array","args":[1,2.5,{"deep":[true,null]}],"seqNum":8,"parentSeqNum":7,"clientId":"client-b","sessionId":"b-1","extra":"ignored"}]');
SELECT * FROM eventlog_6_app ORDER BY "seqNum";
-- Missing args and JSON null args are both stored as the JSON value null.
SELECT "seqNum", args IS NULL AS sql_null, jsonb_typeof(args) FROM eventlog_6_app WHERE "seqNum" IN (5, 6);
:unchanged

-- Two appends in one transaction chain; a rolled-back append leaves nothing.
BEGIN;
SELECT livestore.append('app', ev_batch(9, 1));
SELECT livestore.append('app', ev_batch(10, 1));
COMMIT;
BEGIN;
SELECT livestore.append('app', ev_batch(11, 2));
ROLLBACK;
:unchanged

-- Re-sending a stored batch (lost acknowledgement) returns the head and
-- writes nothing, also for a prefix or an older batch.
SELECT livestore.append('app', ev_batch(2, 3));
SELECT livestore.append('app', ev_batch(10, 1));
SELECT livestore.append('app', ev_batch(2, 1));
:unchanged

-- Conflicts (LS001): the batch does not extend the head.
SELECT livestore.append('app', ev_batch(9, 3));              -- partial re-send: 9, 10 stored, 11 new
:unchanged
SELECT livestore.append('app', ev_batch(10, 1, 'client-z')); -- stale parent, other content
:unchanged
SELECT livestore.append('app', jsonb_set(ev_batch(2, 3), '{1,args}', '{"id":"changed"}'));  -- same seqNums, other args
:unchanged
SELECT livestore.append('app', ev_batch(1, 1, 'client-a') #- '{0,args}');  -- missing args is not the stored args
:unchanged
SELECT livestore.append('app', ev_batch(12, 1));             -- parent ahead of the head
:unchanged
SELECT livestore.append('app', ev_batch(2147483647, 1));     -- valid ids, far ahead
:unchanged
\set VERBOSITY default
SELECT livestore.append('app', ev_batch(5, 1, 'client-z'));
SELECT livestore.append('app', ev_batch(12, 1));
\set VERBOSITY sqlstate

-- Unknown store (LS002), bad store ids and NULL arguments.
SELECT livestore.append('nope', ev_batch(1, 1));
SELECT livestore.append('', ev_batch(1, 1));
SELECT livestore.append('a b', ev_batch(1, 1));
SELECT livestore.append(repeat('x', 300), ev_batch(1, 1));
SELECT livestore.append(NULL, ev_batch(1, 1));
SELECT livestore.append('app', NULL);
:unchanged
\set VERBOSITY default
SELECT livestore.append('nope', ev_batch(1, 1));
SELECT livestore.append('app', NULL);
\set VERBOSITY sqlstate

-- Not a non-empty array of objects.
SELECT livestore.append('app', '{"name":"v1.X"}');
SELECT livestore.append('app', '"[]"');
SELECT livestore.append('app', '11');
SELECT livestore.append('app', 'null');
SELECT livestore.append('app', '[]');
SELECT livestore.append('app', '[11]');
SELECT livestore.append('app', '[null]');
SELECT livestore.append('app', '[[]]');
SELECT livestore.append('app', ev_batch(11, 1) || '[1]');
:unchanged

-- Missing fields, wrong types and empty strings.
SELECT livestore.append('app', ev_batch(11, 1) #- '{0,name}');
SELECT livestore.append('app', ev_batch(11, 1) #- '{0,seqNum}');
SELECT livestore.append('app', ev_batch(11, 1) #- '{0,parentSeqNum}');
SELECT livestore.append('app', ev_batch(11, 1) #- '{0,clientId}');
SELECT livestore.append('app', ev_batch(11, 1) #- '{0,sessionId}');
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,name}', '7'));
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,name}', 'null'));
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,clientId}', '{"id":1}'));
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,sessionId}', '["s"]'));
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,seqNum}', '"11"'));
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,parentSeqNum}', 'true'));
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,parentSeqNum}', 'null'));
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,name}', '""'));
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,clientId}', '""'));
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,sessionId}', '""'));
:unchanged

-- Floats and integers outside int4 (22003).
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,seqNum}', '11.5'));
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,seqNum}', '11.0'));
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,parentSeqNum}', '10.25'));
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,seqNum}', '2147483648'));
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,parentSeqNum}', '-2147483649'));
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,seqNum}', '1e100'));
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,seqNum}', '18446744073709551616'));
SELECT livestore.append('app', ev_batch(2147483647, 2));    -- the chain leaves int4
:unchanged
\set VERBOSITY default
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,seqNum}', '11.5'));
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,seqNum}', '2147483648'));
-- Every kind of number gets the message it got when the fields went through
-- RapidJSON as text: a fraction or a scale within int4's range is a float,
-- beyond it out of range; an exponent that leaves an integer is an integer.
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,seqNum}', '0.0'));
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,seqNum}', '-2147483648.0'));
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,seqNum}', '2147483647.5'));
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,parentSeqNum}', '-2147483649'));
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,seqNum}', '1e400'));
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,seqNum}', '-1e400'));
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,seqNum}', '1.2e1'));
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,seqNum}', '-0'));
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,parentSeqNum}', '"10"'));
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,parentSeqNum}', 'false'));
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,name}', '["v1.X"]'));
SELECT livestore.append('app', ev_batch(11, 1) #- '{0,sessionId}');
SELECT livestore.append('app', '[{"name":"v1.X","seqNum":11,"parentSeqNum":10,"clientId":"c","sessionId":"s"}, null]');
SELECT livestore.append('app', '{"name":"v1.X"}');
SELECT livestore.append('app', '11');
\set VERBOSITY sqlstate
:unchanged

-- Broken chains.
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,parentSeqNum}', '9'));
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,parentSeqNum}', '11'));
SELECT livestore.append('app', ev_batch(11, 1) || ev_batch(13, 1));   -- gap
SELECT livestore.append('app', ev_batch(12, 1) || ev_batch(11, 1));   -- descending
SELECT livestore.append('app', ev_batch(11, 1) || ev_batch(11, 1));   -- duplicate
SELECT livestore.append('app', ev_batch(11, 2) || jsonb_set(ev_batch(13, 1), '{0,parentSeqNum}', '11'));
SELECT livestore.append('app', ev_batch(0, 1));
SELECT livestore.append('app', ev_batch(-5, 1));
-- jsonb keeps the last of duplicate keys: seqNum 12 with parent 10.
SELECT livestore.append('app', '[{"name":"v1.X","seqNum":11,"parentSeqNum":10,"clientId":"c","sessionId":"s","seqNum":12}]');
:unchanged
\set VERBOSITY default
SELECT livestore.append('app', ev_batch(11, 1) || ev_batch(13, 1));
SELECT livestore.append('app', jsonb_set(ev_batch(11, 1), '{0,parentSeqNum}', '9'));
\set VERBOSITY sqlstate

-- Text that is not jsonb never reaches append().
SELECT livestore.append('app', '[{"name":');
SELECT livestore.append('app', '[{"name":"\u0000"}]');

-- Batch size limit (54000) is checked before anything is written; the
-- largest allowed batch is appended whole.
SELECT livestore.append('app', ev_batch(11, 10001));
:unchanged
SELECT livestore.append('app', ev_batch(11, 10000));
SELECT livestore.head('app'), count(*), min("seqNum"), max("seqNum") FROM eventlog_6_app;
-- Deeply nested args are checked without recursion and stored as they are.
SELECT livestore.append('app', jsonb_set(ev_batch(10011, 1), '{0,args}',
         (repeat('[', 3000) || repeat(']', 3000))::jsonb));
SELECT length(args::text) FROM eventlog_6_app WHERE "seqNum" = 10011;

SELECT livestore.drop_store('app');
DROP FUNCTION ev_batch(bigint, integer, text);

-- args are stored as sent, whatever numbers they hold (the rules never read
-- them; no double could hold 1.8e308 written out in full).
SELECT livestore.create_store('exact');
SELECT livestore.append('exact', '[{"name":"v1.N","args":{"huge":1.8e308,"x":-247762.47309469618,"n":[1e-400]},"seqNum":1,"parentSeqNum":0,"clientId":"c","sessionId":"s"}]');
SELECT args::text FROM eventlog_6_exact;
SELECT livestore.append('exact', '[{"name":"v1.N","args":1,"seqNum":1e400,"parentSeqNum":0,"clientId":"c","sessionId":"s"}]');
SELECT livestore.drop_store('exact');
