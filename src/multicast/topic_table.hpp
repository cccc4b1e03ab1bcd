#pragma once
// Scribe's per-node tables keyed by topic (topics, stripe histories). Lookups happen per data
// packet and heartbeat: std::unordered_map's were 12 % + 9 % of a forest run (a 64-bit division
// per chain node visited, and a cache miss per node). Iteration order, though, is the protocol's
// order of work (the tick, failures, leaf-set changes send in it) and a run replays exactly from
// its seed, so the map stays as the owner and iteration order, and an IdMap of pointers into it
// answers lookups. unordered_map elements never move while they exist, so the pointers hold
// until their element is erased, which only this class does.
#include <unordered_map>
#include <utility>

#include "overlay/id_map.hpp"
#include "overlay/node_id.hpp"

namespace forestcast::multicast {

template <typename V>
class TopicTable {
 public:
  using Map = std::unordered_map<overlay::NodeId, V>;
  using iterator = typename Map::iterator;
  using const_iterator = typename Map::const_iterator;

  V* find(const overlay::NodeId& id) {
    V* const* p = index_.find(id);
    return p == nullptr ? nullptr : *p;
  }
  const V* find(const overlay::NodeId& id) const {
    V* const* p = index_.find(id);
    return p == nullptr ? nullptr : *p;
  }
  size_t count(const overlay::NodeId& id) const { return index_.contains(id) ? 1 : 0; }
  size_t size() const { return map_.size(); }
  bool empty() const { return map_.empty(); }

  // The value for `id`, constructed from `args` if absent.
  template <typename... Args>
  V& try_emplace(const overlay::NodeId& id, Args&&... args) {
    if (V* v = find(id)) return *v;
    V& v = map_.try_emplace(id, std::forward<Args>(args)...).first->second;
    index_[id] = &v;
    return v;
  }
  V& operator[](const overlay::NodeId& id) { return try_emplace(id); }

  size_t erase(const overlay::NodeId& id) {
    if (!index_.erase(id)) return 0;
    return map_.erase(id);
  }
  iterator erase(const_iterator it) {
    index_.erase(it->first);
    return map_.erase(it);
  }
  void clear() {
    map_.clear();
    index_ = {};
  }

  iterator begin() { return map_.begin(); }
  iterator end() { return map_.end(); }
  const_iterator begin() const { return map_.begin(); }
  const_iterator end() const { return map_.end(); }
  const Map& map() const { return map_; }

 private:
  Map map_;
  overlay::IdMap<V*> index_;
};

}  // namespace forestcast::multicast
