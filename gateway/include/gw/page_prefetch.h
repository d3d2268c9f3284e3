// gw::PagePrefetcher: reads the next page of a log while the client still
// receives the current one. A client catching up pages through a log one
// request at a time, so without it Postgres reads a page only after the client
// asked, and sits idle while the gateway sends it and the client parses it.
// When a pull is answered with a full page after which the log goes on, the
// page after it is built on a prefetch thread (its own database connection,
// never a request thread's) into the page cache, where the client's next
// request finds it (or waits for it, as for any page being built).
// Bounded: one prefetch queued or running per store handle, a short queue
// (prefetches that find it full are dropped), one page ahead of the client:
// the page after a page served, or, when a request already waits for the
// page a prefetch reads (the client is waiting on Postgres), the page after
// that one; never past the head (the page read shows whether events follow),
// only pages that fit the page cache (--page-cache-mb 0 turns it off). A page that comes back
// short is the head page: cached under its notification count like any head
// page. A failed prefetch caches nothing: the request builds the page itself.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "gw/page_read.h"

namespace gw {

class Server;

class PagePrefetcher {
 public:
  explicit PagePrefetcher(Server* server) : server_(server) {}
  ~PagePrefetcher() { Stop(); }
  // `threads` prefetch threads (0: prefetching off).
  void Start(int threads);
  // Waits for the prefetches running now; drops the queued ones.
  void Stop();
  // The page of `page_events` events after `after` in src's log, soon.
  void Request(const PageSource& src, int32_t after, int page_events);
  bool enabled() const { return !threads_.empty(); }

 private:
  static constexpr size_t kMaxQueue = 64;
  struct Job {
    PageSource src;
    int32_t after;
    int page_events;
  };
  // A prefetch's page, for the cache (no flight: nothing to do).
  struct Built {
    std::string key;
    uint64_t seq = 0;
    std::shared_ptr<PageFlight> flight;
    std::shared_ptr<const Page> page;  // null: failed
    bool full = false;
  };
  void Loop();
  Built Build(const Job& job);

  Server* server_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  std::unordered_set<std::string> busy_;  // table/handle of every job queued or running
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace gw
