-- Who may open which list: the app's own table, and the function the gateway
-- asks (livestore-gateway --authorize-function todomvc.can_access, SECURITY.md
-- "Authorization in SQL"). The tokens come from an identity provider and carry
-- no list ids; membership lives here, next to the data.
--
--   psql "$DATABASE_URL" -v ON_ERROR_STOP=1 -f server/memberships.sql
--   INSERT INTO todomvc.memberships VALUES ('alice', 'list-1', 'owner'), ('bob', 'list-1', 'editor');
--
-- Can be loaded again safely. To remove: DROP TABLE todomvc.memberships; DROP FUNCTION todomvc.can_access;
SET client_min_messages = warning;
CREATE SCHEMA IF NOT EXISTS todomvc;

CREATE TABLE IF NOT EXISTS todomvc.memberships (
  user_id text NOT NULL,        -- the token's sub
  list_id text NOT NULL,        -- the store id
  role    text NOT NULL DEFAULT 'editor' CHECK (role IN ('owner', 'editor', 'viewer')),
  PRIMARY KEY (user_id, list_id)
);

-- claims: the verified token's payload; access: 'read' (pull) or 'write' (push).
-- Members read; owners and editors write. SECURITY DEFINER: the gateway's role
-- needs EXECUTE on this function, not SELECT on the table.
CREATE OR REPLACE FUNCTION todomvc.can_access(claims jsonb, store_id text, access text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = todomvc, pg_catalog AS $$
  SELECT EXISTS (SELECT 1 FROM todomvc.memberships m
                 WHERE m.user_id = claims->>'sub' AND m.list_id = store_id
                   AND (access = 'read' OR m.role IN ('owner', 'editor')))
$$;
REVOKE ALL ON FUNCTION todomvc.can_access(jsonb, text, text) FROM PUBLIC;
-- GRANT EXECUTE ON FUNCTION todomvc.can_access(jsonb, text, text) TO livestore_gateway;  -- the gateway's role
