#include "common/server/periodic.h"

namespace cf {

void Periodic::Start() {
  thread_ = std::thread([this] {
    if (WaitOrStop(first_delay_)) return;
    do {
      task_();
    } while (!WaitOrStop(interval_));
  });
}

bool Periodic::WaitOrStop(absl::Duration duration) {
  std::unique_lock<std::mutex> lock(mutex_);
  wake_.wait_for(lock, absl::ToChronoMilliseconds(duration), [this] { return stopping_; });
  return stopping_;
}

void Periodic::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace cf
