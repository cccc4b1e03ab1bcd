#pragma once
// Pastry routing table: row r holds nodes sharing exactly r leading digits with us, column c
// those whose digit r is c. Each slot keeps up to `slot_capacity` nodes ordered by measured RTT
// (proximity neighbour selection); the first is the slot's primary entry. Keeping a few per
// slot costs little and pays twice: fail-over without the rare case, and in the deeper rows,
// where a slot holds most of the nodes with that prefix in the whole ring, a good chance that
// the key's root itself is in the slot, saving the last, random hop.
// Rows are allocated on demand: with N nodes only about log16(N) + 2 rows are ever non-empty.
#include <array>
#include <optional>
#include <span>
#include <vector>

#include "base/time.hpp"
#include "overlay/node_handle.hpp"

namespace forestcast::overlay {

inline constexpr Duration kUnknownRtt = Duration::max();

struct RouteEntry {
  NodeHandle node;
  Duration rtt = kUnknownRtt;
};

class RoutingTable {
 public:
  static constexpr size_t kMaxSlotCapacity = 3;

  explicit RoutingTable(NodeId self, size_t slot_capacity = 3);

  // The slot's primary (lowest-RTT) entry, or null.
  const RouteEntry* at(int row, int col) const;
  // Every entry of the slot, lowest RTT first.
  std::span<const RouteEntry> slot(int row, int col) const;
  // The slot `node` belongs in, or nullopt for our own id.
  static std::optional<std::pair<int, int>> slot_for(const NodeId& self, const NodeId& node);

  struct Change {
    bool inserted = false;          // `node` was not in the table and now is
    std::optional<NodeId> evicted;  // pushed out to make room
  };
  // Inserts `node` if its slot has room or `rtt` beats the slot's worst entry (which is then
  // evicted). Refreshes RTT and endpoint when `node` is already there.
  Change consider(const NodeHandle& node, Duration rtt);
  // Whether consider(id, rtt) would insert it.
  bool would_accept(const NodeId& id, Duration rtt) const;
  bool remove(const NodeId& id);
  bool contains(const NodeId& id) const;

  // The primary entries of row r (empty if the row was never used).
  std::vector<NodeHandle> row(int r) const;
  int rows_allocated() const { return static_cast<int>(rows_.size()); }
  size_t entry_count() const { return count_; }

  template <typename F>
  void for_each(F&& f) const {
    for (const auto& row : rows_)
      for (const auto& slot : row)
        for (size_t i = 0; i < slot.size; ++i) f(slot.entries[i]);
  }

 private:
  struct Slot {
    std::array<RouteEntry, kMaxSlotCapacity> entries{};
    uint8_t size = 0;
  };
  using Row = std::array<Slot, NodeId::kBase>;

  const Slot* find_slot(int row, int col) const;

  NodeId self_;
  size_t capacity_;
  std::vector<Row> rows_;
  size_t count_ = 0;
};

}  // namespace forestcast::overlay
