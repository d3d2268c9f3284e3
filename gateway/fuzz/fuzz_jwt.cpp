// libFuzzer target: the JWT and key parsers of issue 11 (src/jwt.cpp,
// src/jwk.cpp), all of them reading untrusted bytes: tokens (from a header,
// a cookie, the query string or the pull payload) and JWKS documents and
// PEM files (from the identity provider or the operator).
//
// The first byte picks what the rest is:
//   0: a token, verified against a fixed JWKS (RSA, EC P-256, Ed25519; the
//      seeds in corpus/fuzz_jwt are tokens that these keys really signed)
//      plus an HS256 secret, with the default policy;
//   1: a JWKS document (gw::ParseJwks);
//   2: PEM text (gw::ParsePemKeys);
//   3: a token as in 0, with an issuer, audiences and a nested stores claim;
//   other: base64url text (gw::Base64UrlDecode).
//
// Expected outcomes: a verdict (valid, invalid, unknown key) or false from a
// parser; never an exception, a sanitizer report, or a broken invariant:
// - a valid token has a non-empty JSON object payload without NUL, and its
//   exp (when set) is not in the past beyond the leeway;
// - an invalid or unknown-key verdict comes with an error and no claims;
// - every imported key allows at least one algorithm and holds a public key;
// - base64url output is 3/4 of the input (rounded down).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.h"
#include "gw/jwt.h"
#include "livestore/core/json.h"

namespace {

constexpr int64_t kNow = 1760000000;

// Public keys generated once for this target (their private halves signed
// the seed tokens and were thrown away).
const char kJwks[] = R"json({"keys":[{"kty":"RSA","n":"11h5I3cQPenMUQnOU859ludnBj4hBgyztlnafN5QPj4u4GsEIQ0m9qHq1oNT3gUOHSS7bHNE4a4lNvtzLMoizY5go0CJ9Cs-KB5GxKgdyk6GCrsCLm_zhZf7KdB9K_LFFiBBZ6IPnY1DqtEbbbYeP6_y-j16VcGpbdD-JzhKhBajnEs3r_8ERQqW8-JAzk_8lGg7FwHLhgX6wM8LVB1VEhFY9s9xdR0ClGBSTxTT0gjZAJe7iGqpPUhbWPILIr8f1HfxKzwARZUQvVdf8V6mkLqFIrlAn3idaIYWjaErFAOkX3yyjQIuahEXyWavMHlzh9b57GFkvGNSzG21r2qwyQ","e":"AQAB","kid":"rsa","use":"sig"},{"kty":"EC","x":"eXZBXzHySJ70yvRPMW7gQu_AcREg5XoNqWvYZkVuBiM","y":"SRYuxnXetDET7dp9s2-rOJVCDR-_atb2mF5bDv27B9A","crv":"P-256","kid":"ec","use":"sig"},{"crv":"Ed25519","x":"imTdfU_ZnNtbe1Inn-gPyKFZ4d-yEQw36GgLfoBnmZk","kty":"OKP","kid":"ed"}]})json";

struct Keys {
  gw::JwksKeys jwks;
  std::vector<gw::JwtKey> fixed;
  Keys() {
    std::vector<std::string> skipped;
    std::string error;
    if (!gw::ParseJwks(kJwks, &jwks.keys, &skipped, &error) || jwks.keys.size() != 3)
      fuzz::Finding("the target's own JWKS does not load", error);
    jwks.loaded = true;
    fixed.push_back(gw::HmacKey("fuzz-secret"));
  }
};

const Keys& TheKeys() {
  static const Keys keys;
  return keys;
}

void Token(std::string_view token, const gw::JwtPolicy& policy) {
  gw::JwtClaims claims;
  std::string error;
  const gw::JwtVerdict v = gw::VerifyJwtWith(token, TheKeys().fixed, &TheKeys().jwks, policy, kNow, &claims, &error);
  if (v == gw::JwtVerdict::kValid) {
    FUZZ_CHECK(!claims.json.empty() && claims.json.find('\0') == std::string::npos, claims.json);
    rapidjson::Document doc;
    doc.Parse<ls::kParseUntrusted>(claims.json.data(), claims.json.size());
    FUZZ_CHECK(!doc.HasParseError() && doc.IsObject(), claims.json);
    FUZZ_CHECK(claims.exp == 0 || claims.exp >= kNow - policy.leeway_s - 1, claims.json);
  } else {
    FUZZ_CHECK(!error.empty(), token);
    FUZZ_CHECK(claims.json.empty(), token);
  }
}

void CheckKeys(const std::vector<gw::JwtKey>& keys, std::string_view input) {
  for (const gw::JwtKey& k : keys) {
    FUZZ_CHECK(!k.algs.empty(), input);
    FUZZ_CHECK(k.pkey != nullptr, input);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0]) {
      case 0: Token(input, gw::JwtPolicy{}); break;
      case 3: {
        gw::JwtPolicy policy;
        policy.issuers = {"https://idp.test/"};
        policy.audiences = {"api"};
        policy.stores_claim = "app_metadata.livestore";
        policy.leeway_s = 0;
        Token(input, policy);
        break;
      }
      case 1: {
        std::vector<gw::JwtKey> keys;
        std::vector<std::string> skipped;
        std::string error;
        if (gw::ParseJwks(input, &keys, &skipped, &error)) {
          FUZZ_CHECK(!keys.empty(), input);
          CheckKeys(keys, input);
        } else {
          FUZZ_CHECK(!error.empty(), input);
        }
        break;
      }
      case 2: {
        std::vector<gw::JwtKey> keys;
        std::string error;
        if (gw::ParsePemKeys(input, &keys, &error)) CheckKeys(keys, input);
        else FUZZ_CHECK(!error.empty(), input);
        break;
      }
      default: {
        std::string out;
        if (gw::Base64UrlDecode(input, &out)) FUZZ_CHECK(out.size() == input.size() * 3 / 4, input);
        break;
      }
    }
  } catch (...) {
    fuzz::UnexpectedException();
  }
  return 0;
}
