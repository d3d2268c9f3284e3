#include "gw/answer_cache.h"

namespace gw {

SharedResponse ShareResponse(MHD_Response* r) { return SharedResponse(r, [](MHD_Response* x) { MHD_destroy_response(x); }); }

AnswerCache& AnswerCache::Shared() {
  static AnswerCache cache;
  return cache;
}

SharedResponse AnswerCache::Find(const std::string& key, uint64_t seq) {
  std::shared_lock<std::shared_mutex> lock(mu_);
  auto it = map_.find(key);
  if (it == map_.end() || it->second.seq != seq || Clock::now() - it->second.at > kTtl) return nullptr;
  return it->second.answer;
}

void AnswerCache::Put(const std::string& key, uint64_t seq, SharedResponse answer, size_t bytes) {
  SharedResponse old;  // released outside the lock
  std::unique_lock<std::shared_mutex> lock(mu_);
  if (map_.size() >= kMaxEntries || bytes_ + bytes > kMaxBytes) {
    // Answers live a second at most: dropping them all costs a rebuild each.
    map_.clear();
    bytes_ = 0;
  }
  auto it = map_.find(key);
  if (it != map_.end()) {
    if (it->second.seq > seq) return;  // a newer one is kept already
    bytes_ -= it->second.bytes;
    old = std::move(it->second.answer);
    it->second = Entry{seq, Clock::now(), std::move(answer), bytes};
  } else {
    map_.emplace(key, Entry{seq, Clock::now(), std::move(answer), bytes});
  }
  bytes_ += bytes;
}

}  // namespace gw
