#include "services/sandbox/background_tasks.h"

#include <gtest/gtest.h>

#include <chrono>

#include "common/testing/subprocess.h"

namespace cf::sandbox {
namespace {

TEST(BackgroundTasksTest, RunsTasksAndReapsThem) {
  BackgroundTasks tasks;
  std::atomic<int> ran{0};
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(tasks.Run([&](const std::atomic<bool>&) { ++ran; }));
  }
  EXPECT_TRUE(testing::WaitUntil([&] { return ran == 5 && tasks.running() == 0; }));
}

TEST(BackgroundTasksTest, ShutdownCancelsAndJoinsRunningTasks) {
  std::atomic<bool> saw_cancel{false};
  std::atomic<bool> started{false};
  BackgroundTasks tasks;
  ASSERT_TRUE(tasks.Run([&](const std::atomic<bool>& cancel) {
    started = true;
    while (!cancel) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    saw_cancel = true;
  }));
  ASSERT_TRUE(testing::WaitUntil([&] { return started.load(); }));
  tasks.Shutdown();
  EXPECT_TRUE(saw_cancel);  // joined: the task finished before Shutdown returned
  EXPECT_FALSE(tasks.Run([](const std::atomic<bool>&) {}));
}

TEST(BackgroundTasksTest, ATaskThatThrowsDoesNotTakeTheProcessDown) {
  BackgroundTasks tasks;
  ASSERT_TRUE(tasks.Run([](const std::atomic<bool>&) { throw std::runtime_error("boom"); }));
  EXPECT_TRUE(testing::WaitUntil([&] { return tasks.running() == 0; }));
}

}  // namespace
}  // namespace cf::sandbox
