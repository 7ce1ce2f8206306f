// The workers that run a process's jobs, for one or more queues.
//
// Per queue, threads claim due jobs (SKIP LOCKED) under a lease and run the service's handler.
// One maintenance thread, on a connection of its own (never the API's pool), heartbeats every
// running job in one statement per queue, stops a job whose lease was lost, and returns
// expired leases to the queue. A listener wakes idle workers on NOTIFY; they poll anyway.
//
// What a handler returns decides the attempt: a Completion (done), PollLater (an external job
// is still running: give the thread back, come back then), CANCELLED (the lease was lost or the
// runner stops: given back), or an error (retried with backoff while attempts remain and the
// error is retryable, else failed). Anything a handler throws is a failed attempt, never the
// end of the process. A database error while a job is held is retried, never read as a lost
// lease, so a short outage loses no work and submits no external job twice.
#ifndef CF_COMMON_JOBS_RUNNER_H_
#define CF_COMMON_JOBS_RUNNER_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/jobs/queue.h"

namespace cf::jobs {

// Failure classes. Retryable: RESOURCE_EXHAUSTED (429), UNAVAILABLE (5xx), DEADLINE_EXCEEDED,
// ABORTED and INTERNAL; anything else (bad input, a safety block) fails the job at once.
bool IsRetryable(const absl::Status& status);
// An external job that is not done yet: polled again after `after`, keeping its id, without
// using up an attempt.
absl::Status PollLater(absl::Duration after);
bool IsPollLater(const absl::Status& status);

// What a successful attempt writes: more SET SQL for the fenced completion (parameters from $3)
// and the files it made, which are removed if the completion is refused (a stale attempt).
struct Completion {
  std::string set_sql;
  SqlArgs args;
  std::vector<std::string> files;
  // Optional: what else the job made, written in the same statement as the fenced completion
  // and only when it holds (JobQueue::Complete).
  std::string then_sql;
};

// What a running job may use and tell.
class JobContext {
 public:
  virtual ~JobContext() = default;
  virtual const Lease& lease() const = 0;
  virtual void SetProgress(int percent) = 0;
  virtual void SetPhase(const std::string& phase) = 0;
  // Set when the job must stop: the lease was lost, the job was cancelled, or shutdown.
  virtual const std::atomic<bool>* cancel() const = 0;
  // Stores an external job's id before it is polled, retrying database errors. False when the
  // lease was lost or the runner stopped before it could be stored.
  virtual bool RecordExternalJob(const std::string& external_id) = 0;
  std::string OutputStem() const { return lease().OutputStem(); }
};

class JobHandler {
 public:
  virtual ~JobHandler() = default;
  virtual absl::StatusOr<Completion> Run(JobContext& context) = 0;
};

struct RunnerOptions {
  std::string worker_id;  // unique per process, e.g. host:pid
  absl::Duration lease = absl::Seconds(30);
  absl::Duration poll_interval = absl::Seconds(1);
  absl::Duration rescue_interval = absl::Seconds(5);
  absl::Duration backoff_base = absl::Seconds(2);
  absl::Duration backoff_max = absl::Minutes(5);
  // Jobs claimed at once by a worker thread (run one after another).
  int claim_batch = 1;
  // The runner's own connections (heartbeats and rescue; LISTEN). Required. They show in
  // pg_stat_activity as application_name cf-jobs-heartbeat and cf-jobs-listen unless the
  // conninfo names the application itself.
  std::string conninfo;
  bool listen = true;
  // When set, one line per claim and outcome is appended here (crash tests read it):
  // "<ms> <event> <kind> <id> <token> <attempt> <worker>".
  std::string attempt_log_path;
  // Tests only: runs on the worker thread after every claim that reached the database, before
  // the worker runs the jobs or waits for more (how tests reach the interleavings around it).
  std::function<void(const std::vector<Lease>&)> after_claim;
};

struct QueueWork {
  JobQueue* queue;
  JobHandler* handler;
  int threads = 1;
};

class JobRunner {
 public:
  JobRunner(std::vector<QueueWork> work, RunnerOptions options);
  ~JobRunner();  // Stop(absl::ZeroDuration())

  void Start();
  // Stops claiming, cancels running jobs and gives their leases back. Writes that meet a
  // database error are retried until `grace` has passed; after that the lease simply expires
  // and the rescuer returns the job.
  void Stop(absl::Duration grace = absl::Seconds(10));

  absl::Duration Backoff(int attempt, absl::Duration retry_after) const;

  // Whether Stop has begun (workers claim nothing more).
  bool stopping() const { return stopping_; }
  // NOTIFY wake-ups received so far.
  uint64_t Notifications();

 private:
  class Running;
  using RunningKey = std::tuple<int, std::string, int64_t>;  // queue, id, token

  void WorkLoop(int queue);
  void RunJob(Running& running);
  void Settle(int queue, Running& running, const absl::StatusOr<Completion>& result,
              absl::Duration took);
  static const char* OutcomeSuffix(const absl::StatusOr<bool>& held);
  // Runs a fenced write, retrying transient database errors (an outage, a busy pool): its
  // answer; the database's error when it refused the write itself; UNAVAILABLE when the
  // runner stopped past its grace first.
  absl::StatusOr<bool> Persist(const char* what, const Lease& lease,
                               const std::function<absl::StatusOr<bool>()>& write);
  void MaintenanceLoop();
  void HeartbeatAll(pqxx::connection& connection);
  void ListenLoop();
  void WaitForWork(std::optional<uint64_t> seen, absl::Duration timeout);
  bool StoppedPastGrace() const;
  void LogAttempt(const std::string& event, int queue, const Lease& lease);

  std::vector<QueueWork> work_;
  RunnerOptions options_;
  std::mutex stop_mutex_;
  std::atomic<bool> stopping_{false};              // workers claim no more
  std::atomic<bool> maintenance_stopping_{false};  // heartbeats and LISTEN end (after workers)
  std::atomic<int64_t> give_up_at_ms_{INT64_MAX};
  std::mutex mutex_;
  std::condition_variable wake_;
  uint64_t notifications_ = 0;
  std::map<RunningKey, std::shared_ptr<Running>> running_;
  std::vector<std::thread> worker_threads_;
  std::vector<std::thread> service_threads_;  // maintenance and LISTEN
  int attempt_log_ = -1;
};

}  // namespace cf::jobs

#endif  // CF_COMMON_JOBS_RUNNER_H_
