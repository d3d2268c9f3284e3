// What a shared HTTP cache (nginx proxy_cache, Varnish, a CDN) may keep of a
// built-in LiveStore pull answer, and the offset that keeps live clients from
// looping on a cached answer. deploy/nginx and deploy/varnish use it.
//
// The stock client repeats its pull URL verbatim (args JSON: storeId,
// payload, handle {offset, handle}, live) and sends no Electric `cursor`, so
// the cache buster travels in the offset it echoes back:
//
//   "<seq>_0"   position after event <seq> (pages with events, flagged "~")
//   "<seq>_<c>" the same position, as answered to a live poll that timed out
//               empty: c is Electric's long-poll cursor (NextCursor), strictly
//               greater than the c the request carried. The next poll's URL
//               is therefore new to every cache (no stale loop), and the same
//               for every reader whose poll timed out in the same interval
//               (the cache collapses them into one origin request).
//
// ParseLogOffset reads both as <seq> (any digits after '_'); the "~" flag
// stays the last character. Proxy mode passes Electric's offsets through and
// does not use this encoding.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace gw {

// Offset for an empty live answer at position `after`: the request's cursor
// (the digits after '_' of its plain offset, 0 if none) advanced.
std::string CursorOffset(int32_t after, std::string_view request_offset, int timeout_s, int64_t now_unix_s);

struct PullCacheInput {
  bool transient_failure = false;  // an empty page at the client's own position (fault, shutdown)
  bool private_credentials = false;  // authorized (or may be) by a header or cookie, not by the URL
  bool initial = false;            // handle None / offset -1
  bool full_page = false;          // page_events events: this page can never change
  bool live = false;
};

// The cache-control value of a LiveStore pull answer (Electric's values):
//   fault or shutdown answer,
//   header/cookie credentials          no-store
//   initial page, full page            public, max-age=604800, s-maxage=3600, stale-while-revalidate=2629746
//   live                               public, max-age=5, stale-while-revalidate=5
//   other non-live                     public, max-age=60, stale-while-revalidate=300
std::string PullCacheControl(const PullCacheInput& in);

}  // namespace gw
