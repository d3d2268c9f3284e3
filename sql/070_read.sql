-- events() and shape_page(): paging by `after` and `max_events`, and the
-- Electric shape-log encoding the gateway streams unchanged.
\set VERBOSITY sqlstate
\set SHOW_CONTEXT never

SELECT livestore.create_store('rd');
SELECT livestore.append('rd', '[
  {"name":"v1.A","args":{"id":"x","text":"hello"},"seqNum":1,"parentSeqNum":0,"clientId":"c1","sessionId":"s1"},
  {"name":"v1.B","seqNum":2,"parentSeqNum":1,"clientId":"c1","sessionId":"s1"},
  {"name":"v1.C","args":"quote \" backslash \\ tab \t ✓ 😀","seqNum":3,"parentSeqNum":2,"clientId":"c2","sessionId":"s2"},
  {"name":"v1.D","args":[1,2.50,{"b":null,"a":true}],"seqNum":4,"parentSeqNum":3,"clientId":"c2","sessionId":"s2"},
  {"name":"v1.E","args":{},"seqNum":5,"parentSeqNum":4,"clientId":"c\"3","sessionId":"s3"}]');

SELECT * FROM livestore.events('rd');
SELECT "seqNum" FROM livestore.events('rd', 2, 2);
SELECT "seqNum" FROM livestore.events('rd', 4);
SELECT count(*) AS after_head FROM livestore.events('rd', 5);
SELECT count(*) AS none_asked FROM livestore.events('rd', 0, 0);
SELECT count(*) AS from_negative FROM livestore.events('rd', -1);

-- A page: its size, its last seqNum and the body (items joined by commas).
SELECT * FROM livestore.shape_page('rd', 0, 2);
-- The page after the head is empty: 0, NULL, NULL.
SELECT * FROM livestore.shape_page('rd', 5);
SELECT * FROM livestore.shape_page('rd', 0, 0);

-- Wrapped in brackets the body is a JSON array of Electric insert messages:
-- key "schema"."table"/"seqNum", string values, args as JSON text that
-- parses back to the stored value, headers.relation set.
WITH page AS (SELECT * FROM livestore.shape_page('rd', 0)),
     item AS (SELECT i, n FROM page, jsonb_array_elements(('[' || page.body || ']')::jsonb) WITH ORDINALITY AS a(i, n))
SELECT n, i->>'key' AS key, i->'headers' AS headers,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(i->'value') k) AS value_keys,
       (SELECT bool_and(jsonb_typeof(v) = 'string') FROM jsonb_each(i->'value') x(k, v)) AS all_strings,
       (i->'value'->>'args')::jsonb = e.args AS args_roundtrip,
       i->'value'->>'seqNum' = e."seqNum"::text AND i->'value'->>'parentSeqNum' = e."parentSeqNum"::text
         AND i->'value'->>'clientId' = e."clientId" AND i->'value'->>'name' = e.name AS fields_match
  FROM item JOIN livestore.events('rd') e ON e."seqNum" = (i->'value'->>'seqNum')::integer
 ORDER BY n;

-- Paging by the returned last_seq visits every event once, in order.
WITH RECURSIVE pages(after, events, last_seq) AS (
  SELECT 0, p.events, p.last_seq FROM livestore.shape_page('rd', 0, 2) p
  UNION ALL
  SELECT pages.last_seq, p.events, p.last_seq
    FROM pages, livestore.shape_page('rd', pages.last_seq, 2) p
   WHERE pages.events > 0)
SELECT * FROM pages;

-- Bad input.
SELECT * FROM livestore.events('rd', 0, -1);
SELECT * FROM livestore.shape_page('rd', 0, -1);
SELECT * FROM livestore.events('unknown');
SELECT * FROM livestore.shape_page('unknown', 0);
SELECT count(*) AS strict_null FROM livestore.events(NULL);
SELECT * FROM livestore.shape_page('rd', NULL);
\set VERBOSITY default
SELECT * FROM livestore.events('unknown');

SELECT livestore.drop_store('rd');
