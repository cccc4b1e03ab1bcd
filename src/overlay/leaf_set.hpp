#pragma once
// The leaf set: the size/2 numerically closest known nodes on each side of us (counter-
// clockwise "left", clockwise "right"), each side ordered nearest first. With fewer than
// size/2 other nodes in the ring the two sides hold the same nodes and the set covers the
// whole circle.
#include <optional>
#include <vector>

#include "overlay/node_handle.hpp"

namespace forestcast::overlay {

class LeafSet {
 public:
  LeafSet(NodeId self, size_t size);

  // Adds `node` to whichever side it is among the closest on. True if it became a member.
  bool insert(const NodeHandle& node);
  bool remove(const NodeId& id);
  bool contains(const NodeId& id) const;
  // Whether insert(id) would make it a member (without inserting).
  bool would_accept(const NodeId& id) const;

  // True when `key` lies between our farthest left and farthest right leaf (or anywhere, while
  // a side is not full), so the key's root is in L ∪ {self}.
  bool covers(const NodeId& key) const;

  const std::vector<NodeHandle>& left() const { return left_; }
  const std::vector<NodeHandle>& right() const { return right_; }
  // Every member once (a node can sit on both sides in a small ring).
  std::vector<NodeHandle> members() const;
  size_t half_size() const { return half_; }
  bool empty() const { return left_.empty() && right_.empty(); }
  const NodeId& self() const { return self_; }

 private:
  NodeId self_;
  size_t half_;
  std::vector<NodeHandle> left_;   // ascending counterclockwise distance
  std::vector<NodeHandle> right_;  // ascending clockwise distance
};

}  // namespace forestcast::overlay
