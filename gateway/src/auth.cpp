#include "gw/auth.h"

#include <cctype>
#include <cstring>
#include <ctime>
#include <vector>

#include "gw/auth_config.h"
#include "gw/jwt.h"
#include "gw/log.h"

namespace gw {
namespace {

bool SameSecret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() != b.size();
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

AuthResult Deny(int status, std::string message) {
  AuthResult denied;
  denied.ok = false;
  denied.status = status;
  denied.message = std::move(message);
  return denied;
}

AuthResult Pending(std::string message) {
  AuthResult p = Deny(503, std::move(message));
  p.pending = true;
  return p;
}

bool JsonBody(MHD_Connection* conn) {
  const char* type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
  return type != nullptr && strncasecmp(type, "application/json", 16) == 0;
}

struct Candidate {
  const char* channel;
  std::string token;
};

std::vector<Candidate> Candidates(const Config& c, Request& r, const Credentials& creds, Access access) {
  std::vector<Candidate> out;
  if (const char* h = MHD_lookup_connection_value(r.conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
      h && strncasecmp(h, "Bearer ", 7) == 0) {
    std::string t(h + 7);
    while (!t.empty() && t.front() == ' ') t.erase(0, 1);
    while (!t.empty() && t.back() == ' ') t.pop_back();
    if (!t.empty()) out.push_back({"authorization header", std::move(t)});
  }
  // A cookie rides along on any request the browser makes, a cross-site
  // form post included: a push counts it only when it could not come from
  // such a page (JSON needs a CORS preflight, which credentials fail).
  if (const char* v = MHD_lookup_connection_value(r.conn, MHD_COOKIE_KIND, c.auth_cookie.c_str());
      v && *v && (access == Access::kRead || JsonBody(r.conn)))
    out.push_back({"cookie", v});
  if (creds.query_token && !creds.query_token->empty()) out.push_back({"query", *creds.query_token});
  if (access == Access::kRead && creds.payload_token && !creds.payload_token->empty())
    out.push_back({"payload", *creds.payload_token});
  return out;
}

}  // namespace

std::optional<std::string> QueryToken(const Config& c, MHD_Connection* conn) {
  if (c.auth_query_param.empty()) return std::nullopt;
  const char* v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, c.auth_query_param.c_str());
  if (v == nullptr) return std::nullopt;
  std::string token(v);
  if (size_t cut = token.find("?args="); cut != std::string::npos) token.resize(cut);
  return token;
}

AuthResult Authorize(Server& s, Request& r, const Credentials& creds, const std::string& store_id, Access access) {
  const Config& c = s.config();
  if (s.keys().enabled()) {
    const std::vector<Candidate> tokens = Candidates(c, r, creds, access);
    if (tokens.empty()) {
      if (access == Access::kWrite && c.allow_anonymous_push) return {};
      return Deny(401, "missing credentials");
    }
    JwtClaims claims;
    std::string first_error;
    bool verified = false;
    for (const Candidate& t : tokens) {
      std::string error;
      const KeyStore::Result v = s.keys().Verify(t.token, std::time(nullptr), &claims, &error);
      if (v == KeyStore::Result::kValid) {
        verified = true;
        break;
      }
      if (v == KeyStore::Result::kPending) {
        s.metrics().AuthPending();
        return Pending("signing keys are not available yet: " + error);
      }
      if (first_error.empty()) first_error = error + " (" + t.channel + ")";
    }
    if (!verified) return Deny(401, first_error);
    const char* verb = access == Access::kRead ? "read" : "write";
    if (!c.authorize_function.empty()) {
      std::string error;
      switch (AuthorizeInSql(s, claims.json, store_id, access, &error)) {
        case Decision::kAllow: break;
        case Decision::kDeny: return Deny(403, std::string("not allowed to ") + verb + " store " + store_id);
        case Decision::kUnavailable:
          s.metrics().AuthPending();
          return Pending("authorization unavailable");
        case Decision::kFailed: {
          // Never a "yes"; a pull is held like for an outage (a non-2xx
          // answer would end the client's sync), a push gets 500.
          AuthResult failed = Pending("the authorization function failed");
          if (access == Access::kWrite) failed.status = 500;
          return failed;
        }
      }
    } else if (!(access == Access::kRead ? claims.MayRead(store_id) : claims.MayWrite(store_id))) {
      return Deny(403, std::string("token may not ") + verb + " store " + store_id);
    }
    AuthResult granted;
    granted.claims_json = std::move(claims.json);
    return granted;
  }
  if (!c.auth_token.empty() && access == Access::kRead) {
    if (!creds.payload_token || !SameSecret(*creds.payload_token, c.auth_token)) return Deny(401, "invalid auth token");
  }
  return {};
}

bool CredentialsOutsideUrl(Server& s, MHD_Connection* conn) {
  if (!s.keys().enabled()) return false;  // the answer does not depend on them
  return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION) != nullptr ||
         MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, s.config().auth_cookie.c_str()) != nullptr;
}

bool JwtConfigured(const Config& c) {
  return !c.jwt_secret.empty() || !c.jwt_jwks_url.empty() || !c.jwt_jwks_file.empty() ||
         !c.jwt_public_key_file.empty();
}

bool AuthRequiredButMissing(const Config& c) {
  const bool loopback = c.listen_host == "127.0.0.1" || c.listen_host == "::1" || c.listen_host == "localhost" ||
                        c.listen_host.rfind("127.", 0) == 0;
  return !loopback && !JwtConfigured(c) && c.auth_token.empty() && !c.insecure;
}

std::string AuthConfigError(const Config& c) {
  if (!c.jwt_jwks_url.empty() && !c.jwt_jwks_file.empty())
    return "--jwt-jwks-url and --jwt-jwks-file: give one JWKS source";
  // A provider's keys sign every tenant's (or project's) tokens: without an
  // issuer check a token of any of them would do.
  if (!c.jwt_jwks_url.empty() && c.jwt_issuers.empty())
    return "--jwt-jwks-url needs --jwt-issuer (the iss of your tenant or project)";
  if (!c.jwt_jwks_url.empty() && c.jwt_jwks_url.rfind("https://", 0) != 0 && c.jwt_jwks_url.rfind("http://", 0) != 0)
    return "--jwt-jwks-url must be an http(s) URL";
  if (!c.authorize_function.empty()) {
    if (!JwtConfigured(c)) return "--authorize-function needs JWTs (--jwt-jwks-url, --jwt-secret, ...)";
    // schema.function, plain identifiers (the SQL that calls it is built from it).
    const std::string& f = c.authorize_function;
    const size_t dot = f.find('.');
    auto ident = [](const std::string& s) {
      if (s.empty() || s.size() > 63 || std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '$') return false;
      for (unsigned char ch : s)
        if (!(std::isalnum(ch) || ch == '_' || ch == '$')) return false;
      return true;
    };
    if (dot == std::string::npos || !ident(f.substr(0, dot)) || !ident(f.substr(dot + 1)))
      return "--authorize-function: expected schema.function (letters, digits, _)";
  }
  if (!c.auth_query_param.empty() && c.auth_query_param == "args")
    return "--auth-query-param cannot be args (the pull's own parameter)";
  return "";
}

}  // namespace gw
