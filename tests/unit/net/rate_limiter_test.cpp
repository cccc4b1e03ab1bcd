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

TEST(RateLimiterTest, IdleSourcesAreForgottenFirst) {
  RateLimiter<int> limiter(1000, 2, 4);
  for (int key = 0; key < 4; ++key) limiter.allow(key, seconds(1));
  // A second later all buckets are full again: a new key evicts them instead of clearing a
  // busy one.
  EXPECT_TRUE(limiter.allow(99, seconds(2)));
  EXPECT_EQ(limiter.tracked(), 1u);
}

}  // namespace
}  // namespace forestcast::net
