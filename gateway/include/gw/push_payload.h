// The body of a LiveStore push (POST): {"_tag":"@livestore/sync-electric.Push",
// "storeId", "batch"}. The batch is checked with the extension's own rules
// (livestore/core/batch.h), so a malformed push is refused without a round
// trip and with the same message append() would give.
#pragma once
#include <string>
#include <string_view>

#include "livestore/core/batch.h"

namespace gw {

struct PushPayload {
  std::string store_id;
  std::string batch_json;  // the batch array, re-serialized compactly
  ls::BatchSummary summary;
  size_t largest_event_bytes = 0;  // of one event, as compact JSON
};

// Throws gw::BadRequest (envelope) or ls::Error (batch rules, with SQLSTATE).
PushPayload ParsePushPayload(std::string_view body);

}  // namespace gw
