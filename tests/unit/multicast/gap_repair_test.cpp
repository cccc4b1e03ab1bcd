// Scribe's gap repair (gap_repair.cpp): RESUME on re-attach, replay from the stripe history,
// replays flowing down the subtree, duplicates dropped. Fake overlay, fake time.
#include <gtest/gtest.h>

#include "fake_overlay.hpp"
#include "multicast/credentials.hpp"
#include "multicast/scribe.hpp"

namespace forestcast::multicast {
namespace {

using test::FakeOverlay;
using test::handle;

constexpr uint64_t kTick = 1;  // Scribe's tick token

class GapRepairTest : public ::testing::Test {
 protected:
  NodeHandle self_ = handle(0x3000000000000000ULL, 1);
  NodeHandle parent_ = handle(0x3100000000000000ULL, 2);
  NodeHandle new_parent_ = handle(0x3200000000000000ULL, 4);
  NodeHandle child_ = handle(0x7000000000000000ULL, 3);
  NodeId topic_ = NodeId::from_parts(0x3abc000000000000ULL, 42);
  FakeOverlay overlay_{self_};
  ModelledCredentials credentials_;
  Scribe scribe_{overlay_, ScribeConfig{}, credentials_};

  void attach(Time now) {
    overlay_.next = handle(0x3900000000000000ULL, 9);
    scribe_.subscribe(now, topic_);
    accept_from(now, parent_);
  }
  void accept_from(Time now, const NodeHandle& parent) {
    scribe_.receive_direct(now, parent,
                           std::make_shared<const AcceptMsg>(PathBody{topic_, {parent.id}}));
  }
  void adopt_child(Time now) {
    overlay::ForwardContext ctx{
        topic_, child_, child_, 1, overlay_.next, std::make_shared<const JoinMsg>(JoinBody{topic_}),
        false, false};
    scribe_.forward(now, ctx);
  }
  void data_from(Time now, const NodeHandle& from, uint64_t seq, bool replayed = false) {
    DataBody b{topic_, seq};
    b.payload_size = 1000;
    b.replayed = replayed;
    scribe_.receive_direct(now, from, std::make_shared<const DataMsg>(std::move(b)));
  }
  std::vector<uint64_t> data_sent_to(const NodeHandle& to, bool replayed) const {
    std::vector<uint64_t> out;
    for (const auto& [node, d] : overlay_.sent_of<DataMsg>())
      if (node == to && d->body.replayed == replayed) out.push_back(d->body.seq);
    return out;
  }
};

TEST_F(GapRepairTest, ReattachedChildTellsItsNewParentTheNewestSequenceItHolds) {
  attach(ms(0));
  EXPECT_TRUE(overlay_.sent_of<ResumeMsg>().empty()) << "nothing held yet: nothing to resume";
  for (uint64_t s = 1; s <= 5; ++s) data_from(ms(10 * s), parent_, s);
  scribe_.on_timer(ms(400), kTick);  // parent silent for 350 ms: re-join around it
  ASSERT_FALSE(scribe_.topic(topic_)->parent.has_value());
  overlay_.clear();
  accept_from(ms(450), new_parent_);
  const auto resumes = overlay_.sent_of<ResumeMsg>();
  ASSERT_EQ(resumes.size(), 1u);
  EXPECT_EQ(resumes[0].first, new_parent_);
  EXPECT_EQ(resumes[0].second->body.topic, topic_);
  EXPECT_EQ(resumes[0].second->body.seq, 5u);
}

TEST_F(GapRepairTest, ParentReplaysWhatItsChildMissedAndNothingToStrangers) {
  attach(ms(0));
  adopt_child(ms(0));
  for (uint64_t s = 1; s <= 10; ++s) data_from(ms(10 * s), parent_, s);
  overlay_.clear();
  scribe_.receive_direct(ms(120), child_,
                         std::make_shared<const ResumeMsg>(ResumeBody{topic_, 4}));
  EXPECT_EQ(data_sent_to(child_, true), (std::vector<uint64_t>{5, 6, 7, 8, 9, 10}));
  EXPECT_EQ(scribe_.replay_counters().packets, 6u);
  EXPECT_EQ(scribe_.replay_counters().bytes, 6000u);
  const NodeHandle stranger = handle(0x7100000000000000ULL, 8);
  overlay_.clear();
  scribe_.receive_direct(ms(130), stranger,
                         std::make_shared<const ResumeMsg>(ResumeBody{topic_, 4}));
  EXPECT_TRUE(overlay_.sent_of<DataMsg>().empty());
  EXPECT_EQ(scribe_.replay_counters().requests_refused, 1u);
}

TEST_F(GapRepairTest, ReplaysFillTheGapDownTheSubtreeAndWhatWasHeldIsDropped) {
  attach(ms(0));
  adopt_child(ms(0));
  for (uint64_t s = 1; s <= 3; ++s) data_from(ms(10 * s), parent_, s);
  data_from(ms(500), parent_, 8);  // live again after a cut above our parent: 4..7 missing
  overlay_.clear();
  for (uint64_t s = 4; s <= 8; ++s) data_from(ms(510), parent_, s, true);
  // 4..7 go on to the child (it missed them too); 8 was held already.
  EXPECT_EQ(data_sent_to(child_, true), (std::vector<uint64_t>{4, 5, 6, 7}));
  EXPECT_EQ(scribe_.counters().data_gap_filled, 4u);
  EXPECT_EQ(scribe_.counters().data_duplicates, 1u);
  data_from(ms(520), parent_, 5);  // a second feed of something held
  EXPECT_EQ(scribe_.counters().data_duplicates, 2u);
}

// A topic keeps a pointer to its history (speed: one lookup per topic, not per packet). It must
// always be the table's entry: the same history while the table keeps it (a topic dropped and
// joined again before the sweep), a fresh one once the sweep forgot the old.
TEST_F(GapRepairTest, ATopicDroppedAndJoinedAgainUsesTheHistoryTheTableHolds) {
  scribe_.on_timer(ms(1), kTick);  // the first sweep; the next is a history window later
  attach(ms(2));
  for (uint64_t s = 1; s <= 5; ++s) data_from(ms(10 * s), parent_, s);
  ASSERT_NE(scribe_.topic(topic_)->history, nullptr);
  EXPECT_EQ(scribe_.topic(topic_)->history, scribe_.history(topic_));
  scribe_.unsubscribe(ms(60), topic_);
  scribe_.on_timer(ms(100), kTick);  // a childless non-member: pruned
  ASSERT_EQ(scribe_.topic(topic_), nullptr);
  ASSERT_NE(scribe_.history(topic_), nullptr) << "not swept yet";

  attach(ms(150));
  EXPECT_EQ(scribe_.topic(topic_)->history, nullptr) << "a new topic has looked nothing up";
  data_from(ms(160), parent_, 5);
  EXPECT_EQ(scribe_.counters().data_duplicates, 1u) << "the history held 5 already";
  EXPECT_EQ(scribe_.topic(topic_)->history, scribe_.history(topic_));

  scribe_.unsubscribe(ms(170), topic_);
  scribe_.on_timer(ms(200), kTick);
  ASSERT_EQ(scribe_.topic(topic_), nullptr);
  scribe_.on_timer(seconds(3), kTick);  // past the window: the sweep forgets the history
  EXPECT_EQ(scribe_.history(topic_), nullptr);

  attach(seconds(3) + ms(10));
  data_from(seconds(3) + ms(20), parent_, 5);
  EXPECT_EQ(scribe_.counters().data_duplicates, 1u) << "a fresh history: 5 is new";
  ASSERT_NE(scribe_.history(topic_), nullptr);
  EXPECT_EQ(scribe_.history(topic_)->newest(), 5u);
  EXPECT_EQ(scribe_.topic(topic_)->history, scribe_.history(topic_));
}

TEST_F(GapRepairTest, ABurstPastTheBoundWaitsForTheTick) {
  ScribeConfig config;
  config.replay = ReplayConfig{100'000, 5'000, 4096};  // 5 packets at once, 1 per 10 ms
  Scribe scribe{overlay_, config, credentials_};
  overlay_.next = handle(0x3900000000000000ULL, 9);
  scribe.subscribe(ms(0), topic_);
  scribe.receive_direct(ms(0), parent_,
                        std::make_shared<const AcceptMsg>(PathBody{topic_, {parent_.id}}));
  overlay::ForwardContext ctx{
      topic_, child_, child_, 1, overlay_.next, std::make_shared<const JoinMsg>(JoinBody{topic_}),
      false, false};
  scribe.forward(ms(0), ctx);
  for (uint64_t s = 1; s <= 12; ++s) {
    DataBody b{topic_, s};
    b.payload_size = 1000;
    scribe.receive_direct(ms(s), parent_, std::make_shared<const DataMsg>(std::move(b)));
  }
  overlay_.clear();
  scribe.receive_direct(ms(20), child_, std::make_shared<const ResumeMsg>(ResumeBody{topic_, 0}));
  EXPECT_TRUE(data_sent_to(child_, true).empty()) << "seq 0: a new child, no backlog";
  scribe.receive_direct(ms(20), child_, std::make_shared<const ResumeMsg>(ResumeBody{topic_, 2}));
  EXPECT_EQ(data_sent_to(child_, true), (std::vector<uint64_t>{3, 4, 5, 6, 7}));
  scribe.on_timer(ms(50), kTick);  // 30 ms of refill: 3 more
  EXPECT_EQ(data_sent_to(child_, true), (std::vector<uint64_t>{3, 4, 5, 6, 7, 8, 9, 10}));
  scribe.on_timer(ms(150), kTick);
  EXPECT_EQ(data_sent_to(child_, true).size(), 10u);
}

TEST_F(GapRepairTest, PublisherFeedsANewRootWhatItSentAfterTheOldRootsLastAcknowledgement) {
  const NodeHandle old_root = handle(0x3a00000000000000ULL, 5);
  const NodeHandle new_root = handle(0x3b00000000000000ULL, 6);
  scribe_.add_source(ms(0), topic_);
  auto publish = [&](Time now, uint64_t seq) {
    DataBody b{topic_, seq};
    b.payload_size = 1000;
    scribe_.publish_local(now, std::make_shared<const DataMsg>(std::move(b)));
  };
  auto ack = [&](Time now, const NodeHandle& root, uint64_t seq) {
    scribe_.receive_direct(now, root, std::make_shared<const RootAckMsg>(RootAckBody{topic_, seq}));
  };
  for (uint64_t s = 1; s <= 5; ++s) publish(ms(10 * s), s);
  ack(ms(55), old_root, 5);
  for (uint64_t s = 6; s <= 10; ++s) publish(ms(10 * s), s);  // the old root dies meanwhile
  ack(ms(101), old_root, 3);  // a late, older acknowledgement moves nothing back
  EXPECT_TRUE(data_sent_to(old_root, true).empty());
  ack(ms(1090), new_root, 10);  // the last second reaches back to seq 9 only: after the ack
  EXPECT_EQ(data_sent_to(new_root, true), (std::vector<uint64_t>{6, 7, 8, 9, 10}));
  EXPECT_EQ(scribe_.replay_counters().root_changes, 1u);
  overlay_.clear();
  ack(ms(1095), new_root, 11);  // the same root again: nothing more
  EXPECT_TRUE(overlay_.sent_of<DataMsg>().empty());
  // The root told us to route again (not_root) and the same node answers after re-routing:
  // what was routed meanwhile may have been refused on the way.
  // An acknowledgement does not prove the root held what came before it: the last second
  // goes again too (11 was acknowledged above, but it is replayed).
  for (uint64_t s = 11; s <= 13; ++s) publish(ms(1100 + s), s);
  DataBody routed{topic_, 14};
  routed.payload_size = 1000;
  scribe_.publish_routed(ms(1150), std::make_shared<const DataMsg>(std::move(routed)));
  ack(ms(1200), new_root, 14);
  EXPECT_EQ(data_sent_to(new_root, true), (std::vector<uint64_t>{11, 12, 13}));
}

TEST(GapRepairWire, ResumeAndReplayedDataRoundTripAndABadTopicIsRefused) {
  const NodeId topic = NodeId::from_parts(0x3abc000000000000ULL, 42);
  std::string bytes;
  ResumeMsg(ResumeBody{topic, 77}).encode(bytes);
  DecodeError error = DecodeError::kNone;
  auto msg = decode_message(static_cast<uint16_t>(MsgType::kResume), bytes, error);
  ASSERT_NE(msg, nullptr) << to_string(error);
  EXPECT_EQ(static_cast<const ResumeMsg&>(*msg).body.seq, 77u);
  EXPECT_EQ(static_cast<const ResumeMsg&>(*msg).body.topic, topic);

  DataBody d{topic, 5};
  d.payload = std::make_shared<const std::string>("abc");
  d.payload_size = 3;
  d.replayed = true;
  d.stripe = 3;  // proto3 leaves zeros out; the closed form assumes a stream's usual fields
  d.sent_at_us = 1'000'000;
  const DataMsg data(d);
  bytes.clear();
  data.encode(bytes);
  EXPECT_EQ(bytes.size(), data.encoded_size()) << "the closed form counts the flag";
  msg = decode_message(static_cast<uint16_t>(MsgType::kData), bytes, error);
  ASSERT_NE(msg, nullptr);
  EXPECT_TRUE(static_cast<const DataMsg&>(*msg).body.replayed);

  const std::string bad_topic = std::string("\x0a\x03", 2) + "abc";  // a 3-byte topic id
  EXPECT_EQ(decode_message(static_cast<uint16_t>(MsgType::kResume), bad_topic, error), nullptr);
  EXPECT_EQ(error, DecodeError::kBadId);
}

}  // namespace
}  // namespace forestcast::multicast
