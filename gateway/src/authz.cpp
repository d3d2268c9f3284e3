#include "gw/authz.h"

#include <libpq-fe.h>
#include <openssl/evp.h>

#include "gw/log.h"
#include "gw/pg.h"
#include "gw/server.h"

namespace gw {

std::optional<bool> DecisionCache::Get(const std::string& key, Clock::time_point now) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.expires <= now) return std::nullopt;
  return it->second.allow;
}

void DecisionCache::Put(const std::string& key, bool allow, Clock::time_point now) {
  if (ttl_.count() <= 0 || capacity_ == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = entries_.find(key); it != entries_.end()) {
    order_.erase(it->second.order);
    entries_.erase(it);
  }
  // Expired decisions first, then the oldest: the cache never outgrows its bound.
  while (!order_.empty() && (entries_.size() >= capacity_ || entries_.at(order_.front()).expires <= now)) {
    entries_.erase(order_.front());
    order_.pop_front();
  }
  order_.push_back(key);
  entries_.emplace(key, Entry{allow, now + ttl_, std::prev(order_.end())});
}

size_t DecisionCache::size() {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

std::string DecisionKey(std::string_view claims_json, std::string_view store_id, Access access) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(claims_json.data(), claims_json.size(), digest, &len, EVP_sha256(), nullptr);
  std::string key(reinterpret_cast<char*>(digest), len);
  key += access == Access::kRead ? 'r' : 'w';
  key.append(store_id.data(), store_id.size());
  return key;
}

std::string AuthorizeSql(const std::string& name) { return "SELECT " + name + "($1::jsonb, $2::text, $3::text)"; }

Decision AuthorizeInSql(Server& s, const std::string& claims_json, const std::string& store_id, Access access,
                        std::string* error) {
  const std::string key = DecisionKey(claims_json, store_id, access);
  const auto now = DecisionCache::Clock::now();
  if (auto hit = s.decisions().Get(key, now)) {
    s.metrics().AuthorizeCacheHit();
    return *hit ? Decision::kAllow : Decision::kDeny;
  }
  const char* access_text = access == Access::kRead ? "read" : "write";
  PgError err;
  auto res = s.db().Exec(Stmt::kAuthorize, {claims_json.c_str(), store_id.c_str(), access_text}, &err);
  if (!res) {
    s.metrics().AuthorizeCall(2);
    s.metrics().DatabaseError();
    *error = err.sqlstate + " " + err.message;
    LogError("authorization of %s access to store %s: %s", access_text, store_id.c_str(), error->c_str());
    // Transient (Postgres away, a timeout, too many connections) or not.
    const bool transient = err.connection_lost() || err.sqlstate == "57014" || err.sqlstate.rfind("53", 0) == 0 ||
                           err.sqlstate == "40001" || err.sqlstate == "40P01";
    return transient ? Decision::kUnavailable : Decision::kFailed;
  }
  const bool allow = PQntuples(res->get()) == 1 && !PQgetisnull(res->get(), 0, 0) &&
                     PQgetvalue(res->get(), 0, 0)[0] == 't';
  s.metrics().AuthorizeCall(allow ? 0 : 1);
  s.decisions().Put(key, allow, now);
  return allow ? Decision::kAllow : Decision::kDeny;
}

std::string CheckAuthorizeFunction(const std::string& database_url, const std::string& name) {
  PGconn* conn = PQconnectdb(database_url.c_str());
  std::string problem;
  if (PQstatus(conn) != CONNECTION_OK) {
    LogError("--authorize-function %s: not checked at start (%s)", name.c_str(), PQerrorMessage(conn));
  } else {
    const std::string sig = name + "(jsonb,text,text)";
    const char* params[] = {sig.c_str()};
    PgResult r(PQexecParams(conn,
                            "SELECT to_regprocedure($1) IS NOT NULL, "
                            "(SELECT prorettype = 'boolean'::regtype FROM pg_proc WHERE oid = to_regprocedure($1)), "
                            "CASE WHEN to_regprocedure($1) IS NULL THEN false "
                            "ELSE has_function_privilege(to_regprocedure($1), 'EXECUTE') END",
                            1, nullptr, params, nullptr, nullptr, 0));
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK)
      problem = std::string("cannot check it: ") + PQerrorMessage(conn);
    else if (PQgetvalue(r.get(), 0, 0)[0] != 't')
      problem = "no function " + sig + " in the database";
    else if (PQgetvalue(r.get(), 0, 1)[0] != 't')
      problem = sig + " does not return boolean";
    else if (PQgetvalue(r.get(), 0, 2)[0] != 't')
      problem = "the gateway's role may not execute " + sig;
  }
  PQfinish(conn);
  return problem.empty() ? "" : "--authorize-function " + name + ": " + problem;
}

}  // namespace gw
