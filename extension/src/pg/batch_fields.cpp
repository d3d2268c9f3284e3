// The part of a batch that the rules look at, as plain data for the core
// zone (LsEventView, bridge.h): per event only name, clientId, sessionId,
// seqNum and parentSeqNum, read from the jsonb where they are. `args` is not
// looked at: it may hold numbers that jsonb keeps exactly but that no double
// (and so no RapidJSON) can hold, such as 1.8e308 written out in full, and
// the rules never look at it. Before, these fields were written out as JSON
// text for the core to parse again: at 50 events that cost more than the
// rest of the check (docs/performance.md).
extern "C" {
#include "postgres.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
}
#include "livestore/pg/batch_fields.h"
#include "livestore/pg/raise.h"

namespace {

LsFieldView FieldView(JsonbContainer* obj, const char* key, size_t key_len) {
  LsFieldView f = {LS_FIELD_MISSING, 0, 0, nullptr};
  JsonbValue value;
  const JsonbValue* v = getKeyJsonValueFromContainer(obj, key, key_len, &value);
  if (v == nullptr) return f;
  switch (v->type) {
    case jbvString:
      f.kind = LS_FIELD_STRING;
      f.length = v->val.string.len;
      break;
    case jbvNumeric: {
      Datum num = NumericGetDatum(v->val.numeric);
      // Written without a fraction (display scale 0) and within int32: the
      // common case, no text needed.
      if (DatumGetInt32(DirectFunctionCall1(numeric_scale, num)) == 0) {
        bool error = false;
        const int32 i = numeric_int4_opt_error(v->val.numeric, &error);
        if (!error) {
          f.kind = LS_FIELD_INT32;
          f.int_value = i;
          break;
        }
      }
      // Anything else is classified by the core as RapidJSON reads its text.
      const char* text = DatumGetCString(DirectFunctionCall1(numeric_out, num));
      size_t length = strlen(text);
      // Far outside integer range either way; keep it a number RapidJSON reads.
      if (length > 64) {
        text = text[0] == '-' ? "-1e300" : "1e300";
        length = strlen(text);
      }
      f.kind = LS_FIELD_NUMBER_TEXT;
      f.text = text;
      f.length = length;
      break;
    }
    default:  // null, a boolean, an object or an array
      f.kind = LS_FIELD_OTHER;
      break;
  }
  return f;
}

#define LS_KEY(k) k, sizeof(k) - 1

// The views of a batch's elements (palloc'd), or nullptr when it is not an
// array or has more elements than any batch may hold (the core says so).
LsEventView* Views(Jsonb* batch, bool* is_array, size_t* n) {
  *is_array = JB_ROOT_IS_ARRAY(batch) && !JB_ROOT_IS_SCALAR(batch);
  *n = *is_array ? JB_ROOT_COUNT(batch) : 0;
  if (!*is_array || *n == 0 || *n > LS_MAX_BATCH_EVENTS) return nullptr;
  LsEventView* views = (LsEventView*)palloc(sizeof(LsEventView) * *n);
  JsonbIterator* it = JsonbIteratorInit(&batch->root);
  JsonbValue v;
  size_t i = 0;
  for (JsonbIteratorToken tok; (tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE;) {
    if (tok != WJB_ELEM) continue;  // the array's begin and end
    if (i >= *n) elog(ERROR, "livestore: jsonb array holds more elements than its count");
    LsEventView* ev = &views[i++];
    ev->is_object = v.type == jbvBinary && JsonContainerIsObject(v.val.binary.data);
    if (!ev->is_object) continue;
    JsonbContainer* obj = v.val.binary.data;
    ev->name = FieldView(obj, LS_KEY("name"));
    ev->client_id = FieldView(obj, LS_KEY("clientId"));
    ev->session_id = FieldView(obj, LS_KEY("sessionId"));
    ev->seq_num = FieldView(obj, LS_KEY("seqNum"));
    ev->parent_seq_num = FieldView(obj, LS_KEY("parentSeqNum"));
  }
  if (i != *n) elog(ERROR, "livestore: jsonb array holds fewer elements than its count");
  return views;
}

}  // namespace

void ls_batch_check(Jsonb* batch, LsBatchInfo* info) {
  bool is_array = false;
  size_t n = 0;
  LsEventView* views = Views(batch, &is_array, &n);
  LsErrorSlot err;
  if (!ls_core_check_batch_events(is_array, n, views, info, &err)) ls_raise(&err);
  if (views != nullptr) pfree(views);
}

int32 ls_emit_check(Jsonb* events) {
  bool is_array = false;
  size_t n = 0;
  LsEventView* views = Views(events, &is_array, &n);
  LsErrorSlot err;
  int32 count = 0;
  if (!ls_core_check_emit_events(is_array, n, views, &count, &err)) ls_raise(&err);
  if (views != nullptr) pfree(views);
  return count;
}

bool ls_batch_is_stored_form(Jsonb* batch) {
  static const char* const kStored[] = {"name", "args", "clientId", "sessionId", "seqNum", "parentSeqNum"};
  JsonbIterator* it = JsonbIteratorInit(&batch->root);
  JsonbValue v;
  for (JsonbIteratorToken tok; (tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE;) {
    if (tok != WJB_ELEM) continue;
    if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data) || JsonContainerSize(v.val.binary.data) != 6)
      return false;
    for (const char* key : kStored)
      if (getKeyJsonValueFromContainer(v.val.binary.data, key, strlen(key), nullptr) == nullptr) return false;
  }
  return true;
}
