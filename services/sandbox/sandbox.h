// The sandbox server: the store, faults, rate limits and background fetches behind one
// httplib server that speaks TikTok (posting and Spark Ads), Instagram, Facebook and YouTube
// (README.md). main.cc runs it; tests run it in-process with a clock they move by hand.
#ifndef CF_SERVICES_SANDBOX_SANDBOX_H_
#define CF_SERVICES_SANDBOX_SANDBOX_H_

#include <httplib.h>

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/sandbox/api_support.h"

namespace cf::sandbox {

class Sandbox {
 public:
  // Opens (or creates) the data folder, resumes what a restart interrupted (uploads cut back to
  // what was recorded, videos not yet checked, Instagram fetches) and registers every route.
  // `clock` defaults to absl::Now.
  static absl::StatusOr<std::unique_ptr<Sandbox>> Create(
      const Options& options, std::function<absl::Time()> clock = nullptr);
  ~Sandbox();

  // Binds the listen address: the port (the one chosen when the options ask for port 0).
  absl::StatusOr<int> Bind();
  // Serves until Stop (blocking).
  void Serve();
  // Stops serving; safe from any thread. Stop before Serve has begun is not remembered: call
  // it again until Serve returns.
  void Stop();
  bool running() const { return server_.is_running(); }

  Env& env() { return env_; }

 private:
  Sandbox() = default;
  absl::Status Resume();

  std::unique_ptr<SandboxStore> store_;
  std::unique_ptr<Faults> faults_;
  std::unique_ptr<RateLimiter> limiter_;
  std::unique_ptr<BackgroundTasks> tasks_;
  std::atomic<bool> stopping_{false};
  Env env_;
  httplib::Server server_;
};

// ffprobe's check of a post with its platform's limits (TikTok's 600 s).
void ProbeWithLimits(Env& env, const Post& post);

}  // namespace cf::sandbox

#endif  // CF_SERVICES_SANDBOX_SANDBOX_H_
