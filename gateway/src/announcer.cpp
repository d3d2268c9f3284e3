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

void Announcer::Announce(const std::string& store_id, const std::string& table, int32_t head) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& entry = pending_[store_id];
    if (head > entry.second || entry.first.empty()) entry = {table, head};
  }
  cv_.notify_one();
}

void Announcer::Loop() {
  PGconn* conn = nullptr;
  for (;;) {
    std::map<std::string, std::pair<std::string, int32_t>> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !pending_.empty(); });
      if (stop_ && pending_.empty()) break;
      batch.swap(pending_);
    }
    // The payload is livestore.append()'s: ids and table names need no escaping.
    std::string array = "{";
    for (const auto& [store, entry] : batch) {
      if (array.size() > 1) array += ',';
      array += "\"{\\\"table\\\":\\\"" + entry.first + "\\\",\\\"store\\\":\\\"" + store + "\\\",\\\"head\\\":" +
               std::to_string(entry.second) + "}\"";
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
      PgResult r(PQexecParams(conn, "SELECT pg_catalog.pg_notify('livestore_events', p) FROM pg_catalog.unnest($1::text[]) p",
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
