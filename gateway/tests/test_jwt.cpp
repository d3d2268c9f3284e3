// gw::VerifyJwt: HS256 only, exp/nbf, read/write scopes, and the verified
// payload kept as JSON text (what the push hands Postgres as livestore.claims).
#include <string>

#include "gw/jwt.h"
#include "jwt_test_keys.h"
#include "test_support.h"

namespace {

constexpr int64_t kNow = 1760000000;
const std::string kSecret = "unit-secret";

// A token whose payload is exactly `payload` (any bytes), signed with `secret`.
std::string Sign(const std::string& payload, const std::string& secret = kSecret,
                 const std::string& header = R"({"alg":"HS256","typ":"JWT"})") {
  const std::string head = gwtest::B64Url(header) + "." + gwtest::B64Url(payload);
  return head + "." + gwtest::B64Url(gwtest::HmacBytes(secret, head));
}

TEST(VerifyJwt, KeepsTheWholePayloadAsSigned) {
  const std::string payload =
      R"({"sub":"user-1","write":["todos"],"read":"*","org":{"id":7,"roles":["owner","admin"]},"n":1.50})";
  gw::JwtClaims claims;
  std::string error;
  ASSERT_TRUE(gw::VerifyJwt(Sign(payload), kSecret, kNow, &claims, &error)) << error;
  EXPECT_EQ(claims.json, payload);
  EXPECT_TRUE(claims.MayWrite("todos"));
  EXPECT_FALSE(claims.MayWrite("other"));
  EXPECT_TRUE(claims.MayRead("other"));
}

TEST(VerifyJwt, PayloadWhitespaceAndUnicodeAreKept) {
  const std::string payload = "{ \"sub\" : \"z\xC3\xBC\" ,\n \"exp\": " + std::to_string(kNow + 60) + " }\n";
  gw::JwtClaims claims;
  std::string error;
  ASSERT_TRUE(gw::VerifyJwt(Sign(payload), kSecret, kNow, &claims, &error)) << error;
  EXPECT_EQ(claims.json, payload);
  EXPECT_EQ(claims.exp, kNow + 60);
}

TEST(VerifyJwt, AByteOrderMarkIsDropped) {
  gw::JwtClaims claims;
  std::string error;
  ASSERT_TRUE(gw::VerifyJwt(Sign("\xEF\xBB\xBF{\"sub\":\"a\"}"), kSecret, kNow, &claims, &error)) << error;
  EXPECT_EQ(claims.json, "{\"sub\":\"a\"}");
}

TEST(VerifyJwt, RefusedTokensKeepNoClaims) {
  const std::string ok = R"({"sub":"a"})";
  const std::string refused[] = {
      Sign(ok, "other-secret"),
      Sign(ok, kSecret, R"({"alg":"none"})"),
      Sign(ok, kSecret, R"({"alg":"HS512"})"),
      Sign(R"({"sub":"a","exp":)" + std::to_string(kNow - 3600) + "}"),
      Sign(R"({"sub":"a","nbf":)" + std::to_string(kNow + 3600) + "}"),
      Sign(R"(["not","an","object"])"),
      Sign(R"({"sub":"a"} {"sub":"b"})"),
      Sign(std::string("{\"sub\":\"a\"}\0{\"sub\":\"b\"}", 23)),  // RapidJSON alone would stop at the NUL
      Sign("{\"sub\":\"\xFF\"}"),                                  // not UTF-8
      Sign(R"({"write":7})"),
      "a.b",
  };
  for (const std::string& token : refused) {
    gw::JwtClaims claims;
    std::string error;
    EXPECT_FALSE(gw::VerifyJwt(token, kSecret, kNow, &claims, &error)) << token;
    EXPECT_FALSE(error.empty());
    EXPECT_TRUE(claims.json.empty()) << token;
  }
}

}  // namespace
