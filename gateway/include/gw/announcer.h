// Tells other gateways on the same database that a store advanced, off the
// push's path: the push route records (store, head) and replies at once;
// one thread with its own connection sends the latest head of each store
// every few milliseconds, all in one asynchronously committed transaction
// (so Postgres's notification lock is never held through a WAL flush).
#pragma once
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace gw {

class Announcer {
 public:
  explicit Announcer(std::string conninfo) : conninfo_(std::move(conninfo)) {}
  ~Announcer() { Stop(); }
  void Start();
  void Stop();
  void Announce(const std::string& store_id, const std::string& table, int32_t head);

 private:
  void Loop();
  std::string conninfo_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::pair<std::string, int32_t>> pending_;  // store -> (table, head)
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace gw
