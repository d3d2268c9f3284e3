#include "gw/push_payload.h"

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
  ls::ValidateStoreId(out.store_id);
  auto batch = doc.FindMember("batch");
  if (batch == doc.MemberEnd()) throw BadRequest("batch is missing");
  out.summary = ls::CheckBatch(batch->value);

  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buf);
  batch->value.Accept(writer);
  out.batch_json.assign(buf.GetString(), buf.GetSize());
  return out;
}

}  // namespace gw
