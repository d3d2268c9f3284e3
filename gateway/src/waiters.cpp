#include "gw/waiters.h"

namespace gw {

// Waking is split in two: under mu_ the waiters are taken out of the indexes
// and marked (so that no one else can resume them, and their handlers see
// `expired` once they run); then, with mu_ released, their connections are
// resumed. A thousand MHD_resume_connection calls (each a lock and an
// eventfd write in libmicrohttpd) no longer stall every worker thread that
// needs Seq() or Suspend() meanwhile. A connection taken out stays suspended
// (libmicrohttpd neither reads nor closes it) until it is resumed here.

uint64_t Waiters::Seq(const std::string& table) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = seq_.find(table);
  return it == seq_.end() ? 0 : it->second;
}

bool Waiters::Suspend(Waiter* w, uint64_t seen_seq) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return false;
  auto it = seq_.find(w->table);
  if ((it == seq_.end() ? 0 : it->second) != seen_seq) return false;
  if (Clock::now() >= w->deadline) {
    w->expired = true;
    return false;
  }
  by_table_.emplace(w->table, w);
  by_deadline_.emplace(w->deadline, w);
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

void Waiters::Resume(const std::vector<MHD_Connection*>& conns) {
  for (MHD_Connection* c : conns) MHD_resume_connection(c);
}

void Waiters::Notify(const std::string& table, int32_t head) {
  std::vector<MHD_Connection*> woken;
  {
    std::lock_guard<std::mutex> lock(mu_);
    seq_[table]++;
    auto [lo, hi] = by_table_.equal_range(table);
    for (auto it = lo; it != hi;) {
      Waiter* w = it->second;
      if (head >= 0 && w->after >= head) {  // already has everything up to head
        ++it;
        continue;
      }
      it = by_table_.erase(it);
      by_deadline_.erase({w->deadline, w});
      TakeLocked(w, false, &woken);
    }
  }
  Resume(woken);
}

void Waiters::WakeAll() {
  std::vector<MHD_Connection*> woken;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [table, w] : by_table_) {
      seq_.try_emplace(table, 0);
      TakeLocked(w, false, &woken);
    }
    for (auto& [table, n] : seq_) n++;  // every table counts as notified
    by_table_.clear();
    by_deadline_.clear();
  }
  Resume(woken);
}

Clock::time_point Waiters::ExpireDue(Clock::time_point now) {
  std::vector<MHD_Connection*> woken;
  Clock::time_point next;
  {
    std::lock_guard<std::mutex> lock(mu_);
    while (!by_deadline_.empty() && by_deadline_.begin()->first <= now) {
      Waiter* w = by_deadline_.begin()->second;
      by_deadline_.erase(by_deadline_.begin());
      auto [lo, hi] = by_table_.equal_range(w->table);
      for (auto it = lo; it != hi; ++it)
        if (it->second == w) {
          by_table_.erase(it);
          break;
        }
      TakeLocked(w, true, &woken);
    }
    next = by_deadline_.empty() ? now + std::chrono::seconds(1) : by_deadline_.begin()->first;
  }
  Resume(woken);
  return next;
}

void Waiters::Close() {
  std::vector<MHD_Connection*> woken;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    for (auto& [table, w] : by_table_) TakeLocked(w, true, &woken);
    by_table_.clear();
    by_deadline_.clear();
  }
  Resume(woken);
}

size_t Waiters::size() {
  std::lock_guard<std::mutex> lock(mu_);
  return by_table_.size();
}

}  // namespace gw
