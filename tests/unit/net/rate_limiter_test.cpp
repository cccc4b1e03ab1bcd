#include "net/udp/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace forestcast::net {
namespace {

TEST(RateLimiterTest, BurstThenRefill) {
  RateLimiter<int> limiter(/*per_second=*/10, /*burst=*/5, /*max_keys=*/16);
  const Time t0 = seconds(100);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.allow(1, t0)) << i;
  EXPECT_FALSE(limiter.allow(1, t0));
  EXPECT_TRUE(limiter.allow(2, t0)) << "buckets are per key";
  EXPECT_FALSE(limiter.allow(1, t0 + ms(50)));  // half a token
  EXPECT_TRUE(limiter.allow(1, t0 + ms(100)));  // one token
  EXPECT_FALSE(limiter.allow(1, t0 + ms(100)));
  // Refill stops at the burst size.
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.allow(1, t0 + seconds(60))) << i;
  EXPECT_FALSE(limiter.allow(1, t0 + seconds(60)));
}

TEST(RateLimiterTest, TimeGoingBackwardsGrantsNothing) {
  RateLimiter<int> limiter(10, 1, 16);
  EXPECT_TRUE(limiter.allow(1, seconds(5)));
  EXPECT_FALSE(limiter.allow(1, seconds(4)));
}

TEST(RateLimiterTest, MapStaysBounded) {
  RateLimiter<int> limiter(10, 2, 8);
  for (int key = 0; key < 1000; ++key) {
    limiter.allow(key, ms(key));
    limiter.allow(key, ms(key));  // drain, so the bucket is not trivially forgettable
    EXPECT_LE(limiter.tracked(), 8u);
  }
}

TEST(RateLimiterTest, SpoofedFloodDoesNotRefillAnEstablishedPeer) {
  // The hole this closes: a full table used to be cleared, so a flood of one datagram from
  // each of many spoofed addresses handed every established peer a fresh burst.
  RateLimiter<int> limiter(/*per_second=*/1, /*burst=*/5, /*max_keys=*/64);
  const Time t0 = seconds(10);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(limiter.allow(1, t0));
  ASSERT_FALSE(limiter.allow(1, t0)) << "peer 1 has spent its burst";
  for (int k = 0; k < 10'000; ++k) limiter.allow(1000 + k, t0 + Duration{k * 10});
  EXPECT_FALSE(limiter.allow(1, t0 + ms(100))) << "only 0.1 token refilled since";
  EXPECT_TRUE(limiter.allow(1, t0 + ms(1000))) << "a whole token by now";
  EXPECT_LE(limiter.tracked(), 64u);
}

TEST(RateLimiterTest, UntrackedSourcesShareOneBucket) {
  RateLimiter<int> limiter(/*per_second=*/1, /*burst=*/5, /*max_keys=*/8);
  const Time t0 = seconds(10);
  for (int key = 0; key < 8; ++key) limiter.allow(key, t0);  // all busy: 4 of 5 tokens left
  int allowed = 0;
  for (int k = 0; k < 1000; ++k)
    if (limiter.admit(100 + k, t0) == Admission::kAllowed) ++allowed;
  EXPECT_EQ(allowed, 5) << "the whole flood gets one peer's burst";
  EXPECT_EQ(limiter.untracked(), 1000u);
  EXPECT_EQ(limiter.evicted(), 0u);
  EXPECT_EQ(limiter.admit(100, t0), Admission::kUntrackedLimited);
  EXPECT_EQ(limiter.tracked(), 8u);
}

TEST(RateLimiterTest, IdleSourcesMakeRoomLeastRecentlyUsedFirst) {
  RateLimiter<int> limiter(/*per_second=*/1000, /*burst=*/2, /*max_keys=*/4);
  for (int key = 0; key < 4; ++key) limiter.allow(key, seconds(1));
  // Key 0 keeps sending, so it is the most recently used; the others go idle and refill.
  limiter.allow(0, seconds(2));
  limiter.allow(0, seconds(2));
  EXPECT_EQ(limiter.admit(0, seconds(2)), Admission::kPeerLimited);
  // A new key takes an idle bucket and gets a whole burst of its own.
  EXPECT_EQ(limiter.admit(99, seconds(2)), Admission::kAllowed);
  EXPECT_EQ(limiter.admit(99, seconds(2)), Admission::kAllowed);
  EXPECT_EQ(limiter.admit(99, seconds(2)), Admission::kPeerLimited);
  EXPECT_EQ(limiter.tracked(), 4u);
  EXPECT_EQ(limiter.evicted(), 1u);
  EXPECT_EQ(limiter.untracked(), 0u);
  // Key 0 was not the one forgotten: still limited.
  EXPECT_EQ(limiter.admit(0, seconds(2)), Admission::kPeerLimited);
}

TEST(RateLimiterTest, FloodCostsNoAllocationOnceFull) {
  // Churning through a million sources keeps the table at its bound (idle buckets reused).
  RateLimiter<int> limiter(/*per_second=*/5000, /*burst=*/10, /*max_keys=*/256);
  Time t = seconds(1);
  for (int k = 0; k < 1'000'000; ++k) {
    t += Duration{1};
    limiter.allow(k, t);
  }
  EXPECT_EQ(limiter.tracked(), 256u);
  EXPECT_GT(limiter.evicted(), 900'000u);
}

}  // namespace
}  // namespace forestcast::net
