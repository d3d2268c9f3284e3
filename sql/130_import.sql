-- livestore.import_rows(): every existing row as <prefix>Inserted, in
-- primary-key order, in batches; with capture in the same transaction every
-- row is in the store exactly once and every later change follows.
\set VERBOSITY sqlstate
\set SHOW_CONTEXT never

CREATE TABLE products (sku text, region int, price numeric, PRIMARY KEY (region, sku));
INSERT INTO products SELECT 'sku-' || (g % 7), g / 7, g * 1.5 FROM generate_series(1, 100) g;
BEGIN;
SELECT livestore.capture('products', 'catalog', 'v1.Product');
SELECT livestore.import_rows('products', 'catalog', 'v1.Product', 13);
COMMIT;
-- 100 events, in (region, sku) order, each row once.
SELECT count(*) AS events, count(DISTINCT args) AS distinct_rows,
       bool_and(name = 'v1.ProductInserted') AS all_inserted,
       bool_and(("parentSeqNum" = "seqNum" - 1)) AS chained
  FROM livestore.events('catalog', 0, 1000);
SELECT "seqNum", args FROM livestore.events('catalog', 0, 3);
SELECT bool_and(k > lag_k) AS in_key_order FROM (
  SELECT ROW((args->'new'->>'region')::int, args->'new'->>'sku') AS k,
         lag(ROW((args->'new'->>'region')::int, args->'new'->>'sku')) OVER (ORDER BY "seqNum") AS lag_k
    FROM livestore.events('catalog', 0, 1000)) x WHERE lag_k IS NOT NULL;
-- Changes after the import follow it.
UPDATE products SET price = 0 WHERE region = 0 AND sku = 'sku-1';
SELECT "seqNum", name, args->'new'->>'price' AS price FROM livestore.events('catalog', 100);

-- Exactly a multiple of the batch size, and an empty table.
CREATE TABLE ten (id bigint PRIMARY KEY);
INSERT INTO ten SELECT generate_series(1, 10);
SELECT livestore.import_rows('ten', 'ten', 'v1.Ten', 5);
SELECT string_agg(args->'new'->>'id', ',' ORDER BY "seqNum") FROM livestore.events('ten');
CREATE TABLE nothing (id int PRIMARY KEY);
SELECT livestore.import_rows('nothing', 'nothing', 'v1.N');
SELECT livestore.head('nothing');

-- The SHARE lock: a writer waits until the importing transaction ends
-- (shown with lock_timeout from a second connection in the isolation spec;
-- here: the lock is held after the call).
BEGIN;
SELECT livestore.import_rows('ten', 'ten-2', 'v1.Ten');
SELECT mode FROM pg_locks WHERE relation = 'ten'::regclass AND pid = pg_backend_pid() AND mode = 'ShareLock';
ROLLBACK;

-- Refused: no primary key (55000), bad batch sizes and prefix (22023), NULL (22004).
CREATE TABLE heap (v int);
SELECT livestore.import_rows('heap', 'h', 'v1.H');
SELECT livestore.import_rows('ten', 't', 'v1.T', 0);
SELECT livestore.import_rows('ten', 't', 'v1.T', 10001);
SELECT livestore.import_rows('ten', 't', '');
SELECT livestore.import_rows('ten', 't', 'v1.T', NULL);
SELECT livestore.import_rows('ten', 'bad id', 'v1.T');
SELECT count(*) AS stores_from_bad_input FROM livestore.stores WHERE store_id IN ('h', 't');

SELECT livestore.uncapture('products', 'catalog');
DROP TABLE products, ten, nothing, heap;
SELECT count(*) AS dropped FROM (SELECT livestore.drop_store(store_id) FROM livestore.stores) d;
