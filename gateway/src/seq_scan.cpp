#include "gw/seq_scan.h"

#include <cstring>

namespace gw {
namespace {

constexpr std::string_view kKey = "\"seqNum\":";
constexpr size_t kCarry = 48;  // key + spaces + quote + 19 digits fit

}  // namespace

void SeqScanner::Feed(std::string_view piece) {
  std::string text = carry_;
  text.append(piece);
  size_t pos = 0, resume = 0;
  while ((pos = text.find(kKey, pos)) != std::string::npos) {
    size_t i = pos + kKey.size();
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) ++i;
    if (i < text.size() && text[i] == '"') ++i;
    size_t start = i;
    int64_t v = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - start < 18) v = v * 10 + (text[i++] - '0');
    if (i == text.size()) break;  // the number may go on in the next piece
    if (i > start && (!last_ || v > *last_)) last_ = v;
    pos = i;
    resume = i;
  }
  // Keep the unsearched end (an incomplete match, or where one may begin).
  size_t keep_from = pos != std::string::npos ? pos : std::max(resume, text.size() > kCarry ? text.size() - kCarry : 0);
  carry_ = text.substr(keep_from);
  if (carry_.size() > kCarry + kKey.size()) carry_.erase(0, carry_.size() - kCarry);
}

}  // namespace gw
