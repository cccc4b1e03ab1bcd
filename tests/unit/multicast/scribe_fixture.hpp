// The Scribe test fixture: one Scribe driven directly with a fake overlay and fake time.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "fake_overlay.hpp"
#include "multicast/credentials.hpp"
#include "multicast/scribe.hpp"

namespace forestcast::multicast::test {

constexpr uint64_t kTick = 1;       // Scribe's tick token
constexpr uint64_t kRootWatch = 3;  // a root's pings to its successors

class ScribeTest : public ::testing::Test {
 protected:
  NodeHandle self_ = handle(0x3000000000000000ULL, 1);
  NodeHandle parent_ = handle(0x3100000000000000ULL, 2);
  NodeHandle child_ = handle(0x7000000000000000ULL, 3);
  NodeId topic_ = NodeId::from_parts(0x3abc000000000000ULL, 42);
  FakeOverlay overlay_{self_};
  ModelledCredentials credentials_;
  Scribe scribe_{overlay_, ScribeConfig{}, credentials_};

  std::shared_ptr<const JoinMsg> join() {
    return std::make_shared<const JoinMsg>(JoinBody{topic_});
  }
  // Makes this node a member attached below parent_ at `now`.
  void attach(Time now) {
    overlay_.next = handle(0x3900000000000000ULL, 9);
    scribe_.subscribe(now, topic_);
    scribe_.receive_direct(now, parent_,
                           std::make_shared<const AcceptMsg>(PathBody{topic_, {parent_.id}}));
  }
  void adopt_child(Time now) {
    overlay::ForwardContext ctx{topic_, child_, child_, 1, overlay_.next, join(), false, false};
    scribe_.forward(now, ctx);
  }
  void data_from_parent(Time now, uint64_t seq) {
    scribe_.receive_direct(now, parent_, std::make_shared<const DataMsg>(DataBody{topic_, seq}));
  }
};

}  // namespace forestcast::multicast::test
