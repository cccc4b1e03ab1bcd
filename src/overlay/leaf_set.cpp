#include "overlay/leaf_set.hpp"

#include <algorithm>

namespace forestcast::overlay {

namespace {

// Inserts `node` into `side` (sorted by `distance` ascending) if it is among the `limit`
// nearest. Returns true if inserted.
template <typename Distance>
bool insert_sorted(std::vector<NodeHandle>& side, const NodeHandle& node, size_t limit,
                   Distance distance) {
  const u128 d = distance(node.id);
  auto pos = std::find_if(side.begin(), side.end(),
                          [&](const NodeHandle& h) { return distance(h.id) > d; });
  if (static_cast<size_t>(pos - side.begin()) >= limit) return false;
  side.insert(pos, node);
  if (side.size() > limit) side.pop_back();
  return true;
}

bool erase_id(std::vector<NodeHandle>& side, const NodeId& id) {
  auto it = std::find_if(side.begin(), side.end(), [&](const NodeHandle& h) { return h.id == id; });
  if (it == side.end()) return false;
  side.erase(it);
  return true;
}

}  // namespace

LeafSet::LeafSet(NodeId self, size_t size) : self_(self), half_(std::max<size_t>(1, size / 2)) {}

bool LeafSet::insert(const NodeHandle& node) {
  if (node.id == self_) return false;
  if (contains(node.id)) {
    for (auto* side : {&left_, &right_})
      for (auto& h : *side)
        if (h.id == node.id) h.endpoint = node.endpoint;
    return false;
  }
  const bool right =
      insert_sorted(right_, node, half_, [&](const NodeId& id) { return self_.clockwise_to(id); });
  const bool left = insert_sorted(left_, node, half_,
                                  [&](const NodeId& id) { return self_.counterclockwise_to(id); });
  return left || right;
}

bool LeafSet::remove(const NodeId& id) {
  const bool left = erase_id(left_, id);
  const bool right = erase_id(right_, id);
  return left || right;
}

bool LeafSet::contains(const NodeId& id) const {
  auto has = [&](const std::vector<NodeHandle>& side) {
    return std::any_of(side.begin(), side.end(), [&](const NodeHandle& h) { return h.id == id; });
  };
  return has(left_) || has(right_);
}

bool LeafSet::would_accept(const NodeId& id) const {
  if (id == self_ || contains(id)) return false;
  if (right_.size() < half_ || left_.size() < half_) return true;
  return self_.clockwise_to(id) < self_.clockwise_to(right_.back().id) ||
         self_.counterclockwise_to(id) < self_.counterclockwise_to(left_.back().id);
}

bool LeafSet::covers(const NodeId& key) const {
  if (empty()) return true;
  const u128 reach_right = right_.empty() ? 0 : self_.clockwise_to(right_.back().id);
  const u128 reach_left = left_.empty() ? 0 : self_.counterclockwise_to(left_.back().id);
  // The two arcs meet (reach_left + reach_right >= 2^128): the set spans the whole circle.
  if (reach_right != 0 && reach_left >= u128{0} - reach_right) return true;
  return self_.clockwise_to(key) <= reach_right || self_.counterclockwise_to(key) <= reach_left;
}

std::vector<NodeHandle> LeafSet::members() const {
  std::vector<NodeHandle> out = left_;
  for (const auto& h : right_)
    if (std::none_of(left_.begin(), left_.end(), [&](const NodeHandle& l) { return l.id == h.id; }))
      out.push_back(h);
  return out;
}

}  // namespace forestcast::overlay
