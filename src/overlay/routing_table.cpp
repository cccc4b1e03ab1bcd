#include "overlay/routing_table.hpp"

namespace forestcast::overlay {

std::optional<std::pair<int, int>> RoutingTable::slot_for(const NodeId& self, const NodeId& node) {
  const int row = self.shared_prefix_length(node);
  if (row >= NodeId::kDigits) return std::nullopt;
  return std::pair{row, node.digit(row)};
}

const RouteEntry* RoutingTable::at(int row, int col) const {
  if (row < 0 || row >= rows_allocated() || col < 0 || col >= NodeId::kBase) return nullptr;
  const auto& slot = rows_[static_cast<size_t>(row)][static_cast<size_t>(col)];
  return slot ? &*slot : nullptr;
}

bool RoutingTable::consider(const NodeHandle& node, Duration rtt) {
  const auto where = slot_for(self_, node.id);
  if (!where) return false;
  const auto [row, col] = *where;
  if (row >= rows_allocated()) rows_.resize(static_cast<size_t>(row) + 1);
  auto& slot = rows_[static_cast<size_t>(row)][static_cast<size_t>(col)];
  if (!slot) {
    slot = RouteEntry{node, rtt};
    ++count_;
    return true;
  }
  if (slot->node.id == node.id) {
    slot->node.endpoint = node.endpoint;
    if (rtt != kUnknownRtt) slot->rtt = rtt;
    return false;
  }
  if (rtt < slot->rtt) {
    slot = RouteEntry{node, rtt};
    return true;
  }
  return false;
}

bool RoutingTable::remove(const NodeId& id) {
  const auto where = slot_for(self_, id);
  if (!where || where->first >= rows_allocated()) return false;
  auto& slot = rows_[static_cast<size_t>(where->first)][static_cast<size_t>(where->second)];
  if (!slot || slot->node.id != id) return false;
  slot.reset();
  --count_;
  return true;
}

bool RoutingTable::contains(const NodeId& id) const {
  const auto where = slot_for(self_, id);
  if (!where) return false;
  const RouteEntry* e = at(where->first, where->second);
  return e != nullptr && e->node.id == id;
}

std::vector<NodeHandle> RoutingTable::row(int r) const {
  std::vector<NodeHandle> out;
  if (r < 0 || r >= rows_allocated()) return out;
  for (const auto& slot : rows_[static_cast<size_t>(r)])
    if (slot) out.push_back(slot->node);
  return out;
}

}  // namespace forestcast::overlay
