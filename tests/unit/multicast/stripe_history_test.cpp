// StripeHistory (the per-topic ring and duplicate filter of gap repair) and ReplayPacer (its
// node-wide burst bound), driven with fake time.
#include "multicast/stripe_history.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "base/random.hpp"

namespace forestcast::multicast {
namespace {

const NodeId kTopic = NodeId::from_parts(0x3abc000000000000ULL, 42);

std::shared_ptr<const DataMsg> data(uint64_t seq, uint32_t bytes = 1000) {
  DataBody b{kTopic, seq};
  b.payload_size = bytes;
  return std::make_shared<const DataMsg>(std::move(b));
}

std::vector<uint64_t> seqs_after(const StripeHistory& h, Time now, uint64_t seq) {
  std::vector<std::shared_ptr<const DataMsg>> out;
  h.after(now, seq, out);
  std::vector<uint64_t> s;
  for (const auto& d : out) s.push_back(d->body.seq);
  return s;
}

using Admit = StripeHistory::Admit;

TEST(StripeHistory, ReplaysWhatCameAfterTheChildsNewestInSequenceOrder) {
  StripeHistory h;
  for (uint64_t s = 1; s <= 10; ++s) EXPECT_EQ(h.record(ms(10 * s), data(s)), Admit::kNew);
  EXPECT_EQ(h.newest(), 10u);
  EXPECT_EQ(seqs_after(h, ms(100), 6), (std::vector<uint64_t>{7, 8, 9, 10}));
  EXPECT_TRUE(seqs_after(h, ms(100), 10).empty());
}

TEST(StripeHistory, AGapFilledLateIsNewOnceAndKeptInOrder) {
  StripeHistory h;
  for (uint64_t s : {1, 2, 3, 8, 9}) h.record(ms(s), data(s));
  EXPECT_EQ(h.record(ms(20), data(5)), Admit::kNew) << "below the newest but never held";
  EXPECT_EQ(h.record(ms(21), data(5)), Admit::kDuplicate);
  EXPECT_EQ(h.record(ms(22), data(9)), Admit::kDuplicate);
  EXPECT_EQ(seqs_after(h, ms(30), 2), (std::vector<uint64_t>{3, 5, 8, 9}));
  EXPECT_EQ(h.newest(), 9u);
}

TEST(StripeHistory, ForgetsPastTheWindowAndRefusesWhatItForgot) {
  StripeHistory h(StripeHistoryConfig{ms(2000), 1 << 20, 1024});
  h.record(ms(0), data(1));
  h.record(ms(500), data(2));
  h.record(ms(2100), data(3));  // 1 is now 2.1 s old
  EXPECT_EQ(h.oldest(), 2u);
  EXPECT_EQ(h.record(ms(2101), data(1)), Admit::kTooOld);
  // after() also hides what aged out since the last record.
  EXPECT_EQ(seqs_after(h, ms(2600), 0), (std::vector<uint64_t>{3}));
}

// The ring wraps as old packets age out while new ones arrive; late gap fills then go into the
// middle of a wrapped ring. Checked against a sorted std::map run by the same rules (evict the
// lowest seq while it is older than the window; refuse at or below what was evicted).
TEST(StripeHistory, StaysInSequenceOrderAcrossWrapsAndLateFills) {
  const Duration window = ms(100);
  StripeHistory h(StripeHistoryConfig{window, 1 << 20, 1024});
  std::map<uint64_t, Time> ref;
  uint64_t forgotten = 0;
  auto ref_record = [&](Time now, uint64_t seq) {
    if (seq <= forgotten) return Admit::kTooOld;
    if (!ref.emplace(seq, now).second) return Admit::kDuplicate;
    while (!ref.empty() && now - ref.begin()->second > window) {
      forgotten = std::max(forgotten, ref.begin()->first);
      ref.erase(ref.begin());
    }
    return Admit::kNew;
  };
  Rng rng(11);
  for (uint64_t s = 1; s <= 600; ++s) {
    const Time now = ms(10 * s);
    std::vector<uint64_t> batch;
    if (s % 5 != 0) batch.push_back(s);                  // every fifth comes late...
    if (s > 3 && (s - 3) % 5 == 0) batch.push_back(s - 3);  // ...30 ms late
    if (rng.chance(0.2)) batch.push_back(s - rng.below(std::min<uint64_t>(s, 15)));  // replays
    for (uint64_t q : batch) ASSERT_EQ(h.record(now, data(q, 100)), ref_record(now, q)) << q;
    std::vector<uint64_t> want;
    // after() also leaves out what is past the window but not yet evicted (behind a late fill).
    for (const auto& [q, at] : ref)
      if (now - at <= window) want.push_back(q);
    ASSERT_EQ(seqs_after(h, now, 0), want) << "at seq " << s;
    EXPECT_EQ(h.bytes(), 100 * ref.size());
    EXPECT_EQ(h.oldest(), ref.empty() ? 0 : ref.begin()->first);
    const uint64_t from = s > 6 ? s - 6 : 0;
    std::vector<uint64_t> tail;
    for (auto it = ref.upper_bound(from); it != ref.end(); ++it)
      if (now - it->second <= window) tail.push_back(it->first);
    EXPECT_EQ(seqs_after(h, now, from), tail);
  }
  // A burst at one instant grows the ring while its oldest entry sits mid-array (head moved
  // by the evictions above), then late fills land in the grown ring.
  const Time burst = ms(6005);
  for (uint64_t q = 601; q <= 700; ++q) {
    if (q % 3 != 0) {
      ASSERT_EQ(h.record(burst, data(q, 100)), ref_record(burst, q)) << q;
    }
  }
  for (uint64_t q = 603; q <= 700; q += 3) {
    ASSERT_EQ(h.record(burst, data(q, 100)), ref_record(burst, q)) << q;
  }
  std::vector<uint64_t> want;
  for (const auto& [q, at] : ref)
    if (burst - at <= window) want.push_back(q);
  EXPECT_EQ(seqs_after(h, burst, 0), want);
  EXPECT_EQ(h.packets(), ref.size());
  EXPECT_TRUE(seqs_after(h, ms(6000), UINT64_MAX).empty());
}

TEST(StripeHistory, BytesAndPacketBoundsHold) {
  StripeHistory by_bytes(StripeHistoryConfig{seconds(2), 5000, 1024});
  for (uint64_t s = 1; s <= 20; ++s) by_bytes.record(ms(s), data(s, 1000));
  EXPECT_LE(by_bytes.bytes(), 5000u);
  EXPECT_EQ(by_bytes.packets(), 5u);
  EXPECT_EQ(by_bytes.oldest(), 16u);
  StripeHistory by_count(StripeHistoryConfig{seconds(2), 1 << 20, 3});
  for (uint64_t s = 1; s <= 20; ++s) by_count.record(ms(s), data(s, 0));
  EXPECT_EQ(by_count.packets(), 3u);
  EXPECT_EQ(by_count.oldest(), 18u);
}

TEST(ReplayPacer, SendsABurstAtOnceAndTheRestAtTheConfiguredRate) {
  ReplayPacer p(ReplayConfig{100'000, 10'000, 4096});  // 100 kB/s, 10 kB burst
  const NodeHandle child{NodeId::from_parts(0x7000000000000000ULL, 1),
                         overlay::Endpoint::ipv4(3, 4000)};
  std::vector<std::shared_ptr<const DataMsg>> missing;
  for (uint64_t s = 1; s <= 30; ++s) missing.push_back(data(s, 1000));
  ASSERT_TRUE(p.enqueue(ms(0), child, missing));
  auto first = p.take_due(ms(0));
  ASSERT_EQ(first.size(), 10u);  // the burst
  for (size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].data->body.seq, i + 1);
    EXPECT_TRUE(first[i].data->body.replayed);
    EXPECT_EQ(first[i].child, child);
  }
  EXPECT_FALSE(missing[0]->body.replayed) << "the history's packet itself is untouched";
  EXPECT_EQ(p.take_due(ms(50)).size(), 5u);  // 50 ms x 100 kB/s
  EXPECT_EQ(p.take_due(ms(1000)).size(), 10u);  // refill caps at the burst
  EXPECT_EQ(p.take_due(ms(2000)).size(), 5u);
  EXPECT_TRUE(p.idle());
}

TEST(ReplayPacer, RefusesARequestPastTheQueueBound) {
  ReplayPacer p(ReplayConfig{100'000, 10'000, 16});
  const NodeHandle child{NodeId::from_parts(0x7000000000000000ULL, 1),
                         overlay::Endpoint::ipv4(3, 4000)};
  std::vector<std::shared_ptr<const DataMsg>> missing;
  for (uint64_t s = 1; s <= 10; ++s) missing.push_back(data(s));
  EXPECT_TRUE(p.enqueue(ms(0), child, missing));
  EXPECT_FALSE(p.enqueue(ms(0), child, missing));
  EXPECT_EQ(p.counters().requests_refused, 1u);
}

}  // namespace
}  // namespace forestcast::multicast
