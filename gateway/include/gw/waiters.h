// Held live pulls (built-in mode). A waiter is registered and its connection
// suspended under one mutex, after checking that no notification for its
// table arrived since the caller's query; the LISTEN thread, the deadline
// timer and shutdown take it out of the registry exactly once under the same
// mutex, and resume its connection after releasing it.
#pragma once
#include <microhttpd.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace gw {

using Clock = std::chrono::steady_clock;

struct Waiter {
  MHD_Connection* conn = nullptr;
  std::string table;
  int32_t after = -1;  // woken only by heads beyond this (-1: by any)
  Clock::time_point deadline;
  bool suspended = false;  // guarded by Waiters::mu_
  bool expired = false;    // set when the deadline (or shutdown) resumed it
};

class Waiters {
 public:
  // Notification count of `table`; read before querying.
  uint64_t Seq(const std::string& table);
  // Suspends w->conn unless `table` was notified since `seen_seq` or the
  // registry is closed. Returns true when suspended. Call from the access
  // handler of w->conn only.
  bool Suspend(Waiter* w, uint64_t seen_seq);
  // `table` advanced to `head` (-1: unknown, wake every waiter of it).
  void Notify(const std::string& table, int32_t head);
  // Resumes everything (LISTEN reconnect: notifications may have been lost).
  void WakeAll();
  // Resumes waiters whose deadline passed; returns the next deadline.
  Clock::time_point ExpireDue(Clock::time_point now);
  // Shutdown: resume all, refuse new ones.
  void Close();
  size_t size();

 private:
  // Marks w woken and keeps its connection for Resume (under mu_).
  void TakeLocked(Waiter* w, bool expired, std::vector<MHD_Connection*>* out);
  // Resumes connections taken out of the indexes (without mu_).
  static void Resume(const std::vector<MHD_Connection*>& conns);
  std::mutex mu_;
  bool closed_ = false;
  std::unordered_map<std::string, uint64_t> seq_;
  std::multimap<std::string, Waiter*> by_table_;
  std::set<std::pair<Clock::time_point, Waiter*>> by_deadline_;
};

}  // namespace gw
