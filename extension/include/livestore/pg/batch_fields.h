/* PG zone: the fields of a batch that the rules check, handed to the core. */
#pragma once
#ifndef POSTGRES_H
#error "batch_fields.h is a Postgres-zone header: include postgres.h first"
#endif
#include "utils/jsonb.h"
#include "livestore/bridge.h"

/* Checks a pushed batch with the core's rules (ereport on a violation, with
 * the rule's SQLSTATE) and summarises it. */
void ls_batch_check(Jsonb* batch, LsBatchInfo* info);

/* The same for the events given to livestore.emit(); returns their count. */
int32 ls_emit_check(Jsonb* events);

/* True when every event of a (checked) batch has exactly the six stored
 * fields, so the batch itself is what the log now holds: the hooks can be
 * handed it without reading the rows back. */
bool ls_batch_is_stored_form(Jsonb* batch);
