#include "gw/page_prefetch.h"

#include <memory>

#include "gw/log.h"
#include "gw/server.h"

namespace gw {
namespace {

// At most one prefetch per store handle is queued or running.
std::string BusyKey(const PageSource& src) { return src.table + '/' + src.handle; }

}  // namespace

void PagePrefetcher::Start(int threads) {
  std::lock_guard<std::mutex> lock(mu_);
  stop_ = false;
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

void PagePrefetcher::Stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    queue_.clear();
    threads.swap(threads_);
  }
  cv_.notify_all();
  for (auto& t : threads) t.join();
  std::lock_guard<std::mutex> lock(mu_);
  busy_.clear();
}

void PagePrefetcher::Request(const PageSource& src, int32_t after, int page_events) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ || threads_.empty() || queue_.size() >= kMaxQueue) return;
    if (!busy_.insert(BusyKey(src)).second) return;
    queue_.push_back({src, after, page_events});
  }
  cv_.notify_one();
}

void PagePrefetcher::Loop() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    Built b;
    try {
      b = Build(job);
    } catch (const std::exception& e) {
      LogError("page prefetch of store %s: %s", job.src.store_id.c_str(), e.what());
      b.page = nullptr;  // its followers read the page themselves
    }
    // A request already waits for this page: the client is waiting on
    // Postgres, so read the page after it right away (still one at a time
    // for this store, one page ahead of what the client asked for).
    const bool waited_for = b.page && b.full && b.page->more && PageCache::Shared().Followers(b.flight) > 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (waited_for && !stop_) {
        queue_.push_front({job.src, b.page->last_seq, job.page_events});
      } else {
        // Free for the next prefetch before the page is handed over: the
        // request waiting for it asks for the one after it at once.
        busy_.erase(BusyKey(job.src));
      }
    }
    if (b.flight) PageCache::Shared().Done(b.key, b.seq, b.flight, b.page, b.full);
  }
}

PagePrefetcher::Built PagePrefetcher::Build(const Job& job) {
  Server& s = *server_;
  Built b;
  b.key = PageKey(job.src, job.after, job.page_events);
  b.seq = s.waiters().Seq(job.src.table);  // before the query, as a request reads it
  PageCache::Lookup got = PageCache::Shared().FindForPrefetch(b.key, b.seq);
  if (!got.leader) return b;  // cached, being built, or sharing off
  b.flight = got.flight;
  auto page = std::make_shared<Page>();
  PgError err;
  if (!ReadPage(s, job.src, job.after, job.page_events, page.get(), &err)) {
    LogError("page prefetch of store %s: %s %s", job.src.store_id.c_str(), err.sqlstate.c_str(), err.message.c_str());
    return b;
  }
  s.metrics().PagePrefetch();
  b.full = page->events >= job.page_events;
  b.page = std::move(page);
  return b;
}

}  // namespace gw
