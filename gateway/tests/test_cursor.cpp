// gw::NextCursor: Electric's long-poll cursor (electric-shape-api.md 9.2).
#include <cstdint>
#include <limits>
#include <string>

#include "gw/shape_log.h"
#include "test_support.h"

namespace {

constexpr int64_t kEpoch = 1728432000;  // 2024-10-09T00:00:00Z
constexpr int kT = 20;

// The cursor must be a decimal integer; returns it, or fails the test.
uint64_t Value(const std::string& cursor) {
  EXPECT_FALSE(cursor.empty());
  EXPECT_EQ(cursor.find_first_not_of("0123456789"), std::string::npos) << cursor;
  return std::stoull(cursor);
}

// The cursor is previous + 1..3600.
void ExpectBumped(const std::string& cursor, uint64_t previous) {
  const uint64_t v = Value(cursor);
  EXPECT_GE(v, previous + 1) << cursor;
  EXPECT_LE(v, previous + 3600) << cursor;
}

TEST(NextCursor, RoundsUpToTheNextInterval) {
  EXPECT_EQ(gw::NextCursor(kT, "", kEpoch + 1), "20");
  EXPECT_EQ(gw::NextCursor(kT, "", kEpoch + 19), "20");
  EXPECT_EQ(gw::NextCursor(kT, "", kEpoch + 20), "20");
  EXPECT_EQ(gw::NextCursor(kT, "", kEpoch + 21), "40");
  EXPECT_EQ(gw::NextCursor(kT, "", kEpoch + 1000000), "1000000");
  EXPECT_EQ(gw::NextCursor(kT, "", kEpoch + 1000001), "1000020");
  EXPECT_EQ(gw::NextCursor(7, "", kEpoch + 15), "21");
}

TEST(NextCursor, ARealClock) {
  const int64_t now = 1760000000;  // 2025-10-09T08:53:20Z
  const int64_t d = now - kEpoch;
  EXPECT_EQ(gw::NextCursor(kT, "", now), std::to_string((d + kT - 1) / kT * kT));
}

TEST(NextCursor, SmallerPreviousGivesNext) {
  EXPECT_EQ(gw::NextCursor(kT, "0", kEpoch + 21), "40");
  EXPECT_EQ(gw::NextCursor(kT, "20", kEpoch + 21), "40");
  EXPECT_EQ(gw::NextCursor(kT, "39", kEpoch + 21), "40");
  EXPECT_EQ(gw::NextCursor(kT, "-5", kEpoch + 21), "40");
}

TEST(NextCursor, PreviousNotBelowNextIsBumped) {
  ExpectBumped(gw::NextCursor(kT, "40", kEpoch + 21), 40);  // same window: a new URL all the same
  ExpectBumped(gw::NextCursor(kT, "100", kEpoch + 21), 100);
  ExpectBumped(gw::NextCursor(kT, "", kEpoch), 0);  // next = 0 = prev
}

TEST(NextCursor, BumpIsRandom) {
  std::string first = gw::NextCursor(kT, "40", kEpoch + 21);
  bool differs = false;
  for (int i = 0; i < 50 && !differs; ++i) differs = gw::NextCursor(kT, "40", kEpoch + 21) != first;
  EXPECT_TRUE(differs);
}

TEST(NextCursor, InvalidPreviousCountsAsZero) {
  for (const char* prev : {"abc", "99999abc", "1.5e9", "0x99999", "99999 x"}) {
    SCOPED_TRACE(prev);
    EXPECT_EQ(gw::NextCursor(kT, prev, kEpoch + 21), "40");
    ExpectBumped(gw::NextCursor(kT, prev, kEpoch), 0);
  }
}

TEST(NextCursor, HugePreviousDoesNotWrap) {
  const int64_t max = std::numeric_limits<int64_t>::max();
  ExpectBumped(gw::NextCursor(kT, std::to_string(max), kEpoch + 21), static_cast<uint64_t>(max));
  ExpectBumped(gw::NextCursor(kT, std::to_string(max - 10), kEpoch + 21), static_cast<uint64_t>(max - 10));
}

TEST(NextCursor, ZeroTimeout) {
  EXPECT_EQ(gw::NextCursor(0, "", kEpoch + 21), "0");
  EXPECT_EQ(gw::NextCursor(0, "12345", kEpoch + 21), "0");
}

}  // namespace
