// Runs a child program from an argument vector (never a shell). The child dies with the thread
// that started it (PR_SET_PDEATHSIG), is killed when its time is up or the caller cancels, and
// its output is read line by line.
#ifndef CF_COMMON_MEDIA_PROCESS_H_
#define CF_COMMON_MEDIA_PROCESS_H_

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace cf::media {

struct ProcessOptions {
  absl::Duration timeout = absl::Minutes(5);
  // Called for each line the child writes to stdout.
  std::function<void(const std::string& line)> on_stdout_line;
  // Called for each line the child writes to stderr (all of them, not only the tail kept).
  std::function<void(const std::string& line)> on_stderr_line;
  // Polled; when it turns true the child is killed.
  const std::atomic<bool>* cancel = nullptr;
};

struct ProcessOutcome {
  int exit_code = -1;  // -1 when killed by a signal
  bool timed_out = false;
  bool cancelled = false;
  std::string stderr_tail;  // the last few KB of stderr
};

absl::StatusOr<ProcessOutcome> RunProcess(const std::vector<std::string>& argv,
                                          const ProcessOptions& options);

}  // namespace cf::media

#endif  // CF_COMMON_MEDIA_PROCESS_H_
