// A background task run every `interval` on a thread of its own, from Start() until Stop()
// (which wakes it at once, waits for a run in progress, and joins). Runs do not overlap.
#ifndef CF_COMMON_SERVER_PERIODIC_H_
#define CF_COMMON_SERVER_PERIODIC_H_

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "absl/time/time.h"

namespace cf {

class Periodic {
 public:
  // `first_delay`: how long after Start() the first run comes (0: at once).
  Periodic(std::function<void()> task, absl::Duration interval,
           absl::Duration first_delay = absl::ZeroDuration())
      : task_(std::move(task)), interval_(interval), first_delay_(first_delay) {}
  ~Periodic() { Stop(); }
  Periodic(const Periodic&) = delete;
  Periodic& operator=(const Periodic&) = delete;

  void Start();
  void Stop();

 private:
  // Waits `duration` or until stopped; true when stopped.
  bool WaitOrStop(absl::Duration duration);

  std::function<void()> task_;
  absl::Duration interval_;
  absl::Duration first_delay_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace cf

#endif  // CF_COMMON_SERVER_PERIODIC_H_
