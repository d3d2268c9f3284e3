#include "gw/pull_args.h"

#include "livestore/core/json.h"
#include "livestore/core/store_id.h"

namespace gw {
namespace {

const rapidjson::Value* Member(const rapidjson::Value& obj, const char* name) {
  auto it = obj.FindMember(name);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

}  // namespace

PullArgs ParsePullArgs(std::string_view json) {
  rapidjson::Document doc;
  ls::ParseUntrusted(doc, json.data(), json.size());
  if (doc.HasParseError()) throw BadRequest("args: not valid JSON");
  if (!doc.IsObject()) throw BadRequest("args: must be a JSON object");
  const rapidjson::Value* tag = Member(doc, "_tag");
  if (!tag || !tag->IsString() || std::string_view(tag->GetString(), tag->GetStringLength()) !=
                                      "@livestore/sync-electric.Pull")
    throw BadRequest("args: _tag must be \"@livestore/sync-electric.Pull\"");

  PullArgs out;
  const rapidjson::Value* store = Member(doc, "storeId");
  if (!store || !store->IsString()) throw BadRequest("args: storeId must be a string");
  out.store_id.assign(store->GetString(), store->GetStringLength());
  try {
    ls::ValidateStoreId(out.store_id);
  } catch (const ls::Error& e) {
    throw BadRequest(std::string("args: ") + e.what());
  }

  const rapidjson::Value* live = Member(doc, "live");
  if (live && !live->IsBool()) throw BadRequest("args: live must be a boolean");
  out.live = live && live->GetBool();

  const rapidjson::Value* handle = Member(doc, "handle");
  if (!handle || !handle->IsObject()) throw BadRequest("args: handle must be an Option object");
  const rapidjson::Value* htag = Member(*handle, "_tag");
  if (!htag || !htag->IsString()) throw BadRequest("args: handle._tag must be \"None\" or \"Some\"");
  std::string_view htag_s(htag->GetString(), htag->GetStringLength());
  if (htag_s == "Some") {
    const rapidjson::Value* value = Member(*handle, "value");
    const rapidjson::Value* offset = value && value->IsObject() ? Member(*value, "offset") : nullptr;
    const rapidjson::Value* h = value && value->IsObject() ? Member(*value, "handle") : nullptr;
    if (!offset || !offset->IsString() || !h || !h->IsString())
      throw BadRequest("args: handle.value must hold string offset and handle");
    out.has_handle = true;
    out.offset.assign(offset->GetString(), offset->GetStringLength());
    out.handle.assign(h->GetString(), h->GetStringLength());
  } else if (htag_s != "None") {
    throw BadRequest("args: handle._tag must be \"None\" or \"Some\"");
  }

  if (const rapidjson::Value* payload = Member(doc, "payload"); payload && payload->IsObject()) {
    const rapidjson::Value* token = Member(*payload, "authToken");
    if (token && token->IsString()) out.auth_token.emplace(token->GetString(), token->GetStringLength());
  }
  return out;
}

}  // namespace gw
