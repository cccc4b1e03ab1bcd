// Root fail-over: successors watching the root, taking over, stepping back, adopting.
#include <gtest/gtest.h>

#include <algorithm>

#include "scribe_fixture.hpp"

namespace forestcast::multicast {
namespace {

using test::FakeOverlay;
using test::handle;
using test::kRootWatch;
using test::kTick;
using test::ScribeTest;

class RootFailoverTest : public ScribeTest {
 protected:
  ModelledKey key_{std::array<uint8_t, kPublicKeyBytes>{7, 7, 7}};
  CreateBody create_ = make_create(key_, "news", 3, 16, 99);
  NodeHandle root_ = handle(0x3f00000000000000ULL, 5);
  NodeHandle publisher_{create_.creator, overlay::Endpoint::ipv4(6, 4000)};

  void SetUp() override {
    overlay_.next = root_;  // the root is alive and closest; we are next after it
    scribe_.receive_direct(ms(0), root_, std::make_shared<const ReplicateMsg>(create_));
  }
  void ping(Time now) {
    RootAckBody p{create_.topic, 1, false};
    p.has_successor = true;
    p.successor = self_;
    scribe_.receive_direct(now, root_, std::make_shared<const RootAckMsg>(p));
  }
  std::shared_ptr<const JoinMsg> join_avoiding_root() {
    JoinBody j{create_.topic};
    j.has_avoid = true;
    j.avoid = root_.id;
    return std::make_shared<const JoinMsg>(j);
  }
  bool is_root() const {
    const TopicState* t = scribe_.topic(create_.topic);
    return t != nullptr && t->root;
  }
};

// The root pings every root_watch_interval (50 ms): three of them missed is the evidence, well
// before the tree's own failure timeout (300 ms).
TEST_F(RootFailoverTest, SuccessorTakesOverWhenItsOwnWatchMissesTheRoot) {
  ASSERT_EQ(ScribeConfig{}.root_watch_interval, ms(50));
  for (int t = 0; t <= 500; t += 50) {
    ping(ms(t));
    scribe_.on_timer(ms(t + 25), kTick);
  }
  EXPECT_FALSE(is_root());
  scribe_.on_timer(ms(640), kTick);  // 140 ms since the last ping: not yet
  EXPECT_FALSE(is_root());
  scribe_.on_timer(ms(660), kTick);  // 160 ms > 3 intervals
  EXPECT_TRUE(is_root());
  EXPECT_EQ(scribe_.counters().successor_takeovers, 1u);
  ASSERT_FALSE(overlay_.probed.empty());
  EXPECT_EQ(overlay_.probed.back(), root_) << "Pastry is asked to confirm and route around it";
  // The publisher's data is accepted although Pastry still routes to the old root.
  overlay_.clear();
  scribe_.receive_direct(ms(670), publisher_,
                         std::make_shared<const DataMsg>(DataBody{create_.topic, 7}));
  const auto acks = overlay_.sent_of<RootAckMsg>();
  ASSERT_FALSE(acks.empty());
  EXPECT_FALSE(acks[0].second->body.not_root);
}

// The tick comes every interval; a timeout that ends between two ticks gets a timer of its own,
// so the take-over is not up to an interval (a fifth of a 500 ms playout) late.
TEST_F(RootFailoverTest, WatchIsCheckedWhenTheFailureTimeoutEndsNotAtTheNextTick) {
  constexpr uint64_t kDeadline = 2;
  ping(ms(0));
  ping(ms(50));  // the root's last ping: silent for the failure timeout at 200 ms
  scribe_.on_timer(ms(60), kTick);
  const auto deadline_timers = [&] {
    std::vector<Time> at;
    for (const auto& t : overlay_.timers)
      if (t.token == kDeadline) at.push_back(t.at);
    return at;
  };
  EXPECT_TRUE(deadline_timers().empty()) << "no timeout ends before the next tick";
  scribe_.on_timer(ms(160), kTick);
  ASSERT_EQ(deadline_timers().size(), 1u);
  const Time at = deadline_timers()[0];
  EXPECT_EQ(at, ms(200) + Duration{1});
  EXPECT_FALSE(is_root());
  scribe_.on_timer(at, kDeadline);
  EXPECT_TRUE(is_root()) << "taken over when the timeout ended, not at the 260 ms tick";
  EXPECT_EQ(scribe_.counters().successor_takeovers, 1u);
}

TEST_F(ScribeTest, SilentParentIsLeftWhenTheFailureTimeoutEndsNotAtTheNextTick) {
  constexpr uint64_t kDeadline = 2;
  attach(ms(0));
  data_from_parent(ms(100), 1);
  scribe_.on_timer(ms(150), kTick);
  scribe_.on_timer(ms(350), kTick);
  const auto it = std::find_if(overlay_.timers.begin(), overlay_.timers.end(),
                               [](const auto& t) { return t.token == kDeadline; });
  ASSERT_NE(it, overlay_.timers.end());
  EXPECT_EQ(it->at, ms(400) + Duration{1});
  const Time at = it->at;
  EXPECT_EQ(scribe_.topic(topic_)->parent, parent_);
  scribe_.on_timer(at, kDeadline);
  EXPECT_FALSE(scribe_.topic(topic_)->parent) << "left at the end of the timeout";
  EXPECT_EQ(scribe_.counters().parents_lost_at_deadline, 1u);
  EXPECT_EQ(scribe_.counters().parent_failures, 1u);
}

TEST_F(RootFailoverTest, ThePublishersWordAloneDoesNotMakeASecondRoot) {
  ping(ms(0));
  ping(ms(100));
  DataBody d{create_.topic, 9};
  d.has_dead_root = true;
  d.dead_root = root_.id;
  scribe_.receive_direct(ms(150), publisher_, std::make_shared<const DataMsg>(d));
  EXPECT_FALSE(is_root()) << "the root pinged 50 ms ago";
  EXPECT_EQ(scribe_.counters().successor_takeovers, 0u);
}

TEST_F(RootFailoverTest, NoWatchNoTakeOver) {
  // Never pinged by the root: only Pastry's verdict (node_dead) makes us the root.
  for (int t = 0; t <= 2000; t += 100) scribe_.on_timer(ms(t), kTick);
  EXPECT_FALSE(is_root());
}

TEST_F(RootFailoverTest, JoinAvoidingTheRootWaitsForTheEvidenceThenIsAdopted) {
  ping(ms(0));
  overlay_.clear();
  scribe_.receive_direct(ms(100), child_, join_avoiding_root());  // the child noticed first
  EXPECT_FALSE(is_root());
  EXPECT_TRUE(overlay_.sent_of<RefuseMsg>().empty()) << "held, not refused";
  EXPECT_EQ(scribe_.counters().joins_held, 1u);
  scribe_.on_timer(ms(160), kTick);  // our own watch: 160 ms of silence
  ASSERT_TRUE(is_root());
  EXPECT_TRUE(scribe_.topic(create_.topic)->has_child(child_.id));
  EXPECT_EQ(overlay_.sent_of<AcceptMsg>().size(), 1u);
}

TEST_F(RootFailoverTest, HeldJoinGoesBackToTheRootWhenItAnswers) {
  ping(ms(0));
  scribe_.receive_direct(ms(100), child_, join_avoiding_root());
  overlay_.clear();
  ping(ms(110));
  const auto refusals = overlay_.sent_of<RefuseMsg>();
  ASSERT_EQ(refusals.size(), 1u);
  EXPECT_EQ(refusals[0].first, child_);
  ASSERT_EQ(refusals[0].second->body.candidates.size(), 1u);
  EXPECT_EQ(refusals[0].second->body.candidates[0], root_);
  scribe_.on_timer(ms(200), kTick);
  EXPECT_FALSE(is_root());
}

TEST_F(RootFailoverTest, ReplacedRootThatPingsAgainMakesTheSuccessorStepBack) {
  ping(ms(0));
  scribe_.on_timer(ms(350), kTick);
  ASSERT_TRUE(is_root());
  overlay_.clear();
  ping(ms(400));  // it was alive after all
  EXPECT_FALSE(is_root());
  EXPECT_EQ(scribe_.counters().takeovers_undone, 1u);
  EXPECT_EQ(overlay_.routed_of<JoinMsg>().size(), 1u) << "hangs below the old root again";
}

class SecondSuccessorTest : public RootFailoverTest {
 protected:
  NodeHandle first_ = handle(0x3e00000000000000ULL, 8);  // the root's first successor
  void root_ping(Time now) {
    RootAckBody p{create_.topic, 1, false};
    p.has_successor = true;
    p.successor = first_;
    scribe_.receive_direct(now, root_, std::make_shared<const RootAckMsg>(p));
  }
  void deputy_ping(Time now) {
    RootAckBody p{create_.topic, 0, false};
    p.has_successor = true;
    p.successor = self_;
    scribe_.receive_direct(now, first_, std::make_shared<const RootAckMsg>(p));
  }
};

TEST_F(SecondSuccessorTest, TakesOverOnlyWhenRootAndFirstSuccessorAreBothSilent) {
  root_ping(ms(0));
  deputy_ping(ms(0));
  deputy_ping(ms(100));
  scribe_.on_timer(ms(350), kTick);  // root silent 350 ms, first successor 250 ms: it acts
  EXPECT_FALSE(is_root());
  scribe_.on_timer(ms(450), kTick);  // both silent past the failure timeout
  ASSERT_TRUE(is_root());
  EXPECT_NE(std::find(overlay_.probed.begin(), overlay_.probed.end(), root_),
            overlay_.probed.end());
  EXPECT_NE(std::find(overlay_.probed.begin(), overlay_.probed.end(), first_),
            overlay_.probed.end());
}

TEST_F(SecondSuccessorTest, StaysOutWhileTheFirstSuccessorIsAlive) {
  root_ping(ms(0));
  for (int t = 0; t <= 2000; t += 100) {
    deputy_ping(ms(t));
    scribe_.on_timer(ms(t + 50), kTick);
  }
  EXPECT_FALSE(is_root());
  EXPECT_EQ(scribe_.counters().successor_takeovers, 0u);
}

TEST_F(SecondSuccessorTest, FirstSuccessorTellsTheSecondItIsAlive) {
  // Seen from the first successor: the root names us first; we ping the next one after us.
  overlay_.replicas = {first_};
  ping(ms(0));  // from root_, naming self_ first
  overlay_.clear();
  scribe_.on_timer(ms(100), kTick);
  const auto pings = overlay_.sent_of<RootAckMsg>();
  ASSERT_EQ(pings.size(), 1u);
  EXPECT_EQ(pings[0].first, first_);
  EXPECT_EQ(pings[0].second->body.successor, first_);
}

class ThirdSuccessorTest : public SecondSuccessorTest {
 protected:
  NodeHandle second_ = handle(0x3d00000000000000ULL, 9);  // the root's second successor
  void second_ping(Time now) {
    RootAckBody p{create_.topic, 0, false};
    p.has_successor = true;
    p.successor = self_;
    scribe_.receive_direct(now, second_, std::make_shared<const RootAckMsg>(p));
  }
  bool probed(const NodeHandle& h) const {
    return std::find(overlay_.probed.begin(), overlay_.probed.end(), h) != overlay_.probed.end();
  }
};

TEST_F(ThirdSuccessorTest, TakesOverOnlyWhenRootAndBothSuccessorsAreSilent) {
  // Root and first successor fell silent at 0, the second at 200 ms: a quarter of the ring
  // killed at once takes all three in about one killed root in sixteen.
  overlay_.replica_order = {root_, first_, second_, self_};
  root_ping(ms(0));
  deputy_ping(ms(0));
  second_ping(ms(0));
  second_ping(ms(200));
  scribe_.on_timer(ms(350), kTick);  // root and first silent, the second is not
  EXPECT_FALSE(is_root());
  scribe_.on_timer(ms(550), kTick);  // all three silent past the failure timeout
  ASSERT_TRUE(is_root());
  EXPECT_TRUE(probed(root_));
  EXPECT_TRUE(probed(first_));
  EXPECT_TRUE(probed(second_));
}

TEST_F(ThirdSuccessorTest, StaysOutWhileTheSecondSuccessorIsAlive) {
  overlay_.replica_order = {root_, first_, second_, self_};
  root_ping(ms(0));
  deputy_ping(ms(0));
  for (int t = 0; t <= 2000; t += 100) {
    second_ping(ms(t));
    scribe_.on_timer(ms(t + 50), kTick);
  }
  EXPECT_FALSE(is_root());
  EXPECT_EQ(scribe_.counters().successor_takeovers, 0u);
}

TEST_F(ThirdSuccessorTest, StaysOutWithoutAWatchOfTheSecondSuccessor) {
  // It never heard the second successor: no evidence that it is dead.
  overlay_.replica_order = {root_, first_, second_, self_};
  root_ping(ms(0));
  deputy_ping(ms(0));
  scribe_.on_timer(ms(550), kTick);
  EXPECT_FALSE(is_root());
}

TEST_F(ThirdSuccessorTest, SecondSuccessorTellsTheThirdItIsAlive) {
  // Seen from the second successor: the root names first_; we ping the one after us only.
  const NodeHandle third = handle(0x3c00000000000000ULL, 10);
  overlay_.replica_order = {root_, first_, self_, third};
  root_ping(ms(0));
  overlay_.clear();
  scribe_.on_timer(ms(100), kTick);
  const auto pings = overlay_.sent_of<RootAckMsg>();
  ASSERT_EQ(pings.size(), 1u);
  EXPECT_EQ(pings[0].first, third);
  EXPECT_EQ(pings[0].second->body.successor, third);
}

TEST_F(RootFailoverTest, SuccessorThatTakesOverAdoptsTheOldRootsChildrenUnasked) {
  for (int t = 0; t <= 500; t += 100) {
    RootAckBody p{create_.topic, 1, false};
    p.has_successor = true;
    p.successor = self_;
    if (t == 0) p.children = {child_, self_};  // listed once: later pings do not repeat it
    scribe_.receive_direct(ms(t), root_, std::make_shared<const RootAckMsg>(p));
    scribe_.on_timer(ms(t + 50), kTick);
  }
  EXPECT_TRUE(overlay_.sent_of<AcceptMsg>().empty());
  scribe_.on_timer(ms(850), kTick);  // the root silent past the failure timeout
  ASSERT_TRUE(is_root());
  const auto accepts = overlay_.sent_of<AcceptMsg>();
  ASSERT_EQ(accepts.size(), 1u) << "the old root's child, not ourselves";
  EXPECT_EQ(accepts[0].first, child_);
  EXPECT_EQ(accepts[0].second->body.path, std::vector<NodeId>{self_.id});
  EXPECT_EQ(scribe_.counters().takeover_adoptions, 1u);
  EXPECT_TRUE(scribe_.topic(create_.topic)->has_child(child_.id));
}

TEST_F(RootFailoverTest, RootListsItsChildrenToItsSuccessorsWhenTheyChange) {
  overlay_.next.reset();  // we are the root
  overlay_.replicas = {root_};
  scribe_.deliver(ms(0), overlay::RouteInfo{create_.topic, publisher_, publisher_, 2},
                  std::make_shared<const CreateMsg>(create_));
  scribe_.on_timer(ms(50), kRootWatch);
  scribe_.receive_direct(ms(60), child_, std::make_shared<const JoinMsg>(JoinBody{create_.topic}));
  overlay_.clear();
  scribe_.on_timer(ms(100), kRootWatch);
  auto pings = overlay_.sent_of<RootAckMsg>();
  ASSERT_EQ(pings.size(), 1u);
  EXPECT_EQ(pings[0].second->body.children, std::vector<NodeHandle>{child_});
  overlay_.clear();
  scribe_.on_timer(ms(150), kRootWatch);
  pings = overlay_.sent_of<RootAckMsg>();
  ASSERT_EQ(pings.size(), 1u);
  EXPECT_TRUE(pings[0].second->body.children.empty()) << "unchanged: not listed again";
}

TEST_F(RootFailoverTest, RootTellsASuccessorItNoLongerPingsToStopWatching) {
  // A closer node joined: the third successor drops out of the root's pings, and its watch
  // would go silent exactly like a dead root's.
  const NodeHandle a = handle(0x3e00000000000000ULL, 8), b = handle(0x3d00000000000000ULL, 9),
                   c = handle(0x3c00000000000000ULL, 10), x = handle(0x3f80000000000000ULL, 11);
  overlay_.next.reset();  // we are the root
  overlay_.replica_order = {self_, a, b, c};
  scribe_.deliver(ms(0), overlay::RouteInfo{create_.topic, publisher_, publisher_, 2},
                  std::make_shared<const CreateMsg>(create_));
  const auto to_successors = [&] {
    auto all = overlay_.sent_of<RootAckMsg>();
    std::erase_if(all, [&](const auto& p) { return p.first == publisher_; });
    return all;
  };
  overlay_.clear();
  scribe_.on_timer(ms(50), kRootWatch);
  auto pings = to_successors();
  ASSERT_EQ(pings.size(), 3u) << "three successors";
  overlay_.replica_order = {self_, x, a, b, c};
  overlay_.clear();
  scribe_.on_timer(ms(100), kRootWatch);
  pings = to_successors();
  ASSERT_EQ(pings.size(), 4u) << "three pings and one notice";
  size_t notices = 0;
  for (const auto& [to, m] : pings) {
    if (!m->body.not_root) continue;
    ++notices;
    EXPECT_EQ(to, c);
    EXPECT_TRUE(m->body.has_successor);
  }
  EXPECT_EQ(notices, 1u);
  overlay_.clear();
  scribe_.on_timer(ms(150), kRootWatch);
  for (const auto& [to, m] : to_successors()) EXPECT_FALSE(m->body.not_root) << "told once";
}

TEST_F(SecondSuccessorTest, SuccessorToldItIsNoLongerWatchedNeverTakesOver) {
  root_ping(ms(0));
  deputy_ping(ms(0));
  RootAckBody bye{create_.topic, 1, true};
  bye.has_successor = true;
  bye.successor = first_;
  overlay_.clear();
  scribe_.receive_direct(ms(50), root_, std::make_shared<const RootAckMsg>(bye));
  scribe_.on_timer(ms(450), kTick);  // root and first silent past the failure timeout
  EXPECT_FALSE(is_root());
  EXPECT_EQ(scribe_.counters().successor_takeovers, 0u);
  EXPECT_TRUE(overlay_.routed_of<DataMsg>().empty());
}

TEST_F(ScribeTest, ChildOfASilentRootFollowsTheAcceptOfTheNodeThatTookOver) {
  const NodeHandle successor = handle(0x3a00000000000000ULL, 8);
  attach(ms(0));  // parent_ is the root: its path is itself
  data_from_parent(ms(100), 1);
  const auto accept_from_successor = [&] {
    return std::make_shared<const AcceptMsg>(PathBody{topic_, {successor.id}});
  };
  overlay_.clear();
  scribe_.receive_direct(ms(180), successor, accept_from_successor());  // silent 80 ms only
  EXPECT_EQ(scribe_.topic(topic_)->parent, parent_);
  EXPECT_EQ(overlay_.sent_of<LeaveMsg>().size(), 1u) << "a live root's child declines";
  // Silent past a heartbeat interval: a live root would have sent one.
  scribe_.receive_direct(ms(210), successor, accept_from_successor());  // silent 110 ms
  EXPECT_EQ(scribe_.topic(topic_)->parent, successor);
  EXPECT_EQ(scribe_.counters().takeovers_followed, 1u);
  EXPECT_EQ(scribe_.topic(topic_)->path, std::vector<NodeId>{successor.id});
  ASSERT_FALSE(overlay_.probed.empty());
  EXPECT_EQ(overlay_.probed.back(), parent_);
}

TEST_F(ScribeTest, ChildOfASilentInteriorParentIgnoresARootsAccept) {
  const NodeHandle other = handle(0x3a00000000000000ULL, 8);
  overlay_.next = handle(0x3900000000000000ULL, 9);
  scribe_.subscribe(ms(0), topic_);
  scribe_.receive_direct(
      ms(0), parent_, std::make_shared<const AcceptMsg>(PathBody{topic_, {other.id, parent_.id}}));
  scribe_.receive_direct(ms(290), other,
                         std::make_shared<const AcceptMsg>(PathBody{topic_, {other.id}}));
  EXPECT_EQ(scribe_.topic(topic_)->parent, parent_) << "only a root's children follow a take-over";
  EXPECT_EQ(scribe_.counters().takeovers_followed, 0u);
}

TEST_F(RootFailoverTest, RootPingsItsSuccessorEveryIntervalAndNamesItToItsChildren) {
  overlay_.next.reset();  // we are the root
  overlay_.replicas = {root_};
  scribe_.deliver(ms(0), overlay::RouteInfo{create_.topic, publisher_, publisher_, 2},
                  std::make_shared<const CreateMsg>(create_));
  ASSERT_TRUE(is_root());
  EXPECT_EQ(overlay_.sent_of<RootAckMsg>().size(), 2u) << "the publisher's ACK, the first ping";
  const auto watch = std::find_if(overlay_.timers.begin(), overlay_.timers.end(),
                                  [](const auto& t) { return t.token == kRootWatch; });
  ASSERT_NE(watch, overlay_.timers.end());
  EXPECT_EQ(watch->at, ms(50)) << "pings every root_watch_interval, not every tick";
  overlay_.clear();
  scribe_.on_timer(ms(50), kRootWatch);
  const auto pings = overlay_.sent_of<RootAckMsg>();
  ASSERT_EQ(pings.size(), 1u);
  EXPECT_EQ(pings[0].first, root_);
  EXPECT_TRUE(pings[0].second->body.has_successor);
  EXPECT_EQ(pings[0].second->body.successor, root_);
  scribe_.receive_direct(ms(60), child_, std::make_shared<const JoinMsg>(JoinBody{create_.topic}));
  const auto accepts = overlay_.sent_of<AcceptMsg>();
  ASSERT_EQ(accepts.size(), 1u);
  EXPECT_TRUE(accepts[0].second->body.has_parent);
  EXPECT_EQ(accepts[0].second->body.parent, root_) << "where the child goes if we die";
}

}  // namespace
}  // namespace forestcast::multicast
