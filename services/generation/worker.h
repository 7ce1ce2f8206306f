// The workers that run image and video jobs inside the generation service.
//
// Threads per kind claim due jobs (SKIP LOCKED) under a lease; one heartbeat thread extends the
// leases of running jobs and cancels a job whose lease was lost; a rescuer returns expired
// leases to the queue; a listener wakes idle workers on NOTIFY, and they poll anyway. Failures
// back off exponentially (honouring Retry-After) while attempts remain. Stop() cancels running
// renders and gives their leases back without using up an attempt.
#ifndef CF_SERVICES_GENERATION_WORKER_H_
#define CF_SERVICES_GENERATION_WORKER_H_

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "services/generation/job_store.h"
#include "services/generation/provider.h"

namespace cf::generation {

struct WorkerOptions {
  std::string worker_id;  // unique per process, e.g. host:pid
  int image_threads = 2;
  int video_threads = 1;
  absl::Duration lease = absl::Seconds(30);
  absl::Duration poll_interval = absl::Seconds(1);
  absl::Duration rescue_interval = absl::Seconds(5);
  absl::Duration backoff_base = absl::Seconds(2);
  absl::Duration backoff_max = absl::Minutes(5);
  // LISTEN cf_generation_jobs on this database ("" to rely on polling alone).
  std::string notify_conninfo;
  // When set, one line per claim and outcome is appended here (crash tests read it).
  std::string attempt_log_path;
};

class JobWorkers {
 public:
  JobWorkers(JobStore* store, ImageProvider* images, VideoProvider* videos, WorkerOptions options);
  ~JobWorkers();  // Stop()

  void Start();
  void Stop();

  // The backoff before attempt `attempt` + 1 (exposed for tests).
  absl::Duration Backoff(int attempt, absl::Duration retry_after) const;

 private:
  struct Running {
    JobKind kind;
    std::string id;
    int attempt = 0;
    std::atomic<int> progress{0};
    std::atomic<bool> cancel{false};
  };

  void WorkLoop(JobKind kind);
  // Claimed -> running (registered for heartbeats) -> settled.
  void RunJob(const ClaimedJob& job);
  absl::StatusOr<JobResult> Generate(const ClaimedJob& job, Running* running);
  // Records the outcome: completed, given back, lost, deferred, or failed (retry or not).
  void Settle(const ClaimedJob& job, const absl::StatusOr<JobResult>& result, absl::Duration took);
  void HeartbeatLoop();
  void RescueLoop();
  void ListenLoop();
  void Sleep(absl::Duration duration);  // wakes early on Stop or a notification
  void LogAttempt(const std::string& event, const ClaimedJob& job);

  JobStore* store_;
  ImageProvider* images_;
  VideoProvider* videos_;
  WorkerOptions options_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  uint64_t notifications_ = 0;
  std::map<std::string, std::shared_ptr<Running>> running_;  // by job id
  std::vector<std::thread> threads_;
  int attempt_log_ = -1;
};

}  // namespace cf::generation

#endif  // CF_SERVICES_GENERATION_WORKER_H_
