-- Who is writing: the gateway sets livestore.claims (the verified JWT's
-- claims as JSON) in each push's transaction; hooks read livestore.claims().
\set VERBOSITY sqlstate
\set SHOW_CONTEXT never

SELECT livestore.claims();                                   -- {} when unset
SELECT current_setting('livestore.claims', true) = '' AS empty_by_default;

CREATE TABLE deletions (store text, by_sub text, role text);
CREATE FUNCTION owner_deletes(store_id text, events jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE who jsonb := livestore.claims();
BEGIN
  IF EXISTS (SELECT 1 FROM jsonb_array_elements(events) e WHERE e->>'name' = 'v1.ListDeleted') THEN
    IF who->>'sub' IS DISTINCT FROM split_part(store_id, '-', 2) THEN
      PERFORM livestore.reject('only the list''s owner may delete it', jsonb_build_object('sub', who->'sub'));
    END IF;
    INSERT INTO deletions VALUES (store_id, who->>'sub', who#>>'{app_metadata,role}');
  END IF;
END $$;
SELECT livestore.add_hook('list-%', 'owner_deletes(text, jsonb)');

SELECT livestore.create_store('list-alice');
-- As the gateway does it: local to the push's transaction.
BEGIN;
SELECT set_config('livestore.claims', '{"sub":"bob","app_metadata":{"role":"member"}}', true) IS NOT NULL AS set;
SELECT livestore.append('list-alice', '[{"name":"v1.ListDeleted","seqNum":1,"parentSeqNum":0,"clientId":"c","sessionId":"s"}]');
ROLLBACK;
BEGIN;
SELECT set_config('livestore.claims', '{"sub":"alice","app_metadata":{"role":"owner"}}', true) IS NOT NULL AS set;
SELECT livestore.append('list-alice', '[{"name":"v1.ListDeleted","seqNum":1,"parentSeqNum":0,"clientId":"c","sessionId":"s"}]');
SELECT livestore.claims()->>'sub' AS inside;
COMMIT;
SELECT livestore.claims() AS after_commit;                   -- gone with the transaction
SELECT * FROM deletions;
-- Without claims (no auth, or a job): '{}', so the rule refuses.
SELECT livestore.append('list-alice', '[{"name":"v1.ListDeleted","seqNum":2,"parentSeqNum":1,"clientId":"c","sessionId":"s"}]');

-- Not JSON: claims() fails (22P02) rather than guess.
SET livestore.claims = 'not json';
SELECT livestore.claims();
RESET livestore.claims;
-- Only defined names under the reserved prefix (42602 for a typo).
SET livestore.claim = '{}';

SELECT livestore.drop_hook('list-%', 'owner_deletes(text, jsonb)');
SELECT livestore.drop_store('list-alice');
DROP FUNCTION owner_deletes(text, jsonb);
DROP TABLE deletions;
