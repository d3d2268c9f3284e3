// Start-up checks of the auth flags (called by ParseConfig).
#pragma once
#include <string>

#include "gw/config.h"

namespace gw {

// "" when the auth flags fit together; otherwise what is wrong.
std::string AuthConfigError(const Config& config);

// Whether any JWT key is configured (--jwt-secret, --jwt-jwks-url,
// --jwt-jwks-file, --jwt-public-key).
bool JwtConfigured(const Config& config);

}  // namespace gw
