// The body of a LiveStore push (POST): {"_tag":"@livestore/sync-electric.Push",
// "storeId", "batch"}. The batch is checked with the extension's own rules
// (livestore/core/batch.h), so a malformed push is refused without a round
// trip and with the same message append() would give. The body itself is
// what goes to Postgres (`($2::jsonb)->'batch'`): never re-serialized, so
// every number and string arrives exactly as the client wrote it.
#pragma once
#include <string>
#include <string_view>

#include "livestore/core/batch.h"

namespace gw {

struct PushPayload {
  std::string store_id;
  ls::BatchSummary summary;
  size_t largest_event_bytes = 0;  // of one event, about as compact JSON
};

// Throws gw::BadRequest (envelope) or ls::Error (batch rules, with SQLSTATE).
PushPayload ParsePushPayload(std::string_view body);

// The size of `v` written as compact JSON (numbers estimated), computed
// without recursion: nesting depth is the client's choice.
size_t CompactJsonBytes(const rapidjson::Value& v);

}  // namespace gw
