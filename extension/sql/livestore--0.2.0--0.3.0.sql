\echo Use "ALTER EXTENSION livestore UPDATE TO '0.3.0'" to load this file. \quit

-- ---------------------------------------------------------------------------
-- 0.3.0: wake-ups without NOTIFY. Every committed write to a store is
-- published in a ring in shared memory; live pulls (the gateway) wait for it
-- with wait_changes(). livestore.notify now defaults to off: a NOTIFY
-- serializes the commits of all notifying transactions.
-- ---------------------------------------------------------------------------

-- The stores of this database whose heads advanced after `since`, waiting up
-- to timeout_ms for the first; the last row (store_id NULL) carries the
-- position to continue from and whether changes were missed.
CREATE FUNCTION @extschema@.wait_changes(since bigint DEFAULT NULL, timeout_ms integer DEFAULT 0)
RETURNS TABLE ("position" bigint, store_id text, table_name text, head integer, missed boolean)
LANGUAGE C VOLATILE
AS 'MODULE_PATHNAME', 'ls_wait_changes';
REVOKE ALL ON FUNCTION @extschema@.wait_changes(bigint, integer) FROM PUBLIC;

-- Publishes a change of the store at this transaction's commit.
CREATE FUNCTION @extschema@._wake(store_id text, table_name text, head integer) RETURNS void
LANGUAGE C VOLATILE STRICT
AS 'MODULE_PATHNAME', 'ls_wake';
REVOKE ALL ON FUNCTION @extschema@._wake(text, text, integer) FROM PUBLIC;

-- Wakes live pulls of a store without writing anything (through the ring and
-- with a NOTIFY for LISTEN-based consumers), committed asynchronously.
CREATE OR REPLACE FUNCTION @extschema@.announce(store_id text) RETURNS integer
LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  info record;
BEGIN
  SELECT * INTO info FROM @extschema@._require_store(store_id);
  PERFORM pg_catalog.set_config('synchronous_commit', 'off', true);
  PERFORM @extschema@._wake(store_id, info.table_name, info.head);
  -- The same payload as append's (ids and table names need no JSON escaping).
  PERFORM pg_catalog.pg_notify('livestore_events',
    pg_catalog.format('{"table":"%s","store":"%s","head":%s}', info.table_name, store_id, info.head));
  RETURN info.head;
END
$$;

-- ---------------------------------------------------------------------------
-- 0.3.0: a store's head is the last seqNum of its log (the primary key's last
-- entry), no longer a catalog row that every append updated: appends to
-- different stores shared that row's page, and its dead versions piled up
-- while any snapshot was held. Appends and emits to one store are serialized
-- by a lock of the store's own instead (an advisory lock tag no SQL advisory
-- lock function can take).
-- ---------------------------------------------------------------------------

-- The head of the store whose log is `table_name` (NULL: no such store).
CREATE FUNCTION @extschema@._log_head(table_name text) RETURNS integer
LANGUAGE C STABLE STRICT
AS 'MODULE_PATHNAME', 'ls_table_head';
REVOKE ALL ON FUNCTION @extschema@._log_head(text) FROM PUBLIC;

-- The C functions name everything they use by schema, so they need no
-- search_path of their own (setting one cost every call).
CREATE OR REPLACE FUNCTION @extschema@.head(store_id text) RETURNS integer
LANGUAGE C STABLE STRICT SECURITY DEFINER
AS 'MODULE_PATHNAME', 'ls_head';

CREATE OR REPLACE FUNCTION @extschema@.append(store_id text, batch jsonb) RETURNS integer
LANGUAGE C VOLATILE SECURITY DEFINER
AS 'MODULE_PATHNAME', 'ls_append';

CREATE OR REPLACE FUNCTION @extschema@.emit(store_id text, events jsonb) RETURNS integer
LANGUAGE C VOLATILE SECURITY DEFINER
AS 'MODULE_PATHNAME', 'ls_emit';

CREATE OR REPLACE FUNCTION @extschema@.store_info(store_id text,
  OUT table_name text, OUT schema_name text, OUT head integer, OUT handle text)
RETURNS record
LANGUAGE sql STABLE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT s.table_name, s.schema_name, @extschema@._log_head(s.table_name), s.handle FROM @extschema@.stores s
   WHERE s.table_name OPERATOR(pg_catalog.=) @extschema@.table_name($1)
$$;

CREATE OR REPLACE FUNCTION @extschema@.create_store(store_id text) RETURNS regclass
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  tbl text := @extschema@.table_name(@extschema@._check_store_id(store_id));
  sch text;
  rel regclass;
  found_schema text;
  cols text;
BEGIN
  SELECT s.schema_name INTO found_schema FROM @extschema@.stores s
   WHERE s.table_name OPERATOR(pg_catalog.=) tbl;
  IF found_schema IS NOT NULL THEN
    RETURN pg_catalog.format('%I.%I', found_schema, tbl)::regclass;
  END IF;

  -- Two sessions creating the same store: the second waits, then finds the row.
  PERFORM pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('livestore.create_store'),
                                           pg_catalog.hashtext(tbl));
  SELECT s.schema_name INTO found_schema FROM @extschema@.stores s
   WHERE s.table_name OPERATOR(pg_catalog.=) tbl;
  IF found_schema IS NOT NULL THEN
    RETURN pg_catalog.format('%I.%I', found_schema, tbl)::regclass;
  END IF;

  sch := COALESCE(NULLIF(pg_catalog.current_setting('livestore.schema', true), ''), 'public');
  rel := pg_catalog.to_regclass(pg_catalog.format('%I.%I', sch, tbl));
  IF rel IS NULL THEN
    EXECUTE pg_catalog.format(
      'CREATE TABLE %I.%I ("seqNum" integer PRIMARY KEY, "parentSeqNum" integer, '
      '"name" text NOT NULL, "args" jsonb NOT NULL, "clientId" text NOT NULL, '
      '"sessionId" text NOT NULL)', sch, tbl);
    rel := pg_catalog.format('%I.%I', sch, tbl)::regclass;
  ELSE
    -- Adopt a log made by the reference server: same columns, same types,
    -- "seqNum" the primary key. Nothing is copied or rewritten.
    SELECT pg_catalog.string_agg(a.attname OPERATOR(pg_catalog.||) ' '
             OPERATOR(pg_catalog.||) pg_catalog.format_type(a.atttypid, a.atttypmod)
             OPERATOR(pg_catalog.||) CASE WHEN a.attnotnull THEN ' not null' ELSE '' END,
             ', ' ORDER BY a.attnum)
      INTO cols
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid OPERATOR(pg_catalog.=) rel AND a.attnum OPERATOR(pg_catalog.>) 0
       AND NOT a.attisdropped;
    IF cols IS DISTINCT FROM 'seqNum integer not null, parentSeqNum integer, name text not null, '
         'args jsonb not null, clientId text not null, sessionId text not null'
       OR NOT EXISTS (
         SELECT 1 FROM pg_catalog.pg_index i
          WHERE i.indrelid OPERATOR(pg_catalog.=) rel AND i.indisprimary
            AND i.indkey::text OPERATOR(pg_catalog.=) '1') THEN
      RAISE EXCEPTION USING ERRCODE = 'LS004',
        MESSAGE = pg_catalog.format('table %s exists but is not a LiveStore v6 event log', rel),
        DETAIL = pg_catalog.format('Its columns are: %s.', cols),
        HINT = 'Expected "seqNum" integer primary key, "parentSeqNum" integer, "name" text, '
               '"args" jsonb, "clientId" text, "sessionId" text.';
    END IF;
  END IF;

  EXECUTE pg_catalog.format(
    'CREATE TRIGGER livestore_append_only BEFORE UPDATE OR DELETE ON %s '
    'FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._reject_change()', rel);
  EXECUTE pg_catalog.format(
    'CREATE TRIGGER livestore_no_truncate BEFORE TRUNCATE ON %s '
    'FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._reject_change()', rel);

  EXECUTE pg_catalog.format(
    'INSERT INTO @extschema@.stores (table_name, store_id, schema_name, handle) '
    'VALUES ($1, $2, $3, $4)')
  USING tbl, store_id, sch,
        pg_catalog.format('%s-%s', rel::oid,
          pg_catalog.floor(pg_catalog.date_part('epoch', pg_catalog.clock_timestamp())
                           OPERATOR(pg_catalog.*) 1000000)::bigint);
  RETURN rel;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.consume(consumer text, store_pattern text, max_events integer)
RETURNS TABLE (store_id text, "seqNum" integer, "parentSeqNum" integer, name text, args jsonb,
               "clientId" text, "sessionId" text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  pos record;
  taken text[] := '{}';
  left_over integer := max_events;
  got integer;
BEGIN
  IF consumer IS NULL OR store_pattern IS NULL OR max_events IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'consumer, store_pattern and max_events must not be NULL';
  END IF;
  IF consumer OPERATOR(pg_catalog.=) '' OR store_pattern OPERATOR(pg_catalog.=) '' THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'consumer and store_pattern must not be empty';
  END IF;
  IF max_events OPERATOR(pg_catalog.<) 1 OR max_events OPERATOR(pg_catalog.>) 10000 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'max_events must be between 1 and 10000';
  END IF;
  -- A new consumer, or a new matching store: start at the beginning. A row
  -- that another worker is creating right now is left to it (the advisory
  -- lock says so) instead of waiting for its transaction.
  INSERT INTO @extschema@.consumers AS c (consumer, store_id)
  SELECT consume.consumer, s.store_id FROM @extschema@.stores s
   WHERE s.store_id OPERATOR(pg_catalog.~~) store_pattern
     AND CASE WHEN EXISTS (SELECT 1 FROM @extschema@.consumers x
                            WHERE x.consumer OPERATOR(pg_catalog.=) consume.consumer
                              AND x.store_id OPERATOR(pg_catalog.=) s.store_id) THEN false
              ELSE pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtext('livestore.consume'),
                     pg_catalog.hashtext(consume.consumer OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) s.store_id))
         END
  ON CONFLICT DO NOTHING;
  -- One store at a time, each locked only when it is taken: a store that
  -- another worker holds is skipped, and this call locks no store it does
  -- not read from.
  LOOP
    SELECT c.store_id, c.position INTO pos FROM @extschema@.consumers c
      JOIN @extschema@.stores s ON s.store_id OPERATOR(pg_catalog.=) c.store_id
     WHERE c.consumer OPERATOR(pg_catalog.=) consume.consumer
       AND c.store_id OPERATOR(pg_catalog.~~) store_pattern
       AND @extschema@._log_head(s.table_name) OPERATOR(pg_catalog.>) c.position
       AND c.store_id OPERATOR(pg_catalog.<>) ALL (taken)
     ORDER BY c.updated_at, c.store_id
     LIMIT 1
       FOR UPDATE OF c SKIP LOCKED;
    EXIT WHEN NOT FOUND;
    taken := taken OPERATOR(pg_catalog.||) pos.store_id;
    -- The head may have moved since: read the log itself.
    RETURN QUERY SELECT pos.store_id, e."seqNum", e."parentSeqNum", e.name, e.args, e."clientId", e."sessionId"
                   FROM @extschema@.events(pos.store_id, pos.position, left_over) e;
    GET DIAGNOSTICS got = ROW_COUNT;
    IF got OPERATOR(pg_catalog.>) 0 THEN
      UPDATE @extschema@.consumers c SET position = pos.position OPERATOR(pg_catalog.+) got,
             updated_at = pg_catalog.clock_timestamp()
       WHERE c.consumer OPERATOR(pg_catalog.=) consume.consumer
         AND c.store_id OPERATOR(pg_catalog.=) pos.store_id;
      left_over := left_over OPERATOR(pg_catalog.-) got;
    END IF;
    EXIT WHEN left_over OPERATOR(pg_catalog.<=) 0;
  END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION @extschema@.list_consumers()
RETURNS TABLE (consumer text, store_id text, "position" integer, head integer, behind integer,
               updated_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT c.consumer, c.store_id, c.position, h.head, h.head OPERATOR(pg_catalog.-) c.position, c.updated_at
    FROM @extschema@.consumers c JOIN @extschema@.stores s ON s.store_id OPERATOR(pg_catalog.=) c.store_id
   CROSS JOIN LATERAL (SELECT @extschema@._log_head(s.table_name) AS head) h
   ORDER BY 1, 2
$$;

CREATE OR REPLACE FUNCTION @extschema@.reset_consumer(consumer text, store_pattern text DEFAULT '%',
                                           "position" integer DEFAULT 0) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  n integer;
BEGIN
  IF consumer IS NULL OR store_pattern IS NULL OR "position" IS NULL OR "position" OPERATOR(pg_catalog.<) 0 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'consumer, store_pattern and a position >= 0 are required';
  END IF;
  UPDATE @extschema@.consumers c SET position = LEAST(reset_consumer."position",
           (SELECT @extschema@._log_head(s.table_name) FROM @extschema@.stores s
            WHERE s.store_id OPERATOR(pg_catalog.=) c.store_id)),
         updated_at = pg_catalog.clock_timestamp()
   WHERE c.consumer OPERATOR(pg_catalog.=) reset_consumer.consumer
     AND c.store_id OPERATOR(pg_catalog.~~) store_pattern;
  GET DIAGNOSTICS n = ROW_COUNT;
  IF n OPERATOR(pg_catalog.=) 0 THEN
    RAISE EXCEPTION USING ERRCODE = '42704',
      MESSAGE = pg_catalog.format('consumer "%s" has no position in stores like %L', consumer, store_pattern);
  END IF;
  RETURN n;
END
$$;

ALTER TABLE @extschema@.stores DROP COLUMN head;
