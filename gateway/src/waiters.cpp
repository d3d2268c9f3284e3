#include "gw/waiters.h"

namespace gw {

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

void Waiters::ResumeLocked(Waiter* w, bool expired) {
  // Callers erase w from both indexes first.
  w->suspended = false;
  w->expired = w->expired || expired;
  MHD_resume_connection(w->conn);
}

void Waiters::Notify(const std::string& table, int32_t head) {
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
    ResumeLocked(w, false);
  }
}

void Waiters::WakeAll() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [table, w] : by_table_) {
    seq_.try_emplace(table, 0);
    ResumeLocked(w, false);
  }
  for (auto& [table, n] : seq_) n++;  // every table counts as notified
  by_table_.clear();
  by_deadline_.clear();
}

Clock::time_point Waiters::ExpireDue(Clock::time_point now) {
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
    ResumeLocked(w, true);
  }
  return by_deadline_.empty() ? now + std::chrono::seconds(1) : by_deadline_.begin()->first;
}

void Waiters::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  for (auto& [table, w] : by_table_) ResumeLocked(w, true);
  by_table_.clear();
  by_deadline_.clear();
}

size_t Waiters::size() {
  std::lock_guard<std::mutex> lock(mu_);
  return by_table_.size();
}

}  // namespace gw
