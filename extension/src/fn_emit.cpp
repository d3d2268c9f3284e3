// livestore.emit(store_id text, events jsonb) returns integer.
//
// Events from SQL: a trigger, a job or a hook hands over {name, args,
// clientId?, sessionId?} objects; emit takes the store's write lock (so it
// waits for a concurrent append instead of failing), numbers the events after
// the head as committed, writes them, and runs the hooks. The store is
// created when missing.
// POD locals only in this file: SPI and ereport may longjmp through it.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
}
#include "livestore/bridge.h"
#include "livestore/pg/batch_fields.h"
#include "livestore/pg/hooks.h"
#include "livestore/pg/raise.h"
#include "livestore/pg/store_plans.h"

namespace {

SPIPlanPtr g_create = nullptr;  // ($1 store id)

void CreateStore(const char* store_id) {
  if (g_create == nullptr) {
    Oid types[1] = {TEXTOID};
    g_create = ls_prepare_kept("SELECT livestore.create_store($1)", 1, types);
  }
  Datum args[1] = {CStringGetTextDatum(store_id)};
  int rc = SPI_execute_plan(g_create, args, nullptr, false, 1);
  if (rc != SPI_OK_SELECT) elog(ERROR, "livestore: creating the store failed: %s", SPI_result_code_string(rc));
}

}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(ls_emit);
Datum ls_emit(PG_FUNCTION_ARGS) {
  if (PG_ARGISNULL(0))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("store id must not be NULL")));
  if (PG_ARGISNULL(1))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("events must not be NULL")));

  char* store_id = text_to_cstring(PG_GETARG_TEXT_PP(0));
  Jsonb* events = PG_GETARG_JSONB_P(1);
  LsErrorSlot err;
  char table_name[64];
  if (!ls_core_check_store_id(store_id, strlen(store_id), &err)) ls_raise(&err);
  if (!ls_core_table_name(store_id, strlen(store_id), table_name, &err)) ls_raise(&err);
  const int32 count = ls_emit_check(events);

  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "livestore: SPI_connect failed");
  if (ls_plans_try(table_name) == nullptr) CreateStore(store_id);
  int32 head = 0;
  bool locked = false;
  StorePlans* plans = ls_lock_store(table_name, store_id, -1, &head, &locked);
  if ((int64)head + count > PG_INT32_MAX)
    ereport(ERROR, (errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
                    errmsg("store \"%s\" has no room for %d more events", store_id, count),
                    errdetail("Its head is %d; seqNum is an integer.", head)));
  uint64 written = ls_emit_rows(plans, head, JsonbPGetDatum(events));
  if (written != (uint64)count) elog(ERROR, "livestore: emit wrote " UINT64_FORMAT " of %d events", written, count);
  ls_note_head(table_name, head + count);
  head = ls_finish_write(store_id, table_name, plans, head + 1, head + count, nullptr);
  SPI_finish();
  PG_RETURN_INT32(head);
}

}  // extern "C"
