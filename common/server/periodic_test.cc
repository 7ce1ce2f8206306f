#include "common/server/periodic.h"

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace cf {
namespace {

TEST(PeriodicTest, RunsRepeatedlyUntilStopped) {
  std::mutex mutex;
  std::condition_variable ran;
  int runs = 0;
  Periodic periodic(
      [&] {
        std::lock_guard<std::mutex> lock(mutex);
        ++runs;
        ran.notify_all();
      },
      absl::Milliseconds(1));
  periodic.Start();
  {
    std::unique_lock<std::mutex> lock(mutex);
    ASSERT_TRUE(ran.wait_for(lock, std::chrono::seconds(60), [&] { return runs >= 3; }));
  }
  periodic.Stop();
  std::lock_guard<std::mutex> lock(mutex);
  const int after_stop = runs;
  EXPECT_GE(after_stop, 3);
}

// Stop wakes a long wait at once instead of sleeping it out; the first run never comes.
TEST(PeriodicTest, StopDoesNotWaitOutTheInterval) {
  std::atomic<int> runs{0};
  Periodic periodic([&] { ++runs; }, absl::Hours(24), absl::Hours(24));
  periodic.Start();
  const absl::Time before = absl::Now();
  periodic.Stop();
  EXPECT_LT(absl::Now() - before, absl::Minutes(1));
  EXPECT_EQ(runs.load(), 0);
}

}  // namespace
}  // namespace cf
