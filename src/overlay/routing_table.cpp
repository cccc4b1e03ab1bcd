#include "overlay/routing_table.hpp"

#include <algorithm>

namespace forestcast::overlay {

RoutingTable::RoutingTable(NodeId self, size_t slot_capacity)
    : self_(self), capacity_(std::clamp<size_t>(slot_capacity, 1, kMaxSlotCapacity)) {}

std::optional<std::pair<int, int>> RoutingTable::slot_for(const NodeId& self, const NodeId& node) {
  const int row = self.shared_prefix_length(node);
  if (row >= NodeId::kDigits) return std::nullopt;
  return std::pair{row, node.digit(row)};
}

const RoutingTable::Slot* RoutingTable::find_slot(int row, int col) const {
  if (row < 0 || row >= rows_allocated() || col < 0 || col >= NodeId::kBase) return nullptr;
  return &rows_[static_cast<size_t>(row)][static_cast<size_t>(col)];
}

const RouteEntry* RoutingTable::at(int row, int col) const {
  const Slot* s = find_slot(row, col);
  return s && s->size > 0 ? &s->entries[0] : nullptr;
}

std::span<const RouteEntry> RoutingTable::slot(int row, int col) const {
  const Slot* s = find_slot(row, col);
  if (!s) return {};
  return std::span<const RouteEntry>(s->entries.data(), s->size);
}

namespace {

// Keeps entries[0..size) ordered by RTT (unknown last) after one entry changed: an insertion
// sort pass, stable, and all a three-entry slot needs.
void resort(std::array<RouteEntry, RoutingTable::kMaxSlotCapacity>& entries, size_t size) {
  for (size_t i = 1; i < size; ++i)
    for (size_t j = i; j > 0 && entries[j].rtt < entries[j - 1].rtt; --j)
      std::swap(entries[j], entries[j - 1]);
}

}  // namespace

RoutingTable::Change RoutingTable::consider(const NodeHandle& node, Duration rtt) {
  Change change;
  const auto where = slot_for(self_, node.id);
  if (!where) return change;
  const auto [row, col] = *where;
  if (row >= rows_allocated()) rows_.resize(static_cast<size_t>(row) + 1);
  Slot& s = rows_[static_cast<size_t>(row)][static_cast<size_t>(col)];
  for (size_t i = 0; i < s.size; ++i) {
    if (s.entries[i].node.id != node.id) continue;
    s.entries[i].node.endpoint = node.endpoint;
    if (rtt != kUnknownRtt) {
      s.entries[i].rtt = rtt;
      resort(s.entries, s.size);
    }
    return change;
  }
  if (s.size < capacity_) {
    s.entries[s.size++] = RouteEntry{node, rtt};
    ++count_;
  } else if (rtt < s.entries[s.size - 1].rtt) {
    change.evicted = s.entries[s.size - 1].node.id;
    s.entries[s.size - 1] = RouteEntry{node, rtt};
  } else {
    return change;
  }
  resort(s.entries, s.size);
  change.inserted = true;
  return change;
}

bool RoutingTable::would_accept(const NodeId& id, Duration rtt) const {
  const auto where = slot_for(self_, id);
  if (!where) return false;
  const Slot* s = find_slot(where->first, where->second);
  if (!s) return true;
  for (size_t i = 0; i < s->size; ++i)
    if (s->entries[i].node.id == id) return false;
  return s->size < capacity_ || rtt < s->entries[s->size - 1].rtt;
}

bool RoutingTable::remove(const NodeId& id) {
  const auto where = slot_for(self_, id);
  if (!where || where->first >= rows_allocated()) return false;
  Slot& s = rows_[static_cast<size_t>(where->first)][static_cast<size_t>(where->second)];
  for (size_t i = 0; i < s.size; ++i) {
    if (s.entries[i].node.id != id) continue;
    for (size_t j = i + 1; j < s.size; ++j) s.entries[j - 1] = s.entries[j];
    s.entries[--s.size] = RouteEntry{};
    --count_;
    return true;
  }
  return false;
}

bool RoutingTable::contains(const NodeId& id) const {
  const auto where = slot_for(self_, id);
  if (!where) return false;
  for (const auto& e : slot(where->first, where->second))
    if (e.node.id == id) return true;
  return false;
}

std::vector<NodeHandle> RoutingTable::row(int r) const {
  std::vector<NodeHandle> out;
  if (r < 0 || r >= rows_allocated()) return out;
  for (const auto& s : rows_[static_cast<size_t>(r)])
    if (s.size > 0) out.push_back(s.entries[0].node);
  return out;
}

}  // namespace forestcast::overlay
