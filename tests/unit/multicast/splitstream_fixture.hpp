// The SplitStream test fixture: SplitStream on one Scribe driven directly with a fake overlay
// and fake time (splitstream_test.cpp, splitstream_pushdown_test.cpp).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "fake_overlay.hpp"
#include "multicast/credentials.hpp"
#include "multicast/splitstream.hpp"

namespace forestcast::multicast::test {

inline NodeHandle node(uint64_t hi, uint32_t addr) { return handle(hi, addr); }

class SplitStreamTest : public ::testing::Test {
 protected:
  NodeHandle self_ = node(0x3000000000000000ULL, 1);
  NodeHandle parent_ = node(0x3500000000000000ULL, 2);
  NodeHandle grandparent_ = node(0x3580000000000000ULL, 3);
  NodeId group_ = NodeId::from_parts(0xa5a5a5a5a5a5a5a5ULL, 0x1111);
  FakeOverlay overlay_{self_};
  ModelledCredentials credentials_;
  Scribe scribe_{overlay_, ScribeConfig{}, credentials_};
  std::unique_ptr<SplitStream> ss_;

  void start(int capacity) {
    SplitStreamConfig c;
    c.capacity = capacity;
    ss_ = std::make_unique<SplitStream>(scribe_, c);
    overlay_.next = node(0xf000000000000000ULL, 99);  // never the root here
    ss_->view(ms(0), group_, nullptr);
  }
  NodeId stripe(int i) const { return group_.with_digit(0, i); }
  void attach(int s) {
    scribe_.receive_direct(
        ms(1), parent_,
        std::make_shared<const AcceptMsg>(PathBody{stripe(s), {grandparent_.id, parent_.id}}));
  }
  // A JOIN for stripe s from `child` sent to this node directly (push-down, re-join): routed
  // ones pass a member without children in the stripe (routed_join).
  bool join(int s, const NodeHandle& child) {
    JoinBody j{stripe(s)};
    j.pushdown_left = ScribeConfig{}.pushdown_depth;
    scribe_.receive_direct(ms(5), child, std::make_shared<const JoinMsg>(j));
    return scribe_.topic(stripe(s))->has_child(child.id);
  }
  // A routed JOIN for stripe s from `child` passing through this node; the JOIN that goes on
  // (passed on, or ours as a new forwarder) is left in `ctx`.
  overlay::ForwardContext routed_join(int s, const NodeHandle& child) {
    overlay::ForwardContext ctx{stripe(s),     child,
                                child,         1,
                                overlay_.next, std::make_shared<const JoinMsg>(JoinBody{stripe(s)}),
                                false,         false};
    scribe_.forward(ms(5), ctx);
    return ctx;
  }
  // This node publishes "show" with the given outdegree limit, as the root of every stripe
  // or of none; returns the group.
  NodeId publish_show(int capacity, bool root_of_every_stripe = false) {
    SplitStreamConfig c;
    c.capacity = capacity;
    ss_ = std::make_unique<SplitStream>(scribe_, c);
    if (root_of_every_stripe)
      overlay_.next.reset();
    else
      overlay_.next = node(0xf000000000000000ULL, 99);
    return ss_->publish(ms(0), ModelledKey({9}), "show");
  }
  // A JOIN for `topic` sent to this node directly, naming the parent it lost (`avoid`); whether
  // `from` is a child afterwards.
  bool direct_join(Time now, const NodeId& topic, const NodeHandle& from, uint32_t spare,
                   std::optional<NodeId> avoid = std::nullopt) {
    JoinBody j;
    j.topic = topic;
    j.spare = spare;
    j.pushdown_left = 3;
    j.has_avoid = avoid.has_value();
    if (avoid) j.avoid = *avoid;
    scribe_.receive_direct(now, from, std::make_shared<const JoinMsg>(j));
    return scribe_.topic(topic)->has_child(from.id);
  }
  // A JOIN for `topic` routed to this node as its root; whether `from` is a child afterwards.
  bool routed_join_here(Time now, const NodeId& topic, const NodeHandle& from, uint32_t spare) {
    JoinBody j{topic};
    j.spare = spare;
    scribe_.deliver(now, overlay::RouteInfo{topic, from, from, 2},
                    std::make_shared<const JoinMsg>(j));
    return scribe_.topic(topic)->has_child(from.id);
  }
  AnycastBody anycast_for(int s, const NodeHandle& requester, size_t visited,
                          std::optional<NodeId> group = std::nullopt) {
    AnycastBody a;
    a.topic = group ? *group : SplitStream::scg_of(group_);
    a.requester = requester;
    a.want = stripe(s);
    a.visited.assign(visited, NodeId::from_parts(1, 1));
    return a;
  }
};

}  // namespace forestcast::multicast::test
