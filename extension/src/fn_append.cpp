// livestore.append(store_id text, batch jsonb) returns integer.
//
// The batch is checked in the core zone first (shape, types, chain); then,
// under the store's write lock (which serializes appends and emits to one
// store, and writes nothing), the head is read from the log itself (as
// committed: one probe of its primary key from the batch's parent on, see
// ls_head_is) and, when it is the batch's parent, the rows are inserted (one event:
// its columns read from the jsonb in C, pg/batch_rows.cpp, and a single-row
// insert); then the store's hooks run (pg/hooks.cpp). So there
// is exactly one winner per parent and no gap; other stores are not touched,
// and no catalog row is updated per append.
// POD locals only in this file: SPI and ereport may longjmp through it.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/snapmgr.h"
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

  LsBatchInfo info;
  ls_batch_check(batch, &info);

  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "livestore: SPI_connect failed");
  int32 head = 0;
  bool locked = false;
  StorePlans* plans = ls_lock_store(table_name, store_id, info.first_parent, &head, &locked);
  if (locked && head == info.first_parent) {
    const uint64 written = ls_append_rows(plans, batch, info.count);
    if (written != (uint64)info.count)
      elog(ERROR, "livestore: appended " UINT64_FORMAT " rows of a %d-event batch", written, info.count);
    ls_note_head(table_name, info.last_seq);
    head = ls_finish_write(store_id, table_name, plans, info.first_seq, info.last_seq, batch);
  } else {
    // The head was not the batch's parent. Either the client re-sent a batch
    // that is already stored (its acknowledgement was lost), or it is behind
    // (or ahead) and must pull first.
    bool resent = false;
    if (info.last_seq <= head) {
      Datum same_args[1] = {JsonbPGetDatum(batch)};
      // As committed now, like the head: a batch committed by the transaction
      // this append waited for counts as stored.
      int rc = SPI_execute_snapshot(plans->same, same_args, nullptr, GetLatestSnapshot(), InvalidSnapshot, false,
                                    false, 1);
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
  }
  SPI_finish();
  PG_RETURN_INT32(head);
}

}  // extern "C"
