/* PG zone: per-backend prepared statements of each store's log table, shared
 * by append() and emit(). Call only between SPI_connect and SPI_finish. */
#pragma once
#ifndef POSTGRES_H
#error "store_plans.h is a Postgres-zone header: include postgres.h first"
#endif
#include "executor/spi.h"
#include "storage/lockdefs.h"
#include "utils/jsonb.h"
#include "utils/relcache.h"

typedef struct StorePlans {
  char table_name[64]; /* hash key */
  char schema_name[NAMEDATALEN];
  Oid relid;           /* the log table when the plans were made */
  bool stale;          /* set by the relcache callback */
  Oid pkey;            /* its "seqNum" int4 btree primary key, InvalidOid if it has none such */
  AttrNumber seq_attno; /* "seqNum"'s column number in the table */
  SPIPlanPtr head;     /* () -> the last seqNum in the log (0 when empty) */
  SPIPlanPtr append;   /* ($1 batch) -> rows inserted */
  SPIPlanPtr append_one; /* ($1..$6 the columns of one event) -> rows inserted */
  SPIPlanPtr same;     /* ($1 batch) -> how many batch events are stored identically */
  SPIPlanPtr stored;   /* ($1 first, $2 last seqNum) -> jsonb array of the rows; made on first use */
  SPIPlanPtr emit;     /* ($1 head, $2 events) -> rows inserted; made on first use */
} StorePlans;

/* The plans of a store, made or re-made as needed; LS002 if it does not exist. */
StorePlans* ls_plans_for(const char* table_name, const char* store_id);

/* The same, NULL when no store has that table (a cached store costs no query). */
StorePlans* ls_plans_try(const char* table_name);

/* Drops a store's cached plans (it vanished under them). */
void ls_forget_plans(const char* table_name);

/* Takes the log's own lock in `mode` (until the transaction ends); taking it
 * processes the invalidations of a drop_store() that committed meanwhile.
 * False when the log is gone. */
bool ls_lock_log(StorePlans* plans, LOCKMODE mode);

/* The log's "seqNum" primary key opened (AccessShareLock; index_close it),
 * NULL when it has none such or it is gone or swapped under a concurrent DDL
 * (then read the log with SQL). */
Relation ls_open_seq_key(StorePlans* plans);

/* Looks the store up in livestore.stores; false when it does not exist. */
bool ls_lookup_store(const char* table_name, char* schema_out);

/* The store's plans and its head as committed now, with the store's write
 * lock taken until the transaction ends (*locked): appends and emits to one
 * store are serialized by it (other stores are not touched), and nothing is
 * written for it. parent < 0 (emit): waits for the lock. Else, when another
 * writer holds it and the head is not `parent`, returns at once without the
 * lock (*locked false: the batch cannot be written). LS002 when the store
 * does not exist (or its log was dropped while this transaction waited). */
StorePlans* ls_lock_store(const char* table_name, const char* store_id, int32 parent, int32* head, bool* locked);

/* The store's head: the last seqNum of its log (its primary key's last
 * entry), 0 when empty. `latest`: as committed now (under the store's lock,
 * whatever the isolation level), else as this statement's snapshot sees it. */
int32 ls_log_head(StorePlans* plans, bool latest);

/* Whether the store's head is `parent` as committed now: one probe of the
 * primary key from `parent` on (no executor, no page read whole). False
 * also when the log has no suitable primary key: then ask ls_log_head. */
bool ls_head_is(StorePlans* plans, int32 parent);

/* After a write under the store's lock: while this library serves extension
 * SQL older than 0.3.0 (heads kept in livestore.stores), sets that column. */
void ls_note_head(const char* table_name, int32 head);

/* append()'s insert: the rows of a checked batch of `count` events.
 * Returns rows inserted. */
uint64 ls_append_rows(StorePlans* plans, Jsonb* batch, int count);

/* emit()'s insert: the events numbered after `head` (the store's head, under
 * its lock), identities filled in. Returns rows inserted. */
uint64 ls_emit_rows(StorePlans* plans, int32 head, Datum events);

/* The rows first..last of the store's log as a jsonb array, as stored. */
Datum ls_stored_events(StorePlans* plans, int32 first_seq, int32 last_seq);

/* Prepares a statement kept for the life of the backend, always with a
 * generic plan. */
SPIPlanPtr ls_prepare_kept(const char* sql, int nargs, Oid* types);

void ls_raise_unknown_store(const char* store_id) pg_attribute_noreturn();
