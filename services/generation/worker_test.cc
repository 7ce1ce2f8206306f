// The workers against a real PostgreSQL: a stop gives running jobs back without spending an
// attempt; backoff grows and honours Retry-After; NOTIFY wakes idle workers before the poll.
#include "services/generation/worker.h"

#include <pqxx/pqxx>
#include <thread>

#include "common/status/status.h"
#include "common/testing/postgres.h"
#include "gtest/gtest.h"

namespace cf::generation {
namespace {

// Runs until cancelled, or succeeds at once when `instant`.
class ControlledImages final : public ImageProvider {
 public:
  std::string model() const override { return "controlled"; }
  absl::Status Supports(const std::string&) const override { return absl::OkStatus(); }
  absl::StatusOr<JobResult> Generate(const ClaimedJob& job, const ProviderCall& call) override {
    ++started;
    while (!instant && !call.cancel->load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (!instant) return absl::CancelledError("stopped");
    JobResult result;
    result.url = "file:///done/" + job.id;
    result.model = model();
    return result;
  }
  std::atomic<int> started{0};
  std::atomic<bool> instant{false};
};

class NoVideos final : public VideoProvider {
 public:
  std::string model() const override { return "none"; }
  absl::Status Supports(const std::string&, int) const override { return absl::OkStatus(); }
  absl::StatusOr<JobResult> Generate(const ClaimedJob&, const RevealImages&,
                                     const ProviderCall&) override {
    return absl::UnimplementedError("none");
  }
};

class WorkerTest : public ::testing::Test {
 protected:
  void Insert(int jobs) {
    pqxx::connection connection(database_.OwnerConninfo());
    pqxx::work txn(connection);
    std::string dossier = txn.exec(
                                 "INSERT INTO cf_product_dossiers (slug, name) VALUES "
                                 "('w-' || gen_random_uuid(), 'W') RETURNING id")[0][0]
                              .as<std::string>();
    txn.exec("INSERT INTO cf_generated_images (dossier_id, type, prompt) SELECT '" + dossier +
             "', 'product', 'p' FROM generate_series(1, " + std::to_string(jobs) + ")");
    txn.commit();
  }

  pqxx::row Row() {
    pqxx::connection connection(database_.OwnerConninfo());
    pqxx::nontransaction txn(connection);
    return txn.exec("SELECT status, attempts FROM cf_generated_images LIMIT 1")[0];
  }

  WorkerOptions Options(absl::Duration poll) {
    WorkerOptions options;
    options.worker_id = "test";
    options.image_threads = 1;
    options.video_threads = 0;
    options.poll_interval = poll;
    options.notify_conninfo = database_.RoleConninfo("cf_generation");
    return options;
  }

  cf::testing::TestDatabase database_;
  db::ConnectionPool pool_{database_.RoleConninfo("cf_generation"), 4};
  JobStore store_{&pool_};
  ControlledImages images_;
  NoVideos videos_;
};

TEST_F(WorkerTest, StopGivesRunningJobsBackWithoutSpendingAnAttempt) {
  Insert(1);
  JobWorkers workers(&store_, &images_, &videos_, Options(absl::Milliseconds(20)));
  workers.Start();
  for (int i = 0; i < 500 && images_.started == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(images_.started.load(), 1);
  EXPECT_EQ(Row()[0].as<std::string>(), "generating");
  workers.Stop();
  EXPECT_EQ(Row()[0].as<std::string>(), "pending");
  EXPECT_EQ(Row()[1].as<int>(), 0);
}

TEST_F(WorkerTest, NotifyWakesAnIdleWorkerBeforeItsPoll) {
  images_.instant = true;
  // Polling once a minute: only the notification can make the job run within seconds.
  JobWorkers workers(&store_, &images_, &videos_, Options(absl::Minutes(1)));
  workers.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // idle, listening
  Insert(1);
  for (int i = 0; i < 500 && Row()[0].as<std::string>() != "completed"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(Row()[0].as<std::string>(), "completed");
}

TEST_F(WorkerTest, BackoffDoublesIsCappedAndHonoursRetryAfter) {
  WorkerOptions options = Options(absl::Seconds(1));
  options.backoff_base = absl::Seconds(2);
  options.backoff_max = absl::Seconds(30);
  JobWorkers workers(&store_, &images_, &videos_, options);
  auto within = [](absl::Duration value, absl::Duration centre) {
    return value >= centre * 0.8 && value <= centre * 1.2;
  };
  EXPECT_TRUE(within(workers.Backoff(1, absl::ZeroDuration()), absl::Seconds(2)));
  EXPECT_TRUE(within(workers.Backoff(3, absl::ZeroDuration()), absl::Seconds(8)));
  EXPECT_TRUE(within(workers.Backoff(10, absl::ZeroDuration()), absl::Seconds(30)));
  EXPECT_EQ(workers.Backoff(1, absl::Seconds(90)), absl::Seconds(90));
}

}  // namespace
}  // namespace cf::generation
