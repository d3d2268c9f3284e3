#include "gw/jwt.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <vector>

#include "livestore/core/json.h"

namespace gw {
namespace {

constexpr int64_t kLeewaySeconds = 30;  // clock skew between issuer and gateway

bool Base64UrlDecode(std::string_view in, std::string* out) {
  std::string b64(in);
  for (char& c : b64) {
    if (c == '-') c = '+';
    else if (c == '_') c = '/';
    else if (c == '+' || c == '/' || c == '=') return false;  // not base64url
  }
  while (b64.size() % 4) b64.push_back('=');
  std::vector<unsigned char> buf(b64.size() / 4 * 3 + 1);
  int n = EVP_DecodeBlock(buf.data(), reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
  if (n < 0) return false;
  size_t pad = 0;
  for (size_t i = b64.size(); i > 0 && b64[i - 1] == '='; --i) ++pad;
  out->assign(reinterpret_cast<char*>(buf.data()), static_cast<size_t>(n) - pad);
  return true;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}

bool StringSet(const rapidjson::Value& obj, const char* name, std::set<std::string>* out) {
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd()) return true;
  if (it->value.IsString()) {
    out->insert(it->value.GetString());
    return true;
  }
  if (!it->value.IsArray()) return false;
  for (const auto& v : it->value.GetArray()) {
    if (!v.IsString()) return false;
    out->insert(v.GetString());
  }
  return true;
}

}  // namespace

bool VerifyJwt(std::string_view token, std::string_view secret, int64_t now, JwtClaims* claims, std::string* error) {
  const size_t d1 = token.find('.');
  const size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) {
    *error = "token is not a JWT";
    return false;
  }
  std::string header, payload, signature;
  if (!Base64UrlDecode(token.substr(0, d1), &header) || !Base64UrlDecode(token.substr(d1 + 1, d2 - d1 - 1), &payload) ||
      !Base64UrlDecode(token.substr(d2 + 1), &signature)) {
    *error = "token is not base64url";
    return false;
  }
  rapidjson::Document h;
  h.Parse<ls::kParseUntrusted>(header.data(), header.size());
  auto alg = h.IsObject() ? h.FindMember("alg") : h.MemberEnd();
  if (h.HasParseError() || !h.IsObject() || alg == h.MemberEnd() || !alg->value.IsString() ||
      std::string_view(alg->value.GetString()) != "HS256") {
    *error = "token algorithm must be HS256";
    return false;
  }
  const std::string expected = HmacSha256(secret, token.substr(0, d2));
  if (signature.size() != expected.size() || CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) != 0) {
    *error = "token signature is invalid";
    return false;
  }
  // RapidJSON reads a NUL byte as the end of its input and skips a UTF-8
  // byte order mark; Postgres would do neither with the kept text.
  if (payload.compare(0, 3, "\xEF\xBB\xBF") == 0) payload.erase(0, 3);
  rapidjson::Document p;
  p.Parse<ls::kParseUntrusted>(payload.data(), payload.size());
  if (p.HasParseError() || !p.IsObject() || payload.find('\0') != std::string::npos) {
    *error = "token claims are not a JSON object";
    return false;
  }
  auto exp = p.FindMember("exp");
  if (exp != p.MemberEnd()) {
    if (!exp->value.IsNumber()) {
      *error = "token exp is not a number";
      return false;
    }
    claims->exp = static_cast<int64_t>(exp->value.GetDouble());
    if (now > claims->exp + kLeewaySeconds) {
      *error = "token has expired";
      return false;
    }
  }
  auto nbf = p.FindMember("nbf");
  if (nbf != p.MemberEnd() && (!nbf->value.IsNumber() || now + kLeewaySeconds < nbf->value.GetDouble())) {
    *error = "token is not valid yet";
    return false;
  }
  if (!StringSet(p, "read", &claims->read) || !StringSet(p, "write", &claims->write)) {
    *error = "token read/write claims must be strings or arrays of strings";
    return false;
  }
  // The bytes the signature covers (less a byte order mark): one JSON
  // object in valid UTF-8 without NUL (libpq takes it as a C string).
  claims->json = std::move(payload);
  return true;
}

}  // namespace gw
