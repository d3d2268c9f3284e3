// HS256 JSON Web Tokens (RFC 7519), verified with OpenSSL's HMAC. Only
// HS256 is accepted (never "none"); `exp` and `nbf` are enforced when
// present. The claims `read` and `write` list the store ids the bearer may
// pull from and push to ("*" = every store). Every other claim is kept, as
// the payload's JSON text, for the database (livestore.claims).
#pragma once
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

namespace gw {

struct JwtClaims {
  std::set<std::string> read, write;
  int64_t exp = 0;  // 0 = none
  // The verified payload exactly as signed: a JSON object (valid UTF-8, all
  // claims, nested ones included). Handed to hooks as livestore.claims.
  std::string json;

  bool MayRead(const std::string& store) const { return read.count("*") || read.count(store); }
  bool MayWrite(const std::string& store) const { return write.count("*") || write.count(store); }
};

// Returns false with *error set when the token is malformed, not HS256, has a
// bad signature, or is expired / not yet valid at `now_unix_s`.
bool VerifyJwt(std::string_view token, std::string_view secret, int64_t now_unix_s, JwtClaims* claims,
               std::string* error);

}  // namespace gw
