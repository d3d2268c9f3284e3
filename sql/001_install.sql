-- The extension's objects, their privileges and its upgrade paths.
\set VERBOSITY sqlstate
\set SHOW_CONTEXT never

SELECT e.extname, e.extversion, e.extrelocatable, e.extnamespace::regnamespace AS schema,
       e.extconfig::regclass[] AS dumped_tables
  FROM pg_extension e WHERE e.extname = 'livestore';

-- Everything the extension owns (a new object must be added here on purpose).
SELECT pg_describe_object(d.classid, d.objid, d.objsubid) AS object
  FROM pg_depend d
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'livestore')
 ORDER BY 1;

-- Signatures and the properties that matter for safety: definer functions
-- pin their search_path; nothing is executable by PUBLIC.
SELECT p.oid::regprocedure AS function, pg_get_function_result(p.oid) AS returns,
       p.provolatile AS vol, p.proisstrict AS strict, p.prosecdef AS definer, p.proconfig,
       EXISTS (SELECT 1 FROM aclexplode(p.proacl) a
                WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE') AS public_exec
  FROM pg_proc p WHERE p.pronamespace = 'livestore'::regnamespace
 ORDER BY p.oid::regprocedure::text;

SELECT attname, format_type(atttypid, atttypmod) AS type, attnotnull
  FROM pg_attribute WHERE attrelid = 'livestore.stores'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
SELECT count(*) AS public_grants_on_stores
  FROM pg_class c, aclexplode(c.relacl) a
 WHERE c.oid = 'livestore.stores'::regclass AND a.grantee = 0;

-- Every released version reaches the newest through update scripts.
SELECT * FROM pg_extension_update_paths('livestore') ORDER BY source, target;

-- The library loads and the extension can be dropped and created again.
-- The schema CREATE EXTENSION made for it (control file `schema`) is not a
-- member, so it stays.
SELECT livestore.table_name('demo');
CREATE EXTENSION livestore;
DROP EXTENSION livestore;
SELECT count(*) AS schema_kept FROM pg_namespace WHERE nspname = 'livestore';
CREATE EXTENSION livestore;
SELECT livestore.table_name('demo');
