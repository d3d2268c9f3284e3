\echo Use "CREATE EXTENSION livestore" to load this file. \quit

-- One row per store: where its log lives, its head (the last seqNum), and the
-- Electric-style handle that stays the same for the life of the store. The
-- head row is also the per-store lock that serializes appends.
CREATE TABLE @extschema@.stores (
  table_name  text PRIMARY KEY,
  store_id    text NOT NULL,
  schema_name text NOT NULL,
  head        integer NOT NULL DEFAULT 0 CHECK (head OPERATOR(pg_catalog.>=) 0),
  handle      text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.stores', '');
REVOKE ALL ON TABLE @extschema@.stores FROM PUBLIC;

CREATE FUNCTION @extschema@.table_name(store_id text) RETURNS text
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
AS 'MODULE_PATHNAME', 'ls_table_name';

-- Validates a store id as the client does, raising 22023/54000 otherwise.
CREATE FUNCTION @extschema@._check_store_id(store_id text) RETURNS text
LANGUAGE C IMMUTABLE PARALLEL SAFE
AS 'MODULE_PATHNAME', 'ls_check_store_id';

-- Statement-level guard: the sync protocol breaks if a stored event changes.
CREATE FUNCTION @extschema@._reject_change() RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'ls_reject_change';

CREATE FUNCTION @extschema@.create_store(store_id text) RETURNS regclass
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
    'INSERT INTO @extschema@.stores (table_name, store_id, schema_name, head, handle) '
    'SELECT $1, $2, $3, COALESCE(pg_catalog.max("seqNum"), 0), $4 FROM %s', rel)
  USING tbl, store_id, sch,
        pg_catalog.format('%s-%s', rel::oid,
          pg_catalog.floor(pg_catalog.date_part('epoch', pg_catalog.clock_timestamp())
                           OPERATOR(pg_catalog.*) 1000000)::bigint);
  RETURN rel;
END
$$;

CREATE FUNCTION @extschema@.append(store_id text, batch jsonb) RETURNS integer
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'ls_append';

CREATE FUNCTION @extschema@.head(store_id text) RETURNS integer
LANGUAGE sql STABLE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT s.head FROM @extschema@.stores s
   WHERE s.table_name OPERATOR(pg_catalog.=) @extschema@.table_name($1)
$$;

-- Where a store lives and the handle its pull responses carry.
CREATE FUNCTION @extschema@.store_info(store_id text,
  OUT table_name text, OUT schema_name text, OUT head integer, OUT handle text)
RETURNS record
LANGUAGE sql STABLE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT s.table_name, s.schema_name, s.head, s.handle FROM @extschema@.stores s
   WHERE s.table_name OPERATOR(pg_catalog.=) @extschema@.table_name($1)
$$;

-- store_info() for a store that must exist (LS002 otherwise).
CREATE FUNCTION @extschema@._require_store(store_id text,
  OUT table_name text, OUT schema_name text, OUT head integer, OUT handle text)
RETURNS record
LANGUAGE plpgsql STABLE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  SELECT * INTO table_name, schema_name, head, handle FROM @extschema@.store_info(store_id);
  IF table_name IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LS002',
      MESSAGE = pg_catalog.format('store "%s" does not exist', store_id);
  END IF;
END
$$;

CREATE FUNCTION @extschema@.drop_store(store_id text) RETURNS void
LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  -- Validated like create_store: 'a b' must not drop the log of 'a_b'.
  tbl text := @extschema@.table_name(@extschema@._check_store_id(store_id));
  sch text;
BEGIN
  DELETE FROM @extschema@.stores s WHERE s.table_name OPERATOR(pg_catalog.=) tbl
  RETURNING s.schema_name INTO sch;
  IF sch IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LS002',
      MESSAGE = pg_catalog.format('store "%s" does not exist', store_id);
  END IF;
  EXECUTE pg_catalog.format('DROP TABLE IF EXISTS %I.%I', sch, tbl);
END
$$;

-- Events after seqNum `after`, in order, at most max_events of them.
CREATE FUNCTION @extschema@.events(store_id text, after integer DEFAULT 0,
                                   max_events integer DEFAULT 1000)
RETURNS TABLE ("seqNum" integer, "parentSeqNum" integer, name text, args jsonb,
               "clientId" text, "sessionId" text)
LANGUAGE plpgsql STABLE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  info record;
BEGIN
  SELECT * INTO info FROM @extschema@._require_store(store_id);
  RETURN QUERY EXECUTE pg_catalog.format(
    'SELECT e."seqNum", e."parentSeqNum", e.name, e.args, e."clientId", e."sessionId" '
    'FROM %I.%I e WHERE e."seqNum" OPERATOR(pg_catalog.>) $1 '
    'ORDER BY e."seqNum" LIMIT $2', info.schema_name, info.table_name)
  USING after, max_events;
END
$$;

-- One page of a store's log already encoded as Electric shape-log insert
-- messages (values as text, "args" as JSON text, "relation" set), joined by
-- commas without the enclosing brackets, so the gateway streams it as is.
CREATE FUNCTION @extschema@.shape_page(store_id text, after integer,
                                       max_events integer DEFAULT 1000,
  OUT events integer, OUT last_seq integer, OUT body text)
RETURNS record
LANGUAGE plpgsql STABLE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  info record;
  key_prefix text;
  relation text;
BEGIN
  SELECT * INTO info FROM @extschema@._require_store(store_id);
  key_prefix := pg_catalog.format('"%s"."%s"/"', info.schema_name, info.table_name);
  relation := pg_catalog.json_build_array(info.schema_name, info.table_name)::text;
  -- Electric keys rows as "schema"."table"/"pk". Built by concatenation
  -- (to_json escapes strings): several times cheaper per row than
  -- json_build_object, and compact.
  SELECT pg_catalog.count(*)::integer, pg_catalog.max(p."seqNum"),
         pg_catalog.string_agg(
           '{"key":' OPERATOR(pg_catalog.||) pg_catalog.to_json(key_prefix OPERATOR(pg_catalog.||) p."seqNum"
               OPERATOR(pg_catalog.||) '"')::text
           OPERATOR(pg_catalog.||) ',"value":{"seqNum":"' OPERATOR(pg_catalog.||) p."seqNum"
           OPERATOR(pg_catalog.||) '","parentSeqNum":' OPERATOR(pg_catalog.||)
               COALESCE('"' OPERATOR(pg_catalog.||) p."parentSeqNum" OPERATOR(pg_catalog.||) '"', 'null')
           OPERATOR(pg_catalog.||) ',"name":' OPERATOR(pg_catalog.||) pg_catalog.to_json(p.name)::text
           OPERATOR(pg_catalog.||) ',"args":' OPERATOR(pg_catalog.||) pg_catalog.to_json(p.args::text)::text
           OPERATOR(pg_catalog.||) ',"clientId":' OPERATOR(pg_catalog.||) pg_catalog.to_json(p."clientId")::text
           OPERATOR(pg_catalog.||) ',"sessionId":' OPERATOR(pg_catalog.||) pg_catalog.to_json(p."sessionId")::text
           OPERATOR(pg_catalog.||) '},"headers":{"operation":"insert","relation":' OPERATOR(pg_catalog.||) relation
           OPERATOR(pg_catalog.||) '}}', ',' ORDER BY p."seqNum")
    INTO events, last_seq, body
    FROM @extschema@.events(store_id, after, max_events) p;
END
$$;

-- Wakes live pulls of a store without writing anything: for writers that
-- run with livestore.notify = off (so that their appends keep group commit).
-- It commits asynchronously, so the notification queue's lock is not held
-- through a WAL flush. Call it as its own transaction, after the append.
CREATE FUNCTION @extschema@.announce(store_id text) RETURNS integer
LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  info record;
BEGIN
  SELECT * INTO info FROM @extschema@._require_store(store_id);
  PERFORM pg_catalog.set_config('synchronous_commit', 'off', true);
  -- The same payload as append's (ids and table names need no JSON escaping).
  PERFORM pg_catalog.pg_notify('livestore_events',
    pg_catalog.format('{"table":"%s","store":"%s","head":%s}', info.table_name, store_id, info.head));
  RETURN info.head;
END
$$;

REVOKE ALL ON FUNCTION @extschema@.table_name(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.announce(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._require_store(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._check_store_id(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@._reject_change() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.create_store(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.append(text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.head(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.store_info(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.drop_store(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.events(text, integer, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.shape_page(text, integer, integer) FROM PUBLIC;

-- The store whose log is the table `table_name` (NULL if none): an Electric
-- shape request names the table, not the store.
CREATE FUNCTION @extschema@.store_for_table(table_name text) RETURNS text
LANGUAGE sql STABLE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT s.store_id FROM @extschema@.stores s WHERE s.table_name OPERATOR(pg_catalog.=) $1
$$;
REVOKE ALL ON FUNCTION @extschema@.store_for_table(text) FROM PUBLIC;

-- ---------------------------------------------------------------------------
-- 0.2.0: server-side logic. Events from SQL (emit), hooks that run inside
-- every append and emit (validate with reject, react with emit, project into
-- the application's tables), and the writer's identity (livestore.claims).
-- ---------------------------------------------------------------------------

-- Appends events numbered after the store's head (waiting for a concurrent
-- append instead of failing), creating the store when missing; runs hooks,
-- wakes live pulls like append; returns the new head.
CREATE FUNCTION @extschema@.emit(store_id text, events jsonb) RETURNS integer
LANGUAGE C VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'ls_emit';
REVOKE ALL ON FUNCTION @extschema@.emit(text, jsonb) FROM PUBLIC;

-- Hooks: functions (store_id text, events jsonb) RETURNS void that run after
-- a batch's rows are written, in the same transaction, for every store whose
-- id is LIKE store_pattern, in the order they were added. Writing this table
-- is the privilege to add hooks: only its owner (the extension's owner, a
-- superuser) has it.
CREATE TABLE @extschema@.hooks (
  position      bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  store_pattern text NOT NULL CHECK (store_pattern OPERATOR(pg_catalog.<>) ''),
  hook          regprocedure NOT NULL,
  added_by      name NOT NULL DEFAULT CURRENT_USER,
  added_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
  UNIQUE (store_pattern, hook)
);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.hooks', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.hooks_position_seq', '');
REVOKE ALL ON TABLE @extschema@.hooks FROM PUBLIC;

-- Every backend re-reads its cached hooks when this table changes.
CREATE FUNCTION @extschema@._hooks_changed() RETURNS trigger
LANGUAGE C
AS 'MODULE_PATHNAME', 'ls_hooks_changed';
REVOKE ALL ON FUNCTION @extschema@._hooks_changed() FROM PUBLIC;
CREATE TRIGGER livestore_hooks_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON @extschema@.hooks
  FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._hooks_changed();

-- SECURITY INVOKER: the caller needs INSERT on livestore.hooks (superusers
-- have it), and must be a member of the role that owns the hook function,
-- since the hook will run with that role's rights.
CREATE FUNCTION @extschema@.add_hook(store_pattern text, hook regprocedure) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  fn record;
BEGIN
  IF store_pattern IS NULL OR hook IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'store_pattern and hook must not be NULL';
  END IF;
  IF store_pattern OPERATOR(pg_catalog.=) '' THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'store_pattern must not be empty',
      HINT = 'Use ''%'' for every store.';
  END IF;
  IF NOT pg_catalog.has_table_privilege('@extschema@.hooks', 'INSERT') THEN
    RAISE EXCEPTION USING ERRCODE = '42501',
      MESSAGE = pg_catalog.format('permission denied to add a livestore hook as role %I', CURRENT_USER),
      DETAIL = 'A hook runs inside every matching append; adding one needs INSERT on livestore.hooks.',
      HINT = 'Ask a superuser (the extension''s owner) to add it.';
  END IF;
  SELECT p.proowner, p.prokind, p.proretset, p.prorettype,
         pg_catalog.oidvectortypes(p.proargtypes) AS args
    INTO fn FROM pg_catalog.pg_proc p WHERE p.oid OPERATOR(pg_catalog.=) hook;
  IF fn.prokind OPERATOR(pg_catalog.<>) 'f' OR fn.proretset
     OR fn.prorettype OPERATOR(pg_catalog.<>) 'pg_catalog.void'::pg_catalog.regtype
     OR fn.args OPERATOR(pg_catalog.<>) 'text, jsonb' THEN
    RAISE EXCEPTION USING ERRCODE = '42P13',
      MESSAGE = pg_catalog.format('%s cannot be a livestore hook', hook),
      DETAIL = pg_catalog.format('It takes (%s) and returns %s%s.', fn.args,
                                 CASE WHEN fn.proretset THEN 'setof ' ELSE '' END,
                                 pg_catalog.format_type(fn.prorettype, NULL)),
      HINT = 'A hook is a function (store_id text, events jsonb) RETURNS void.';
  END IF;
  IF NOT pg_catalog.pg_has_role(fn.proowner, 'MEMBER') THEN
    RAISE EXCEPTION USING ERRCODE = '42501',
      MESSAGE = pg_catalog.format('permission denied to add %s as a hook', hook),
      DETAIL = pg_catalog.format('A hook runs with the rights of its function''s owner, %I.',
                                 pg_catalog.pg_get_userbyid(fn.proowner));
  END IF;
  INSERT INTO @extschema@.hooks (store_pattern, hook) VALUES (store_pattern, hook);
EXCEPTION WHEN unique_violation THEN
  RAISE EXCEPTION USING ERRCODE = '42710',
    MESSAGE = pg_catalog.format('%s is already a hook for stores like %L', hook, store_pattern);
END
$$;

CREATE FUNCTION @extschema@.drop_hook(store_pattern text, hook regprocedure) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF store_pattern IS NULL OR hook IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'store_pattern and hook must not be NULL';
  END IF;
  IF NOT pg_catalog.has_table_privilege('@extschema@.hooks', 'DELETE') THEN
    RAISE EXCEPTION USING ERRCODE = '42501',
      MESSAGE = pg_catalog.format('permission denied to drop a livestore hook as role %I', CURRENT_USER),
      HINT = 'Ask a superuser (the extension''s owner) to drop it.';
  END IF;
  DELETE FROM @extschema@.hooks h
   WHERE h.store_pattern OPERATOR(pg_catalog.=) drop_hook.store_pattern
     AND h.hook OPERATOR(pg_catalog.=) drop_hook.hook;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = '42704',
      MESSAGE = pg_catalog.format('%s is not a hook for stores like %L', hook, store_pattern);
  END IF;
END
$$;

-- The hooks in the order they run, with the role each runs as.
CREATE FUNCTION @extschema@.list_hooks()
RETURNS TABLE ("position" bigint, store_pattern text, hook regprocedure, runs_as name)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT h.position, h.store_pattern, h.hook, pg_catalog.pg_get_userbyid(p.proowner)
    FROM @extschema@.hooks h
    JOIN pg_catalog.pg_proc p ON p.oid OPERATOR(pg_catalog.=) h.hook::pg_catalog.oid
   ORDER BY h.position
$$;
REVOKE ALL ON FUNCTION @extschema@.list_hooks() FROM PUBLIC;

-- A hook's function cannot be dropped while it is registered (as with a
-- dependency): otherwise a validating hook would silently stop validating.
CREATE FUNCTION @extschema@._guard_hook_drop() RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  dropped record;
BEGIN
  IF pg_catalog.to_regclass('@extschema@.hooks') IS NULL THEN
    RETURN;  -- the extension itself is being dropped
  END IF;
  FOR dropped IN
    SELECT d.object_identity, h.store_pattern
      FROM pg_catalog.pg_event_trigger_dropped_objects() d
      JOIN @extschema@.hooks h ON h.hook::pg_catalog.oid OPERATOR(pg_catalog.=) d.objid
     WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
  LOOP
    RAISE EXCEPTION USING ERRCODE = '2BP01',
      MESSAGE = pg_catalog.format('cannot drop function %s because it is a livestore hook for stores like %L',
                                  dropped.object_identity, dropped.store_pattern),
      HINT = 'Remove it first with livestore.drop_hook().';
  END LOOP;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._guard_hook_drop() FROM PUBLIC;
CREATE EVENT TRIGGER livestore_guard_hook_drop ON sql_drop
  EXECUTE FUNCTION @extschema@._guard_hook_drop();

-- For hooks: refuse the whole batch (nothing of it is stored). The gateway
-- answers 422 with the message (and the detail as JSON). The stock client
-- retries a refused batch forever: reserve this for misbehaving clients and
-- compensate with emit() for rules that users should see.
CREATE FUNCTION @extschema@.reject(message text, detail jsonb DEFAULT NULL) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  IF detail IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LS005', MESSAGE = COALESCE(message, 'batch rejected');
  END IF;
  RAISE EXCEPTION USING ERRCODE = 'LS005', MESSAGE = COALESCE(message, 'batch rejected'),
    DETAIL = detail::text;
END
$$;

-- Who is writing: the verified JWT claims the gateway put in the setting
-- livestore.claims for this push ('{}' without auth or outside the gateway).
CREATE FUNCTION @extschema@.claims() RETURNS jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT COALESCE(NULLIF(pg_catalog.current_setting('livestore.claims', true), ''), '{}')::pg_catalog.jsonb
$$;
