#include "gw/pull_cache.h"

#include "gw/offset.h"
#include "gw/shape_log.h"

namespace gw {

std::string CursorOffset(int32_t after, std::string_view request_offset, int timeout_s, int64_t now_unix_s) {
  std::string_view plain = Unflag(request_offset);
  const size_t us = plain.find('_');
  const std::string previous(us == std::string_view::npos ? std::string_view() : plain.substr(us + 1));
  return std::to_string(after) + '_' + NextCursor(timeout_s, previous, now_unix_s);
}

std::string PullCacheControl(const PullCacheInput& in) {
  if (in.transient_failure || in.private_credentials) return "no-store";
  if (in.initial || in.full_page) return "public, max-age=604800, s-maxage=3600, stale-while-revalidate=2629746";
  if (in.live) return "public, max-age=5, stale-while-revalidate=5";
  return "public, max-age=60, stale-while-revalidate=300";
}

}  // namespace gw
