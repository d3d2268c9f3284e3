// Proxy-mode offsets: Electric's offset plus the client's position
// ("<offset>@<seqNum>", offset.h), the flag on top, and the two helpers that
// learn and use the position (SeqScanner while streaming, FilterShapePage
// after a rotation).
#include <optional>
#include <string>

#include "gw/offset.h"
#include "gw/positions.h"
#include "gw/seq_scan.h"
#include "gw/shape_page.h"
#include "test_support.h"

namespace {

TEST(ProxyOffset, ElectricOffsetsPassUnchanged) {
  // Offsets without a position (every offset handed out before, and Electric's
  // own forms, far beyond 2^31) are Electric's, whole.
  for (const char* s : {"-1", "now", "0_0", "0_inf", "4294967302_4", "18446744073709551615_0", "27294160_inf",
                        "5_0", "bogus", ""}) {
    SCOPED_TRACE(s);
    gw::ProxyOffset p = gw::ParseProxyOffset(s);
    EXPECT_EQ(p.upstream, s);
    EXPECT_EQ(p.seq, std::nullopt);
  }
}

TEST(ProxyOffset, PositionIsSplitOff) {
  gw::ProxyOffset p = gw::ParseProxyOffset("4294967302_4@57");
  EXPECT_EQ(p.upstream, "4294967302_4");
  EXPECT_EQ(p.seq, 57);
  EXPECT_EQ(gw::ParseProxyOffset("0_inf@0").seq, 0);
  EXPECT_EQ(gw::ParseProxyOffset("0_3@9223372036854775807").seq, INT64_MAX);
}

TEST(ProxyOffset, MalformedPositionIsNotAPosition) {
  // Left whole for Electric, which answers 400 (as for any bad offset).
  for (const char* s : {"1_0@", "1_0@x", "1_0@-1", "1_0@+1", "1_0@1a", "@5", "1_0@99999999999999999999",
                        "1_0@ 1"}) {
    SCOPED_TRACE(s);
    gw::ProxyOffset p = gw::ParseProxyOffset(s);
    EXPECT_EQ(p.upstream, s);
    EXPECT_EQ(p.seq, std::nullopt);
  }
}

TEST(ProxyOffset, FormatRoundTripsWithTheFlag) {
  EXPECT_EQ(gw::FormatProxyOffset("4294967302_4", 57), "4294967302_4@57");
  EXPECT_EQ(gw::FormatProxyOffset("4294967302_4", std::nullopt), "4294967302_4");
  // The flag goes outside: "<offset>@<seq>~", removed before parsing.
  const std::string flagged = gw::Flag(gw::FormatProxyOffset("4294967302_4", 57));
  EXPECT_EQ(flagged, "4294967302_4@57~");
  gw::ProxyOffset p = gw::ParseProxyOffset(gw::Unflag(flagged));
  EXPECT_EQ(p.upstream, "4294967302_4");
  EXPECT_EQ(p.seq, 57);
  // Flagged offsets of earlier versions keep working.
  EXPECT_EQ(gw::ParseProxyOffset(gw::Unflag("5_0~")).upstream, "5_0");
}

TEST(SeqScanner, LastSeqNumOfAStreamedPage) {
  const std::string body =
      R"([{"headers":{"operation":"insert"},"value":{"seqNum":"41","parentSeqNum":"40","args":"{\"seqNum\":\"999\"}"}},)"
      R"({"headers":{"operation":"insert"},"value":{"parentSeqNum":"41","seqNum":"42"}},)"
      R"({"headers":{"control":"up-to-date"}}])";
  for (size_t piece : {body.size(), size_t{1}, size_t{3}, size_t{7}, size_t{16}}) {
    SCOPED_TRACE(piece);
    gw::SeqScanner scan;
    for (size_t i = 0; i < body.size(); i += piece) scan.Feed(std::string_view(body).substr(i, piece));
    EXPECT_EQ(scan.last(), 42);  // never 999 (escaped, inside args)
  }
}

TEST(SeqScanner, NumbersAndNothing) {
  gw::SeqScanner scan;
  scan.Feed(R"([{"value":{"seqNum": 7}}])");
  EXPECT_EQ(scan.last(), 7);
  gw::SeqScanner none;
  none.Feed(R"([{"headers":{"control":"up-to-date","global_last_seen_lsn":"4294967302"}}])");
  EXPECT_EQ(none.last(), std::nullopt);
}

TEST(FilterShapePage, DropsWhatTheClientHas) {
  const std::string page =
      R"([{"headers":{"operation":"insert","relation":["public","t"]},"value":{"seqNum":"1"}},)"
      R"({"headers":{"operation":"insert","relation":["public","t"]},"value":{"seqNum":"2"}},)"
      R"({"headers":{"operation":"insert","relation":["public","t"]},"value":{"seqNum":"3"}},)"
      R"({"headers":{"control":"snapshot-end","xmin":"1","xmax":"2","xip_list":[]}}])";
  gw::FilteredPage f = gw::FilterShapePage(page, 2);
  ASSERT_TRUE(f.ok);
  EXPECT_EQ(f.kept, 1u);
  EXPECT_EQ(f.last_seq, 3);
  EXPECT_FALSE(f.up_to_date);
  EXPECT_EQ(f.body, R"([{"headers":{"operation":"insert","relation":["public","t"]},"value":{"seqNum":"3"}}])");

  gw::FilteredPage all_known = gw::FilterShapePage(page, 3);
  EXPECT_EQ(all_known.kept, 0u);
  EXPECT_EQ(all_known.body, "[]");
  EXPECT_EQ(all_known.last_seq, 3);
}

TEST(FilterShapePage, KeepsUpToDateAndRejectsNonArrays) {
  gw::FilteredPage f = gw::FilterShapePage(R"([{"headers":{"control":"up-to-date","global_last_seen_lsn":"9"}}])", 4);
  ASSERT_TRUE(f.ok);
  EXPECT_TRUE(f.up_to_date);
  EXPECT_EQ(f.kept, 0u);
  EXPECT_EQ(f.last_seq, 4);
  EXPECT_FALSE(gw::FilterShapePage(R"({"message":"Invalid request"})", 0).ok);
  EXPECT_FALSE(gw::FilterShapePage("[", 0).ok);
}

TEST(Positions, RecordFindAndEvict) {
  gw::Positions p(2);
  p.Record("h", "4294967302_4", 57);
  EXPECT_EQ(p.Find("h", "4294967302_4"), 57);
  EXPECT_EQ(p.Find("other", "4294967302_4"), std::nullopt);
  p.Record("h", "4294967302_4", 50);  // never moves back
  EXPECT_EQ(p.Find("h", "4294967302_4"), 57);
  p.Record("h", "b", 60);
  p.Record("h", "c", 61);  // the oldest goes
  EXPECT_EQ(p.Find("h", "4294967302_4"), std::nullopt);
  EXPECT_EQ(p.Find("h", "c"), 61);
  EXPECT_EQ(p.size(), 2u);
}

}  // namespace
