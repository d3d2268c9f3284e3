// Tells other gateways on the same database that a store advanced, off the
// push's path: the push route records the store and replies at once; one
// thread with its own connection calls livestore.announce() for the stores
// that advanced every few milliseconds, in one asynchronously committed
// transaction (so Postgres's notification lock is never held through a WAL
// flush).
#pragma once
#include <condition_variable>
#include <set>
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
  void Announce(const std::string& store_id);

 private:
  void Loop();
  std::string conninfo_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> pending_;  // stores that advanced
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace gw
