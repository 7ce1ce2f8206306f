// Migration 0009 on a database that already holds metrics: every row survives into the
// partitioned table, and the rollups it creates are backfilled from them exactly.
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/db/migrator.h"
#include "common/testing/postgres.h"
#include "gtest/gtest.h"
#include "services/analytics/analytics_fixtures.h"

namespace cf {
namespace {

constexpr int kPartitioningVersion = 9;

std::vector<db::Migration> MigrationsBefore(int version) {
  auto all = db::LoadMigrations(cf::testing::MigrationsDir());
  EXPECT_TRUE(all.ok()) << all.status();
  std::vector<db::Migration> before;
  for (const auto& migration : *all) {
    if (migration.version < version) before.push_back(migration);
  }
  return before;
}

TEST(MetricsPartitioningTest, KeepsTheRowsAndBackfillsTheRollups) {
  cf::testing::TestDatabase database(false);
  auto before =
      db::ApplyMigrations(database.OwnerConninfo(), MigrationsBefore(kPartitioningVersion));
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_EQ(before->current_version, kPartitioningVersion - 1);

  analytics::AnalyticsFixtures fixtures(database.OwnerConninfo());
  std::vector<std::string> posts;
  for (int i = 0; i < 6; ++i) {
    analytics::PostSpec spec;
    spec.awareness_level = 1 + i % 5;
    spec.platform = i % 2 == 0 ? "tiktok" : "youtube";
    spec.video_types = {i % 2 == 0 ? "demo" : "reveal"};
    posts.push_back(fixtures.AddPost(spec));
  }
  // 400 days over 14 months, for each post, straight into the unpartitioned table.
  for (const std::string& post : posts) {
    fixtures.Query(absl::StrCat(
        "INSERT INTO cf_performance_metrics (published_content_id, date, views, likes, comments, "
        "shares, saves, clicks, conversions, spend) SELECT '",
        post,
        "', DATE '2025-01-01' + n, 1000 + n * 7 % 500, n % 90, n % 13, n % 7, n % 5, n % 40, "
        "n % 3, (n % 250) / 10.0 FROM generate_series(0, 399) AS n"));
  }
  const std::string fingerprint =
      "SELECT md5(string_agg(id::text || published_content_id || date || views || likes || "
      "comments || shares || saves || clicks || conversions || spend || engagement_rate || ctr || "
      "created_at, ',' ORDER BY id)) FROM cf_performance_metrics";
  const std::string old_rows = fixtures.Query(fingerprint)[0][0].as<std::string>();

  auto all = db::LoadMigrations(cf::testing::MigrationsDir());
  ASSERT_TRUE(all.ok());
  auto after = db::ApplyMigrations(database.OwnerConninfo(), *all);
  ASSERT_TRUE(after.ok()) << after.status();

  EXPECT_EQ(fixtures.Query(fingerprint)[0][0].as<std::string>(), old_rows);
  EXPECT_EQ(fixtures.Query("SELECT count(*) FROM cf_performance_metrics")[0][0].as<int>(), 2400);
  EXPECT_EQ(fixtures
                .Query("SELECT relkind::text FROM pg_class WHERE relname = "
                       "'cf_performance_metrics'")[0][0]
                .as<std::string>(),
            "p");
  // Every row sits in its month's partition: none was left in the DEFAULT one.
  EXPECT_EQ(fixtures.Query("SELECT count(*) FROM cf_performance_metrics_default")[0][0].as<int>(),
            0);
  EXPECT_GE(fixtures
                .Query("SELECT count(*) FROM pg_inherits WHERE inhparent = "
                       "'cf_performance_metrics'::regclass")[0][0]
                .as<int>(),
            15);  // 14 months of data and the DEFAULT partition
  EXPECT_EQ(fixtures.Query("SELECT count(*) FROM cf_metrics_content_rollup")[0][0].as<int>(), 6);
  EXPECT_EQ(fixtures.RollupMismatches(), 0);
  // The unique key still turns a second row for a day into a conflict.
  EXPECT_THROW(
      fixtures.Query(absl::StrCat("INSERT INTO cf_performance_metrics (published_content_id, "
                                  "date) VALUES ('",
                                  posts[0], "', '2025-01-01')")),
      pqxx::unique_violation);
}

}  // namespace
}  // namespace cf
