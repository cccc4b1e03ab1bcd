// Scribe's peer fetch (peer_fetch.cpp): a member asks a neighbour for its holes and its tail, the
// neighbour answers from its stripe history within a per-requester rate, and only answers to a
// request of ours are taken (deduplicated by the history). Fake overlay, fake time.
#include <gtest/gtest.h>

#include <set>

#include "fake_overlay.hpp"
#include "multicast/credentials.hpp"
#include "multicast/scribe.hpp"

namespace forestcast::multicast {
namespace {

using test::FakeOverlay;
using test::handle;

class PeerFetchTest : public ::testing::Test {
 protected:
  NodeHandle self_ = handle(0x3000000000000000ULL, 1);
  NodeHandle parent_ = handle(0x3100000000000000ULL, 2);
  NodeHandle child_ = handle(0x7000000000000000ULL, 3);
  NodeHandle peer_a_ = handle(0x3000000000000001ULL, 4);
  NodeHandle peer_b_ = handle(0x2fffffffffffffffULL, 5);
  NodeHandle stranger_ = handle(0x9000000000000000ULL, 6);
  NodeId topic_ = NodeId::from_parts(0x3abc000000000000ULL, 42);
  FakeOverlay overlay_{self_};
  ModelledCredentials credentials_;

  std::unique_ptr<Scribe> make(ScribeConfig config = {}) {
    auto s = std::make_unique<Scribe>(overlay_, config, credentials_);
    overlay_.next = handle(0x3900000000000000ULL, 9);
    overlay_.replicas = {peer_a_, peer_b_};
    s->subscribe(ms(0), topic_);
    s->receive_direct(ms(0), parent_,
                      std::make_shared<const AcceptMsg>(PathBody{topic_, {parent_.id}}));
    return s;
  }
  void adopt_child(Scribe& s) {
    overlay::ForwardContext ctx{
        topic_, child_, child_, 1, overlay_.next, std::make_shared<const JoinMsg>(JoinBody{topic_}),
        false, false};
    s.forward(ms(0), ctx);
  }
  void data_from(Scribe& s, Time now, const NodeHandle& from, uint64_t seq, bool replayed = false) {
    DataBody b{topic_, seq};
    b.payload_size = 1000;
    b.replayed = replayed;
    s.receive_direct(now, from, std::make_shared<const DataMsg>(std::move(b)));
  }
  std::vector<uint64_t> data_sent_to(const NodeHandle& to) const {
    std::vector<uint64_t> out;
    for (const auto& [node, d] : overlay_.sent_of<DataMsg>())
      if (node == to) out.push_back(d->body.seq);
    return out;
  }
};

TEST_F(PeerFetchTest, AMemberAsksANeighbourNotItsParentForItsHolesAndTail) {
  ScribeConfig one;
  one.fetch.fanout = 1;
  one.fetch.fanout_max = 1;  // rounds of one peer (widening: UnansweredRoundsWiden...)
  auto s = make(one);
  for (uint64_t q : {1, 2, 3, 6, 7}) data_from(*s, ms(10 * q), parent_, q);
  overlay_.clear();
  s->fetch(ms(100), topic_);
  auto asks = overlay_.sent_of<FetchMsg>();
  ASSERT_EQ(asks.size(), 1u);
  EXPECT_TRUE(asks[0].first == peer_a_ || asks[0].first == peer_b_);
  EXPECT_EQ(asks[0].second->body.topic, topic_);
  EXPECT_EQ(asks[0].second->body.after, 7u);
  EXPECT_EQ(asks[0].second->body.missing, (std::vector<uint64_t>{4, 5}));
  s->fetch(ms(150), topic_);
  EXPECT_EQ(overlay_.sent_of<FetchMsg>().size(), 1u) << "once per min_interval";
  EXPECT_EQ(s->fetch_counters().requests_sent, 1u);
  // Unanswered: the next request goes to the other neighbour.
  s->fetch(ms(250), topic_);
  asks = overlay_.sent_of<FetchMsg>();
  ASSERT_EQ(asks.size(), 2u);
  EXPECT_NE(asks[1].first, asks[0].first);
  EXPECT_EQ(s->fetch_counters().peer_rotations, 1u);
}

TEST_F(PeerFetchTest, ANeighbourAnswersFromItsHistoryWithinTheRequestersRate) {
  ScribeConfig config;
  config.fetch.requester_burst = 8;
  config.fetch.requester_packets_per_s = 100;  // one per 10 ms
  auto s = make(config);
  for (uint64_t q = 1; q <= 20; ++q) data_from(*s, ms(10 * q), parent_, q);
  overlay_.clear();
  s->receive_direct(ms(210), stranger_,
                    std::make_shared<const FetchMsg>(FetchBody{topic_, 16, {3, 5}}));
  EXPECT_EQ(data_sent_to(stranger_), (std::vector<uint64_t>{3, 5, 17, 18, 19, 20}));
  for (const auto& [to, d] : overlay_.sent_of<DataMsg>()) EXPECT_TRUE(d->body.replayed);
  EXPECT_EQ(s->fetch_counters().packets_served, 6u);
  // 2 tokens left: the next request gets 2 packets, the one after that nothing (refused).
  overlay_.clear();
  s->receive_direct(ms(210), stranger_,
                    std::make_shared<const FetchMsg>(FetchBody{topic_, 10, {}}));
  EXPECT_EQ(data_sent_to(stranger_), (std::vector<uint64_t>{11, 12}));
  overlay_.clear();
  s->receive_direct(ms(210), stranger_,
                    std::make_shared<const FetchMsg>(FetchBody{topic_, 10, {}}));
  EXPECT_TRUE(data_sent_to(stranger_).empty());
  EXPECT_EQ(s->fetch_counters().requests_refused, 1u);
  // Another requester has its own bucket; 50 ms later the first has 5 tokens again.
  s->receive_direct(ms(210), child_, std::make_shared<const FetchMsg>(FetchBody{topic_, 18, {}}));
  EXPECT_EQ(data_sent_to(child_), (std::vector<uint64_t>{19, 20}));
  overlay_.clear();
  s->receive_direct(ms(260), stranger_,
                    std::make_shared<const FetchMsg>(FetchBody{topic_, 10, {}}));
  EXPECT_EQ(data_sent_to(stranger_), (std::vector<uint64_t>{11, 12, 13, 14, 15}));
  // Nothing the requester lacks, or a topic we do not hold: no answer.
  overlay_.clear();
  s->receive_direct(ms(300), peer_a_, std::make_shared<const FetchMsg>(FetchBody{topic_, 20, {}}));
  s->receive_direct(ms(300), peer_a_,
                    std::make_shared<const FetchMsg>(FetchBody{NodeId::from_parts(1, 2), 0, {}}));
  EXPECT_TRUE(overlay_.sent_of<DataMsg>().empty());
  EXPECT_EQ(s->fetch_counters().requests_empty, 2u);
}

TEST_F(PeerFetchTest, TwoNeighboursAreAskedAtOnceByDefault) {
  overlay_.replicas = {peer_a_, parent_, peer_b_, stranger_};
  auto s = make();
  overlay_.replicas = {peer_a_, parent_, peer_b_, stranger_};
  data_from(*s, ms(10), parent_, 1);
  overlay_.clear();
  s->fetch(ms(100), topic_);
  const auto asks = overlay_.sent_of<FetchMsg>();
  ASSERT_EQ(asks.size(), 2u);
  EXPECT_NE(asks[0].first, asks[1].first);
  for (const auto& [to, f] : asks) EXPECT_NE(to, parent_) << "the parent is what failed";
  // Either answer is taken.
  data_from(*s, ms(120), asks[0].first, 2, true);
  data_from(*s, ms(120), asks[1].first, 3, true);
  EXPECT_EQ(s->fetch_counters().answers_accepted, 2u);
}

TEST_F(PeerFetchTest, OnlyAnswersToOurRequestAreTakenDeduplicatedAndPassedDown) {
  ScribeConfig one;
  one.fetch.fanout = 1;
  auto s = make(one);
  adopt_child(*s);
  for (uint64_t q : {1, 2, 3, 6}) data_from(*s, ms(10 * q), parent_, q);
  s->fetch(ms(100), topic_);
  const NodeHandle asked = overlay_.sent_of<FetchMsg>().at(0).first;
  const NodeHandle other = asked == peer_a_ ? peer_b_ : peer_a_;
  overlay_.clear();
  data_from(*s, ms(120), other, 4, true);  // not asked: not taken
  EXPECT_TRUE(data_sent_to(child_).empty());
  EXPECT_EQ(s->fetch_counters().answers_unsolicited, 1u);
  data_from(*s, ms(120), asked, 4, true);
  data_from(*s, ms(120), asked, 7, true);
  data_from(*s, ms(121), asked, 4, true);  // twice: the history drops it
  EXPECT_EQ(data_sent_to(child_), (std::vector<uint64_t>{4, 7})) << "a cut subtree misses them too";
  EXPECT_EQ(s->fetch_counters().answers_accepted, 2u);
  EXPECT_EQ(s->fetch_counters().answers_duplicate, 1u);
  // A seq below what we asked for in full and not one of our holes: not taken.
  data_from(*s, ms(125), asked, 2, true);
  EXPECT_EQ(s->fetch_counters().answers_accepted, 2u);
  // Past the answer's life the same peer is a stranger again.
  data_from(*s, ms(1200), asked, 5, true);
  EXPECT_EQ(s->fetch_counters().answers_accepted, 2u);
}

// The first peers asked are the nodes we share the stream's other stripe trees with (here our
// parent in a sibling stripe, which receives this stripe by a path of its own), not leaf-set
// neighbours, whose join routes resemble ours; another stream's parent is never asked.
TEST_F(PeerFetchTest, ParentsInTheStreamsOtherStripesAreAskedFirst) {
  const NodeHandle sibling_parent = handle(0xa100000000000000ULL, 7);
  const NodeHandle other_stream_parent = handle(0x5100000000000000ULL, 8);
  const NodeId sibling = topic_.with_digit(0, 0xa);
  const NodeId other_stream = NodeId::from_parts(0x5abc000000000000ULL, 43);
  for (bool tree_peers : {true, false}) {
    ScribeConfig config;
    config.fetch.fanout = 1;
    config.fetch.tree_peers = tree_peers;
    auto s = make(config);
    for (const auto& [id, parent] : {std::pair{sibling, sibling_parent},
                                     std::pair{other_stream, other_stream_parent}}) {
      s->subscribe(ms(0), id);
      s->receive_direct(ms(0), parent, std::make_shared<const AcceptMsg>(PathBody{id, {parent.id}}));
      DataBody b{id, 1};
      b.payload_size = 1000;
      s->receive_direct(ms(50), parent, std::make_shared<const DataMsg>(std::move(b)));
    }
    data_from(*s, ms(50), parent_, 1);
    overlay_.clear();
    // Unanswered rounds rotate through every candidate: the sibling's parent comes first.
    std::vector<NodeHandle> asked;
    for (int round = 0; round < 3; ++round) {
      s->fetch(ms(100 + 200 * round), topic_);
      asked.push_back(overlay_.sent_of<FetchMsg>().back().first);
    }
    EXPECT_EQ(asked[0] == sibling_parent, tree_peers) << "tree_peers " << tree_peers;
    for (const NodeHandle& a : asked) {
      EXPECT_NE(a, other_stream_parent) << "another stream's tree does not carry this stripe";
      EXPECT_NE(a, parent_);
    }
    EXPECT_EQ(asked[1] == peer_a_ || asked[1] == peer_b_, true) << "then the leaf set";
  }
}

// The requester's own account of its rounds (the stream scenario's diagnosis): answered with
// the delay of the first answer, or replaced unanswered.
TEST_F(PeerFetchTest, RoundsAreCountedAnsweredWithTheirDelayOrUnanswered) {
  ScribeConfig one;
  one.fetch.fanout = 1;
  one.fetch.fanout_max = 1;
  auto s = make(one);
  data_from(*s, ms(10), parent_, 1);
  s->fetch(ms(100), topic_);
  const NodeHandle asked = overlay_.sent_of<FetchMsg>().back().first;
  data_from(*s, ms(140), asked, 2, true);
  data_from(*s, ms(150), asked, 3, true);  // the same round: its first answer counted once
  EXPECT_EQ(s->fetch_counters().requests_answered, 1u);
  EXPECT_EQ(s->fetch_counters().answer_delay_us_sum, 40'000u);
  EXPECT_EQ(s->fetch_counters().answer_delay_us_max, 40'000u);
  for (int round = 1; round <= 16; ++round) s->fetch(ms(100 + 200 * round), topic_);
  EXPECT_EQ(s->fetch_counters().requests_sent, 17u);
  // Sixteen slots: the 17th request replaced the answered first; the unanswered are still held.
  EXPECT_EQ(s->fetch_counters().requests_unanswered, 0u);
  s->fetch(ms(3500), topic_);
  EXPECT_EQ(s->fetch_counters().requests_unanswered, 1u);
}

// A round that got no answer within 1.5x the answers' usual delay goes to the next peer then,
// not a whole pull interval later; an answered stripe is pulled again only after min_interval.
TEST_F(PeerFetchTest, AnUnansweredRoundMovesOnOnceTheUsualAnswerDelayHasPassed) {
  for (bool early : {true, false}) {
    ScribeConfig one;
    one.fetch.fanout = 1;
    one.fetch.fanout_max = 1;
    one.fetch.reask_early = early;
    auto s = make(one);
    data_from(*s, ms(10), parent_, 1);
    overlay_.clear();
    s->fetch(ms(100), topic_);
    const NodeHandle first = overlay_.sent_of<FetchMsg>().back().first;
    data_from(*s, ms(140), first, 2, true);  // answered in 40 ms
    s->fetch(ms(200), topic_);
    EXPECT_EQ(overlay_.sent_of<FetchMsg>().size(), 1u) << "answered: the next pull after 150 ms";
    s->fetch(ms(250), topic_);
    ASSERT_EQ(overlay_.sent_of<FetchMsg>().size(), 2u);
    EXPECT_EQ(overlay_.sent_of<FetchMsg>().back().first, first) << "it answered: ask it again";
    // No answer now: 60 ms later (1.5 x 40 ms) the next peer is asked, without reask_early only
    // after 150 ms.
    s->fetch(ms(310), topic_);
    if (!early) {
      EXPECT_EQ(overlay_.sent_of<FetchMsg>().size(), 2u);
      s->fetch(ms(400), topic_);
    }
    ASSERT_EQ(overlay_.sent_of<FetchMsg>().size(), 3u);
    EXPECT_NE(overlay_.sent_of<FetchMsg>().back().first, first);
    EXPECT_EQ(s->fetch_counters().peer_rotations, 1u);
  }
}

// After an unanswered round the next one asks twice as many peers (2, 4, 8), none asked
// before; an answer brings it back to two. With fanout_max = fanout every round asks two.
TEST_F(PeerFetchTest, UnansweredRoundsWidenUntilOneIsAnswered) {
  std::vector<NodeHandle> many;
  for (uint64_t i = 1; i <= 16; ++i) many.push_back(handle(0x3000000000000000ULL + i * 0x100, 20 + i));
  for (size_t widest : {8u, 2u}) {
    ScribeConfig config;
    config.fetch.tree_peers = false;
    config.fetch.peers = 16;
    config.fetch.fanout_max = widest;
    auto s = make(config);
    overlay_.replicas = many;
    data_from(*s, ms(10), parent_, 1);
    overlay_.clear();
    std::vector<size_t> sizes;
    std::set<NodeId> asked;
    Time now = ms(100);
    for (int round = 0; round < 4; ++round, now += ms(200)) {
      const size_t before = overlay_.sent_of<FetchMsg>().size();
      s->fetch(now, topic_);
      const auto asks = overlay_.sent_of<FetchMsg>();
      sizes.push_back(asks.size() - before);
      for (size_t i = before; i < asks.size(); ++i)
        if (round < 3) {
          EXPECT_TRUE(asked.insert(asks[i].first.id).second) << "asked twice";
        }
    }
    if (widest == 8u) {
      EXPECT_EQ(sizes, (std::vector<size_t>{2, 4, 8, 8}));
    } else {
      EXPECT_EQ(sizes, (std::vector<size_t>{2, 2, 2, 2}));
    }
    // An answer to the last round: the next round (150 ms on) asks two again.
    data_from(*s, now - ms(150), overlay_.sent_of<FetchMsg>().back().first, 2, true);
    const size_t before = overlay_.sent_of<FetchMsg>().size();
    s->fetch(now + ms(50), topic_);
    EXPECT_EQ(overlay_.sent_of<FetchMsg>().size() - before, 2u);
  }
}

// A stripe silent past silent_widen is cut, not skewed: its first round already asks 2 x fanout.
TEST_F(PeerFetchTest, AStripeSilentPastACutStartsWithAWiderRound) {
  std::vector<NodeHandle> many;
  for (uint64_t i = 1; i <= 8; ++i) many.push_back(handle(0x3000000000000000ULL + i * 0x100, 20 + i));
  for (Duration widen : {ms(300), Duration::zero()}) {
    for (Time ask : {ms(100), ms(400)}) {
      ScribeConfig config;
      config.fetch.tree_peers = false;
      config.fetch.peers = 8;
      config.fetch.silent_widen = widen;
      auto s = make(config);
      overlay_.replicas = many;
      data_from(*s, ms(10), parent_, 1);
      overlay_.clear();
      s->fetch(ask, topic_);
      const size_t want = widen > Duration::zero() && ask == ms(400) ? 4u : 2u;
      EXPECT_EQ(overlay_.sent_of<FetchMsg>().size(), want) << "silent for " << (ask - ms(10)).count();
    }
  }
}

TEST_F(PeerFetchTest, OffMeansNoRequestsAndNoAnswers) {
  ScribeConfig config;
  config.fetch.enabled = false;
  auto s = make(config);
  for (uint64_t q = 1; q <= 5; ++q) data_from(*s, ms(10 * q), parent_, q);
  overlay_.clear();
  s->fetch(ms(100), topic_);
  s->receive_direct(ms(100), stranger_, std::make_shared<const FetchMsg>(FetchBody{topic_, 1, {}}));
  EXPECT_TRUE(overlay_.sent.empty());
}

TEST(PeerFetchWire, FetchRoundTripsAndBadBodiesAreRefused) {
  const NodeId topic = NodeId::from_parts(0x3abc000000000000ULL, 42);
  std::string bytes;
  FetchMsg(FetchBody{topic, 77, {70, 72}}).encode(bytes);
  DecodeError error = DecodeError::kNone;
  auto msg = decode_message(static_cast<uint16_t>(MsgType::kFetch), bytes, error);
  ASSERT_NE(msg, nullptr) << to_string(error);
  const auto& f = static_cast<const FetchMsg&>(*msg).body;
  EXPECT_EQ(f.topic, topic);
  EXPECT_EQ(f.after, 77u);
  EXPECT_EQ(f.missing, (std::vector<uint64_t>{70, 72}));

  FetchBody many{topic, 1000, {}};
  for (uint64_t q = 1; q <= kMaxFetchMissing + 1; ++q) many.missing.push_back(q);
  bytes.clear();
  FetchMsg(many).encode(bytes);
  EXPECT_EQ(decode_message(static_cast<uint16_t>(MsgType::kFetch), bytes, error), nullptr);
  EXPECT_EQ(error, DecodeError::kTooMany);

  bytes.clear();
  FetchMsg(FetchBody{topic, 10, {11}}).encode(bytes);  // a "hole" above what it asks in full
  EXPECT_EQ(decode_message(static_cast<uint16_t>(MsgType::kFetch), bytes, error), nullptr);
  EXPECT_EQ(error, DecodeError::kBadSeq);
  bytes.clear();
  FetchMsg(FetchBody{topic, 10, {0}}).encode(bytes);
  EXPECT_EQ(decode_message(static_cast<uint16_t>(MsgType::kFetch), bytes, error), nullptr);
  EXPECT_EQ(error, DecodeError::kBadSeq);
}

}  // namespace
}  // namespace forestcast::multicast
