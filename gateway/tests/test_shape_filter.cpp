// gw::ParseShapeColumns, ParseShapeWhere, ShapeSchemaHeader and
// FilterShapeItems: what /v1/shape accepts of Electric's `columns` and `where`.
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "gw/shape_filter.h"
#include "test_support.h"

namespace {

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

gw::ShapeFilter Where(const std::string& in) {
  gw::ShapeFilter f;
  std::string error;
  EXPECT_TRUE(gw::ParseShapeWhere(in, &f, &error)) << in << ": " << error;
  return f;
}

std::string WhereError(const std::string& in) {
  gw::ShapeFilter f;
  f.above = 7;  // must be left alone on failure
  std::string error;
  EXPECT_FALSE(gw::ParseShapeWhere(in, &f, &error)) << in;
  EXPECT_EQ(f.above, 7) << in;
  EXPECT_FALSE(error.empty()) << in;
  return error;
}

std::vector<int64_t> Kept(const gw::ShapeFilter& f, int64_t from, int64_t to) {
  std::vector<int64_t> out;
  for (int64_t s = from; s <= to; ++s)
    if (f.Keeps(s)) out.push_back(s);
  return out;
}

TEST(ParseShapeWhere, Comparisons) {
  EXPECT_EQ(Kept(Where(R"("seqNum" > 3)"), 0, 6), (std::vector<int64_t>{4, 5, 6}));
  EXPECT_EQ(Kept(Where(R"("seqNum" >= 3)"), 0, 6), (std::vector<int64_t>{3, 4, 5, 6}));
  EXPECT_EQ(Kept(Where(R"("seqNum" < 3)"), 0, 6), (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(Kept(Where(R"("seqNum" <= 3)"), 0, 6), (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(Kept(Where(R"("seqNum" = 3)"), 0, 6), (std::vector<int64_t>{3}));
  EXPECT_EQ(Kept(Where(R"("seqNum" <> 3)"), 0, 6), (std::vector<int64_t>{0, 1, 2, 4, 5, 6}));
  EXPECT_EQ(Kept(Where(R"("seqNum" != 3)"), 0, 6), (std::vector<int64_t>{0, 1, 2, 4, 5, 6}));
  EXPECT_EQ(Kept(Where(R"("seqNum">-2)"), -3, 0), (std::vector<int64_t>{-1, 0}));
}

TEST(ParseShapeWhere, LiteralOnTheLeftIsMirrored) {
  EXPECT_EQ(Kept(Where(R"(3 < "seqNum")"), 0, 6), (std::vector<int64_t>{4, 5, 6}));
  EXPECT_EQ(Kept(Where(R"(3 >= "seqNum")"), 0, 6), (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(Kept(Where(R"(3 = "seqNum")"), 0, 6), (std::vector<int64_t>{3}));
}

TEST(ParseShapeWhere, AndParenthesesAndCase) {
  auto f = Where(R"(("seqNum" > 1) AND ("seqNum" <= 5 and "seqNum" <> 3) And "seqNum" != 4)");
  EXPECT_EQ(Kept(f, 0, 8), (std::vector<int64_t>{2, 5}));
  EXPECT_EQ(f.SkipThrough(), 1);
  EXPECT_EQ(Kept(Where("  \"seqNum\"\t>\n1  "), 0, 3), (std::vector<int64_t>{2, 3}));
  EXPECT_TRUE(Kept(Where(R"("seqNum" > 5 AND "seqNum" < 3)"), 0, 10).empty());  // empty is valid
}

TEST(ParseShapeWhere, ExtremeLiterals) {
  EXPECT_TRUE(Kept(Where(R"("seqNum" < -9223372036854775808)"), -3, 3).empty());
  EXPECT_TRUE(Kept(Where(R"("seqNum" = -9223372036854775808)"), -3, 3).empty());
  EXPECT_EQ(Kept(Where(R"("seqNum" >= -9223372036854775808)"), -1, 1), (std::vector<int64_t>{-1, 0, 1}));
  auto f = Where(R"("seqNum" > 9223372036854775807)");
  EXPECT_FALSE(f.Keeps(kMax));
  EXPECT_EQ(f.SkipThrough(), std::numeric_limits<int32_t>::max());  // clamped for the page query
  EXPECT_EQ(Where(R"("seqNum" > -5)").SkipThrough(), 0);
  EXPECT_EQ(Where(R"("seqNum" >= 100)").SkipThrough(), 99);
}

TEST(ParseShapeWhere, NarrowsOnlyWhenSomethingIsFiltered) {
  EXPECT_FALSE(gw::ShapeFilter{}.Narrows());
  EXPECT_TRUE(Where(R"("seqNum" > 0)").Narrows());
  gw::ShapeFilter f;
  EXPECT_EQ(f.above, kMin);
  f.columns = 1;
  EXPECT_TRUE(f.Narrows());
}

TEST(ParseShapeWhere, RefusesEverythingElse) {
  for (const char* in : {"", "   ", R"("seqNum")", R"("seqNum" >)", R"(> 3)", R"("seqNum" > 3 AND)",
                         R"("seqNum" > 3 OR "seqNum" < 1)", R"(NOT "seqNum" > 3)", R"("seqNum" > 1.5)",
                         R"("seqNum" > 1e3)", R"("seqNum" > '3')", R"("seqNum" > $1)", R"("seqNum" IN (1, 2))",
                         R"("seqNum" BETWEEN 1 AND 3)", R"("seqNum" IS NULL)", R"(seqNum > 3)", R"("seqnum" > 3)",
                         R"("name" = 'x')", R"(name = 'x')", R"("parentSeqNum" > 3)", R"("seqNum" > "seqNum")",
                         R"(1 = 1)", R"("seqNum" > 99999999999999999999)", R"("seqNum" > - 3)",
                         R"(("seqNum" > 3)", R"("seqNum" > 3))", R"("seqNum" > 3; DROP TABLE x)", R"("seqNum)",
                         R"("seqNum" > 3 -- c)", R"("seqNum" == 3)", R"("seqNum" + 1 > 3)", R"("seqNum" > 0x10)"}) {
    SCOPED_TRACE(in);
    WhereError(in);
  }
}

TEST(ParseShapeWhere, MessagesSayWhereAndWhy) {
  EXPECT_EQ(WhereError(R"("name" = 'x')"), "At location 1: only \"seqNum\" can be filtered on, found \"name\"");
  EXPECT_EQ(WhereError(R"(seqNum > 3)"), "At location 1: Unknown reference \"seqnum\" (quote it: \"seqNum\")");
  EXPECT_EQ(WhereError(R"("seqNum" > 3 OR 1)"), "At location 14: expected end of the clause, found \"or\"");
  EXPECT_EQ(WhereError(R"("seqNum" > 1.5)"), "At location 12: only integer literals are supported");
  EXPECT_EQ(WhereError(R"("seqNum" >)"), "At location 11: expected \"seqNum\" or an integer, found the end");
  EXPECT_EQ(WhereError(std::string(40, '(') + "\"seqNum\" > 1" + std::string(40, ')')),
            "At location 34: too deeply nested");
}

TEST(ParseShapeColumns, Subsets) {
  unsigned mask = 0;
  std::string error;
  EXPECT_TRUE(gw::ParseShapeColumns(R"("seqNum")", &mask, &error)) << error;
  EXPECT_EQ(mask, 1u);
  EXPECT_TRUE(gw::ParseShapeColumns(R"("seqNum","args",name)", &mask, &error)) << error;
  EXPECT_EQ(mask, 1u | 8u | 4u);
  EXPECT_TRUE(gw::ParseShapeColumns(R"( "sessionId" , "seqNum","seqNum")", &mask, &error)) << error;
  EXPECT_EQ(mask, 1u | 32u);
  EXPECT_TRUE(gw::ParseShapeColumns(R"("seqNum","parentSeqNum",name,args,"clientId","sessionId")", &mask, &error));
  EXPECT_EQ(mask, gw::kAllShapeColumns);
}

TEST(ParseShapeColumns, ElectricsErrors) {
  auto error_of = [](const std::string& in) {
    unsigned mask = 99;
    std::string error;
    EXPECT_FALSE(gw::ParseShapeColumns(in, &mask, &error)) << in;
    EXPECT_EQ(mask, 99u) << in;
    return error;
  };
  EXPECT_EQ(error_of(R"("name","args")"), "The list of columns must include all primary key columns, missing: seqNum");
  EXPECT_EQ(error_of(R"(seqNum,name)"), "The following columns are not found on the table: seqnum");
  EXPECT_EQ(error_of(R"("seqNum","nope","clientid")"), "The following columns are not found on the table: nope, clientid");
  EXPECT_EQ(error_of(""), "Invalid zero-length delimited identifier");
  EXPECT_EQ(error_of(R"("seqNum",)"), "Invalid zero-length delimited identifier");
  EXPECT_EQ(error_of(R"("seqNum",,name)"), "Invalid zero-length delimited identifier");
  EXPECT_EQ(error_of(R"("")"), "Invalid zero-length delimited identifier");
  EXPECT_EQ(error_of(R"("seqNum)"), "Invalid column list: unterminated quoted name");
  EXPECT_EQ(error_of(R"("seqNum"x)"), "Invalid column list: unexpected text after a quoted name");
  EXPECT_EQ(error_of(R"("seq""Num")"), "The following columns are not found on the table: seq\"Num");
}

TEST(ShapeSchemaHeader, SelectedColumnsInTableOrder) {
  EXPECT_EQ(gw::ShapeSchemaHeader(gw::kAllShapeColumns),
            "{\"seqNum\":{\"type\":\"int4\",\"not_null\":true,\"pk_index\":0},\"parentSeqNum\":{\"type\":\"int4\"},"
            "\"name\":{\"type\":\"text\",\"not_null\":true},\"args\":{\"type\":\"jsonb\",\"not_null\":true},"
            "\"clientId\":{\"type\":\"text\",\"not_null\":true},\"sessionId\":{\"type\":\"text\",\"not_null\":true}}");
  EXPECT_EQ(gw::ShapeSchemaHeader(1u | 8u),
            "{\"seqNum\":{\"type\":\"int4\",\"not_null\":true,\"pk_index\":0},\"args\":{\"type\":\"jsonb\",\"not_null\":true}}");
}

std::string Item(int seq) {
  const std::string s = std::to_string(seq);
  return "{\"key\":\"\\\"public\\\".\\\"t\\\"/\\\"" + s + "\\\"\",\"value\":{\"seqNum\":\"" + s +
         "\",\"parentSeqNum\":null,\"name\":\"n\",\"args\":\"{\\\"a\\\": [1, \\\"\\u00fc\\\"]}\",\"clientId\":\"c\","
         "\"sessionId\":\"s\"},\"headers\":{\"operation\":\"insert\",\"relation\":[\"public\", \"t\"]}}";
}

TEST(FilterShapeItems, DropsEventsAndColumnsKeepingOrder) {
  const std::string items = Item(1) + "," + Item(2) + "," + Item(3);
  gw::ShapeFilter f = Where(R"("seqNum" <> 2)");
  f.columns = 1u | 2u | 8u;
  EXPECT_EQ(gw::FilterShapeItems(f, items),
            "{\"key\":\"\\\"public\\\".\\\"t\\\"/\\\"1\\\"\",\"value\":{\"seqNum\":\"1\",\"parentSeqNum\":null,"
            "\"args\":\"{\\\"a\\\": [1, \\\"ü\\\"]}\"},\"headers\":{\"operation\":\"insert\",\"relation\":[\"public\",\"t\"]}},"
            "{\"key\":\"\\\"public\\\".\\\"t\\\"/\\\"3\\\"\",\"value\":{\"seqNum\":\"3\",\"parentSeqNum\":null,"
            "\"args\":\"{\\\"a\\\": [1, \\\"ü\\\"]}\"},\"headers\":{\"operation\":\"insert\",\"relation\":[\"public\",\"t\"]}}");
  EXPECT_EQ(gw::FilterShapeItems(Where(R"("seqNum" > 3)"), items), "");
  EXPECT_EQ(gw::FilterShapeItems(f, ""), "");
}

}  // namespace
