// Proxy mode: which event a client has after a page Electric served.
// While a page streams through unbuffered its seqNums are scanned, so the
// gateway learns the client's position only after it sent the headers. It is
// kept here, keyed by the (handle, offset) the client echoes next, and put
// into the offset of the next answer ("<offset>@<seqNum>", see offset.h):
// the flagged follow-up that comes right after every page with events.
// Bounded (oldest entries dropped); lost on restart, which only matters for
// a client that resumes from a page's offset and meets a 409 (then passed on).
#pragma once
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace gw {

class Positions {
 public:
  explicit Positions(size_t capacity = 100000) : capacity_(capacity) {}
  void Record(const std::string& handle, const std::string& offset, int64_t seq);
  std::optional<int64_t> Find(const std::string& handle, const std::string& offset) const;
  size_t size() const;

 private:
  using Key = std::pair<std::string, std::string>;
  size_t capacity_;
  mutable std::mutex mu_;
  std::map<Key, int64_t> seq_;
  std::deque<Key> order_;  // insertion order, for eviction
};

}  // namespace gw
