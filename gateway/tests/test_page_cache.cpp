// gw::PageCache: head pages per notification count, full pages under a byte
// budget (LRU, kept once wanted twice), single flight with a bounded wait,
// prefetched pages whose first use is the request they were built for.
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "gw/page_cache.h"
#include "test_support.h"

namespace {

std::shared_ptr<const gw::Page> MakePage(int events, size_t bytes) {
  auto p = std::make_shared<gw::Page>();
  p->events = events;
  p->last_seq = events;
  p->items.assign(bytes, 'x');
  return p;
}

// Leads the query for key and finishes it with page (as shape_log's Query does).
void Build(gw::PageCache& c, const std::string& key, uint64_t seq, std::shared_ptr<const gw::Page> page, bool full) {
  auto l = c.Find(key, seq);
  ASSERT_TRUE(l.leader);
  c.Done(key, seq, l.flight, page, full);
}

TEST(PageCache, FullPageServedAgainWhateverTheNotificationCount) {
  gw::PageCache c;
  Build(c, "t/h/0/10", 1, MakePage(10, 100), true);
  EXPECT_EQ(c.full_pages(), 1u);
  auto hit = c.Find("t/h/0/10", 99);  // a full page never changes
  ASSERT_TRUE(hit.page);
  EXPECT_EQ(hit.page->events, 10);
  EXPECT_TRUE(c.Find("t/h/0/10", 100).page);
  auto other = c.Find("t/other-handle/0/10", 99);  // the handle is part of the key
  EXPECT_FALSE(other.page);
  c.Done("t/other-handle/0/10", 99, other.flight, nullptr, true);
}

TEST(PageCache, OneReaderOnlyChurnsTheProbationList) {
  gw::PageCache c;
  c.SetBudget(800);  // main 700, probation 100
  for (int i = 0; i < 20; ++i) Build(c, "page" + std::to_string(i), 0, MakePage(10, 50), true);
  EXPECT_EQ(c.full_pages(), 2u);  // the two latest
  EXPECT_LE(c.full_bytes(), 100u);
  EXPECT_TRUE(c.Find("page19", 0).page);  // wanted again: moved to the main list
  for (int i = 20; i < 40; ++i) Build(c, "page" + std::to_string(i), 0, MakePage(10, 50), true);
  EXPECT_TRUE(c.Find("page19", 0).page);
}

TEST(PageCache, MainListEvictsLeastRecentlyUsedFirst) {
  gw::PageCache c;
  c.SetBudget(800);  // main 700
  for (const char* k : {"a", "b", "c"}) {
    Build(c, k, 0, MakePage(10, 300), true);  // too big for probation: not kept
    EXPECT_FALSE(c.Find(k, 0).page);
  }
  // Wanted by concurrent requests: straight to the main list.
  auto share = [&](const std::string& k) {
    auto l = c.Find(k, 0);
    auto f = c.Find(k, 0);
    ASSERT_FALSE(f.leader);
    c.Done(k, 0, l.flight, MakePage(10, 300), true);
  };
  share("a");
  share("b");
  EXPECT_TRUE(c.Find("a", 0).page);  // a is now the most recently used
  share("c");
  EXPECT_EQ(c.full_pages(), 2u);
  EXPECT_TRUE(c.Find("a", 0).page);
  EXPECT_TRUE(c.Find("c", 0).page);
  auto b = c.Find("b", 0);
  EXPECT_FALSE(b.page);
  c.Done("b", 0, b.flight, nullptr, true);
  c.SetBudget(400);
  EXPECT_EQ(c.full_pages(), 1u);
}

TEST(PageCache, HeadPageOnlyForItsNotificationCount) {
  gw::PageCache c;
  Build(c, "t/h/5/10", 3, MakePage(2, 50), false);
  EXPECT_TRUE(c.Find("t/h/5/10", 3).page);
  auto l = c.Find("t/h/5/10", 4);
  EXPECT_FALSE(l.page);
  EXPECT_TRUE(l.leader);
  c.Done("t/h/5/10", 4, l.flight, nullptr, false);
  EXPECT_EQ(c.full_pages(), 0u);
}

TEST(PageCache, ConcurrentRequestsFollowOneQuery) {
  gw::PageCache c;
  auto leader = c.Find("k", 1);
  ASSERT_TRUE(leader.leader);
  auto follower = c.Find("k", 1);
  EXPECT_FALSE(follower.leader);
  EXPECT_EQ(follower.flight, leader.flight);
  EXPECT_TRUE(c.Find("k", 2).leader);  // another notification count: another query
  std::thread t([&] { c.Done("k", 1, leader.flight, MakePage(10, 10), true); });
  EXPECT_TRUE(follower.flight->Wait(std::chrono::seconds(10)));
  t.join();
  auto hit = c.Find("k", 1);  // kept
  ASSERT_TRUE(hit.page);
  EXPECT_EQ(hit.page->events, 10);
}

TEST(PageCache, FollowersOfAFailedQueryLeadTheNextOne) {
  gw::PageCache c;
  auto leader = c.Find("k", 1);
  auto follower = c.Find("k", 1);
  EXPECT_FALSE(follower.flight->Wait(std::chrono::milliseconds(10)));  // bounded
  c.Done("k", 1, leader.flight, nullptr, true);
  EXPECT_TRUE(follower.flight->Wait(std::chrono::milliseconds(10)));
  auto again = c.Find("k", 1);
  EXPECT_FALSE(again.page);
  EXPECT_TRUE(again.leader);
}

TEST(PageCache, BudgetZeroSharesOnlyHeadPages) {
  gw::PageCache c;
  c.SetBudget(0);
  auto a = c.Find("k", 1), b = c.Find("k", 1);
  EXPECT_TRUE(a.leader);
  EXPECT_TRUE(b.leader);
  EXPECT_FALSE(a.flight);
  c.Done("k", 1, a.flight, MakePage(10, 10), true);
  c.Done("k", 1, b.flight, MakePage(10, 10), true);
  EXPECT_EQ(c.full_pages(), 0u);
  Build(c, "h", 1, MakePage(1, 10), false);
  EXPECT_TRUE(c.Find("h", 1).page);
}

// Leads a prefetch of key and finishes it with page (as gw::PagePrefetcher does).
void Prefetch(gw::PageCache& c, const std::string& key, uint64_t seq, std::shared_ptr<const gw::Page> page, bool full) {
  auto l = c.FindForPrefetch(key, seq);
  ASSERT_TRUE(l.leader);
  ASSERT_TRUE(l.flight);
  c.Done(key, seq, l.flight, page, full);
}

TEST(PageCache, APrefetchedPageIsUsedOnceBeforeItCountsAsWanted) {
  gw::PageCache c;
  c.SetBudget(800);  // main 700, probation 100
  Prefetch(c, "p", 0, MakePage(10, 50), true);
  EXPECT_EQ(c.full_pages(), 1u);
  EXPECT_TRUE(c.Find("p", 0).page);  // the request it was built for: still on probation
  Prefetch(c, "q", 0, MakePage(10, 50), true);
  Prefetch(c, "r", 0, MakePage(10, 50), true);  // probation holds two: p is evicted
  EXPECT_FALSE(c.FindForPrefetch("p", 0).flight == nullptr);
  // Used twice: kept in the main list, whatever is prefetched after it.
  EXPECT_TRUE(c.Find("q", 0).page);
  EXPECT_TRUE(c.Find("q", 0).page);
  for (int i = 0; i < 10; ++i) Prefetch(c, "s" + std::to_string(i), 0, MakePage(10, 50), true);
  EXPECT_TRUE(c.Find("q", 0).page);
}

TEST(PageCache, APrefetchLooksUpWithoutUsingOrFollowing) {
  gw::PageCache c;
  c.SetBudget(800);
  Build(c, "cached", 0, MakePage(10, 50), true);  // on probation, used once
  auto p = c.FindForPrefetch("cached", 0);
  EXPECT_FALSE(p.leader);
  EXPECT_FALSE(p.page);
  Build(c, "other", 0, MakePage(10, 50), true);
  Build(c, "third", 0, MakePage(10, 50), true);  // the lookup above did not move "cached" to the main list
  EXPECT_FALSE(c.FindForPrefetch("cached", 0).flight == nullptr);
  // A request's query in flight: the prefetch leaves it alone (no follower).
  auto leader = c.Find("k", 1);
  ASSERT_TRUE(leader.leader);
  EXPECT_FALSE(c.FindForPrefetch("k", 1).leader);
  c.Done("k", 1, leader.flight, MakePage(10, 50), true);  // no follower: probation
  EXPECT_TRUE(c.Find("k", 1).page);
  Build(c, "x", 0, MakePage(10, 50), true);
  EXPECT_TRUE(c.Find("k", 1).page);  // the second use moved it to the main list
  // A head page under the same notification count: nothing to prefetch.
  Build(c, "head", 7, MakePage(1, 5), false);
  EXPECT_FALSE(c.FindForPrefetch("head", 7).leader);
  auto newer = c.FindForPrefetch("head", 8);
  EXPECT_TRUE(newer.leader);
  c.Done("head", 8, newer.flight, nullptr, false);
}

TEST(PageCache, ARequestFollowsAPrefetchAndIsItsFirstUse) {
  gw::PageCache c;
  c.SetBudget(800);
  auto prefetch = c.FindForPrefetch("k", 1);
  ASSERT_TRUE(prefetch.leader);
  auto request = c.Find("k", 1);
  ASSERT_FALSE(request.leader);
  EXPECT_EQ(request.flight, prefetch.flight);
  c.Done("k", 1, prefetch.flight, MakePage(10, 50), true);
  EXPECT_TRUE(request.flight->Wait(std::chrono::milliseconds(10)));
  EXPECT_TRUE(c.Find("k", 1).page);  // the follower looks again: its first use
  Build(c, "a", 0, MakePage(10, 50), true);
  Build(c, "b", 0, MakePage(10, 50), true);  // probation holds two: k evicted
  EXPECT_TRUE(c.FindForPrefetch("k", 1).leader);
}

TEST(PageCache, AFailedPrefetchCachesNothing) {
  gw::PageCache c;
  auto prefetch = c.FindForPrefetch("k", 1);
  auto request = c.Find("k", 1);
  c.Done("k", 1, prefetch.flight, nullptr, true);
  EXPECT_TRUE(request.flight->Wait(std::chrono::milliseconds(10)));
  auto again = c.Find("k", 1);
  EXPECT_FALSE(again.page);
  EXPECT_TRUE(again.leader);  // the request reads the page itself
  c.Done("k", 1, again.flight, nullptr, true);
}

TEST(PageCache, NoPrefetchWithoutACache) {
  gw::PageCache c;
  c.SetBudget(0);
  auto p = c.FindForPrefetch("k", 1);
  EXPECT_FALSE(p.leader);
  EXPECT_FALSE(p.flight);
}

}  // namespace
