#pragma once
// A small open-addressing hash map keyed by NodeId (linear probing, backward-shift deletion,
// power-of-two capacity). Each node keeps a few of these with ~100 entries; in a simulation of
// 10,000+ nodes every lookup is a cache miss, so one contiguous probe beats std::unordered_map's
// bucket array plus separately allocated node.
#include <cstdint>
#include <utility>
#include <vector>

#include "overlay/node_id.hpp"

namespace forestcast::overlay {

template <typename V>
class IdMap {
 public:
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  V* find(const NodeId& id) {
    if (slots_.empty()) return nullptr;
    for (size_t i = home(id);; i = (i + 1) & mask()) {
      Slot& s = slots_[i];
      if (!s.used) return nullptr;
      if (s.key == id) return &s.value;
    }
  }
  const V* find(const NodeId& id) const { return const_cast<IdMap*>(this)->find(id); }
  bool contains(const NodeId& id) const { return find(id) != nullptr; }

  // The value for `id`, default-constructed if absent.
  V& operator[](const NodeId& id) {
    if (V* v = find(id)) return *v;
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    size_t i = home(id);
    while (slots_[i].used) i = (i + 1) & mask();
    slots_[i].used = true;
    slots_[i].key = id;
    slots_[i].value = V{};
    ++size_;
    return slots_[i].value;
  }

  bool erase(const NodeId& id) {
    if (slots_.empty()) return false;
    size_t i = home(id);
    while (true) {
      if (!slots_[i].used) return false;
      if (slots_[i].key == id) break;
      i = (i + 1) & mask();
    }
    // Backward shift: pull later entries of the same probe run into the hole.
    size_t hole = i;
    for (size_t j = (hole + 1) & mask(); slots_[j].used; j = (j + 1) & mask()) {
      const size_t h = home(slots_[j].key);
      // Move j into the hole unless its home lies cyclically in (hole, j].
      const bool stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
      if (stays) continue;
      slots_[hole] = std::move(slots_[j]);
      hole = j;
    }
    slots_[hole].used = false;
    slots_[hole].value = V{};
    --size_;
    // Give memory back after a burst (a join probes hundreds of nodes, then keeps ~100).
    if (slots_.size() > kMinCapacity && size_ * 8 < slots_.size()) rehash(slots_.size() / 2);
    return true;
  }

  template <typename F>
  void for_each(F&& f) const {
    for (const auto& s : slots_)
      if (s.used) f(s.key, s.value);
  }

  // Removes every entry for which pred(key, value) is true.
  template <typename Pred>
  void erase_if(Pred&& pred) {
    std::vector<NodeId> doomed;
    for (const auto& s : slots_)
      if (s.used && pred(s.key, s.value)) doomed.push_back(s.key);
    for (const auto& id : doomed) erase(id);
  }

 private:
  struct Slot {
    NodeId key;
    V value{};
    bool used = false;
  };

  size_t mask() const { return slots_.size() - 1; }
  size_t home(const NodeId& id) const { return std::hash<NodeId>{}(id)&mask(); }

  static constexpr size_t kMinCapacity = 16;

  void grow() { rehash(slots_.empty() ? kMinCapacity : slots_.size() * 2); }

  void rehash(size_t capacity) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{});
    slots_.shrink_to_fit();
    size_ = 0;
    for (auto& s : old)
      if (s.used) (*this)[s.key] = std::move(s.value);
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

}  // namespace forestcast::overlay
