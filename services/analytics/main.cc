// analytics: serves cf.analytics.v1.AnalyticsService (daily metrics, rollups, winners, A/B
// tests) and collects post stats from publishing on a schedule.
//
// Configuration (flag or environment):
//   --database_url / CF_DATABASE_URL (required), --read_database_url / CF_READ_DATABASE_URL
//   (optional: a replica for FindWinners and ListMetrics), --publishing_addr /
//   CF_PUBLISHING_ADDR (required: the collector reads post stats there), --listen (default
//   127.0.0.1:50056), --collect_interval_s (default 86400: daily), --collect_first_delay_s
//   (default 60), --collect_concurrency (posts read at once, default 8),
//   --partition_months_ahead (default 3), --db_pool_size, --db_queue,
//   --drain_timeout_s.
#include "common/log/log.h"
#include "common/server/channel.h"
#include "common/server/periodic.h"
#include "common/server/service_main.h"
#include "services/analytics/ab_tests/ab_tests.h"
#include "services/analytics/analytics_service.h"
#include "services/analytics/collector.h"
#include "services/analytics/metrics_store.h"
#include "services/analytics/scoring.h"
#include "services/publishing/publishing_client.h"

namespace {

// The newest migration this build relies on.
constexpr int kSchemaVersion = 10;

}  // namespace

int main(int argc, char** argv) {
  cf::BlockTerminationSignals();
  cf::SetLogService("analytics");
  auto config = cf::Config::FromArgs(argc, argv);
  if (!config.ok()) return cf::StartupFailure(config.status());
  auto publishing_addr = config->Require("publishing_addr");
  if (!publishing_addr.ok()) return cf::StartupFailure(publishing_addr.status());
  auto interval_s = config->GetInt("collect_interval_s", 86400, 1, 7 * 86400);
  auto first_delay_s = config->GetInt("collect_first_delay_s", 60, 0, 7 * 86400);
  auto months_ahead = config->GetInt("partition_months_ahead", 3, 1, 36);
  auto concurrency = config->GetInt("collect_concurrency", 8, 1, 64);
  for (const auto* value : {&interval_s, &first_delay_s, &months_ahead, &concurrency}) {
    if (!value->ok()) return cf::StartupFailure(value->status());
  }
  auto database = cf::OpenDatabase(*config, kSchemaVersion);
  if (!database.ok()) return cf::StartupFailure(database.status());
  auto replica = cf::OpenReadReplica(*config, kSchemaVersion);
  if (!replica.ok()) return cf::StartupFailure(replica.status());
  cf::db::ConnectionPool* read_pool = replica->pool.get();
  auto options = cf::ServerOptionsFromConfig(*config, "analytics", "127.0.0.1:50056");
  if (!options.ok()) return cf::StartupFailure(options.status());

  cf::db::ConnectionPool* pool = database->pool.get();
  cf::analytics::MetricsStore metrics(pool, read_pool);
  // Rows for a month without a partition land in the DEFAULT one, so a failure here is logged,
  // not fatal; the schedule tries again.
  auto partitions = metrics.EnsurePartitions(*months_ahead);
  if (!partitions.ok()) {
    cf::Log(cf::LogLevel::kWarning, "partitions not made",
            {{"error", std::string(partitions.status().message())}});
  }
  cf::publishing::PublishingClient publishing(cf::ServiceChannel(*publishing_addr));
  cf::analytics::Collector collector(pool, &publishing, *concurrency);
  cf::analytics::Scoring scoring(pool, read_pool);
  cf::analytics::AbTests ab_tests(pool);

  // Daily by default: next months' partitions, then every live post's stats.
  cf::Periodic schedule(
      [&] {
        auto made = metrics.EnsurePartitions(*months_ahead);
        if (!made.ok()) {
          cf::Log(cf::LogLevel::kWarning, "partitions not made",
                  {{"error", std::string(made.status().message())}});
        }
        auto collected = collector.CollectMetrics({}, cf::CallContext{});
        if (!collected.ok()) {
          cf::Log(cf::LogLevel::kWarning, "collection failed",
                  {{"error", std::string(collected.status().message())}});
          return;
        }
        cf::Log(cf::LogLevel::kInfo, "collected",
                {{"collected", collected->collected()},
                 {"skipped", collected->skipped()},
                 {"failed", collected->failed()}});
      },
      absl::Seconds(*interval_s), absl::Seconds(*first_delay_s));

  cf::analytics::AnalyticsService service({&metrics, &collector, &scoring, &ab_tests},
                                          database->executor.get());
  options->services = {{"cf.analytics.v1.AnalyticsService", &service}};
  // Ready when the primary and (if configured) the replica answer.
  options->readiness_probe = [primary = database->probe, secondary = replica->probe] {
    return primary() && (!secondary || secondary());
  };
  options->on_started = [&] { schedule.Start(); };
  options->on_shutdown = [&] {
    collector.Stop();  // a run in progress ends after its current post
    schedule.Stop();
  };
  cf::Log(cf::LogLevel::kInfo, "analytics configured",
          {{"collect_interval_s", *interval_s},
           {"read_replica", read_pool != nullptr ? "yes" : "no (primary)"}});
  return cf::ServeUntilSignal(std::move(*options));
}
