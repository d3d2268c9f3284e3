#include "gw/metrics.h"

#include "gw/page_cache.h"

#include <sstream>

namespace gw {

void Metrics::Request(const std::string& route, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  requests_[{route, status}]++;
  Histogram& h = latency_[route];
  for (size_t i = 0; i < kBuckets.size(); ++i)
    if (seconds <= kBuckets[i]) h.le[i]++;
  h.count++;
  h.sum += seconds;
}

std::string Metrics::Render(size_t held_polls, size_t upstream_open) const {
  std::ostringstream out;
  std::lock_guard<std::mutex> lock(mu_);
  out << "# HELP livestore_gateway_requests_total HTTP requests by route and status.\n"
         "# TYPE livestore_gateway_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    out << "livestore_gateway_requests_total{route=\"" << key.first << "\",status=\"" << key.second << "\"} " << n
        << "\n";
  out << "# HELP livestore_gateway_request_seconds Time from request to response queued (long polls included).\n"
         "# TYPE livestore_gateway_request_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    for (size_t i = 0; i < kBuckets.size(); ++i)
      out << "livestore_gateway_request_seconds_bucket{route=\"" << route << "\",le=\"" << kBuckets[i] << "\"} "
          << h.le[i] << "\n";
    out << "livestore_gateway_request_seconds_bucket{route=\"" << route << "\",le=\"+Inf\"} " << h.count << "\n"
        << "livestore_gateway_request_seconds_sum{route=\"" << route << "\"} " << h.sum << "\n"
        << "livestore_gateway_request_seconds_count{route=\"" << route << "\"} " << h.count << "\n";
  }
  out << "# HELP livestore_gateway_push_events_total Events appended through push.\n"
         "# TYPE livestore_gateway_push_events_total counter\n"
      << "livestore_gateway_push_events_total " << push_events_.load() << "\n"
      << "# HELP livestore_gateway_held_polls Live pulls currently held.\n"
         "# TYPE livestore_gateway_held_polls gauge\n"
      << "livestore_gateway_held_polls " << held_polls << "\n"
      << "# HELP livestore_gateway_upstream_errors_total Failed upstream Electric requests.\n"
         "# TYPE livestore_gateway_upstream_errors_total counter\n"
      << "livestore_gateway_upstream_errors_total " << upstream_errors_.load() << "\n"
      << "# HELP livestore_gateway_upstream_open Upstream Electric transfers open right now.\n"
         "# TYPE livestore_gateway_upstream_open gauge\n"
      << "livestore_gateway_upstream_open " << upstream_open << "\n"
      << "# HELP livestore_gateway_upstream_cancelled_total Upstream transfers ended early because their client\n"
         "# went away.\n"
         "# TYPE livestore_gateway_upstream_cancelled_total counter\n"
      << "livestore_gateway_upstream_cancelled_total " << upstream_cancelled_.load() << "\n"
      << "# HELP livestore_gateway_upstream_rotations_total Electric 409s (shape rotated) followed for a client\n"
         "# instead of being passed on.\n"
         "# TYPE livestore_gateway_upstream_rotations_total counter\n"
      << "livestore_gateway_upstream_rotations_total " << upstream_rotations_.load() << "\n"
      << "# HELP livestore_gateway_upstream_rotation_requests_total Requests to Electric made to follow rotations.\n"
         "# TYPE livestore_gateway_upstream_rotation_requests_total counter\n"
      << "livestore_gateway_upstream_rotation_requests_total " << upstream_rotation_requests_.load() << "\n"
      << "# HELP livestore_gateway_database_errors_total Failed database statements.\n"
         "# TYPE livestore_gateway_database_errors_total counter\n"
      << "livestore_gateway_database_errors_total " << database_errors_.load() << "\n"
      << "# HELP livestore_gateway_page_queries_total Built-in pull pages read from Postgres for a request.\n"
         "# TYPE livestore_gateway_page_queries_total counter\n"
      << "livestore_gateway_page_queries_total " << page_queries_.load() << "\n"
      << "# HELP livestore_gateway_page_prefetches_total Built-in pull pages read from Postgres ahead of the\n"
         "# request, after a full page was served (--page-prefetch).\n"
         "# TYPE livestore_gateway_page_prefetches_total counter\n"
      << "livestore_gateway_page_prefetches_total " << page_prefetches_.load() << "\n"
      << "# HELP livestore_gateway_page_cache_hits_total Built-in pull pages served from the page cache\n"
         "# (or from a concurrent identical request's query).\n"
         "# TYPE livestore_gateway_page_cache_hits_total counter\n"
      << "livestore_gateway_page_cache_hits_total " << page_cache_hits_.load() << "\n"
      << "# HELP livestore_gateway_page_waits_total Built-in pull requests that waited for a concurrent\n"
         "# identical page query instead of making their own.\n"
         "# TYPE livestore_gateway_page_waits_total counter\n"
      << "livestore_gateway_page_waits_total " << page_waits_.load() << "\n"
      << "# HELP livestore_gateway_pull_answers_built_total Live pull answers built that other requests\n"
         "# asking the same under the same notification may share.\n"
         "# TYPE livestore_gateway_pull_answers_built_total counter\n"
      << "livestore_gateway_pull_answers_built_total " << answers_built_.load() << "\n"
      << "# HELP livestore_gateway_pull_answers_shared_total Live pull answers queued as another request had\n"
         "# built them (no page copy, no body or headers built).\n"
         "# TYPE livestore_gateway_pull_answers_shared_total counter\n"
      << "livestore_gateway_pull_answers_shared_total " << answers_shared_.load() << "\n"
      << "# HELP livestore_gateway_page_cache_bytes Full pages held by the page cache (--page-cache-mb).\n"
         "# TYPE livestore_gateway_page_cache_bytes gauge\n"
      << "livestore_gateway_page_cache_bytes " << PageCache::Shared().full_bytes() << "\n"
      << "# HELP livestore_gateway_push_rejected_total Pushes refused by a hook (livestore.reject, 422).\n"
         "# TYPE livestore_gateway_push_rejected_total counter\n"
      << "livestore_gateway_push_rejected_total " << push_rejected_.load() << "\n"
      << "# HELP livestore_gateway_push_hook_errors_total Pushes failed by another error raised in a hook (500).\n"
         "# TYPE livestore_gateway_push_hook_errors_total counter\n"
      << "livestore_gateway_push_hook_errors_total " << push_hook_errors_.load() << "\n"
      << "# HELP livestore_gateway_jwks_fetches_total JWKS fetches by result (a failure keeps the last good keys).\n"
         "# TYPE livestore_gateway_jwks_fetches_total counter\n"
      << "livestore_gateway_jwks_fetches_total{result=\"ok\"} " << jwks_fetches_ok_.load() << "\n"
      << "livestore_gateway_jwks_fetches_total{result=\"error\"} " << jwks_fetches_failed_.load() << "\n"
      << "# HELP livestore_gateway_jwks_keys Signature keys held from the JWKS source.\n"
         "# TYPE livestore_gateway_jwks_keys gauge\n"
      << "livestore_gateway_jwks_keys " << jwks_keys_.load() << "\n"
      << "# HELP livestore_gateway_auth_pending_total Requests that waited for signing keys or for the authorization\n"
         "# function (pulls held, pushes answered 503).\n"
         "# TYPE livestore_gateway_auth_pending_total counter\n"
      << "livestore_gateway_auth_pending_total " << auth_pending_.load() << "\n"
      << "# HELP livestore_gateway_authorize_calls_total Calls of --authorize-function by result.\n"
         "# TYPE livestore_gateway_authorize_calls_total counter\n"
      << "livestore_gateway_authorize_calls_total{result=\"allow\"} " << authorize_calls_[0].load() << "\n"
      << "livestore_gateway_authorize_calls_total{result=\"deny\"} " << authorize_calls_[1].load() << "\n"
      << "livestore_gateway_authorize_calls_total{result=\"error\"} " << authorize_calls_[2].load() << "\n"
      << "# HELP livestore_gateway_authorize_cache_hits_total Access decisions answered from the cache.\n"
         "# TYPE livestore_gateway_authorize_cache_hits_total counter\n"
      << "livestore_gateway_authorize_cache_hits_total " << authorize_cache_hits_.load() << "\n";
  return out.str();
}

}  // namespace gw
