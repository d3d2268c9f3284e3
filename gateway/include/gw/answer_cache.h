// gw::AnswerCache: whole built-in pull answers (one libmicrohttpd response,
// body and headers) shared between the live pulls that ask the same thing
// under the same notification count. One append wakes every reader held at
// the store's head: they all ask for the same page with the same offset, and
// right after, all of them send the same flagged-offset follow-up. The first
// request of each builds the answer; the others queue the same response
// (libmicrohttpd counts its references), so per reader only the request and
// the send remain.
// An answer is kept for the notification count it was read under (like a
// head page in gw::PageCache) and one second at most; the key holds all the
// answer depends on: the page's key, the request's offset as sent (the etag
// and the cursor echo it), whether it was flagged, whether its credentials
// were private (cache-control) and its Origin (the CORS headers).
#pragma once
#include <microhttpd.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

namespace gw {

using SharedResponse = std::shared_ptr<MHD_Response>;

// Takes over the caller's reference of `r` (released by MHD_destroy_response
// when the last holder lets go; connections it is queued on hold their own).
SharedResponse ShareResponse(MHD_Response* r);

class AnswerCache {
 public:
  using Clock = std::chrono::steady_clock;
  static AnswerCache& Shared();
  // The answer kept for `key` under `seq`, or null.
  SharedResponse Find(const std::string& key, uint64_t seq);
  // Keeps `answer` (of `bytes` body bytes) for `key` under `seq`.
  void Put(const std::string& key, uint64_t seq, SharedResponse answer, size_t bytes);

 private:
  static constexpr auto kTtl = std::chrono::seconds(1);
  static constexpr size_t kMaxEntries = 4096;
  static constexpr size_t kMaxBytes = 16u << 20;
  struct Entry {
    uint64_t seq;
    Clock::time_point at;
    SharedResponse answer;
    size_t bytes;
  };
  std::shared_mutex mu_;  // Find, once per woken reader, takes it shared
  std::unordered_map<std::string, Entry> map_;
  size_t bytes_ = 0;
};

}  // namespace gw
