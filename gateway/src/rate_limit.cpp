#include "gw/rate_limit.h"

namespace gw {

double RateLimiter::Take(const std::string& key) {
  if (rate_ <= 0) return 0;
  const auto now = Clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  if (buckets_.size() > 100000) {  // forget idle keys (their buckets are full again anyway)
    for (auto it = buckets_.begin(); it != buckets_.end();)
      it = std::chrono::duration<double>(now - it->second.last).count() * rate_ >= burst_ ? buckets_.erase(it) : ++it;
  }
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!inserted) {
    b.tokens = std::min(burst_, b.tokens + std::chrono::duration<double>(now - b.last).count() * rate_);
    b.last = now;
  }
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return (1 - b.tokens) / rate_;
}

}  // namespace gw
