// Work that outlives the request that started it (Instagram's fetch of a video_url). Each task
// runs on a thread of its own; Shutdown (and the destructor) asks every task to stop through
// its cancel flag and joins them all, so no thread touches the store after it is gone.
#ifndef CF_SERVICES_SANDBOX_BACKGROUND_TASKS_H_
#define CF_SERVICES_SANDBOX_BACKGROUND_TASKS_H_

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

namespace cf::sandbox {

class BackgroundTasks {
 public:
  using Task = std::function<void(const std::atomic<bool>& cancel)>;

  BackgroundTasks() = default;
  ~BackgroundTasks() { Shutdown(); }
  BackgroundTasks(const BackgroundTasks&) = delete;
  BackgroundTasks& operator=(const BackgroundTasks&) = delete;

  // Starts `task` now; false (and it never runs) after Shutdown.
  bool Run(Task task);
  // Tasks still running.
  int running();
  void Shutdown();

 private:
  struct Entry {
    std::thread thread;
    std::atomic<bool> done{false};
  };
  // Joins the threads of finished tasks (called with mutex_ held).
  void Reap();

  std::mutex mutex_;
  bool stopped_ = false;
  std::atomic<bool> cancel_{false};
  std::list<std::unique_ptr<Entry>> entries_;
};

}  // namespace cf::sandbox

#endif  // CF_SERVICES_SANDBOX_BACKGROUND_TASKS_H_
