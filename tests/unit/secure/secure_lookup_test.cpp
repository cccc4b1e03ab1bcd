#include "secure/secure_lookup.hpp"

#include <gtest/gtest.h>

#include "ring_fixture.hpp"

namespace forestcast::secure::test {
namespace {

constexpr u128 kBase = u128{7} << 120;
constexpr u128 kRootAt = kBase + (u128{1} << 124);
constexpr uint16_t kReplyType = static_cast<uint16_t>(SecureType::kReply);
constexpr uint16_t kRelayType = static_cast<uint16_t>(SecureType::kRelay);

std::vector<NodeHandle> around(u128 center, u128 step, uint32_t addr) {
  std::vector<NodeHandle> out;
  for (int k = -8; k <= 8; ++k)
    if (k != 0) out.push_back(ring_node(center, k, addr + static_cast<uint32_t>(k + 8), step));
  return out;
}

class SecureLookupTest : public ::testing::Test {
 protected:
  SecureLookupTest() { overlay.known = around(kBase, kSpacing, 10); }
  SecureLookup& make() {
    app = std::make_unique<SecureLookup>(
        overlay, config, [this](Time, const SecureLookupResult& r) { results.push_back(r); });
    return *app;
  }
  uint64_t lookup_id() const {
    return static_cast<const SecureQuery&>(*overlay.routed.at(0).msg).lookup_id();
  }
  void reply(const NodeHandle& from, uint64_t id, uint8_t copy, const NodeHandle& claimed,
             std::vector<NodeHandle> members) {
    app->receive_direct(Time{0}, from,
                        std::make_shared<SecureReply>(id, copy, claimed, std::move(members)));
  }

  const NodeHandle self = ring_node(kBase, 0, 1);
  const NodeId key = NodeId(kRootAt + kSpacing / 4);
  const NodeHandle root = ring_node(kRootAt, 0, 100);
  const std::vector<NodeHandle> root_leaves = around(kRootAt, kSpacing, 101);
  // A colluder a little farther from the key than the root, with colluders 5x sparser: the
  // best lie, every colluder it names farther from the key than itself.
  const NodeHandle liar = ring_node(kRootAt, 1, 200);
  const std::vector<NodeHandle> liar_leaves = around(kRootAt + kSpacing, 5 * kSpacing, 201);
  FakeOverlay overlay{self};
  SecureLookupConfig config;
  std::unique_ptr<SecureLookup> app;
  std::vector<SecureLookupResult> results;
};

TEST_F(SecureLookupTest, AnHonestRootIsBelievedAtOnce) {
  make().lookup(Time{0}, key, 5);
  ASSERT_EQ(overlay.routed.size(), 1u);
  const auto& q = static_cast<const SecureQuery&>(*overlay.routed[0].msg);
  EXPECT_EQ(overlay.routed[0].key, key);
  EXPECT_EQ(q.requester(), self);
  EXPECT_EQ(q.copy(), 0);
  reply(root, lookup_id(), 0, root, root_leaves);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].token, 5u);
  ASSERT_TRUE(results[0].root);
  EXPECT_EQ(*results[0].root, root);
  EXPECT_FALSE(results[0].redundant);
  EXPECT_EQ(app->counters().first_passed, 1u);
  EXPECT_TRUE(overlay.sent.empty());  // no copies
}

TEST_F(SecureLookupTest, ASparseAnswerSendsACopyThroughEveryLeafAndTheClosestNamedWins) {
  make().lookup(Time{0}, key, 1);
  const uint64_t id = lookup_id();
  reply(liar, id, 0, liar, liar_leaves);
  EXPECT_TRUE(results.empty());
  EXPECT_EQ(app->counters().failed_sparse, 1u);
  const auto relays = overlay.sent_as<SecureQuery>(kRelayType);
  ASSERT_EQ(relays.size(), 16u);
  for (size_t k = 0; k < relays.size(); ++k) {
    EXPECT_EQ(relays[k].second->copy(), k + 1);
    EXPECT_EQ(relays[k].second->requester(), self);
    EXPECT_EQ(relays[k].second->key(), key);
  }
  // Copy 1 comes back with the lie again, copy 2 with the truth; a "copy 3" from a node we did
  // not send copy 3 through is not counted.
  reply(relays[0].first, id, 1, liar, liar_leaves);
  reply(relays[1].first, id, 2, root, root_leaves);
  reply(relays[0].first, id, 3, liar, liar_leaves);
  EXPECT_EQ(app->counters().replies_unmatched, 1u);
  EXPECT_TRUE(results.empty());  // one passing answer for the best: below the quorum of 2
  const auto timer = overlay.timer(id);
  ASSERT_TRUE(timer);
  app->on_timer(timer->at, id);
  ASSERT_EQ(results.size(), 1u);
  ASSERT_TRUE(results[0].root);
  EXPECT_EQ(*results[0].root, root);
  EXPECT_TRUE(results[0].redundant);
  EXPECT_EQ(results[0].first_verdict, FailureReason::kSparse);
  EXPECT_EQ(results[0].replies, 3u);
}

TEST_F(SecureLookupTest, TwoPassingAnswersNamingTheBestEndTheLookupEarly) {
  make().lookup(Time{0}, key, 1);
  const uint64_t id = lookup_id();
  reply(liar, id, 0, liar, liar_leaves);
  const auto relays = overlay.sent_as<SecureQuery>(kRelayType);
  reply(relays[4].first, id, 5, root, root_leaves);
  EXPECT_TRUE(results.empty());
  reply(relays[9].first, id, 10, root, root_leaves);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(*results[0].root, root);
  EXPECT_FALSE(overlay.timer(id));  // cancelled
}

TEST_F(SecureLookupTest, NoAnswerInTimeGoesRedundant) {
  make().lookup(Time{0}, key, 1);
  const uint64_t id = lookup_id();
  const auto timer = overlay.timer(id);
  ASSERT_TRUE(timer);
  EXPECT_EQ(timer->at, Time{0} + config.reply_timeout);
  app->on_timer(timer->at, id);
  EXPECT_EQ(app->counters().first_timed_out, 1u);
  EXPECT_EQ(overlay.sent_as<SecureQuery>(kRelayType).size(), 16u);
  EXPECT_TRUE(results.empty());
  // Nobody answers at all: what we know ourselves is the answer, never nothing.
  app->on_timer(overlay.timer(id)->at, id);
  ASSERT_EQ(results.size(), 1u);
  ASSERT_TRUE(results[0].root);
  EXPECT_TRUE(results[0].first_timed_out);
}

TEST_F(SecureLookupTest, ARelayIsRoutedOnlyForItsSenderAndTheReplyGoesBackToIt) {
  make();
  const NodeHandle asker = ring_node(kBase, 1, 11);
  const NodeHandle third = ring_node(kBase, 40, 77);
  // A relay naming someone else as requester: refused, nothing routed.
  app->receive_direct(Time{0}, asker,
                      std::make_shared<SecureQuery>(SecureType::kRelay, 9, 4, key, third));
  EXPECT_TRUE(overlay.routed.empty());
  EXPECT_EQ(app->counters().relays_refused, 1u);
  app->receive_direct(Time{0}, asker,
                      std::make_shared<SecureQuery>(SecureType::kRelay, 9, 4, key, asker));
  ASSERT_EQ(overlay.routed.size(), 1u);
  const auto& q = static_cast<const SecureQuery&>(*overlay.routed[0].msg);
  EXPECT_EQ(q.lookup_id(), 9u);
  EXPECT_EQ(q.copy(), 4);
  reply(root, 9, 4, root, root_leaves);
  reply(root, 9, 4, root, root_leaves);  // a second copy of the answer is not passed on
  const auto back = overlay.sent_as<SecureReply>(kReplyType);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].first, asker);
  EXPECT_EQ(back[0].second->root(), root);
  EXPECT_EQ(back[0].second->members(), root_leaves);
}

TEST_F(SecureLookupTest, TheRootAnswersWhoRoutedTheQueryNotWhomItNames) {
  make();
  const NodeHandle origin = ring_node(kBase, 50, 60);
  const NodeHandle named = ring_node(kBase, 90, 61);
  overlay::RouteInfo info{key, origin, origin, 2};
  app->deliver(Time{0}, info, std::make_shared<SecureQuery>(SecureType::kQuery, 3, 0, key, named));
  const auto sent = overlay.sent_as<SecureReply>(kReplyType);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].first, origin);
  EXPECT_EQ(sent[0].second->root(), self);
  EXPECT_EQ(sent[0].second->members().size(), 16u);
}

}  // namespace
}  // namespace forestcast::secure::test
