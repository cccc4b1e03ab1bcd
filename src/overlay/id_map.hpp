#pragma once
// A small open-addressing hash map keyed by NodeId (linear probing, backward-shift deletion,
// power-of-two capacity). Each node keeps a few of these with ~100 entries; in a simulation of
// 10,000+ nodes every lookup is a cache miss, so one contiguous probe beats std::unordered_map's
// bucket array plus separately allocated node. A byte per slot (empty, or 7 bits of the key's
// hash) lives in its own array: a probe scans those bytes and touches a key only when its byte
// matches, so a miss (most lookups of a datagram's sender at a node that does not hold it) reads
// one cache line instead of the whole probe run of 80-byte slots.
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
    const size_t h = hash(id);
    const uint8_t tag = tag_of(h);
    for (size_t i = h & mask();; i = (i + 1) & mask()) {
      const uint8_t c = ctrl_[i];
      if (c == kEmpty) return nullptr;
      if (c == tag && slots_[i].key == id) return &slots_[i].value;
    }
  }
  const V* find(const NodeId& id) const { return const_cast<IdMap*>(this)->find(id); }
  bool contains(const NodeId& id) const { return find(id) != nullptr; }

  // The value for `id`, default-constructed if absent.
  V& operator[](const NodeId& id) {
    if (V* v = find(id)) return *v;
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    const size_t h = hash(id);
    size_t i = h & mask();
    while (ctrl_[i] != kEmpty) i = (i + 1) & mask();
    ctrl_[i] = tag_of(h);
    slots_[i].key = id;
    slots_[i].value = V{};
    ++size_;
    return slots_[i].value;
  }

  bool erase(const NodeId& id) {
    if (slots_.empty()) return false;
    const size_t hid = hash(id);
    const uint8_t tag = tag_of(hid);
    size_t i = hid & mask();
    while (true) {
      if (ctrl_[i] == kEmpty) return false;
      if (ctrl_[i] == tag && slots_[i].key == id) break;
      i = (i + 1) & mask();
    }
    // Backward shift: pull later entries of the same probe run into the hole.
    size_t hole = i;
    for (size_t j = (hole + 1) & mask(); ctrl_[j] != kEmpty; j = (j + 1) & mask()) {
      const size_t h = home(slots_[j].key);
      // Move j into the hole unless its home lies cyclically in (hole, j].
      const bool stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
      if (stays) continue;
      slots_[hole] = std::move(slots_[j]);
      ctrl_[hole] = ctrl_[j];
      hole = j;
    }
    ctrl_[hole] = kEmpty;
    slots_[hole].value = V{};
    --size_;
    // Give memory back after a burst (a join probes hundreds of nodes, then keeps ~100).
    if (slots_.size() > kMinCapacity && size_ * 8 < slots_.size()) rehash(slots_.size() / 2);
    return true;
  }

  template <typename F>
  void for_each(F&& f) const {
    for (size_t i = 0; i < slots_.size(); ++i)
      if (ctrl_[i] != kEmpty) f(slots_[i].key, slots_[i].value);
  }

  // Removes every entry for which pred(key, value) is true.
  template <typename Pred>
  void erase_if(Pred&& pred) {
    std::vector<NodeId> doomed;
    for (size_t i = 0; i < slots_.size(); ++i)
      if (ctrl_[i] != kEmpty && pred(slots_[i].key, slots_[i].value))
        doomed.push_back(slots_[i].key);
    for (const auto& id : doomed) erase(id);
  }

 private:
  struct Slot {
    NodeId key;
    V value{};
  };

  // ctrl_ bytes: kEmpty, or kUsed with the hash's top 7 bits (the home slot uses the low bits).
  static constexpr uint8_t kEmpty = 0;
  static constexpr uint8_t kUsed = 0x80;
  static size_t hash(const NodeId& id) { return std::hash<NodeId>{}(id); }
  static uint8_t tag_of(size_t h) { return static_cast<uint8_t>(kUsed | (h >> 57)); }

  size_t mask() const { return slots_.size() - 1; }
  size_t home(const NodeId& id) const { return hash(id) & mask(); }

  static constexpr size_t kMinCapacity = 16;

  void grow() { rehash(slots_.empty() ? kMinCapacity : slots_.size() * 2); }

  void rehash(size_t capacity) {
    std::vector<Slot> old = std::move(slots_);
    const std::vector<uint8_t> old_ctrl = std::move(ctrl_);
    slots_.assign(capacity, Slot{});
    slots_.shrink_to_fit();
    ctrl_.assign(capacity, kEmpty);
    ctrl_.shrink_to_fit();
    size_ = 0;
    for (size_t i = 0; i < old.size(); ++i)
      if (old_ctrl[i] != kEmpty) (*this)[old[i].key] = std::move(old[i].value);
  }

  std::vector<Slot> slots_;
  std::vector<uint8_t> ctrl_;  // one per slot, same index
  size_t size_ = 0;
};

}  // namespace forestcast::overlay
