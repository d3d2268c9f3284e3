#include "gw/positions.h"

namespace gw {

void Positions::Record(const std::string& handle, const std::string& offset, int64_t seq) {
  std::lock_guard<std::mutex> lock(mu_);
  Key key{handle, offset};
  auto [it, inserted] = seq_.emplace(key, seq);
  if (!inserted) {
    if (seq > it->second) it->second = seq;
    return;
  }
  order_.push_back(std::move(key));
  while (order_.size() > capacity_) {
    seq_.erase(order_.front());
    order_.pop_front();
  }
}

std::optional<int64_t> Positions::Find(const std::string& handle, const std::string& offset) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = seq_.find(Key{handle, offset});
  if (it == seq_.end()) return std::nullopt;
  return it->second;
}

size_t Positions::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return seq_.size();
}

}  // namespace gw
