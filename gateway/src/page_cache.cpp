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

std::shared_ptr<const Page> PageCache::Lru::Get(const std::string& key) {
  auto it = map_.find(key);
  if (it == map_.end()) return nullptr;
  order_.splice(order_.begin(), order_, it->second.at);
  return it->second.page;
}

std::shared_ptr<const Page> PageCache::Lru::Claim(const std::string& key) {
  auto it = map_.find(key);
  if (it == map_.end() || !it->second.unclaimed) return nullptr;
  it->second.unclaimed = false;
  order_.splice(order_.begin(), order_, it->second.at);
  return it->second.page;
}

std::shared_ptr<const Page> PageCache::Lru::Take(const std::string& key) {
  auto it = map_.find(key);
  if (it == map_.end()) return nullptr;
  auto page = std::move(it->second.page);
  bytes -= page->items.size();
  order_.erase(it->second.at);
  map_.erase(it);
  return page;
}

void PageCache::Lru::Put(const std::string& key, std::shared_ptr<const Page> page, bool unclaimed) {
  const size_t size = page->items.size();
  if (size > budget || map_.count(key)) return;
  Shrink(budget - size);
  order_.push_front(key);
  map_.emplace(key, Entry{std::move(page), order_.begin(), unclaimed});
  bytes += size;
}

void PageCache::Lru::Shrink(size_t to) {
  while (bytes > to && !order_.empty()) Take(order_.back());
}

void PageCache::SetBudget(size_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  main_.budget = bytes - bytes / 8;
  probation_.budget = bytes / 8;
  main_.Shrink(main_.budget);
  probation_.Shrink(probation_.budget);
}

PageCache::Lookup PageCache::Find(const std::string& key, uint64_t seq) {
  Lookup out;
  std::lock_guard<std::mutex> lock(mu_);
  if ((out.page = main_.Get(key))) return out;
  if ((out.page = probation_.Claim(key))) return out;  // prefetched: this is its first use
  if ((out.page = probation_.Take(key))) {  // wanted again: keep it for good
    main_.Put(key, out.page);
    return out;
  }
  auto h = head_.find(key);
  if (h != head_.end() && h->second.seq == seq && Clock::now() - h->second.at <= kHeadTtl) {
    out.page = h->second.page;
    return out;
  }
  out.leader = true;
  if (main_.budget + probation_.budget == 0) return out;
  const std::string fkey = key + '#' + std::to_string(seq);
  auto it = flights_.find(fkey);
  if (it != flights_.end()) {
    it->second->followers_++;
    out.flight = it->second;
    out.leader = false;
    return out;
  }
  out.flight = std::make_shared<PageFlight>();
  flights_.emplace(fkey, out.flight);
  return out;
}

PageCache::Lookup PageCache::FindForPrefetch(const std::string& key, uint64_t seq) {
  Lookup out;
  std::lock_guard<std::mutex> lock(mu_);
  if (main_.budget + probation_.budget == 0 || main_.Has(key) || probation_.Has(key)) return out;
  auto h = head_.find(key);
  if (h != head_.end() && h->second.seq == seq && Clock::now() - h->second.at <= kHeadTtl) return out;
  const std::string fkey = key + '#' + std::to_string(seq);
  if (flights_.count(fkey)) return out;
  out.leader = true;
  out.flight = std::make_shared<PageFlight>();
  out.flight->prefetch_ = true;
  flights_.emplace(fkey, out.flight);
  return out;
}

void PageCache::Done(const std::string& key, uint64_t seq, const std::shared_ptr<PageFlight>& flight,
                     std::shared_ptr<const Page> page, bool full) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (page && full && flight && flight->prefetch_) {
      // Wanted by one request at most so far (which looks it up again):
      // unclaimed in probation; by several: for good.
      if (flight->followers_ > 1) main_.Put(key, page);
      else probation_.Put(key, page, true);
    } else if (page && full && flight) {
      (flight->followers_ > 0 ? main_ : probation_).Put(key, page);
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

int PageCache::Followers(const std::shared_ptr<PageFlight>& flight) const {
  std::lock_guard<std::mutex> lock(mu_);
  return flight ? flight->followers_ : 0;
}

size_t PageCache::full_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return main_.bytes + probation_.bytes;
}

size_t PageCache::full_pages() const {
  std::lock_guard<std::mutex> lock(mu_);
  return main_.size() + probation_.size();
}

}  // namespace gw
