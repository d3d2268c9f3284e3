// The rules a pushed batch must follow before it may touch a log. One piece
// of code for both places that see batches: the extension's append() and the
// gateway's push route (which answers 400 without a database round trip).
#pragma once
#include <cstddef>
#include <cstdint>

#include "livestore/bridge.h"
#include "livestore/core/json.h"
#include "livestore/core/cpp_only.h"

namespace ls {

inline constexpr size_t kMaxBatchEvents = LS_MAX_BATCH_EVENTS;

struct BatchSummary {
  size_t count = 0;
  int32_t first_seq = 0;
  int32_t first_parent = 0;  // must equal the store's head
  int32_t last_seq = 0;      // the head after the append
};

// `batch` must be a non-empty array of events {name, args?, seqNum,
// parentSeqNum, clientId, sessionId}: integers in int32 range, a chain
// (parentSeqNum = seqNum - 1, consecutive), non-empty strings. Throws
// ls::Error: 22023 wrong shape or type, 22003 integer out of range,
// 54000 too many events.
BatchSummary CheckBatch(const rapidjson::Value& batch);

// Parses JSON text, then CheckBatch. Malformed JSON throws 22P02.
BatchSummary CheckBatchText(const char* json, size_t len);

// The same rules on a batch another parser read (the extension's jsonb):
// whether it is an array, its element count and, when that is within
// kMaxBatchEvents, a view of each element. CheckBatch is this on views of
// RapidJSON's values, so both places give the same answer and message.
BatchSummary CheckBatchEvents(bool is_array, size_t n, const LsEventView* events);

// What the rules see of one element: its fields of the rules, the last of
// duplicate keys as Postgres's jsonb keeps it.
LsEventView EventViewOf(const rapidjson::Value& event);

// The events handed to livestore.emit(): a non-empty array of objects with a
// non-empty string `name`, optional non-empty string `clientId`/`sessionId`,
// and no `seqNum`/`parentSeqNum` (emit numbers them). Returns the count;
// throws ls::Error as CheckBatch does.
size_t CheckEmit(const rapidjson::Value& events);
size_t CheckEmitText(const char* json, size_t len);
size_t CheckEmitEvents(bool is_array, size_t n, const LsEventView* events);

}  // namespace ls
