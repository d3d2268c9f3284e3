// The keys that JWTs are verified with: the configured ones (--jwt-secret,
// --jwt-public-key) and those of a JWKS source (--jwt-jwks-url or
// --jwt-jwks-file), which one background thread fetches, caches and
// refreshes. No request thread ever waits for the network:
//
// - the document is fetched at start, then again when its lifetime ends
//   (Cache-Control max-age, else --jwt-jwks-cache), and when a token names a
//   kid the keys do not hold, but never sooner than --jwt-jwks-min-refetch
//   after the previous fetch (tokens with random kids cannot make the gateway
//   hammer the provider);
// - a failed fetch (provider down, bad document, no usable key) keeps the
//   last good keys; it is retried with backoff (1 s doubling, at most
//   twice the floor, capped at 60 s);
// - while a fetch that may bring a token's key is pending (the first one
//   included), Verify answers kPending: the caller holds a pull (and
//   answers a push 503), then tries again when the fetch is over (on_change).
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "gw/config.h"
#include "gw/jwt.h"
#include "gw/metrics.h"

namespace gw {

class KeyStore {
 public:
  KeyStore(const Config& config, Metrics* metrics);
  ~KeyStore();
  // Reads --jwt-secret, --jwt-public-key and a --jwt-jwks-file once (so a bad
  // file fails the start). False with *error.
  bool Load(std::string* error);
  // Starts the JWKS thread (when a JWKS source is configured); `on_change`
  // runs on it after every fetch attempt, good or bad.
  void Start(std::function<void()> on_change);
  void Stop();

  bool enabled() const { return enabled_; }
  bool has_jwks() const { return !config_.jwt_jwks_url.empty() || !config_.jwt_jwks_file.empty(); }

  enum class Result { kValid, kInvalid, kPending };
  // kPending: the token names a key that a fetch under way (or due, or one
  // that failed: the provider is unreachable) may bring; try again later.
  Result Verify(std::string_view token, int64_t now_unix_s, JwtClaims* claims, std::string* error);

 private:
  using Clock = std::chrono::steady_clock;
  void Loop();
  bool FetchUrl(std::string* body, int* max_age_s, std::string* error);
  bool ReadFile(std::string* body, std::string* error);
  bool FetchOnce(std::vector<JwtKey>* keys, int* max_age_s, std::string* error);
  void Publish(std::vector<JwtKey> keys);

  const Config& config_;
  Metrics* metrics_;
  bool enabled_ = false;
  JwtPolicy policy_;
  std::vector<JwtKey> fixed_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<const JwksKeys> jwks_;  // null without a JWKS source
  uint64_t generation_ = 0;               // bumped by every published key set
  bool refresh_requested_ = false, fetching_ = false, last_ok_ = false;
  Clock::time_point last_attempt_{}, next_fetch_{};
  int failures_ = 0;
  std::string last_kids_;                 // for logging changes only
  std::function<void()> on_change_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace gw
