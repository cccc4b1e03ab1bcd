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

TEST(TimerQueue, CancellingAFiredTimerLeavesNothingBehind) {
  TimerQueue<int> q;
  const TimerId a = q.schedule(ms(10), 1);
  q.schedule(ms(20), 2);
  TimerId id;
  int v;
  ASSERT_TRUE(q.pop_due(ms(10), id, v));
  EXPECT_EQ(id, a);
  q.cancel(a);  // already fired: nothing to cancel
  q.cancel(a);
  EXPECT_EQ(q.size(), 1u);
  ASSERT_TRUE(q.pop_due(ms(20), id, v));
  EXPECT_EQ(q.size(), 0u);  // did underflow to SIZE_MAX before
  const TimerId b = q.schedule(ms(30), 3);
  q.cancel(b);
  q.cancel(b);  // twice: still one cancellation
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.next_deadline(), kNever);
}

TEST(TimerQueue, IdsAreNotReusedAfterClear) {
  TimerQueue<int> q;
  const TimerId old = q.schedule(ms(10), 1);
  q.clear();
  const TimerId fresh = q.schedule(ms(10), 2);
  EXPECT_NE(fresh, old);
  q.cancel(old);  // a stale id cannot cancel the new timer
  TimerId id;
  int v;
  ASSERT_TRUE(q.pop_due(ms(10), id, v));
  EXPECT_EQ(v, 2);
}

}  // namespace
}  // namespace forestcast
