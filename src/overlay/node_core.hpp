#pragma once
// What every part of one Pastry node shares: who it is, its configuration, its routing state
// (leaf set, routing table, neighbourhood set), its timers, its applications, and the one way
// out to the world. The parts (PeerTracker, Router, Joiner, Maintenance) each own the state of
// their own concern and reach the shared state through this.
#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/random.hpp"
#include "base/time.hpp"
#include "base/timer_queue.hpp"
#include "base/token_source.hpp"
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
        tokens(seed ^ 0x6d73672d69647321ULL),
        leaf_set(self_handle.id, cfg.leaf_set_size),
        routing_table(self_handle.id, cfg.routing_slot_size),
        neighborhood(cfg.neighborhood_size) {}

  bool active() const { return state == JoinState::kActive; }
  bool joining() const { return state == JoinState::kJoining; }
  // Signing and checking id proofs; null when proofs are off (key_proofs.hpp).
  KeyProofs* proofs() const { return env.key_proofs(); }

  void send(const Endpoint& to, const Message& msg) {
    ++counters.messages_out;
    env.send(to, msg);
  }
  TimerId schedule(Time at, PastryTimer timer) { return timers.schedule(at, timer); }
  // Leaving or giving up: every timer goes, the applications' too.
  void stop_timers() {
    timers.clear();
    app_timers.clear();
  }

  Application* app(uint16_t app_id) const {
    for (const auto& [id, a] : apps)
      if (id == app_id) return a;
    return nullptr;
  }
  // Upcalls about other nodes are queued while the state changes and run by flush_upcalls()
  // when the entry point that caused them is done, so an application sees complete state
  // (leaf_set() already shows the change) and cannot re-enter Pastry in the middle of an update.
  void notify_leafset(const NodeHandle& node, bool joined) {
    upcalls.push_back({node, joined ? Upcall::kLeafJoined : Upcall::kLeafLeft});
  }
  void notify_dead(const NodeHandle& node) { upcalls.push_back({node, Upcall::kDead}); }
  void flush_upcalls(Time now);
  // A fresh token for the wire (RouteMsg::msg_id and hop_id, Ping nonce): random, never 0, so
  // a Pong or RouteAck cannot be forged by guessing the next value of a counter. Their own
  // source (a keyed PRF, base/token_source.hpp), so tokens do not shift the node's other random
  // choices.
  uint64_t new_token() { return tokens.next(); }

  NodeHandle self;
  PastryConfig config;
  Environment& env;
  Rng rng;
  TokenSource tokens;
  JoinState state = JoinState::kIdle;
  LeafSet leaf_set;
  RoutingTable routing_table;
  NeighborhoodSet neighborhood;
  PastryCounters counters;
  TimerQueue<PastryTimer> timers;
  std::unordered_map<TimerId, uint16_t> app_timers;  // live application timers and their owner
  std::vector<std::pair<uint16_t, Application*>> apps;

  struct Upcall {
    NodeHandle node;
    enum Kind : uint8_t { kLeafJoined, kLeafLeft, kDead } kind;
  };
  std::vector<Upcall> upcalls;
  bool flushing = false;
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
