// Queue benchmark: claim-and-complete throughput of common/jobs over generation's image table
// (a JobRunner whose handler does nothing) against the same claim and completion statements
// driven by a plain libpqxx loop, with the same batch size and connection count, at batch
// sizes 1 and 10. The two alternate round by round in one run, so a noisy machine hits both
// alike; the medians and their ratio are printed. Run it with tools/bench.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <pqxx/pqxx>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/db/pool.h"
#include "common/jobs/runner.h"
#include "common/testing/postgres.h"
#include "services/generation/job_store.h"

namespace cf::generation {
namespace {

constexpr int kJobs = 4000;
constexpr int kRounds = 5;
constexpr int kThreads = 2;  // claiming threads (= connections used for claims) on both sides

// Completes every job at once with a result of the real shape, and counts the jobs it ran so
// the benchmark need not poll the table (a count over it every few milliseconds would load the
// database the raw loop has to itself).
class NoOpHandler final : public jobs::JobHandler {
 public:
  absl::StatusOr<jobs::Completion> Run(jobs::JobContext& context) override {
    if (++runs_ == kJobs) {
      std::lock_guard<std::mutex> lock(mutex_);
      all_ran_.notify_all();
    }
    JobResult result;
    result.url = "noop://" + context.lease().id;
    result.model = "noop";
    result.format = "noop";
    return CompletionFor(JobKind::kImage, result);
  }

  void WaitUntilAllRan() {
    std::unique_lock<std::mutex> lock(mutex_);
    all_ran_.wait(lock, [&] { return runs_ >= kJobs; });
  }

 private:
  std::atomic<int> runs_{0};
  std::mutex mutex_;
  std::condition_variable all_ran_;
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

// The production path: worker threads, heartbeats and rescue on their own connection, NOTIFY
// listener, fenced writes, logging.
double RunQueue(const std::string& conninfo, const std::string& owner, int batch) {
  db::ConnectionPool pool(conninfo, kThreads);
  JobStore store(&pool);
  NoOpHandler handler;
  jobs::RunnerOptions options;
  options.worker_id = "bench-queue";
  options.poll_interval = absl::Milliseconds(20);
  options.conninfo = conninfo;
  options.claim_batch = batch;
  pqxx::connection watcher(owner);
  jobs::JobRunner workers({{store.queue(JobKind::kImage), &handler, kThreads}}, options);
  auto start = std::chrono::steady_clock::now();
  workers.Start();
  handler.WaitUntilAllRan();
  // The last completions are still being written: the clock stops when the table says so.
  while (Completed(watcher) < kJobs) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  workers.Stop();
  return kJobs / seconds;
}

// The same statements in a bare loop: claim a batch, complete each, repeat until none is left.
double RunRaw(const std::string& conninfo, int batch) {
  db::ConnectionPool unused(conninfo, 1);
  jobs::JobQueue queue(&unused, QueueSpecFor(JobKind::kImage));
  JobResult noop;
  noop.model = "noop";
  noop.format = "noop";
  const jobs::Completion shape = CompletionFor(JobKind::kImage, noop);
  const std::string complete = queue.CompleteSql(shape.set_sql);
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      pqxx::connection connection(conninfo);
      for (;;) {
        pqxx::work claim_txn(connection);
        pqxx::result rows = claim_txn.exec_params(queue.claim_sql(), "bench-raw", 30000, batch);
        claim_txn.commit();
        if (rows.empty()) return;
        for (const auto& row : rows) {
          std::string id = row[0].as<std::string>();
          pqxx::work complete_txn(connection);
          complete_txn.exec_params(complete, id, row[1].as<int64_t>(), "noop://" + id, "noop", "",
                                   0, 0, "noop", 0, 0.0);
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
  for (int batch : {1, 10}) {
    std::printf("queue benchmark: %d jobs per round, %d claiming threads, batch %d, %d rounds\n",
                kJobs, kThreads, batch, kRounds);
    std::printf("%-6s %14s %14s\n", "round", "raw jobs/s", "queue jobs/s");
    std::vector<double> raw, queue;
    for (int round = 1; round <= kRounds; ++round) {
      // Alternate which goes first so warm-up and drift favour neither.
      for (int leg = 0; leg < 2; ++leg) {
        bool raw_leg = (leg == 0) == (round % 2 == 1);
        QueueJobs(owner, dossier);
        (raw_leg ? raw : queue)
            .push_back(raw_leg ? RunRaw(conninfo, batch) : RunQueue(conninfo, owner, batch));
      }
      std::printf("%-6d %14.0f %14.0f\n", round, raw.back(), queue.back());
      std::fflush(stdout);
    }
    double raw_median = Median(raw), queue_median = Median(queue);
    std::printf("median %14.0f %14.0f\n", raw_median, queue_median);
    std::printf("batch %d: queue / raw = %.0f%% (target: at least 90%%)\n\n", batch,
                100 * queue_median / raw_median);
  }
  return 0;
}

}  // namespace
}  // namespace cf::generation

int main() { return cf::generation::Main(); }
