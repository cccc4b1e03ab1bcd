// `forestcast sim --scenario stream`: the media layer (FEC 14+2, signed groups, 500 ms playout)
// on the simulated forest, judged by what the viewers play out.
#include "scenarios/stream_diagnosis.hpp"
#include "scenarios/stream_scenario.hpp"

#include <gtest/gtest.h>

namespace forestcast::sim {
namespace {

StreamScenarioConfig config_for(size_t nodes, std::optional<double> kill) {
  StreamScenarioConfig c;
  c.forest.nodes = nodes;
  c.forest.seed = 1;
  c.forest.capacity = 24;
  c.forest.settle = seconds(3);
  c.forest.subscribe_spread = seconds(3);
  c.forest.build = seconds(12);
  c.forest.churn = seconds(8);
  c.forest.kill_fraction = kill;
  return c;
}

TEST(StreamScenario, EveryViewerPlaysEveryPacketOfAFormedForest) {
  const StreamResult r = run_stream_scenario(config_for(150, std::nullopt));
  EXPECT_EQ(r.forest.all_stripes_fraction, 1.0);
  EXPECT_EQ(r.viewers, 149u) << "every viewer measured over the window";
  EXPECT_EQ(r.continuity_min, 1.0);
  EXPECT_EQ(r.lost, 0u);
  EXPECT_EQ(r.late, 0u);
  // Playout delay plus the group's wait at the publisher and the path: never below the buffer.
  EXPECT_GE(r.delay_p50_ms, 500.0);
  EXPECT_LT(r.delay_p99_ms, 1500.0);
  const auto j = to_json(r);
  ASSERT_TRUE(j.contains("stream"));
  for (const char* key : {"continuity_mean", "continuity_min", "fec_restored", "retransmitted",
                          "lost", "delay_p50_ms", "delay_p99_ms"})
    EXPECT_TRUE(j["stream"].contains(key)) << key;
}

// Killing a tenth of the nodes cuts stripe trees above whole subtrees, often more than m = 2
// of a viewer's stripes at once: only gap repair (replays from new parents and the new roots)
// and peer fetch (pulls from neighbours while the tree repairs) bring those packets back in
// time. The same run without peer fetch is the oracle: fetch must lose strictly less.
TEST(StreamScenario, KilledRelaysCostLittleThanksToFecReplaysAndPeerFetch) {
  const StreamResult r = run_stream_scenario(config_for(200, 0.1));
  ASSERT_GT(r.viewers, 170u);
  EXPECT_GT(r.fec_restored, 0u);
  EXPECT_GT(r.retransmitted, 0u) << "no packet was played out thanks to a replay";
  EXPECT_GE(r.continuity_mean, 0.98);
  EXPECT_GT(r.fetch_answers_accepted, 0u);
  EXPECT_EQ(r.fetch_requests_refused, 0u) << "an honest viewer stays within its rate";

  StreamScenarioConfig off = config_for(200, 0.1);
  off.peer_fetch = false;
  const StreamResult base = run_stream_scenario(off);
  EXPECT_EQ(base.fetch_requests, 0u);
  EXPECT_LT(r.lost + r.late, base.lost + base.late);
  EXPECT_GE(r.continuity_min, base.continuity_min);
  EXPECT_GT(r.continuity_mean, base.continuity_mean);
}

// The diagnosis' record of one viewer: a stripe silent past the gap is one cut from its last
// live packet to the next, replayed items neither end nor start one, the first ask inside the
// cut is kept, and a cut still open at the end is closed there.
TEST(StreamDiagnosis, ViewerTraceFindsCutsTheirFirstAskAndLateReplays) {
  using media::ItemVerdict;
  ViewerTrace t(2, ms(450), ms(1000));
  for (int i = 0; i <= 20; ++i) t.on_item(ms(150 * i), 0, false, ItemVerdict::kAccepted);
  t.on_item(ms(1200), 1, false, ItemVerdict::kAccepted);
  t.on_asked(ms(1400), {1});
  t.on_asked(ms(1550), {1});  // the same cut: the first ask counts
  t.on_item(ms(1600), 1, true, ItemVerdict::kAccepted);  // a fetched copy: still cut
  t.on_item(ms(1700), 1, true, ItemVerdict::kLate);
  t.on_item(ms(2000), 1, false, ItemVerdict::kAccepted);
  t.close(ms(3100));  // stripe 0's last live packet came at 3000 ms: not cut; stripe 1 is
  ASSERT_EQ(t.cuts().size(), 2u);
  EXPECT_EQ(t.cuts()[0].stripe, 1u);
  EXPECT_EQ(t.cuts()[0].start, ms(1200));
  EXPECT_EQ(t.cuts()[0].end, ms(2000));
  EXPECT_EQ(t.cuts()[0].first_ask, ms(1400));
  EXPECT_EQ(t.cuts()[1].start, ms(2000));
  EXPECT_EQ(t.cuts()[1].first_ask, kNever);
  EXPECT_EQ(t.replayed_useful(), 1u);
  EXPECT_EQ(t.replayed_late(), 1u);

  const auto j = diagnose({{7, 0.99, 11, 0, &t, {}}}, 0.999, 3);
  EXPECT_EQ(j["below"]["viewers"], 1u);
  EXPECT_EQ(j["below"]["concurrent_cuts_max"], 1.0);
  EXPECT_EQ(j["below"]["ask_after_ms_p50"], 200.0);
  EXPECT_EQ(j["below"]["cuts_never_asked"], 1u);
  EXPECT_EQ(j["worst"][0]["node"], 7u);
  EXPECT_EQ(j["peer_requests_empty"], 3u);
}

// Viewers below the target are classed by the groups they missed: a group that at least 5 %
// of the viewers (and at least two) missed was cut above them all ("shared"); the rest are the
// viewer's own. The most missed groups list, per stripe, how many of their viewers lacked it.
TEST(StreamDiagnosis, ViewersAreClassedBySharedOrOwnMissedGroups) {
  std::vector<ViewerTrace> t(3, ViewerTrace(4, ms(450), ms(1000)));
  t[0].on_missed(ms(2000), 5, {1, 1, 1, 0});
  t[1].on_missed(ms(2000), 5, {1, 1, 0, 0});
  t[2].on_missed(ms(2500), 9, {0, 0, 1, 1});
  t[2].on_missed(ms(500), 5, {1, 1, 1, 1});  // before the measurement window: not counted
  const auto j = diagnose({{1, 0.99, 11, 0, &t[0], {}},
                           {2, 0.99, 11, 0, &t[1], {}},
                           {3, 0.99, 11, 0, &t[2], {}}},
                          0.999, 0);
  ASSERT_EQ(j["classes"].size(), 2u);
  EXPECT_EQ(j["classes"][0]["class"], "shared");
  EXPECT_EQ(j["classes"][0]["viewers"], 2u);
  EXPECT_EQ(j["classes"][1]["class"], "own");
  EXPECT_EQ(j["classes"][1]["viewers"], 1u);
  EXPECT_EQ(j["shared_missed_groups"], 1u);
  EXPECT_EQ(j["most_missed_groups"][0]["group"], 5u);
  EXPECT_EQ(j["most_missed_groups"][0]["lacking_per_stripe"], (std::vector<size_t>{2, 2, 1}));
  const auto lines = diagnosis_lines(j);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("shared: 2 viewers"), std::string::npos) << lines[0];
}

}  // namespace
}  // namespace forestcast::sim
