-- Hooks: functions (store_id text, events jsonb) RETURNS void that run after
-- the batch's rows are written, inside the append or emit.
\set VERBOSITY sqlstate
\set SHOW_CONTEXT never

CREATE TABLE hook_log (n serial, hook text, store text, events jsonb, who name, path text);
CREATE FUNCTION log_a(store_id text, events jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO hook_log (hook, store, events, who, path)
  VALUES ('a', store_id, events, current_user, current_setting('search_path'));
END $$;
CREATE FUNCTION log_b(store_id text, events jsonb) RETURNS void LANGUAGE sql AS $$
  INSERT INTO public.hook_log (hook, store, events, who) VALUES ('b', store_id, events, current_user)
$$;

-- Registering: the order of adding is the order of running.
SELECT livestore.add_hook('%', 'log_b(text, jsonb)');
SELECT livestore.add_hook('hk-%', 'log_a(text, jsonb)');
SELECT livestore.add_hook('hk-%', 'log_b(text, jsonb)');
SELECT store_pattern, hook, runs_as FROM livestore.list_hooks();

-- Refused: wrong signatures (42P13), twice (42710), NULL (22004), empty
-- pattern (22023), not a hook (42704).
CREATE FUNCTION wrong_args(text) RETURNS void LANGUAGE sql AS '';
CREATE FUNCTION wrong_result(store_id text, events jsonb) RETURNS integer LANGUAGE sql AS 'SELECT 1';
CREATE FUNCTION wrong_set(store_id text, events jsonb) RETURNS SETOF void LANGUAGE sql AS '';
CREATE FUNCTION wrong_types(store_id text, events json) RETURNS void LANGUAGE sql AS '';
CREATE PROCEDURE wrong_kind(store_id text, events jsonb) LANGUAGE sql AS '';
SELECT livestore.add_hook('%', 'wrong_args(text)');
SELECT livestore.add_hook('%', 'wrong_result(text, jsonb)');
SELECT livestore.add_hook('%', 'wrong_set(text, jsonb)');
SELECT livestore.add_hook('%', 'wrong_types(text, json)');
SELECT livestore.add_hook('%', 'wrong_kind(text, jsonb)');
SELECT livestore.add_hook('hk-%', 'log_a(text, jsonb)');
SELECT livestore.add_hook(NULL, 'log_a(text, jsonb)');
SELECT livestore.add_hook('', 'log_a(text, jsonb)');
SELECT livestore.drop_hook('nope%', 'log_a(text, jsonb)');
SELECT livestore.drop_hook('%', NULL);
\set VERBOSITY default
SELECT livestore.add_hook('%', 'wrong_result(text, jsonb)');
\set VERBOSITY sqlstate
SELECT count(*) AS hooks FROM livestore.list_hooks();

-- A hook's function cannot be dropped while registered (2BP01).
DROP FUNCTION log_a(text, jsonb);

-- append: the hooks see the batch as stored (defaults filled, extra keys
-- gone), run in order, in the same transaction.
SELECT livestore.create_store('hk-1');
SELECT livestore.append('hk-1', '[{"name":"v1.A","seqNum":1,"parentSeqNum":0,"clientId":"c","sessionId":"s","extra":1},
                                  {"name":"v1.B","args":{"x":1},"seqNum":2,"parentSeqNum":1,"clientId":"c","sessionId":"s"}]');
SELECT n, hook, store, events, path FROM hook_log ORDER BY n;
-- emit runs them too; a store matching only '%' runs only log_b.
SELECT livestore.emit('other', '[{"name":"v1.C"}]');
SELECT n, hook, store, events->0->>'name' AS first, jsonb_array_length(events) AS count FROM hook_log WHERE n > 2 ORDER BY n;
-- A re-sent batch (already stored) writes nothing, so hooks do not run again.
SELECT livestore.append('hk-1', '[{"name":"v1.A","seqNum":1,"parentSeqNum":0,"clientId":"c","sessionId":"s"},
                                  {"name":"v1.B","args":{"x":1},"seqNum":2,"parentSeqNum":1,"clientId":"c","sessionId":"s"}]');
-- A losing append (LS001) runs no hook either.
SELECT livestore.append('hk-1', '[{"name":"v1.A","seqNum":1,"parentSeqNum":0,"clientId":"x","sessionId":"s"}]');
SELECT count(*) AS hook_runs FROM hook_log;
-- A rolled-back append takes the hooks' writes with it.
BEGIN;
SELECT livestore.append('hk-1', '[{"name":"v1.D","seqNum":3,"parentSeqNum":2,"clientId":"c","sessionId":"s"}]');
SELECT count(*) AS hook_runs_inside FROM hook_log;
ROLLBACK;
SELECT count(*) AS hook_runs FROM hook_log;

-- LIKE patterns: '_' matches one character; a dash is literal.
SELECT livestore.drop_hook('%', 'log_b(text, jsonb)');
SELECT livestore.add_hook('x_', 'log_b(text, jsonb)');
SELECT livestore.emit('xy', '[{"name":"v1.E"}]');
SELECT livestore.emit('xyz', '[{"name":"v1.E"}]');
SELECT store FROM hook_log WHERE n > 5 ORDER BY n;
SELECT livestore.drop_hook('x_', 'log_b(text, jsonb)');
TRUNCATE hook_log;

-- Whose rights: a hook runs as its function's owner, whoever appends. The
-- gateway-like role can append, but cannot add or drop hooks (42501), and
-- cannot read the hook's table.
CREATE ROLE regress_ls_writer;
CREATE ROLE regress_ls_owner;
GRANT USAGE ON SCHEMA livestore TO regress_ls_writer, regress_ls_owner;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA livestore TO regress_ls_writer;
GRANT EXECUTE ON FUNCTION livestore.emit(text, jsonb) TO regress_ls_owner;
CREATE TABLE owner_only (store text, who name, writer name);
ALTER TABLE owner_only OWNER TO regress_ls_owner;
CREATE FUNCTION owned_hook(store_id text, events jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN INSERT INTO owner_only VALUES (store_id, current_user, session_user); END $$;
ALTER FUNCTION owned_hook(text, jsonb) OWNER TO regress_ls_owner;
SELECT livestore.add_hook('hk-%', 'owned_hook(text, jsonb)');
SELECT store_pattern, hook, runs_as FROM livestore.list_hooks();
SET ROLE regress_ls_writer;
SELECT livestore.append('hk-1', '[{"name":"v1.F","seqNum":3,"parentSeqNum":2,"clientId":"c","sessionId":"s"}]');
SELECT current_user AS back_to;
SELECT * FROM owner_only;                                       -- 42501
SELECT livestore.add_hook('%', 'owned_hook(text, jsonb)');                   -- 42501
SELECT livestore.drop_hook('hk-%', 'owned_hook(text, jsonb)');               -- 42501
CREATE FUNCTION pg_temp.mine(store_id text, events jsonb) RETURNS void LANGUAGE sql AS '';
SELECT livestore.add_hook('%', 'pg_temp.mine(text, jsonb)');                 -- 42501
RESET ROLE;
SELECT store, who FROM owner_only;
SELECT who FROM hook_log;
-- A caller who may write livestore.hooks but is not a member of the
-- function's owner cannot lend it that owner's rights (42501).
GRANT INSERT ON livestore.hooks TO regress_ls_writer;
SET ROLE regress_ls_writer;
SELECT livestore.add_hook('%', 'log_b(text, jsonb)');                        -- 42501
RESET ROLE;
REVOKE INSERT ON livestore.hooks FROM regress_ls_writer;

-- Events from hooks: emit into the same store is ordered right after the
-- batch, in the same transaction; the append returns the head including it.
SELECT livestore.drop_hook('hk-%', 'owned_hook(text, jsonb)');
SELECT livestore.drop_hook('hk-%', 'log_b(text, jsonb)');
CREATE FUNCTION derive(store_id text, events jsonb) RETURNS void LANGUAGE plpgsql AS $$
DECLARE e jsonb;
BEGIN
  FOR e IN SELECT * FROM jsonb_array_elements(events) LOOP
    IF e->>'name' = 'v1.Ordered' THEN
      PERFORM livestore.emit(store_id, jsonb_build_array(jsonb_build_object(
        'name', 'v1.Confirmed', 'args', jsonb_build_object('of', e->'seqNum'))));
      PERFORM livestore.emit('hk-audit', jsonb_build_array(jsonb_build_object(
        'name', 'v1.Seen', 'args', jsonb_build_object('store', store_id, 'seq', e->'seqNum'))));
    END IF;
  END LOOP;
END $$;
SELECT livestore.add_hook('hk-%', 'derive(text, jsonb)');
SELECT livestore.append('hk-1', '[{"name":"v1.Ordered","seqNum":4,"parentSeqNum":3,"clientId":"c","sessionId":"s"},
                                  {"name":"v1.Ordered","seqNum":5,"parentSeqNum":4,"clientId":"c","sessionId":"s"}]');
SELECT "seqNum", "parentSeqNum", name, args, "clientId" FROM livestore.events('hk-1', 3);
-- hk-audit matches 'hk-%' too: its events ran the hooks (a non-Ordered batch: no more).
SELECT "seqNum", name, args FROM livestore.events('hk-audit');
SELECT n, hook, store, events->0->>'name' AS first FROM hook_log ORDER BY n;
-- A client still pushing on its old head is behind (LS001): it must pull.
SELECT livestore.append('hk-1', '[{"name":"v1.G","seqNum":6,"parentSeqNum":5,"clientId":"c","sessionId":"s"}]');

-- Recursion is bounded: a hook that emits into its own store whatever it
-- sees would loop forever; the 9th level fails (54001) and nothing stays.
CREATE FUNCTION echo(store_id text, events jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN PERFORM livestore.emit(store_id, '[{"name":"v1.Echo"}]'); END $$;
SELECT livestore.add_hook('loop', 'echo(text, jsonb)');
SELECT livestore.emit('loop', '[{"name":"v1.Start"}]');
SELECT livestore.head('loop');
-- Bounded recursion that ends by itself works (4 levels).
CREATE OR REPLACE FUNCTION echo(store_id text, events jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF (events->-1->>'seqNum')::int < 5 THEN PERFORM livestore.emit(store_id, '[{"name":"v1.Echo"}]'); END IF;
END $$;
SELECT livestore.emit('loop', '[{"name":"v1.Start"}]');
SELECT "seqNum", name FROM livestore.events('loop');

-- An error in a hook stores nothing; its context names the hook.
CREATE FUNCTION broken(store_id text, events jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN PERFORM 1 / 0; END $$;
SELECT livestore.add_hook('brk', 'broken(text, jsonb)');
\set VERBOSITY default
\set SHOW_CONTEXT always
SELECT livestore.emit('brk', '[{"name":"v1.A"}]');
\set VERBOSITY sqlstate
\set SHOW_CONTEXT never
SELECT livestore.head('brk');
-- A hook cannot change stored events (the log is append-only: LS003).
CREATE OR REPLACE FUNCTION broken(store_id text, events jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN EXECUTE format('UPDATE %I SET name = %L', livestore.table_name(store_id), 'v1.Changed'); END $$;
SELECT livestore.emit('brk', '[{"name":"v1.A"}]');
SELECT livestore.head('brk');

-- Hooks follow changes at once: drop_hook in this session, and a rollback
-- of add_hook.
SELECT livestore.drop_hook('brk', 'broken(text, jsonb)');
SELECT livestore.emit('brk', '[{"name":"v1.A"}]');
BEGIN;
SELECT livestore.add_hook('brk', 'broken(text, jsonb)');
ROLLBACK;
SELECT livestore.emit('brk', '[{"name":"v1.A"}]');

-- A batch already in stored form (the six fields, nothing else), as clients
-- send them, reaches the hooks as sent: equal to the rows written.
TRUNCATE hook_log;
SELECT livestore.create_store('hk-full');
SELECT livestore.append('hk-full', '[{"name":"v1.Full","args":{"a":[1,2.50]},"seqNum":1,"parentSeqNum":0,"clientId":"c","sessionId":"s"},
                                     {"name":"v1.Full","args":null,"seqNum":2,"parentSeqNum":1,"clientId":"c","sessionId":"s"}]');
SELECT hook, events = (SELECT jsonb_agg(to_jsonb(e) ORDER BY "seqNum") FROM eventlog_6_hk_full e) AS as_stored
  FROM hook_log ORDER BY n;

SELECT livestore.drop_hook(store_pattern, hook) FROM livestore.list_hooks();
SELECT count(*) AS dropped FROM (SELECT livestore.drop_store(store_id) FROM livestore.stores) d;
DROP FUNCTION log_a(text, jsonb), log_b(text, jsonb), owned_hook(text, jsonb), derive(text, jsonb),
  echo(text, jsonb), broken(text, jsonb), wrong_args(text), wrong_result(text, jsonb), wrong_set(text, jsonb),
  wrong_types(text, json);
DROP PROCEDURE wrong_kind(text, jsonb);
DROP FUNCTION pg_temp.mine(text, jsonb);
DROP TABLE hook_log, owner_only;
REVOKE ALL ON SCHEMA livestore FROM regress_ls_writer, regress_ls_owner;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA livestore FROM regress_ls_writer, regress_ls_owner;
DROP ROLE regress_ls_writer, regress_ls_owner;
