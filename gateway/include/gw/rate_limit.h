// Token buckets keyed by store id or client address.
#pragma once
#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace gw {

class RateLimiter {
 public:
  // `rate` tokens per second, up to `burst` saved; rate 0 disables the limit.
  RateLimiter(double rate, double burst) : rate_(rate), burst_(burst) {}
  bool enabled() const { return rate_ > 0; }
  // 0 when a token was taken; otherwise the seconds until one is available.
  double Take(const std::string& key);

 private:
  using Clock = std::chrono::steady_clock;
  struct Bucket {
    double tokens;
    Clock::time_point last;
  };
  double rate_, burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace gw
