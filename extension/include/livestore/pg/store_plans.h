/* PG zone: per-backend prepared statements of each store's log table, shared
 * by append() and emit(). Call only between SPI_connect and SPI_finish. */
#pragma once
#ifndef POSTGRES_H
#error "store_plans.h is a Postgres-zone header: include postgres.h first"
#endif
#include "executor/spi.h"

typedef struct StorePlans {
  char table_name[64]; /* hash key */
  char schema_name[NAMEDATALEN];
  Oid relid;           /* the log table when the plans were made */
  bool stale;          /* set by the relcache callback */
  SPIPlanPtr append;   /* ($1 parent, $2 last seq, $3 batch, $4 table name) -> rows inserted */
  SPIPlanPtr same;     /* ($1 batch) -> how many batch events are stored identically */
  SPIPlanPtr stored;   /* ($1 first, $2 last seqNum) -> jsonb array of the rows; made on first use */
  SPIPlanPtr emit;     /* ($1 head, $2 new head, $3 events, $4 table name) -> rows inserted; on first use */
} StorePlans;

/* The plans of a store, made or re-made as needed; LS002 if it does not exist. */
StorePlans* ls_plans_for(const char* table_name, const char* store_id);

/* Drops a store's cached plans (it vanished under them). */
void ls_forget_plans(const char* table_name);

/* Looks the store up in livestore.stores; false when it does not exist. */
bool ls_lookup_store(const char* table_name, char* schema_out, int32* head_out);

/* emit()'s insert: the events numbered after `head` (which must be the
 * store's head, row locked), identities filled in. Returns rows inserted. */
uint64 ls_emit_rows(StorePlans* plans, const char* table_name, int32 head, int32 count, Datum events);

/* The rows first..last of the store's log as a jsonb array, as stored. */
Datum ls_stored_events(StorePlans* plans, int32 first_seq, int32 last_seq);

/* Prepares a statement kept for the life of the backend, always with a
 * generic plan. */
SPIPlanPtr ls_prepare_kept(const char* sql, int nargs, Oid* types);

void ls_raise_unknown_store(const char* store_id) pg_attribute_noreturn();
