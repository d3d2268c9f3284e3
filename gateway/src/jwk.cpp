// Public keys for JWT verification, imported with OpenSSL 3: JWK members
// (RFC 7517/7518: RSA n/e, EC crv/x/y, OKP crv/x) through OSSL_PARAM and
// EVP_PKEY_fromdata, PEM through the OSSL_DECODER (keys) and X509
// (certificates). Each key gets the algorithms its type allows (jwt.h).
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstring>

#include "gw/jwt.h"
#include "livestore/core/json.h"

namespace gw {
namespace {

constexpr size_t kMaxJwksBytes = 1u << 20;
constexpr size_t kMaxKeys = 100;
constexpr int kMinRsaBits = 2048;  // RFC 7518 section 3.3

using PkeyPtr = std::shared_ptr<EVP_PKEY>;
PkeyPtr Own(EVP_PKEY* p) { return PkeyPtr(p, EVP_PKEY_free); }

std::string Str(const rapidjson::Value& obj, const char* name, bool* present = nullptr) {
  auto it = obj.FindMember(name);
  const bool ok = it != obj.MemberEnd() && it->value.IsString();
  if (present) *present = it != obj.MemberEnd();
  return ok ? std::string(it->value.GetString(), it->value.GetStringLength()) : std::string();
}

bool B64Member(const rapidjson::Value& obj, const char* name, std::string* out) {
  auto it = obj.FindMember(name);
  return it != obj.MemberEnd() && it->value.IsString() &&
         Base64UrlDecode(std::string_view(it->value.GetString(), it->value.GetStringLength()), out) && !out->empty();
}

// Builds a public key of `type` ("RSA", "EC") from parameters.
PkeyPtr FromData(const char* type, OSSL_PARAM* params) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* pkey = nullptr;
  if (ctx == nullptr || EVP_PKEY_fromdata_init(ctx) != 1 ||
      EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
    pkey = nullptr;
  EVP_PKEY_CTX_free(ctx);
  return Own(pkey);
}

// The point is on its curve (EVP_PKEY_fromdata does not promise that).
bool PublicCheck(EVP_PKEY* pkey) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr);
  const bool ok = ctx != nullptr && EVP_PKEY_public_check(ctx) == 1;
  EVP_PKEY_CTX_free(ctx);
  return ok;
}

const std::vector<JwtAlg> kRsaAlgs = {JwtAlg::kRS256, JwtAlg::kRS384, JwtAlg::kRS512,
                                      JwtAlg::kPS256, JwtAlg::kPS384, JwtAlg::kPS512};

bool RsaKey(PkeyPtr pkey, JwtKey* key, std::string* why) {
  const int bits = pkey ? EVP_PKEY_get_bits(pkey.get()) : 0;
  if (bits < kMinRsaBits) {
    *why = pkey ? "RSA key of " + std::to_string(bits) + " bits (at least 2048 needed)" : "not a valid RSA key";
    return false;
  }
  key->pkey = std::move(pkey);
  key->algs = kRsaAlgs;
  key->type = "RSA-" + std::to_string(bits);
  return true;
}

struct Curve {
  const char* jwk;    // crv
  const char* group;  // OpenSSL group name
  JwtAlg alg;
  size_t bytes;
};
constexpr Curve kCurves[] = {
    {"P-256", "prime256v1", JwtAlg::kES256, 32},
    {"P-384", "secp384r1", JwtAlg::kES384, 48},
    {"P-521", "secp521r1", JwtAlg::kES512, 66},
};

bool EcKey(PkeyPtr pkey, const Curve& c, JwtKey* key, std::string* why) {
  if (!pkey || !PublicCheck(pkey.get())) {
    *why = std::string("not a valid ") + c.jwk + " public key";
    return false;
  }
  key->pkey = std::move(pkey);
  key->algs = {c.alg};
  key->type = std::string("EC ") + c.jwk;
  return true;
}

bool Ed25519Key(PkeyPtr pkey, JwtKey* key, std::string* why) {
  if (!pkey) {
    *why = "not a valid Ed25519 key";
    return false;
  }
  key->pkey = std::move(pkey);
  key->algs = {JwtAlg::kEdDSA};
  key->type = "Ed25519";
  return true;
}

bool JwkRsa(const rapidjson::Value& jwk, JwtKey* key, std::string* why) {
  std::string n, e;
  if (!B64Member(jwk, "n", &n) || !B64Member(jwk, "e", &e)) {
    *why = "RSA key without n and e";
    return false;
  }
  BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()), nullptr);
  BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM* params = nullptr;
  // e must be odd and > 1 (an even or unit exponent is no RSA key).
  if (bn_n && bn_e && bld && BN_is_odd(bn_e) && !BN_is_one(bn_e) &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1)
    params = OSSL_PARAM_BLD_to_param(bld);
  PkeyPtr pkey = params ? FromData("RSA", params) : nullptr;
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn_n);
  BN_free(bn_e);
  return RsaKey(std::move(pkey), key, why);
}

bool JwkEc(const rapidjson::Value& jwk, JwtKey* key, std::string* why) {
  const std::string crv = Str(jwk, "crv");
  const Curve* c = nullptr;
  for (const Curve& k : kCurves)
    if (crv == k.jwk) c = &k;
  if (c == nullptr) {
    *why = "EC curve '" + crv + "' is not supported";
    return false;
  }
  std::string x, y;
  if (!B64Member(jwk, "x", &x) || !B64Member(jwk, "y", &y) || x.size() != c->bytes || y.size() != c->bytes) {
    *why = std::string("EC key without x and y of ") + std::to_string(c->bytes) + " bytes";
    return false;
  }
  std::string point = "\x04" + x + y;  // uncompressed SEC1 point
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(c->group), 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, &point[0], point.size()),
      OSSL_PARAM_construct_end(),
  };
  return EcKey(FromData("EC", params), *c, key, why);
}

bool JwkOkp(const rapidjson::Value& jwk, JwtKey* key, std::string* why) {
  const std::string crv = Str(jwk, "crv");
  std::string x;
  if (crv != "Ed25519") {
    *why = "OKP curve '" + crv + "' is not supported (Ed25519 only)";
    return false;
  }
  if (!B64Member(jwk, "x", &x) || x.size() != 32) {
    *why = "Ed25519 key without x of 32 bytes";
    return false;
  }
  return Ed25519Key(Own(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                                     reinterpret_cast<const unsigned char*>(x.data()), x.size())),
                    key, why);
}

// One JWK; false with *why when it is skipped.
bool JwkToKey(const rapidjson::Value& jwk, JwtKey* key, std::string* why) {
  if (!jwk.IsObject()) {
    *why = "not an object";
    return false;
  }
  bool has_use = false, has_kid = false;
  const std::string kty = Str(jwk, "kty"), use = Str(jwk, "use", &has_use), alg = Str(jwk, "alg");
  key->kid = Str(jwk, "kid", &has_kid);
  if (has_kid && key->kid.empty()) {
    *why = "kid is not a non-empty string";
    return false;
  }
  if (has_use && use != "sig") {
    *why = "use is '" + use + "', not 'sig'";
    return false;
  }
  if (auto ops = jwk.FindMember("key_ops"); ops != jwk.MemberEnd()) {
    bool verify = false;
    if (ops->value.IsArray())
      for (const auto& o : ops->value.GetArray()) verify = verify || (o.IsString() && std::strcmp(o.GetString(), "verify") == 0);
    if (!verify) {
      *why = "key_ops does not include 'verify'";
      return false;
    }
  }
  bool ok;
  if (kty == "RSA") ok = JwkRsa(jwk, key, why);
  else if (kty == "EC") ok = JwkEc(jwk, key, why);
  else if (kty == "OKP") ok = JwkOkp(jwk, key, why);
  else if (kty == "oct") {
    *why = "symmetric (oct) keys are not taken from a JWKS";
    ok = false;
  } else {
    *why = "kty '" + kty + "' is not supported";
    ok = false;
  }
  if (!ok) return false;
  // A JWK that names its algorithm is pinned to it, which must fit its type.
  if (jwk.HasMember("alg")) {
    auto a = ParseJwtAlg(alg);
    if (!a || !key->Allows(*a)) {
      *why = "alg '" + alg + "' does not fit a " + key->type + " key";
      return false;
    }
    key->algs = {*a};
  }
  return true;
}

// The group name of an EC key, as OpenSSL calls it.
std::string GroupName(EVP_PKEY* pkey) {
  char name[64] = "";
  size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof name, &len) != 1) return "";
  return std::string(name, len);
}

bool PemKey(PkeyPtr pkey, JwtKey* key, std::string* why) {
  if (!pkey) {
    *why = "not a public key";
    return false;
  }
  switch (EVP_PKEY_get_base_id(pkey.get())) {
    case EVP_PKEY_RSA: return RsaKey(std::move(pkey), key, why);
    case EVP_PKEY_ED25519: return Ed25519Key(std::move(pkey), key, why);
    case EVP_PKEY_EC: {
      const std::string group = GroupName(pkey.get());
      for (const Curve& c : kCurves)
        if (group == c.group || group == c.jwk) return EcKey(std::move(pkey), c, key, why);
      *why = "EC curve '" + group + "' is not supported";
      return false;
    }
    default: break;
  }
  *why = std::string("key type ") + EVP_PKEY_get0_type_name(pkey.get()) + " is not supported";
  return false;
}

}  // namespace

bool ParseJwks(std::string_view json, std::vector<JwtKey>* keys, std::vector<std::string>* skipped,
               std::string* error) {
  if (json.size() > kMaxJwksBytes) {
    *error = "JWKS document larger than 1 MiB";
    return false;
  }
  rapidjson::Document doc;
  ls::ParseUntrusted(doc, json.data(), json.size());
  const rapidjson::Value* list = nullptr;
  if (!doc.HasParseError() && doc.IsObject())
    if (auto it = doc.FindMember("keys"); it != doc.MemberEnd() && it->value.IsArray()) list = &it->value;
  if (list == nullptr) {
    *error = "not a JWKS document ({\"keys\":[...]})";
    return false;
  }
  std::vector<JwtKey> out;
  size_t i = 0;
  for (const auto& jwk : list->GetArray()) {
    if (out.size() >= kMaxKeys) {
      skipped->push_back("keys after the first " + std::to_string(kMaxKeys));
      break;
    }
    JwtKey key;
    std::string why;
    if (JwkToKey(jwk, &key, &why)) out.push_back(std::move(key));
    else skipped->push_back("key " + std::to_string(i) + (key.kid.empty() ? "" : " (kid " + key.kid + ")") + ": " + why);
    ++i;
  }
  ERR_clear_error();
  if (out.empty()) {
    *error = "the JWKS document holds no usable signature key";
    return false;
  }
  *keys = std::move(out);
  return true;
}

bool ParsePemKeys(std::string_view pem, std::vector<JwtKey>* keys, std::string* error) {
  std::vector<JwtKey> out;
  for (size_t pos = 0;;) {
    const size_t begin = pem.find("-----BEGIN ", pos);
    if (begin == std::string_view::npos) break;
    const size_t label_end = pem.find("-----", begin + 11);
    if (label_end == std::string_view::npos) break;
    const std::string label(pem.substr(begin + 11, label_end - begin - 11));
    const std::string end_marker = "-----END " + label + "-----";
    const size_t end = pem.find(end_marker, label_end);
    if (end == std::string_view::npos) {
      *error = "PEM block " + label + " is not terminated";
      return false;
    }
    const std::string_view block = pem.substr(begin, end + end_marker.size() - begin);
    pos = end + end_marker.size();
    if (label.find("PRIVATE") != std::string::npos) {
      *error = "the PEM file holds a private key: give the public key only";
      return false;
    }
    BIO* bio = BIO_new_mem_buf(block.data(), static_cast<int>(block.size()));
    EVP_PKEY* pkey = nullptr;
    if (bio != nullptr) {
      if (label == "CERTIFICATE") {
        if (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
          pkey = X509_get_pubkey(cert);
          X509_free(cert);
        }
      } else {
        OSSL_DECODER_CTX* dctx =
            OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", nullptr, nullptr, EVP_PKEY_PUBLIC_KEY, nullptr, nullptr);
        if (dctx == nullptr || OSSL_DECODER_from_bio(dctx, bio) != 1) pkey = nullptr;
        OSSL_DECODER_CTX_free(dctx);
      }
      BIO_free(bio);
    }
    JwtKey key;
    std::string why;
    if (!PemKey(Own(pkey), &key, &why)) {
      ERR_clear_error();
      *error = "PEM block " + label + ": " + why;
      return false;
    }
    out.push_back(std::move(key));
  }
  ERR_clear_error();
  if (out.empty()) {
    *error = "no PEM public key found";
    return false;
  }
  *keys = std::move(out);
  return true;
}

}  // namespace gw
