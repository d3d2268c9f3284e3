// gw::CursorOffset and gw::PullCacheControl: what a shared cache may keep of a
// LiveStore pull answer, and the cursor that keeps live clients out of a loop.
#include <string>

#include "gw/offset.h"
#include "gw/pull_cache.h"
#include "test_support.h"

namespace {

constexpr int64_t kEpoch = 1728432000;  // NextCursor's origin

TEST(CursorOffset, SamePositionNewCursor) {
  // 100 s after the origin, 20 s polls: the next interval boundary.
  EXPECT_EQ(gw::CursorOffset(6, "6_0", 20, kEpoch + 100), "6_100");
  EXPECT_EQ(gw::CursorOffset(6, "6_0", 20, kEpoch + 101), "6_120");
  EXPECT_EQ(gw::ParseLogOffset(gw::CursorOffset(6, "6_0", 20, kEpoch + 101)), 6);
}

TEST(CursorOffset, ReadersInOneIntervalShareTheUrl) {
  EXPECT_EQ(gw::CursorOffset(9, "9_100", 20, kEpoch + 121), gw::CursorOffset(9, "9_0", 20, kEpoch + 139));
}

TEST(CursorOffset, NeverTheRequestsOwnOffset) {
  // A cursor at or past the current boundary is bumped: the answer never
  // names the URL it answers (a cache would loop the client on it).
  for (const char* req : {"6_140", "6_999999", "6_0", "6_inf", "6_140~"}) {
    const std::string out = gw::CursorOffset(6, req, 20, kEpoch + 121);
    EXPECT_NE(out, std::string(gw::Unflag(req)));
    EXPECT_FALSE(gw::IsFlagged(out));
    EXPECT_EQ(gw::ParseLogOffset(out), 6);
  }
}

TEST(PullCacheControl, Table) {
  const std::string long_ = "public, max-age=604800, s-maxage=3600, stale-while-revalidate=2629746";
  EXPECT_EQ(gw::PullCacheControl({true, false, false, false, true}), "no-store");
  EXPECT_EQ(gw::PullCacheControl({false, true, true, true, true}), "no-store");
  EXPECT_EQ(gw::PullCacheControl({false, false, true, false, true}), long_);
  EXPECT_EQ(gw::PullCacheControl({false, false, false, true, true}), long_);
  EXPECT_EQ(gw::PullCacheControl({false, false, false, false, true}), "public, max-age=5, stale-while-revalidate=5");
  EXPECT_EQ(gw::PullCacheControl({false, false, false, false, false}), "public, max-age=60, stale-while-revalidate=300");
}

}  // namespace
