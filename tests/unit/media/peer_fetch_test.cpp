// The viewer's half of peer fetch (ViewerPipeline::wanted_stripes): which stripes it asks a
// neighbour for, and that the answers -- authenticated like every item -- restore the groups.
#include <gtest/gtest.h>

#include <set>

#include "media/publisher_pipeline.hpp"
#include "media/viewer_pipeline.hpp"
#include "rtp_test_packets.hpp"

namespace forestcast::media {
namespace {

struct Item {
  uint8_t stripe;
  std::vector<uint8_t> bytes;
};

StreamId stream() {
  StreamId s{};
  s.fill(7);
  return s;
}

// 40 RTP packets of 1,000 bytes in 40 ms: three full groups, all items published at time 0.
std::vector<Item> publish_groups(size_t& packets) {
  ModelGroupSigner signer;
  PublisherConfig pc;
  pc.stream = stream();
  PublisherPipeline pub(pc, signer);
  std::vector<Item> out;
  packets = 40;
  for (size_t i = 0; i < packets; ++i)
    pub.on_rtp(Time{} + ms(1) * static_cast<int64_t>(i),
               test::make_rtp(static_cast<uint16_t>(i), static_cast<uint32_t>(i * 3000), 0x42,
                              988, 96, 1));
  pub.flush();
  for (auto& p : pub.take_payloads()) out.push_back({p.stripe, std::move(p.bytes)});
  return out;
}

class PeerFetchViewer : public ::testing::Test {
 protected:
  ModelGroupSigner verifier_;
  size_t packets_ = 0;
  std::vector<Item> items_ = publish_groups(packets_);

  ViewerConfig config(bool fetch = true) {
    ViewerConfig vc;
    vc.stream = stream();
    vc.peer_fetch = fetch;
    return vc;
  }
  // Delivers every item not on a cut stripe at `at`.
  void deliver(ViewerPipeline& v, Time at, const std::set<unsigned>& cut) {
    for (const auto& it : items_)
      if (cut.count(it.stripe) == 0) v.on_stripe_payload(at, it.stripe, it.bytes);
  }
  static std::set<unsigned> wanted(ViewerPipeline& v, Time now) {
    std::vector<uint32_t> out;
    v.wanted_stripes(now, out);
    return {out.begin(), out.end()};
  }
};

TEST_F(PeerFetchViewer, AsksForExactlyTheCutStripesOnceFecCannotCoverThem) {
  ViewerPipeline v(config(), verifier_);
  const Time t0 = ms(100);
  deliver(v, t0, {1, 2, 3});  // three stripes cut: 13 of 16 symbols, k = 14
  // The groups play out at about t0 + 500 ms; until 300 ms before, the stripes' normal skew may
  // still bring what is missing.
  EXPECT_TRUE(wanted(v, t0 + ms(150)).empty());
  EXPECT_EQ(wanted(v, t0 + ms(220)), (std::set<unsigned>{1, 2, 3}));
  EXPECT_TRUE(wanted(v, t0 + ms(260)).empty()) << "asked 40 ms ago: not again yet";
  EXPECT_EQ(wanted(v, t0 + ms(400)), (std::set<unsigned>{1, 2, 3}));
  EXPECT_EQ(v.report().fetch_asks, 6u);
}

TEST_F(PeerFetchViewer, NothingIsAskedWhenFecCoversTheLossOrFetchIsOff) {
  ViewerPipeline covered(config(), verifier_);
  deliver(covered, ms(100), {4, 9});  // two stripes: 14 + 2 restores every group
  EXPECT_TRUE(wanted(covered, ms(450)).empty());
  EXPECT_EQ(covered.report().playout.lost, 0u);

  ViewerPipeline off(config(false), verifier_);
  deliver(off, ms(100), {1, 2, 3});
  EXPECT_TRUE(wanted(off, ms(450)).empty());
}

TEST_F(PeerFetchViewer, FetchedItemsRestoreTheGroupsAndForgedAnswersAreDropped) {
  ViewerPipeline v(config(), verifier_);
  deliver(v, ms(100), {1, 2, 3});
  ASSERT_EQ(wanted(v, ms(380)).size(), 3u);
  // The answers: first the signatures the cut stripes carried, then every cut symbol twice --
  // a copy with one byte changed (its hash is not the signed one) ahead of the genuine one.
  for (const auto& it : items_)
    if (it.stripe >= 1 && it.stripe <= 3 && peek_item_kind(it.bytes) == ItemKind::kAuth)
      v.on_stripe_payload(ms(400), it.stripe, it.bytes, true);
  size_t cut_symbols = 0, forged = 0;
  for (const auto& it : items_) {
    if (it.stripe < 1 || it.stripe > 3 || peek_item_kind(it.bytes) != ItemKind::kSymbol) continue;
    ++cut_symbols;
    auto bad = it.bytes;
    bad.back() ^= 0x5a;
    const auto verdict = v.on_stripe_payload(ms(400), it.stripe, bad, true);
    EXPECT_TRUE(verdict == ItemVerdict::kForged || verdict == ItemVerdict::kRedundant);
    forged += verdict == ItemVerdict::kForged ? 1 : 0;
    EXPECT_NE(v.on_stripe_payload(ms(400), it.stripe, it.bytes, true), ItemVerdict::kForged);
  }
  // One forgery per group is checked; the genuine symbol after it completes the group, and
  // everything later for a completed group is redundant.
  EXPECT_EQ(cut_symbols, 9u);
  EXPECT_EQ(forged, 3u);
  for (Time t = ms(400); t < ms(3000); t += ms(10)) v.poll(t);
  const auto r = v.report();
  EXPECT_EQ(r.items[ItemVerdict::kForged], forged);
  EXPECT_EQ(r.playout.expected, packets_);
  EXPECT_EQ(r.playout.delivered_in_time, packets_);
  EXPECT_EQ(r.playout.restored_by_retransmission, packets_);
  EXPECT_EQ(r.playout.lost, 0u);
  EXPECT_TRUE(wanted(v, ms(3000)).empty()) << "nothing short any more";
}

TEST_F(PeerFetchViewer, WithoutTheAnswersTheCutGroupsAreLost) {
  ViewerPipeline v(config(), verifier_);
  deliver(v, ms(100), {1, 2, 3});
  for (Time t = ms(100); t < ms(3000); t += ms(10)) v.poll(t);
  EXPECT_EQ(v.report().playout.lost, packets_);  // the oracle the test above improves on
}

}  // namespace
}  // namespace forestcast::media
