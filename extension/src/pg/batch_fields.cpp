// The part of a batch that the rules look at, as JSON text for the core
// zone: per event only name, clientId, sessionId, seqNum and parentSeqNum.
// `args` stays in the jsonb: it may hold numbers that jsonb keeps exactly
// but that no double (and so no RapidJSON) can hold, such as 1.8e308
// written out in full, and the rules never look at it.
extern "C" {
#include "postgres.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
}
#include "livestore/pg/batch_fields.h"

namespace {

const char* const kFields[] = {"name", "clientId", "sessionId", "seqNum", "parentSeqNum"};

void AppendValue(StringInfo out, const JsonbValue* v) {
  switch (v->type) {
    case jbvNull:
      appendStringInfoString(out, "null");
      break;
    case jbvBool:
      appendStringInfoString(out, v->val.boolean ? "true" : "false");
      break;
    case jbvString:
      escape_json(out, pnstrdup(v->val.string.val, v->val.string.len));
      break;
    case jbvNumeric: {
      const char* text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
      // Far outside integer range either way; keep it a number RapidJSON reads.
      if (strlen(text) > 64) appendStringInfoString(out, text[0] == '-' ? "-1e300" : "1e300");
      else appendStringInfoString(out, text);
      break;
    }
    case jbvBinary:
      appendStringInfoString(out, JsonbToCString(nullptr, v->val.binary.data, v->val.binary.len));
      break;
    default:
      elog(ERROR, "livestore: unexpected jsonb value type %d", (int)v->type);
  }
}

}  // namespace

char* ls_batch_fields_json(Jsonb* batch) {
  if (!JB_ROOT_IS_ARRAY(batch) || JB_ROOT_IS_SCALAR(batch))
    return JsonbToCString(nullptr, &batch->root, VARSIZE(batch));  // the core says what is wrong
  StringInfoData out;
  initStringInfo(&out);
  appendStringInfoChar(&out, '[');
  JsonbIterator* it = JsonbIteratorInit(&batch->root);
  JsonbValue v;
  bool first = true;
  for (JsonbIteratorToken tok; (tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE;) {
    if (tok != WJB_ELEM) continue;  // the array's begin and end
    if (!first) appendStringInfoChar(&out, ',');
    first = false;
    if (v.type != jbvBinary || !JsonContainerIsObject(v.val.binary.data)) {
      AppendValue(&out, &v);
      continue;
    }
    appendStringInfoChar(&out, '{');
    bool first_field = true;
    for (const char* key : kFields) {
      JsonbValue* field = getKeyJsonValueFromContainer(v.val.binary.data, key, strlen(key), nullptr);
      if (field == nullptr) continue;
      if (!first_field) appendStringInfoChar(&out, ',');
      first_field = false;
      escape_json(&out, key);
      appendStringInfoChar(&out, ':');
      AppendValue(&out, field);
    }
    appendStringInfoChar(&out, '}');
  }
  appendStringInfoChar(&out, ']');
  return out.data;
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
