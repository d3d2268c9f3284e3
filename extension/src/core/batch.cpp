#include "livestore/core/batch.h"

#include <cmath>
#include <string>
#include <string_view>

namespace ls {
namespace {

// "batch[3]", the element a message is about.
std::string Element(const char* list, size_t i) { return std::string(list) + "[" + std::to_string(i) + "]"; }

std::string Where(const char* list, size_t i, const char* field) { return Element(list, i) + "." + field; }

LsFieldView FieldOf(const rapidjson::Value& v) {
  LsFieldView f{LS_FIELD_OTHER, 0, 0, nullptr};
  if (v.IsString()) {
    f.kind = LS_FIELD_STRING;
    f.length = v.GetStringLength();
  } else if (v.IsInt()) {
    f.kind = LS_FIELD_INT32;
    f.int_value = v.GetInt();
  } else if (v.IsInt64() || v.IsUint64()) {
    f.kind = LS_FIELD_WIDE_INT;
  } else if (v.IsDouble()) {
    const double d = v.GetDouble();
    f.kind = std::isfinite(d) && std::fabs(d) <= 2147483647.0 ? LS_FIELD_FRACTION : LS_FIELD_WIDE_INT;
  }
  return f;
}

// A number given as text (jsonb's numerics that are not plain int32s) is
// classified as RapidJSON reads it, so both places agree on every input.
LsFieldView Resolve(const LsFieldView& f) {
  if (f.kind != LS_FIELD_NUMBER_TEXT) return f;
  rapidjson::Document doc;
  doc.Parse(f.text, f.length);
  if (doc.HasParseError() || !doc.IsNumber()) return LsFieldView{LS_FIELD_OTHER, 0, 0, nullptr};
  return FieldOf(doc);
}

int32_t Int32Field(const LsFieldView& raw, const char* list, size_t i, const char* field) {
  const LsFieldView f = Resolve(raw);
  switch (f.kind) {
    case LS_FIELD_INT32:
      return f.int_value;
    case LS_FIELD_MISSING:
      throw Error(sqlstate::kInvalidParameter, Where(list, i, field) + " is missing");
    case LS_FIELD_WIDE_INT:
      throw Error(sqlstate::kOutOfRange, Where(list, i, field) + " is out of range for type integer");
    case LS_FIELD_FRACTION:
      throw Error(sqlstate::kInvalidParameter, Where(list, i, field) + " must be an integer, not a float");
    default:
      throw Error(sqlstate::kInvalidParameter, Where(list, i, field) + " must be an integer");
  }
}

// optional: a missing field is accepted (emit's clientId and sessionId).
void NonEmptyString(const LsFieldView& f, const char* list, size_t i, const char* field, bool optional = false) {
  if (f.kind == LS_FIELD_MISSING) {
    if (optional) return;
    throw Error(sqlstate::kInvalidParameter, Where(list, i, field) + " is missing");
  }
  if (f.kind != LS_FIELD_STRING) throw Error(sqlstate::kInvalidParameter, Where(list, i, field) + " must be a string");
  if (f.length == 0) throw Error(sqlstate::kInvalidParameter, Where(list, i, field) + " must not be empty");
}

// The checks of the list as a whole, before any element is looked at.
void CheckList(const char* list, bool is_array, size_t n) {
  if (!is_array) throw Error(sqlstate::kInvalidParameter, std::string(list) + " must be a JSON array");
  if (n == 0) throw Error(sqlstate::kInvalidParameter, std::string(list) + " must contain at least one event");
  if (n > kMaxBatchEvents)
    throw Error(sqlstate::kProgramLimit, std::string(list) + " holds " + std::to_string(n) + " events, more than " +
                                             std::to_string(kMaxBatchEvents));
}

void CheckObject(const LsEventView& ev, const char* list, size_t i) {
  if (!ev.is_object)
    throw Error(sqlstate::kInvalidParameter, Element(list, i) + " must be an object");
}

// One pushed event, and its place in the chain so far.
void CheckEvent(const LsEventView& ev, size_t i, BatchSummary* s) {
  CheckObject(ev, "batch", i);
  NonEmptyString(ev.name, "batch", i, "name");
  NonEmptyString(ev.client_id, "batch", i, "clientId");
  NonEmptyString(ev.session_id, "batch", i, "sessionId");
  const int32_t seq = Int32Field(ev.seq_num, "batch", i, "seqNum");
  const int32_t parent = Int32Field(ev.parent_seq_num, "batch", i, "parentSeqNum");
  if (seq < 1) throw Error(sqlstate::kInvalidParameter, Where("batch", i, "seqNum") + " must be at least 1");
  if (static_cast<int64_t>(parent) != static_cast<int64_t>(seq) - 1)
    throw Error(sqlstate::kInvalidParameter, Where("batch", i, "parentSeqNum") + " must be seqNum - 1 (" +
                                                 std::to_string(seq - 1) + "), got " + std::to_string(parent));
  if (i == 0) {
    s->first_seq = seq;
    s->first_parent = parent;
  } else if (static_cast<int64_t>(seq) != static_cast<int64_t>(s->last_seq) + 1) {
    throw Error(sqlstate::kInvalidParameter, Where("batch", i, "seqNum") + " must follow the previous event (" +
                                                 std::to_string(static_cast<int64_t>(s->last_seq) + 1) + "), got " +
                                                 std::to_string(seq));
  }
  s->last_seq = seq;
}

void CheckEmitEvent(const LsEventView& ev, size_t i) {
  CheckObject(ev, "events", i);
  for (const LsFieldView* numbered : {&ev.seq_num, &ev.parent_seq_num})
    if (numbered->kind != LS_FIELD_MISSING)
      throw Error(sqlstate::kInvalidParameter,
                  Where("events", i, numbered == &ev.seq_num ? "seqNum" : "parentSeqNum") +
                      " must not be given: emit numbers events after the head itself");
  NonEmptyString(ev.name, "events", i, "name");
  // clientId and sessionId default to the server's identity.
  NonEmptyString(ev.client_id, "events", i, "clientId", true);
  NonEmptyString(ev.session_id, "events", i, "sessionId", true);
}

void Parse(rapidjson::Document* doc, const char* json, size_t len, const char* what) {
  ParseUntrusted(*doc, json, len);
  if (doc->HasParseError())
    throw Error(sqlstate::kInvalidText,
                std::string(what) + " is not valid JSON: " + rapidjson::GetParseError_En(doc->GetParseError()) +
                    " at byte " + std::to_string(doc->GetErrorOffset()));
}

}  // namespace

LsEventView EventViewOf(const rapidjson::Value& event) {
  const LsFieldView missing{LS_FIELD_MISSING, 0, 0, nullptr};
  LsEventView ev{event.IsObject(), missing, missing, missing, missing, missing};
  if (!ev.is_object) return ev;
  for (const auto& m : event.GetObject()) {  // a later duplicate replaces an earlier one
    const std::string_view key(m.name.GetString(), m.name.GetStringLength());
    LsFieldView* slot = key == "name"           ? &ev.name
                        : key == "clientId"     ? &ev.client_id
                        : key == "sessionId"    ? &ev.session_id
                        : key == "seqNum"       ? &ev.seq_num
                        : key == "parentSeqNum" ? &ev.parent_seq_num
                                                : nullptr;
    if (slot != nullptr) *slot = FieldOf(m.value);
  }
  return ev;
}

BatchSummary CheckBatch(const rapidjson::Value& batch) {
  CheckList("batch", batch.IsArray(), batch.IsArray() ? batch.Size() : 0);
  BatchSummary s;
  s.count = batch.Size();
  for (size_t i = 0; i < s.count; ++i) CheckEvent(EventViewOf(batch[static_cast<rapidjson::SizeType>(i)]), i, &s);
  return s;
}

BatchSummary CheckBatchEvents(bool is_array, size_t n, const LsEventView* events) {
  CheckList("batch", is_array, n);
  BatchSummary s;
  s.count = n;
  for (size_t i = 0; i < n; ++i) CheckEvent(events[i], i, &s);
  return s;
}

BatchSummary CheckBatchText(const char* json, size_t len) {
  rapidjson::Document doc;
  Parse(&doc, json, len, "batch");
  return CheckBatch(doc);
}

size_t CheckEmit(const rapidjson::Value& events) {
  CheckList("events", events.IsArray(), events.IsArray() ? events.Size() : 0);
  const size_t n = events.Size();
  for (size_t i = 0; i < n; ++i) CheckEmitEvent(EventViewOf(events[static_cast<rapidjson::SizeType>(i)]), i);
  return n;
}

size_t CheckEmitEvents(bool is_array, size_t n, const LsEventView* events) {
  CheckList("events", is_array, n);
  for (size_t i = 0; i < n; ++i) CheckEmitEvent(events[i], i);
  return n;
}

size_t CheckEmitText(const char* json, size_t len) {
  rapidjson::Document doc;
  Parse(&doc, json, len, "events");
  return CheckEmit(doc);
}

}  // namespace ls
