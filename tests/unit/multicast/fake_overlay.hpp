#pragma once
// An overlay::Overlay that records what an application asked of it, so unit tests drive Scribe
// and SplitStream directly with fake time and inspect their actions (STYLE.md §10-11).
#include <map>
#include <optional>
#include <vector>

#include "multicast/messages.hpp"
#include "overlay/overlay.hpp"

namespace forestcast::multicast::test {

inline NodeHandle handle(uint64_t hi, uint32_t addr) {
  return NodeHandle{NodeId::from_parts(hi, 0x1234), overlay::Endpoint::ipv4(addr, 4000)};
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
    timers.push_back({at, token});
    return timers.size();
  }
  void cancel_app_timer(uint16_t, TimerId) override {}
  std::vector<NodeHandle> replica_set(const NodeId&, size_t k) const override {
    if (!replica_order.empty()) {  // the whole order given, self somewhere in it
      std::vector<NodeHandle> out = replica_order;
      if (out.size() > k) out.resize(k);
      return out;
    }
    std::vector<NodeHandle> out{self_};
    for (const auto& r : replicas)
      if (out.size() < k) out.push_back(r);
    return out;
  }
  std::optional<NodeHandle> next_hop(const NodeId&) const override { return next; }
  void check_alive(Time, const NodeHandle& node) override { probed.push_back(node); }
  uint64_t random() override { return ++rng_; }

  // Messages of one type sent directly, in order.
  template <typename M>
  std::vector<std::pair<NodeHandle, const M*>> sent_of() const {
    std::vector<std::pair<NodeHandle, const M*>> out;
    for (const auto& s : sent)
      if (s.msg->type() == static_cast<uint16_t>(M::kType))
        out.emplace_back(s.to, static_cast<const M*>(s.msg.get()));
    return out;
  }
  template <typename M>
  std::vector<const M*> routed_of() const {
    std::vector<const M*> out;
    for (const auto& r : routed)
      if (r.msg->type() == static_cast<uint16_t>(M::kType))
        out.push_back(static_cast<const M*>(r.msg.get()));
    return out;
  }
  void clear() {
    sent.clear();
    routed.clear();
    probed.clear();
  }

  std::vector<Sent> sent;
  std::vector<Routed> routed;
  std::vector<Timer> timers;
  std::vector<NodeHandle> probed;
  std::vector<NodeHandle> replicas;
  std::vector<NodeHandle> replica_order;  // when set: replica_set() exactly (self included)
  std::optional<NodeHandle> next;  // nullopt: this node is the root of every key

 private:
  NodeHandle self_;
  uint64_t rng_ = 0;
};

}  // namespace forestcast::multicast::test
