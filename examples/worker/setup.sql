-- The todo-digest worker's tables and role (livestore 0.3.0 consumers).
--
-- Load as a superuser into the database that has the extension; loading it
-- again changes nothing:
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f examples/worker/setup.sql
--
-- The worker logs in as todo_digest_worker, which may consume events and write
-- its two tables, and nothing else: it cannot read or write any event log
-- directly, append, or emit.

-- One row per TodoMVC list (= LiveStore store): how many todos were created in
-- it, the text of the last one, and the last event of the list the worker has
-- processed (its seqNum: equal to the store's head once the worker caught up).
CREATE TABLE IF NOT EXISTS public.todo_digest (
  store_id   text PRIMARY KEY,
  created    integer NOT NULL DEFAULT 0,
  last_text  text,
  last_seq   integer NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Optional (WORKER_LEDGER=1): one row per processed event, written in the same
-- transaction. The primary key makes processing an event twice fail loudly
-- instead of counting it twice; the test turns it on. It grows with the logs:
-- in production, keep it off or prune it.
CREATE TABLE IF NOT EXISTS public.todo_digest_ledger (
  store_id     text NOT NULL,
  seq_num      integer NOT NULL,
  name         text NOT NULL,
  worker       text NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (store_id, seq_num)
);

DO $$
BEGIN
  CREATE ROLE todo_digest_worker LOGIN;
EXCEPTION WHEN duplicate_object THEN
  NULL;
END $$;
-- Give it a password for connections that are not trusted, e.g.:
--   ALTER ROLE todo_digest_worker PASSWORD '...';

-- consume() is SECURITY DEFINER: it reads the logs and moves the consumer's
-- positions with the extension owner's rights; the caller needs only these,
-- and wait_changes() to be woken when a store advances.
GRANT USAGE ON SCHEMA livestore TO todo_digest_worker;
GRANT EXECUTE ON FUNCTION livestore.consume(text, text, integer) TO todo_digest_worker;
GRANT EXECUTE ON FUNCTION livestore.wait_changes(bigint, integer) TO todo_digest_worker;

GRANT SELECT, INSERT, UPDATE ON public.todo_digest TO todo_digest_worker;
GRANT INSERT ON public.todo_digest_ledger TO todo_digest_worker;
