// livestore.append(store_id text, batch jsonb) returns integer.
//
// The batch is checked in the core zone first (shape, types, chain), then one
// statement advances the store's head row from the batch's parent to its last
// seqNum and inserts the rows; then the store's hooks run (pg/hooks.cpp).
// The head row's lock serializes appends to one store (READ COMMITTED
// re-checks "head = parent" after waiting), so there is exactly one winner
// per parent and no gap; other stores are not touched.
// POD locals only in this file: SPI and ereport may longjmp through it.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
}
#include "livestore/bridge.h"
#include "livestore/pg/batch_fields.h"
#include "livestore/pg/hooks.h"
#include "livestore/pg/raise.h"
#include "livestore/pg/store_plans.h"

extern "C" {

PG_FUNCTION_INFO_V1(ls_append);
Datum ls_append(PG_FUNCTION_ARGS) {
  if (PG_ARGISNULL(0))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("store id must not be NULL")));
  if (PG_ARGISNULL(1))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("batch must not be NULL")));

  text* id = PG_GETARG_TEXT_PP(0);
  Jsonb* batch = PG_GETARG_JSONB_P(1);
  char* store_id = text_to_cstring(id);
  LsErrorSlot err;
  char table_name[64];
  if (!ls_core_check_store_id(store_id, strlen(store_id), &err)) ls_raise(&err);
  if (!ls_core_table_name(store_id, strlen(store_id), table_name, &err)) ls_raise(&err);

  char* json = ls_batch_fields_json(batch);
  LsBatchInfo info;
  if (!ls_core_check_batch(json, strlen(json), &info, &err)) ls_raise(&err);
  pfree(json);

  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "livestore: SPI_connect failed");
  StorePlans* plans = ls_plans_for(table_name, store_id);

  Datum args[4] = {Int32GetDatum(info.first_parent), Int32GetDatum(info.last_seq),
                   JsonbPGetDatum(batch), CStringGetTextDatum(table_name)};
  int rc = SPI_execute_plan(plans->append, args, nullptr, false, 0);
  if (rc != SPI_OK_INSERT) elog(ERROR, "livestore: append failed: %s", SPI_result_code_string(rc));

  int32 head = info.last_seq;
  if (SPI_processed == 0) {
    // The head was not the batch's parent. Either the client re-sent a batch
    // that is already stored (its acknowledgement was lost), or it is behind
    // (or ahead) and must pull first.
    char schema[NAMEDATALEN];
    if (!ls_lookup_store(table_name, schema, &head)) {
      ls_forget_plans(table_name);
      ls_raise_unknown_store(store_id);
    }
    bool resent = false;
    if (info.last_seq <= head) {
      Datum same_args[1] = {JsonbPGetDatum(batch)};
      // read_only = false: a fresh snapshot, so that a batch committed by the
      // transaction this append waited for counts as stored.
      rc = SPI_execute_plan(plans->same, same_args, nullptr, false, 1);
      if (rc != SPI_OK_SELECT) elog(ERROR, "livestore: re-send check failed: %s", SPI_result_code_string(rc));
      bool isnull = false;
      int32 same = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
      resent = (same == info.count);
    }
    if (!resent)
      ereport(ERROR,
              (errcode(LS_ERRCODE_STALE_HEAD),
               errmsg("batch does not extend the head of store \"%s\"", store_id),
               errdetail("The store's head is %d; the batch's first parentSeqNum is %d.", head,
                         info.first_parent),
               errhint("Pull the events after %d, then rebase the batch onto them.", head)));
  } else if (SPI_processed != (uint64)info.count) {
    elog(ERROR, "livestore: appended " UINT64_FORMAT " rows of a %d-event batch", SPI_processed, info.count);
  } else {
    head = ls_finish_write(store_id, table_name, plans, info.first_seq, info.last_seq, batch);
  }
  SPI_finish();
  PG_RETURN_INT32(head);
}

}  // extern "C"
