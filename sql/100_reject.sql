-- livestore.reject(): a hook refuses the whole batch with LS005. Nothing of
-- the batch is stored, nor anything an earlier hook wrote.
\set VERBOSITY sqlstate
\set SHOW_CONTEXT never

CREATE TABLE projection (store text, name text);
CREATE FUNCTION project(store_id text, events jsonb) RETURNS void LANGUAGE sql AS $$
  INSERT INTO projection SELECT store_id, e->>'name' FROM jsonb_array_elements(events) e
$$;
CREATE FUNCTION only_signed(store_id text, events jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM jsonb_array_elements(events) e WHERE e->>'name' = 'v1.Forbidden') THEN
    PERFORM livestore.reject('v1.Forbidden may not be pushed',
                             jsonb_build_object('store', store_id, 'first', events->0->'seqNum'));
  END IF;
  IF EXISTS (SELECT 1 FROM jsonb_array_elements(events) e WHERE e->>'name' = 'v1.Quiet') THEN
    PERFORM livestore.reject('quietly refused');
  END IF;
END $$;
SELECT livestore.add_hook('rj%', 'project(text, jsonb)');
SELECT livestore.add_hook('rj%', 'only_signed(text, jsonb)');

SELECT livestore.create_store('rj');
SELECT livestore.append('rj', '[{"name":"v1.Fine","seqNum":1,"parentSeqNum":0,"clientId":"c","sessionId":"s"}]');
-- The second event is forbidden: the whole batch goes, and project's rows.
SELECT livestore.append('rj', '[{"name":"v1.Fine","seqNum":2,"parentSeqNum":1,"clientId":"c","sessionId":"s"},
                                {"name":"v1.Forbidden","seqNum":3,"parentSeqNum":2,"clientId":"c","sessionId":"s"}]');
SELECT livestore.head('rj');
SELECT * FROM projection;
-- The message, the detail (JSON) and the code, as the gateway reads them.
\set VERBOSITY verbose
SELECT livestore.append('rj', '[{"name":"v1.Forbidden","seqNum":2,"parentSeqNum":1,"clientId":"c","sessionId":"s"}]');
SELECT livestore.emit('rj', '[{"name":"v1.Quiet"}]');
\set VERBOSITY sqlstate
-- A client can catch it like any error; the head is unchanged and the same
-- parent still works for an acceptable batch.
\set VERBOSITY default
DO $$
BEGIN
  PERFORM livestore.append('rj', '[{"name":"v1.Forbidden","seqNum":2,"parentSeqNum":1,"clientId":"c","sessionId":"s"}]');
EXCEPTION WHEN SQLSTATE 'LS005' THEN
  RAISE NOTICE 'refused: % (%)', SQLERRM, SQLSTATE;
END $$;
\set VERBOSITY sqlstate
SELECT livestore.append('rj', '[{"name":"v1.Fine","seqNum":2,"parentSeqNum":1,"clientId":"c","sessionId":"s"}]');
SELECT "seqNum", name FROM livestore.events('rj');
SELECT * FROM projection;

-- reject() outside a hook is just the error; EXECUTE is granted to PUBLIC.
SELECT livestore.reject('no', '{"a":[1]}');
SELECT livestore.reject(NULL);
SELECT p.oid::regprocedure, has_function_privilege('public', p.oid, 'EXECUTE') AS public_exec
  FROM pg_proc p WHERE p.proname IN ('reject', 'claims') AND p.pronamespace = 'livestore'::regnamespace ORDER BY 1;

SELECT livestore.drop_hook('rj%', 'project(text, jsonb)');
SELECT livestore.drop_hook('rj%', 'only_signed(text, jsonb)');
SELECT livestore.drop_store('rj');
DROP FUNCTION project(text, jsonb), only_signed(text, jsonb);
DROP TABLE projection;
