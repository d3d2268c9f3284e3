// gw::ParsePullArgs: the `args` of a LiveStore pull (livestore-sync-protocol.md
// section 4), given as libmicrohttpd hands it over: percent-decoded once.
#include <cctype>
#include <string>

#include "gw/pull_args.h"
#include "test_support.h"

namespace {

using gwtest::Fields;
using gwtest::Quote;
using gwtest::ToJson;
using gwtest::With;
using gwtest::Without;

// What the HTTP layer does to a query value, exactly once.
std::string PercentDecode(const std::string& in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && isxdigit(static_cast<unsigned char>(in[i + 1])) &&
        isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(in.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

// The first request of section 4.1, as sent on the wire.
const char* const kWireArgs =
    "%7B%22_tag%22%3A%22%40livestore%2Fsync-electric.Pull%22%2C%22storeId%22%3A%22demo_store%22%2C%22payload%22%3A%7B"
    "%22authToken%22%3A%22insecure-token-change-me%22%7D%2C%22handle%22%3A%7B%22_tag%22%3A%22None%22%7D%2C%22live%22%"
    "3Atrue%7D";

const char* const kNone = "{\"_tag\":\"None\"}";

// A valid PullPayload with handle None, in the observed key order.
Fields PullFields() {
  return {{"_tag", Quote("@livestore/sync-electric.Pull")},
          {"storeId", Quote("demo_store")},
          {"payload", "{\"authToken\":\"t\"}"},
          {"handle", kNone},
          {"live", "true"}};
}

std::string SomeHandle(const std::string& offset, const std::string& handle) {
  return "{\"_tag\":\"Some\",\"value\":{\"offset\":" + Quote(offset) + ",\"handle\":" + Quote(handle) + "}}";
}

gw::PullArgs Parse(const Fields& f) { return gw::ParsePullArgs(ToJson(f)); }

void ExpectBadRequest(const std::string& json) {
  EXPECT_THROW(gw::ParsePullArgs(json), gw::BadRequest) << json;
}

TEST(ParsePullArgs, WireExampleOfTheProtocolDoc) {
  const std::string decoded = PercentDecode(kWireArgs);
  ASSERT_EQ(decoded,
            "{\"_tag\":\"@livestore/sync-electric.Pull\",\"storeId\":\"demo_store\",\"payload\":{\"authToken\":"
            "\"insecure-token-change-me\"},\"handle\":{\"_tag\":\"None\"},\"live\":true}");
  const gw::PullArgs a = gw::ParsePullArgs(decoded);
  EXPECT_EQ(a.store_id, "demo_store");
  EXPECT_FALSE(a.has_handle);
  EXPECT_TRUE(a.offset.empty());
  EXPECT_TRUE(a.handle.empty());
  EXPECT_TRUE(a.live);
  EXPECT_EQ(a.auth_token, "insecure-token-change-me");
}

TEST(ParsePullArgs, SomeHandle) {
  const gw::PullArgs a = Parse(With(PullFields(), "handle", SomeHandle("3_0", "h-123")));
  EXPECT_TRUE(a.has_handle);
  EXPECT_EQ(a.offset, "3_0");
  EXPECT_EQ(a.handle, "h-123");
}

TEST(ParsePullArgs, FlaggedOffsetIsKeptAsSent) {
  EXPECT_EQ(Parse(With(PullFields(), "handle", SomeHandle("3_0~", "h"))).offset, "3_0~");
}

TEST(ParsePullArgs, LiveFlag) {
  EXPECT_TRUE(Parse(PullFields()).live);
  EXPECT_FALSE(Parse(With(PullFields(), "live", "false")).live);
  EXPECT_FALSE(Parse(Without(PullFields(), "live")).live);
}

TEST(ParsePullArgs, KeyOrderDoesNotMatter) {
  Fields f = With(PullFields(), "handle", SomeHandle("0_0", "h"));
  const gw::PullArgs a = Parse(Fields(f.rbegin(), f.rend()));
  EXPECT_EQ(a.store_id, "demo_store");
  EXPECT_EQ(a.offset, "0_0");
  EXPECT_EQ(a.auth_token, "t");
}

TEST(ParsePullArgs, PayloadAbsent) {
  const gw::PullArgs a = Parse(Without(PullFields(), "payload"));
  EXPECT_EQ(a.store_id, "demo_store");
  EXPECT_FALSE(a.auth_token.has_value());
}

TEST(ParsePullArgs, PayloadMayBeAnyJson) {
  for (const char* raw : {"null", "\"token\"", "42", "[\"authToken\"]", "{}", "{\"authToken\":7}",
                          "{\"authToken\":null}", "{\"other\":{\"authToken\":\"x\"}}"}) {
    SCOPED_TRACE(raw);
    gw::PullArgs a;
    ASSERT_NO_THROW(a = Parse(With(PullFields(), "payload", raw)));
    EXPECT_FALSE(a.auth_token.has_value());
  }
}

TEST(ParsePullArgs, AuthTokenAmongOtherPayloadKeys) {
  const gw::PullArgs a = Parse(With(PullFields(), "payload", "{\"user\":{\"id\":1},\"authToken\":\"abc\"}"));
  EXPECT_EQ(a.auth_token, "abc");
}

TEST(ParsePullArgs, TokenWithPercentAndPlusIsNotDecodedAgain) {
  // encodeURIComponent('{"authToken":"100%+%41 x"}') inside the args, as sent.
  const std::string wire =
      "%7B%22_tag%22%3A%22%40livestore%2Fsync-electric.Pull%22%2C%22storeId%22%3A%22s%22%2C%22payload%22%3A%7B"
      "%22authToken%22%3A%22100%25%2B%2541%20x%22%7D%2C%22handle%22%3A%7B%22_tag%22%3A%22None%22%7D%2C%22live%22%"
      "3Atrue%7D";
  EXPECT_EQ(gw::ParsePullArgs(PercentDecode(wire)).auth_token, "100%+%41 x");
  for (const char* token : {"100%", "%zz", "a+b", "%2B%25", "%"}) {
    EXPECT_EQ(Parse(With(PullFields(), "payload", "{\"authToken\":" + Quote(token) + "}")).auth_token, token);
  }
}

TEST(ParsePullArgs, WrongTag) {
  for (const char* raw : {"\"@livestore/sync-electric.Push\"", "\"Pull\"", "null", "1", "\"\""})
    ExpectBadRequest(ToJson(With(PullFields(), "_tag", raw)));
  ExpectBadRequest(ToJson(Without(PullFields(), "_tag")));
}

TEST(ParsePullArgs, BadStoreId) {
  for (const char* raw : {"\"\"", "\"a b\"", "\"a%20b\"", "\"x'; drop table t; --\"", "\"\\u00e9\"", "1", "null"})
    ExpectBadRequest(ToJson(With(PullFields(), "storeId", raw)));
  ExpectBadRequest(ToJson(With(PullFields(), "storeId", Quote(std::string(300, 'x')))));
  ExpectBadRequest(ToJson(Without(PullFields(), "storeId")));
}

TEST(ParsePullArgs, BadHandle) {
  for (const std::string& raw :
       {std::string("null"), std::string("\"None\""), std::string("{}"), std::string("{\"_tag\":\"none\"}"),
        std::string("{\"_tag\":\"Some\"}"), std::string("{\"_tag\":\"Some\",\"value\":null}"),
        std::string("{\"_tag\":\"Some\",\"value\":{\"offset\":\"0_0\"}}"),
        std::string("{\"_tag\":\"Some\",\"value\":{\"handle\":\"h\"}}"),
        std::string("{\"_tag\":\"Some\",\"value\":{\"offset\":0,\"handle\":\"h\"}}")})
    ExpectBadRequest(ToJson(With(PullFields(), "handle", raw)));
  ExpectBadRequest(ToJson(Without(PullFields(), "handle")));
}

TEST(ParsePullArgs, LiveMustBeABoolean) {
  for (const char* raw : {"\"true\"", "1", "null"}) ExpectBadRequest(ToJson(With(PullFields(), "live", raw)));
}

TEST(ParsePullArgs, MalformedJson) {
  for (const char* json : {"", "{", "{\"_tag\":}", "not json", "[]", "\"args\"", "null",
                           "{\"_tag\":\"@livestore/sync-electric.Pull\",\"storeId\":\"\xC3\"}"})
    ExpectBadRequest(json);
  // Still percent-encoded: the client's args decoded zero times.
  ExpectBadRequest(kWireArgs);
}

}  // namespace
