#include "gw/push_payload.h"

#include <algorithm>

#include "gw/pull_args.h"
#include "livestore/core/store_id.h"

namespace gw {

PushPayload ParsePushPayload(std::string_view body) {
  rapidjson::Document doc;
  doc.Parse<ls::kParseUntrusted>(body.data(), body.size());
  if (doc.HasParseError())
    throw BadRequest(std::string("body is not valid JSON: ") +
                     rapidjson::GetParseError_En(doc.GetParseError()));
  if (!doc.IsObject()) throw BadRequest("body must be a JSON object");
  auto tag = doc.FindMember("_tag");
  if (tag == doc.MemberEnd() || !tag->value.IsString() ||
      std::string_view(tag->value.GetString(), tag->value.GetStringLength()) !=
          "@livestore/sync-electric.Push")
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
  auto batch = doc.FindMember("batch");
  if (batch == doc.MemberEnd()) throw BadRequest("batch is missing");
  out.summary = ls::CheckBatch(batch->value);

  out.batch_json = "[";
  for (const rapidjson::Value& event : batch->value.GetArray()) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buf);
    event.Accept(writer);
    if (out.batch_json.size() > 1) out.batch_json += ',';
    out.batch_json.append(buf.GetString(), buf.GetSize());
    out.largest_event_bytes = std::max(out.largest_event_bytes, buf.GetSize());
  }
  out.batch_json += ']';
  return out;
}

}  // namespace gw
