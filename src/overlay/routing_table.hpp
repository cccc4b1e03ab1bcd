#pragma once
// Pastry routing table: row r holds nodes sharing exactly r leading digits with us, column c
// those whose digit r is c. One entry per slot, chosen by proximity (lowest measured RTT).
// Rows are allocated on demand: with N nodes only about log16(N) + 2 rows are ever non-empty.
#include <array>
#include <optional>
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
  using Row = std::array<std::optional<RouteEntry>, NodeId::kBase>;

  explicit RoutingTable(NodeId self) : self_(self) {}

  const RouteEntry* at(int row, int col) const;
  // The slot `node` belongs in, or nullopt for our own id.
  static std::optional<std::pair<int, int>> slot_for(const NodeId& self, const NodeId& node);

  // Inserts `node` if its slot is empty, or replaces the occupant when `rtt` is strictly lower
  // (proximity neighbour selection). Updates the RTT when `node` is already the occupant.
  // Returns true when the table changed its occupant.
  bool consider(const NodeHandle& node, Duration rtt);
  bool remove(const NodeId& id);
  bool contains(const NodeId& id) const;

  // Entries of row r (empty if the row was never used).
  std::vector<NodeHandle> row(int r) const;
  int rows_allocated() const { return static_cast<int>(rows_.size()); }
  size_t entry_count() const { return count_; }

  template <typename F>
  void for_each(F&& f) const {
    for (const auto& row : rows_)
      for (const auto& slot : row)
        if (slot) f(*slot);
  }

 private:
  NodeId self_;
  std::vector<Row> rows_;
  size_t count_ = 0;
};

}  // namespace forestcast::overlay
