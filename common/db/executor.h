// A fixed set of threads with a bounded queue, for blocking (libpqxx) work started by gRPC
// reactors: a reactor thread must never block, so a full queue is refused (UNAVAILABLE) rather
// than waited on.
#ifndef CF_COMMON_DB_EXECUTOR_H_
#define CF_COMMON_DB_EXECUTOR_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace cf {

class BoundedExecutor {
 public:
  BoundedExecutor(int threads, int max_queued);
  ~BoundedExecutor();  // runs what is queued, then joins
  BoundedExecutor(const BoundedExecutor&) = delete;
  BoundedExecutor& operator=(const BoundedExecutor&) = delete;

  // False, without running task, when max_queued tasks already wait or after Shutdown.
  bool TrySubmit(std::function<void()> task);
  void Shutdown();

 private:
  void Work();

  const size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace cf

#endif  // CF_COMMON_DB_EXECUTOR_H_
