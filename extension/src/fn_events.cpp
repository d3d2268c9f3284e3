// livestore.events(store_id text, after integer, max_events integer):
// the events after seqNum `after`, in order, at most max_events of them. The
// store's table comes from the per-backend store cache that append() uses
// (pg/store_plans.cpp); the rows from a scan of its primary key from `after`
// on (pg/log_read.cpp), straight into the result's tuplestore: no query is
// planned or executed per call.
// POD locals only in this file: ereport may longjmp through it.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
}
#include "livestore/bridge.h"
#include "livestore/pg/log_read.h"
#include "livestore/pg/raise.h"

extern "C" {

PG_FUNCTION_INFO_V1(ls_events);
Datum ls_events(PG_FUNCTION_ARGS) {
  // STRICT in SQL; checked here too, for a caller that declares it otherwise.
  if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2)) PG_RETURN_NULL();
  char* store_id = text_to_cstring(PG_GETARG_TEXT_PP(0));
  const int32 after = PG_GETARG_INT32(1);
  const int32 max_events = PG_GETARG_INT32(2);
  // As the SQL version's LIMIT said it.
  if (max_events < 0)
    ereport(ERROR, (errcode(ERRCODE_INVALID_ROW_COUNT_IN_LIMIT_CLAUSE), errmsg("LIMIT must not be negative")));
  char table_name[64];
  LsErrorSlot err;
  if (!ls_core_table_name(store_id, strlen(store_id), table_name, &err)) ls_raise(&err);

  InitMaterializedSRF(fcinfo, 0);
  ReturnSetInfo* rsinfo = (ReturnSetInfo*)fcinfo->resultinfo;
  ls_read_events(store_id, table_name, after, max_events, rsinfo->setResult, rsinfo->setDesc);
  return (Datum)0;
}

}  // extern "C"
