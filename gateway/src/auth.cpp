#include "gw/auth.h"

#include <ctime>
#include <cstring>

#include "gw/jwt.h"

namespace gw {
namespace {

bool SameSecret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() != b.size();
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

std::optional<std::string> BearerOrCookie(const Config& c, Request& r) {
  if (const char* h = MHD_lookup_connection_value(r.conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
      h && strncasecmp(h, "Bearer ", 7) == 0)
    return std::string(h + 7);
  if (const char* v = MHD_lookup_connection_value(r.conn, MHD_COOKIE_KIND, c.auth_cookie.c_str())) return std::string(v);
  return std::nullopt;
}

AuthResult Deny(int status, std::string message) {
  AuthResult denied;
  denied.ok = false;
  denied.status = status;
  denied.message = std::move(message);
  return denied;
}

}  // namespace

AuthResult Authorize(const Config& c, Request& r, const std::optional<std::string>& payload_token,
                     const std::string& store_id, Access access) {
  if (!c.jwt_secret.empty()) {
    std::optional<std::string> token = BearerOrCookie(c, r);
    if (!token && access == Access::kRead) token = payload_token;
    if (!token) {
      if (access == Access::kWrite && c.allow_anonymous_push) return {};
      return Deny(401, "missing credentials");
    }
    JwtClaims claims;
    std::string error;
    if (!VerifyJwt(*token, c.jwt_secret, std::time(nullptr), &claims, &error)) return Deny(401, error);
    const bool allowed = access == Access::kRead ? claims.MayRead(store_id) : claims.MayWrite(store_id);
    if (!allowed)
      return Deny(403, std::string("token may not ") + (access == Access::kRead ? "read" : "write") + " store " + store_id);
    AuthResult granted;
    granted.claims_json = std::move(claims.json);
    return granted;
  }
  if (!c.auth_token.empty() && access == Access::kRead) {
    if (!payload_token || !SameSecret(*payload_token, c.auth_token)) return Deny(401, "invalid auth token");
  }
  return {};
}

bool AuthRequiredButMissing(const Config& c) {
  const bool loopback = c.listen_host == "127.0.0.1" || c.listen_host == "::1" || c.listen_host == "localhost" ||
                        c.listen_host.rfind("127.", 0) == 0;
  return !loopback && c.jwt_secret.empty() && c.auth_token.empty() && !c.insecure;
}

}  // namespace gw
