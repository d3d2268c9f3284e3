// Prometheus counters, gauges and latency histograms, rendered as text.
#pragma once
#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <string>

namespace gw {

class Metrics {
 public:
  void Request(const std::string& route, int status, double seconds);
  void PushEvents(size_t n) { push_events_ += n; }
  void UpstreamError() { upstream_errors_++; }
  void UpstreamCancelled() { upstream_cancelled_++; }
  void UpstreamRotation() { upstream_rotations_++; }  // a 409 followed for a client (not passed on)
  void UpstreamRotationRequest() { upstream_rotation_requests_++; }  // requests made to follow one  // an open upstream transfer ended for a client gone
  void DatabaseError() { database_errors_++; }
  void PageQuery() { page_queries_++; }        // a built-in pull page read from Postgres
  void PagePrefetch() { page_prefetches_++; }  // one read ahead (gw/page_prefetch.h)
  void PageCacheHit() { page_cache_hits_++; }  // one served from gw::PageCache
  void PageWait() { page_waits_++; }           // a request waited for another's identical page query
  void AnswerBuilt() { answers_built_++; }     // a shareable live pull answer built (gw/answer_cache.h)
  void AnswerShared() { answers_shared_++; }   // one queued as another request had built it
  void PushRejected() { push_rejected_++; }     // a hook called livestore.reject: 422
  void PushHookError() { push_hook_errors_++; }  // any other error raised in a hook: 500
  void JwksFetch(bool ok, size_t keys) {            // one JWKS fetch attempt; keys held after it
    (ok ? jwks_fetches_ok_ : jwks_fetches_failed_)++;
    jwks_keys_ = keys;
  }
  void AuthPending() { auth_pending_++; }          // a request waited for keys or the authorization function
  void AuthorizeCall(int result) { authorize_calls_[result]++; }  // 0 allow, 1 deny, 2 error
  void AuthorizeCacheHit() { authorize_cache_hits_++; }
  // `held_polls`: live pulls held right now (built in and proxied);
  // `upstream_open`: upstream (Electric) transfers open right now.
  std::string Render(size_t held_polls, size_t upstream_open = 0) const;

 private:
  static constexpr std::array<double, 12> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,   0.25,   0.5,   1,    5,     25};
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> le{};
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  std::atomic<uint64_t> push_events_{0}, upstream_errors_{0}, database_errors_{0}, push_rejected_{0},
      push_hook_errors_{0}, upstream_cancelled_{0}, upstream_rotations_{0},
      upstream_rotation_requests_{0}, page_queries_{0}, page_cache_hits_{0}, page_waits_{0},
      page_prefetches_{0};
  std::atomic<uint64_t> answers_built_{0}, answers_shared_{0};
  std::atomic<uint64_t> jwks_fetches_ok_{0}, jwks_fetches_failed_{0}, jwks_keys_{0}, auth_pending_{0},
      authorize_cache_hits_{0};
  std::array<std::atomic<uint64_t>, 3> authorize_calls_{};
};

}  // namespace gw
