#include "livestore/core/batch.h"

#include <cmath>
#include <string>

namespace ls {
namespace {

std::string Where(size_t i, const char* field) {
  return "batch[" + std::to_string(i) + "]." + field;
}

int32_t Int32Field(const rapidjson::Value& ev, size_t i, const char* field) {
  auto it = ev.FindMember(field);
  if (it == ev.MemberEnd())
    throw Error(sqlstate::kInvalidParameter, Where(i, field) + " is missing");
  const rapidjson::Value& v = it->value;
  if (v.IsInt()) return v.GetInt();
  if (v.IsInt64() || v.IsUint64())
    throw Error(sqlstate::kOutOfRange, Where(i, field) + " is out of range for type integer");
  if (v.IsDouble()) {
    double d = v.GetDouble();
    if (std::isfinite(d) && std::fabs(d) <= 2147483647.0)
      throw Error(sqlstate::kInvalidParameter, Where(i, field) + " must be an integer, not a float");
    throw Error(sqlstate::kOutOfRange, Where(i, field) + " is out of range for type integer");
  }
  throw Error(sqlstate::kInvalidParameter, Where(i, field) + " must be an integer");
}

void NonEmptyString(const rapidjson::Value& ev, size_t i, const char* field) {
  auto it = ev.FindMember(field);
  if (it == ev.MemberEnd())
    throw Error(sqlstate::kInvalidParameter, Where(i, field) + " is missing");
  if (!it->value.IsString())
    throw Error(sqlstate::kInvalidParameter, Where(i, field) + " must be a string");
  if (it->value.GetStringLength() == 0)
    throw Error(sqlstate::kInvalidParameter, Where(i, field) + " must not be empty");
}

}  // namespace

BatchSummary CheckBatch(const rapidjson::Value& batch) {
  if (!batch.IsArray()) throw Error(sqlstate::kInvalidParameter, "batch must be a JSON array");
  const size_t n = batch.Size();
  if (n == 0) throw Error(sqlstate::kInvalidParameter, "batch must contain at least one event");
  if (n > kMaxBatchEvents)
    throw Error(sqlstate::kProgramLimit,
                "batch holds " + std::to_string(n) + " events, more than " +
                    std::to_string(kMaxBatchEvents));
  BatchSummary s;
  s.count = n;
  for (size_t i = 0; i < n; ++i) {
    const rapidjson::Value& ev = batch[static_cast<rapidjson::SizeType>(i)];
    if (!ev.IsObject())
      throw Error(sqlstate::kInvalidParameter, "batch[" + std::to_string(i) + "] must be an object");
    NonEmptyString(ev, i, "name");
    NonEmptyString(ev, i, "clientId");
    NonEmptyString(ev, i, "sessionId");
    const int32_t seq = Int32Field(ev, i, "seqNum");
    const int32_t parent = Int32Field(ev, i, "parentSeqNum");
    if (seq < 1) throw Error(sqlstate::kInvalidParameter, Where(i, "seqNum") + " must be at least 1");
    if (static_cast<int64_t>(parent) != static_cast<int64_t>(seq) - 1)
      throw Error(sqlstate::kInvalidParameter,
                  Where(i, "parentSeqNum") + " must be seqNum - 1 (" + std::to_string(seq - 1) +
                      "), got " + std::to_string(parent));
    if (i == 0) {
      s.first_seq = seq;
      s.first_parent = parent;
    } else if (static_cast<int64_t>(seq) != static_cast<int64_t>(s.last_seq) + 1) {
      throw Error(sqlstate::kInvalidParameter,
                  Where(i, "seqNum") + " must follow the previous event (" +
                      std::to_string(static_cast<int64_t>(s.last_seq) + 1) + "), got " +
                      std::to_string(seq));
    }
    s.last_seq = seq;
  }
  return s;
}

namespace {

void Parse(rapidjson::Document* doc, const char* json, size_t len, const char* what) {
  ParseUntrusted(*doc, json, len);
  if (doc->HasParseError())
    throw Error(sqlstate::kInvalidText,
                std::string(what) + " is not valid JSON: " + rapidjson::GetParseError_En(doc->GetParseError()) +
                    " at byte " + std::to_string(doc->GetErrorOffset()));
}

std::string EmitWhere(size_t i, const char* field) { return "events[" + std::to_string(i) + "]." + field; }

}  // namespace

BatchSummary CheckBatchText(const char* json, size_t len) {
  rapidjson::Document doc;
  Parse(&doc, json, len, "batch");
  return CheckBatch(doc);
}

size_t CheckEmit(const rapidjson::Value& events) {
  if (!events.IsArray()) throw Error(sqlstate::kInvalidParameter, "events must be a JSON array");
  const size_t n = events.Size();
  if (n == 0) throw Error(sqlstate::kInvalidParameter, "events must contain at least one event");
  if (n > kMaxBatchEvents)
    throw Error(sqlstate::kProgramLimit, "events holds " + std::to_string(n) + " events, more than " +
                                             std::to_string(kMaxBatchEvents));
  for (size_t i = 0; i < n; ++i) {
    const rapidjson::Value& ev = events[static_cast<rapidjson::SizeType>(i)];
    if (!ev.IsObject())
      throw Error(sqlstate::kInvalidParameter, "events[" + std::to_string(i) + "] must be an object");
    for (const char* numbered : {"seqNum", "parentSeqNum"})
      if (ev.HasMember(numbered))
        throw Error(sqlstate::kInvalidParameter,
                    EmitWhere(i, numbered) + " must not be given: emit numbers events after the head itself");
    for (const char* field : {"name", "clientId", "sessionId"}) {
      auto it = ev.FindMember(field);
      if (it == ev.MemberEnd()) {
        if (field[0] == 'n') throw Error(sqlstate::kInvalidParameter, EmitWhere(i, field) + " is missing");
        continue;  // clientId and sessionId default to the server's identity
      }
      if (!it->value.IsString())
        throw Error(sqlstate::kInvalidParameter, EmitWhere(i, field) + " must be a string");
      if (it->value.GetStringLength() == 0)
        throw Error(sqlstate::kInvalidParameter, EmitWhere(i, field) + " must not be empty");
    }
  }
  return n;
}

size_t CheckEmitText(const char* json, size_t len) {
  rapidjson::Document doc;
  Parse(&doc, json, len, "events");
  return CheckEmit(doc);
}

}  // namespace ls
