// Queue benchmark: claim-and-complete throughput of the generation job queue (JobWorkers with a
// provider that does nothing) against the same claim and completion statements driven by a
// plain libpqxx loop, with the same batch size (1) and connection count. The two alternate
// round by round in one run, so a noisy machine hits both alike; the medians and their ratio
// are printed. Run it with tools/bench.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <pqxx/pqxx>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/db/pool.h"
#include "common/testing/postgres.h"
#include "services/generation/job_store.h"
#include "services/generation/worker.h"

namespace cf::generation {
namespace {

constexpr int kJobs = 4000;
constexpr int kRounds = 5;
constexpr int kThreads = 2;  // claiming threads (= connections used for claims) on both sides

class NoOpImages final : public ImageProvider {
 public:
  std::string model() const override { return "noop"; }
  absl::Status Supports(const std::string&) const override { return absl::OkStatus(); }
  absl::StatusOr<JobResult> Generate(const ClaimedJob& job, const ProviderCall&) override {
    JobResult result;
    result.url = "noop://" + job.id;
    result.model = "noop";
    result.format = "noop";
    return result;
  }
};

class NoOpVideos final : public VideoProvider {
 public:
  std::string model() const override { return "noop"; }
  absl::Status Supports(const std::string&, int) const override { return absl::OkStatus(); }
  absl::StatusOr<JobResult> Generate(const ClaimedJob&, const RevealImages&,
                                     const ProviderCall&) override {
    return absl::UnimplementedError("no videos in this benchmark");
  }
};

void Exec(const std::string& conninfo, const std::string& sql) {
  pqxx::connection connection(conninfo);
  pqxx::nontransaction txn(connection);
  txn.exec(sql);
}

int Completed(pqxx::connection& connection) {
  pqxx::nontransaction txn(connection);
  return txn.exec("SELECT count(*) FROM cf_generated_images WHERE status = 'completed'")[0][0]
      .as<int>();
}

void QueueJobs(const std::string& owner, const std::string& dossier) {
  Exec(owner, "DELETE FROM cf_generated_images");
  Exec(owner, absl::StrCat("INSERT INTO cf_generated_images (dossier_id, type, prompt, "
                           "dossier_snapshot) SELECT '",
                           dossier,
                           "', 'product', 'p', jsonb_build_object('name', 'Bench') "
                           "FROM generate_series(1, ",
                           kJobs, ")"));
  Exec(owner, "VACUUM ANALYZE cf_generated_images");
}

// The production path: worker threads, heartbeats, rescuer, NOTIFY listener, logging.
double RunQueue(const std::string& conninfo, const std::string& owner) {
  db::ConnectionPool pool(conninfo, kThreads + 2);  // claims + heartbeat + rescuer
  JobStore store(&pool);
  NoOpImages images;
  NoOpVideos videos;
  WorkerOptions options;
  options.worker_id = "bench-queue";
  options.image_threads = kThreads;
  options.video_threads = 0;
  options.poll_interval = absl::Milliseconds(20);
  options.notify_conninfo = conninfo;
  pqxx::connection watcher(owner);
  JobWorkers workers(&store, &images, &videos, options);
  auto start = std::chrono::steady_clock::now();
  workers.Start();
  while (Completed(watcher) < kJobs) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  workers.Stop();
  return kJobs / seconds;
}

// The same statements in a bare loop: claim one, complete it, repeat until none is left.
double RunRaw(const std::string& conninfo) {
  const std::string claim = ClaimStatement(JobKind::kImage);
  const std::string complete = CompleteStatement(JobKind::kImage);
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      pqxx::connection connection(conninfo);
      for (;;) {
        pqxx::work claim_txn(connection);
        pqxx::result rows = claim_txn.exec_params(claim, "bench-raw", 30000, 1);
        claim_txn.commit();
        if (rows.empty()) return;
        for (const auto& row : rows) {
          std::string id = row[0].as<std::string>();
          pqxx::work complete_txn(connection);
          complete_txn.exec_params(complete, id, row[2].as<int>(), "noop://" + id, "noop", "", 0, 0,
                                   "noop", 0, 0.0);
          complete_txn.commit();
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  return kJobs / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

int Main() {
  cf::testing::TestDatabase database;
  const std::string owner = database.OwnerConninfo();
  const std::string conninfo = database.RoleConninfo("cf_generation");
  pqxx::connection setup(owner);
  std::string dossier;
  {
    pqxx::work txn(setup);
    dossier = txn.exec(
                     "INSERT INTO cf_product_dossiers (slug, name) VALUES ('bench', 'Bench') "
                     "RETURNING id")[0][0]
                  .as<std::string>();
    txn.commit();
  }
  std::printf("queue benchmark: %d jobs per round, %d claiming threads, batch 1, %d rounds each\n",
              kJobs, kThreads, kRounds);
  std::printf("%-6s %14s %14s\n", "round", "raw jobs/s", "queue jobs/s");
  std::vector<double> raw, queue;
  for (int round = 1; round <= kRounds; ++round) {
    // Alternate which goes first so warm-up and drift favour neither.
    for (int leg = 0; leg < 2; ++leg) {
      bool raw_leg = (leg == 0) == (round % 2 == 1);
      QueueJobs(owner, dossier);
      (raw_leg ? raw : queue).push_back(raw_leg ? RunRaw(conninfo) : RunQueue(conninfo, owner));
    }
    std::printf("%-6d %14.0f %14.0f\n", round, raw.back(), queue.back());
    std::fflush(stdout);
  }
  double raw_median = Median(raw), queue_median = Median(queue);
  std::printf("median %14.0f %14.0f\n", raw_median, queue_median);
  std::printf("queue / raw = %.0f%% (target: at least 70%%)\n", 100 * queue_median / raw_median);
  return 0;
}

}  // namespace
}  // namespace cf::generation

int main() { return cf::generation::Main(); }
