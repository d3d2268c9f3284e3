-- A gateway role with only USAGE on the schema and EXECUTE on the API can
-- create stores and append, but cannot touch the tables behind them.
\set VERBOSITY sqlstate
\set SHOW_CONTEXT never

CREATE ROLE regress_ls_gateway;
CREATE ROLE regress_ls_nobody;
GRANT USAGE ON SCHEMA livestore TO regress_ls_gateway, regress_ls_nobody;
GRANT EXECUTE ON FUNCTION livestore.create_store(text), livestore.append(text, jsonb),
  livestore.head(text), livestore.store_info(text), livestore.events(text, integer, integer),
  livestore.shape_page(text, integer, integer) TO regress_ls_gateway;

SET ROLE regress_ls_gateway;
SELECT livestore.create_store('priv');
SELECT livestore.append('priv', '[{"name":"v1.A","args":{"n":1},"seqNum":1,"parentSeqNum":0,"clientId":"c","sessionId":"s"}]');
SELECT livestore.head('priv');
SELECT "seqNum", name FROM livestore.events('priv');
SELECT events, last_seq FROM livestore.shape_page('priv', 0);
-- Direct access to the log or to the catalog is refused (42501).
INSERT INTO eventlog_6_priv VALUES (2, 1, 'v1.B', '{}', 'c', 's');
UPDATE eventlog_6_priv SET name = 'x';
DELETE FROM eventlog_6_priv;
TRUNCATE eventlog_6_priv;
SELECT * FROM eventlog_6_priv;
SELECT * FROM livestore.stores;
UPDATE livestore.stores SET handle = '';
-- Functions not granted stay out of reach.
SELECT livestore.drop_store('priv');
RESET ROLE;

-- Without EXECUTE nothing works, not even reading the head.
SET ROLE regress_ls_nobody;
SELECT livestore.append('priv', '[{"name":"v1.B","args":{},"seqNum":2,"parentSeqNum":1,"clientId":"c","sessionId":"s"}]');
SELECT livestore.create_store('priv2');
SELECT livestore.head('priv');
RESET ROLE;

-- The log belongs to the extension's owner, not to the role that asked for it.
SELECT c.relowner = e.extowner AS owned_by_extension_owner
  FROM pg_class c, pg_extension e WHERE c.oid = 'eventlog_6_priv'::regclass AND e.extname = 'livestore';
SELECT "seqNum", name FROM eventlog_6_priv;

SELECT livestore.drop_store('priv');
REVOKE ALL ON SCHEMA livestore FROM regress_ls_gateway, regress_ls_nobody;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA livestore FROM regress_ls_gateway;
DROP ROLE regress_ls_gateway, regress_ls_nobody;
