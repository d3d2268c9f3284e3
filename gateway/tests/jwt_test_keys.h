// Test keys and an independent JWT signer for the unit tests (OpenSSL's
// EVP signing side, which the gateway never uses): keys generated at test
// time, exported as JWK members and PEM, tokens signed with any algorithm.
#pragma once
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>
#include <string>

namespace gwtest {

inline std::string B64Url(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(&out[0]),
                                reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    else if (c == '/') c = '_';
  }
  return out;
}

using Pkey = std::shared_ptr<EVP_PKEY>;

inline Pkey NewRsa(size_t bits = 2048) { return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits), EVP_PKEY_free); }
inline Pkey NewEc(const char* curve) { return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve), EVP_PKEY_free); }
inline Pkey NewEd25519() { return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), EVP_PKEY_free); }

// Shared across tests: RSA generation takes a while.
inline Pkey RsaKey() {
  static Pkey k = NewRsa();
  return k;
}
inline Pkey RsaKey2() {
  static Pkey k = NewRsa();
  return k;
}
inline Pkey P256Key() {
  static Pkey k = NewEc("P-256");
  return k;
}
inline Pkey P384Key() {
  static Pkey k = NewEc("P-384");
  return k;
}
inline Pkey P521Key() {
  static Pkey k = NewEc("P-521");
  return k;
}
inline Pkey EdKey() {
  static Pkey k = NewEd25519();
  return k;
}

inline std::string Bn(EVP_PKEY* k, const char* param, size_t pad = 0) {
  BIGNUM* bn = nullptr;
  EVP_PKEY_get_bn_param(k, param, &bn);
  std::string out(pad ? pad : static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(&out[0]), static_cast<int>(out.size()));
  BN_free(bn);
  return out;
}

// The public JWK of `k` (no alg unless given), as JSON text.
inline std::string Jwk(const Pkey& k, const std::string& kid, const std::string& extra = "") {
  std::string body;
  const int id = EVP_PKEY_get_base_id(k.get());
  if (id == EVP_PKEY_RSA) {
    body = R"("kty":"RSA","n":")" + B64Url(Bn(k.get(), OSSL_PKEY_PARAM_RSA_N)) + R"(","e":")" +
           B64Url(Bn(k.get(), OSSL_PKEY_PARAM_RSA_E)) + "\"";
  } else if (id == EVP_PKEY_EC) {
    const int bits = EVP_PKEY_get_bits(k.get());
    const size_t n = static_cast<size_t>((bits + 7) / 8);
    const char* crv = bits == 256 ? "P-256" : bits == 384 ? "P-384" : "P-521";
    body = std::string(R"("kty":"EC","crv":")") + crv + R"(","x":")" +
           B64Url(Bn(k.get(), OSSL_PKEY_PARAM_EC_PUB_X, n)) + R"(","y":")" +
           B64Url(Bn(k.get(), OSSL_PKEY_PARAM_EC_PUB_Y, n)) + "\"";
  } else {
    unsigned char raw[32];
    size_t len = sizeof raw;
    EVP_PKEY_get_raw_public_key(k.get(), raw, &len);
    body = R"("kty":"OKP","crv":"Ed25519","x":")" + B64Url(std::string(reinterpret_cast<char*>(raw), len)) + "\"";
  }
  if (!kid.empty()) body += R"(,"kid":")" + kid + "\"";
  if (!extra.empty()) body += "," + extra;
  return "{" + body + "}";
}

inline std::string Jwks(std::initializer_list<std::string> jwks) {
  std::string out = "{\"keys\":[";
  bool first = true;
  for (const std::string& j : jwks) {
    if (!first) out += ',';
    first = false;
    out += j;
  }
  return out + "]}";
}

inline std::string Pem(const Pkey& k) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, k.get());
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

// Signs `input` as algorithm `alg` ("RS256", "PS384", "ES256", "EdDSA", ...).
inline std::string SignBytes(const Pkey& k, const std::string& alg, const std::string& input) {
  const EVP_MD* md = nullptr;
  if (alg != "EdDSA") {
    const std::string bits = alg.substr(2);
    md = bits == "256" ? EVP_sha256() : bits == "384" ? EVP_sha384() : EVP_sha512();
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  EVP_DigestSignInit(ctx, &pctx, md, nullptr, k.get());
  if (alg[0] == 'P') {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
  }
  size_t len = 0;
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(&sig[0]), &len,
                 reinterpret_cast<const unsigned char*>(input.data()), input.size());
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  if (alg[0] == 'E' && alg != "EdDSA") {  // DER -> R || S
    const size_t n = alg == "ES256" ? 32 : alg == "ES384" ? 48 : 66;
    const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* s = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    std::string raw(2 * n, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(s), reinterpret_cast<unsigned char*>(&raw[0]), static_cast<int>(n));
    BN_bn2binpad(ECDSA_SIG_get0_s(s), reinterpret_cast<unsigned char*>(&raw[n]), static_cast<int>(n));
    ECDSA_SIG_free(s);
    return raw;
  }
  return sig;
}

inline std::string HmacBytes(const std::string& secret, const std::string& input) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return std::string(reinterpret_cast<char*>(mac), len);
}

// A token with this exact header and payload, signed with `k` as `alg`.
inline std::string SignedToken(const Pkey& k, const std::string& alg, const std::string& header,
                               const std::string& payload) {
  const std::string input = B64Url(header) + "." + B64Url(payload);
  return input + "." + B64Url(SignBytes(k, alg, input));
}

inline std::string Token(const Pkey& k, const std::string& alg, const std::string& kid, const std::string& payload) {
  const std::string header = "{\"alg\":\"" + alg + "\",\"typ\":\"JWT\"" + (kid.empty() ? "" : ",\"kid\":\"" + kid + "\"") + "}";
  return SignedToken(k, alg, header, payload);
}

}  // namespace gwtest
