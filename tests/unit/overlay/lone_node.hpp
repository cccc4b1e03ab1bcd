#pragma once
// A lone PastryNode driven by hand: what it sends is recorded, the nodes it knows were
// introduced one by one (they announced themselves and answered its probes).
#include <utility>
#include <vector>

#include "overlay/pastry_node.hpp"

namespace forestcast::overlay {

inline NodeId hex(const char* h) { return *NodeId::from_hex(h); }

// An Environment that only records what the node sent.
class RecordingEnv : public Environment {
 public:
  void send(const Endpoint& to, const Message& msg) override { sent.emplace_back(to, msg); }
  std::vector<std::pair<Endpoint, Message>> sent;
};

inline NodeHandle handle(const NodeId& id, uint32_t n) {
  return NodeHandle{id, Endpoint::ipv4(0x0a000000 + n, 4000)};
}

// Answers every Ping `node` sent to `peer` since `from` (an index into env.sent).
inline void answer_pings(PastryNode& node, RecordingEnv& env, const NodeHandle& peer, Time now,
                  size_t from = 0) {
  std::vector<uint64_t> nonces;
  for (size_t i = from; i < env.sent.size(); ++i)
    if (const auto* ping = std::get_if<Ping>(&env.sent[i].second);
        ping && env.sent[i].first == peer.endpoint)
      nonces.push_back(ping->nonce);
  for (uint64_t nonce : nonces) node.on_message(now, peer, Pong{nonce, nullptr});
}

// A started ring node that learned `known` by hearing from them directly (and probing them:
// a stranger enters our state only once it answers).
struct LoneNode {
  LoneNode(const NodeId& self, size_t leaf_set_size, const std::vector<NodeId>& known)
      : LoneNode(self, config(leaf_set_size), known) {}
  LoneNode(const NodeId& self, const PastryConfig& cfg, const std::vector<NodeId>& known)
      : node(handle(self, 1), cfg, env, 1) {
    node.start_ring(Time{0});
    uint32_t n = 2;
    for (const auto& id : known) introduce(handle(id, n++));
  }
  // Handle of the i-th node given to the constructor.
  static NodeHandle known(size_t i, const NodeId& id) {
    return handle(id, static_cast<uint32_t>(i + 2));
  }
  void introduce(const NodeHandle& peer, Time now = Time{0}) {
    const size_t mark = env.sent.size();
    node.on_message(now, peer, Announce{});
    answer_pings(node, env, peer, now, mark);
  }
  static PastryConfig config(size_t leaf_set_size) {
    PastryConfig c;
    c.leaf_set_size = leaf_set_size;
    return c;
  }
  // Runs the node's timers from `from` to `until` in steps of `step`.
  void run(Time from, Time until, Duration step = ms(10)) {
    for (Time t = from; t <= until; t += step) node.on_timer(t);
  }
  template <typename M>
  int count_sent(const Endpoint& to) const {
    int n = 0;
    for (const auto& [e, m] : env.sent) n += (e == to && std::holds_alternative<M>(m)) ? 1 : 0;
    return n;
  }
  template <typename M>
  int count_sent() const {
    int n = 0;
    for (const auto& [e, m] : env.sent) n += std::holds_alternative<M>(m) ? 1 : 0;
    return n;
  }

  RecordingEnv env;
  PastryNode node;
};

}  // namespace forestcast::overlay
