// Replay at adoption (gap_repair.cpp, JoinBody/AnycastBody::have_seq): an orphan's JOIN or
// anycast says the newest sequence number it holds, and whoever adopts it replays what came
// after it right behind the ACCEPT, within a per-adoption bound. Fake overlay, fake time.
#include <gtest/gtest.h>

#include <limits>

#include "fake_overlay.hpp"
#include "multicast/credentials.hpp"
#include "multicast/scribe.hpp"

namespace forestcast::multicast {
namespace {

using test::FakeOverlay;
using test::handle;

constexpr uint64_t kTick = 1;  // Scribe's tick token

ScribeConfig with_bound(size_t packets, size_t bytes) {
  ScribeConfig c;
  c.replay.adopt_max_packets = packets;
  c.replay.adopt_max_bytes = bytes;
  return c;
}

class AdoptReplayTest : public ::testing::Test {
 protected:
  NodeHandle self_ = handle(0x3000000000000000ULL, 1);
  NodeHandle parent_ = handle(0x3100000000000000ULL, 2);
  NodeHandle new_parent_ = handle(0x3200000000000000ULL, 4);
  NodeHandle orphan_ = handle(0x7000000000000000ULL, 3);
  NodeId topic_ = NodeId::from_parts(0x3abc000000000000ULL, 42);
  FakeOverlay overlay_{self_};
  ModelledCredentials credentials_;

  // `scribe` attached below parent_ and holding packets 1..`held` of the topic.
  void attach_holding(Scribe& scribe, uint64_t held) {
    overlay_.next = handle(0x3900000000000000ULL, 9);
    scribe.subscribe(ms(0), topic_);
    scribe.receive_direct(ms(0), parent_,
                          std::make_shared<const AcceptMsg>(PathBody{topic_, {parent_.id}}));
    for (uint64_t s = 1; s <= held; ++s) data(scribe, ms(10 * s), parent_, s);
  }
  void data(Scribe& scribe, Time now, const NodeHandle& from, uint64_t seq, bool replayed = false) {
    DataBody b{topic_, seq};
    b.payload_size = 1000;
    b.replayed = replayed;
    scribe.receive_direct(now, from, std::make_shared<const DataMsg>(std::move(b)));
  }
  // The orphan re-joins us directly (its grandparent, say), saying what it holds.
  void join_from_orphan(Scribe& scribe, Time now, uint64_t have_seq) {
    JoinBody j{topic_, true, handle(0x3300000000000000ULL, 7).id, 6};
    j.have_seq = have_seq;
    scribe.receive_direct(now, orphan_, std::make_shared<const JoinMsg>(std::move(j)));
  }
  std::vector<uint64_t> replayed_to(const NodeHandle& to) const {
    std::vector<uint64_t> out;
    for (const auto& [node, d] : overlay_.sent_of<DataMsg>())
      if (node == to && d->body.replayed) out.push_back(d->body.seq);
    return out;
  }
};

TEST_F(AdoptReplayTest, AnOrphanAdoptedAfterAGapGetsWhatItMissedRightBehindTheAccept) {
  Scribe scribe{overlay_, ScribeConfig{}, credentials_};
  attach_holding(scribe, 10);
  overlay_.clear();
  join_from_orphan(scribe, ms(120), 6);  // it lost its parent after 6
  ASSERT_TRUE(scribe.topic(topic_)->has_child(orphan_.id));
  ASSERT_GE(overlay_.sent.size(), 2u);
  EXPECT_EQ(overlay_.sent.front().msg->type(), static_cast<uint16_t>(MsgType::kAccept))
      << "the ACCEPT goes first: the replays come from its parent";
  EXPECT_EQ(replayed_to(orphan_), (std::vector<uint64_t>{7, 8, 9, 10}));
  EXPECT_EQ(scribe.replay_counters().adopt_replays, 1u);
  EXPECT_EQ(scribe.replay_counters().adopt_replays_capped, 0u);

  // Its RESUME, a round trip later, is answered from where the adoption replay ended, not from
  // the orphan's newest again.
  data(scribe, ms(130), parent_, 11);
  overlay_.clear();
  scribe.receive_direct(ms(140), orphan_, std::make_shared<const ResumeMsg>(ResumeBody{topic_, 6}));
  EXPECT_EQ(replayed_to(orphan_), (std::vector<uint64_t>{11}));
  EXPECT_EQ(scribe.replay_counters().resumes_narrowed, 1u);
}

TEST_F(AdoptReplayTest, ALyingHaveSeqGetsTheNewestPacketsUpToTheBoundAndNoMore) {
  Scribe scribe{overlay_, with_bound(3, 64 * 1024), credentials_};
  attach_holding(scribe, 10);
  overlay_.clear();
  join_from_orphan(scribe, ms(120), 1);
  EXPECT_EQ(replayed_to(orphan_), (std::vector<uint64_t>{8, 9, 10}));
  EXPECT_EQ(scribe.replay_counters().adopt_replays_capped, 1u);
  scribe.on_timer(ms(500), kTick);  // nothing else waits in the pacer
  EXPECT_EQ(replayed_to(orphan_).size(), 3u);
}

TEST_F(AdoptReplayTest, TheByteBoundHoldsToo) {
  Scribe scribe{overlay_, with_bound(64, 2500), credentials_};  // two 1,000-byte packets
  attach_holding(scribe, 10);
  overlay_.clear();
  join_from_orphan(scribe, ms(120), 2);
  EXPECT_EQ(replayed_to(orphan_), (std::vector<uint64_t>{9, 10}));
}

TEST_F(AdoptReplayTest, NoReplayForANewcomerOneAheadOrWithTheKnobOff) {
  Scribe scribe{overlay_, ScribeConfig{}, credentials_};
  attach_holding(scribe, 10);
  overlay_.clear();
  join_from_orphan(scribe, ms(120), 0);  // held nothing: starts with the live stream
  EXPECT_TRUE(replayed_to(orphan_).empty());
  const NodeHandle ahead = handle(0x7100000000000000ULL, 8);
  JoinBody j{topic_};
  j.have_seq = 12;
  scribe.receive_direct(ms(130), ahead, std::make_shared<const JoinMsg>(std::move(j)));
  EXPECT_TRUE(scribe.topic(topic_)->has_child(ahead.id));
  EXPECT_TRUE(replayed_to(ahead).empty());

  ScribeConfig off;
  off.adopt_replay = false;
  FakeOverlay other{self_};
  Scribe plain{other, off, credentials_};
  other.next = handle(0x3900000000000000ULL, 9);
  plain.subscribe(ms(0), topic_);
  plain.receive_direct(ms(0), parent_,
                       std::make_shared<const AcceptMsg>(PathBody{topic_, {parent_.id}}));
  for (uint64_t s = 1; s <= 10; ++s) data(plain, ms(10 * s), parent_, s);
  join_from_orphan(plain, ms(120), 6);
  for (const auto& [node, d] : other.sent_of<DataMsg>()) EXPECT_FALSE(d->body.replayed);
}

TEST_F(AdoptReplayTest, JoinsAndWalksSayWhatTheOrphanHolds) {
  Scribe scribe{overlay_, ScribeConfig{}, credentials_};
  attach_holding(scribe, 5);
  scribe.on_timer(ms(400), kTick);  // parent silent: re-join around it (routed, no grandparent)
  ASSERT_FALSE(scribe.topic(topic_)->parent.has_value());
  const auto joins = overlay_.routed_of<JoinMsg>();
  ASSERT_FALSE(joins.empty());
  EXPECT_EQ(joins.back()->body.have_seq, 5u);
  scribe.join_via(ms(410), topic_, new_parent_, 6);
  const auto direct = overlay_.sent_of<JoinMsg>();
  ASSERT_FALSE(direct.empty());
  EXPECT_EQ(direct.back().second->body.have_seq, 5u);
  const NodeId group = NodeId::from_parts(0x5000000000000000ULL, 1);
  scribe.anycast(ms(420), group, topic_);
  const auto walks = overlay_.routed_of<AnycastMsg>();
  ASSERT_EQ(walks.size(), 1u);
  EXPECT_EQ(walks[0]->body.have_seq, 5u);
}

TEST_F(AdoptReplayTest, AReplayOvertakingItsAcceptFillsTheGapAndCostsNoLeave) {
  Scribe scribe{overlay_, ScribeConfig{}, credentials_};
  attach_holding(scribe, 5);
  scribe.on_timer(ms(400), kTick);
  scribe.join_via(ms(410), topic_, new_parent_, 6);
  overlay_.clear();
  data(scribe, ms(420), new_parent_, 6, true);  // reordered ahead of the ACCEPT
  EXPECT_TRUE(overlay_.sent_of<LeaveMsg>().empty());
  EXPECT_EQ(scribe.counters().data_gap_filled, 1u);
  EXPECT_EQ(scribe.history(topic_)->newest(), 6u);
}

TEST(AdoptReplayWire, HaveSeqRoundTripsAndItsBoundsAreEnforced) {
  const NodeId topic = NodeId::from_parts(0x3abc000000000000ULL, 42);
  auto decode = [](MsgType type, const overlay::AppMessage& m, DecodeError& error) {
    std::string bytes;
    m.encode(bytes);
    EXPECT_GE(m.encoded_size(), bytes.size());
    return decode_message(static_cast<uint16_t>(type), bytes, error);
  };
  DecodeError error = DecodeError::kNone;
  JoinBody j{topic};
  j.have_seq = 123456789;
  auto msg = decode(MsgType::kJoin, JoinMsg(j), error);
  ASSERT_NE(msg, nullptr) << to_string(error);
  EXPECT_EQ(static_cast<const JoinMsg&>(*msg).body.have_seq, 123456789u);

  j.have_seq = std::numeric_limits<uint64_t>::max();  // nothing can follow it
  EXPECT_EQ(decode(MsgType::kJoin, JoinMsg(j), error), nullptr);
  EXPECT_EQ(error, DecodeError::kBadSeq);
  j.have_seq = 7;
  j.control = true;  // a control group carries no data
  EXPECT_EQ(decode(MsgType::kJoin, JoinMsg(j), error), nullptr);
  EXPECT_EQ(error, DecodeError::kBadSeq);

  AnycastBody a;
  a.topic = NodeId::from_parts(0x5000000000000000ULL, 1);
  a.requester = handle(0x7000000000000000ULL, 3);
  a.want = topic;
  a.have_seq = 42;
  msg = decode(MsgType::kAnycast, AnycastMsg(a), error);
  ASSERT_NE(msg, nullptr) << to_string(error);
  EXPECT_EQ(static_cast<const AnycastMsg&>(*msg).body.have_seq, 42u);
  a.have_seq = std::numeric_limits<uint64_t>::max();
  EXPECT_EQ(decode(MsgType::kAnycast, AnycastMsg(a), error), nullptr);
  EXPECT_EQ(error, DecodeError::kBadSeq);

  // The receiving core counts the refusal by its reason.
  const NodeHandle self = handle(0x3000000000000000ULL, 1);
  FakeOverlay overlay{self};
  ModelledCredentials credentials;
  Scribe scribe{overlay, ScribeConfig{}, credentials};
  std::string bytes;
  AnycastMsg(a).encode(bytes);
  EXPECT_EQ(scribe.decode(static_cast<uint16_t>(MsgType::kAnycast), bytes), nullptr);
  EXPECT_EQ(scribe.counters().malformed[static_cast<size_t>(DecodeError::kBadSeq)], 1u);
}

}  // namespace
}  // namespace forestcast::multicast
