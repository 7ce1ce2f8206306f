// The queue's statements against a real PostgreSQL: fencing on a token that never repeats,
// the status hook, backoff, release, defer, rescue, cancel and re-queue.
#include "common/jobs/queue.h"

#include "common/jobs/test_table.h"
#include "common/testing/postgres.h"
#include "gtest/gtest.h"

namespace cf::jobs {
namespace {

class QueueTest : public JobTableTest {
 protected:
  Lease ClaimOne() {
    auto leases = queue_.Claim("w", 1, absl::Seconds(30));
    EXPECT_TRUE(leases.ok() && leases->size() == 1u);
    return leases.ok() && !leases->empty() ? leases->front() : Lease();
  }
  void Expire() { Sql("UPDATE test_jobs SET lease_expires_at = NOW() - interval '1 second'"); }

  db::ConnectionPool pool_{database_.OwnerConninfo(), 3};
  JobQueue queue_{&pool_, TestSpec()};
};

TEST_F(QueueTest, ClaimSetsTheServiceStatusAndANewToken) {
  Insert();
  Lease first = ClaimOne();
  EXPECT_EQ(first.attempt, 1);
  EXPECT_GT(first.token, 0);
  EXPECT_EQ(Column("status"), "working");
  EXPECT_EQ(Column("job_state"), "running");
  EXPECT_TRUE(queue_.Claim("w", 1, absl::Seconds(30))->empty());
  ASSERT_TRUE(queue_.Release(first).value());
  EXPECT_EQ(Column("status"), "waiting");
  EXPECT_EQ(Column("attempts"), "0");
  Lease second = ClaimOne();
  EXPECT_EQ(second.attempt, 1);          // the release gave the attempt back...
  EXPECT_GT(second.token, first.token);  // ...but never the token
  EXPECT_FALSE(queue_.Complete(first, "", {}).value());
  EXPECT_TRUE(queue_.Complete(second, "output = $3", {"out.bin"}).value());
  EXPECT_EQ(Column("status"), "finished");
  EXPECT_EQ(Column("output"), "out.bin");
  EXPECT_EQ(Column("progress"), "100");
}

TEST_F(QueueTest, AStaleWorkerCannotCompleteAfterRetry) {
  std::string id = Insert();
  Lease stale = ClaimOne();
  ASSERT_TRUE(queue_.Fail(stale, "refused", /*retryable=*/false, absl::ZeroDuration()).value());
  EXPECT_EQ(Column("status"), "broken");
  ASSERT_TRUE(queue_.Requeue(id, {JobState::kFailed}, "", "only failed").ok());
  EXPECT_EQ(Column("attempts"), "0");
  Lease fresh = ClaimOne();
  ASSERT_EQ(fresh.attempt, stale.attempt);  // the old token (the attempt) would match here
  pqxx::connection beats(database_.OwnerConninfo());
  EXPECT_TRUE(queue_.Heartbeat(beats, {{id, stale.token, 50, ""}}, absl::Seconds(30)).empty());
  EXPECT_FALSE(queue_.Complete(stale, "output = $3", {"stale"}).value());
  EXPECT_FALSE(queue_.Fail(stale, "late", true, absl::ZeroDuration()).value());
  EXPECT_FALSE(queue_.RecordExternalJob(stale, "op-stale").value());
  EXPECT_EQ(queue_.Heartbeat(beats, {{id, fresh.token, 50, "rendering"}}, absl::Seconds(30)).size(),
            1u);
  EXPECT_EQ(Column("phase"), "rendering");
  EXPECT_TRUE(queue_.Complete(fresh, "output = $3", {"fresh"}).value());
  EXPECT_EQ(Column("output"), "fresh");
}

TEST_F(QueueTest, ReleaseIsFencedAndACompletionRetriedAfterALostAnswerIsItsOwn) {
  Insert();
  Lease stale = ClaimOne();
  Sql("UPDATE test_jobs SET job_state = 'queued', status = 'waiting'");  // rescued
  Lease fresh = ClaimOne();
  EXPECT_FALSE(queue_.Release(stale).value());
  EXPECT_EQ(Column("lease_token"), std::to_string(fresh.token));
  ASSERT_TRUE(queue_.Complete(fresh, "output = $3", {"fresh"}).value());
  // The commit's answer was lost and the worker writes again: still its own completion.
  EXPECT_TRUE(queue_.Complete(fresh, "output = $3", {"fresh"}).value());
  EXPECT_FALSE(queue_.Complete(stale, "output = $3", {"stale"}).value());
  EXPECT_EQ(Column("output"), "fresh");
}

TEST_F(QueueTest, AStaleWorkerCannotCompleteAfterDefer) {
  Insert();
  Lease stale = ClaimOne();
  ASSERT_TRUE(queue_.RecordExternalJob(stale, "op-1").value());
  ASSERT_TRUE(queue_.Defer(stale, absl::ZeroDuration(), "processing", 40).value());
  EXPECT_EQ(Column("attempts"), "0");
  // Where it waits shows while it waits.
  EXPECT_EQ(Column("phase"), "processing");
  EXPECT_EQ(Column("progress"), "40");
  Lease fresh = ClaimOne();
  ASSERT_EQ(fresh.attempt, stale.attempt);
  EXPECT_EQ(fresh.external_job_id, "op-1");  // polled again, never resubmitted
  EXPECT_FALSE(queue_.Complete(stale, "output = $3", {"stale"}).value());
  EXPECT_FALSE(queue_.Defer(stale, absl::ZeroDuration()).value());
  EXPECT_TRUE(queue_.Complete(fresh, "output = $3", {"fresh"}).value());
  EXPECT_EQ(Column("output"), "fresh");
}

TEST_F(QueueTest, FailuresBackOffThenFailAndRescueCountsAttempts) {
  std::string id = Insert();
  Lease lease = ClaimOne();
  ASSERT_TRUE(queue_.Fail(lease, "429", true, absl::Hours(1)).value());
  EXPECT_EQ(Column("status"), "waiting");
  EXPECT_TRUE(queue_.Claim("w", 1, absl::Seconds(30))->empty());  // backing off
  Sql("UPDATE test_jobs SET next_attempt_at = NOW()");
  ClaimOne();
  Expire();
  pqxx::connection connection(database_.OwnerConninfo());
  EXPECT_EQ(queue_.RescueExpired(connection), 1);
  EXPECT_EQ(Column("status"), "waiting");
  ClaimOne();
  Expire();
  EXPECT_EQ(queue_.RescueExpired(connection), 1);
  EXPECT_EQ(Column("status"), "broken");  // three attempts used
  EXPECT_NE(Column("last_error").find("lease expired"), std::string::npos);
  absl::Status cancel = queue_.Cancel(id);
  EXPECT_EQ(cancel.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(cancel.message().find("is broken"), absl::string_view::npos) << cancel;
}

TEST_F(QueueTest, ACrashWhileHoldingAnExternalJobSpendsNoAttemptUntilTheDeadline) {
  QueueSpec spec = TestSpec();
  spec.external_deadline_sql = "next_attempt_at + interval '1 hour'";
  spec.external_deadline_error = "held past its deadline: the external job may have finished";
  JobQueue keeping(&pool_, spec);
  Insert();
  Insert();  // a job that never records an external id: crashes count as always
  pqxx::connection connection(database_.OwnerConninfo());
  auto claim_all = [&] {
    auto leases = keeping.Claim("w", 2, absl::Seconds(30));
    EXPECT_TRUE(leases.ok() && leases->size() == 2u);
    return leases.ok() ? *leases : std::vector<Lease>();
  };
  std::vector<Lease> first = claim_all();
  ASSERT_EQ(first.size(), 2u);
  ASSERT_TRUE(keeping.RecordExternalJob(first[0], "op-1").value());
  // Killed again and again, more often than max_attempts (3): the holder stays queued with its
  // attempts unspent, while the other job fails at its third crash.
  for (int crash = 0; crash < 5; ++crash) {
    Expire();
    EXPECT_GE(keeping.RescueExpired(connection), 1);
    auto leases = keeping.Claim("w", 2, absl::Seconds(30));
    ASSERT_TRUE(leases.ok());
    if (crash >= 2) {
      ASSERT_EQ(leases->size(), 1u);
    }
  }
  EXPECT_EQ(Sql("SELECT status, attempts, external_id FROM test_jobs WHERE external_id IS NOT "
                "NULL")[0][1]
                .as<int>(),
            1);
  EXPECT_EQ(Sql("SELECT status FROM test_jobs WHERE external_id IS NULL")[0][0].as<std::string>(),
            "broken");
  // Past its deadline, the next crash fails it with the spec's reason, keeping the external id.
  Sql("UPDATE test_jobs SET next_attempt_at = NOW() - interval '2 hours' WHERE external_id IS "
      "NOT NULL");
  Expire();
  EXPECT_EQ(keeping.RescueExpired(connection), 1);
  pqxx::result held =
      Sql("SELECT status, last_error, external_id FROM test_jobs WHERE external_id IS NOT NULL");
  EXPECT_EQ(held[0][0].as<std::string>(), "broken");
  EXPECT_EQ(held[0][1].as<std::string>(), spec.external_deadline_error);
  EXPECT_EQ(held[0][2].as<std::string>(), "op-1");
}

// A job that ends failed while holding its external id says so, whoever failed it; a failed
// holder is settled by its external id only (completed, or its id replaced or let go).
TEST_F(QueueTest, AFailedHolderSaysSoAndIsSettledByItsExternalId) {
  QueueSpec spec = TestSpec();
  spec.external_deadline_sql = "next_attempt_at + interval '1 hour'";
  spec.external_failure_prefix = "live outside, not recorded";
  JobQueue keeping(&pool_, spec);
  const std::string holder = Insert();
  const std::string plain = Insert();
  std::vector<Lease> leases = keeping.Claim("w", 2, absl::Seconds(30)).value();
  ASSERT_EQ(leases.size(), 2u);
  const Lease& a = leases[0].id == holder ? leases[0] : leases[1];
  const Lease& b = leases[0].id == holder ? leases[1] : leases[0];
  ASSERT_TRUE(keeping.RecordExternalJob(a, "op-7").value());
  ASSERT_TRUE(keeping.Fail(a, "refused", false, absl::ZeroDuration()).value());
  ASSERT_TRUE(keeping.Fail(b, "refused", false, absl::ZeroDuration()).value());
  auto error_of = [&](const std::string& id) {
    return Sql("SELECT last_error FROM test_jobs WHERE id = '" + id + "'")[0][0].as<std::string>();
  };
  EXPECT_EQ(error_of(holder), "live outside, not recorded: refused");
  EXPECT_EQ(error_of(plain), "refused");
  // Not said twice.
  Sql("UPDATE test_jobs SET job_state = 'queued', status = 'waiting' WHERE id = '" + holder + "'");
  Lease again = keeping.Claim("w", 1, absl::Seconds(30))->at(0);
  ASSERT_TRUE(keeping.Fail(again, "live outside, not recorded: gone", false, {}).value());
  EXPECT_EQ(error_of(holder), "live outside, not recorded: gone");

  EXPECT_FALSE(keeping.ReplaceExternalJob(holder, "op-other", "op-8", "").value());
  EXPECT_TRUE(keeping.ReplaceExternalJob(holder, "op-7", "op-8", "").value());
  EXPECT_EQ(error_of(holder), "live outside, not recorded: gone");  // kept
  EXPECT_FALSE(keeping.CompleteFailed(holder, "op-7", "output = $3", {"late"}).value());
  EXPECT_TRUE(keeping.CompleteFailed(holder, "op-8", "output = $3", {"found"}).value());
  EXPECT_EQ(Sql("SELECT status, output, last_error IS NULL FROM test_jobs WHERE id = '" + holder +
                "'")[0][1]
                .as<std::string>(),
            "found");
  EXPECT_FALSE(keeping.ReplaceExternalJob(holder, "op-8", "", "gone").value());  // done now
  EXPECT_FALSE(keeping.ReplaceExternalJob(plain, "", "", "nothing").value());
}

TEST_F(QueueTest, WithoutADeadlineACrashWhileHoldingAnExternalJobSpendsTheAttempt) {
  Insert();
  pqxx::connection connection(database_.OwnerConninfo());
  ASSERT_TRUE(queue_.RecordExternalJob(ClaimOne(), "op-1").value());
  for (int crash = 0; crash < 2; ++crash) {
    Expire();
    ASSERT_EQ(queue_.RescueExpired(connection), 1);
    ClaimOne();
  }
  Expire();
  ASSERT_EQ(queue_.RescueExpired(connection), 1);
  EXPECT_EQ(Column("status"), "broken");
  EXPECT_EQ(Column("external_id"), "op-1");
}

TEST_F(QueueTest, ARescuedOrReleasedJobKeepsItsPlaceInTheQueue) {
  std::string first = Insert();
  Sql("UPDATE test_jobs SET next_attempt_at = NOW() - interval '1 minute'");
  for (int i = 0; i < 3; ++i) Insert();  // queued after it
  Lease lease = ClaimOne();
  ASSERT_EQ(lease.id, first);
  Expire();
  pqxx::connection connection(database_.OwnerConninfo());
  ASSERT_EQ(queue_.RescueExpired(connection), 1);
  Lease again = ClaimOne();
  EXPECT_EQ(again.id, first);  // not behind the three queued since
  ASSERT_TRUE(queue_.Release(again).value());
  EXPECT_EQ(ClaimOne().id, first);
}

TEST_F(QueueTest, CancelStopsQueuedAndRunningJobs) {
  std::string queued = Insert();
  ASSERT_TRUE(queue_.Cancel(queued).ok());
  EXPECT_EQ(Column("status"), "dropped");
  Sql("DELETE FROM test_jobs");
  std::string running = Insert();
  Lease lease = ClaimOne();
  ASSERT_TRUE(queue_.Cancel(running).ok());
  EXPECT_FALSE(queue_.Complete(lease, "", {}).value());
  EXPECT_EQ(Column("status"), "dropped");
  EXPECT_EQ(queue_.Cancel("00000000-0000-0000-0000-000000000001").code(),
            absl::StatusCode::kNotFound);
}

TEST_F(QueueTest, AFinishedJobCanBeQueuedAgain) {
  std::string id = Insert();
  Lease first = ClaimOne();
  ASSERT_TRUE(queue_.Complete(first, "output = $3", {"v1"}).value());
  ASSERT_TRUE(queue_.Requeue(id, {JobState::kDone}, "", "only a finished job").ok());
  EXPECT_EQ(Column("output"), "v1");  // kept until the new attempt completes
  Lease second = ClaimOne();
  EXPECT_GT(second.token, first.token);
  ASSERT_TRUE(queue_.Complete(second, "output = $3", {"v2"}).value());
  EXPECT_EQ(Column("output"), "v2");
}

// A row that never had a job (a draft: job_state NULL) is queued only when asked from kNone.
TEST_F(QueueTest, ARowWithoutAJobCanBeQueued) {
  Sql("ALTER TABLE test_jobs ALTER COLUMN job_state DROP NOT NULL, "
      "ALTER COLUMN job_state DROP DEFAULT");
  std::string id = Sql("INSERT INTO test_jobs (status) VALUES ('draft') RETURNING id::text")[0][0]
                       .as<std::string>();
  EXPECT_TRUE(queue_.Claim("w", 1, absl::Seconds(30)).value().empty());  // nothing to run
  absl::Status refused = queue_.Requeue(id, {JobState::kDone}, "", "only a finished job");
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("draft"), std::string::npos) << refused;
  ASSERT_TRUE(queue_.Requeue(id, {JobState::kNone, JobState::kDone}, "", "a draft").ok());
  EXPECT_EQ(Column("status"), "waiting");
  EXPECT_EQ(ClaimOne().id, id);
}

}  // namespace
}  // namespace cf::jobs
