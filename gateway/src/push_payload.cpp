#include "gw/push_payload.h"

#include <algorithm>
#include <vector>

#include "gw/pull_args.h"
#include "livestore/core/store_id.h"

namespace gw {

size_t CompactJsonBytes(const rapidjson::Value& root) {
  size_t bytes = 0;
  std::vector<const rapidjson::Value*> todo = {&root};
  while (!todo.empty()) {
    const rapidjson::Value* v = todo.back();
    todo.pop_back();
    if (v->IsObject()) {
      bytes += 2 + (v->MemberCount() ? v->MemberCount() - 1 : 0);  // {} and commas
      for (const auto& m : v->GetObject()) {
        bytes += m.name.GetStringLength() + 3;  // "name":
        todo.push_back(&m.value);
      }
    } else if (v->IsArray()) {
      bytes += 2 + (v->Size() ? v->Size() - 1 : 0);
      for (const auto& e : v->GetArray()) todo.push_back(&e);
    } else if (v->IsString()) {
      bytes += v->GetStringLength() + 2;
    } else if (v->IsNumber()) {
      bytes += v->IsDouble() ? 24 : 20;
    } else {
      bytes += v->IsNull() || v->IsTrue() ? 4 : 5;
    }
  }
  return bytes;
}

PushPayload ParsePushPayload(std::string_view body) {
  // libpq takes text parameters as C strings.
  if (body.find('\0') != std::string_view::npos) throw BadRequest("body contains a NUL byte");
  rapidjson::Document doc;  // pool allocator: freed without recursion, whatever the depth
  ls::ParseUntrusted(doc, body.data(), body.size());
  if (doc.HasParseError())
    throw BadRequest(std::string("body is not valid JSON: ") + rapidjson::GetParseError_En(doc.GetParseError()));
  if (!doc.IsObject()) throw BadRequest("body must be a JSON object");
  auto tag = doc.FindMember("_tag");
  if (tag == doc.MemberEnd() || !tag->value.IsString() ||
      std::string_view(tag->value.GetString(), tag->value.GetStringLength()) != "@livestore/sync-electric.Push")
    throw BadRequest("_tag must be \"@livestore/sync-electric.Push\"");
  auto store = doc.FindMember("storeId");
  if (store == doc.MemberEnd() || !store->value.IsString()) throw BadRequest("storeId must be a string");

  PushPayload out;
  out.store_id.assign(store->value.GetString(), store->value.GetStringLength());
  try {
    ls::ValidateStoreId(out.store_id);
  } catch (const ls::Error& e) {
    throw BadRequest(std::string("storeId: ") + e.what());  // envelope, not batch: 400, never 413
  }
  // Postgres takes the last of duplicate keys; so must the check.
  const rapidjson::Value* batch = nullptr;
  for (const auto& m : doc.GetObject())
    if (std::string_view(m.name.GetString(), m.name.GetStringLength()) == "batch") batch = &m.value;
  if (batch == nullptr) throw BadRequest("batch is missing");
  out.summary = ls::CheckBatch(*batch);
  for (const rapidjson::Value& event : batch->GetArray())
    out.largest_event_bytes = std::max(out.largest_event_bytes, CompactJsonBytes(event));
  return out;
}

}  // namespace gw
