// The collector's arithmetic, and its readings recorded in a real PostgreSQL. Reading real
// stats from publishing and the sandbox is covered by tests/integration/analytics_flow_test.
#include "services/analytics/collector.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "common/db/pool.h"
#include "common/testing/postgres.h"
#include "gtest/gtest.h"
#include "services/analytics/analytics_fixtures.h"
#include "services/analytics/metrics_store.h"

namespace cf::analytics {
namespace {

PostTotals Totals(int64_t views, int64_t likes, int64_t clicks = 0, int64_t conversions = 0,
                  int64_t spend_cents = 0) {
  PostTotals totals;
  totals.views = views;
  totals.likes = likes;
  totals.clicks = clicks;
  totals.conversions = conversions;
  totals.spend_cents = spend_cents;
  return totals;
}

TEST(DailyIncreaseTest, IsWhatTheTotalsAddToEarlierDays) {
  DayIncrease day = DailyIncrease(Totals(250, 12, 5, 1, 300), Totals(100, 10, 2, 1, 100),
                                  Totals(100, 10, 2, 1, 100));
  EXPECT_EQ(day.figures.views, 150);
  EXPECT_EQ(day.figures.likes, 2);
  EXPECT_EQ(day.figures.clicks, 3);
  EXPECT_EQ(day.figures.conversions, 0);
  EXPECT_EQ(day.figures.spend_cents, 200);
  EXPECT_FALSE(day.reset);
  EXPECT_TRUE(day.held_back.empty());
}

TEST(DailyIncreaseTest, ATotalThatWentDownIsAResetClampedAtZero) {
  DayIncrease day = DailyIncrease(Totals(90, 12), Totals(100, 10), Totals(100, 10));
  EXPECT_TRUE(day.reset);
  EXPECT_EQ(day.figures.views, 0);
  EXPECT_EQ(day.figures.likes, 2);
}

TEST(DailyIncreaseTest, ClicksAboveViewsAreHeldBack) {
  DayIncrease day = DailyIncrease(Totals(10, 0, 30, 25), Totals(0, 0), std::nullopt);
  EXPECT_EQ(day.figures.clicks, 10);
  EXPECT_EQ(day.figures.conversions, 10);
  EXPECT_EQ(day.held_back, (std::vector<std::string>{"clicks", "conversions"}));
  EXPECT_FALSE(day.reset);
}

// Answers from a script instead of publishing: this test is about what the collector records.
class ScriptedStats : public publishing::PostStatsSource {
 public:
  absl::StatusOr<publishing::v1::PostStats> GetPostStats(const std::string& id,
                                                         const CallContext&) override {
    auto it = answers.find(id);
    if (it == answers.end()) return absl::UnavailableError("publishing is down");
    return it->second;
  }
  std::map<std::string, publishing::v1::PostStats> answers;
};

class CollectorTest : public ::testing::Test {
 protected:
  CollectorTest()
      : pool_(database_.RoleConninfo("cf_analytics"), 2),
        collector_(&pool_, &stats_),
        fixtures_(database_.OwnerConninfo()) {}

  pqxx::result Day(const std::string& post, absl::CivilDay day) {
    return fixtures_.Query(absl::StrCat(
        "SELECT views, likes, clicks, conversions, spend::text FROM cf_performance_metrics WHERE "
        "published_content_id = '",
        post, "' AND date = '", absl::FormatCivilTime(day), "'"));
  }

  cf::testing::TestDatabase database_;
  db::ConnectionPool pool_;
  ScriptedStats stats_;
  Collector collector_;
  AnalyticsFixtures fixtures_;
};

TEST_F(CollectorTest, EachDaysRowIsTheIncreaseAndRecollectingRewritesIt) {
  const std::string post = fixtures_.AddPost();
  const absl::CivilDay day1(2025, 6, 1);
  ASSERT_TRUE(collector_.Record(post, day1, Totals(100, 10, 4, 1, 150)).ok());
  auto day2 = collector_.Record(post, day1 + 1, Totals(250, 12, 6, 1, 250));
  ASSERT_TRUE(day2.ok()) << day2.status();
  EXPECT_EQ(day2->row().views(), 150);
  // Later the same day the totals grew: the day's row is replaced, not added to.
  ASSERT_TRUE(collector_.Record(post, day1 + 1, Totals(260, 12, 6, 1, 250)).ok());
  EXPECT_EQ(Day(post, day1 + 1)[0][0].as<int>(), 160);
  EXPECT_EQ(Day(post, day1 + 1)[0][4].as<std::string>(), "1.00");
  // The platform recounted: views went down. The day is 0, and the reset is recorded.
  auto day3 = collector_.Record(post, day1 + 2, Totals(240, 13, 6, 1, 250));
  ASSERT_TRUE(day3.ok());
  EXPECT_TRUE(day3->reset());
  EXPECT_EQ(Day(post, day1 + 2)[0][0].as<int>(), 0);
  EXPECT_EQ(Day(post, day1 + 2)[0][1].as<int>(), 1);
  // A missed day is caught up by the next reading: 300 - (100 + 160 + 0).
  ASSERT_TRUE(collector_.Record(post, day1 + 4, Totals(300, 13, 6, 1, 250)).ok());
  EXPECT_EQ(Day(post, day1 + 4)[0][0].as<int>(), 40);
  EXPECT_EQ(fixtures_.Query("SELECT count(*) FROM cf_metric_snapshots WHERE reset")[0][0].as<int>(), 1);
  EXPECT_EQ(fixtures_.Query("SELECT views FROM cf_metric_snapshots ORDER BY date DESC")[0][0]
                .as<int>(),
            300);
  EXPECT_EQ(fixtures_.Query("SELECT views FROM cf_metrics_content_rollup")[0][0].as<int>(), 300);
  EXPECT_EQ(fixtures_.RollupMismatches(), 0);
}

TEST_F(CollectorTest, ClicksHeldBackLandOnALaterDay) {
  const std::string post = fixtures_.AddPost();
  const absl::CivilDay day1(2025, 6, 1);
  auto first = collector_.Record(post, day1, Totals(10, 0, 30, 0));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->row().clicks(), 10);
  EXPECT_NE(first->reason().find("clicks"), std::string::npos);
  ASSERT_TRUE(collector_.Record(post, day1 + 1, Totals(50, 0, 30, 0)).ok());
  EXPECT_EQ(Day(post, day1 + 1)[0][2].as<int>(), 20);
  EXPECT_EQ(fixtures_.Query("SELECT clicks FROM cf_metrics_content_rollup")[0][0].as<int>(), 30);
}

TEST_F(CollectorTest, PrivatePostsAreSkippedAndFailuresSaySo) {
  const std::string live = fixtures_.AddPost();
  const std::string private_post = fixtures_.AddPost();
  const std::string unreachable = fixtures_.AddPost();
  fixtures_.Query(absl::StrCat(
      "UPDATE cf_published_content SET platform_post_id = NULL WHERE id = '", private_post, "'"));
  publishing::v1::PostStats stats;
  stats.set_views(500);
  stats.set_likes(50);
  stats.set_clicks(5);
  stats.set_spend("2.50");
  stats_.answers[live] = stats;

  auto response = collector_.CollectMetrics({}, CallContext{});
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->collected(), 1);
  EXPECT_EQ(response->skipped(), 1);
  EXPECT_EQ(response->failed(), 1);
  std::map<std::string, v1::CollectionOutcome> by_post;
  for (const auto& outcome : response->outcomes()) by_post[outcome.published_content_id()] = outcome;
  EXPECT_EQ(by_post[live].row().views(), 500);
  EXPECT_EQ(by_post[live].row().spend(), "2.50");
  EXPECT_NE(by_post[private_post].reason().find("no platform post id"), std::string::npos);
  EXPECT_NE(by_post[unreachable].reason().find("publishing is down"), std::string::npos);
  EXPECT_EQ(Day(live, TodayUtc())[0][0].as<int>(), 500);
  auto status = fixtures_.Query(absl::StrCat(
      "SELECT outcome, reason FROM cf_metric_collection_status WHERE published_content_id = '",
      private_post, "'"));
  ASSERT_EQ(status.size(), 1u);
  EXPECT_EQ(status[0][0].as<std::string>(), "skipped");

  // Collecting again the same day changes nothing.
  ASSERT_TRUE(collector_.CollectMetrics({}, CallContext{}).ok());
  EXPECT_EQ(fixtures_.Query("SELECT sum(views) FROM cf_performance_metrics")[0][0].as<int>(), 500);

  v1::CollectMetricsRequest one;
  one.set_published_content_id("00000000-0000-0000-0000-000000000000");
  EXPECT_EQ(collector_.CollectMetrics(one, CallContext{}).status().code(),
            absl::StatusCode::kNotFound);
  one.set_published_content_id("nope");
  EXPECT_EQ(collector_.CollectMetrics(one, CallContext{}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cf::analytics
