// Authorization in SQL (--authorize-function schema.fn): the gateway asks
// `schema.fn(claims jsonb, store_id text, access text) RETURNS boolean`
// (access 'read' or 'write') whether a verified token may pull from or push
// to a store, and remembers the answer for --authorize-cache seconds, keyed
// by the exact claims (SHA-256), the store and the access. The cache is
// bounded (--authorize-cache-entries; the oldest decisions go first).
//
// Only a `true` allows. NULL and false deny. When the function cannot be
// asked (Postgres away, a timeout) or fails (it raised, it does not exist),
// nothing is cached and the caller never allows: a pull is held and tried
// again, a push answered 503 (or 500 for a failing function).
#pragma once
#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace gw {

class Server;

enum class Access { kRead, kWrite };

enum class Decision { kAllow, kDeny, kUnavailable, kFailed };

class DecisionCache {
 public:
  using Clock = std::chrono::steady_clock;
  DecisionCache(int ttl_s, size_t capacity) : ttl_(std::chrono::seconds(ttl_s)), capacity_(capacity) {}
  // The remembered decision, if any and still fresh.
  std::optional<bool> Get(const std::string& key, Clock::time_point now);
  void Put(const std::string& key, bool allow, Clock::time_point now);
  size_t size();

 private:
  struct Entry {
    bool allow;
    Clock::time_point expires;
    std::list<std::string>::iterator order;
  };
  const Clock::duration ttl_;
  const size_t capacity_;
  std::mutex mu_;
  std::list<std::string> order_;  // oldest first (one TTL for all: also the expiry order)
  std::unordered_map<std::string, Entry> entries_;
};

// The cache key of (claims, store, access).
std::string DecisionKey(std::string_view claims_json, std::string_view store_id, Access access);

// Asks the cache, then the function. Counts calls and hits in the metrics.
Decision AuthorizeInSql(Server& s, const std::string& claims_json, const std::string& store_id, Access access,
                        std::string* error);

// The SQL that calls the function (`name` is checked by AuthConfigError).
std::string AuthorizeSql(const std::string& name);

// At start: the function exists with the right signature and returns boolean.
// Returns "" when it does, or when the database cannot be reached (checked
// again at every call anyway); otherwise what is wrong.
std::string CheckAuthorizeFunction(const std::string& database_url, const std::string& name);

}  // namespace gw
