// Metrics at volume: ingest into the partitioned cf_performance_metrics already holding 10
// million rows (20,000 posts x 500 days), in 5,000-row batches, against COPY of the same kind of
// rows in the same run; FindWinners against the seed's raw "Find winners" query on the same
// data; and the analytics server's peak memory while it ingests.
//
//   tools/bench //tests/bench:metrics_bench   (CF_BENCH_DAYS=500, CF_BENCH_POSTS=20000,
//                                             CF_BENCH_BATCHES=20 per leg, CF_BENCH_ROUNDS=5)
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <pqxx/pqxx>
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "cf/analytics/v1/analytics.grpc.pb.h"
#include "common/db/pool.h"
#include "common/testing/postgres.h"
#include "common/testing/subprocess.h"
#include "services/analytics/metrics_store.h"
#include "services/analytics/scoring.h"

namespace cf {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kBatchRows = 5000;
const absl::CivilDay kFirstDay(2024, 1, 1);

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

int EnvInt(const char* name, int fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::atoi(value) : fallback;
}

pqxx::result Run(const std::string& conninfo, const std::string& sql) {
  pqxx::connection connection(conninfo);
  pqxx::work txn(connection);
  pqxx::result result = txn.exec(sql);
  txn.commit();
  return result;
}

// 20,000 posts: 800 dossiers x the 25 script cells, one assembly and one post per script.
void MakePosts(const std::string& owner, int posts) {
  const int dossiers = (posts + 24) / 25;
  Run(owner, absl::StrCat(
                 "INSERT INTO cf_product_dossiers (slug, name) SELECT 'bench-' || n, 'Bench ' || n "
                 "FROM generate_series(1, ",
                 dossiers, ") AS n"));
  Run(owner,
      "INSERT INTO cf_scripts (dossier_id, awareness_level, market_sophistication, hook, body, "
      "cta) SELECT d.id, a, s, 'hook', 'body', 'cta' FROM cf_product_dossiers d, "
      "generate_series(1, 5) a, generate_series(1, 5) s");
  Run(owner,
      absl::StrCat("INSERT INTO cf_assembled_content (dossier_id, script_id, platform) SELECT "
                   "dossier_id, id, (ARRAY['tiktok','instagram','facebook','youtube'])[1 + "
                   "(row_number() OVER ()) % 4] FROM (SELECT * FROM cf_scripts ORDER BY id LIMIT ",
                   posts, ") s"));
  Run(owner,
      "INSERT INTO cf_published_content (assembled_content_id, platform, platform_post_id, "
      "published_at) SELECT id, platform, 'post-' || id, '2023-12-31 00:00:00+00' FROM "
      "cf_assembled_content");
}

// Days [first, first + count) for every post, through the parent (the rollup triggers fill the
// rollups as they would for any insert), a few days per statement.
void LoadDays(const std::string& owner, int first, int count) {
  const std::string values =
      "100 + (hashtext(p.id::text || d) & 4095), (hashtext(d || p.id::text) & 255), "
      "(hashtext(p.id::text) & 31), (d & 15), (d & 7), (hashtext(p.id::text || d) & 63), "
      "(hashtext(p.id::text || d) & 7), (d % 50) / 10.0";
  for (int start = first; start < first + count; start += 25) {
    const int end = std::min(first + count, start + 25) - 1;
    Run(owner,
        absl::StrCat("INSERT INTO cf_performance_metrics (published_content_id, date, "
                     "views, likes, comments, shares, saves, clicks, conversions, spend) "
                     "SELECT p.id, DATE '",
                     absl::FormatCivilTime(kFirstDay), "' + d, ", values,
                     " FROM cf_published_content p, generate_series(", start, ", ", end, ") AS d"));
  }
}

std::vector<std::string> PostIds(const std::string& owner) {
  std::vector<std::string> ids;
  for (const auto& row : Run(owner, "SELECT id::text FROM cf_published_content ORDER BY id")) {
    ids.push_back(row[0].c_str());
  }
  return ids;
}

// Batches of 5,000 rows for the days [first_day, first_day + days): each post once per day.
std::vector<google::protobuf::RepeatedPtrField<analytics::v1::MetricsRow>> Batches(
    const std::vector<std::string>& posts, int first_day, int days, int max_batches) {
  std::vector<google::protobuf::RepeatedPtrField<analytics::v1::MetricsRow>> batches;
  google::protobuf::RepeatedPtrField<analytics::v1::MetricsRow> batch;
  for (int d = first_day; d < first_day + days; ++d) {
    for (size_t i = 0; i < posts.size(); ++i) {
      analytics::v1::MetricsRow* row = batch.Add();
      row->set_published_content_id(posts[i]);
      *row->mutable_date() = analytics::DateOf(kFirstDay + d);
      row->set_views(1000 + static_cast<int64_t>((i * 7 + d) % 3000));
      row->set_likes(static_cast<int64_t>((i + d) % 200));
      row->set_comments(static_cast<int64_t>(i % 20));
      row->set_shares(d % 10);
      row->set_saves(d % 5);
      row->set_clicks(static_cast<int64_t>((i + d) % 60));
      row->set_conversions(static_cast<int64_t>((i + d) % 6));
      row->set_spend(absl::StrCat((i + d) % 40, ".", (i * 3) % 100 < 10 ? "0" : "", (i * 3) % 100));
      if (batch.size() == kBatchRows) {
        batches.push_back(std::move(batch));
        batch.Clear();
        if (static_cast<int>(batches.size()) == max_batches) return batches;
      }
    }
  }
  if (!batch.empty()) batches.push_back(std::move(batch));
  return batches;
}

void SetRollupTriggers(const std::string& owner, bool enabled) {
  const char* verb = enabled ? "ENABLE" : "DISABLE";
  for (const char* trigger :
       {"metrics_rollup_insert", "metrics_rollup_update", "metrics_rollup_delete"}) {
    Run(owner, absl::StrCat("ALTER TABLE cf_performance_metrics ", verb, " TRIGGER ", trigger));
  }
}

using Batches_t = std::vector<google::protobuf::RepeatedPtrField<analytics::v1::MetricsRow>>;

double CopyRows(const std::string& owner, const Batches_t& batches) {
  pqxx::connection connection(owner);
  const Clock::time_point start = Clock::now();
  for (const auto& batch : batches) {
    pqxx::work txn(connection);
    pqxx::stream_to copy(
        txn, "cf_performance_metrics",
        std::vector<std::string>{"published_content_id", "date", "views", "likes", "comments",
                                 "shares", "saves", "clicks", "conversions", "spend"});
    for (const auto& row : batch) {
      absl::CivilDay day(row.date().year(), row.date().month(), row.date().day());
      copy << std::make_tuple(row.published_content_id(), absl::FormatCivilTime(day),
                              absl::StrCat(row.views()), absl::StrCat(row.likes()),
                              absl::StrCat(row.comments()), absl::StrCat(row.shares()),
                              absl::StrCat(row.saves()), absl::StrCat(row.clicks()),
                              absl::StrCat(row.conversions()), row.spend());
    }
    copy.complete();
    txn.commit();
  }
  return Seconds(start);
}

double Upsert(analytics::MetricsStore* store, const Batches_t& batches) {
  const Clock::time_point start = Clock::now();
  for (const auto& batch : batches) {
    auto response = store->Ingest(batch);
    if (!response.ok() || response->errors_size() > 0 || response->accepted() != batch.size()) {
      std::fprintf(stderr, "ingest failed: %s %s\n", response.status().ToString().c_str(),
                   response.ok() && response->errors_size() > 0
                       ? response->errors(0).DebugString().c_str()
                       : "");
      std::exit(1);
    }
  }
  return Seconds(start);
}

// One row per call: each its own statement and transaction.
double UpsertOneByOne(analytics::MetricsStore* store,
                      const google::protobuf::RepeatedPtrField<analytics::v1::MetricsRow>& rows) {
  const Clock::time_point start = Clock::now();
  for (const auto& row : rows) {
    google::protobuf::RepeatedPtrField<analytics::v1::MetricsRow> one;
    *one.Add() = row;
    if (!store->Ingest(one).ok()) std::exit(1);
  }
  return Seconds(start);
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

long PeakKilobytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

void Report(const char* what, int rows, double seconds, double copy_rate) {
  const double rate = rows / seconds;
  std::printf("  %-44s %8d rows %7.2f s %9.0f rows/s  %5.1f%% of COPY\n", what, rows, seconds, rate,
              100.0 * rate / copy_rate);
}

int Main() {
  const int posts = EnvInt("CF_BENCH_POSTS", 20000);
  const int days = EnvInt("CF_BENCH_DAYS", 500);
  const int measured_batches = EnvInt("CF_BENCH_BATCHES", 20);
  const int rounds = std::max(1, EnvInt("CF_BENCH_ROUNDS", 5));
  cf::testing::TestDatabase database;
  const std::string owner = database.OwnerConninfo();
  Run(owner,
      "SELECT cf_create_metrics_partitions('2024-01-01', (current_date + "
      "interval '3 months')::date)");

  std::printf("metrics_bench: %d posts x %d days into the partitioned table\n", posts, days);
  Clock::time_point start = Clock::now();
  MakePosts(owner, posts);
  LoadDays(owner, 0, days);
  Run(owner, "ANALYZE");
  const long rows_loaded =
      Run(owner, "SELECT count(*) FROM cf_performance_metrics")[0][0].as<long>();
  std::printf("  loaded %ld rows (rollups kept by the triggers) in %.0f s\n", rows_loaded,
              Seconds(start));
  const std::vector<std::string> ids = PostIds(owner);

  // Each method writes rows of its own days, after the loaded ones, so each inserts new rows.
  int next_day = days;
  auto next_batches = [&](int batches) {
    const int days_needed = (batches * kBatchRows + posts - 1) / posts;
    auto made = Batches(ids, next_day, days_needed, batches);
    next_day += days_needed;
    return made;
  };
  const int rows = measured_batches * kBatchRows;

  db::ConnectionPool pool(database.RoleConninfo("cf_analytics"), 2);
  analytics::MetricsStore store(&pool);

  // The three legs take turns: each round runs every leg once (starting from a different leg
  // each round) on fresh days, and the ratios are taken within a round, so a checkpoint or
  // another process slowing one moment of the run hits one round, not one leg.
  struct Leg {
    const char* name;
    bool rollups;
    std::function<double(const Batches_t&)> run;
    std::vector<double> rates;
  };
  std::vector<Leg> legs = {
      {"COPY (no rollups)", false, [&](const Batches_t& b) { return CopyRows(owner, b); }, {}},
      {"upsert without rollups (target >= 70%)",
       false,
       [&](const Batches_t& b) { return Upsert(&store, b); },
       {}},
      {"upsert with rollups (target >= 35%)",
       true,
       [&](const Batches_t& b) { return Upsert(&store, b); },
       {}}};
  const int round_batches = std::max(1, measured_batches / rounds);
  const int round_rows = round_batches * kBatchRows;
  std::printf("ingest, %d-row batches (one transaction each), %d rounds of %d rows per leg:\n",
              kBatchRows, rounds, round_rows);
  for (int round = 0; round < rounds; ++round) {
    for (size_t i = 0; i < legs.size(); ++i) {
      Leg& leg = legs[(round + i) % legs.size()];
      SetRollupTriggers(owner, leg.rollups);
      leg.rates.push_back(round_rows / leg.run(next_batches(round_batches)));
    }
  }
  SetRollupTriggers(owner, true);
  const double copy_rate = Median(legs[0].rates);
  for (const Leg& leg : legs) {
    std::vector<double> ratios;
    for (int round = 0; round < rounds; ++round) {
      ratios.push_back(100.0 * leg.rates[round] / legs[0].rates[round]);
    }
    std::printf("  %-44s %9.0f rows/s  %5.1f%% of COPY (rounds: %.1f%% to %.1f%%)\n", leg.name,
                Median(leg.rates), Median(ratios), *std::min_element(ratios.begin(), ratios.end()),
                *std::max_element(ratios.begin(), ratios.end()));
  }
  const double rollup_rate = Median(legs[2].rates);
  const auto replay = next_batches(measured_batches);
  Upsert(&store, replay);
  const double replay_seconds = Upsert(&store, replay);
  Report("replay of those batches (changes nothing)", rows, replay_seconds, copy_rate);
  const auto single = next_batches(1)[0];
  const int single_rows = std::min(single.size(), 2000);
  google::protobuf::RepeatedPtrField<analytics::v1::MetricsRow> single_slice(
      single.begin(), single.begin() + single_rows);
  const double single_seconds = UpsertOneByOne(&store, single_slice);
  Report("one row per statement, with rollups", single_rows, single_seconds, copy_rate);
  std::printf("  batched upsert with rollups vs one row per statement: %.1fx (target >= 5x)\n",
              rollup_rate / (single_rows / single_seconds));
  const long mismatches =
      Run(owner,
          "SELECT count(*) FROM (SELECT published_content_id, count(*)::bigint, "
          "sum(views)::bigint FROM cf_performance_metrics GROUP BY 1 EXCEPT SELECT "
          "published_content_id, days, views FROM cf_metrics_content_rollup) AS diff")[0][0]
          .as<long>();
  std::printf(
      "  (rows written without rollups leave those rollups short by design: %ld posts "
      "differ from the raw sums)\n",
      mismatches);

  // FindWinners against the seed's raw query, same data, same run.
  const std::string seed_query = R"sql(
      SELECT pc.id, pc.platform_url, s.awareness_level, SUM(pm.views) AS total_views,
             AVG(pm.engagement_rate) AS avg_engagement, AVG(pm.ctr) AS avg_ctr,
             SUM(pm.conversions) AS total_conversions
      FROM cf_published_content pc
      JOIN cf_performance_metrics pm ON pm.published_content_id = pc.id
      JOIN cf_assembled_content ac ON ac.id = pc.assembled_content_id
      JOIN cf_scripts s ON s.id = ac.script_id
      GROUP BY pc.id, pc.platform_url, s.awareness_level
      HAVING SUM(pm.views) > 1000
      ORDER BY avg_engagement DESC
      LIMIT 10)sql";
  std::vector<double> seed_times;
  for (int i = 0; i < 3; ++i) {
    start = Clock::now();
    Run(owner, seed_query);
    seed_times.push_back(Seconds(start));
  }
  analytics::Scoring scoring(&pool);
  // Each request is timed twice over: computed afresh (as after any change to the metrics: the
  // version is moved before each call) and with its ranking kept from the call before.
  auto timed = [&](const analytics::v1::FindWinnersRequest& request, bool fresh) {
    std::vector<double> times;
    for (int i = 0; i < 21; ++i) {
      if (fresh) Run(owner, "UPDATE cf_metrics_version SET version = version + 1");
      start = Clock::now();
      auto winners = scoring.FindWinners(request);
      times.push_back(Seconds(start));
      if (!winners.ok() || winners->winners_size() == 0) std::exit(1);
    }
    return Median(times);
  };
  const double seed_seconds = Median(seed_times);
  std::printf("winners over %ld rows (medians of 21 calls):\n",
              Run(owner, "SELECT count(*) FROM cf_performance_metrics")[0][0].as<long>());
  std::printf("  seed's raw \"Find winners\" query     %9.1f ms (median of 3)\n",
              seed_seconds * 1000);
  auto report = [&](const char* what, const analytics::v1::FindWinnersRequest& request,
                    const char* target) {
    const double fresh = timed(request, true);
    const double kept = timed(request, false);
    std::printf("  FindWinners, %-24s computed %8.2f ms %6.3f%%%s\n", what, fresh * 1000,
                100 * fresh / seed_seconds, target);
    std::printf("  %-37s kept %8.2f ms %6.3f%%\n", "", kept * 1000, 100 * kept / seed_seconds);
  };
  analytics::v1::FindWinnersRequest request;
  report("content, active config", request, "  (target <= 1%, goal 0.1%)");
  request.set_group_by(analytics::v1::WINNER_GROUPING_SCRIPT_CELL);
  request.mutable_first_month()->set_year(2024);
  request.mutable_first_month()->set_month(3);
  request.mutable_last_month()->set_year(2024);
  request.mutable_last_month()->set_month(8);
  report("script cells, 6 months", request, "");
  request.set_group_by(analytics::v1::WINNER_GROUPING_CONTENT);
  report("content, 6 months", request, "");

  // The service itself: peak memory while it ingests over gRPC.
  const std::string address = "127.0.0.1:" + std::to_string(testing::FreePort());
  testing::Subprocess server({testing::RunfilePath("services/analytics/analytics_server")},
                             {{"CF_DATABASE_URL", database.RoleConninfo("cf_analytics")},
                              {"CF_PUBLISHING_ADDR", "127.0.0.1:1"},
                              {"CF_COLLECT_FIRST_DELAY_S", "86400"},
                              {"CF_LISTEN", address}},
                             testing::TestTempPath("analytics_bench.log"));
  if (!testing::WaitForServing(address, std::chrono::seconds(60))) return 1;
  const long idle_kb = PeakKilobytes(server.pid());
  auto stub = analytics::v1::AnalyticsService::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  const auto grpc_batches = next_batches(measured_batches);
  start = Clock::now();
  for (const auto& batch : grpc_batches) {
    grpc::ClientContext context;
    analytics::v1::IngestMetricsRequest ingest;
    *ingest.mutable_rows() = batch;
    analytics::v1::IngestMetricsResponse response;
    grpc::Status status = stub->IngestMetrics(&context, ingest, &response);
    if (!status.ok() || response.accepted() != batch.size()) {
      std::fprintf(stderr, "IngestMetrics failed: %s\n", status.error_message().c_str());
      return 1;
    }
  }
  const double grpc_seconds = Seconds(start);
  std::printf("the analytics server, IngestMetrics over gRPC:\n");
  Report("upsert with rollups through the service", rows, grpc_seconds, copy_rate);
  std::printf("  peak memory (VmHWM): %ld MB after start, %ld MB after the ingest\n",
              idle_kb / 1024, PeakKilobytes(server.pid()) / 1024);
  return 0;
}

}  // namespace
}  // namespace cf

int main() { return cf::Main(); }
