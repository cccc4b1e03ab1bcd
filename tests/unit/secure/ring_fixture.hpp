#pragma once
// A ring drawn by hand for the secure-routing tests: ids at a fixed spacing, so densities are
// known exactly, and an Overlay fake that knows a chosen set of them and records what an
// application asked of it (STYLE.md §10-11).
#include <algorithm>
#include <optional>
#include <vector>

#include "overlay/overlay.hpp"

namespace forestcast::secure::test {

using overlay::NodeHandle;
using overlay::NodeId;
using overlay::u128;

inline constexpr u128 kSpacing = u128{1} << 100;

// Node `k` of an evenly spaced ring starting at `base` (every `step` spacings).
inline NodeHandle ring_node(u128 base, int64_t k, uint32_t addr, u128 step = kSpacing) {
  return NodeHandle{NodeId(base + static_cast<u128>(k) * step),
                    overlay::Endpoint::ipv4(0x0a000000u + addr, 4000)};
}

inline std::vector<NodeId> ids_of(const std::vector<NodeHandle>& handles) {
  std::vector<NodeId> out;
  for (const auto& h : handles) out.push_back(h.id);
  return out;
}

class FakeOverlay final : public overlay::Overlay {
 public:
  struct Sent {
    NodeHandle to;
    overlay::AppMessagePtr msg;
  };
  struct Routed {
    NodeId key;
    overlay::AppMessagePtr msg;
  };
  struct Timer {
    Time at;
    uint64_t token;
    TimerId id;
  };

  explicit FakeOverlay(NodeHandle self) : self_(self) {}

  const NodeHandle& self() const override { return self_; }
  bool active() const override { return true; }
  void route(Time, const NodeId& key, overlay::AppMessagePtr msg) override {
    routed.push_back({key, std::move(msg)});
  }
  void send_direct(Time, const NodeHandle& to, overlay::AppMessagePtr msg) override {
    sent.push_back({to, std::move(msg)});
  }
  TimerId schedule_app_timer(uint16_t, Time at, uint64_t token) override {
    timers.push_back({at, token, ++last_timer_});
    return last_timer_;
  }
  void cancel_app_timer(uint16_t, TimerId id) override {
    std::erase_if(timers, [&](const Timer& t) { return t.id == id; });
  }
  // Like Pastry's: self and the known nodes, closest to the key first.
  std::vector<NodeHandle> replica_set(const NodeId& key, size_t k) const override {
    std::vector<NodeHandle> out = known;
    out.push_back(self_);
    std::sort(out.begin(), out.end(),
              [&](const NodeHandle& a, const NodeHandle& b) { return key.closer(a.id, b.id); });
    if (out.size() > k) out.resize(k);
    return out;
  }
  std::optional<NodeHandle> next_hop(const NodeId&) const override {
    if (hops.empty()) return std::nullopt;
    return hops[hop_turn_++ % hops.size()];
  }
  void check_alive(Time, const NodeHandle& node) override { probed.push_back(node); }
  uint64_t random() override { return rng_ += 0x9e3779b97f4a7c15ULL; }

  // The timer with this token, if armed.
  std::optional<Timer> timer(uint64_t token) const {
    for (const auto& t : timers)
      if (t.token == token) return t;
    return std::nullopt;
  }
  template <typename M>
  std::vector<std::pair<NodeHandle, const M*>> sent_as(uint16_t type) const {
    std::vector<std::pair<NodeHandle, const M*>> out;
    for (const auto& s : sent)
      if (s.msg->type() == type) out.emplace_back(s.to, static_cast<const M*>(s.msg.get()));
    return out;
  }

  std::vector<Sent> sent;
  std::vector<Routed> routed;
  std::vector<Timer> timers;
  std::vector<NodeHandle> probed;
  std::vector<NodeHandle> known;  // what replica_set() draws from
  std::vector<NodeHandle> hops;   // next_hop() answers these in turn

 private:
  NodeHandle self_;
  uint64_t rng_ = 1;
  TimerId last_timer_ = 0;
  mutable size_t hop_turn_ = 0;
};

}  // namespace forestcast::secure::test
