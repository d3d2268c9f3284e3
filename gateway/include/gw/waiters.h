// Held live pulls (built-in mode). A waiter is registered and its connection
// suspended under its shard's mutex, after checking that no notification for
// its table arrived since the caller's query; the LISTEN thread, the deadline
// timer and shutdown take it out of the registry exactly once under the same
// mutex, and resume its connection after releasing it.
//
// The registry is split in shards, one per worker thread (a thread always
// registers in its own): one push wakes a thousand readers spread over every
// worker thread, and each of them, once answered, asks again and is held
// again. Under one mutex those threads queued behind each other (perf of the
// gateway at 1,000 readers: 2.8 futex calls per delivery, most of them this
// mutex's). The notification counts are one table for all shards, read under
// a shared lock.
#pragma once
#include <microhttpd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
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
  bool suspended = false;  // guarded by its shard's mutex
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
  static constexpr size_t kShards = 32;  // --threads' default cap: each worker a shard of its own (more share)
  struct Shard {
    std::mutex mu;
    std::multimap<std::string, Waiter*> by_table;
    std::set<std::pair<Clock::time_point, Waiter*>> by_deadline;
  };
  // The calling thread's shard.
  Shard& Mine();
  uint64_t SeqLocked(const std::string& table);  // under seq_mu_ (shared or not)
  // Marks w woken and keeps its connection for Resume (under its shard's mu).
  static void TakeLocked(Waiter* w, bool expired, std::vector<MHD_Connection*>* out);
  // Every waiter of `sh`, taken (under sh.mu).
  static void TakeAllLocked(Shard& sh, bool expired, std::vector<MHD_Connection*>* out);
  // Resumes connections taken out of the indexes (without any mutex).
  static void Resume(const std::vector<MHD_Connection*>& conns);
  // Lock order: a shard's mu, then seq_mu_ (never a shard's mu under seq_mu_).
  std::shared_mutex seq_mu_;
  std::unordered_map<std::string, uint64_t> seq_;
  std::atomic<bool> closed_{false};
  std::array<Shard, kShards> shards_;
};

}  // namespace gw
