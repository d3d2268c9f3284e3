/* PG zone: what happens after a batch is written, in append() and emit():
 * the hooks registered in livestore.hooks run, then the wake-up (pg/wake.h). */
#pragma once
#ifndef POSTGRES_H
#error "hooks.h is a Postgres-zone header: include postgres.h first"
#endif
#include "livestore/pg/store_plans.h"

/* How deep hooks may nest (a hook emits, whose hooks emit, ...). */
#define LS_MAX_HOOK_DEPTH 8

/* Rows first_seq..last_seq were just written to the store (head row locked).
 * Runs the matching hooks in order (each as its function's owner), arranges
 * the wake-up at commit (and a NOTIFY if livestore.notify is on), and
 * returns the store's head afterwards, which includes what the hooks emitted
 * into the same store. `batch` is the
 * written batch as given (or NULL): the hooks get it as is when it is in
 * stored form, else the rows read back. `plans` is not used after the first
 * hook runs. */
int32 ls_finish_write(const char* store_id, const char* table_name, StorePlans* plans, int32 first_seq,
                      int32 last_seq, Jsonb* batch);
