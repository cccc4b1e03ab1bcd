#include "net/sim/oracle.hpp"

#include <algorithm>

namespace forestcast::sim {

void Oracle::add(const NodeId& id, uint32_t node) {
  if (sorted_ && !entries_.empty() && entries_.back().id >= id) sorted_ = false;
  entries_.push_back(OracleEntry{id, node});
}

void Oracle::sort_if_needed() const {
  if (sorted_) return;
  std::sort(entries_.begin(), entries_.end());
  // Duplicate ids would make "the closest node" ambiguous; the simulator never adds one twice.
  entries_.erase(std::unique(entries_.begin(), entries_.end()), entries_.end());
  sorted_ = true;
}

const std::vector<OracleEntry>& Oracle::entries() const {
  sort_if_needed();
  return entries_;
}

bool Oracle::remove(const NodeId& id) {
  sort_if_needed();
  auto it = std::lower_bound(entries_.begin(), entries_.end(), OracleEntry{id, 0});
  if (it == entries_.end() || it->id != id) return false;
  entries_.erase(it);
  return true;
}

bool Oracle::contains(const NodeId& id) const {
  sort_if_needed();
  return std::binary_search(entries_.begin(), entries_.end(), OracleEntry{id, 0});
}

std::optional<OracleEntry> Oracle::closest(const NodeId& key) const {
  sort_if_needed();
  if (entries_.empty()) return std::nullopt;
  // The closest id is either the first at or above the key or the last below it, wrapping
  // around the circle at both ends.
  const size_t n = entries_.size();
  const size_t up = static_cast<size_t>(
      std::lower_bound(entries_.begin(), entries_.end(), OracleEntry{key, 0}) - entries_.begin());
  const OracleEntry& above = entries_[up % n];
  const OracleEntry& below = entries_[(up + n - 1) % n];
  return key.closer(below.id, above.id) ? below : above;
}

TrueLeafSet Oracle::leaf_set(const NodeId& id, size_t half) const {
  sort_if_needed();
  TrueLeafSet out;
  const size_t n = entries_.size();
  auto it = std::lower_bound(entries_.begin(), entries_.end(), OracleEntry{id, 0});
  const bool present = it != entries_.end() && it->id == id;
  const size_t others = present ? n - 1 : n;
  const size_t per_side = std::min(half, others);
  const size_t pos = static_cast<size_t>(it - entries_.begin());
  // Clockwise: ids above ours in increasing order, wrapping; counterclockwise: below, decreasing.
  const size_t first_up = present ? pos + 1 : pos;
  for (size_t k = 0; k < per_side; ++k) out.right.push_back(entries_[(first_up + k) % n].id);
  for (size_t k = 0; k < per_side; ++k) out.left.push_back(entries_[(pos + n - 1 - k) % n].id);
  return out;
}

}  // namespace forestcast::sim
