// Who may pull from and push to which store.
//
// JWT modes (--jwt-secret, --jwt-jwks-url, --jwt-jwks-file, --jwt-public-key;
// key_store.h): a token is looked for, in this order, in
//   1. the `Authorization: Bearer` header (a proxy in front adds it; the
//      stock client cannot),
//   2. the cookie --auth-cookie (a browser sends it on same-origin requests;
//      on a push only with `content-type: application/json`, a request that a
//      cross-site page cannot make without a CORS preflight),
//   3. the query parameter --auth-query-param of the endpoint URL (`?token=`;
//      the client keeps it on every request: pull, push and ping),
//   4. on pulls, the sync payload's `authToken` (inside `args`).
// The first token that verifies decides; when none does, 401. Access then
// comes from --authorize-function (authz.h) or else from the token's
// read/write claims (at --jwt-stores-claim): 403 when not granted.
// --auth-token: one shared token, checked on pulls (payload.authToken).
// Neither: open (only allowed on loopback unless --insecure).
//
// A token whose key a JWKS fetch may still bring, or an authorization
// function that cannot be asked now, gives `pending`: a pull is then held
// (never answered non-2xx for a transient fault), a push answered 503.
#pragma once
#include <optional>
#include <string>

#include "gw/authz.h"
#include "gw/server.h"

namespace gw {

// Waiters channel notified when the JWKS keys change (held pulls retry).
inline constexpr const char* kAuthWaitChannel = "\x03" "auth";

struct Credentials {
  std::optional<std::string> payload_token;  // pulls: args.payload.authToken
  std::optional<std::string> query_token;    // ?token= of the endpoint URL
};

struct AuthResult {
  bool ok = true;
  bool pending = false;  // transient: try again later (status 503)
  int status = 200;      // 401 (no or bad credentials), 403 (not for this store), 500, 503
  std::string message;
  // Who is asking, for the database (livestore.claims): the verified JWT's
  // payload as its JSON object text; "{}" when no JWT was verified (no
  // auth, --auth-token, an anonymous push).
  std::string claims_json = "{}";
};

AuthResult Authorize(Server& s, Request& r, const Credentials& creds, const std::string& store_id, Access access);

// The token in the endpoint URL's query string. The stock client appends its
// pull arguments with a plain `?args=`, so an endpoint configured as
// `/api/electric?token=T` pulls `/api/electric?token=T?args=...`: the part of
// the value before `?args=` is the token.
std::optional<std::string> QueryToken(const Config& c, MHD_Connection* conn);

// True when the request carries credentials a shared cache does not key on
// (an Authorization header or the auth cookie) and tokens are checked: its
// pull answer must not be stored (see gw/pull_cache.h).
bool CredentialsOutsideUrl(Server& s, MHD_Connection* conn);

// Start-up rule: a non-loopback listener needs auth, unless --insecure.
bool AuthRequiredButMissing(const Config& config);

}  // namespace gw
