#include "gw/announcer.h"

#include <chrono>
#include <vector>

#include "gw/log.h"
#include "gw/pg.h"

namespace gw {

void Announcer::Start() { thread_ = std::thread([this] { Loop(); }); }

void Announcer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Announcer::Announce(const std::string& store_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.insert(store_id);
  }
  cv_.notify_one();
}

void Announcer::Loop() {
  PGconn* conn = nullptr;
  for (;;) {
    std::set<std::string> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !pending_.empty(); });
      if (stop_ && pending_.empty()) break;
      batch.swap(pending_);
    }
    // A text[] literal; store ids are [A-Za-z0-9_-] and need no quoting.
    std::string array = "{";
    for (const std::string& store : batch) {
      if (array.size() > 1) array += ',';
      array += store;
    }
    array += "}";
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
        if (conn) PQfinish(conn);
        conn = PQconnectdb(conninfo_.c_str());
        PgResult set(PQexec(conn, "SET application_name = 'livestore-gateway'; SET synchronous_commit = off"));
        if (PQresultStatus(set.get()) != PGRES_COMMAND_OK) continue;
      }
      const char* params[1] = {array.c_str()};
      // announce() sends the current head with append()'s payload; a store
      // dropped meanwhile is skipped rather than failing the whole round.
      PgResult r(PQexecParams(conn,
                              "SELECT livestore.announce(s) FROM pg_catalog.unnest($1::text[]) s "
                              "WHERE livestore.head(s) IS NOT NULL",
                              1, nullptr, params, nullptr, nullptr, 0));
      if (PQresultStatus(r.get()) == PGRES_TUPLES_OK) break;
      LogError("announcing heads failed: %s", PQerrorMessage(conn));
    }
    // Coalesce what arrives meanwhile: at most ~200 announcement rounds/s.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (conn) PQfinish(conn);
}

}  // namespace gw
