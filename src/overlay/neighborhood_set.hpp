#pragma once
// The neighbourhood set: the closest known nodes by measured RTT, whatever their ids. Used to
// seed a joining node's proximity-aware routing table and as extra routing candidates.
#include <vector>

#include "overlay/routing_table.hpp"

namespace forestcast::overlay {

class NeighborhoodSet {
 public:
  explicit NeighborhoodSet(size_t capacity) : capacity_(capacity) {}

  // Keeps `node` if it is among the `capacity` lowest RTTs seen; true if it is a member after.
  bool consider(const NodeHandle& node, Duration rtt);
  bool remove(const NodeId& id);
  bool contains(const NodeId& id) const;
  const std::vector<RouteEntry>& entries() const { return entries_; }  // ascending RTT
  std::vector<NodeHandle> nodes() const;                               // same order
  size_t size() const { return entries_.size(); }

 private:
  size_t capacity_;
  std::vector<RouteEntry> entries_;
};

}  // namespace forestcast::overlay
