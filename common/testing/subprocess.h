// Test helper: runs a program (a real server binary) as a child process that dies with the test.
#ifndef CF_COMMON_TESTING_SUBPROCESS_H_
#define CF_COMMON_TESTING_SUBPROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace cf::testing {

class Subprocess {
 public:
  // Starts `argv[0]` with `argv`, the test's environment plus `env`; stdout and stderr go to
  // `log_path` (appended).
  Subprocess(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
             const std::string& log_path);
  ~Subprocess();  // SIGKILL if still running
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  void Signal(int signal_number);
  // The exit status as from waitpid (-1 on timeout).
  int Wait(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

// The path of a data dependency inside the test's runfiles, e.g. "services/catalog/catalog_server".
std::string RunfilePath(const std::string& path);

// A loopback TCP port that was free a moment ago.
int FreePort();

// Polls `condition` every 10 ms until it holds or `timeout` passes: whether it held. Tests wait
// for events this way, never for a fixed time.
bool WaitUntil(const std::function<bool()>& condition,
               std::chrono::milliseconds timeout = std::chrono::seconds(30));

// What `command` (run by /bin/sh) writes on its standard output. For tests and benchmarks only:
// never give it text from outside.
std::string CommandOutput(const std::string& command);

// <TEST_TMPDIR>/<name>: a path of the test's own (under /tmp outside `bazel test`).
std::string TestTempPath(const std::string& name);

// What grpc.health.v1.Health/Check("") answers at `address`: SERVING, NOT_SERVING, ... or
// UNREACHABLE when nothing answers within half a second.
std::string HealthOf(const std::string& address);

// Waits until grpc.health.v1.Health/Check("") answers SERVING at `address`.
bool WaitForServing(const std::string& address, std::chrono::milliseconds timeout);

}  // namespace cf::testing

#endif  // CF_COMMON_TESTING_SUBPROCESS_H_
