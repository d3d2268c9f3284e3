// livestore.table_name(text) and livestore._check_store_id(text).
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "utils/builtins.h"
}
#include "livestore/bridge.h"
#include "livestore/pg/raise.h"

extern "C" {

PG_FUNCTION_INFO_V1(ls_table_name);
Datum ls_table_name(PG_FUNCTION_ARGS) {
  text* id = PG_GETARG_TEXT_PP(0);
  char name[64];
  LsErrorSlot err;
  if (!ls_core_table_name(VARDATA_ANY(id), VARSIZE_ANY_EXHDR(id), name, &err)) ls_raise(&err);
  PG_RETURN_TEXT_P(cstring_to_text(name));
}

PG_FUNCTION_INFO_V1(ls_check_store_id);
Datum ls_check_store_id(PG_FUNCTION_ARGS) {
  if (PG_ARGISNULL(0))
    ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED), errmsg("store id must not be NULL")));
  text* id = PG_GETARG_TEXT_PP(0);
  LsErrorSlot err;
  if (!ls_core_check_store_id(VARDATA_ANY(id), VARSIZE_ANY_EXHDR(id), &err)) ls_raise(&err);
  PG_RETURN_TEXT_P(id);
}

}  // extern "C"
