// Proxy mode, recovery after Electric rotated a shape (409): a page of the
// new shape is parsed (RapidJSON) and only the events the client does not
// have yet are kept (seqNum > the client's), so that it gets neither a
// duplicate nor a gap. Used on the recovery path only, which buffers pages;
// normal pages stream through untouched.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace gw {

struct FilteredPage {
  bool ok = false;         // the body was a JSON array
  std::string body;        // the kept insert messages, then up-to-date if the page ended with it
  size_t kept = 0;         // inserts kept
  int64_t last_seq = 0;    // the client's position after this page
  bool up_to_date = false; // the page ended with an up-to-date control message
};

FilteredPage FilterShapePage(std::string_view body, int64_t client_seq);

}  // namespace gw
