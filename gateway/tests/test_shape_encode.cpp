// gw::ShapeItemsEncoder: insert messages equal in meaning to what
// livestore.shape_page() builds in SQL, with any text escaped.
#include <string>
#include <vector>

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

// What RapidJSON's writer makes of the row, value by value: the encoder
// writes the frame as prepared text and must give the same bytes.
std::string WriterMessage(const std::string& schema, const std::string& table, const gw::ShapeEventRow& row) {
  rapidjson::StringBuffer b;
  rapidjson::Writer<rapidjson::StringBuffer> w(b);
  auto str = [&w](std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); };
  w.StartObject();
  w.Key("key");
  str("\"" + schema + "\".\"" + table + "\"/\"" + std::string(row.seq) + "\"");
  w.Key("value");
  w.StartObject();
  w.Key("seqNum");
  str(row.seq);
  w.Key("parentSeqNum");
  if (row.parent_null) w.Null();
  else str(row.parent);
  w.Key("name");
  str(row.name);
  w.Key("args");
  str(row.args);
  w.Key("clientId");
  str(row.client);
  w.Key("sessionId");
  str(row.session);
  w.EndObject();
  w.Key("headers");
  w.StartObject();
  w.Key("operation");
  w.String("insert");
  w.Key("relation");
  w.StartArray();
  str(schema);
  str(table);
  w.EndArray();
  w.EndObject();
  w.EndObject();
  return std::string(b.GetString(), b.GetSize());
}

TEST(ShapeItemsEncoder, SameBytesAsTheWriterValueByValue) {
  // Strings long enough for the 16-byte scans, with every kind of character
  // that needs escaping at every position of a block, and UTF-8.
  std::vector<std::string> texts = {"", "a", "{\"id\": \"x-1\", \"text\": \"benchmark todo number 1\"}"};
  const std::string specials = std::string("\"\\\x01\x1f\n\t\b\f\r", 9) + std::string(1, '\0');
  for (char ch : specials)
    for (size_t at = 0; at < 40; at += 3) {
      std::string t(40, 'x');
      t[at] = ch;
      texts.push_back(t + "é😀 tail " + t);
    }
  gw::ShapeItemsEncoder enc("my \"schema\"", "eventlog_6_d\\x");
  std::string want;
  int seq = 0;
  for (const auto& t : texts) {
    ++seq;
    const std::string s = std::to_string(seq), parent = std::to_string(seq - 1);
    const gw::ShapeEventRow row{s, parent, t, t, t, t, seq % 2 == 0};
    enc.Add(row);
    if (!want.empty()) want += ',';
    want += WriterMessage("my \"schema\"", "eventlog_6_d\\x", row);
  }
  EXPECT_EQ(enc.count(), seq);
  EXPECT_EQ(enc.Take(), want);
  const rapidjson::Document d = Parse("[" + enc.Take() + "]");
  ASSERT_TRUE(d.IsArray());
  for (rapidjson::SizeType i = 0; i < d.Size(); ++i) {
    const auto& v = d[i]["value"];
    EXPECT_EQ(std::string(v["args"].GetString(), v["args"].GetStringLength()), texts[i]);
  }
}

TEST(ShapeItemsEncoder, EmptyPage) {
  gw::ShapeItemsEncoder enc("public", "t");
  EXPECT_EQ(enc.count(), 0);
  EXPECT_EQ(enc.Take(), "");
}

}  // namespace
