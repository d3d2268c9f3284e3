#include "gw/waiters.h"

#include <algorithm>

namespace gw {

// Waking is split in two: under a shard's mutex its waiters are taken out of
// the indexes and marked (so that no one else can resume them, and their
// handlers see `expired` once they run); then, with the mutex released, their
// connections are resumed. A thousand MHD_resume_connection calls (each a
// lock and an eventfd write in libmicrohttpd) do not stall the worker threads
// that need Seq() or Suspend() meanwhile. A connection taken out stays
// suspended (libmicrohttpd neither reads nor closes it) until it is resumed
// here.
//
// Why a notification cannot be lost between shards: Notify bumps the count
// first, then sweeps every shard; Suspend reads the count and registers while
// holding its shard's mutex. Either Suspend read the count before the bump
// (then it registered before the sweep of its shard could take that mutex,
// and the sweep finds it), or after (then the count differs from what its
// caller read before querying, and it is not suspended).

namespace {
std::atomic<size_t> g_next_shard{0};
}  // namespace

Waiters::Shard& Waiters::Mine() {
  thread_local const size_t index = g_next_shard.fetch_add(1) % kShards;
  return shards_[index];
}

uint64_t Waiters::SeqLocked(const std::string& table) {
  auto it = seq_.find(table);
  return it == seq_.end() ? 0 : it->second;
}

uint64_t Waiters::Seq(const std::string& table) {
  std::shared_lock<std::shared_mutex> lock(seq_mu_);
  return SeqLocked(table);
}

bool Waiters::Suspend(Waiter* w, uint64_t seen_seq) {
  Shard& sh = Mine();
  std::lock_guard<std::mutex> lock(sh.mu);
  if (closed_.load()) return false;
  {
    std::shared_lock<std::shared_mutex> seq_lock(seq_mu_);
    if (SeqLocked(w->table) != seen_seq) return false;
  }
  if (Clock::now() >= w->deadline) {
    w->expired = true;
    return false;
  }
  sh.by_table.emplace(w->table, w);
  sh.by_deadline.emplace(w->deadline, w);
  w->suspended = true;
  MHD_suspend_connection(w->conn);
  return true;
}

void Waiters::TakeLocked(Waiter* w, bool expired, std::vector<MHD_Connection*>* out) {
  // Callers erase w from both indexes first. w may be freed as soon as its
  // connection runs again: only the connection is kept.
  w->suspended = false;
  w->expired = w->expired || expired;
  out->push_back(w->conn);
}

void Waiters::TakeAllLocked(Shard& sh, bool expired, std::vector<MHD_Connection*>* out) {
  for (auto& [table, w] : sh.by_table) TakeLocked(w, expired, out);
  sh.by_table.clear();
  sh.by_deadline.clear();
}

void Waiters::Resume(const std::vector<MHD_Connection*>& conns) {
  for (MHD_Connection* c : conns) MHD_resume_connection(c);
}

void Waiters::Notify(const std::string& table, int32_t head) {
  {
    std::unique_lock<std::shared_mutex> lock(seq_mu_);
    seq_[table]++;
  }
  std::vector<MHD_Connection*> woken;
  for (Shard& sh : shards_) {
    woken.clear();
    {
      std::lock_guard<std::mutex> lock(sh.mu);
      auto [lo, hi] = sh.by_table.equal_range(table);
      for (auto it = lo; it != hi;) {
        Waiter* w = it->second;
        if (head >= 0 && w->after >= head) {  // already has everything up to head
          ++it;
          continue;
        }
        it = sh.by_table.erase(it);
        sh.by_deadline.erase({w->deadline, w});
        TakeLocked(w, false, &woken);
      }
    }
    Resume(woken);  // this shard's thread starts answering while the next is swept
  }
}

void Waiters::WakeAll() {
  // Every table with a waiter gets a count (so a Suspend racing with this
  // one sees it change), then every count is bumped, then all are taken.
  std::vector<std::string> tables;
  for (Shard& sh : shards_) {
    std::lock_guard<std::mutex> lock(sh.mu);
    for (auto& [table, w] : sh.by_table) tables.push_back(table);
  }
  {
    std::unique_lock<std::shared_mutex> lock(seq_mu_);
    for (const std::string& t : tables) seq_.try_emplace(t, 0);
    for (auto& [table, n] : seq_) n++;  // every table counts as notified
  }
  std::vector<MHD_Connection*> woken;
  for (Shard& sh : shards_) {
    std::lock_guard<std::mutex> lock(sh.mu);
    TakeAllLocked(sh, false, &woken);
  }
  Resume(woken);
}

Clock::time_point Waiters::ExpireDue(Clock::time_point now) {
  std::vector<MHD_Connection*> woken;
  Clock::time_point next = Clock::time_point::max();
  for (Shard& sh : shards_) {
    std::lock_guard<std::mutex> lock(sh.mu);
    while (!sh.by_deadline.empty() && sh.by_deadline.begin()->first <= now) {
      Waiter* w = sh.by_deadline.begin()->second;
      sh.by_deadline.erase(sh.by_deadline.begin());
      auto [lo, hi] = sh.by_table.equal_range(w->table);
      for (auto it = lo; it != hi; ++it)
        if (it->second == w) {
          sh.by_table.erase(it);
          break;
        }
      TakeLocked(w, true, &woken);
    }
    if (!sh.by_deadline.empty()) next = std::min(next, sh.by_deadline.begin()->first);
  }
  Resume(woken);
  return next == Clock::time_point::max() ? now + std::chrono::seconds(1) : next;
}

void Waiters::Close() {
  closed_.store(true);  // before the sweep: see Suspend
  std::vector<MHD_Connection*> woken;
  for (Shard& sh : shards_) {
    std::lock_guard<std::mutex> lock(sh.mu);
    TakeAllLocked(sh, true, &woken);
  }
  Resume(woken);
}

size_t Waiters::size() {
  size_t n = 0;
  for (Shard& sh : shards_) {
    std::lock_guard<std::mutex> lock(sh.mu);
    n += sh.by_table.size();
  }
  return n;
}

}  // namespace gw
