#include "base/timer_queue.hpp"

#include <gtest/gtest.h>

namespace forestcast {
namespace {

TEST(TimerQueue, FiresInDeadlineThenSchedulingOrderAndSkipsCancelled) {
  TimerQueue<int> q;
  q.schedule(ms(30), 3);
  const TimerId cancelled = q.schedule(ms(10), 1);
  q.schedule(ms(20), 2);
  q.schedule(ms(20), 22);
  q.cancel(cancelled);
  EXPECT_EQ(q.next_deadline(), ms(20));
  TimerId id;
  int v;
  EXPECT_FALSE(q.pop_due(ms(19), id, v));
  ASSERT_TRUE(q.pop_due(ms(25), id, v));
  EXPECT_EQ(v, 2);
  ASSERT_TRUE(q.pop_due(ms(25), id, v));
  EXPECT_EQ(v, 22);
  EXPECT_FALSE(q.pop_due(ms(25), id, v));
  ASSERT_TRUE(q.pop_due(ms(30), id, v));
  EXPECT_EQ(v, 3);
  EXPECT_EQ(q.next_deadline(), kNever);
}

}  // namespace
}  // namespace forestcast
