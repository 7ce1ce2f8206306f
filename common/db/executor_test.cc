#include "common/db/executor.h"

#include <atomic>
#include <future>

#include "gtest/gtest.h"

namespace cf {
namespace {

TEST(BoundedExecutorTest, RunsEverySubmittedTask) {
  std::atomic<int> ran{0};
  {
    BoundedExecutor executor(2, 100);
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(executor.TrySubmit([&] { ++ran; }));
  }  // destructor drains the queue
  EXPECT_EQ(ran.load(), 50);
}

TEST(BoundedExecutorTest, RefusesWhenTheQueueIsFull) {
  BoundedExecutor executor(1, 2);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::promise<void> started;
  ASSERT_TRUE(executor.TrySubmit([&, gate] {
    started.set_value();
    gate.wait();
  }));
  started.get_future().wait();  // the only thread is now busy
  EXPECT_TRUE(executor.TrySubmit([] {}));
  EXPECT_TRUE(executor.TrySubmit([] {}));
  EXPECT_FALSE(executor.TrySubmit([] {}));  // two queued: full
  release.set_value();
}

TEST(BoundedExecutorTest, RefusesAfterShutdown) {
  BoundedExecutor executor(1, 10);
  executor.Shutdown();
  EXPECT_FALSE(executor.TrySubmit([] {}));
}

}  // namespace
}  // namespace cf
