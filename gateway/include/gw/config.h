// Command-line flags, each with an environment fallback; --help lists them.
#pragma once
#include <string>
#include <vector>

namespace gw {

// --threads when not given: 4 per CPU this process may run on, at least 8,
// at most 32. Each worker thread serves its connections and makes its
// database calls itself, so the count trades Postgres concurrency (pushes in
// flight) against wake-ups: on 2 CPUs, 8 threads against 32 gave 1.04-1.37x
// the push throughput and 0.63x the 1,000-reader fan-out p99 (README).
int DefaultThreads();

struct Config {
  std::string listen_host = "127.0.0.1";
  int listen_port = 8787;
  std::string database_url;           // DATABASE_URL
  bool database_pooled = false;       // database_url is a transaction pooler: no prepared statements, no SET
  std::string listen_database_url;    // session connection for LISTEN + announcements; "" = database_url
  std::string electric_url;           // ELECTRIC_URL: empty = built-in pull
  std::string electric_secret;        // ELECTRIC_SECRET
  std::string electric_source_id, electric_source_secret;
  bool shape_api = false;             // serve GET /v1/shape on the same listener
  std::string shape_secret;           // SHAPE_SECRET
  std::string endpoint = "/api/electric";
  std::string push_path, pull_path, ping_path;  // optional split endpoints
  int long_poll_timeout_s = 20;
  int upstream_timeout_s = 60;        // > Electric's 20 s long poll
  size_t max_body_bytes = 4u << 20;
  int threads = DefaultThreads();     // MHD pool threads = database connections
  int max_connections = 20000;
  int max_connections_per_ip = 0;     // 0 = unlimited
  int idle_timeout_s = 120;
  int page_events = 1000;             // events per built-in pull page
  int page_cache_mb = 32;             // full pages shared between pulls (gw/page_cache.h); 0 = off
  int page_prefetch = 1;              // prefetch threads/connections (gw/page_prefetch.h); 0 = off
  std::vector<std::string> cors_origins;  // empty = echo any Origin
  std::string auth_token;             // LIVESTORE_AUTH_TOKEN
  std::string jwt_secret;             // LIVESTORE_JWT_SECRET
  std::string auth_cookie = "livestore_token";
  bool allow_anonymous_push = false;  // with JWTs: let pushes without credentials in
  // Asymmetric JWTs and authorization in SQL (auth.h, key_store.h, authz.h).
  std::string jwt_jwks_url, jwt_jwks_file, jwt_public_key_file;
  std::vector<std::string> jwt_issuers, jwt_audiences;  // empty: not checked
  std::string jwt_stores_claim;       // path of the read/write claims; "" = top level
  int jwt_leeway_s = 30;              // clock skew allowed on exp and nbf
  int jwks_min_refetch_s = 30;        // floor between JWKS fetches caused by unknown kids
  int jwks_cache_s = 600;             // JWKS lifetime when the document gives no max-age
  std::string auth_query_param = "token";  // endpoint?token=JWT; "" = not accepted
  std::string authorize_function;     // schema.fn(claims jsonb, store_id text, access text) RETURNS boolean
  int authorize_cache_s = 10;         // decisions remembered this long (0 = not at all)
  int authorize_cache_entries = 10000;
  bool insecure = false;              // allow a non-loopback listener without auth
  // Limits. Pushes over a rate get 429 + Retry-After; pulls are never
  // refused for rate (the client would stop syncing), only slowed down.
  size_t max_event_bytes = 256u << 10;
  int max_batch_events = 1000;
  double push_rate_per_store = 0;     // pushes per second; 0 = unlimited
  double push_rate_per_ip = 0;
  double pull_rate_per_ip = 0;        // immediate pull answers per second before slowing
  size_t max_header_bytes = 32u << 10;
  bool log_requests = true;
  int drain_seconds = 5;              // on SIGTERM: serve until idle this long
};

// Throws std::invalid_argument with a message for bad flags. Sets *help when
// --help was given (the caller prints Usage()).
Config ParseConfig(int argc, char** argv, bool* help);
std::string Usage();

}  // namespace gw
