// gw::ParseLogOffset / FormatLogOffset and the LiveStore offset flag.
#include <cstdint>
#include <limits>
#include <string>

#include "gw/offset.h"
#include "test_support.h"

namespace {

TEST(ParseLogOffset, Start) { EXPECT_EQ(gw::ParseLogOffset("-1"), 0); }

TEST(ParseLogOffset, ValidForms) {
  EXPECT_EQ(gw::ParseLogOffset("0_0"), 0);
  EXPECT_EQ(gw::ParseLogOffset("12_0"), 12);
  EXPECT_EQ(gw::ParseLogOffset("12_1"), 12);     // any op index is accepted
  EXPECT_EQ(gw::ParseLogOffset("12_004"), 12);
  EXPECT_EQ(gw::ParseLogOffset("0_inf"), 0);
  EXPECT_EQ(gw::ParseLogOffset("7_inf"), 7);
  EXPECT_EQ(gw::ParseLogOffset("2147483647_0"), std::numeric_limits<int32_t>::max());
}

TEST(ParseLogOffset, InvalidForms) {
  for (const char* s : {"", "10", "-1_0", "1_2_3", "_0", "_", "a_0", "-5_0", "0_", "0_-1", "0_x", "0_Inf",
                        "0_infinity", "+1_0", " 1_0", "1_0 ", "1 _0", "0x1_0", "1.5_0", "-2", "now", "-1~",
                        "12_0~", "\xEF\xBC\x91_0"}) {
    SCOPED_TRACE(testing::PrintToString(std::string(s)));
    EXPECT_EQ(gw::ParseLogOffset(s), std::nullopt);
  }
}

TEST(ParseLogOffset, TxOverflowIsInvalid) {
  for (const char* s : {"2147483648_0", "4294967296_0", "99999999999999999999999_0"})
    EXPECT_EQ(gw::ParseLogOffset(s), std::nullopt) << s;
}

TEST(FormatLogOffset, PositionAfterAnEvent) {
  EXPECT_EQ(gw::FormatLogOffset(0), "0_0");
  EXPECT_EQ(gw::FormatLogOffset(12), "12_0");
  EXPECT_EQ(gw::FormatLogOffset(std::numeric_limits<int32_t>::max()), "2147483647_0");
}

TEST(FormatLogOffset, RoundTripsThroughParse) {
  for (int32_t n : {0, 1, 12, 999999, std::numeric_limits<int32_t>::max()})
    EXPECT_EQ(gw::ParseLogOffset(gw::FormatLogOffset(n)), n);
}

TEST(OffsetFlag, FlagAndUnflag) {
  EXPECT_EQ(gw::Flag("12_0"), "12_0~");
  EXPECT_TRUE(gw::IsFlagged("12_0~"));
  EXPECT_EQ(gw::Unflag("12_0~"), "12_0");
  EXPECT_EQ(gw::ParseLogOffset(gw::Unflag(gw::Flag(gw::FormatLogOffset(5)))), 5);
}

TEST(OffsetFlag, PlainOffsetsAreLeftAlone) {
  for (const char* s : {"12_0", "-1", "0_inf", "", "~12_0"}) {
    SCOPED_TRACE(s);
    EXPECT_FALSE(gw::IsFlagged(s));
    EXPECT_EQ(gw::Unflag(s), s);
  }
}

TEST(OffsetFlag, OnlyOneFlagIsRemoved) {
  EXPECT_TRUE(gw::IsFlagged("~"));
  EXPECT_EQ(gw::Unflag("~"), "");
  EXPECT_EQ(gw::Unflag("1_0~~"), "1_0~");
}

}  // namespace
