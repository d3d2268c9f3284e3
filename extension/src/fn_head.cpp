// livestore.head(store_id text) and livestore._log_head(table_name text):
// a store's head is the last seqNum of its log (its primary key's last entry,
// one index probe), as the calling statement's snapshot sees it. No catalog
// row holds it, so appends update none (pg/store_plans.cpp).
// POD locals only in this file: SPI and ereport may longjmp through it.
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "executor/spi.h"
#include "utils/builtins.h"
}
#include "livestore/bridge.h"
#include "livestore/pg/raise.h"
#include "livestore/pg/store_plans.h"

namespace {

// NULL (returns false) when no store has that table.
bool HeadOf(const char* table_name, int32* head) {
  if (SPI_connect() != SPI_OK_CONNECT) elog(ERROR, "livestore: SPI_connect failed");
  StorePlans* plans = ls_plans_try(table_name);
  if (plans != nullptr) *head = ls_log_head(plans, false);
  SPI_finish();
  return plans != nullptr;
}

}  // namespace

extern "C" {

PG_FUNCTION_INFO_V1(ls_head);
Datum ls_head(PG_FUNCTION_ARGS) {
  char* store_id = text_to_cstring(PG_GETARG_TEXT_PP(0));
  char table_name[64];
  LsErrorSlot err;
  if (!ls_core_table_name(store_id, strlen(store_id), table_name, &err)) ls_raise(&err);
  int32 head = 0;
  if (!HeadOf(table_name, &head)) PG_RETURN_NULL();
  PG_RETURN_INT32(head);
}

PG_FUNCTION_INFO_V1(ls_table_head);
Datum ls_table_head(PG_FUNCTION_ARGS) {
  char* table_name = text_to_cstring(PG_GETARG_TEXT_PP(0));
  int32 head = 0;
  if (strlen(table_name) >= 64 || !HeadOf(table_name, &head)) PG_RETURN_NULL();
  PG_RETURN_INT32(head);
}

}  // extern "C"
