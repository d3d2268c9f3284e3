// Asymmetric JWTs (issue 11): keys generated at test time (RSA 2048, EC
// P-256/384/521, Ed25519), imported from JWK and PEM, tokens of every
// algorithm, and the ways a forged or malformed token must fail: wrong
// algorithm for its key, wrong key, truncated or re-encoded signature, the
// RS256 public key used as an HS256 secret, `none`, `crit`, huge headers.
#include <string>
#include <vector>

#include "gw/jwt.h"
#include "jwt_test_keys.h"
#include "test_support.h"

namespace {

using gwtest::B64Url;
using gwtest::Jwk;
using gwtest::Jwks;
using gwtest::Pkey;
using gwtest::Token;

constexpr int64_t kNow = 1760000000;
const std::string kClaims = R"({"sub":"user-1","read":["a"],"write":"a","exp":1760000600})";

gw::JwksKeys LoadJwks(const std::string& doc) {
  gw::JwksKeys set;
  std::vector<std::string> skipped;
  std::string error;
  EXPECT_TRUE(gw::ParseJwks(doc, &set.keys, &skipped, &error)) << error;
  set.loaded = true;
  return set;
}

gw::JwtVerdict Check(const std::string& token, const gw::JwksKeys& jwks, const gw::JwtPolicy& policy = {},
                     gw::JwtClaims* out = nullptr, std::string* why = nullptr) {
  gw::JwtClaims claims;
  std::string error;
  const std::vector<gw::JwtKey> none;
  auto v = gw::VerifyJwtWith(token, none, &jwks, policy, kNow, &claims, &error);
  if (out) *out = claims;
  if (why) *why = error;
  return v;
}

struct Case {
  const char* alg;
  Pkey (*key)();
};
const Case kCases[] = {
    {"RS256", gwtest::RsaKey}, {"RS384", gwtest::RsaKey}, {"RS512", gwtest::RsaKey}, {"PS256", gwtest::RsaKey},
    {"PS384", gwtest::RsaKey}, {"PS512", gwtest::RsaKey}, {"ES256", gwtest::P256Key}, {"ES384", gwtest::P384Key},
    {"ES512", gwtest::P521Key}, {"EdDSA", gwtest::EdKey},
};

TEST(JwtKeys, EveryAlgorithmVerifiesFromItsJwkAndKeepsThePayload) {
  for (const Case& c : kCases) {
    const gw::JwksKeys jwks = LoadJwks(Jwks({Jwk(c.key(), "k1")}));
    gw::JwtClaims claims;
    std::string why;
    EXPECT_EQ(Check(Token(c.key(), c.alg, "k1", kClaims), jwks, {}, &claims, &why), gw::JwtVerdict::kValid)
        << c.alg << ": " << why;
    EXPECT_EQ(claims.json, kClaims) << c.alg;
    EXPECT_TRUE(claims.MayWrite("a"));
    EXPECT_EQ(claims.alg, c.alg);
    // A token without kid is checked against every key.
    EXPECT_EQ(Check(Token(c.key(), c.alg, "", kClaims), jwks), gw::JwtVerdict::kValid) << c.alg;
  }
}

TEST(JwtKeys, EveryAlgorithmVerifiesFromPem) {
  for (const Case& c : kCases) {
    std::vector<gw::JwtKey> keys;
    std::string error;
    ASSERT_TRUE(gw::ParsePemKeys(gwtest::Pem(c.key()), &keys, &error)) << c.alg << ": " << error;
    gw::JwtClaims claims;
    EXPECT_EQ(gw::VerifyJwtWith(Token(c.key(), c.alg, "any-kid", kClaims), keys, nullptr, {}, kNow, &claims, &error),
              gw::JwtVerdict::kValid)
        << c.alg << ": " << error;
  }
}

TEST(JwtKeys, TheKeyTypeFixesTheAlgorithm) {
  const gw::JwksKeys jwks = LoadJwks(Jwks({Jwk(gwtest::RsaKey(), "rsa"), Jwk(gwtest::P256Key(), "ec"),
                                           Jwk(gwtest::EdKey(), "ed")}));
  std::string why;
  // An EC P-256 key signs ES256 only: a P-384 signature (ES384) cannot use it.
  EXPECT_EQ(Check(Token(gwtest::P384Key(), "ES384", "ec", kClaims), jwks, {}, nullptr, &why), gw::JwtVerdict::kInvalid);
  EXPECT_NE(why.find("no key accepts algorithm ES384"), std::string::npos) << why;
  // RSA PKCS#1 signature presented as PSS, and the reverse.
  const std::string rs = Token(gwtest::RsaKey(), "RS256", "rsa", kClaims);
  const std::string header_ps = B64Url(R"({"alg":"PS256","kid":"rsa"})");
  EXPECT_EQ(Check(header_ps + rs.substr(rs.find('.')), jwks), gw::JwtVerdict::kInvalid);
  // EdDSA token claiming the RSA key.
  EXPECT_EQ(Check(Token(gwtest::EdKey(), "EdDSA", "rsa", kClaims), jwks), gw::JwtVerdict::kInvalid);
  // A JWK with "alg" is pinned to it.
  const gw::JwksKeys pinned = LoadJwks(Jwks({Jwk(gwtest::RsaKey(), "rsa", R"("alg":"RS256")")}));
  EXPECT_EQ(Check(Token(gwtest::RsaKey(), "RS256", "rsa", kClaims), pinned), gw::JwtVerdict::kValid);
  EXPECT_EQ(Check(Token(gwtest::RsaKey(), "PS256", "rsa", kClaims), pinned), gw::JwtVerdict::kInvalid);
  EXPECT_EQ(Check(Token(gwtest::RsaKey(), "RS512", "rsa", kClaims), pinned), gw::JwtVerdict::kInvalid);
}

TEST(JwtKeys, AlgorithmConfusionRsaPublicKeyAsHmacSecretIsRefused) {
  const std::string pem = gwtest::Pem(gwtest::RsaKey());
  const std::string n = gwtest::Bn(gwtest::RsaKey().get(), OSSL_PKEY_PARAM_RSA_N);
  const gw::JwksKeys jwks = LoadJwks(Jwks({Jwk(gwtest::RsaKey(), "rsa")}));
  std::vector<gw::JwtKey> pem_keys;
  std::string error;
  ASSERT_TRUE(gw::ParsePemKeys(pem, &pem_keys, &error));
  for (const std::string& secret : {pem, n, Jwk(gwtest::RsaKey(), "rsa")}) {
    for (const std::string& kid : {std::string("rsa"), std::string()}) {
      const std::string header = "{\"alg\":\"HS256\"" + (kid.empty() ? "" : ",\"kid\":\"" + kid + "\"") + "}";
      const std::string input = B64Url(header) + "." + B64Url(kClaims);
      const std::string forged = input + "." + B64Url(gwtest::HmacBytes(secret, input));
      EXPECT_EQ(Check(forged, jwks), gw::JwtVerdict::kInvalid) << kid;
      gw::JwtClaims claims;
      EXPECT_EQ(gw::VerifyJwtWith(forged, pem_keys, nullptr, {}, kNow, &claims, &error), gw::JwtVerdict::kInvalid);
      EXPECT_TRUE(claims.json.empty());
    }
  }
}

TEST(JwtKeys, ForgedAndMalformedTokensAreRefused) {
  const gw::JwksKeys jwks = LoadJwks(Jwks({Jwk(gwtest::RsaKey(), "rsa"), Jwk(gwtest::P256Key(), "ec"),
                                           Jwk(gwtest::EdKey(), "ed")}));
  const std::string rs = Token(gwtest::RsaKey(), "RS256", "rsa", kClaims);
  const std::string es = Token(gwtest::P256Key(), "ES256", "ec", kClaims);
  const std::string ed = Token(gwtest::EdKey(), "EdDSA", "ed", kClaims);
  const auto head_payload = [](const std::string& t) { return t.substr(0, t.rfind('.') + 1); };
  const std::string sig_es = es.substr(es.rfind('.') + 1);
  std::string es_raw;
  ASSERT_TRUE(gw::Base64UrlDecode(sig_es, &es_raw));
  // The ECDSA signature in DER form (what OpenSSL produces) instead of R || S.
  std::string es_der;
  {
    ECDSA_SIG* s = ECDSA_SIG_new();
    ECDSA_SIG_set0(s, BN_bin2bn(reinterpret_cast<const unsigned char*>(es_raw.data()), 32, nullptr),
                   BN_bin2bn(reinterpret_cast<const unsigned char*>(es_raw.data()) + 32, 32, nullptr));
    unsigned char* p = nullptr;
    const int len = i2d_ECDSA_SIG(s, &p);
    es_der.assign(reinterpret_cast<char*>(p), static_cast<size_t>(len));
    OPENSSL_free(p);
    ECDSA_SIG_free(s);
  }
  const std::vector<std::string> bad = {
      Token(gwtest::RsaKey2(), "RS256", "rsa", kClaims),                        // another RSA key, same kid
      Token(gwtest::NewEc("P-256"), "ES256", "ec", kClaims),                    // another EC key
      Token(gwtest::NewEd25519(), "EdDSA", "ed", kClaims),                      // another Ed25519 key
      rs.substr(0, rs.size() - 8),                                              // truncated signature
      head_payload(rs),                                                         // no signature
      head_payload(es) + sig_es.substr(0, sig_es.size() - 2),                   // ECDSA, one byte short
      head_payload(es) + B64Url(es_der),                                        // ECDSA as DER
      head_payload(ed) + B64Url(std::string(64, '\0')),                         // zero signature
      head_payload(rs) + B64Url(std::string(256, '\0')),                        // zero signature
      B64Url(R"({"alg":"RS256","kid":"rsa"})") + "." + B64Url(R"({"sub":"admin","read":"*","write":"*"})") +
          rs.substr(rs.rfind('.')),                                             // payload swapped
      B64Url(R"({"alg":"none","kid":"rsa"})") + "." + B64Url(kClaims) + ".",  // none
      B64Url(R"({"alg":"None"})") + "." + B64Url(kClaims) + ".",
      B64Url(R"({"alg":"RS256","kid":"rsa","crit":["exp"]})") + "." + B64Url(kClaims) + rs.substr(rs.rfind('.')),
      B64Url(R"({"alg":"RS256","alg":"HS256","kid":"rsa"})") + "." + B64Url(kClaims) + rs.substr(rs.rfind('.')),
      B64Url(R"({"alg":"RS256","kid":7})") + "." + B64Url(kClaims) + rs.substr(rs.rfind('.')),
      B64Url(R"({"kid":"rsa"})") + "." + B64Url(kClaims) + rs.substr(rs.rfind('.')),  // no alg
      B64Url("{\"alg\":\"RS256\",\"kid\":\"rsa\",\"x\":\"" + std::string(4000, 'x') + "\"}") + "." + B64Url(kClaims) +
          rs.substr(rs.rfind('.')),                                             // huge header
      std::string(gw::kMaxTokenBytes + 1, 'a'),                                 // huge token
      rs + ".x",                                                                // four parts
      "a.b", "", "..", "...",
      head_payload(rs) + "a+b/c=",                                              // not base64url
      " " + rs,
  };
  for (const std::string& token : bad) {
    gw::JwtClaims claims;
    std::string why;
    EXPECT_EQ(Check(token, jwks, {}, &claims, &why), gw::JwtVerdict::kInvalid) << token.substr(0, 120);
    EXPECT_FALSE(why.empty());
    EXPECT_TRUE(claims.json.empty());
  }
}

TEST(JwtKeys, UnknownKidAsksForARefetchOnlyWhenTheJwksMayBringIt) {
  const gw::JwksKeys jwks = LoadJwks(Jwks({Jwk(gwtest::RsaKey(), "old")}));
  std::string why;
  EXPECT_EQ(Check(Token(gwtest::RsaKey2(), "RS256", "new", kClaims), jwks, {}, nullptr, &why),
            gw::JwtVerdict::kUnknownKey);
  EXPECT_NE(why.find("new"), std::string::npos);
  // Known kid, wrong algorithm or wrong signature: no refetch can help.
  EXPECT_EQ(Check(Token(gwtest::RsaKey2(), "RS256", "old", kClaims), jwks), gw::JwtVerdict::kInvalid);
  // Nothing loaded yet: every token waits for the first fetch.
  gw::JwksKeys empty;
  EXPECT_EQ(Check(Token(gwtest::RsaKey(), "RS256", "old", kClaims), empty), gw::JwtVerdict::kUnknownKey);
  EXPECT_EQ(Check(Token(gwtest::RsaKey(), "RS256", "", kClaims), empty), gw::JwtVerdict::kUnknownKey);
  // But a malformed token or `none` never does.
  EXPECT_EQ(Check(B64Url(R"({"alg":"none"})") + "." + B64Url(kClaims) + ".", empty), gw::JwtVerdict::kInvalid);
  // Rotation: the new document holds both kids.
  const gw::JwksKeys rotated = LoadJwks(Jwks({Jwk(gwtest::RsaKey(), "old"), Jwk(gwtest::RsaKey2(), "new")}));
  EXPECT_EQ(Check(Token(gwtest::RsaKey2(), "RS256", "new", kClaims), rotated), gw::JwtVerdict::kValid);
  EXPECT_EQ(Check(Token(gwtest::RsaKey(), "RS256", "old", kClaims), rotated), gw::JwtVerdict::kValid);
}

TEST(JwtKeys, ConfiguredSecretAndJwksTogether) {
  const gw::JwksKeys jwks = LoadJwks(Jwks({Jwk(gwtest::EdKey(), "ed")}));
  const std::vector<gw::JwtKey> fixed = {gw::HmacKey("s3cret")};
  const std::string input = B64Url(R"({"alg":"HS256"})") + "." + B64Url(kClaims);
  const std::string hs = input + "." + B64Url(gwtest::HmacBytes("s3cret", input));
  gw::JwtClaims claims;
  std::string error;
  EXPECT_EQ(gw::VerifyJwtWith(hs, fixed, &jwks, {}, kNow, &claims, &error), gw::JwtVerdict::kValid) << error;
  EXPECT_EQ(gw::VerifyJwtWith(Token(gwtest::EdKey(), "EdDSA", "ed", kClaims), fixed, &jwks, {}, kNow, &claims, &error),
            gw::JwtVerdict::kValid)
      << error;
}

TEST(JwtKeys, IssuerAudienceAndTime) {
  const gw::JwksKeys jwks = LoadJwks(Jwks({Jwk(gwtest::P256Key(), "ec")}));
  gw::JwtPolicy policy;
  policy.issuers = {"https://tenant.example.com/"};
  policy.audiences = {"livestore-api", "other-api"};
  const auto tok = [](const std::string& payload) { return Token(gwtest::P256Key(), "ES256", "ec", payload); };
  const std::string iss = R"("iss":"https://tenant.example.com/")";
  EXPECT_EQ(Check(tok("{" + iss + R"(,"aud":"livestore-api"})"), jwks, policy), gw::JwtVerdict::kValid);
  EXPECT_EQ(Check(tok("{" + iss + R"(,"aud":["https://tenant.example.com/userinfo","livestore-api"]})"), jwks, policy),
            gw::JwtVerdict::kValid);
  const std::vector<std::string> refused = {
      "{" + iss + "}",                                              // no aud
      "{" + iss + R"(,"aud":"someone-else"})",
      "{" + iss + R"(,"aud":["a","b"]})",
      "{" + iss + R"(,"aud":7})",
      R"({"iss":"https://evil.example.com/","aud":"livestore-api"})",
      R"({"iss":"https://tenant.example.com","aud":"livestore-api"})",  // exact match only
      R"({"aud":"livestore-api"})",
      "{" + iss + R"(,"aud":"livestore-api","exp":)" + std::to_string(kNow - 31) + "}",
      "{" + iss + R"(,"aud":"livestore-api","nbf":)" + std::to_string(kNow + 31) + "}",
      "{" + iss + R"(,"aud":"livestore-api","exp":"soon"})",
  };
  for (const std::string& p : refused) EXPECT_EQ(Check(tok(p), jwks, policy), gw::JwtVerdict::kInvalid) << p;
  // Within the leeway, and absurd but numeric times: no overflow.
  EXPECT_EQ(Check(tok("{" + iss + R"(,"aud":"livestore-api","exp":)" + std::to_string(kNow - 29) + "}"), jwks, policy),
            gw::JwtVerdict::kValid);
  EXPECT_EQ(Check(tok("{" + iss + R"(,"aud":"livestore-api","exp":1e300,"nbf":-1e300})"), jwks, policy),
            gw::JwtVerdict::kValid);
  EXPECT_EQ(Check(tok("{" + iss + R"(,"aud":"livestore-api","exp":-1e300})"), jwks, policy), gw::JwtVerdict::kInvalid);
}

TEST(JwtKeys, StoresClaimPathForProvidersThatNestCustomClaims) {
  const gw::JwksKeys jwks = LoadJwks(Jwks({Jwk(gwtest::EdKey(), "ed")}));
  const auto scopes = [&](const std::string& path, const std::string& payload) {
    gw::JwtPolicy policy;
    policy.stores_claim = path;
    gw::JwtClaims claims;
    EXPECT_EQ(Check(Token(gwtest::EdKey(), "EdDSA", "ed", payload), jwks, policy, &claims), gw::JwtVerdict::kValid);
    return std::make_pair(claims.MayRead("list-1"), claims.MayWrite("list-1"));
  };
  // Supabase: app_metadata.
  EXPECT_EQ(scopes("app_metadata.livestore", R"({"app_metadata":{"livestore":{"read":["list-1"],"write":"list-1"}}})"),
            std::make_pair(true, true));
  // Auth0: a namespaced claim whose name has dots and slashes.
  EXPECT_EQ(scopes("https://todo.example.com/livestore",
                   R"({"https://todo.example.com/livestore":{"read":"*"}})"),
            std::make_pair(true, false));
  // A dotted name inside a nested object.
  EXPECT_EQ(scopes("claims.https://x.io/ls", R"({"claims":{"https://x.io/ls":{"write":["list-1"]}}})"),
            std::make_pair(false, true));
  // Top-level claims are not read when a path is set; a missing path grants nothing.
  EXPECT_EQ(scopes("app_metadata.livestore", R"({"read":"*","write":"*"})"), std::make_pair(false, false));
  EXPECT_EQ(scopes("", R"({"read":"*","write":"*"})"), std::make_pair(true, true));
  // Wrong types at the path are an error, as at the top level.
  gw::JwtPolicy policy;
  policy.stores_claim = "a.b";
  EXPECT_EQ(Check(Token(gwtest::EdKey(), "EdDSA", "ed", R"({"a":{"b":{"read":7}}})"), jwks, policy),
            gw::JwtVerdict::kInvalid);
}

TEST(Jwks, UnusableKeysAreSkippedWithAReason) {
  const Pkey small = gwtest::NewRsa(1024);
  std::string bad_point = Jwk(gwtest::P256Key(), "off-curve");
  {  // flip a byte of y: the point leaves the curve
    const size_t y = bad_point.find("\"y\":\"") + 6;
    bad_point[y] = bad_point[y] == 'A' ? 'B' : 'A';
  }
  const std::string doc = Jwks({
      Jwk(gwtest::RsaKey(), "good-rsa"),
      Jwk(gwtest::RsaKey(), "enc", R"("use":"enc")"),
      Jwk(small, "small"),
      R"({"kty":"oct","k":"c2VjcmV0","kid":"sym"})",
      Jwk(gwtest::P256Key(), "wrong-alg", R"("alg":"ES384")"),
      Jwk(gwtest::RsaKey(), "oaep", R"("alg":"RSA-OAEP")"),
      Jwk(gwtest::RsaKey(), "ops", R"("key_ops":["encrypt"])"),
      R"({"kty":"EC","crv":"secp256k1","x":"AA","y":"AA","kid":"k1"})",
      R"({"kty":"OKP","crv":"X25519","x":"AAAA","kid":"x"})",
      R"({"kty":"RSA","kid":"no-n","e":"AQAB"})",
      R"({"kty":"RSA","kid":"even-e","n":")" + B64Url(gwtest::Bn(gwtest::RsaKey().get(), OSSL_PKEY_PARAM_RSA_N)) +
          R"(","e":"Ag"})",
      bad_point,
      R"("not an object")",
      Jwk(gwtest::EdKey(), "good-ed", R"("use":"sig","key_ops":["verify"],"alg":"EdDSA")"),
  });
  std::vector<gw::JwtKey> keys;
  std::vector<std::string> skipped;
  std::string error;
  ASSERT_TRUE(gw::ParseJwks(doc, &keys, &skipped, &error)) << error;
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].kid, "good-rsa");
  EXPECT_EQ(keys[0].type, "RSA-2048");
  EXPECT_EQ(keys[1].kid, "good-ed");
  EXPECT_EQ(skipped.size(), 12u);
  for (const std::string& s : skipped) EXPECT_NE(s.find(": "), std::string::npos) << s;
}

TEST(Jwks, DocumentsThatAreNotAJwks) {
  for (const std::string& doc : {std::string(""), std::string("[]"), std::string("{}"), std::string(R"({"keys":{}})"),
                                 std::string(R"({"keys":[]})"), std::string(R"({"keys":[{"kty":"oct","k":"AA"}]})"),
                                 std::string("{\"keys\":[") + std::string(100000, '[')}) {
    std::vector<gw::JwtKey> keys;
    std::vector<std::string> skipped;
    std::string error;
    EXPECT_FALSE(gw::ParseJwks(doc, &keys, &skipped, &error)) << doc.substr(0, 40);
    EXPECT_FALSE(error.empty());
  }
}

TEST(Pem, KeysCertificatesAndRefusals) {
  std::vector<gw::JwtKey> keys;
  std::string error;
  const std::string both = gwtest::Pem(gwtest::P384Key()) + "\n" + gwtest::Pem(gwtest::EdKey());
  ASSERT_TRUE(gw::ParsePemKeys(both, &keys, &error)) << error;
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].type, "EC P-384");
  EXPECT_EQ(keys[1].type, "Ed25519");
  EXPECT_TRUE(keys[0].Allows(gw::JwtAlg::kES384));
  EXPECT_FALSE(keys[0].Allows(gw::JwtAlg::kES256));

  // A self-signed certificate of the RSA key.
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, gwtest::RsaKey().get());
  X509_sign(cert, gwtest::RsaKey().get(), EVP_sha256());
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  const std::string cert_pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  X509_free(cert);
  ASSERT_TRUE(gw::ParsePemKeys(cert_pem, &keys, &error)) << error;
  EXPECT_EQ(keys.size(), 1u);
  EXPECT_TRUE(keys[0].Allows(gw::JwtAlg::kRS256));

  bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, gwtest::EdKey().get(), nullptr, nullptr, 0, nullptr, nullptr);
  const long pn = BIO_get_mem_data(bio, &data);
  const std::string priv(data, static_cast<size_t>(pn));
  BIO_free(bio);
  EXPECT_FALSE(gw::ParsePemKeys(priv, &keys, &error));
  EXPECT_NE(error.find("private key"), std::string::npos) << error;
  EXPECT_FALSE(gw::ParsePemKeys("not a pem", &keys, &error));
  EXPECT_FALSE(gw::ParsePemKeys("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", &keys, &error));
  EXPECT_FALSE(gw::ParsePemKeys(gwtest::Pem(gwtest::NewRsa(1024)), &keys, &error));
  EXPECT_NE(error.find("1024"), std::string::npos) << error;
}

TEST(Base64Url, Strict) {
  std::string out;
  EXPECT_TRUE(gw::Base64UrlDecode("", &out));
  EXPECT_TRUE(gw::Base64UrlDecode("SGk", &out));
  EXPECT_EQ(out, "Hi");
  EXPECT_TRUE(gw::Base64UrlDecode("-_-_", &out));
  for (const char* bad : {"SGk=", "S", "SG+k", "SG/k", "SG k", "SG\nk"}) EXPECT_FALSE(gw::Base64UrlDecode(bad, &out)) << bad;
  EXPECT_FALSE(gw::Base64UrlDecode(std::string_view("SG\0k", 4), &out));
}

}  // namespace
