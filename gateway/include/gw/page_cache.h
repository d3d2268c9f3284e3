// gw::PageCache: built-in pull pages shared between requests.
// - Head pages (fewer events than a page holds) change with the next append:
//   kept for the table's notification count they were read under, and 2 s
//   (when one append wakes a thousand held polls, one query serves them all).
// - Full pages never change for a given table, handle and offset: kept under
//   a byte budget (--page-cache-mb), least recently used evicted first. A page
//   built once waits in a small probation list (an eighth of the budget) and
//   moves to the main list when asked for again (or when several requests
//   wanted it at once): one reader paging through a big log only churns the
//   probation list.
// - Single flight: concurrent requests for the same page under the same
//   notification count make one query; the others wait for its result
//   (bounded: PageFlight::Wait), then build the page themselves if it failed.
// - Prefetched pages (gw/page_prefetch.h) are built before anyone asked: a
//   prefetch's lookup is no use of a page, and a page it built waits in the
//   probation list unclaimed, so that the request it was built for is its
//   first use (a second one moves it to the main list, as for any page).
// A budget of 0 turns full pages and single flight off (head pages stay).
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace gw {

struct Page {
  int events = 0;
  int32_t last_seq = 0;
  bool more = false;  // the log went on after this page when it was read
  std::string items;  // comma-joined insert messages
};

class PageFlight {
 public:
  // True once the leader finished (with or without a page) within `timeout`.
  bool Wait(std::chrono::milliseconds timeout);
  void Finish();

 private:
  friend class PageCache;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  int followers_ = 0;      // under PageCache's lock
  bool prefetch_ = false;  // led by a prefetch, not by a request (set before it is shared)
};

class PageCache {
 public:
  using Clock = std::chrono::steady_clock;
  struct Lookup {
    std::shared_ptr<const Page> page;      // a hit
    std::shared_ptr<PageFlight> flight;    // else: the query in flight
    bool leader = false;                   // this caller makes the query
  };
  PageCache() { SetBudget(32u << 20); }
  static PageCache& Shared();

  void SetBudget(size_t bytes);
  // A hit, or the flight to lead or to wait for (no flight when sharing is off:
  // leader with a null flight).
  Lookup Find(const std::string& key, uint64_t seq);
  // For a prefetch: leader (with a flight) only when the page is neither
  // cached nor being built, and sharing is on. Touches nothing else: no use
  // of a cached page, no follower of a flight.
  Lookup FindForPrefetch(const std::string& key, uint64_t seq);
  // The leader's result (null page: the query failed); wakes the followers.
  void Done(const std::string& key, uint64_t seq, const std::shared_ptr<PageFlight>& flight,
            std::shared_ptr<const Page> page, bool full);

  // Requests waiting for a flight now.
  int Followers(const std::shared_ptr<PageFlight>& flight) const;

  size_t full_bytes() const;
  size_t full_pages() const;

 private:
  static constexpr auto kHeadTtl = std::chrono::seconds(2);
  static constexpr size_t kHeadMaxBytes = 64u << 20;
  struct Head {
    uint64_t seq;
    Clock::time_point at;
    std::shared_ptr<const Page> page;
  };
  // Full pages, least recently used evicted first under a byte budget.
  class Lru {
   public:
    std::shared_ptr<const Page> Get(const std::string& key);   // and marks it used
    std::shared_ptr<const Page> Take(const std::string& key);  // and removes it
    // Marks a page put unclaimed used (returns it); null if absent or claimed.
    std::shared_ptr<const Page> Claim(const std::string& key);
    bool Has(const std::string& key) const { return map_.count(key) != 0; }
    void Put(const std::string& key, std::shared_ptr<const Page> page, bool unclaimed = false);
    void Shrink(size_t budget);
    size_t budget = 0, bytes = 0;
    size_t size() const { return map_.size(); }

   private:
    struct Entry {
      std::shared_ptr<const Page> page;
      std::list<std::string>::iterator at;
      bool unclaimed = false;  // prefetched, not asked for yet
    };
    std::unordered_map<std::string, Entry> map_;
    std::list<std::string> order_;  // most recently used first
  };

  mutable std::mutex mu_;
  std::unordered_map<std::string, Head> head_;
  size_t head_bytes_ = 0;
  Lru main_, probation_;
  std::unordered_map<std::string, std::shared_ptr<PageFlight>> flights_;
};

}  // namespace gw
