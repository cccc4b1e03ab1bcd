// Publisher pipeline -> (losses, delays, forgeries) -> viewer pipeline, on fake time.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "base/random.hpp"
#include "media/publisher_pipeline.hpp"
#include "media/viewer_pipeline.hpp"
#include "rtp_test_packets.hpp"

namespace forestcast::media {
namespace {

StreamId stream_id(uint8_t b) {
  StreamId s{};
  s.fill(b);
  return s;
}

struct Delivery {
  Time at;
  uint8_t stripe;
  std::vector<uint8_t> bytes;
  bool retransmitted = false;  // a relay's replay (gap repair)
};

// Publishes `count` RTP packets (sizes 60..1472 bytes, one every `spacing`) and returns what the
// publisher put on the stripes, stamped with the publisher's time.
struct Published {
  std::vector<std::vector<uint8_t>> rtp;
  std::vector<Time> ingest;
  std::vector<Delivery> items;
  PublisherCounters counters;
};

Published publish(FecScheme fec, size_t count, uint64_t seed = 1, Duration spacing = ms(2),
                  StreamId stream = stream_id(1)) {
  ModelGroupSigner signer;
  PublisherConfig pc;
  pc.stream = stream;
  pc.fec = fec;
  PublisherPipeline pub(pc, signer);
  Rng rng(seed);
  Published out;
  Time now{};
  auto drain = [&](Time t) {
    for (auto& p : pub.take_payloads()) out.items.push_back({t, p.stripe, std::move(p.bytes)});
  };
  for (size_t i = 0; i < count; ++i) {
    now = Time{} + spacing * static_cast<int64_t>(i);
    while (pub.next_deadline() <= now) {
      const Time d = pub.next_deadline();
      pub.on_tick(d);
      drain(d);
    }
    const size_t size = rng.chance(0.5) ? 1460 : 48 + rng.below(1412);
    out.rtp.push_back(test::make_rtp(static_cast<uint16_t>(i), static_cast<uint32_t>(i * 3000),
                                     0x1234, size - 12, 96, static_cast<uint8_t>(seed)));
    out.ingest.push_back(now);
    pub.on_rtp(now, out.rtp.back());
    drain(now);
  }
  pub.flush();
  drain(now);
  out.counters = pub.counters();
  return out;
}

struct Viewed {
  std::vector<PlayoutPacket> packets;
  ViewerReport report;
  std::vector<ItemVerdict> verdicts;
};

// Delivers items in time order and runs the viewer until nothing is pending.
Viewed view(FecScheme fec, std::vector<Delivery> items, ViewerConfig vc = {}) {
  ModelGroupSigner verifier;
  vc.stream = vc.stream == StreamId{} ? stream_id(1) : vc.stream;
  vc.fec = fec;
  ViewerPipeline viewer(vc, verifier);
  std::stable_sort(items.begin(), items.end(),
                   [](const Delivery& a, const Delivery& b) { return a.at < b.at; });
  Viewed out;
  auto run_until = [&](Time t) {
    for (int guard = 0; guard < 1'000'000 && viewer.next_deadline() <= t; ++guard) {
      viewer.poll(viewer.next_deadline());
    }
  };
  for (auto& d : items) {
    run_until(d.at);
    out.verdicts.push_back(viewer.on_stripe_payload(d.at, d.stripe, d.bytes, d.retransmitted));
  }
  int polls = 0;
  while (viewer.next_deadline() != kNever && polls < 100'000) {
    viewer.poll(viewer.next_deadline());
    ++polls;
  }
  EXPECT_LT(polls, 100'000) << "the viewer kept asking to be polled";
  out.packets = viewer.take_packets();
  out.report = viewer.report();
  return out;
}

std::vector<Delivery> arrive_after(const std::vector<Delivery>& items, Duration delay,
                                   const std::function<bool(const Delivery&)>& drop = nullptr) {
  std::vector<Delivery> out;
  for (const auto& d : items) {
    if (drop && drop(d)) continue;
    out.push_back({d.at + delay, d.stripe, d.bytes});
  }
  return out;
}

void expect_all_delivered_unchanged(const Published& p, const Viewed& v) {
  ASSERT_EQ(v.packets.size(), p.rtp.size());
  for (size_t i = 0; i < p.rtp.size(); ++i) ASSERT_EQ(v.packets[i].bytes, p.rtp[i]) << i;
  EXPECT_EQ(v.report.playout.expected, p.rtp.size());
  EXPECT_EQ(v.report.playout.delivered_in_time, p.rtp.size());
  EXPECT_EQ(v.report.playout.lost, 0u);
  EXPECT_DOUBLE_EQ(v.report.playout.continuity(), 1.0);
}

TEST(MediaPipeline, EveryItemFitsTheOverlayAndPacketsComeBackUnchanged) {
  auto p = publish(FecScheme{14, 2}, 300);
  for (const auto& d : p.items) {
    EXPECT_LE(d.bytes.size(), kMaxItemBytes);
    EXPECT_LT(d.stripe, 16);
  }
  EXPECT_EQ(p.counters.rtp_accepted, 300u);
  auto v = view(FecScheme{14, 2}, arrive_after(p.items, ms(30)));
  expect_all_delivered_unchanged(p, v);
  EXPECT_EQ(v.report.playout.restored_by_fec, 0u);
}

TEST(MediaPipeline, LosingAnyTwoWholeStripesLosesNoPacketWith14Plus2) {
  const auto p = publish(FecScheme{14, 2}, 120);
  for (unsigned a = 0; a < 16; ++a) {
    for (unsigned b = a + 1; b < 16; ++b) {
      SCOPED_TRACE(testing::Message() << "stripes " << a << " and " << b << " lost");
      auto v = view(FecScheme{14, 2}, arrive_after(p.items, ms(20), [&](const Delivery& d) {
                      return d.stripe == a || d.stripe == b;
                    }));
      expect_all_delivered_unchanged(p, v);
      EXPECT_GT(v.report.playout.restored_by_fec, 0u);
    }
  }
}

TEST(MediaPipeline, LosingUpToMRandomStripesLosesNoPacketForOtherSchemes) {
  Rng rng(11);
  for (FecScheme fec : {FecScheme{10, 6}, FecScheme{12, 4}, FecScheme{8, 2}, FecScheme{4, 4}}) {
    const auto p = publish(fec, 100, 5);
    for (int trial = 0; trial < 10; ++trial) {
      std::vector<bool> lost(16, false);
      for (unsigned i = 0; i < fec.parity; ++i) lost[rng.below(16)] = true;
      SCOPED_TRACE(fec.to_string());
      auto v = view(
          fec, arrive_after(p.items, ms(20), [&](const Delivery& d) { return lost[d.stripe]; }));
      expect_all_delivered_unchanged(p, v);
    }
  }
}

TEST(MediaPipeline, LosingMoreThanMStripesIsCountedAsLoss) {
  const auto p = publish(FecScheme{14, 2}, 200);
  auto v = view(FecScheme{14, 2}, arrive_after(p.items, ms(20), [](const Delivery& d) {
                  return d.stripe >= 5 && d.stripe <= 7;
                }));
  // Every group has exactly one symbol per stripe, so 3 lost stripes cost every group; group 5,
  // whose 3 auth copies were on the lost stripes, shows up as a gap in the packet index.
  EXPECT_EQ(v.report.playout.expected, 200u);
  EXPECT_EQ(v.report.playout.lost, 200u);
  EXPECT_EQ(v.report.playout.delivered_in_time, 0u);
  EXPECT_DOUBLE_EQ(v.report.playout.continuity(), 0.0);
  EXPECT_TRUE(v.packets.empty());
}

// Gap repair: a relay replays what a cut of three stripe trees lost (more than m = 2).
TEST(MediaPipeline, ReplayedItemsWithinThePlayoutDelayRestoreWhatFecCouldNot) {
  const auto p = publish(FecScheme{14, 2}, 200);
  const auto cut = [](const Delivery& d) { return d.stripe >= 5 && d.stripe <= 7; };
  auto items = arrive_after(p.items, ms(20), cut);
  for (const auto& d : p.items)
    if (d.stripe == 6) items.push_back({d.at + ms(300), d.stripe, d.bytes, true});
  auto v = view(FecScheme{14, 2}, items);
  expect_all_delivered_unchanged(p, v);
  EXPECT_EQ(v.report.playout.restored_by_retransmission, 200u) << "every group needed its replay";
  EXPECT_GT(v.report.items.groups_restored_by_retransmission, 0u);
}

TEST(MediaPipeline, AReplayThatWasNotNeededIsNotCountedAsARestoration) {
  const auto p = publish(FecScheme{14, 2}, 200);
  auto items = arrive_after(p.items, ms(20), [](const Delivery& d) { return d.stripe == 6; });
  // The live symbols alone make k for every group; the replayed copies come after them.
  for (const auto& d : p.items)
    if (d.stripe == 6) items.push_back({d.at + ms(40), d.stripe, d.bytes, true});
  auto v = view(FecScheme{14, 2}, items);
  expect_all_delivered_unchanged(p, v);
  EXPECT_EQ(v.report.playout.restored_by_retransmission, 0u);
  EXPECT_GT(v.report.items.items_retransmitted, 0u);
}

TEST(MediaPipeline, FecOffCarriesPacketsAndCannotRepairALostStripe) {
  const auto p = publish(FecScheme::off(), 100);
  expect_all_delivered_unchanged(p, view(FecScheme::off(), arrive_after(p.items, ms(5))));
  auto v = view(FecScheme::off(),
                arrive_after(p.items, ms(5), [](const Delivery& d) { return d.stripe == 7; }));
  EXPECT_GT(v.report.playout.lost, 0u);
}

TEST(MediaPipeline, ReorderedItemsAndRandomSymbolLossWithinMAreRepairedAndOrdered) {
  const auto p = publish(FecScheme{14, 2}, 300, 9);
  Rng rng(4);
  std::vector<Delivery> items;
  // Each stripe gets its own delay (skew up to 80 ms) and 1 % of items vanish, but never more
  // than the parity can cover: stripe 5 is down and 1 % of the rest is lost.
  std::vector<Duration> stripe_delay(16);
  for (auto& d : stripe_delay) d = ms(10) + Duration{static_cast<int64_t>(rng.below(80'000))};
  for (const auto& d : p.items) {
    if (d.stripe == 5) continue;
    items.push_back({d.at + stripe_delay[d.stripe], d.stripe, d.bytes});
  }
  std::vector<Delivery> kept;
  size_t dropped = 0;
  for (auto& d : items) {
    // Drop only symbols (not auth copies) and never the one with the sequence's own stripe 0.
    if (d.stripe != 0 && peek_item_kind(d.bytes) == ItemKind::kSymbol && rng.chance(0.01) &&
        dropped < 3) {
      // At most one extra loss per group is guaranteed by dropping at most a few in total.
      ++dropped;
      continue;
    }
    kept.push_back(std::move(d));
  }
  auto v = view(FecScheme{14, 2}, kept);
  expect_all_delivered_unchanged(p, v);
  EXPECT_GT(v.report.stripe_skew_max, ms(10));
}

TEST(MediaPipeline, PlayoutKeepsThePublishersSpacingBehindTheDelay) {
  const auto p = publish(FecScheme{14, 2}, 200);
  ViewerConfig vc;
  vc.playout_delay = ms(300);
  auto v = view(FecScheme{14, 2}, arrive_after(p.items, ms(40)), vc);
  ASSERT_EQ(v.packets.size(), p.rtp.size());
  // Reference = first item's arrival (publisher time of group 0's emission + 40 ms).
  const Time first_arrival = p.items.front().at + ms(40);
  for (size_t i = 0; i < p.rtp.size(); ++i) {
    const Time want = first_arrival + ms(300) + (p.ingest[i] - p.ingest[0]);
    EXPECT_EQ(v.packets[i].playout_time, want) << i;
  }
}

TEST(MediaPipeline, DelayIsMeasuredFromPublisherIngestWhenTheClockIsShared) {
  const auto p = publish(FecScheme{14, 2}, 200);
  ViewerConfig vc;
  vc.playout_delay = ms(500);
  vc.publisher_clock_offset = Duration::zero();
  auto v = view(FecScheme{14, 2}, arrive_after(p.items, ms(40)), vc);
  // 500 ms playout + 40 ms network + the first group's wait at the publisher (< 100 ms).
  EXPECT_GE(v.report.delay_p50, ms(500));
  EXPECT_LE(v.report.delay_p99, ms(680));
  EXPECT_GE(v.report.delay_max, ms(540));
}

TEST(MediaPipeline, AGroupIsRestoredAsSoonAsAnyKAuthenticatedSymbolsArrive) {
  const auto p = publish(FecScheme{14, 2}, 10);  // few packets: one group
  ModelGroupSigner verifier;
  AssemblerConfig ac;
  ac.stream = stream_id(1);
  GroupAssembler asm_(ac, verifier);
  std::vector<const Delivery*> symbols;
  const Delivery* auth = nullptr;
  for (const auto& d : p.items) {
    if (peek_item_kind(d.bytes) == ItemKind::kSymbol)
      symbols.push_back(&d);
    else
      auth = &d;
  }
  ASSERT_EQ(symbols.size(), 16u);
  ASSERT_NE(auth, nullptr);
  // Symbols 2..15 first (two data symbols missing), auth last.
  for (size_t i = 2; i < 15; ++i) {
    EXPECT_EQ(asm_.on_item(Time{}, symbols[i]->stripe, symbols[i]->bytes, 0),
              ItemVerdict::kAccepted);
  }
  EXPECT_EQ(asm_.on_item(Time{}, auth->stripe, auth->bytes, 0), ItemVerdict::kAccepted);
  EXPECT_TRUE(asm_.take_decoded().empty());  // 13 symbols: not yet
  asm_.on_item(Time{}, symbols[15]->stripe, symbols[15]->bytes, 0);
  auto decoded = asm_.take_decoded();
  ASSERT_EQ(decoded.size(), 1u);  // the 14th symbol completes it
  ASSERT_EQ(decoded[0].packets.size(), p.rtp.size());
  EXPECT_TRUE(std::equal(p.rtp[0].begin(), p.rtp[0].end(), decoded[0].packets[0].bytes.begin()));
  EXPECT_EQ(asm_.counters().groups_restored_by_fec, 1u);
  EXPECT_EQ(asm_.on_item(Time{}, symbols[0]->stripe, symbols[0]->bytes, 0),
            ItemVerdict::kRedundant);
}

// --- authenticity ---

size_t count_verdict(const Viewed& v, ItemVerdict want) {
  return static_cast<size_t>(std::count(v.verdicts.begin(), v.verdicts.end(), want));
}

TEST(MediaAuthenticity, AForgedSymbolIsDroppedAndTheGroupStillPlays) {
  const auto p = publish(FecScheme{14, 2}, 100);
  auto items = arrive_after(p.items, ms(20));
  size_t forged = 0;
  for (auto& d : items) {
    if (peek_item_kind(d.bytes) == ItemKind::kSymbol && d.stripe == 4) {
      d.bytes.back() ^= 0xff;  // one payload byte changed on one stripe
      ++forged;
    }
  }
  auto v = view(FecScheme{14, 2}, items);
  EXPECT_EQ(v.report.items[ItemVerdict::kForged], forged);
  expect_all_delivered_unchanged(p, v);
}

TEST(MediaAuthenticity, ABadSignatureIsForgedAndItsSymbolsNeverPlay) {
  auto p = publish(FecScheme{14, 2}, 30);
  auto items = arrive_after(p.items, ms(20));
  for (auto& d : items) {
    if (peek_item_kind(d.bytes) == ItemKind::kAuth) d.bytes.back() ^= 1;
  }
  auto v = view(FecScheme{14, 2}, items);
  EXPECT_GT(v.report.items[ItemVerdict::kForged], 0u);
  EXPECT_TRUE(v.packets.empty());
}

TEST(MediaAuthenticity, AnotherStreamsItemsAreForeign) {
  const auto mine = publish(FecScheme{14, 2}, 50);
  const auto other = publish(FecScheme{14, 2}, 50, 2, ms(2), stream_id(9));
  auto items = arrive_after(mine.items, ms(20));
  for (const auto& d : arrive_after(other.items, ms(21))) items.push_back(d);
  auto v = view(FecScheme{14, 2}, items);
  EXPECT_EQ(v.report.items[ItemVerdict::kForeign], other.items.size());
  expect_all_delivered_unchanged(mine, v);
}

TEST(MediaAuthenticity, OldGroupsReplayedLaterAreDropped) {
  const auto p = publish(FecScheme{14, 2}, 3000, 1, ms(1));
  ViewerConfig vc;
  auto items = arrive_after(p.items, ms(20));
  // The first groups again, long after they played out and past the replay window.
  std::vector<Delivery> replay;
  const Time end = items.back().at;
  for (size_t i = 0; i < 40; ++i) replay.push_back({end + ms(1), items[i].stripe, items[i].bytes});
  items.insert(items.end(), replay.begin(), replay.end());
  auto v = view(FecScheme{14, 2}, items, vc);
  EXPECT_EQ(count_verdict(v, ItemVerdict::kLate) + count_verdict(v, ItemVerdict::kReplayed), 40u);
  EXPECT_EQ(v.report.playout.delivered_in_time, p.rtp.size());
}

TEST(MediaAuthenticity, ForgedItemsFarAheadCannotMoveTheWindowOrGrowMemory) {
  const auto p = publish(FecScheme{14, 2}, 200);
  auto items = arrive_after(p.items, ms(20));
  ModelGroupSigner verifier;
  ViewerConfig vc;
  vc.stream = stream_id(1);
  vc.max_groups = 32;
  ViewerPipeline viewer(vc, verifier);
  // An attacker floods symbols of 10,000 different (unsigned) groups.
  GroupHeader h;
  h.stream = stream_id(1);
  h.data_symbols = 14;
  h.parity_symbols = 2;
  h.symbol_bytes = 100;
  h.data_bytes = 1400;
  h.packet_count = 1;
  std::vector<uint8_t> sym(100, 1);
  for (uint64_t g = 0; g < 10'000; ++g) {
    h.group = 1'000'000 + g * 977;
    viewer.on_stripe_payload(Time{}, 0, encode_symbol_item(h, 0, sym));
  }
  // The real stream still plays.
  for (auto& d : items) viewer.on_stripe_payload(d.at, d.stripe, d.bytes);
  for (int i = 0; i < 10'000 && viewer.next_deadline() != kNever; ++i) {
    viewer.poll(viewer.next_deadline());
  }
  EXPECT_EQ(viewer.take_packets().size(), p.rtp.size());
}

// --- playout, lateness, stalls ---

TEST(MediaPlayout, AGroupArrivingAfterItsPlayoutTimeIsLateNotDelivered) {
  const auto p = publish(FecScheme{14, 2}, 200);
  auto items = arrive_after(p.items, ms(20));
  // Group 5's auth and 13 symbols come on time, its last 3 symbols 300 ms late: it cannot be
  // restored before its playout time and is restored after it.
  GroupHeader target;
  for (auto& d : items) {
    if (peek_item_kind(d.bytes) != ItemKind::kSymbol) continue;
    auto s = decode_symbol_item(d.bytes);
    if (s->header.group != 5) continue;
    target = s->header;
    if (s->index >= 13) d.at += ms(300);
  }
  ViewerConfig vc;
  vc.playout_delay = ms(200);
  auto v = view(FecScheme{14, 2}, items, vc);
  EXPECT_EQ(v.report.playout.expected, 200u);
  EXPECT_EQ(v.report.playout.late, target.packet_count);
  EXPECT_EQ(v.report.playout.delivered_in_time, 200u - target.packet_count);
  EXPECT_EQ(v.packets.size(), 200u - target.packet_count);
}

TEST(MediaPlayout, APublisherThatStopsIsAStallAndTheViewerSleeps) {
  const auto p = publish(FecScheme{14, 2}, 100);
  ModelGroupSigner verifier;
  ViewerConfig vc;
  vc.stream = stream_id(1);
  ViewerPipeline viewer(vc, verifier);
  Time last{};
  for (auto& d : arrive_after(p.items, ms(20))) {
    viewer.on_stripe_payload(d.at, d.stripe, d.bytes);
    last = d.at;
  }
  EXPECT_FALSE(viewer.stalled());
  int polls = 0;
  while (viewer.next_deadline() != kNever && polls < 1000) {
    viewer.poll(viewer.next_deadline());
    ++polls;
  }
  EXPECT_LT(polls, 1000);
  EXPECT_TRUE(viewer.stalled());
  EXPECT_EQ(viewer.report().stalls, 1u);
  EXPECT_EQ(viewer.next_deadline(), kNever);
  viewer.poll(last + seconds(60));
  EXPECT_EQ(viewer.report().stalls, 1u);  // one stall, not one per poll
}

TEST(MediaPlayout, NonRtpBytesAtThePublisherAreCountedAndDropped) {
  ModelGroupSigner signer;
  PublisherConfig pc;
  PublisherPipeline pub(pc, signer);
  const std::vector<uint8_t> junk{1, 2, 3};
  pub.on_rtp(Time{}, junk);
  auto big = test::make_rtp(1, 1, 1, 20000);
  pub.on_rtp(Time{}, big);
  pub.flush();
  EXPECT_EQ(pub.counters().rtp_dropped[RtpError::kBadVersion], 1u);
  EXPECT_EQ(pub.counters().rtp_too_large, 1u);
  EXPECT_TRUE(pub.take_payloads().empty());
}

TEST(MediaPlayout, BadConfigurationThrowsAtStartUp) {
  ModelGroupSigner signer;
  PublisherConfig pc;
  pc.fec = FecScheme{15, 2};
  EXPECT_THROW(PublisherPipeline(pc, signer), FecConfigError);
  pc.fec = FecScheme{14, 2};
  pc.max_symbol_bytes = 1300;
  EXPECT_THROW(PublisherPipeline(pc, signer), FecConfigError);
}

}  // namespace
}  // namespace forestcast::media
