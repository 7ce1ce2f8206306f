// The runner against a real PostgreSQL: leases given back at stop, NOTIFY wake-ups, backoff,
// and the defects a queue must not have: a throwing job ending the process, a re-claim in the
// same process losing its heartbeats, a stale attempt's file becoming the row's file, a
// database error read as a lost lease, and leases expiring while the API pool is busy.
#include "common/jobs/runner.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <functional>
#include <thread>

#include "common/db/conninfo.h"
#include "common/jobs/test_table.h"
#include "common/testing/postgres.h"
#include "common/testing/subprocess.h"
#include "gtest/gtest.h"

namespace cf::jobs {
namespace {

// Runs whatever the test says.
class LambdaHandler final : public JobHandler {
 public:
  std::function<absl::StatusOr<Completion>(JobContext&)> run;
  absl::StatusOr<Completion> Run(JobContext& context) override { return run(context); }
};

bool Exists(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0;
}

class RunnerTest : public JobTableTest {
 protected:
  RunnerOptions Options() {
    RunnerOptions options;
    options.worker_id = "test";
    options.poll_interval = absl::Milliseconds(20);
    options.lease = absl::Seconds(2);
    options.rescue_interval = absl::Seconds(1);
    options.backoff_base = absl::Milliseconds(10);
    options.conninfo = database_.OwnerConninfo();
    return options;
  }

  // A file named for the attempt, as a render would write it.
  static std::string WriteOutput(JobContext& context) {
    std::string path = cf::testing::TestTempPath(context.OutputStem() + ".out");
    std::ofstream(path) << context.OutputStem();
    return path;
  }
  static Completion Output(const std::string& path) {
    return Completion{"output = $3", {path}, {path}};
  }

  db::ConnectionPool pool_{db::WithApplicationName(database_.OwnerConninfo(), "api_pool"), 2};
  JobQueue queue_{&pool_, TestSpec()};
  LambdaHandler handler_;
};

TEST_F(RunnerTest, StopGivesRunningJobsBackWithoutSpendingAnAttempt) {
  Insert();
  std::atomic<int> started{0};
  handler_.run = [&](JobContext& context) -> absl::StatusOr<Completion> {
    ++started;
    while (!context.cancel()->load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return absl::CancelledError("stopped");
  };
  JobRunner runner({{&queue_, &handler_, 1}}, Options());
  runner.Start();
  ASSERT_TRUE(testing::WaitUntil([&] { return started == 1; }));
  EXPECT_EQ(Column("status"), "working");
  runner.Stop();
  EXPECT_EQ(Column("status"), "waiting");
  EXPECT_EQ(Column("attempts"), "0");
}

TEST_F(RunnerTest, NotifyWakesAnIdleWorkerBeforeItsPoll) {
  handler_.run = [&](JobContext& context) -> absl::StatusOr<Completion> {
    return Output(WriteOutput(context));
  };
  RunnerOptions options = Options();
  options.poll_interval = absl::Minutes(1);  // only the notification can wake it in time
  std::atomic<int> empty_claims{0};
  options.after_claim = [&](const std::vector<Lease>& leases) {
    if (leases.empty()) ++empty_claims;
  };
  JobRunner runner({{&queue_, &handler_, 1}}, options);
  runner.Start();
  ASSERT_TRUE(testing::WaitUntil([&] {
    return Sql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'")[0][0].as<int>() >
           0;
  }));
  // Once it found the queue empty the worker waits (a minute, unless notified).
  ASSERT_TRUE(testing::WaitUntil([&] { return empty_claims > 0; }));
  Insert();
  EXPECT_TRUE(
      testing::WaitUntil([&] { return Column("status") == "finished"; }, std::chrono::seconds(20)));
}

TEST_F(RunnerTest, BackoffDoublesIsCappedAndHonoursRetryAfter) {
  RunnerOptions options = Options();
  options.backoff_base = absl::Seconds(2);
  options.backoff_max = absl::Seconds(30);
  JobRunner runner({{&queue_, &handler_, 1}}, options);
  auto within = [](absl::Duration value, absl::Duration centre) {
    return value >= centre * 0.8 && value <= centre * 1.2;
  };
  EXPECT_TRUE(within(runner.Backoff(1, absl::ZeroDuration()), absl::Seconds(2)));
  EXPECT_TRUE(within(runner.Backoff(3, absl::ZeroDuration()), absl::Seconds(8)));
  EXPECT_TRUE(within(runner.Backoff(10, absl::ZeroDuration()), absl::Seconds(30)));
  EXPECT_EQ(runner.Backoff(1, absl::Seconds(90)), absl::Seconds(90));
}

TEST_F(RunnerTest, AThrowingJobFailsItsAttemptAndTheRunnerGoesOn) {
  const std::string throwing = Insert();
  Sql("UPDATE test_jobs SET max_attempts = 1");
  handler_.run = [&](JobContext& context) -> absl::StatusOr<Completion> {
    if (context.lease().id == throwing) {
      throw std::runtime_error("[json.exception.type_error.302] type must be string");
    }
    return Output(WriteOutput(context));
  };
  JobRunner runner({{&queue_, &handler_, 1}}, Options());
  runner.Start();
  ASSERT_TRUE(testing::WaitUntil([&] { return Column("status") == "broken"; }));
  EXPECT_NE(Column("last_error").find("type must be string"), std::string::npos);
  Sql("INSERT INTO test_jobs DEFAULT VALUES");  // the same runner takes the next job
  EXPECT_TRUE(testing::WaitUntil([&] {
    return Sql("SELECT count(*) FROM test_jobs WHERE status = 'finished'")[0][0].as<int>() == 1;
  }));
}

// A job rescued and claimed again in the same process: the stalled first attempt must neither
// take the second's heartbeats with it nor leave its file as the row's.
TEST_F(RunnerTest, AReclaimKeepsItsHeartbeatsAndTheStaleFileIsNeverTheRows) {
  Insert();
  std::atomic<bool> release_first{false}, release_second{false};
  std::atomic<int64_t> first_token{0}, second_token{0};
  std::string first_file;
  handler_.run = [&](JobContext& context) -> absl::StatusOr<Completion> {
    bool first = first_token == 0;
    std::string path = WriteOutput(context);
    if (first) first_file = path;  // before the token is published: the test reads it then
    (first ? first_token : second_token) = context.lease().token;
    // A stalled attempt: it ignores the cancel until told to go on.
    std::atomic<bool>& release = first ? release_first : release_second;
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return Output(path);
  };
  JobRunner runner({{&queue_, &handler_, 2}}, Options());
  runner.Start();
  ASSERT_TRUE(testing::WaitUntil([&] { return first_token != 0; }));
  // The rescuer's effect, as if the first attempt's lease had run out.
  Sql("UPDATE test_jobs SET job_state = 'queued', status = 'waiting', next_attempt_at = NOW()");
  ASSERT_TRUE(testing::WaitUntil([&] { return second_token != 0; }));
  release_first = true;  // the stale attempt finishes: refused, and its file removed
  ASSERT_TRUE(testing::WaitUntil([&] { return !Exists(first_file); }));
  // Three leases' worth of time: the second attempt's lease must still be kept alive.
  absl::Time until = absl::Now() + absl::Seconds(6);
  while (absl::Now() < until) {
    EXPECT_EQ(Column("lease_token"), std::to_string(second_token.load()));
    EXPECT_EQ(Column("status"), "working");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  release_second = true;
  ASSERT_TRUE(testing::WaitUntil([&] { return Column("status") == "finished"; }));
  std::string output = Column("output");
  EXPECT_NE(output.find(std::to_string(second_token.load())), std::string::npos) << output;
  EXPECT_TRUE(Exists(output));
  EXPECT_EQ(Column("attempts"), "2");
}

TEST_F(RunnerTest, ADatabaseErrorWhileHeldIsNotALostLease) {
  Insert();
  std::atomic<bool> recorded{false};
  handler_.run = [&](JobContext& context) -> absl::StatusOr<Completion> {
    // Every API-pool connection dies under the job, twice: before it records its external
    // job and before it completes.
    Sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = 'api_pool'");
    recorded = context.RecordExternalJob("op-42");
    Sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = 'api_pool'");
    return Output(WriteOutput(context));
  };
  JobRunner runner({{&queue_, &handler_, 1}}, Options());
  runner.Start();
  ASSERT_TRUE(testing::WaitUntil([&] { return Column("status") == "finished"; }));
  EXPECT_TRUE(recorded);
  EXPECT_EQ(Column("external_id"), "op-42");
  EXPECT_EQ(Column("attempts"), "1");
  EXPECT_TRUE(Exists(Column("output")));
}

TEST_F(RunnerTest, NoLeaseExpiresWhileTheApiPoolIsSaturated) {
  Insert();
  std::atomic<bool> started{false}, release{false};
  handler_.run = [&](JobContext& context) -> absl::StatusOr<Completion> {
    started = true;
    while (!release) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return Output(WriteOutput(context));
  };
  JobRunner runner({{&queue_, &handler_, 1}}, Options());
  runner.Start();
  ASSERT_TRUE(testing::WaitUntil([&] { return started.load(); }));
  std::string token = Column("lease_token");
  // The API holds every pooled connection for three leases' time.
  std::atomic<bool> saturated{false};
  std::vector<std::thread> holders;
  for (int i = 0; i < pool_.size(); ++i) {
    holders.emplace_back([&] {
      pool_
          .WithConnection([&](pqxx::connection&) {
            saturated = true;
            std::this_thread::sleep_for(std::chrono::seconds(6));
            return absl::OkStatus();
          })
          .IgnoreError();
    });
  }
  ASSERT_TRUE(testing::WaitUntil([&] { return saturated.load(); }));
  absl::Time until = absl::Now() + absl::Seconds(5);
  while (absl::Now() < until) {
    EXPECT_EQ(Column("lease_token"), token);
    EXPECT_EQ(Column("status"), "working");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  release = true;
  for (auto& holder : holders) holder.join();
  ASSERT_TRUE(testing::WaitUntil([&] { return Column("status") == "finished"; }));
  EXPECT_EQ(Column("attempts"), "1");
}

TEST_F(RunnerTest, StopGivesBackAJobThatOutlivesItsLeaseWhateverItAnswers) {
  Insert();
  std::atomic<bool> started{false};
  handler_.run = [&](JobContext& context) -> absl::StatusOr<Completion> {
    started = true;
    while (!context.cancel()->load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    // Slow to stop (longer than the 2 s lease), and then not even CANCELLED.
    std::this_thread::sleep_for(std::chrono::seconds(3));
    return absl::DeadlineExceededError("ffmpeg was killed");
  };
  JobRunner runner({{&queue_, &handler_, 1}}, Options());
  runner.Start();
  ASSERT_TRUE(testing::WaitUntil([&] { return started.load(); }));
  runner.Stop(absl::Seconds(20));
  EXPECT_EQ(Column("status"), "waiting");
  EXPECT_EQ(Column("attempts"), "0");
  EXPECT_EQ(Column("last_error"), "");
}

TEST_F(RunnerTest, ACancelledAnswerWithoutACancelIsAFailedAttempt) {
  Insert();
  handler_.run = [&](JobContext&) -> absl::StatusOr<Completion> {
    return absl::CancelledError("the provider dropped the call");
  };
  JobRunner runner({{&queue_, &handler_, 1}}, Options());
  runner.Start();
  ASSERT_TRUE(testing::WaitUntil([&] { return Column("status") == "broken"; }));
  EXPECT_EQ(Column("attempts"), "3");
  EXPECT_NE(Column("last_error").find("dropped"), std::string::npos);
}

TEST_F(RunnerTest, ABatchIsHeartbeatedWhileItWaitsItsTurn) {
  for (int i = 0; i < 3; ++i) Insert();
  std::atomic<int> runs{0};
  handler_.run = [&](JobContext& context) -> absl::StatusOr<Completion> {
    ++runs;
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // longer than the lease
    return Output(WriteOutput(context));
  };
  RunnerOptions options = Options();
  options.claim_batch = 3;
  JobRunner runner({{&queue_, &handler_, 1}}, options);
  runner.Start();
  ASSERT_TRUE(testing::WaitUntil([&] {
    return Sql("SELECT count(*) FROM test_jobs WHERE status = 'finished'")[0][0].as<int>() == 3;
  }));
  EXPECT_EQ(runs.load(), 3);  // none expired and ran twice
  EXPECT_EQ(Sql("SELECT max(attempts) FROM test_jobs")[0][0].as<int>(), 1);
}

// A NOTIFY that lands after a claim found nothing, but before the worker starts to wait, ends
// the wait at once: it is not left for the next poll (a minute here).
TEST_F(RunnerTest, ANotifyBetweenAnEmptyClaimAndTheWaitIsNotMissed) {
  handler_.run = [&](JobContext& context) -> absl::StatusOr<Completion> {
    return Output(WriteOutput(context));
  };
  RunnerOptions options = Options();
  options.poll_interval = absl::Minutes(1);
  std::atomic<bool> inserted{false};
  JobRunner* runner_of_hook = nullptr;
  auto listening = [&] {
    return Sql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'cf-jobs-listen' "
               "AND query LIKE 'LISTEN%'")[0][0]
               .as<int>() > 0;
  };
  // The first empty claim once the listener listens (the listener wakes the worker when it
  // starts to listen) inserts the job.
  options.after_claim = [&](const std::vector<Lease>& leases) {
    if (!leases.empty() || inserted || !listening()) return;
    const uint64_t before = runner_of_hook->Notifications();
    Insert();  // its NOTIFY arrives while this worker is between its claim and its wait
    inserted = true;
    EXPECT_TRUE(testing::WaitUntil([&] { return runner_of_hook->Notifications() > before; }));
  };
  JobRunner runner({{&queue_, &handler_, 1}}, options);
  runner_of_hook = &runner;
  runner.Start();
  ASSERT_TRUE(testing::WaitUntil([&] { return inserted.load(); }, std::chrono::seconds(30)));
  EXPECT_TRUE(
      testing::WaitUntil([&] { return Column("status") == "finished"; }, std::chrono::seconds(30)));
}

// Stop arrives while a worker's claim is on its way: the job it brings back is given back at
// once, unrun and with its attempt unspent, instead of running or waiting out its lease.
TEST_F(RunnerTest, AJobClaimedWhileStoppingIsGivenBackUnrun) {
  Insert();
  std::atomic<int> runs{0};
  handler_.run = [&](JobContext& context) -> absl::StatusOr<Completion> {
    ++runs;
    return Output(WriteOutput(context));
  };
  RunnerOptions options = Options();
  std::atomic<bool> stop_seen{false};
  JobRunner* runner_of_hook = nullptr;
  options.after_claim = [&](const std::vector<Lease>& leases) {
    if (leases.empty()) return;
    // Hold the claimed job here until Stop has begun.
    stop_seen = testing::WaitUntil([&] { return runner_of_hook->stopping(); });
  };
  JobRunner runner({{&queue_, &handler_, 1}}, options);
  runner_of_hook = &runner;
  runner.Start();
  ASSERT_TRUE(testing::WaitUntil([&] { return Column("status") == "working"; }));
  runner.Stop();
  EXPECT_TRUE(stop_seen);
  EXPECT_EQ(runs.load(), 0);
  EXPECT_EQ(Column("status"), "waiting");
  EXPECT_EQ(Column("attempts"), "0");
  EXPECT_EQ(Column("lease_owner"), "");
}

// The heartbeat connection is killed again and again while a job runs for three leases' time:
// it comes back each time before the lease runs out, so the job keeps its first attempt.
TEST_F(RunnerTest, AKilledHeartbeatConnectionReconnectsBeforeTheLeaseRunsOut) {
  Insert();
  std::atomic<bool> started{false}, release{false};
  handler_.run = [&](JobContext& context) -> absl::StatusOr<Completion> {
    started = true;
    while (!release && !context.cancel()->load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!release) return absl::CancelledError("lost the lease");
    return Output(WriteOutput(context));
  };
  JobRunner runner({{&queue_, &handler_, 1}}, Options());
  runner.Start();
  ASSERT_TRUE(testing::WaitUntil([&] { return started.load(); }));
  const std::string token = Column("lease_token");
  auto heartbeat_backend = [&] {
    pqxx::result rows = Sql(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'cf-jobs-heartbeat' LIMIT 1");
    return rows.empty() ? 0 : rows[0][0].as<int>();
  };
  int kills = 0;
  absl::Time until = absl::Now() + absl::Seconds(6);  // three 2 s leases
  while (absl::Now() < until) {
    int pid = 0;
    ASSERT_TRUE(testing::WaitUntil([&] { return (pid = heartbeat_backend()) != 0; }));
    Sql("SELECT pg_terminate_backend(" + std::to_string(pid) + ")");
    ++kills;
    // Its replacement, a new backend.
    ASSERT_TRUE(testing::WaitUntil([&] {
      int now = heartbeat_backend();
      return now != 0 && now != pid;
    }));
    EXPECT_EQ(Column("lease_token"), token);
    EXPECT_EQ(Column("status"), "working");
  }
  EXPECT_GE(kills, 3);
  release = true;
  ASSERT_TRUE(testing::WaitUntil([&] { return Column("status") == "finished"; }));
  EXPECT_EQ(Column("attempts"), "1");
  EXPECT_EQ(Column("lease_token"), token);
}

// A completion the database never answered before the grace ran out may still have committed:
// its file stays (at worst a stray file), where a refused one's is deleted.
TEST_F(RunnerTest, AnUnansweredCompletionKeepsItsFile) {
  Insert();
  std::atomic<bool> started{false}, go{false};
  std::string path;
  handler_.run = [&](JobContext& context) -> absl::StatusOr<Completion> {
    path = WriteOutput(context);
    started = true;
    while (!go && !context.cancel()->load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return Output(path);
  };
  JobRunner runner({{&queue_, &handler_, 1}}, Options());
  runner.Start();
  ASSERT_TRUE(testing::WaitUntil([&] { return started.load(); }));
  // The database stops taking connections, and the pool's are cut (from the server's admin
  // database: a session cannot close its own database).
  pqxx::connection admin(testing::AdminConninfo());
  pqxx::nontransaction txn(admin);
  txn.exec("ALTER DATABASE \"" + database_.name() + "\" ALLOW_CONNECTIONS false");
  txn.exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = "
      "'api_pool'");
  go = true;
  runner.Stop(absl::Seconds(1));
  txn.exec("ALTER DATABASE \"" + database_.name() + "\" ALLOW_CONNECTIONS true");
  EXPECT_TRUE(Exists(path)) << path;
  EXPECT_EQ(Column("status"), "working");  // never written: the lease will expire
}

}  // namespace
}  // namespace cf::jobs
