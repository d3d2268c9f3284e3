// livestore.wait_changes(since bigint, timeout_ms integer)
//   returns table (position bigint, store_id text, table_name text, head integer, missed boolean)
//
// The stores of this database whose heads advanced after position `since`,
// in commit order, waiting up to timeout_ms for the first one (pg/wake.cpp).
// The last row always has store_id NULL: its position is where the next call
// starts, and `missed` says that changes were lost (the caller was more than
// LS_WAKE_RING changes behind, or the server restarted): re-read every store
// you follow. `since` NULL: no changes, just the current position.
// The wait holds this statement's snapshot, so callers keep timeouts short
// (the gateway waits at most a second at a time).
// POD locals only in this file: ereport may longjmp through it.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"
}
#include "livestore/pg/wake.h"

#define LS_MAX_WAIT_MS (10 * 60 * 1000)

extern "C" {

PG_FUNCTION_INFO_V1(ls_wait_changes);
Datum ls_wait_changes(PG_FUNCTION_ARGS) {
  const int64 since = PG_ARGISNULL(0) ? -1 : PG_GETARG_INT64(0);
  const int32 timeout_ms = PG_ARGISNULL(1) ? 0 : PG_GETARG_INT32(1);
  if (!PG_ARGISNULL(0) && since < 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("since must be a position (>= 0) or NULL")));
  if (timeout_ms < 0 || timeout_ms > LS_MAX_WAIT_MS)
    ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                    errmsg("timeout_ms must be between 0 and %d", LS_MAX_WAIT_MS)));

  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = (ReturnSetInfo*)fcinfo->resultinfo;
  LsWakeResult r = ls_wake_wait(since, timeout_ms);
  Datum values[5];
  bool nulls[5] = {false, false, false, false, false};
  for (int i = 0; i < r.count; ++i) {
    values[0] = Int64GetDatum(r.changes[i].position);
    values[1] = CStringGetTextDatum(r.changes[i].store_id);
    values[2] = CStringGetTextDatum(r.changes[i].table_name);
    values[3] = Int32GetDatum(r.changes[i].head);
    values[4] = BoolGetDatum(false);
    tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  }
  values[0] = Int64GetDatum(r.position);
  values[4] = BoolGetDatum(r.missed);
  nulls[1] = nulls[2] = nulls[3] = true;
  tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
  return (Datum)0;
}

// livestore._wake(store_id text, table_name text, head integer): publish a
// change of the store at this transaction's commit (for announce()).
PG_FUNCTION_INFO_V1(ls_wake);
Datum ls_wake(PG_FUNCTION_ARGS) {
  char* store_id = text_to_cstring(PG_GETARG_TEXT_PP(0));
  char* table_name = text_to_cstring(PG_GETARG_TEXT_PP(1));
  if (strlen(table_name) >= 64)
    ereport(ERROR, (errcode(ERRCODE_NAME_TOO_LONG), errmsg("table name \"%s\" is too long", table_name)));
  ls_wake_at_commit(store_id, table_name, PG_GETARG_INT32(2));
  PG_RETURN_VOID();
}

}  // extern "C"
