-- livestore.table_name() must name tables exactly as the stock client's
-- toTableName (sync-electric 0.4.0). Hash values come from Effect's
-- Hash.string run under Node, not from our implementation.
\set VERBOSITY sqlstate
\set SHOW_CONTEXT never

SELECT livestore.table_name('demo_store');
-- Case is kept; every character outside [A-Za-z0-9_] becomes '_'.
SELECT livestore.table_name('Demo-Store');
SELECT livestore.table_name('a-b') = livestore.table_name('a_b') AS shared_table;
SELECT livestore.table_name('x"; drop table y; --');

-- The vectors of livestore-sync-protocol.md 5.2: 63 characters stay as they
-- are, longer names are replaced by the hash of the original store id.
SELECT n, livestore.table_name(repeat('x', n)) AS name, length(livestore.table_name(repeat('x', n)))
  FROM (VALUES (52), (53)) v(n);
SELECT livestore.table_name(repeat('a', 60));
SELECT livestore.table_name('Straße-' || repeat('x', 50));

-- Non-ASCII: replacement and length count UTF-16 code units, so an emoji
-- (a surrogate pair) becomes two '_' and counts twice.
SELECT livestore.table_name('café'), livestore.table_name('a😀b');
SELECT length(livestore.table_name(repeat('é', 52))) AS e52,
       length(livestore.table_name(repeat('😀', 26))) AS emoji26;
SELECT livestore.table_name(repeat('é', 53)), livestore.table_name(repeat('😀', 27));

-- Bad input.
SELECT livestore.table_name('');
SELECT livestore.table_name(NULL) IS NULL AS strict_null;
