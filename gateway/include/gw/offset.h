// Offsets handed to clients.
//
// Built-in shape log: "<seq>_0" is the position after event <seq> ("0_0" is
// before the first event); "-1" is the start. Any "<n>_<k>" is accepted, so
// every offset ever issued stays valid. The LiveStore endpoint answers a live
// poll that timed out empty with "<seq>_<cursor>" (digits only: a cache
// buster, see gw/pull_cache.h); k carries no position.
//
// Flagged offsets (LiveStore endpoint, both modes): after a page with events
// the client gets "<offset>~". Its sync leader holds local commits until it
// sees an empty page, so a live request carrying a flagged offset is answered
// at once with an empty page and the plain offset; only plain offsets wait.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gw {

inline constexpr char kOffsetFlag = '~';

inline bool IsFlagged(std::string_view offset) {
  return !offset.empty() && offset.back() == kOffsetFlag;
}
inline std::string_view Unflag(std::string_view offset) {
  return IsFlagged(offset) ? offset.substr(0, offset.size() - 1) : offset;
}
inline std::string Flag(std::string_view offset) {
  return std::string(offset) + kOffsetFlag;
}

// Proxy mode: the offset handed to a client is Electric's offset followed,
// when the gateway knows it, by "@<seqNum>": the last event the client has
// (e.g. "4294967302_4@57", flagged "4294967302_4@57~"). The client echoes it
// untouched; only Electric's part goes upstream. After Electric rotates a
// shape (409) the seqNum says which events of the new shape to skip.
// "@" never occurs in Electric offsets (-1, now, <int>_<int>, <int>_inf).
inline constexpr char kPositionMark = '@';
struct ProxyOffset {
  std::string upstream;          // Electric's offset, sent to Electric as is
  std::optional<int64_t> seq;    // the client's last seqNum, when carried
};
// `offset` without the flag. A malformed "@..." suffix is not a position:
// the whole string is then Electric's (which answers 400 as before).
ProxyOffset ParseProxyOffset(std::string_view offset);
std::string FormatProxyOffset(std::string_view upstream, std::optional<int64_t> seq);

// "-1" -> 0; "<n>_<k>" (k digits or "inf") -> n when n fits in int32.
std::optional<int32_t> ParseLogOffset(std::string_view offset);
std::string FormatLogOffset(int32_t after);

}  // namespace gw
