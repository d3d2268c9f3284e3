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

-- Events after seqNum `after`, in order, at most max_events of them (as the
-- calling statement's snapshot sees the log). C since 0.4.0: a scan of the
-- log's primary key, no query planned per call.
CREATE FUNCTION @extschema@.events(store_id text, after integer DEFAULT 0,
                                   max_events integer DEFAULT 1000)
RETURNS TABLE ("seqNum" integer, "parentSeqNum" integer, name text, args jsonb,
               "clientId" text, "sessionId" text)
LANGUAGE C STABLE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS 'MODULE_PATHNAME', 'ls_events';

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

-- ---------------------------------------------------------------------------
-- Existing tables as event sources (capture, import_rows) and durable
-- consumers that process every event exactly once (consume).
-- ---------------------------------------------------------------------------

-- Which tables are captured into which store, with what event prefix.
CREATE TABLE @extschema@.captures (
  source       regclass NOT NULL,
  store_id     text NOT NULL,
  event_prefix text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
  PRIMARY KEY (source, store_id)
);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.captures', '');
REVOKE ALL ON TABLE @extschema@.captures FROM PUBLIC;

-- The statement-level trigger behind capture: one emit per statement (in
-- slices of 10,000 events), from the statement's transition table(s), so a
-- statement that changes many rows costs one append, not one per row. It
-- runs inside the writer's transaction: a rollback emits nothing, and the
-- store's head row lock orders the events as the transactions commit.
-- TG_ARGV: store id, event prefix.
CREATE FUNCTION @extschema@._capture() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  store text := TG_ARGV[0];
  prefix text := TG_ARGV[1];
  slice jsonb;
BEGIN
  IF TG_OP OPERATOR(pg_catalog.=) 'INSERT' THEN
    FOR slice IN
      SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('name', prefix OPERATOR(pg_catalog.||) 'Inserted',
               'args', pg_catalog.jsonb_build_object('new', x.r)) ORDER BY x.i)
        FROM (SELECT pg_catalog.row_number() OVER () AS i, pg_catalog.to_jsonb(n) AS r FROM livestore_new n) x
       GROUP BY (x.i OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog./) 10000
       ORDER BY (x.i OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog./) 10000
    LOOP
      PERFORM @extschema@.emit(store, slice);
    END LOOP;
  ELSIF TG_OP OPERATOR(pg_catalog.=) 'DELETE' THEN
    FOR slice IN
      SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('name', prefix OPERATOR(pg_catalog.||) 'Deleted',
               'args', pg_catalog.jsonb_build_object('old', x.r)) ORDER BY x.i)
        FROM (SELECT pg_catalog.row_number() OVER () AS i, pg_catalog.to_jsonb(o) AS r FROM livestore_old o) x
       GROUP BY (x.i OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog./) 10000
       ORDER BY (x.i OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog./) 10000
    LOOP
      PERFORM @extschema@.emit(store, slice);
    END LOOP;
  ELSE
    -- An UPDATE's transition tables hold the old and the new version of each
    -- row in the same order: the n-th old row is the n-th new row's.
    FOR slice IN
      SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('name', prefix OPERATOR(pg_catalog.||) 'Updated',
               'args', pg_catalog.jsonb_build_object('old', o.r, 'new', n.r)) ORDER BY o.i)
        FROM (SELECT pg_catalog.row_number() OVER () AS i, pg_catalog.to_jsonb(t) AS r FROM livestore_old t) o
        JOIN (SELECT pg_catalog.row_number() OVER () AS i, pg_catalog.to_jsonb(t) AS r FROM livestore_new t) n
          ON n.i OPERATOR(pg_catalog.=) o.i
       GROUP BY (o.i OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog./) 10000
       ORDER BY (o.i OPERATOR(pg_catalog.-) 1) OPERATOR(pg_catalog./) 10000
    LOOP
      PERFORM @extschema@.emit(store, slice);
    END LOOP;
  END IF;
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._capture() FROM PUBLIC;

-- TRUNCATE of a captured table would delete rows without a row change to
-- report: refused.
CREATE FUNCTION @extschema@._capture_no_truncate() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = '55000',
    MESSAGE = pg_catalog.format('TRUNCATE of %s is not allowed: it is captured into store "%s"',
                                TG_RELID::pg_catalog.regclass, TG_ARGV[0]),
    HINT = 'DELETE the rows (each is captured as a deletion), or livestore.uncapture() first.';
END
$$;
REVOKE ALL ON FUNCTION @extschema@._capture_no_truncate() FROM PUBLIC;

-- Trigger names of one capture: livestore_capture_<op>_<hash of the store id>.
CREATE FUNCTION @extschema@._capture_trigger(store_id text, op text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT 'livestore_capture_' OPERATOR(pg_catalog.||) op OPERATOR(pg_catalog.||) '_'
         OPERATOR(pg_catalog.||) pg_catalog.left(pg_catalog.md5(store_id), 16)
$$;
REVOKE ALL ON FUNCTION @extschema@._capture_trigger(text, text) FROM PUBLIC;

-- Every committed row change of `source` becomes an event in the store:
-- <prefix>Inserted {new}, <prefix>Updated {old, new}, <prefix>Deleted {old},
-- rows as to_jsonb. Creates the store. SECURITY INVOKER: needs INSERT on
-- livestore.captures (the extension's owner, a superuser), since the
-- triggers emit with the extension's rights.
CREATE FUNCTION @extschema@.capture(source regclass, store_id text, event_prefix text) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  kind "char";
BEGIN
  IF source IS NULL OR store_id IS NULL OR event_prefix IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'source, store_id and event_prefix must not be NULL';
  END IF;
  PERFORM @extschema@._check_store_id(store_id);
  IF event_prefix OPERATOR(pg_catalog.=) '' THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'event_prefix must not be empty',
      HINT = 'For example ''v1.Todo'' gives v1.TodoInserted, v1.TodoUpdated and v1.TodoDeleted.';
  END IF;
  IF NOT pg_catalog.has_table_privilege('@extschema@.captures', 'INSERT') THEN
    RAISE EXCEPTION USING ERRCODE = '42501',
      MESSAGE = pg_catalog.format('permission denied to capture %s as role %I', source, CURRENT_USER),
      HINT = 'Ask a superuser (the extension''s owner) to set up the capture.';
  END IF;
  SELECT c.relkind INTO kind FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) source;
  IF kind OPERATOR(pg_catalog.<>) 'r' THEN
    RAISE EXCEPTION USING ERRCODE = '42809',
      MESSAGE = pg_catalog.format('%s is not a plain table, so it cannot be captured', source);
  END IF;
  IF EXISTS (SELECT 1 FROM @extschema@.stores s
              WHERE pg_catalog.format('%I.%I', s.schema_name, s.table_name)::pg_catalog.regclass
                    OPERATOR(pg_catalog.=) source) THEN
    RAISE EXCEPTION USING ERRCODE = '42809',
      MESSAGE = pg_catalog.format('%s is an event log itself', source);
  END IF;
  BEGIN
    INSERT INTO @extschema@.captures (source, store_id, event_prefix) VALUES (source, store_id, event_prefix);
  EXCEPTION WHEN unique_violation THEN
    RAISE EXCEPTION USING ERRCODE = '42710',
      MESSAGE = pg_catalog.format('%s is already captured into store "%s"', source, store_id);
  END;
  PERFORM @extschema@.create_store(store_id);
  EXECUTE pg_catalog.format('CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS livestore_new '
    'FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._capture(%L, %L)',
    @extschema@._capture_trigger(store_id, 'ins'), source, store_id, event_prefix);
  EXECUTE pg_catalog.format('CREATE TRIGGER %I AFTER UPDATE ON %s '
    'REFERENCING OLD TABLE AS livestore_old NEW TABLE AS livestore_new '
    'FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._capture(%L, %L)',
    @extschema@._capture_trigger(store_id, 'upd'), source, store_id, event_prefix);
  EXECUTE pg_catalog.format('CREATE TRIGGER %I AFTER DELETE ON %s REFERENCING OLD TABLE AS livestore_old '
    'FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._capture(%L, %L)',
    @extschema@._capture_trigger(store_id, 'del'), source, store_id, event_prefix);
  EXECUTE pg_catalog.format('CREATE TRIGGER %I BEFORE TRUNCATE ON %s '
    'FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._capture_no_truncate(%L)',
    @extschema@._capture_trigger(store_id, 'trunc'), source, store_id);
END
$$;

CREATE FUNCTION @extschema@.uncapture(source regclass, store_id text) RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  op text;
BEGIN
  IF source IS NULL OR store_id IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'source and store_id must not be NULL';
  END IF;
  IF NOT pg_catalog.has_table_privilege('@extschema@.captures', 'DELETE') THEN
    RAISE EXCEPTION USING ERRCODE = '42501',
      MESSAGE = pg_catalog.format('permission denied to uncapture %s as role %I', source, CURRENT_USER);
  END IF;
  DELETE FROM @extschema@.captures c
   WHERE c.source OPERATOR(pg_catalog.=) uncapture.source AND c.store_id OPERATOR(pg_catalog.=) uncapture.store_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = '42704',
      MESSAGE = pg_catalog.format('%s is not captured into store "%s"', source, store_id);
  END IF;
  FOREACH op IN ARRAY ARRAY['ins', 'upd', 'del', 'trunc'] LOOP
    EXECUTE pg_catalog.format('DROP TRIGGER IF EXISTS %I ON %s', @extschema@._capture_trigger(store_id, op), source);
  END LOOP;
END
$$;

CREATE FUNCTION @extschema@.list_captures()
RETURNS TABLE (source regclass, store_id text, event_prefix text, created_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT c.source, c.store_id, c.event_prefix, c.created_at FROM @extschema@.captures c ORDER BY c.created_at, 1, 2
$$;
REVOKE ALL ON FUNCTION @extschema@.list_captures() FROM PUBLIC;

-- Emits <prefix>Inserted {new: row} for every row of `source` in primary-key
-- order, batch_size rows per emit (keyset pages: memory stays that of one
-- batch). It holds a SHARE lock on `source` until the caller commits, so no
-- writer changes it meanwhile: combined with capture() in the same
-- transaction (capture first), every row is in the store exactly once, then
-- every later change follows. Returns the number of rows imported.
CREATE FUNCTION @extschema@.import_rows(source regclass, store_id text, event_prefix text,
                                        batch_size integer DEFAULT 1000) RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  pk_t text;
  pk_k text;
  -- A page: its events built in one query, after the key in $2 (next_sql).
  page_sql constant text :=
    'SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(''name'', $3, ''args'', '
    'pg_catalog.jsonb_build_object(''new'', pg_catalog.to_jsonb(t))) ORDER BY %s), pg_catalog.count(*) '
    'FROM (SELECT * FROM %s t %s ORDER BY %s LIMIT $1) t';
  event_name text := event_prefix OPERATOR(pg_catalog.||) 'Inserted';
  first_sql text;
  next_sql text;
  page jsonb;
  last_row jsonb;
  n integer;
  total bigint := 0;
BEGIN
  IF source IS NULL OR store_id IS NULL OR event_prefix IS NULL OR batch_size IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '22004', MESSAGE = 'arguments must not be NULL';
  END IF;
  IF event_prefix OPERATOR(pg_catalog.=) '' THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'event_prefix must not be empty';
  END IF;
  IF batch_size OPERATOR(pg_catalog.<) 1 OR batch_size OPERATOR(pg_catalog.>) 10000 THEN
    RAISE EXCEPTION USING ERRCODE = '22023', MESSAGE = 'batch_size must be between 1 and 10000';
  END IF;
  SELECT pg_catalog.string_agg('t.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(a.attname), ', ' ORDER BY k.ord),
         -- The last key, one scalar subquery per column: each becomes an
         -- InitPlan, so the page is an index range scan, not a rescan.
         pg_catalog.string_agg(pg_catalog.format('(SELECT k.%I FROM pg_catalog.jsonb_populate_record(NULL::%s, $2) k)',
                                                 a.attname, source), ', ' ORDER BY k.ord)
    INTO pk_t, pk_k
    FROM pg_catalog.pg_index i
    CROSS JOIN LATERAL pg_catalog.unnest(i.indkey::pg_catalog.int2[]) WITH ORDINALITY AS k(attnum, ord)
    JOIN pg_catalog.pg_attribute a ON a.attrelid OPERATOR(pg_catalog.=) i.indrelid
                                  AND a.attnum OPERATOR(pg_catalog.=) k.attnum
   WHERE i.indrelid OPERATOR(pg_catalog.=) source AND i.indisprimary;
  IF pk_t IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = '55000',
      MESSAGE = pg_catalog.format('%s has no primary key, so its rows have no order to import them in', source);
  END IF;
  PERFORM @extschema@.create_store(store_id);  -- also for an empty table
  -- Caller's rights for reading: the rows must be readable by whoever imports.
  IF NOT pg_catalog.has_table_privilege(source, 'SELECT') THEN
    RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = pg_catalog.format('permission denied for table %s', source);
  END IF;
  EXECUTE pg_catalog.format('LOCK TABLE %s IN SHARE MODE', source);
  -- One query per page builds the events themselves; the last row of a page
  -- is the key the next page starts after.
  first_sql := pg_catalog.format(page_sql, pk_t, source, '', pk_t);
  next_sql := pg_catalog.format(page_sql, pk_t, source,
    pg_catalog.format('WHERE (%s) OPERATOR(pg_catalog.>) (%s)', pk_t, pk_k), pk_t);
  EXECUTE first_sql INTO page, n USING batch_size, NULL::jsonb, event_name;
  WHILE n OPERATOR(pg_catalog.>) 0 LOOP
    PERFORM @extschema@.emit(store_id, page);
    total := total OPERATOR(pg_catalog.+) n;
    EXIT WHEN n OPERATOR(pg_catalog.<) batch_size;
    last_row := page OPERATOR(pg_catalog.->) (n OPERATOR(pg_catalog.-) 1)
                     OPERATOR(pg_catalog.->) 'args' OPERATOR(pg_catalog.->) 'new';
    EXECUTE next_sql INTO page, n USING batch_size, last_row, event_name;
  END LOOP;
  RETURN total;
END
$$;

-- Consumers: named, durable positions per store, advanced by the consuming
-- transaction itself, so a side effect committed with it happens once and a
-- crash before the commit replays the events.
CREATE TABLE @extschema@.consumers (
  consumer   text NOT NULL CHECK (consumer OPERATOR(pg_catalog.<>) ''),
  store_id   text NOT NULL,
  position   integer NOT NULL DEFAULT 0 CHECK (position OPERATOR(pg_catalog.>=) 0),
  updated_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
  PRIMARY KEY (consumer, store_id)
);
SELECT pg_catalog.pg_extension_config_dump('@extschema@.consumers', '');
REVOKE ALL ON TABLE @extschema@.consumers FROM PUBLIC;

-- The next events for `consumer` in the stores LIKE store_pattern, at most
-- max_events, from the stores least recently served first. A store whose
-- position another worker of the same consumer holds is skipped, never
-- waited for. Positions advance when the calling transaction commits.
CREATE FUNCTION @extschema@.consume(consumer text, store_pattern text, max_events integer)
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
       AND s.head OPERATOR(pg_catalog.>) c.position
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
REVOKE ALL ON FUNCTION @extschema@.consume(text, text, integer) FROM PUBLIC;

CREATE FUNCTION @extschema@.list_consumers()
RETURNS TABLE (consumer text, store_id text, "position" integer, head integer, behind integer,
               updated_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT c.consumer, c.store_id, c.position, s.head, s.head OPERATOR(pg_catalog.-) c.position, c.updated_at
    FROM @extschema@.consumers c JOIN @extschema@.stores s ON s.store_id OPERATOR(pg_catalog.=) c.store_id
   ORDER BY 1, 2
$$;
REVOKE ALL ON FUNCTION @extschema@.list_consumers() FROM PUBLIC;

-- Moves a consumer's positions in the matching stores (0: replay all).
CREATE FUNCTION @extschema@.reset_consumer(consumer text, store_pattern text DEFAULT '%',
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
           (SELECT s.head FROM @extschema@.stores s WHERE s.store_id OPERATOR(pg_catalog.=) c.store_id)),
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
REVOKE ALL ON FUNCTION @extschema@.reset_consumer(text, text, integer) FROM PUBLIC;

CREATE FUNCTION @extschema@.drop_consumer(consumer text) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  n integer;
BEGIN
  DELETE FROM @extschema@.consumers c WHERE c.consumer OPERATOR(pg_catalog.=) drop_consumer.consumer;
  GET DIAGNOSTICS n = ROW_COUNT;
  IF n OPERATOR(pg_catalog.=) 0 THEN
    RAISE EXCEPTION USING ERRCODE = '42704', MESSAGE = pg_catalog.format('consumer "%s" does not exist', consumer);
  END IF;
  RETURN n;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.drop_consumer(text) FROM PUBLIC;

-- Dependencies Postgres cannot record: a hook's function cannot be dropped
-- while registered (a validating hook would silently stop validating), nor a
-- captured table while captured (the store would silently stop following it).
CREATE FUNCTION @extschema@._guard_drop() RETURNS event_trigger
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
  IF pg_catalog.to_regclass('@extschema@.captures') IS NULL THEN
    RETURN;
  END IF;
  FOR dropped IN
    SELECT d.object_identity, c.store_id
      FROM pg_catalog.pg_event_trigger_dropped_objects() d
      JOIN @extschema@.captures c ON c.source::pg_catalog.oid OPERATOR(pg_catalog.=) d.objid
     WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objsubid OPERATOR(pg_catalog.=) 0
  LOOP
    RAISE EXCEPTION USING ERRCODE = '2BP01',
      MESSAGE = pg_catalog.format('cannot drop table %s because it is captured into store "%s"',
                                  dropped.object_identity, dropped.store_id),
      HINT = 'Stop the capture first with livestore.uncapture().';
  END LOOP;
END
$$;
REVOKE ALL ON FUNCTION @extschema@._guard_drop() FROM PUBLIC;
CREATE EVENT TRIGGER livestore_guard_drop ON sql_drop EXECUTE FUNCTION @extschema@._guard_drop();

-- drop_store also forgets the consumers' positions in the store: a store
-- created again under the same id starts at seqNum 1, and so must they.
CREATE OR REPLACE FUNCTION @extschema@.drop_store(store_id text) RETURNS void
LANGUAGE plpgsql VOLATILE STRICT SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
  -- Validated like create_store: 'a b' must not drop the log of 'a_b'.
  tbl text := @extschema@.table_name(@extschema@._check_store_id(store_id));
  sch text;
  id text;
BEGIN
  DELETE FROM @extschema@.stores s WHERE s.table_name OPERATOR(pg_catalog.=) tbl
  RETURNING s.schema_name, s.store_id INTO sch, id;
  IF sch IS NULL THEN
    RAISE EXCEPTION USING ERRCODE = 'LS002',
      MESSAGE = pg_catalog.format('store "%s" does not exist', store_id);
  END IF;
  DELETE FROM @extschema@.consumers c WHERE c.store_id OPERATOR(pg_catalog.=) id;
  EXECUTE pg_catalog.format('DROP TABLE IF EXISTS %I.%I', sch, tbl);
END
$$;

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
