#include "gw/jwt.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "livestore/core/json.h"

namespace gw {
namespace {

struct AlgName {
  JwtAlg alg;
  const char* name;
};
constexpr AlgName kAlgs[] = {
    {JwtAlg::kHS256, "HS256"}, {JwtAlg::kRS256, "RS256"}, {JwtAlg::kRS384, "RS384"}, {JwtAlg::kRS512, "RS512"},
    {JwtAlg::kPS256, "PS256"}, {JwtAlg::kPS384, "PS384"}, {JwtAlg::kPS512, "PS512"}, {JwtAlg::kES256, "ES256"},
    {JwtAlg::kES384, "ES384"}, {JwtAlg::kES512, "ES512"}, {JwtAlg::kEdDSA, "EdDSA"},
};

const EVP_MD* Digest(JwtAlg a) {
  switch (a) {
    case JwtAlg::kHS256: case JwtAlg::kRS256: case JwtAlg::kPS256: case JwtAlg::kES256: return EVP_sha256();
    case JwtAlg::kRS384: case JwtAlg::kPS384: case JwtAlg::kES384: return EVP_sha384();
    case JwtAlg::kRS512: case JwtAlg::kPS512: case JwtAlg::kES512: return EVP_sha512();
    case JwtAlg::kEdDSA: break;
  }
  return nullptr;  // Ed25519 hashes internally
}

bool IsPss(JwtAlg a) { return a == JwtAlg::kPS256 || a == JwtAlg::kPS384 || a == JwtAlg::kPS512; }

// Bytes of one ECDSA coordinate (R or S) for the curve of the algorithm; 0: not ECDSA.
size_t EcBytes(JwtAlg a) {
  return a == JwtAlg::kES256 ? 32 : a == JwtAlg::kES384 ? 48 : a == JwtAlg::kES512 ? 66 : 0;
}

// JWS carries an ECDSA signature as R || S, both fixed width (RFC 7518
// section 3.4); OpenSSL verifies the DER form.
bool EcdsaRawToDer(std::string_view raw, size_t n, std::string* der) {
  if (raw.size() != 2 * n) return false;
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  BIGNUM* r = BN_bin2bn(bytes, static_cast<int>(n), nullptr);
  BIGNUM* s = BN_bin2bn(bytes + n, static_cast<int>(n), nullptr);
  ECDSA_SIG* sig = ECDSA_SIG_new();
  if (r == nullptr || s == nullptr || sig == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return false;
  }
  const int len = i2d_ECDSA_SIG(sig, nullptr);
  bool ok = len > 0;
  if (ok) {
    der->resize(static_cast<size_t>(len));
    unsigned char* p = reinterpret_cast<unsigned char*>(&(*der)[0]);
    ok = i2d_ECDSA_SIG(sig, &p) == len;
  }
  ECDSA_SIG_free(sig);
  return ok;
}

bool VerifySignature(const JwtKey& key, JwtAlg alg, std::string_view input, std::string_view sig) {
  if (!key.Allows(alg)) return false;
  if (alg == JwtAlg::kHS256) {
    if (key.secret.empty()) return false;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (HMAC(EVP_sha256(), key.secret.data(), static_cast<int>(key.secret.size()),
             reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len) == nullptr)
      return false;
    return sig.size() == len && CRYPTO_memcmp(sig.data(), mac, len) == 0;
  }
  if (!key.pkey) return false;
  std::string der;
  if (EcBytes(alg) != 0) {
    if (!EcdsaRawToDer(sig, EcBytes(alg), &der)) return false;
    sig = der;
  }
  if (alg == JwtAlg::kEdDSA && sig.size() != 64) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  bool ok = ctx != nullptr && EVP_DigestVerifyInit(ctx, &pctx, Digest(alg), nullptr, key.pkey.get()) == 1;
  if (ok && IsPss(alg))  // RFC 7518 section 3.5: MGF1 with the same hash, salt as long as the hash
    ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1 &&
         EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, Digest(alg)) == 1;
  ok = ok && EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                              reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  ERR_clear_error();
  return ok;
}

// Duplicate member names: RapidJSON finds the first, Postgres's jsonb keeps
// the last. Refused, so that the gateway and SQL never read different claims.
bool HasDuplicateNames(const rapidjson::Value& obj) {
  std::vector<std::string_view> names;
  names.reserve(obj.MemberCount());
  for (const auto& m : obj.GetObject()) names.emplace_back(m.name.GetString(), m.name.GetStringLength());
  std::sort(names.begin(), names.end());
  return std::adjacent_find(names.begin(), names.end()) != names.end();
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

// The value at a dotted path of member names; a name may itself contain
// dots (tried whole first, then split at the last dot, and so on).
const rapidjson::Value* AtPath(const rapidjson::Value& v, std::string_view path) {
  if (path.empty()) return &v;
  if (!v.IsObject()) return nullptr;
  for (size_t end = path.size(); end > 0;) {
    rapidjson::Value name(rapidjson::StringRef(path.data(), static_cast<rapidjson::SizeType>(end)));
    auto it = v.FindMember(name);
    if (it != v.MemberEnd()) {
      if (end == path.size()) return &it->value;
      if (const rapidjson::Value* found = AtPath(it->value, path.substr(end + 1))) return found;
    }
    const size_t dot = path.rfind('.', end - 1);
    if (dot == std::string_view::npos) break;
    end = dot;
  }
  return nullptr;
}

bool InList(const std::vector<std::string>& list, std::string_view s) {
  return std::find(list.begin(), list.end(), s) != list.end();
}

struct ParsedToken {
  JwtAlg alg = JwtAlg::kHS256;
  bool has_kid = false;
  std::string kid;
  std::string_view signing_input;  // header.payload
  std::string_view payload_b64;
  std::string signature;
};

bool ParseToken(std::string_view token, ParsedToken* t, std::string* error) {
  if (token.size() > kMaxTokenBytes) {
    *error = "token is larger than " + std::to_string(kMaxTokenBytes) + " bytes";
    return false;
  }
  const size_t d1 = token.find('.');
  const size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos) {
    *error = "token is not a JWT";
    return false;
  }
  if (d1 > kMaxHeaderBytes) {
    *error = "token header is too large";
    return false;
  }
  std::string header;
  if (!Base64UrlDecode(token.substr(0, d1), &header) || !Base64UrlDecode(token.substr(d2 + 1), &t->signature)) {
    *error = "token is not base64url";
    return false;
  }
  rapidjson::Document h;
  ls::ParseUntrusted(h, header.data(), header.size());
  if (h.HasParseError() || !h.IsObject() || header.find('\0') != std::string::npos || HasDuplicateNames(h)) {
    *error = "token header is not a JSON object";
    return false;
  }
  auto alg = h.FindMember("alg");
  std::optional<JwtAlg> parsed;
  if (alg != h.MemberEnd() && alg->value.IsString())
    parsed = ParseJwtAlg(std::string_view(alg->value.GetString(), alg->value.GetStringLength()));
  if (!parsed) {
    // "none" and every algorithm not listed in jwt.h.
    *error = "token algorithm is not accepted";
    return false;
  }
  t->alg = *parsed;
  if (h.HasMember("crit")) {
    *error = "token header has critical extensions (crit), none is supported";
    return false;
  }
  auto kid = h.FindMember("kid");
  if (kid != h.MemberEnd()) {
    if (!kid->value.IsString() || kid->value.GetStringLength() > 512) {
      *error = "token kid is not a string";
      return false;
    }
    t->has_kid = true;
    t->kid.assign(kid->value.GetString(), kid->value.GetStringLength());
  }
  t->signing_input = token.substr(0, d2);
  t->payload_b64 = token.substr(d1 + 1, d2 - d1 - 1);
  return true;
}

bool CheckClaims(std::string payload, const JwtPolicy& policy, int64_t now, JwtClaims* claims, std::string* error) {
  // RapidJSON reads a NUL byte as the end of its input and skips a UTF-8
  // byte order mark; Postgres would do neither with the kept text.
  if (payload.compare(0, 3, "\xEF\xBB\xBF") == 0) payload.erase(0, 3);
  rapidjson::Document p;
  ls::ParseUntrusted(p, payload.data(), payload.size());
  if (p.HasParseError() || !p.IsObject() || payload.find('\0') != std::string::npos || HasDuplicateNames(p)) {
    *error = "token claims are not a JSON object";
    return false;
  }
  const double when = static_cast<double>(now);
  auto exp = p.FindMember("exp");
  if (exp != p.MemberEnd()) {
    if (!exp->value.IsNumber() || !std::isfinite(exp->value.GetDouble())) {
      *error = "token exp is not a number";
      return false;
    }
    const double e = exp->value.GetDouble();
    if (when > e + static_cast<double>(policy.leeway_s)) {
      *error = "token has expired";
      return false;
    }
    claims->exp = e >= 9.0e18 ? INT64_MAX : static_cast<int64_t>(e);
  }
  auto nbf = p.FindMember("nbf");
  if (nbf != p.MemberEnd() && (!nbf->value.IsNumber() || !std::isfinite(nbf->value.GetDouble()) ||
                               when + static_cast<double>(policy.leeway_s) < nbf->value.GetDouble())) {
    *error = "token is not valid yet";
    return false;
  }
  if (!policy.issuers.empty()) {
    auto iss = p.FindMember("iss");
    if (iss == p.MemberEnd() || !iss->value.IsString() ||
        !InList(policy.issuers, std::string_view(iss->value.GetString(), iss->value.GetStringLength()))) {
      *error = "token issuer is not accepted";
      return false;
    }
  }
  if (!policy.audiences.empty()) {
    auto aud = p.FindMember("aud");
    bool match = false;
    if (aud != p.MemberEnd() && aud->value.IsString())
      match = InList(policy.audiences, std::string_view(aud->value.GetString(), aud->value.GetStringLength()));
    else if (aud != p.MemberEnd() && aud->value.IsArray())
      for (const auto& a : aud->value.GetArray())
        match = match || (a.IsString() && InList(policy.audiences, std::string_view(a.GetString(), a.GetStringLength())));
    if (!match) {
      *error = "token audience is not accepted";
      return false;
    }
  }
  if (const rapidjson::Value* scope = AtPath(p, policy.stores_claim); scope && scope->IsObject()) {
    if (!StringSet(*scope, "read", &claims->read) || !StringSet(*scope, "write", &claims->write)) {
      *error = "token read/write claims must be strings or arrays of strings";
      return false;
    }
  }
  // The bytes the signature covers (less a byte order mark): one JSON
  // object in valid UTF-8 without NUL (libpq takes it as a C string).
  claims->json = std::move(payload);
  return true;
}

}  // namespace

std::optional<JwtAlg> ParseJwtAlg(std::string_view name) {
  for (const AlgName& a : kAlgs)
    if (name == a.name) return a.alg;
  return std::nullopt;
}

const char* JwtAlgName(JwtAlg alg) {
  for (const AlgName& a : kAlgs)
    if (a.alg == alg) return a.name;
  return "?";
}

bool JwtKey::Allows(JwtAlg alg) const { return std::find(algs.begin(), algs.end(), alg) != algs.end(); }

bool Base64UrlDecode(std::string_view in, std::string* out) {
  if (in.size() % 4 == 1) return false;
  out->clear();
  out->reserve(in.size() / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (char ch : in) {
    int v;
    if (ch >= 'A' && ch <= 'Z') v = ch - 'A';
    else if (ch >= 'a' && ch <= 'z') v = ch - 'a' + 26;
    else if (ch >= '0' && ch <= '9') v = ch - '0' + 52;
    else if (ch == '-') v = 62;
    else if (ch == '_') v = 63;
    else return false;  // '+', '/', '=', whitespace: not base64url
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

JwtKey HmacKey(std::string secret) {
  JwtKey k;
  k.algs = {JwtAlg::kHS256};
  k.secret = std::move(secret);
  k.type = "HMAC";
  return k;
}

JwtVerdict VerifyJwtWith(std::string_view token, const std::vector<JwtKey>& fixed, const JwksKeys* jwks,
                         const JwtPolicy& policy, int64_t now, JwtClaims* claims, std::string* error) {
  ParsedToken t;
  if (!ParseToken(token, &t, error)) return JwtVerdict::kInvalid;
  // Candidates: keys that allow the token's algorithm and whose kid matches
  // (a key without kid matches any token; a token without kid any key).
  std::vector<const JwtKey*> candidates;
  for (const JwtKey& k : fixed)
    if (k.Allows(t.alg)) candidates.push_back(&k);
  bool kid_known = false;
  if (jwks != nullptr) {
    for (const JwtKey& k : jwks->keys) {
      if (t.has_kid && !k.kid.empty() && k.kid != t.kid) continue;
      kid_known = true;
      if (k.Allows(t.alg)) candidates.push_back(&k);
    }
  }
  const JwtKey* used = nullptr;
  for (const JwtKey* k : candidates)
    if (VerifySignature(*k, t.alg, t.signing_input, t.signature)) {
      used = k;
      break;
    }
  if (used == nullptr) {
    if (jwks != nullptr && (!jwks->loaded || (t.has_kid && !kid_known))) {
      *error = jwks->loaded ? "no signing key with kid " + t.kid : std::string("signing keys are not loaded yet");
      return JwtVerdict::kUnknownKey;
    }
    if (candidates.empty())
      *error = std::string("no key accepts algorithm ") + JwtAlgName(t.alg) + (t.has_kid ? " with kid " + t.kid : "");
    else
      *error = "token signature is invalid";
    return JwtVerdict::kInvalid;
  }
  std::string payload;
  if (!Base64UrlDecode(t.payload_b64, &payload)) {
    *error = "token is not base64url";
    return JwtVerdict::kInvalid;
  }
  JwtClaims out;
  if (!CheckClaims(std::move(payload), policy, now, &out, error)) return JwtVerdict::kInvalid;
  out.kid = t.kid;
  out.alg = JwtAlgName(t.alg);
  *claims = std::move(out);
  return JwtVerdict::kValid;
}

bool VerifyJwt(std::string_view token, std::string_view secret, int64_t now, JwtClaims* claims, std::string* error) {
  const std::vector<JwtKey> keys = {HmacKey(std::string(secret))};
  return VerifyJwtWith(token, keys, nullptr, JwtPolicy{}, now, claims, error) == JwtVerdict::kValid;
}

}  // namespace gw
