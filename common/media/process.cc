#include "common/media/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace cf::media {
namespace {

constexpr size_t kStderrTail = 4096;

[[noreturn]] void ExecChild(const std::vector<std::string>& argv, int out_fd, int err_fd,
                            pid_t parent) {
  // Die with the thread that started us, even if it is killed with SIGKILL.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);  // the parent died before prctl took effect
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);  // the server blocks SIGTERM; the child must not
  int null_in = open("/dev/null", O_RDONLY);
  dup2(null_in, 0);
  dup2(out_fd, 1);
  dup2(err_fd, 2);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  execv(args[0], args.data());
  _exit(127);
}

// Appends `n` bytes to `pending` and hands each complete line to `on_line` (when set).
void SplitLines(const char* data, ssize_t n, std::string* pending,
                const std::function<void(const std::string&)>& on_line) {
  if (!on_line) return;
  pending->append(data, n);
  size_t newline;
  while ((newline = pending->find('\n')) != std::string::npos) {
    on_line(pending->substr(0, newline));
    pending->erase(0, newline + 1);
  }
}

}  // namespace

absl::StatusOr<ProcessOutcome> RunProcess(const std::vector<std::string>& argv,
                                          const ProcessOptions& options) {
  if (argv.empty()) return absl::InvalidArgumentError("no program to run");
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return absl::InternalError("pipe failed");
  }
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return absl::ResourceExhaustedError("fork failed");
  if (pid == 0) ExecChild(argv, out_pipe[1], err_pipe[1], parent);
  close(out_pipe[1]);
  close(err_pipe[1]);

  ProcessOutcome outcome;
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(absl::ToInt64Milliseconds(options.timeout));
  std::string stdout_buffer;
  std::string stderr_buffer;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  bool killed = false;
  while (open_fds > 0) {
    if (!killed) {
      if (options.cancel != nullptr && options.cancel->load()) {
        outcome.cancelled = true;
      } else if (std::chrono::steady_clock::now() > deadline) {
        outcome.timed_out = true;
      }
      if (outcome.cancelled || outcome.timed_out) {
        kill(pid, SIGKILL);
        killed = true;
      }
    }
    if (poll(fds, 2, 100) < 0 && errno != EINTR) break;
    for (pollfd& fd : fds) {
      if (fd.fd < 0 || (fd.revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      char buffer[4096];
      ssize_t n = read(fd.fd, buffer, sizeof(buffer));
      if (n <= 0) {
        close(fd.fd);
        fd.fd = -1;
        --open_fds;
        continue;
      }
      if (fd.fd == err_pipe[0]) {
        outcome.stderr_tail.append(buffer, n);
        if (outcome.stderr_tail.size() > 2 * kStderrTail) {
          outcome.stderr_tail.erase(0, outcome.stderr_tail.size() - kStderrTail);
        }
        SplitLines(buffer, n, &stderr_buffer, options.on_stderr_line);
        continue;
      }
      SplitLines(buffer, n, &stdout_buffer, options.on_stdout_line);
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (outcome.stderr_tail.size() > kStderrTail) {
    outcome.stderr_tail.erase(0, outcome.stderr_tail.size() - kStderrTail);
  }
  outcome.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return outcome;
}

}  // namespace cf::media
