// The `args` query parameter of a LiveStore pull (GET), parsed as the
// client's PullPayload JSON. libmicrohttpd has already percent-decoded it
// once; it must not be decoded again (the reference proxy's double decoding
// corrupts tokens that contain '%').
#pragma once
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace gw {

// A request the client could not have sent: answered 400 with this message.
struct BadRequest : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct PullArgs {
  std::string store_id;
  bool has_handle = false;   // handle._tag == "Some"
  std::string offset;        // handle.value.offset (when has_handle)
  std::string handle;        // handle.value.handle (when has_handle)
  bool live = false;
  std::optional<std::string> auth_token;  // payload.authToken, when a string
};

// Throws BadRequest.
PullArgs ParsePullArgs(std::string_view json);

}  // namespace gw
