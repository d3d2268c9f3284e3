// The last seqNum in a shape body that streams through in pieces, found
// without buffering it: each piece is searched for `"seqNum":` followed by a
// number or a numeric string (Electric sends every value as a string). Only
// an unescaped key matches, so text inside `args` or other strings cannot.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gw {

class SeqScanner {
 public:
  void Feed(std::string_view piece);
  std::optional<int64_t> last() const { return last_; }

 private:
  std::string carry_;  // the end of the previous piece (a match may span two)
  std::optional<int64_t> last_;
};

}  // namespace gw
