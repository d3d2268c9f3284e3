// gw::PushErrorJson, RejectedJson, HookFailedJson: the bodies of failed
// pushes, in particular the 422 of a batch a hook refused with
// livestore.reject (whose DETAIL is reject()'s jsonb argument as text) and the
// 500 of any other error raised in a hook. PgError::raised_in_hook: which
// errors count as a hook's.
#include <string>

#include "gw/pg.h"
#include "gw/push_reply.h"
#include "livestore/core/json.h"
#include "test_support.h"

namespace {

// Parses `body` (must be one JSON object) for structural checks.
rapidjson::Document Parsed(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str(), body.size());
  EXPECT_FALSE(d.HasParseError()) << body;
  EXPECT_TRUE(d.IsObject()) << body;
  return d;
}

TEST(RejectedJson, ExactBodyWithoutDetail) {
  EXPECT_EQ(gw::RejectedJson("todo text is blocked", ""),
            R"({"success":false,"error":"todo text is blocked","code":"LS005"})");
}

TEST(RejectedJson, JsonDetailIsEmbeddedAsAValue) {
  // jsonb::text of '{"id":"a","reasons":["x",1.50]}'.
  EXPECT_EQ(gw::RejectedJson("no", R"({"id": "a", "reasons": ["x", 1.50]})"),
            R"({"success":false,"error":"no","code":"LS005","detail":{"id": "a", "reasons": ["x", 1.50]}})");
  EXPECT_EQ(gw::RejectedJson("no", "42"), R"({"success":false,"error":"no","code":"LS005","detail":42})");
  EXPECT_EQ(gw::RejectedJson("no", "\"why\""), R"({"success":false,"error":"no","code":"LS005","detail":"why"})");
  EXPECT_EQ(gw::RejectedJson("no", "null"), R"({"success":false,"error":"no","code":"LS005","detail":null})");
  EXPECT_EQ(gw::RejectedJson("no", "[]"), R"({"success":false,"error":"no","code":"LS005","detail":[]})");
  EXPECT_EQ(gw::RejectedJson("no", "true"), R"({"success":false,"error":"no","code":"LS005","detail":true})");
}

TEST(RejectedJson, NumbersStayExact) {
  const std::string big = "123456789012345678901234567890.000000000000000000001";
  auto d = Parsed(gw::RejectedJson("no", big));
  EXPECT_NE(gw::RejectedJson("no", big).find(big), std::string::npos);
  EXPECT_TRUE(d["detail"].IsNumber());
}

TEST(RejectedJson, OtherDetailIsAString) {
  // A DETAIL raised by hand (RAISE ... USING ERRCODE = 'LS005', DETAIL = ...).
  EXPECT_EQ(gw::RejectedJson("no", "the list is closed"),
            R"({"success":false,"error":"no","code":"LS005","detail":"the list is closed"})");
  for (const std::string& bad : {std::string("{\"a\":1} trailing"), std::string("{\"a\":"), std::string("[1,]"),
                                 std::string("NaN"), std::string("'x'"), std::string("{\"a\":1}\x01"),
                                 std::string("\xEF\xBB\xBF{}"), std::string("{}\0{}", 5), std::string("\"\xFF\""),
                                 std::string(" ")}) {
    auto d = Parsed(gw::RejectedJson("no", bad));
    ASSERT_TRUE(d.HasMember("detail")) << bad;
    ASSERT_TRUE(d["detail"].IsString()) << bad;
    EXPECT_EQ(std::string(d["detail"].GetString(), d["detail"].GetStringLength()), bad);
  }
}

TEST(RejectedJson, MessageIsEscaped) {
  auto d = Parsed(gw::RejectedJson("a \"quoted\"\nline\\ with ünïcode", ""));
  EXPECT_STREQ(d["error"].GetString(), "a \"quoted\"\nline\\ with ünïcode");
  EXPECT_STREQ(d["code"].GetString(), "LS005");
  EXPECT_FALSE(d["success"].GetBool());
}

TEST(RejectedJson, DeepDetailIsCopiedWithoutRecursion) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const std::string body = gw::RejectedJson("no", deep);
  EXPECT_EQ(body, R"({"success":false,"error":"no","code":"LS005","detail":)" + deep + "}");
}

TEST(HookFailedJson, ExactBody) {
  EXPECT_EQ(gw::HookFailedJson("22012"), R"({"success":false,"error":"a server-side hook failed","code":"22012"})");
}

TEST(PushErrorJson, FieldsInOrderAndOptional) {
  EXPECT_EQ(gw::PushErrorJson("bad", ""), R"({"success":false,"error":"bad"})");
  EXPECT_EQ(gw::PushErrorJson("behind", "LS001", 7, "head is 7"),
            R"({"success":false,"error":"behind","code":"LS001","detail":"head is 7","head":7})");
  EXPECT_EQ(gw::PushErrorJson("behind", "LS001", 0), R"({"success":false,"error":"behind","code":"LS001","head":0})");
}

TEST(PgError, RaisedInHookByContext) {
  gw::PgError e;
  e.sqlstate = "22012";
  EXPECT_FALSE(e.raised_in_hook());
  e.context = "SQL statement \"SELECT 1/0\"\nPL/pgSQL function h(text,jsonb) line 3 at PERFORM\n"
              "livestore hook h(text,jsonb) on store \"todos\"";
  EXPECT_TRUE(e.raised_in_hook());
  e.context = "PL/pgSQL function livestore.append(text,jsonb) line 3";
  EXPECT_FALSE(e.raised_in_hook());
}

}  // namespace
