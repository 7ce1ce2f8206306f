#include "services/generation/worker.h"

#include <fcntl.h>
#include <unistd.h>

#include <pqxx/pqxx>
#include <random>

#include "absl/strings/str_cat.h"
#include "common/log/log.h"
#include "common/status/status.h"

namespace cf::generation {
namespace {

constexpr char kChannel[] = "cf_generation_jobs";

class Wakeup final : public pqxx::notification_receiver {
 public:
  Wakeup(pqxx::connection_base& connection, std::function<void()> on_notify)
      : pqxx::notification_receiver(connection, kChannel), on_notify_(std::move(on_notify)) {}
  void operator()(const std::string& /*payload*/, int /*backend_pid*/) override { on_notify_(); }

 private:
  std::function<void()> on_notify_;
};

}  // namespace

JobWorkers::JobWorkers(JobStore* store, ImageProvider* images, VideoProvider* videos,
                       WorkerOptions options)
    : store_(store), images_(images), videos_(videos), options_(std::move(options)) {
  if (!options_.attempt_log_path.empty()) {
    attempt_log_ = open(options_.attempt_log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  }
}

JobWorkers::~JobWorkers() {
  Stop();
  if (attempt_log_ >= 0) close(attempt_log_);
}

void JobWorkers::Start() {
  for (int i = 0; i < options_.image_threads; ++i) {
    threads_.emplace_back([this] { WorkLoop(JobKind::kImage); });
  }
  for (int i = 0; i < options_.video_threads; ++i) {
    threads_.emplace_back([this] { WorkLoop(JobKind::kVideo); });
  }
  threads_.emplace_back([this] { HeartbeatLoop(); });
  threads_.emplace_back([this] { RescueLoop(); });
  if (!options_.notify_conninfo.empty()) threads_.emplace_back([this] { ListenLoop(); });
}

void JobWorkers::Stop() {
  if (stopping_.exchange(true)) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [id, running] : running_) running->cancel = true;  // renders stop; leases go back
  }
  wake_.notify_all();
  for (auto& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

void JobWorkers::Sleep(absl::Duration duration) {
  std::unique_lock<std::mutex> lock(mutex_);
  uint64_t seen = notifications_;
  wake_.wait_for(lock, std::chrono::milliseconds(absl::ToInt64Milliseconds(duration)),
                 [&] { return stopping_.load() || notifications_ != seen; });
}

absl::Duration JobWorkers::Backoff(int attempt, absl::Duration retry_after) const {
  absl::Duration backoff = options_.backoff_base;
  for (int i = 1; i < attempt && backoff < options_.backoff_max; ++i) backoff *= 2;
  backoff = std::min(backoff, options_.backoff_max);
  thread_local std::mt19937 random(std::random_device{}());
  // +-20% jitter so jobs failed together do not retry together.
  backoff *= std::uniform_real_distribution<double>(0.8, 1.2)(random);
  return std::max(backoff, retry_after);
}

void JobWorkers::LogAttempt(const std::string& event, const ClaimedJob& job) {
  if (attempt_log_ < 0) return;
  std::string line =
      absl::StrCat(absl::ToUnixMillis(absl::Now()), " ", event, " ", KindName(job.kind), " ",
                   job.id, " ", job.attempt, " ", options_.worker_id, "\n");
  // One write() with O_APPEND: lines from concurrent workers never interleave.
  (void)!write(attempt_log_, line.data(), line.size());
}

void JobWorkers::WorkLoop(JobKind kind) {
  while (!stopping_) {
    absl::StatusOr<std::vector<ClaimedJob>> jobs =
        store_->Claim(kind, options_.worker_id, 1, options_.lease);
    if (!jobs.ok()) {
      Log(LogLevel::kWarning, "claim failed", {{"error", std::string(jobs.status().message())}});
      Sleep(options_.poll_interval);
      continue;
    }
    if (jobs->empty()) {
      Sleep(options_.poll_interval);
      continue;
    }
    for (const ClaimedJob& job : *jobs) RunJob(job);
  }
}

void JobWorkers::RunJob(const ClaimedJob& job) {
  LogAttempt("claim", job);
  auto running = std::make_shared<Running>();
  running->kind = job.kind;
  running->id = job.id;
  running->attempt = job.attempt;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    running_[job.id] = running;
    if (stopping_) running->cancel = true;  // claimed while Stop() was cancelling
  }
  auto start = absl::Now();
  absl::StatusOr<JobResult> result = Generate(job, running.get());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    running_.erase(job.id);
  }
  Settle(job, result, absl::Now() - start);
}

absl::StatusOr<JobResult> JobWorkers::Generate(const ClaimedJob& job, Running* running) {
  ProviderCall call;
  call.progress = [running](int percent) { running->progress = percent; };
  call.cancel = &running->cancel;
  call.record_provider_job = [&](const std::string& provider_job_id) {
    absl::StatusOr<bool> held =
        store_->RecordProviderJob(job.kind, job.id, job.attempt, provider_job_id);
    return held.ok() && *held;
  };
  if (job.kind == JobKind::kImage) return images_->Generate(job, call);
  RevealImages reveal;
  if (job.type == "reveal") {
    reveal.before_url = store_->LatestImageUrl(job.dossier_id, "before").value_or("");
    reveal.after_url = store_->LatestImageUrl(job.dossier_id, "after").value_or("");
  }
  return videos_->Generate(job, reveal, call);
}

void JobWorkers::Settle(const ClaimedJob& job, const absl::StatusOr<JobResult>& result,
                        absl::Duration took) {
  std::vector<LogField> fields = {{"kind", KindName(job.kind)},
                                  {"job", job.id},
                                  {"attempt", job.attempt},
                                  {"seconds", absl::ToDoubleSeconds(took)}};
  if (result.ok()) {
    // Logged first, so a kill between the commit and the next line still shows who completed.
    LogAttempt("complete-try", job);
    absl::StatusOr<bool> accepted = store_->Complete(job.kind, job.id, job.attempt, *result);
    bool ok = accepted.ok() && *accepted;
    LogAttempt(ok ? "complete-accepted" : "complete-rejected", job);
    Log(ok ? LogLevel::kInfo : LogLevel::kWarning,
        ok ? "job completed" : "job completed after losing its lease; result dropped", fields);
    return;
  }
  const absl::Status& status = result.status();
  if (status.code() == absl::StatusCode::kCancelled) {
    if (stopping_) {
      store_->Release(job.kind, job.id, job.attempt).IgnoreError();
      LogAttempt("release", job);
      Log(LogLevel::kInfo, "job given back at shutdown", fields);
    } else {
      LogAttempt("lost", job);  // the heartbeat found the lease taken; nothing to write
    }
    return;
  }
  if (IsPollLater(status)) {
    // An external job still running: let go of the thread and come back on schedule.
    store_->Defer(job.kind, job.id, job.attempt, RetryAfterOf(status)).IgnoreError();
    LogAttempt("defer", job);
    return;
  }
  bool retryable = IsRetryable(status);
  store_
      ->Fail(job.kind, job.id, job.attempt, std::string(status.message()), retryable,
             Backoff(job.attempt, RetryAfterOf(status)))
      .IgnoreError();
  LogAttempt(retryable ? "fail-retry" : "fail", job);
  fields.emplace_back("error", std::string(status.message()));
  fields.emplace_back("retryable", retryable ? "true" : "false");
  Log(LogLevel::kWarning, "job attempt failed", fields);
}

void JobWorkers::HeartbeatLoop() {
  // Often enough for progress to reach watchers, and well within the lease.
  absl::Duration interval = std::min(options_.lease / 3, absl::Seconds(1));
  while (!stopping_) {
    std::vector<std::shared_ptr<Running>> running;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait_for(lock, std::chrono::milliseconds(absl::ToInt64Milliseconds(interval)),
                     [&] { return stopping_.load(); });
      for (auto& [id, job] : running_) running.push_back(job);
    }
    for (const auto& job : running) {
      absl::StatusOr<bool> held =
          store_->Heartbeat(job->kind, job->id, job->attempt, job->progress, options_.lease);
      if (held.ok() && !*held) job->cancel = true;  // another attempt owns it now
    }
  }
}

void JobWorkers::RescueLoop() {
  while (!stopping_) {
    for (JobKind kind : {JobKind::kImage, JobKind::kVideo}) {
      absl::StatusOr<int> rescued = store_->RescueExpired(kind);
      if (rescued.ok() && *rescued > 0) {
        Log(LogLevel::kInfo, "expired leases returned",
            {{"kind", KindName(kind)}, {"jobs", *rescued}});
      }
    }
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait_for(lock,
                   std::chrono::milliseconds(absl::ToInt64Milliseconds(options_.rescue_interval)),
                   [&] { return stopping_.load(); });
  }
}

void JobWorkers::ListenLoop() {
  auto notify = [this] {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++notifications_;
    }
    wake_.notify_all();
  };
  while (!stopping_) {
    try {
      pqxx::connection connection(options_.notify_conninfo);
      Wakeup wakeup(connection, notify);
      while (!stopping_) connection.await_notification(0, 200000);
    } catch (const std::exception& error) {
      Log(LogLevel::kWarning, "job notifications lost; polling until reconnected",
          {{"error", error.what()}});
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait_for(lock, std::chrono::seconds(2), [&] { return stopping_.load(); });
    }
  }
}

}  // namespace cf::generation
