#include "common/jobs/runner.h"

#include <fcntl.h>
#include <unistd.h>

#include <random>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "common/db/conninfo.h"
#include "common/log/log.h"
#include "common/status/status.h"

namespace cf::jobs {
namespace {

constexpr char kPollLaterPayload[] = "cf.jobs/poll-later";

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

class Wakeup final : public pqxx::notification_receiver {
 public:
  Wakeup(pqxx::connection_base& connection, const std::string& channel,
         std::function<void()> on_notify)
      : pqxx::notification_receiver(connection, channel), on_notify_(std::move(on_notify)) {}
  void operator()(const std::string& /*payload*/, int /*backend_pid*/) override { on_notify_(); }

 private:
  std::function<void()> on_notify_;
};

}  // namespace

bool IsRetryable(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kInternal:
      return true;
    default:
      return false;
  }
}

absl::Status PollLater(absl::Duration after) {
  absl::Status status =
      WithRetryAfter(absl::UnavailableError("the external job is still running"), after);
  status.SetPayload(kPollLaterPayload, absl::Cord("1"));
  return status;
}

bool IsPollLater(const absl::Status& status) {
  return status.GetPayload(kPollLaterPayload).has_value();
}

// One held job: what the heartbeat reports and how the job is told to stop.
class JobRunner::Running final : public JobContext {
 public:
  Running(JobRunner* runner, int queue, Lease lease)
      : runner_(runner), queue_(queue), lease_(std::move(lease)) {}

  const Lease& lease() const override { return lease_; }
  void SetProgress(int percent) override { progress_ = percent; }
  void SetPhase(const std::string& phase) override {
    std::lock_guard<std::mutex> lock(mutex_);
    phase_ = phase;
  }
  const std::atomic<bool>* cancel() const override { return &cancel_; }
  bool RecordExternalJob(const std::string& external_id) override {
    JobQueue* queue = runner_->work_[queue_].queue;
    absl::StatusOr<bool> held = runner_->Persist("record external job", lease_, [&] {
      return queue->RecordExternalJob(lease_, external_id);
    });
    return held.ok() && *held;
  }

  Beat beat() {
    std::lock_guard<std::mutex> lock(mutex_);
    return Beat{lease_.id, lease_.token, progress_.load(), phase_};
  }
  void Stop() { cancel_ = true; }
  int queue() const { return queue_; }

 private:
  JobRunner* runner_;
  int queue_;
  Lease lease_;
  std::atomic<int> progress_{0};
  std::atomic<bool> cancel_{false};
  std::mutex mutex_;
  std::string phase_;
};

JobRunner::JobRunner(std::vector<QueueWork> work, RunnerOptions options)
    : work_(std::move(work)), options_(std::move(options)) {
  if (!options_.attempt_log_path.empty()) {
    attempt_log_ = open(options_.attempt_log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  }
}

JobRunner::~JobRunner() {
  Stop(absl::ZeroDuration());
  if (attempt_log_ >= 0) close(attempt_log_);
}

void JobRunner::Start() {
  for (int queue = 0; queue < static_cast<int>(work_.size()); ++queue) {
    for (int i = 0; i < work_[queue].threads; ++i) {
      worker_threads_.emplace_back([this, queue] { WorkLoop(queue); });
    }
  }
  service_threads_.emplace_back([this] { MaintenanceLoop(); });
  if (options_.listen) service_threads_.emplace_back([this] { ListenLoop(); });
}

void JobRunner::Stop(absl::Duration grace) {
  std::lock_guard<std::mutex> stop_lock(stop_mutex_);  // a second caller waits for the first
  if (stopping_.exchange(true)) return;
  give_up_at_ms_ = NowMs() + absl::ToInt64Milliseconds(grace);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [key, running] : running_) running->Stop();  // jobs stop; leases go back
  }
  wake_.notify_all();
  for (auto& thread : worker_threads_) {
    if (thread.joinable()) thread.join();
  }
  // Only now: the leases of jobs still settling were kept alive until they were given back.
  maintenance_stopping_ = true;
  wake_.notify_all();
  for (auto& thread : service_threads_) {
    if (thread.joinable()) thread.join();
  }
}

bool JobRunner::StoppedPastGrace() const { return stopping_ && NowMs() >= give_up_at_ms_; }

uint64_t JobRunner::Notifications() {
  std::lock_guard<std::mutex> lock(mutex_);
  return notifications_;
}

void JobRunner::WaitForWork(std::optional<uint64_t> seen, absl::Duration timeout) {
  // `seen` was read before the claim that found nothing, so a NOTIFY that arrived in between
  // ends the wait at once instead of after a full poll interval. Without it (the claim
  // failed) notifications do not shorten the wait: no busy loop while the database is down.
  std::unique_lock<std::mutex> lock(mutex_);
  wake_.wait_for(lock, std::chrono::milliseconds(absl::ToInt64Milliseconds(timeout)),
                 [&] { return stopping_.load() || (seen.has_value() && notifications_ != *seen); });
}

absl::Duration JobRunner::Backoff(int attempt, absl::Duration retry_after) const {
  absl::Duration backoff = options_.backoff_base;
  for (int i = 1; i < attempt && backoff < options_.backoff_max; ++i) backoff *= 2;
  backoff = std::min(backoff, options_.backoff_max);
  thread_local std::mt19937 random(std::random_device{}());
  // +-20% jitter so jobs failed together do not retry together.
  backoff *= std::uniform_real_distribution<double>(0.8, 1.2)(random);
  return std::max(backoff, retry_after);
}

void JobRunner::LogAttempt(const std::string& event, int queue, const Lease& lease) {
  if (attempt_log_ < 0) return;
  std::string line =
      absl::StrCat(NowMs(), " ", event, " ", work_[queue].queue->spec().kind, " ", lease.id, " ",
                   lease.token, " ", lease.attempt, " ", options_.worker_id, "\n");
  // One write() with O_APPEND: lines from concurrent workers never interleave.
  (void)!write(attempt_log_, line.data(), line.size());
}

void JobRunner::WorkLoop(int queue) {
  JobQueue* jobs = work_[queue].queue;
  while (!stopping_) {
    uint64_t seen = Notifications();
    absl::StatusOr<std::vector<Lease>> leases =
        jobs->Claim(options_.worker_id, options_.claim_batch, options_.lease);
    if (leases.ok() && options_.after_claim) options_.after_claim(*leases);
    if (!leases.ok()) {
      Log(LogLevel::kWarning, "claim failed",
          {{"kind", jobs->spec().kind}, {"error", std::string(leases.status().message())}});
      WaitForWork(std::nullopt, options_.poll_interval);
      continue;
    }
    if (leases->empty()) {
      WaitForWork(seen, options_.poll_interval);
      continue;
    }
    // Every claimed lease is registered (and so heartbeated) before the first one runs.
    std::vector<std::shared_ptr<Running>> batch;
    for (const Lease& lease : *leases) {
      LogAttempt("claim", queue, lease);
      auto running = std::make_shared<Running>(this, queue, lease);
      std::lock_guard<std::mutex> lock(mutex_);
      running_[RunningKey{queue, lease.id, lease.token}] = running;
      if (stopping_) running->Stop();  // claimed while Stop() was cancelling
      batch.push_back(std::move(running));
    }
    for (const auto& running : batch) RunJob(*running);
  }
}

void JobRunner::RunJob(Running& running) {
  const Lease& lease = running.lease();
  const int queue = running.queue();
  auto start = absl::Now();
  absl::StatusOr<Completion> result = absl::CancelledError("the runner is stopping");
  if (!running.cancel()->load()) {  // a lease still waiting its turn at Stop is only given back
    try {
      result = work_[queue].handler->Run(running);
    } catch (const std::exception& error) {
      result = absl::InternalError(absl::StrCat("the job failed unexpectedly: ", error.what()));
    } catch (...) {
      result = absl::InternalError("the job failed unexpectedly");
    }
  }
  // Still registered while settling, so heartbeats keep the lease through database retries.
  Settle(queue, running, result, absl::Now() - start);
  std::lock_guard<std::mutex> lock(mutex_);
  running_.erase(RunningKey{queue, lease.id, lease.token});
}

absl::StatusOr<bool> JobRunner::Persist(const char* what, const Lease& lease,
                                        const std::function<absl::StatusOr<bool>()>& write) {
  absl::Duration wait = absl::Milliseconds(50);
  for (;;) {
    absl::StatusOr<bool> held = write();
    if (held.ok()) return *held;
    // An outage, a busy pool, a conflict or a timeout passes; anything else would fail again.
    const absl::StatusCode code = held.status().code();
    const bool transient = code == absl::StatusCode::kUnavailable ||
                           code == absl::StatusCode::kAborted ||
                           code == absl::StatusCode::kDeadlineExceeded;
    Log(transient ? LogLevel::kWarning : LogLevel::kError,
        transient ? "job write failed; retrying" : "job write refused by the database",
        {{"write", what}, {"job", lease.id}, {"error", std::string(held.status().message())}});
    if (!transient) return held.status();
    if (StoppedPastGrace()) return absl::UnavailableError("gave up at shutdown");
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait_for(lock, std::chrono::milliseconds(absl::ToInt64Milliseconds(wait)),
                   [&] { return StoppedPastGrace(); });
    wait = std::min(wait * 2, absl::Seconds(2));
  }
}

const char* JobRunner::OutcomeSuffix(const absl::StatusOr<bool>& held) {
  // "" when written, "-rejected" when the lease was gone, "-unwritten" when the database never
  // took it (the lease then expires and the rescuer returns the job).
  if (!held.ok()) return "-unwritten";
  return *held ? "" : "-rejected";
}

void JobRunner::Settle(int queue, Running& running, const absl::StatusOr<Completion>& result,
                       absl::Duration took) {
  JobQueue* jobs = work_[queue].queue;
  const Lease& lease = running.lease();
  std::vector<LogField> fields = {{"kind", jobs->spec().kind},
                                  {"job", lease.id},
                                  {"token", static_cast<double>(lease.token)},
                                  {"attempt", lease.attempt},
                                  {"seconds", absl::ToDoubleSeconds(took)}};
  auto log = [&](const std::string& event, const absl::StatusOr<bool>& held) {
    LogAttempt(event + OutcomeSuffix(held), queue, lease);
  };
  if (result.ok()) {
    // Logged first, so a kill between the commit and the next line still shows who completed.
    LogAttempt("complete-try", queue, lease);
    absl::StatusOr<bool> accepted = Persist("complete", lease, [&] {
      return jobs->Complete(lease, result->set_sql, result->args, result->then_sql);
    });
    if (accepted.ok() && *accepted) {
      LogAttempt("complete-accepted", queue, lease);
      Log(LogLevel::kInfo, "job completed", fields);
      return;
    }
    // Refused, or refused by the database: this attempt's files are nobody's. Unanswered
    // (UNAVAILABLE) is kept: the commit may have gone through, pointing the row at them.
    if (accepted.ok() || accepted.status().code() != absl::StatusCode::kUnavailable) {
      for (const std::string& file : result->files) unlink(file.c_str());
    }
    if (accepted.ok()) {
      LogAttempt("complete-rejected", queue, lease);
      Log(LogLevel::kWarning, "job completed after losing its lease; result dropped", fields);
      return;
    }
    if (accepted.status().code() == absl::StatusCode::kUnavailable) {
      LogAttempt("complete-unwritten", queue, lease);
      Log(LogLevel::kWarning, "job completed but the database did not answer before shutdown",
          fields);
      return;
    }
    // The database refused the result itself: that is this attempt's failure.
    absl::StatusOr<bool> failed = Persist("fail", lease, [&] {
      return jobs->Fail(
          lease, absl::StrCat("the result could not be stored: ", accepted.status().message()),
          /*retryable=*/false, absl::ZeroDuration());
    });
    log("fail", failed);
    return;
  }
  const absl::Status& status = result.status();
  if (stopping_ && running.cancel()->load()) {
    // Shutdown: whatever the job answered when it was stopped, the lease goes back unspent.
    absl::StatusOr<bool> released = Persist("release", lease, [&] { return jobs->Release(lease); });
    log("release", released);
    Log(LogLevel::kInfo, "job given back at shutdown", fields);
    return;
  }
  if (status.code() == absl::StatusCode::kCancelled && running.cancel()->load()) {
    LogAttempt("lost", queue, lease);  // the heartbeat found the lease taken or cancelled
    return;
  }
  if (IsPollLater(status)) {
    // An external job still running: let go of the thread and come back on schedule.
    absl::StatusOr<bool> deferred = Persist("defer", lease, [&] {
      const Beat beat = running.beat();
      return jobs->Defer(lease, RetryAfterOf(status), beat.phase, beat.progress);
    });
    log("defer", deferred);
    return;
  }
  // A CANCELLED the job chose itself is a failed attempt like any other (and retried).
  bool retryable = IsRetryable(status) || status.code() == absl::StatusCode::kCancelled;
  absl::Duration backoff = Backoff(lease.attempt, RetryAfterOf(status));
  absl::StatusOr<bool> failed = Persist("fail", lease, [&] {
    return jobs->Fail(lease, std::string(status.message()), retryable, backoff);
  });
  log(retryable ? "fail-retry" : "fail", failed);
  fields.emplace_back("error", std::string(status.message()));
  fields.emplace_back("retryable", retryable ? "true" : "false");
  Log(LogLevel::kWarning, "job attempt failed", fields);
}

void JobRunner::HeartbeatAll(pqxx::connection& connection) {
  std::vector<std::vector<std::shared_ptr<Running>>> by_queue(work_.size());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [key, running] : running_) by_queue[running->queue()].push_back(running);
  }
  for (size_t queue = 0; queue < work_.size(); ++queue) {
    if (by_queue[queue].empty()) continue;
    std::vector<Beat> beats;
    for (const auto& running : by_queue[queue]) beats.push_back(running->beat());
    std::set<std::pair<std::string, int64_t>> held;
    try {
      held = work_[queue].queue->Heartbeat(connection, beats, options_.lease);
    } catch (const pqxx::broken_connection&) {
      throw;  // the loop reconnects
    } catch (const std::exception& error) {
      // Not a lost lease: the jobs go on and the next tick tries again.
      Log(LogLevel::kWarning, "heartbeat failed; retrying",
          {{"kind", work_[queue].queue->spec().kind}, {"error", error.what()}});
      continue;
    }
    for (const auto& running : by_queue[queue]) {
      if (held.count({running->lease().id, running->lease().token}) == 0) {
        running->Stop();  // another attempt owns it now, or it was cancelled
      }
    }
  }
}

void JobRunner::MaintenanceLoop() {
  // Often enough for progress to reach watchers, and well within the lease.
  const absl::Duration interval = std::min(options_.lease / 3, absl::Seconds(1));
  std::unique_ptr<pqxx::connection> connection;
  absl::Time next_rescue = absl::Now();
  while (!maintenance_stopping_) {
    try {
      if (connection == nullptr || !connection->is_open()) {
        connection = std::make_unique<pqxx::connection>(
            db::WithApplicationName(options_.conninfo, "cf-jobs-heartbeat"));
      }
      HeartbeatAll(*connection);
      if (absl::Now() >= next_rescue) {
        next_rescue = absl::Now() + options_.rescue_interval;
        for (const QueueWork& work : work_) {
          int rescued = work.queue->RescueExpired(*connection);
          if (rescued > 0) {
            Log(LogLevel::kInfo, "expired leases returned",
                {{"kind", work.queue->spec().kind}, {"jobs", rescued}});
          }
        }
      }
    } catch (const std::exception& error) {
      // Not a lost lease: the running jobs go on and the next tick tries again.
      Log(LogLevel::kWarning, "heartbeat failed; retrying", {{"error", error.what()}});
      connection.reset();
    }
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait_for(lock, std::chrono::milliseconds(absl::ToInt64Milliseconds(interval)),
                   [&] { return maintenance_stopping_.load(); });
  }
}

void JobRunner::ListenLoop() {
  auto notify = [this] {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++notifications_;
    }
    wake_.notify_all();
  };
  std::set<std::string> channels;
  for (const QueueWork& work : work_) channels.insert(work.queue->spec().channel);
  while (!maintenance_stopping_) {
    try {
      pqxx::connection connection(db::WithApplicationName(options_.conninfo, "cf-jobs-listen"));
      std::vector<std::unique_ptr<Wakeup>> wakeups;
      for (const std::string& channel : channels) {
        wakeups.push_back(std::make_unique<Wakeup>(connection, channel, notify));
      }
      notify();  // anything queued while not listening is claimed now
      while (!maintenance_stopping_) connection.await_notification(0, 200000);
    } catch (const std::exception& error) {
      Log(LogLevel::kWarning, "job notifications lost; polling until reconnected",
          {{"error", error.what()}});
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait_for(lock, std::chrono::seconds(1), [&] { return maintenance_stopping_.load(); });
    }
  }
}

}  // namespace cf::jobs
