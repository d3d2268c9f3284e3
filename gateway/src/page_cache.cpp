#include "gw/page_cache.h"

namespace gw {

bool PageFlight::Wait(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return done_; });
}

void PageFlight::Finish() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
  }
  cv_.notify_all();
}

PageCache& PageCache::Shared() {
  static PageCache cache;
  return cache;
}

void PageCache::SetBudget(size_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  budget_ = bytes;
  while (full_bytes_ > budget_ && !lru_.empty()) {
    auto it = full_.find(lru_.back());
    full_bytes_ -= it->second.page->items.size();
    full_.erase(it);
    lru_.pop_back();
  }
}

PageCache::Lookup PageCache::Find(const std::string& key, uint64_t seq) {
  Lookup out;
  std::lock_guard<std::mutex> lock(mu_);
  auto f = full_.find(key);
  if (f != full_.end()) {
    lru_.splice(lru_.begin(), lru_, f->second.lru);
    out.page = f->second.page;
    return out;
  }
  auto h = head_.find(key);
  if (h != head_.end() && h->second.seq == seq && Clock::now() - h->second.at <= kHeadTtl) {
    out.page = h->second.page;
    return out;
  }
  out.leader = true;
  if (budget_ == 0) return out;
  const std::string fkey = key + '#' + std::to_string(seq);
  auto it = flights_.find(fkey);
  if (it != flights_.end()) {
    it->second->followers_++;
    out.flight = it->second;
    out.leader = false;
    return out;
  }
  out.flight = std::make_shared<PageFlight>();
  if (seen_.size() > 100000) seen_.clear();
  out.flight->again_ = !seen_.insert(key).second;
  flights_.emplace(fkey, out.flight);
  return out;
}

void PageCache::PutFull(const std::string& key, std::shared_ptr<const Page> page) {
  const size_t size = page->items.size();
  if (size > budget_ || full_.count(key)) return;
  while (full_bytes_ + size > budget_ && !lru_.empty()) {
    auto it = full_.find(lru_.back());
    full_bytes_ -= it->second.page->items.size();
    full_.erase(it);
    lru_.pop_back();
  }
  lru_.push_front(key);
  full_.emplace(key, Full{std::move(page), lru_.begin()});
  full_bytes_ += size;
  seen_.erase(key);
}

void PageCache::Done(const std::string& key, uint64_t seq, const std::shared_ptr<PageFlight>& flight,
                     std::shared_ptr<const Page> page, bool full) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (page && full && flight && (flight->followers_ > 0 || flight->again_)) {
      PutFull(key, page);
    } else if (page && !full) {
      if (head_bytes_ > kHeadMaxBytes || head_.size() > 10000) {
        head_.clear();
        head_bytes_ = 0;
      }
      auto old = head_.find(key);
      if (old != head_.end()) head_bytes_ -= old->second.page->items.size();
      head_bytes_ += page->items.size();
      head_[key] = Head{seq, Clock::now(), std::move(page)};
    }
    if (flight) {
      auto it = flights_.find(key + '#' + std::to_string(seq));
      if (it != flights_.end() && it->second == flight) flights_.erase(it);
    }
  }
  if (flight) flight->Finish();
}

size_t PageCache::full_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return full_bytes_;
}

size_t PageCache::full_pages() const {
  std::lock_guard<std::mutex> lock(mu_);
  return full_.size();
}

}  // namespace gw
