#include "gw/offset.h"

#include <charconv>

namespace gw {

std::optional<int32_t> ParseLogOffset(std::string_view offset) {
  if (offset == "-1") return 0;
  const size_t us = offset.find('_');
  if (us == std::string_view::npos || us == 0) return std::nullopt;
  std::string_view tx = offset.substr(0, us), op = offset.substr(us + 1);
  int32_t n = 0;
  auto [end, ec] = std::from_chars(tx.data(), tx.data() + tx.size(), n);
  if (ec != std::errc() || end != tx.data() + tx.size() || n < 0) return std::nullopt;
  if (op != "inf") {
    if (op.empty()) return std::nullopt;
    for (char c : op)
      if (c < '0' || c > '9') return std::nullopt;
  }
  return n;
}

std::string FormatLogOffset(int32_t after) { return std::to_string(after) + "_0"; }

ProxyOffset ParseProxyOffset(std::string_view offset) {
  const size_t at = offset.rfind(kPositionMark);
  if (at == std::string_view::npos || at == 0) return {std::string(offset), std::nullopt};
  std::string_view digits = offset.substr(at + 1);
  int64_t seq = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
  if (digits.empty() || digits[0] == '-' || digits[0] == '+' || ec != std::errc() ||
      end != digits.data() + digits.size())
    return {std::string(offset), std::nullopt};
  return {std::string(offset.substr(0, at)), seq};
}

std::string FormatProxyOffset(std::string_view upstream, std::optional<int64_t> seq) {
  std::string out(upstream);
  if (seq) out += kPositionMark + std::to_string(*seq);
  return out;
}

}  // namespace gw
