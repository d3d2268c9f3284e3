\echo Use "ALTER EXTENSION livestore UPDATE TO '0.4.0'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- 0.4.0: events() in C. The same signature, result, errors and grants; it
-- reads the log's primary key from `after` on instead of planning a SELECT
-- at every call (PL/pgSQL's RETURN QUERY EXECUTE), which halves its cost
-- per page for the gateway's pulls. CREATE OR REPLACE keeps its ACL.
-- ---------------------------------------------------------------------------

-- Events after seqNum `after`, in order, at most max_events of them (as the
-- calling statement's snapshot sees the log). C since 0.4.0: a scan of the
-- log's primary key, no query planned per call.
CREATE OR REPLACE FUNCTION @extschema@.events(store_id text, after integer DEFAULT 0,
                                              max_events integer DEFAULT 1000)
RETURNS TABLE ("seqNum" integer, "parentSeqNum" integer, name text, args jsonb,
               "clientId" text, "sessionId" text)
LANGUAGE C STABLE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'ls_events';
