/* PG zone: reading a store's log into a set-returning function's
 * tuplestore, for events(). */
#pragma once
#ifndef POSTGRES_H
#error "log_read.h is a Postgres-zone header: include postgres.h first"
#endif
#include "access/tupdesc.h"
#include "utils/tuplestore.h"

/* The events after seqNum `after`, in order, at most `max_events` of them,
 * as the calling statement's snapshot sees them, appended to `out` (rows of
 * `desc`: seqNum, parentSeqNum, name, args, clientId, sessionId). LS002 when
 * the store does not exist. max_events >= 0. */
void ls_read_events(const char* store_id, const char* table_name, int32 after, int32 max_events,
                    Tuplestorestate* out, TupleDesc desc);
