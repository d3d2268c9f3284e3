// gw::ShapeItemsEncoder: insert messages equal in meaning to what
// livestore.shape_page() builds in SQL, with any text escaped.
#include <string>

#include "gw/shape_encode.h"
#include "test_support.h"

namespace {

rapidjson::Document Parse(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  EXPECT_FALSE(d.HasParseError()) << text;
  return d;
}

TEST(ShapeItemsEncoder, OneRowAsShapePageWritesIt) {
  gw::ShapeItemsEncoder enc("public", "eventlog_6_a");
  enc.Add({"1", "0", "v1.A", "{\"n\": 1}", "c", "s", false});
  EXPECT_EQ(enc.count(), 1);
  // shape_page()'s own output for that row, as Postgres writes it.
  const std::string sql =
      "{\"key\":\"\\\"public\\\".\\\"eventlog_6_a\\\"/\\\"1\\\"\",\"value\":{\"seqNum\":\"1\",\"parentSeqNum\":\"0\","
      "\"name\":\"v1.A\",\"args\":\"{\\\"n\\\": 1}\",\"clientId\":\"c\",\"sessionId\":\"s\"},"
      "\"headers\":{\"operation\":\"insert\",\"relation\":[\"public\", \"eventlog_6_a\"]}}";
  EXPECT_TRUE(Parse(enc.Take()) == Parse(sql));
  EXPECT_EQ(enc.Take(),
            "{\"key\":\"\\\"public\\\".\\\"eventlog_6_a\\\"/\\\"1\\\"\",\"value\":{\"seqNum\":\"1\",\"parentSeqNum\":\"0\","
            "\"name\":\"v1.A\",\"args\":\"{\\\"n\\\": 1}\",\"clientId\":\"c\",\"sessionId\":\"s\"},"
            "\"headers\":{\"operation\":\"insert\",\"relation\":[\"public\",\"eventlog_6_a\"]}}");
}

TEST(ShapeItemsEncoder, NullParentAndCommaJoinedRows) {
  gw::ShapeItemsEncoder enc("app", "eventlog_6_b");
  enc.Add({"1", "", "v1.A", "{}", "c", "s", true});
  enc.Add({"2", "1", "v1.B", "[]", "c", "s", false});
  EXPECT_EQ(enc.count(), 2);
  const rapidjson::Document d = Parse("[" + enc.Take() + "]");
  ASSERT_TRUE(d.IsArray());
  ASSERT_EQ(d.Size(), 2u);
  EXPECT_TRUE(d[0]["value"]["parentSeqNum"].IsNull());
  EXPECT_STREQ(d[1]["value"]["parentSeqNum"].GetString(), "1");
  EXPECT_STREQ(d[1]["key"].GetString(), "\"app\".\"eventlog_6_b\"/\"2\"");
  EXPECT_STREQ(d[1]["headers"]["relation"][0].GetString(), "app");
  EXPECT_STREQ(d[1]["headers"]["relation"][1].GetString(), "eventlog_6_b");
}

TEST(ShapeItemsEncoder, EscapesEveryStringAndKeepsUtf8) {
  const std::string args = "{\"t\": \"quote \\\" back \\\\ nl \\n tab \\t \\u0001 é 😀 </script>\"}";
  const std::string name = std::string("n\"\\\n\t\x01\x1f é");
  gw::ShapeItemsEncoder enc("public", "eventlog_6_c");
  enc.Add({"7", "6", name, args, "client \"x\"", "sess\\ion", false});
  const rapidjson::Document d = Parse("[" + enc.Take() + "]");
  ASSERT_TRUE(d.IsArray());
  const auto& v = d[0]["value"];
  EXPECT_EQ(std::string(v["name"].GetString(), v["name"].GetStringLength()), name);
  EXPECT_EQ(std::string(v["args"].GetString()), args);
  EXPECT_EQ(std::string(v["clientId"].GetString()), "client \"x\"");
  EXPECT_EQ(std::string(v["sessionId"].GetString()), "sess\\ion");
  // No raw control character in the output.
  for (char ch : enc.Take()) EXPECT_GE(static_cast<unsigned char>(ch), 0x20u);
}

TEST(ShapeItemsEncoder, EmptyPage) {
  gw::ShapeItemsEncoder enc("public", "t");
  EXPECT_EQ(enc.count(), 0);
  EXPECT_EQ(enc.Take(), "");
}

}  // namespace
