#pragma once
// Ground truth kept outside the nodes: which ids are live, which live node is numerically
// closest to a key, and what every node's leaf set would be with perfect knowledge. Tests and
// scenarios judge the protocol against it; the nodes never see it.
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "overlay/node_id.hpp"

namespace forestcast::sim {

using overlay::NodeId;

struct OracleEntry {
  NodeId id;
  uint32_t node = 0;  // simulator node index
  auto operator<=>(const OracleEntry& o) const { return id <=> o.id; }
  bool operator==(const OracleEntry& o) const { return id == o.id; }
};

struct TrueLeafSet {
  std::vector<NodeId> left;   // counterclockwise neighbours, nearest first
  std::vector<NodeId> right;  // clockwise neighbours, nearest first
};

class Oracle {
 public:
  // Insertions are batched (appended, sorted on the next query) because joins add nodes one at
  // a time while nothing asks; removals keep the order.
  void add(const NodeId& id, uint32_t node);
  bool remove(const NodeId& id);
  bool contains(const NodeId& id) const;
  size_t size() const { return entries_.size(); }

  // The live node numerically closest to `key`: ring distance, exact ties to the smaller id
  // (NodeId::closer), the same rule every node applies. nullopt when nobody is live.
  std::optional<OracleEntry> closest(const NodeId& key) const;

  // The leaf set node `id` would have if it knew every live node: up to `half` nearest on each
  // side. With fewer than `half` others both sides hold all of them.
  TrueLeafSet leaf_set(const NodeId& id, size_t half) const;

  // Every live entry in id order.
  const std::vector<OracleEntry>& entries() const;

 private:
  void sort_if_needed() const;

  mutable std::vector<OracleEntry> entries_;
  mutable bool sorted_ = true;
};

}  // namespace forestcast::sim
