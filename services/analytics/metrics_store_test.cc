// Ingest against a real PostgreSQL: per-row validation, replays, and rollups that equal the raw
// aggregation after random (and concurrent) ingests, replays and deletes.
#include "services/analytics/metrics_store.h"

#include <atomic>
#include <cctype>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/db/pool.h"
#include "common/testing/postgres.h"
#include "gtest/gtest.h"
#include "services/analytics/analytics_fixtures.h"

namespace cf::analytics {
namespace {

v1::MetricsRow Row(const std::string& post, absl::CivilDay day, int64_t views, int64_t likes = 0,
                   int64_t clicks = 0, int64_t conversions = 0, std::string spend = "") {
  v1::MetricsRow row;
  row.set_published_content_id(post);
  *row.mutable_date() = DateOf(day);
  row.set_views(views);
  row.set_likes(likes);
  row.set_clicks(clicks);
  row.set_conversions(conversions);
  row.set_spend(std::move(spend));
  return row;
}

google::protobuf::RepeatedPtrField<v1::MetricsRow> Batch(std::vector<v1::MetricsRow> rows) {
  google::protobuf::RepeatedPtrField<v1::MetricsRow> batch;
  for (auto& row : rows) *batch.Add() = std::move(row);
  return batch;
}

class MetricsStoreTest : public ::testing::Test {
 protected:
  MetricsStoreTest()
      : pool_(database_.RoleConninfo("cf_analytics"), 4),
        store_(&pool_),
        fixtures_(database_.OwnerConninfo()) {}

  // A delete racing the ingests may deadlock with one; PostgreSQL aborts it, and it runs again.
  void Delete(const std::string& sql) {
    for (int attempt = 0; attempt < 20; ++attempt) {
      try {
        fixtures_.Query(sql);
        return;
      } catch (const pqxx::deadlock_detected&) {
      }
    }
    FAIL() << "a delete deadlocked 20 times: " << sql;
  }

  long MetricsRows() {
    return fixtures_.Query("SELECT count(*) FROM cf_performance_metrics")[0][0].as<long>();
  }

  cf::testing::TestDatabase database_;
  db::ConnectionPool pool_;
  MetricsStore store_;
  AnalyticsFixtures fixtures_;
  const absl::CivilDay day_{2025, 3, 10};
};

TEST_F(MetricsStoreTest, ValidRowsLandAndEachBadRowIsNamed) {
  PostSpec spec;
  spec.published_at = "2025-03-01 08:00:00+00";
  const std::string post = fixtures_.AddPost(spec);
  auto bad_spend = Row(post, day_ + 9, 10);
  bad_spend.set_spend("1.234");
  auto no_date = Row(post, day_, 10);
  no_date.clear_date();
  auto huge = Row(post, day_ + 10, int64_t{3} << 31);
  auto response = store_.Ingest(Batch({
      Row(post, day_, 1000, 50, 20, 3, "12.50"),              // 0 valid
      Row(post, day_ + 1, -1),                                // 1 negative views
      Row(post, day_ + 2, 10, 0, 11),                         // 2 clicks > views
      Row(post, day_ + 3, 10, 0, 5, 6),                       // 3 conversions > clicks
      Row(post, TodayUtc() + 1, 10),                          // 4 future
      Row(post, absl::CivilDay(2025, 2, 28), 10),             // 5 before publish
      Row("00000000-0000-0000-0000-000000000000", day_, 10),  // 6 no such post
      Row("not-a-uuid", day_, 10),                            // 7 malformed id
      bad_spend,                                              // 8 three decimals
      Row(post, day_, 999),                                   // 9 repeats row 0
      no_date,                                                // 10 no date
      huge,                                                   // 11 over INTEGER
      Row(post, day_ + 4, 500, 9000, 0, 0, "0.07"),           // 12 valid, 18 per view
  }));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->accepted(), 2);
  EXPECT_EQ(response->changed(), 2);
  std::vector<std::pair<int, std::string>> fields;
  for (const auto& error : response->errors()) fields.emplace_back(error.index(), error.field());
  EXPECT_EQ(fields, (std::vector<std::pair<int, std::string>>{
                        {1, "rows[1].views"},
                        {2, "rows[2].clicks"},
                        {3, "rows[3].conversions"},
                        {4, "rows[4].date"},
                        {5, "rows[5].date"},
                        {6, "rows[6].published_content_id"},
                        {7, "rows[7].published_content_id"},
                        {8, "rows[8].spend"},
                        {9, "rows[9].date"},
                        {10, "rows[10].date"},
                        {11, "rows[11].views"},
                    }));
  EXPECT_EQ(MetricsRows(), 2);
  // The seed's DECIMAL(5,4) would have rejected 18 interactions per view.
  EXPECT_EQ(fixtures_
                .Query("SELECT engagement_rate::text, spend::text FROM cf_performance_metrics "
                       "WHERE views = 500")[0][0]
                .as<std::string>(),
            "18.0000");
  auto totals = fixtures_.Query(
      "SELECT days, views, likes, clicks, conversions, spend::text FROM cf_metrics_content_rollup");
  ASSERT_EQ(totals.size(), 1u);
  EXPECT_EQ(totals[0][0].as<int>(), 2);
  EXPECT_EQ(totals[0][1].as<int>(), 1500);
  EXPECT_EQ(totals[0][2].as<int>(), 9050);
  EXPECT_EQ(totals[0][5].as<std::string>(), "12.57");
  EXPECT_EQ(fixtures_.RollupMismatches(), 0);
}

TEST_F(MetricsStoreTest, ABatchOfOnlyBadRowsWritesNothing) {
  const std::string post = fixtures_.AddPost();
  auto response = store_.Ingest(Batch({Row(post, day_, 5, 0, 6), Row(post, day_, -5)}));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->accepted(), 0);
  EXPECT_EQ(response->errors_size(), 2);
  EXPECT_EQ(MetricsRows(), 0);
  EXPECT_EQ(fixtures_.Query("SELECT count(*) FROM cf_metrics_content_rollup")[0][0].as<int>(), 0);
}

TEST_F(MetricsStoreTest, ReplayingABatchChangesNothing) {
  const std::string post = fixtures_.AddPost();
  auto batch = Batch({Row(post, day_, 100, 5, 3, 1, "1.5"), Row(post, day_ + 1, 200, 9, 4)});
  ASSERT_TRUE(store_.Ingest(batch).ok());
  const auto before =
      fixtures_.Query("SELECT xmin::text, * FROM cf_performance_metrics ORDER BY date")[0][0]
          .as<std::string>();
  auto replay = store_.Ingest(batch);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->accepted(), 2);
  EXPECT_EQ(replay->changed(), 0);
  EXPECT_EQ(fixtures_.Query("SELECT xmin::text FROM cf_performance_metrics ORDER BY date")[0][0]
                .as<std::string>(),
            before);  // not even rewritten
  EXPECT_EQ(fixtures_.Query("SELECT views FROM cf_metrics_content_rollup")[0][0].as<int>(), 300);

  // A correction replaces the day, and the rollup follows.
  auto corrected = store_.Ingest(Batch({Row(post, day_, 150, 5, 3, 1, "1.5")}));
  ASSERT_TRUE(corrected.ok());
  EXPECT_EQ(corrected->changed(), 1);
  EXPECT_EQ(fixtures_.Query("SELECT views FROM cf_metrics_content_rollup")[0][0].as<int>(), 350);
  EXPECT_EQ(fixtures_.RollupMismatches(), 0);
}

TEST_F(MetricsStoreTest, TooBigABatchIsRefusedWhole) {
  google::protobuf::RepeatedPtrField<v1::MetricsRow> rows;
  for (int i = 0; i <= kMaxRowsPerBatch; ++i) *rows.Add() = Row("x", day_, 1);
  auto response = store_.Ingest(rows);
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
}

// Random ingests, replays, corrections and deletes of posts and dossiers, from four threads at
// once; afterwards every rollup row equals the raw aggregation exactly.
TEST_F(MetricsStoreTest, RollupsEqualTheRawAggregationAfterRandomConcurrentWork) {
  std::vector<std::string> dossiers = {fixtures_.AddDossier(), fixtures_.AddDossier(),
                                       fixtures_.AddDossier()};
  std::vector<std::string> posts;
  const char* platforms[] = {"tiktok", "instagram", "facebook", "youtube"};
  const char* types[] = {"reveal", "demo", "transition", "testimonial"};
  for (int i = 0; i < 24; ++i) {
    PostSpec spec;
    spec.dossier_id = dossiers[i % 3];
    spec.awareness_level = 1 + i % 5;
    spec.market_sophistication = i % 6;  // 0: none
    spec.has_script = i % 7 != 0;
    spec.platform = platforms[i % 4];
    spec.video_types = {types[i % 4], types[(i + 1) % 4]};
    posts.push_back(fixtures_.AddPost(spec));
  }
  auto work = [&](int seed) {
    std::mt19937 random(seed);
    for (int step = 0; step < 40; ++step) {
      const int action = random() % 10;
      if (action < 7) {
        std::vector<v1::MetricsRow> rows;
        const int count = 1 + random() % 60;
        for (int i = 0; i < count; ++i) {
          const int64_t views = random() % 5000;
          const int64_t clicks = views == 0 ? 0 : random() % (views + 1);
          rows.push_back(Row(posts[random() % posts.size()],
                             absl::CivilDay(2025, 1, 1) + static_cast<int>(random() % 120), views,
                             random() % 3000, clicks, clicks == 0 ? 0 : random() % (clicks + 1),
                             absl::StrCat(random() % 100, ".", random() % 100)));
        }
        auto batch = Batch(rows);
        ASSERT_TRUE(store_.Ingest(batch).ok());
        if (action == 0) {
          ASSERT_TRUE(store_.Ingest(batch).ok());  // replay
        }
      } else if (action < 9) {
        Delete(absl::StrCat("DELETE FROM cf_performance_metrics WHERE published_content_id = '",
                            posts[random() % posts.size()], "' AND date < '2025-02-15'"));
      } else {
        Delete(absl::StrCat("DELETE FROM cf_published_content WHERE id = '",
                            posts[random() % posts.size()], "'"));
      }
    }
  };
  std::vector<std::thread> threads;
  for (int seed = 1; seed <= 4; ++seed) threads.emplace_back(work, seed);
  for (auto& thread : threads) thread.join();
  EXPECT_GT(MetricsRows(), 0);
  EXPECT_EQ(fixtures_.RollupMismatches(), 0);

  // A dossier's delete, by the catalog's role (which may not write metrics or rollups itself),
  // cascades through its posts' metrics into the rollups, and moves the metrics version.
  const auto version = [&] {
    return fixtures_.Query("SELECT version FROM cf_metrics_version")[0][0].as<int64_t>();
  };
  const int64_t before = version();
  {
    pqxx::connection catalog(database_.RoleConninfo("cf_catalog"));
    pqxx::work txn(catalog);
    txn.exec_params("DELETE FROM cf_product_dossiers WHERE id = $1::uuid", dossiers[0]);
    txn.commit();
  }
  EXPECT_GT(version(), before);
  EXPECT_EQ(fixtures_.RollupMismatches(), 0);
  EXPECT_EQ(fixtures_
                .Query(absl::StrCat("SELECT count(*) FROM cf_metrics_content_rollup WHERE "
                                    "dossier_id = '",
                                    dossiers[0], "'"))[0][0]
                .as<int>(),
            0);
}

TEST_F(MetricsStoreTest, PartitionsAreMadeByTheServiceRoleAndTakeRowsFromTheDefault) {
  PostSpec spec;
  spec.published_at = "2019-01-01 00:00:00+00";
  const std::string post = fixtures_.AddPost(spec);
  // 2019 has no partition: the row lands in the DEFAULT one.
  ASSERT_TRUE(store_.Ingest(Batch({Row(post, absl::CivilDay(2019, 5, 3), 70, 7)})).ok());
  EXPECT_EQ(fixtures_.Query("SELECT tableoid::regclass::text FROM cf_performance_metrics")[0][0]
                .as<std::string>(),
            "cf_performance_metrics_default");
  {
    pqxx::connection connection(database_.RoleConninfo("cf_analytics"));
    pqxx::work txn(connection);
    EXPECT_EQ(
        txn.exec("SELECT cf_create_metrics_partitions('2019-05-01', '2019-06-01')")[0][0].as<int>(),
        2);
    txn.commit();
  }
  EXPECT_EQ(fixtures_.Query("SELECT tableoid::regclass::text FROM cf_performance_metrics")[0][0]
                .as<std::string>(),
            "cf_performance_metrics_2019_05");
  EXPECT_EQ(fixtures_.RollupMismatches(), 0);
  EXPECT_EQ(fixtures_.Query("SELECT views FROM cf_metrics_content_rollup")[0][0].as<int>(), 70);
  // This month and the next three exist after EnsurePartitions; a second call makes none.
  auto made = store_.EnsurePartitions(3);
  ASSERT_TRUE(made.ok()) << made.status();
  auto again = store_.EnsurePartitions(3);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
  // The service role may not run DDL itself.
  {
    pqxx::connection connection(database_.RoleConninfo("cf_analytics"));
    pqxx::work txn(connection);
    EXPECT_THROW(txn.exec("CREATE TABLE sneaky (id int)"), pqxx::sql_error);
  }

  // Not even the owner writes a partition directly (the rollups would go wrong): the partition
  // the function made refuses, the DEFAULT one and the migration's do too, and so does TRUNCATE.
  const auto refusal = [&](const std::string& sql) {
    try {
      fixtures_.Query(sql);
    } catch (const pqxx::sql_error& error) {
      return std::string(error.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(refusal("DELETE FROM cf_performance_metrics_2019_05")
                .find("write through "
                      "cf_performance_metrics"),
            std::string::npos);
  EXPECT_NE(
      refusal(absl::StrCat("INSERT INTO cf_performance_metrics_default (published_content_id, "
                           "date, views) VALUES ('",
                           post, "', '2018-01-02', 5)"))
          .find("write through"),
      std::string::npos);
  const std::string this_month =
      fixtures_.Query("SELECT 'cf_performance_metrics_' || to_char(current_date, 'YYYY_MM')")[0][0]
          .as<std::string>();
  EXPECT_NE(refusal("UPDATE " + this_month + " SET views = 1").find("write through"),
            std::string::npos);
  EXPECT_NE(refusal("TRUNCATE cf_performance_metrics").find("write through"), std::string::npos);
  EXPECT_EQ(fixtures_.Query("SELECT views FROM cf_performance_metrics")[0][0].as<int>(), 70);
  // Through the parent, the same statements work.
  fixtures_.Query("UPDATE cf_performance_metrics SET views = 80");
  EXPECT_EQ(fixtures_.RollupMismatches(), 0);
  EXPECT_EQ(fixtures_.Query("SELECT views FROM cf_metrics_content_rollup")[0][0].as<int>(), 80);
}

// Rows changed in place (another day, another month, another post) move their sums between
// rollup rows exactly.
TEST_F(MetricsStoreTest, UpdatesThatMoveRowsKeepTheRollupsExact) {
  PostSpec other;
  other.awareness_level = 5;
  other.platform = "youtube";
  other.video_types = {"demo"};
  const std::string a = fixtures_.AddPost();
  const std::string b = fixtures_.AddPost(other);
  ASSERT_TRUE(store_
                  .Ingest(Batch({Row(a, day_, 100, 10, 5), Row(a, day_ + 1, 200, 20, 6),
                                 Row(b, day_, 300, 30, 7)}))
                  .ok());
  fixtures_.Query("UPDATE cf_performance_metrics SET date = date + 40 WHERE views = 100");
  fixtures_.Query(absl::StrCat("UPDATE cf_performance_metrics SET published_content_id = '", b,
                               "' WHERE views = 200"));
  fixtures_.Query("UPDATE cf_performance_metrics SET likes = likes * 3, views = views + 1");
  EXPECT_EQ(fixtures_.RollupMismatches(), 0);
  EXPECT_EQ(fixtures_.Query("SELECT count(*) FROM cf_metrics_monthly_rollup")[0][0].as<int>(), 2);
}

// The batch travels as binary arrays: the largest counts and spend, and a replay of them, come
// back exactly as sent.
TEST_F(MetricsStoreTest, TheLargestFiguresLandExactly) {
  const std::string post = fixtures_.AddPost();
  v1::MetricsRow row =
      Row(post, day_, 2147483647, 2147483647, 2147483647, 2147483646, "99999999.99");
  row.set_comments(2147483647);
  row.set_shares(1);
  row.set_saves(2);
  auto batch = Batch({row, Row(post, day_ + 1, 0, 0, 0, 0, "0.01")});
  for (int pass = 0; pass < 2; ++pass) {
    auto response = store_.Ingest(batch);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->accepted(), 2);
    EXPECT_EQ(response->changed(), pass == 0 ? 2 : 0);
  }
  auto rows = fixtures_.Query(
      "SELECT date::text, views, likes, comments, shares, saves, clicks, conversions, "
      "spend::text FROM cf_performance_metrics ORDER BY date");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][0].as<std::string>(), "2025-03-10");
  EXPECT_EQ(rows[0][1].as<int64_t>(), 2147483647);
  EXPECT_EQ(rows[0][2].as<int64_t>(), 2147483647);
  EXPECT_EQ(rows[0][3].as<int64_t>(), 2147483647);
  EXPECT_EQ(rows[0][4].as<int64_t>(), 1);
  EXPECT_EQ(rows[0][5].as<int64_t>(), 2);
  EXPECT_EQ(rows[0][6].as<int64_t>(), 2147483647);
  EXPECT_EQ(rows[0][7].as<int64_t>(), 2147483646);
  EXPECT_EQ(rows[0][8].as<std::string>(), "99999999.99");
  EXPECT_EQ(rows[1][0].as<std::string>(), "2025-03-11");
  EXPECT_EQ(rows[1][8].as<std::string>(), "0.01");
  EXPECT_EQ(fixtures_.RollupMismatches(), 0);
}

TEST_F(MetricsStoreTest, UpperCaseIdsAreTheSamePosts) {
  const std::string post = fixtures_.AddPost();
  std::string upper = post;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto response = store_.Ingest(Batch({Row(upper, day_, 10), Row(post, day_, 11)}));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->accepted(), 1);
  ASSERT_EQ(response->errors_size(), 1);
  EXPECT_EQ(response->errors(0).field(), "rows[1].date");  // the same key twice
}

// Months are given partitions while ingests write into them: every row is kept, each in its
// month's partition, and the rollups stay exact.
TEST_F(MetricsStoreTest, PartitionsMadeDuringIngestsLoseNothing) {
  PostSpec old_post;
  old_post.published_at = "2018-01-01 00:00:00+00";
  std::vector<std::string> posts = {fixtures_.AddPost(old_post), fixtures_.AddPost(old_post)};
  std::atomic<bool> done{false};
  std::atomic<int> written{0};
  auto ingest = [&](int which) {
    for (int day = 0; day < 300; day += 3) {
      std::vector<v1::MetricsRow> rows;
      for (int i = 0; i < 3; ++i) {
        rows.push_back(Row(posts[which], absl::CivilDay(2018, 3, 1) + day + i, 10 + day, 1));
      }
      auto response = store_.Ingest(Batch(rows));
      ASSERT_TRUE(response.ok()) << response.status();
      ASSERT_EQ(response->accepted(), 3);
      written += 3;
    }
  };
  std::thread creator([&] {
    pqxx::connection connection(database_.RoleConninfo("cf_analytics"));
    for (int month = 3; month <= 12 && !done; ++month) {
      pqxx::work txn(connection);
      const std::string first = absl::StrCat("2018-", month < 10 ? "0" : "", month, "-01");
      txn.exec("SELECT cf_create_metrics_partitions('" + first + "', '" + first + "')");
      txn.commit();
    }
  });
  std::thread one(ingest, 0), two(ingest, 1);
  one.join();
  two.join();
  done = true;
  creator.join();
  EXPECT_EQ(written.load(), 600);
  EXPECT_EQ(MetricsRows(), 600);
  EXPECT_EQ(fixtures_.RollupMismatches(), 0);
  // What the creator made holds its months' rows; the DEFAULT partition holds only the others.
  EXPECT_EQ(fixtures_
                .Query("SELECT count(*) FROM cf_performance_metrics_default d WHERE "
                       "to_regclass('cf_performance_metrics_' || to_char(d.date, "
                       "'YYYY_MM')) IS NOT NULL")[0][0]
                .as<int>(),
            0);
}

TEST_F(MetricsStoreTest, ListsDaysOldestFirstWithTotals) {
  const std::string post = fixtures_.AddPost();
  std::vector<v1::MetricsRow> rows;
  for (int i = 0; i < 5; ++i) rows.push_back(Row(post, day_ + i, 100 + i, 1, 1));
  ASSERT_TRUE(store_.Ingest(Batch(rows)).ok());
  v1::ListMetricsRequest request;
  request.set_published_content_id(post);
  request.set_page_size(3);
  auto first = store_.ListMetrics(request);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->days_size(), 3);
  EXPECT_EQ(first->days(0).row().views(), 100);
  EXPECT_EQ(first->totals().views(), 510);
  EXPECT_EQ(first->days(0).ctr(), "0.0100");
  request.set_page_token(first->next_page_token());
  auto second = store_.ListMetrics(request);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->days_size(), 2);
  EXPECT_EQ(second->days(1).row().views(), 104);
  EXPECT_TRUE(second->next_page_token().empty());
  request.set_published_content_id("00000000-0000-0000-0000-000000000000");
  request.clear_page_token();
  EXPECT_EQ(store_.ListMetrics(request).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace cf::analytics
