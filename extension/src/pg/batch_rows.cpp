// The rows of a checked batch as columns, read straight from its jsonb for
// the append's insert (pg/store_plans.cpp): no jsonb_to_recordset, which
// builds a record type and runs each field through text and an input
// function per call. The batch was checked first (core/batch.cpp): every
// element is an object with integer seqNum and parentSeqNum and non-empty
// string name, clientId and sessionId; args is any JSON value, absent or
// null stored as JSON null, as the insert's COALESCE did before.
// POD locals only in this file: ereport may longjmp through it.
extern "C" {
#include "postgres.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
}
#include "livestore/pg/batch_rows.h"

namespace {

const JsonbValue* Field(JsonbContainer* obj, const char* key) {
  return getKeyJsonValueFromContainer(obj, key, strlen(key), nullptr);
}

int32 IntField(JsonbContainer* obj, const char* key) {
  const JsonbValue* v = Field(obj, key);
  if (v == nullptr || v->type != jbvNumeric) elog(ERROR, "livestore: unchecked batch field %s", key);
  return DatumGetInt32(DirectFunctionCall1(numeric_int4, NumericGetDatum(v->val.numeric)));
}

Datum TextField(JsonbContainer* obj, const char* key) {
  const JsonbValue* v = Field(obj, key);
  if (v == nullptr || v->type != jbvString) elog(ERROR, "livestore: unchecked batch field %s", key);
  return PointerGetDatum(cstring_to_text_with_len(v->val.string.val, v->val.string.len));
}

Datum ArgsField(JsonbContainer* obj) {
  JsonbValue* v = getKeyJsonValueFromContainer(obj, "args", 4, nullptr);
  if (v == nullptr || v->type == jbvNull) {
    JsonbValue null_value;
    null_value.type = jbvNull;
    return JsonbPGetDatum(JsonbValueToJsonb(&null_value));
  }
  return JsonbPGetDatum(JsonbValueToJsonb(v));
}

}  // namespace

void ls_batch_columns(Jsonb* batch, int count, LsBatchColumns* out) {
  out->count = 0;
  for (int c = 0; c < LS_BATCH_COLUMNS; ++c) out->values[c] = (Datum*)palloc(sizeof(Datum) * (count > 0 ? count : 1));
  JsonbIterator* it = JsonbIteratorInit(&batch->root);
  JsonbValue v;
  for (JsonbIteratorToken tok; (tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE;) {
    if (tok != WJB_ELEM) continue;
    if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data) || out->count >= count)
      elog(ERROR, "livestore: unchecked batch");
    JsonbContainer* obj = v.val.binary.data;
    const int i = out->count++;
    out->values[0][i] = Int32GetDatum(IntField(obj, "seqNum"));
    out->values[1][i] = Int32GetDatum(IntField(obj, "parentSeqNum"));
    out->values[2][i] = TextField(obj, "name");
    out->values[3][i] = ArgsField(obj);
    out->values[4][i] = TextField(obj, "clientId");
    out->values[5][i] = TextField(obj, "sessionId");
  }
  if (out->count != count) elog(ERROR, "livestore: batch holds %d events, checked %d", out->count, count);
}
