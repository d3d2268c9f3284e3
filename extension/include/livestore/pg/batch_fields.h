/* PG zone: the fields of a batch that the rules check, as JSON text. */
#pragma once
#ifndef POSTGRES_H
#error "batch_fields.h is a Postgres-zone header: include postgres.h first"
#endif
#include "utils/jsonb.h"

/* palloc'd JSON array of the events' name, clientId, sessionId, seqNum and
 * parentSeqNum (args left out); any other shape is returned as is. */
char* ls_batch_fields_json(Jsonb* batch);

/* True when every event of a (checked) batch has exactly the six stored
 * fields, so the batch itself is what the log now holds: the hooks can be
 * handed it without reading the rows back. */
bool ls_batch_is_stored_form(Jsonb* batch);
