/* PG zone: a checked batch's rows as column values for the append's insert. */
#pragma once
#ifndef POSTGRES_H
#error "batch_rows.h is a Postgres-zone header: include postgres.h first"
#endif
#include "utils/jsonb.h"

/* seqNum int4, parentSeqNum int4, name text, args jsonb, clientId text,
 * sessionId text: the log's columns, in its order. */
#define LS_BATCH_COLUMNS 6

typedef struct LsBatchColumns {
  int count;                         /* events */
  Datum* values[LS_BATCH_COLUMNS];   /* per column, one value per event, none NULL */
} LsBatchColumns;

/* Fills `out` (palloc'd) from a batch that ls_core_check_batch accepted
 * with `count` events; elog(ERROR) if it does not have that shape. */
void ls_batch_columns(Jsonb* batch, int count, LsBatchColumns* out);
