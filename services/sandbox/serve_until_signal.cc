#include "services/sandbox/serve_until_signal.h"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace cf::sandbox {
namespace {

sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

}  // namespace

void BlockStopSignals() {
  sigset_t set = StopSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int ServeUntilSignal(const std::function<void()>& serve, const std::function<void()>& stop) {
  std::atomic<bool> done{false};
  std::atomic<int> received{0};
  std::thread waiter([&] {
    sigset_t set = StopSignals();
    int signal_number = 0;
    sigwait(&set, &signal_number);
    if (done) return;  // woken by the pthread_kill below
    received = signal_number;
    // A stop that lands before the server has begun to listen is lost: repeat it.
    while (!done) {
      stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  serve();
  done = true;
  if (received == 0) pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  return received;
}

}  // namespace cf::sandbox
