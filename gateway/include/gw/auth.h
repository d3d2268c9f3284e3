// Who may pull from and push to which store.
//
// --jwt-secret: an HS256 JWT whose `read`/`write` claims name the store ids,
// taken from (first found) the `Authorization: Bearer` header, the cookie
// --auth-cookie, or, on pulls, the sync payload's `authToken` (the only
// credential the stock client sends by itself).
// --auth-token: one shared token, checked on pulls (payload.authToken).
// Neither: open (only allowed on loopback unless --insecure).
#pragma once
#include <optional>
#include <string>

#include "gw/server.h"

namespace gw {

enum class Access { kRead, kWrite };

struct AuthResult {
  bool ok = true;
  int status = 200;  // 401 (no or bad credentials) or 403 (not for this store)
  std::string message;
  // Who is asking, for the database (livestore.claims): the verified JWT's
  // payload as its JSON object text; "{}" when no JWT was verified (no
  // auth, --auth-token, an anonymous push).
  std::string claims_json = "{}";
};

AuthResult Authorize(const Config& config, Request& r, const std::optional<std::string>& payload_token,
                     const std::string& store_id, Access access);

// Start-up rule: a non-loopback listener needs auth, unless --insecure.
bool AuthRequiredButMissing(const Config& config);

}  // namespace gw
