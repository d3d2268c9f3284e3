// JSON Web Tokens (RFC 7519, JWS compact form RFC 7515), verified with
// OpenSSL 3: HS256 (a shared secret), RS256/384/512 and PS256/384/512 (RSA),
// ES256/384/512 (ECDSA P-256/384/521) and EdDSA (Ed25519).
//
// The key decides the algorithm, never the token: every key carries the set
// of algorithms its type allows (an RSA key: RS* and PS*; an EC key: the one
// ES* of its curve; Ed25519: EdDSA; the secret: HS256), and a token is checked
// only against keys that allow its `alg`. So an RSA public key is never used
// as an HMAC secret, and `none` (or any unknown alg) is refused. The header's
// key-fetching members (`jku`, `x5u`, `jwk`, `x5c`) are ignored; `crit` is
// refused (no extension is understood).
//
// After the signature: `exp` and `nbf` (with a leeway), `iss` and `aud` when
// configured, and the `read`/`write` store claims at a configurable path.
// The payload is kept as signed (JSON text) for the database (livestore.claims).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

typedef struct evp_pkey_st EVP_PKEY;

namespace gw {

enum class JwtAlg { kHS256, kRS256, kRS384, kRS512, kPS256, kPS384, kPS512, kES256, kES384, kES512, kEdDSA };

std::optional<JwtAlg> ParseJwtAlg(std::string_view name);
const char* JwtAlgName(JwtAlg alg);

// One verification key, with the algorithms its type allows.
struct JwtKey {
  std::string kid;                  // empty: a configured key (secret, PEM) that matches any kid
  std::vector<JwtAlg> algs;         // never empty
  std::shared_ptr<EVP_PKEY> pkey;   // public key (asymmetric algorithms)
  std::string secret;               // HS256
  std::string type;                 // "RSA-2048", "EC P-256", "Ed25519", "HMAC": for logs
  bool Allows(JwtAlg alg) const;
};

// The keys of a JWKS source (URL or file), as last fetched.
struct JwksKeys {
  std::vector<JwtKey> keys;
  bool loaded = false;  // a document was fetched and parsed at least once
};

// What a token must satisfy besides its signature.
struct JwtPolicy {
  std::vector<std::string> issuers;    // non-empty: `iss` must be one of them
  std::vector<std::string> audiences;  // non-empty: `aud` (string or array) must contain one of them
  int64_t leeway_s = 30;               // clock skew allowed on exp and nbf
  // Where the `read`/`write` claims are: "" = top level; "app_metadata.livestore"
  // = nested objects. A claim name that itself contains dots (Auth0's
  // "https://example.com/livestore") is matched whole first.
  std::string stores_claim;
};

struct JwtClaims {
  std::set<std::string> read, write;
  int64_t exp = 0;  // 0 = none
  // The verified payload exactly as signed: a JSON object (valid UTF-8, all
  // claims, nested ones included). Handed to Postgres as livestore.claims and
  // to the authorization function.
  std::string json;
  std::string kid, alg;  // of the verified token, for logs

  bool MayRead(const std::string& store) const { return read.count("*") || read.count(store); }
  bool MayWrite(const std::string& store) const { return write.count("*") || write.count(store); }
};

enum class JwtVerdict {
  kValid,
  kInvalid,     // malformed, bad signature, wrong algorithm for its key, expired, wrong iss/aud...: 401
  kUnknownKey,  // a JWKS source is configured and does not (yet) hold the token's key: refetch
};

// Longest accepted token, and longest header (base64url text).
constexpr size_t kMaxTokenBytes = 16 * 1024;
constexpr size_t kMaxHeaderBytes = 2048;

// Verifies `token` against the configured keys (`fixed`: the secret and PEM
// keys) and the JWKS keys (`jwks`, may be null). On kValid, *claims holds
// the payload; otherwise *error says why.
JwtVerdict VerifyJwtWith(std::string_view token, const std::vector<JwtKey>& fixed, const JwksKeys* jwks,
                         const JwtPolicy& policy, int64_t now_unix_s, JwtClaims* claims, std::string* error);

// HS256 with one secret and the default policy (the original --jwt-secret mode).
bool VerifyJwt(std::string_view token, std::string_view secret, int64_t now_unix_s, JwtClaims* claims,
               std::string* error);

// The key of --jwt-secret.
JwtKey HmacKey(std::string secret);

// Key import (src/jwk.cpp). A JWKS document ({"keys":[...]}): keys that are
// not signature keys (`use` other than "sig"), symmetric ("oct"), of an
// unsupported type or curve, RSA under 2048 bits, EC points off the curve,
// or whose `alg` does not fit their type are skipped, each with a reason in
// *skipped. Returns false (with *error) when the document is not a JWKS or
// holds no usable key.
bool ParseJwks(std::string_view json, std::vector<JwtKey>* keys, std::vector<std::string>* skipped, std::string* error);
// PEM public keys ("PUBLIC KEY", "RSA PUBLIC KEY") and certificates; several
// may follow one another. A private key is refused.
bool ParsePemKeys(std::string_view pem, std::vector<JwtKey>* keys, std::string* error);

// base64url without padding (RFC 7515 section 2), strict: false on any other byte.
bool Base64UrlDecode(std::string_view in, std::string* out);

}  // namespace gw
