// Crossing from the Postgres zone into C++: every call runs under one guard
// that turns any exception into the POD error slot.
#include "livestore/bridge.h"

#include <cstring>
#include <new>
#include <string>

#include "livestore/core/batch.h"
#include "livestore/core/store_id.h"

namespace {

void Fill(LsErrorSlot* err, const char* code, const char* message) {
  std::memcpy(err->sqlstate, code, 5);
  err->sqlstate[5] = '\0';
  std::strncpy(err->message, message, sizeof err->message - 1);
  err->message[sizeof err->message - 1] = '\0';
}

template <typename F>
bool Guard(LsErrorSlot* err, F&& body) noexcept {
  try {
    body();
    return true;
  } catch (const ls::Error& e) {
    Fill(err, e.sqlstate(), e.what());
  } catch (const std::bad_alloc&) {
    Fill(err, "53200", "out of memory");
  } catch (const std::exception& e) {
    Fill(err, ls::sqlstate::kInternal, e.what());
  } catch (...) {
    Fill(err, ls::sqlstate::kInternal, "unknown C++ exception");
  }
  return false;
}

}  // namespace

extern "C" bool ls_core_table_name(const char* store_id, size_t len, char out[64], LsErrorSlot* err) {
  return Guard(err, [&] {
    std::string name = ls::TableName(std::string_view(store_id, len));
    std::memcpy(out, name.c_str(), name.size() + 1);  // TableName never exceeds 63
  });
}

extern "C" bool ls_core_check_store_id(const char* store_id, size_t len, LsErrorSlot* err) {
  return Guard(err, [&] { ls::ValidateStoreId(std::string_view(store_id, len)); });
}

extern "C" bool ls_core_check_batch_events(bool is_array, size_t n, const LsEventView* events, LsBatchInfo* out,
                                           LsErrorSlot* err) {
  return Guard(err, [&] {
    ls::BatchSummary s = ls::CheckBatchEvents(is_array, n, events);
    out->count = static_cast<int32_t>(s.count);
    out->first_seq = s.first_seq;
    out->first_parent = s.first_parent;
    out->last_seq = s.last_seq;
  });
}

extern "C" bool ls_core_check_emit_events(bool is_array, size_t n, const LsEventView* events, int32_t* count,
                                          LsErrorSlot* err) {
  return Guard(err, [&] { *count = static_cast<int32_t>(ls::CheckEmitEvents(is_array, n, events)); });
}
