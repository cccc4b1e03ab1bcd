#include "overlay/neighborhood_set.hpp"

#include <algorithm>

namespace forestcast::overlay {

bool NeighborhoodSet::consider(const NodeHandle& node, Duration rtt) {
  if (rtt == kUnknownRtt || capacity_ == 0) return contains(node.id);
  remove(node.id);
  auto pos = std::find_if(entries_.begin(), entries_.end(),
                          [&](const RouteEntry& e) { return e.rtt > rtt; });
  if (static_cast<size_t>(pos - entries_.begin()) >= capacity_) return false;
  entries_.insert(pos, RouteEntry{node, rtt});
  if (entries_.size() > capacity_) entries_.pop_back();
  return true;
}

std::vector<NodeHandle> NeighborhoodSet::nodes() const {
  std::vector<NodeHandle> out;
  out.reserve(entries_.size());
  for (const auto& e : entries_) out.push_back(e.node);
  return out;
}

bool NeighborhoodSet::remove(const NodeId& id) {
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const RouteEntry& e) { return e.node.id == id; });
  if (it == entries_.end()) return false;
  entries_.erase(it);
  return true;
}

bool NeighborhoodSet::contains(const NodeId& id) const {
  return std::any_of(entries_.begin(), entries_.end(),
                     [&](const RouteEntry& e) { return e.node.id == id; });
}

}  // namespace forestcast::overlay
