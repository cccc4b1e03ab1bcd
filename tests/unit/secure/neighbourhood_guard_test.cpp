#include "secure/neighbourhood_guard.hpp"

#include <gtest/gtest.h>

#include "ring_fixture.hpp"

namespace forestcast::secure::test {
namespace {

constexpr u128 kSelfAt = u128{7} << 120;
constexpr uint16_t kNearType = static_cast<uint16_t>(SecureType::kNear);

// An eclipsed node: its leaf set holds only colluders, 5 spacings apart; its true neighbours
// (1 spacing apart) are known only to an honest node it has from its bootstrap list.
class GuardTest : public ::testing::Test {
 protected:
  GuardTest() {
    for (int k = -4; k <= 4; ++k)
      if (k != 0)
        overlay.known.push_back(ring_node(kSelfAt, 5 * k, 100 + static_cast<uint32_t>(k + 8)));
    for (int k = 1; k <= 4; ++k) {
      truth.push_back(ring_node(kSelfAt, k, 300 + static_cast<uint32_t>(k)));
      truth.push_back(ring_node(kSelfAt, -k, 310 + static_cast<uint32_t>(k)));
    }
    config.walks = 2;
    config.rounds = 3;
    config.seeds = 0;
  }
  std::vector<std::pair<NodeHandle, const SecureQuery*>> nears() const {
    return overlay.sent_as<SecureQuery>(kNearType);
  }

  const NodeHandle self = ring_node(kSelfAt, 0, 1);
  const NodeHandle honest = ring_node(kSelfAt + (u128{1} << 124), 0, 50);
  std::vector<NodeHandle> truth;
  FakeOverlay overlay{self};
  GuardConfig config;
};

TEST_F(GuardTest, AWalkFromAnHonestSeedFindsTheTrueNeighboursAndProbesThem) {
  NeighbourhoodGuard guard(overlay, 8, config);
  guard.add_seed(honest);
  guard.start(Time{0});
  // Round 1: each walk asks its first seed, the bootstrap seed first.
  auto asked = nears();
  ASSERT_EQ(asked.size(), 2u);
  EXPECT_EQ(asked[0].first, honest);
  EXPECT_EQ(asked[0].second->key(), self.id);
  const uint64_t walk = asked[0].second->lookup_id();
  const NodeHandle colluder = asked[1].first;
  // A stranger answering for the walk is not believed.
  EXPECT_TRUE(guard.on_reply(Time{0}, truth[0], SecureReply(walk, 0, truth[0], {truth[1]})));
  EXPECT_EQ(guard.counters().replies_unmatched, 1u);
  // The colluder names colluders; the honest seed names what it knows near us: the truth.
  EXPECT_TRUE(guard.on_reply(Time{0}, colluder, SecureReply(walk, 0, colluder, overlay.known)));
  overlay.sent.clear();
  EXPECT_TRUE(guard.on_reply(Time{0}, honest, SecureReply(walk, 0, honest, truth)));
  // Round 2: the honest walk goes on with a closest true neighbour (one spacing away).
  asked = nears();
  ASSERT_FALSE(asked.empty());
  EXPECT_TRUE(asked[0].first == truth[0] || asked[0].first == truth[1]);
  // Let the rounds time out to the end.
  while (guard.walking()) guard.on_timer(Time{0}, NeighbourhoodGuard::kRoundTimer);
  // Probed: the 8 true neighbours, the closest found, none of which we held.
  ASSERT_EQ(overlay.probed.size(), 8u);
  for (const auto& t : truth)
    EXPECT_NE(std::find(overlay.probed.begin(), overlay.probed.end(), t), overlay.probed.end());
  EXPECT_EQ(guard.counters().probes, 8u);
}

TEST_F(GuardTest, WithOnlyColludersToAskNothingNewIsProbed) {
  NeighbourhoodGuard guard(overlay, 8, config);
  guard.start(Time{0});
  while (guard.walking()) {
    for (const auto& [to, q] : nears())
      guard.on_reply(Time{0}, to, SecureReply(q->lookup_id(), 0, to, overlay.known));
    overlay.sent.clear();
    if (guard.walking()) guard.on_timer(Time{0}, NeighbourhoodGuard::kRoundTimer);
  }
  EXPECT_TRUE(overlay.probed.empty());
  EXPECT_EQ(guard.counters().walks, 1u);
}

TEST_F(GuardTest, BecomingActiveArmsThePeriodicWalk) {
  NeighbourhoodGuard guard(overlay, 8, config);
  guard.became_active(Time{0});
  guard.became_active(Time{0});  // once only
  ASSERT_EQ(overlay.timers.size(), 1u);
  EXPECT_EQ(overlay.timers[0].at, Time{0} + config.first_delay);
  EXPECT_EQ(overlay.timers[0].token, NeighbourhoodGuard::kStartTimer);
  guard.on_timer(overlay.timers[0].at, NeighbourhoodGuard::kStartTimer);
  EXPECT_TRUE(guard.walking());
  EXPECT_TRUE(overlay.timer(NeighbourhoodGuard::kStartTimer));  // the next period
}

}  // namespace
}  // namespace forestcast::secure::test

namespace forestcast::secure::test {
namespace {

TEST_F(GuardTest, NearIsAnsweredToTheAskerOnlyWithTheClosestKnown) {
  NeighbourhoodGuard guard(overlay, 8, config);
  const NodeId key = truth[0].id;
  guard.receive_direct(Time{0}, honest,
                       std::make_shared<SecureQuery>(SecureType::kNear, 4, 0, key, truth[2]));
  EXPECT_TRUE(overlay.sent.empty());
  EXPECT_EQ(guard.counters().near_refused, 1u);
  guard.receive_direct(Time{0}, honest,
                       std::make_shared<SecureQuery>(SecureType::kNear, 4, 0, key, honest));
  const auto replies = overlay.sent_as<SecureReply>(static_cast<uint16_t>(SecureType::kReply));
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].first, honest);
  EXPECT_EQ(replies[0].second->app_id(), kNeighbourhoodGuardAppId);
  EXPECT_EQ(replies[0].second->lookup_id(), 4u);
  // What we know closest to the key, ourselves aside (we are the root): our 8 known nodes.
  std::vector<NodeHandle> expected = overlay.replica_set(key, 9);
  std::erase(expected, self);
  EXPECT_EQ(replies[0].second->members(), expected);
}

}  // namespace
}  // namespace forestcast::secure::test
