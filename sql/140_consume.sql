-- livestore.consume(): named, durable positions that advance with the
-- consuming transaction.
\set VERBOSITY sqlstate
\set SHOW_CONTEXT never

SELECT livestore.emit('shop-1', '[{"name":"v1.Ordered","args":{"n":1}},{"name":"v1.Ordered","args":{"n":2}},{"name":"v1.Paid"}]');
SELECT livestore.emit('shop-2', '[{"name":"v1.Ordered","args":{"n":3}}]');
SELECT livestore.emit('other', '[{"name":"v1.Ignored"}]');

-- The first call creates the consumer at the start of every matching store.
SELECT store_id, "seqNum", "parentSeqNum", name, args, "clientId", "sessionId" FROM livestore.consume('mailer', 'shop-%', 2);
SELECT consumer, store_id, position, head, behind FROM livestore.list_consumers();
SELECT store_id, "seqNum", name FROM livestore.consume('mailer', 'shop-%', 100);
SELECT count(*) AS nothing_new FROM livestore.consume('mailer', 'shop-%', 100);

-- A rolled-back transaction replays its events (a crash before the commit
-- is the same); a committed one does not.
SELECT livestore.emit('shop-2', '[{"name":"v1.Paid"}]');
BEGIN;
SELECT store_id, "seqNum", name FROM livestore.consume('mailer', 'shop-%', 100);
ROLLBACK;
BEGIN;
SELECT store_id, "seqNum", name FROM livestore.consume('mailer', 'shop-%', 100);
SELECT count(*) AS again_in_same_tx FROM livestore.consume('mailer', 'shop-%', 100);
COMMIT;
SELECT count(*) AS after_commit FROM livestore.consume('mailer', 'shop-%', 100);

-- Consumers are independent; a store created later is picked up.
SELECT count(*) AS indexer_sees FROM livestore.consume('indexer', '%', 100);
SELECT livestore.emit('shop-3', '[{"name":"v1.Ordered","args":{"n":4}}]');
SELECT store_id, "seqNum", name FROM livestore.consume('mailer', 'shop-%', 100);

-- Fair across stores: the least recently served store first.
SELECT livestore.emit('shop-1', '[{"name":"v1.A"},{"name":"v1.B"}]');
SELECT livestore.emit('shop-2', '[{"name":"v1.A"},{"name":"v1.B"}]');
SELECT store_id, "seqNum" FROM livestore.consume('mailer', 'shop-%', 1);
SELECT store_id, "seqNum" FROM livestore.consume('mailer', 'shop-%', 1);
SELECT store_id, "seqNum" FROM livestore.consume('mailer', 'shop-%', 1);

-- Reset (replay) and drop.
SELECT livestore.reset_consumer('mailer', 'shop-1', 1);
SELECT store_id, "seqNum", name FROM livestore.consume('mailer', 'shop-1', 100);
SELECT livestore.reset_consumer('mailer', 'shop-2', 99);          -- clamped to the head
SELECT consumer, store_id, position, behind FROM livestore.list_consumers() WHERE consumer = 'mailer';
SELECT livestore.drop_consumer('indexer');
SELECT DISTINCT consumer FROM livestore.list_consumers();

-- Bad input (22023, 22004) and unknown consumers (42704).
SELECT * FROM livestore.consume('', '%', 1);
SELECT * FROM livestore.consume('m', '', 1);
SELECT * FROM livestore.consume('m', '%', 0);
SELECT * FROM livestore.consume('m', '%', 10001);
SELECT * FROM livestore.consume(NULL, '%', 1);
SELECT livestore.reset_consumer('nobody');
SELECT livestore.reset_consumer('mailer', '%', -1);
SELECT livestore.drop_consumer('nobody');

-- A worker role needs EXECUTE on consume and nothing else.
CREATE ROLE regress_ls_worker;
GRANT USAGE ON SCHEMA livestore TO regress_ls_worker;
GRANT EXECUTE ON FUNCTION livestore.consume(text, text, integer) TO regress_ls_worker;
SET ROLE regress_ls_worker;
SELECT count(*) AS worker_reads FROM livestore.consume('worker', 'shop-%', 100);
SELECT * FROM livestore.consumers;                                 -- 42501
SELECT livestore.reset_consumer('worker');                         -- 42501
RESET ROLE;
REVOKE ALL ON SCHEMA livestore FROM regress_ls_worker;
REVOKE ALL ON FUNCTION livestore.consume(text, text, integer) FROM regress_ls_worker;
DROP ROLE regress_ls_worker;

-- A store dropped and created again starts over, and so do its consumers.
SELECT livestore.drop_store('shop-1');
SELECT livestore.emit('shop-1', '[{"name":"v1.Again"}]');
SELECT store_id, "seqNum", name FROM livestore.consume('mailer', 'shop-1', 100);
SELECT livestore.drop_consumer('mailer');
SELECT livestore.drop_consumer('worker');
SELECT count(*) AS dropped FROM (SELECT livestore.drop_store(store_id) FROM livestore.stores) d;
SELECT count(*) AS positions_left FROM livestore.consumers;
