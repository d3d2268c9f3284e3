#include "gw/config.h"

#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <sstream>
#include <stdexcept>

#include "gw/auth_config.h"

namespace gw {
namespace {

struct Flag {
  const char* name;
  const char* env;  // may be nullptr
  const char* help;
  bool takes_value;
  std::function<void(Config&, const std::string&)> set;
};

int ToInt(const std::string& flag, const std::string& v, int lo, int hi) {
  char* end = nullptr;
  long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n < lo || n > hi)
    throw std::invalid_argument(flag + ": expected an integer in [" + std::to_string(lo) + ", " +
                                std::to_string(hi) + "], got '" + v + "'");
  return static_cast<int>(n);
}

std::vector<std::string> SplitComma(const std::string& v) {
  std::vector<std::string> out;
  std::stringstream ss(v);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

void CheckPath(const std::string& flag, const std::string& v) {
  if (v.empty() || v[0] != '/') throw std::invalid_argument(flag + ": must start with '/'");
}

const std::vector<Flag>& Flags() {
  static const std::vector<Flag> flags = {
      {"--listen", "LIVESTORE_LISTEN", "HOST:PORT to listen on (default 127.0.0.1:8787)", true,
       [](Config& c, const std::string& v) {
         size_t colon = v.rfind(':');
         if (colon == std::string::npos) throw std::invalid_argument("--listen: expected HOST:PORT");
         c.listen_host = v.substr(0, colon);
         c.listen_port = ToInt("--listen", v.substr(colon + 1), 0, 65535);
       }},
      {"--database-url", "DATABASE_URL", "libpq connection string of the database with the livestore extension",
       true, [](Config& c, const std::string& v) { c.database_url = v; }},
      {"--database-pooled", "LIVESTORE_DATABASE_POOLED",
       "--database-url goes through a transaction pooler (pgbouncer pool_mode=transaction): unnamed statements only, "
       "no session state",
       false, [](Config& c, const std::string&) { c.database_pooled = true; }},
      {"--listen-database-url", "LIVESTORE_LISTEN_DATABASE_URL",
       "session connection (not through a transaction pooler) for LISTEN and the head announcements; "
       "default: --database-url",
       true, [](Config& c, const std::string& v) { c.listen_database_url = v; }},
      {"--electric-url", "ELECTRIC_URL", "Electric origin to proxy pulls to; absent: serve pulls from Postgres",
       true, [](Config& c, const std::string& v) { c.electric_url = v; }},
      {"--electric-secret", "ELECTRIC_SECRET", "secret added to upstream shape requests (api_secret)", true,
       [](Config& c, const std::string& v) { c.electric_secret = v; }},
      {"--electric-source-id", "LIVESTORE_ELECTRIC_SOURCE_ID", "Electric Cloud source_id", true,
       [](Config& c, const std::string& v) { c.electric_source_id = v; }},
      {"--electric-source-secret", "LIVESTORE_ELECTRIC_SOURCE_SECRET", "Electric Cloud source_secret", true,
       [](Config& c, const std::string& v) { c.electric_source_secret = v; }},
      {"--shape-api", "LIVESTORE_SHAPE_API", "also serve an Electric-compatible GET /v1/shape (bypasses endpoint auth)",
       false, [](Config& c, const std::string&) { c.shape_api = true; }},
      {"--shape-secret", "LIVESTORE_SHAPE_SECRET", "secret that /v1/shape requires (secret or api_secret parameter)", true,
       [](Config& c, const std::string& v) { c.shape_secret = v; }},
      {"--endpoint", "LIVESTORE_ENDPOINT", "path that answers GET (pull), POST (push) and HEAD (ping); default /api/electric",
       true, [](Config& c, const std::string& v) { CheckPath("--endpoint", v); c.endpoint = v; }},
      {"--push-path", "LIVESTORE_PUSH_PATH", "separate path for POST (push)", true,
       [](Config& c, const std::string& v) { CheckPath("--push-path", v); c.push_path = v; }},
      {"--pull-path", "LIVESTORE_PULL_PATH", "separate path for GET (pull)", true,
       [](Config& c, const std::string& v) { CheckPath("--pull-path", v); c.pull_path = v; }},
      {"--ping-path", "LIVESTORE_PING_PATH", "separate path for HEAD (ping)", true,
       [](Config& c, const std::string& v) { CheckPath("--ping-path", v); c.ping_path = v; }},
      {"--long-poll-timeout", "LIVESTORE_LONG_POLL_TIMEOUT", "seconds a live pull with nothing new is held (default 20)",
       true, [](Config& c, const std::string& v) { c.long_poll_timeout_s = ToInt("--long-poll-timeout", v, 1, 40); }},
      {"--upstream-timeout", "LIVESTORE_UPSTREAM_TIMEOUT", "seconds an upstream Electric request may take (default 60)",
       true, [](Config& c, const std::string& v) { c.upstream_timeout_s = ToInt("--upstream-timeout", v, 21, 600); }},
      {"--max-body-bytes", "LIVESTORE_MAX_BODY_BYTES", "largest accepted push body (default 4194304)", true,
       [](Config& c, const std::string& v) {
         c.max_body_bytes = static_cast<size_t>(ToInt("--max-body-bytes", v, 1024, 1 << 30));
       }},
      {"--threads", "LIVESTORE_THREADS", "HTTP worker threads, each with one database connection (default 4 per CPU, at least 8, at most 32)", true,
       [](Config& c, const std::string& v) { c.threads = ToInt("--threads", v, 1, 256); }},
      {"--max-connections", "LIVESTORE_MAX_CONNECTIONS", "open connections, held long polls included (default 20000)",
       true, [](Config& c, const std::string& v) { c.max_connections = ToInt("--max-connections", v, 16, 1000000); }},
      {"--max-connections-per-ip", "LIVESTORE_MAX_CONNECTIONS_PER_IP", "per client address; 0 = no limit (default)", true,
       [](Config& c, const std::string& v) {
         c.max_connections_per_ip = ToInt("--max-connections-per-ip", v, 0, 1000000);
       }},
      {"--idle-timeout", "LIVESTORE_IDLE_TIMEOUT", "seconds before an idle keep-alive connection is closed (default 120)",
       true, [](Config& c, const std::string& v) { c.idle_timeout_s = ToInt("--idle-timeout", v, 1, 3600); }},
      {"--page-events", "LIVESTORE_PAGE_EVENTS", "events per built-in pull page (default 1000)", true,
       [](Config& c, const std::string& v) { c.page_events = ToInt("--page-events", v, 1, 100000); }},
      {"--page-cache-mb", "LIVESTORE_PAGE_CACHE_MB",
       "memory for full pull pages shared between clients, and one query per page for concurrent pulls; "
       "0 = off (default 32)",
       true, [](Config& c, const std::string& v) { c.page_cache_mb = ToInt("--page-cache-mb", v, 0, 1 << 20); }},
      {"--page-prefetch", "LIVESTORE_PAGE_PREFETCH",
       "threads, each with one database connection, that read the page after a full page served while the client "
       "receives it; 0 = off (default 1)",
       true, [](Config& c, const std::string& v) { c.page_prefetch = ToInt("--page-prefetch", v, 0, 64); }},
      {"--cors-origins", "LIVESTORE_CORS_ORIGINS", "comma-separated allowed browser origins; default: any", true,
       [](Config& c, const std::string& v) { c.cors_origins = SplitComma(v); }},
      {"--auth-token", "LIVESTORE_AUTH_TOKEN", "token that pulls must carry as payload.authToken", true,
       [](Config& c, const std::string& v) { c.auth_token = v; }},
      {"--jwt-secret", "LIVESTORE_JWT_SECRET", "HS256 key: require JWTs whose read/write claims name the stores",
       true, [](Config& c, const std::string& v) { c.jwt_secret = v; }},
      {"--auth-cookie", "LIVESTORE_AUTH_COOKIE", "cookie that may carry the JWT (default livestore_token)", true,
       [](Config& c, const std::string& v) { c.auth_cookie = v; }},
      {"--allow-anonymous-push", "LIVESTORE_ALLOW_ANONYMOUS_PUSH",
       "with --jwt-secret: accept pushes that carry no credentials (the stock Node client sends none)", false,
       [](Config& c, const std::string&) { c.allow_anonymous_push = true; }},
      {"--jwt-jwks-url", "LIVESTORE_JWT_JWKS_URL",
       "identity provider's JWKS (RS*, PS*, ES*, EdDSA keys); fetched in the background, cached, refreshed", true,
       [](Config& c, const std::string& v) { c.jwt_jwks_url = v; }},
      {"--jwt-jwks-file", "LIVESTORE_JWT_JWKS_FILE", "a JWKS document on disk (re-read like a URL)", true,
       [](Config& c, const std::string& v) { c.jwt_jwks_file = v; }},
      {"--jwt-public-key", "LIVESTORE_JWT_PUBLIC_KEY", "PEM file of public keys or certificates (RSA, EC, Ed25519)",
       true, [](Config& c, const std::string& v) { c.jwt_public_key_file = v; }},
      {"--jwt-issuer", "LIVESTORE_JWT_ISSUER", "required iss (comma-separated: any of them); needed with --jwt-jwks-url",
       true, [](Config& c, const std::string& v) { c.jwt_issuers = SplitComma(v); }},
      {"--jwt-audience", "LIVESTORE_JWT_AUDIENCE", "required aud (comma-separated: any of them; aud may be an array)",
       true, [](Config& c, const std::string& v) { c.jwt_audiences = SplitComma(v); }},
      {"--jwt-stores-claim", "LIVESTORE_JWT_STORES_CLAIM",
       "path of the object holding the read/write claims, e.g. app_metadata.livestore (default: top level)", true,
       [](Config& c, const std::string& v) { c.jwt_stores_claim = v; }},
      {"--jwt-leeway", "LIVESTORE_JWT_LEEWAY", "seconds of clock skew allowed on exp and nbf (default 30)", true,
       [](Config& c, const std::string& v) { c.jwt_leeway_s = ToInt("--jwt-leeway", v, 0, 300); }},
      {"--jwt-jwks-min-refetch", "LIVESTORE_JWT_JWKS_MIN_REFETCH",
       "seconds between JWKS fetches for unknown kids (default 30)", true,
       [](Config& c, const std::string& v) { c.jwks_min_refetch_s = ToInt("--jwt-jwks-min-refetch", v, 1, 3600); }},
      {"--jwt-jwks-cache", "LIVESTORE_JWT_JWKS_CACHE",
       "seconds JWKS keys are kept when the document has no max-age (default 600)", true,
       [](Config& c, const std::string& v) { c.jwks_cache_s = ToInt("--jwt-jwks-cache", v, 1, 86400); }},
      {"--auth-query-param", "LIVESTORE_AUTH_QUERY_PARAM",
       "query parameter of the endpoint URL that may carry the JWT (default token; empty: none)", true,
       [](Config& c, const std::string& v) { c.auth_query_param = v; }},
      {"--authorize-function", "LIVESTORE_AUTHORIZE_FUNCTION",
       "schema.fn(claims jsonb, store_id text, access text) RETURNS boolean: decides access instead of read/write claims",
       true, [](Config& c, const std::string& v) { c.authorize_function = v; }},
      {"--authorize-cache", "LIVESTORE_AUTHORIZE_CACHE", "seconds a decision of --authorize-function is kept (default 10)",
       true, [](Config& c, const std::string& v) { c.authorize_cache_s = ToInt("--authorize-cache", v, 0, 3600); }},
      {"--authorize-cache-entries", "LIVESTORE_AUTHORIZE_CACHE_ENTRIES", "decisions kept at most (default 10000)", true,
       [](Config& c, const std::string& v) {
         c.authorize_cache_entries = ToInt("--authorize-cache-entries", v, 1, 10000000);
       }},
      {"--insecure", "LIVESTORE_INSECURE", "allow listening on a non-loopback address without any auth", false,
       [](Config& c, const std::string&) { c.insecure = true; }},
      {"--max-event-bytes", "LIVESTORE_MAX_EVENT_BYTES", "largest event in a push, as JSON (default 262144)", true,
       [](Config& c, const std::string& v) {
         c.max_event_bytes = static_cast<size_t>(ToInt("--max-event-bytes", v, 64, 1 << 30));
       }},
      {"--max-batch-events", "LIVESTORE_MAX_BATCH_EVENTS", "most events in one push (default 1000)", true,
       [](Config& c, const std::string& v) { c.max_batch_events = ToInt("--max-batch-events", v, 1, 10000); }},
      {"--push-rate-per-store", "LIVESTORE_PUSH_RATE_PER_STORE", "pushes/s per store before 429; 0 = no limit",
       true, [](Config& c, const std::string& v) { c.push_rate_per_store = ToInt("--push-rate-per-store", v, 0, 1000000); }},
      {"--push-rate-per-ip", "LIVESTORE_PUSH_RATE_PER_IP", "pushes/s per client address before 429; 0 = no limit",
       true, [](Config& c, const std::string& v) { c.push_rate_per_ip = ToInt("--push-rate-per-ip", v, 0, 1000000); }},
      {"--pull-rate-per-ip", "LIVESTORE_PULL_RATE_PER_IP",
       "immediate pull answers/s per address; beyond it pulls are slowed, never refused; 0 = no limit", true,
       [](Config& c, const std::string& v) { c.pull_rate_per_ip = ToInt("--pull-rate-per-ip", v, 0, 1000000); }},
      {"--max-header-bytes", "LIVESTORE_MAX_HEADER_BYTES", "libmicrohttpd's memory per connection (default 32768), zeroed for each request: the request line and "
       "headers may fill all but about 0.5 KiB of it, a Cookie header only half (libmicrohttpd copies it to parse "
       "it: 15 KiB by default, as Node's 16 KiB); larger ones are refused with 431",
       true, [](Config& c, const std::string& v) {
         c.max_header_bytes = static_cast<size_t>(ToInt("--max-header-bytes", v, 4096, 1 << 20));
       }},
      {"--drain-seconds", "LIVESTORE_DRAIN_SECONDS",
       "on SIGTERM, keep serving open connections until idle this long (default 5)", true,
       [](Config& c, const std::string& v) { c.drain_seconds = ToInt("--drain-seconds", v, 0, 30); }},
      {"--quiet", "LIVESTORE_QUIET", "no per-request log lines", false,
       [](Config& c, const std::string&) { c.log_requests = false; }},
  };
  return flags;
}

}  // namespace

int DefaultThreads() {
  cpu_set_t set;
  CPU_ZERO(&set);
  int cpus = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
  if (cpus <= 0) cpus = 2;
  return std::clamp(4 * cpus, 8, 32);
}

Config ParseConfig(int argc, char** argv, bool* help) {
  Config c;
  *help = false;
  for (const Flag& f : Flags()) {
    if (f.env == nullptr) continue;
    const char* v = std::getenv(f.env);
    if (v == nullptr || *v == '\0') continue;
    if (f.takes_value) f.set(c, v);
    else if (std::string(v) != "0" && std::string(v) != "false") f.set(c, "");
  }
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i], value;
    if (arg == "--help" || arg == "-h") {
      *help = true;
      return c;
    }
    size_t eq = arg.find('=');
    bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    const Flag* flag = nullptr;
    for (const Flag& f : Flags())
      if (arg == f.name) flag = &f;
    if (flag == nullptr) throw std::invalid_argument("unknown flag " + arg + " (see --help)");
    if (flag->takes_value && !inline_value) {
      if (i + 1 >= argc) throw std::invalid_argument(arg + ": missing value");
      value = argv[++i];
    }
    flag->set(c, value);
  }
  if (c.database_url.empty()) throw std::invalid_argument("--database-url (or DATABASE_URL) is required");
  if (c.listen_database_url.empty()) c.listen_database_url = c.database_url;
  if (std::string e = AuthConfigError(c); !e.empty()) throw std::invalid_argument(e);
  return c;
}

std::string Usage() {
  std::string out =
      "Usage: livestore-gateway --database-url URL [flags]\n"
      "Sync endpoint for @livestore/sync-electric clients: GET pulls, POST pushes, HEAD pings.\n\n";
  for (const Flag& f : Flags()) {
    std::string left = std::string("  ") + f.name + (f.takes_value ? " VALUE" : "");
    if (left.size() < 30) left.resize(30, ' ');
    out += left + " " + f.help;
    if (f.env) out += std::string(" [env ") + f.env + "]";
    out += "\n";
  }
  return out;
}

}  // namespace gw
