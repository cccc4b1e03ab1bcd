#pragma once
// What every part of one Pastry node shares: who it is, its configuration, its routing state
// (leaf set, routing table, neighbourhood set), its timers, its applications, and the one way
// out to the world. The parts (PeerTracker, Router, Joiner, Maintenance) each own the state of
// their own concern and reach the shared state through this.
#include <cstdint>
#include <utility>
#include <vector>

#include "base/random.hpp"
#include "base/time.hpp"
#include "base/timer_queue.hpp"
#include "overlay/application.hpp"
#include "overlay/environment.hpp"
#include "overlay/leaf_set.hpp"
#include "overlay/messages.hpp"
#include "overlay/neighborhood_set.hpp"
#include "overlay/pastry_config.hpp"
#include "overlay/pastry_timers.hpp"
#include "overlay/routing_table.hpp"

namespace spdlog {
class logger;
}

namespace forestcast::overlay {

struct NodeCore {
  NodeCore(NodeHandle self_handle, PastryConfig cfg, Environment& environment, uint64_t seed)
      : self(self_handle),
        config(cfg),
        env(environment),
        rng(seed),
        leaf_set(self_handle.id, cfg.leaf_set_size),
        routing_table(self_handle.id, cfg.routing_slot_size),
        neighborhood(cfg.neighborhood_size) {}

  bool active() const { return state == JoinState::kActive; }
  bool joining() const { return state == JoinState::kJoining; }

  void send(const Endpoint& to, const Message& msg) {
    ++counters.messages_out;
    env.send(to, msg);
  }
  TimerId schedule(Time at, PastryTimer timer) { return timers.schedule(at, timer); }

  Application* app(uint16_t app_id) const {
    for (const auto& [id, a] : apps)
      if (id == app_id) return a;
    return nullptr;
  }
  void notify_leafset(Time now, const NodeHandle& node, bool joined) {
    for (auto& [id, a] : apps) a->leafset_changed(now, node, joined);
  }
  void notify_dead(Time now, const NodeHandle& node) {
    for (auto& [id, a] : apps) a->node_dead(now, node);
  }

  NodeHandle self;
  PastryConfig config;
  Environment& env;
  Rng rng;
  JoinState state = JoinState::kIdle;
  LeafSet leaf_set;
  RoutingTable routing_table;
  NeighborhoodSet neighborhood;
  PastryCounters counters;
  TimerQueue<PastryTimer> timers;
  std::vector<std::pair<uint16_t, Application*>> apps;
};

// The "pastry" module logger (STYLE.md §8).
spdlog::logger& pastry_log();

template <typename T>
bool contains_id(const std::vector<T>& v, const NodeId& id) {
  for (const auto& x : v)
    if (x == id) return true;
  return false;
}

}  // namespace forestcast::overlay
