#include "services/sandbox/rate_limiter.h"

#include <gtest/gtest.h>

namespace cf::sandbox {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1700000000);

TEST(RateLimiterTest, AllowsTheLimitPerWindowThenSaysWhenToComeBack) {
  RateLimiter limiter(1);
  for (int i = 0; i < 6; ++i) {
    EXPECT_FALSE(limiter.Take("init", 6, absl::Minutes(1), kStart + absl::Seconds(i)).has_value());
  }
  std::optional<absl::Duration> wait =
      limiter.Take("init", 6, absl::Minutes(1), kStart + absl::Seconds(10));
  ASSERT_TRUE(wait.has_value());
  EXPECT_EQ(*wait, absl::Seconds(50));  // the first call leaves the window at 60 s
  // Another key has its own window.
  EXPECT_FALSE(limiter.Take("status", 6, absl::Minutes(1), kStart + absl::Seconds(10)).has_value());
  // Refused calls are not counted: one slot frees at 60 s.
  EXPECT_FALSE(limiter.Take("init", 6, absl::Minutes(1), kStart + absl::Seconds(60)).has_value());
  EXPECT_TRUE(limiter.Take("init", 6, absl::Minutes(1), kStart + absl::Seconds(60)).has_value());
}

TEST(RateLimiterTest, ScalesLimitsAndKeepsAtLeastOne) {
  RateLimiter half(0.5);
  EXPECT_EQ(half.Scaled(6), 3);
  RateLimiter tiny(0.001);
  EXPECT_EQ(tiny.Scaled(6), 1);
  EXPECT_FALSE(tiny.Take("k", 6, absl::Minutes(1), kStart).has_value());
  std::optional<absl::Duration> wait =
      tiny.Take("k", 6, absl::Minutes(1), kStart + absl::Milliseconds(1500));
  ASSERT_TRUE(wait.has_value());
  EXPECT_EQ(*wait, absl::Seconds(59));  // 58.5 s rounded up to whole seconds
}

TEST(RateLimiterTest, ZeroScaleTurnsLimitsOff) {
  RateLimiter off(0);
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(off.Take("k", 1, absl::Hours(1), kStart).has_value());
}

TEST(RateLimiterTest, CostsCountAgainstTheBudget) {
  RateLimiter limiter(1);
  const absl::Duration day = absl::Hours(24);
  for (int i = 0; i < 6; ++i) {
    EXPECT_FALSE(limiter.Take("quota", 10000, day, kStart + absl::Minutes(i), 1600).has_value());
  }
  EXPECT_TRUE(limiter.Take("quota", 10000, day, kStart + absl::Minutes(7), 1600).has_value());
  EXPECT_FALSE(limiter.Take("quota", 10000, day, kStart + absl::Minutes(7), 1).has_value());
  // A cost larger than the whole budget waits a full window.
  EXPECT_EQ(*limiter.Take("quota", 10000, day, kStart, 20000), day);
}

}  // namespace
}  // namespace cf::sandbox
