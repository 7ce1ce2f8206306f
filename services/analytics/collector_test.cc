// The collector's arithmetic, and its readings recorded in a real PostgreSQL. Reading real
// stats from publishing and the sandbox is covered by tests/integration/publish_flow_test.
#include "services/analytics/collector.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
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

Snapshot Previous(PostTotals totals, int64_t carried_clicks = 0, int64_t carried_conversions = 0) {
  return Snapshot{totals, carried_clicks, carried_conversions};
}

TEST(DailyIncreaseTest, IsTheDifferenceFromThePreviousSnapshot) {
  DayIncrease day = DailyIncrease(Totals(250, 12, 5, 1, 300), Previous(Totals(100, 10, 2, 1, 100)));
  EXPECT_EQ(day.figures.views, 150);
  EXPECT_EQ(day.figures.likes, 2);
  EXPECT_EQ(day.figures.clicks, 3);
  EXPECT_EQ(day.figures.conversions, 0);
  EXPECT_EQ(day.figures.spend_cents, 200);
  EXPECT_FALSE(day.reset);
  EXPECT_EQ(day.carried_clicks, 0);
}

TEST(DailyIncreaseTest, AFirstReadingIsTheWholeLifeSoFar) {
  DayIncrease day = DailyIncrease(Totals(700, 40, 9, 2, 0), std::nullopt);
  EXPECT_EQ(day.figures.views, 700);
  EXPECT_EQ(day.figures.clicks, 9);
  EXPECT_FALSE(day.reset);
}

// 100 -> 90 -> 95: the recount day is 0 (a reset), and the next day counts from 90.
TEST(DailyIncreaseTest, ATotalThatWentDownIsAResetClampedAtZero) {
  DayIncrease down = DailyIncrease(Totals(90, 12), Previous(Totals(100, 10)));
  EXPECT_TRUE(down.reset);
  EXPECT_EQ(down.figures.views, 0);
  EXPECT_EQ(down.figures.likes, 2);
  DayIncrease up = DailyIncrease(Totals(95, 12), Previous(Totals(90, 12)));
  EXPECT_FALSE(up.reset);
  EXPECT_EQ(up.figures.views, 5);
}

TEST(DailyIncreaseTest, ClicksAboveViewsAreCarriedToALaterDay) {
  DayIncrease first = DailyIncrease(Totals(10, 0, 30, 25), std::nullopt);
  EXPECT_EQ(first.figures.clicks, 10);
  EXPECT_EQ(first.figures.conversions, 10);
  EXPECT_EQ(first.carried_clicks, 20);
  EXPECT_EQ(first.carried_conversions, 15);
  // The next day brings 40 views and no new clicks: the carried 20 clicks fit now, and 15 + 0
  // conversions fit under them.
  DayIncrease next = DailyIncrease(Totals(50, 0, 30, 25), Previous(Totals(10, 0, 30, 25), 20, 15));
  EXPECT_EQ(next.figures.clicks, 20);
  EXPECT_EQ(next.figures.conversions, 15);
  EXPECT_EQ(next.carried_clicks, 0);
  EXPECT_EQ(next.carried_conversions, 0);
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

TEST_F(CollectorTest, EachDaysRowIsTheDifferenceAndRecollectingRewritesIt) {
  PostSpec spec;
  spec.published_at = "2025-06-01 09:00:00+00";
  const std::string post = fixtures_.AddPost(spec);
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
  // A missed day is caught up by the next reading, counted from the last snapshot: 300 - 240.
  ASSERT_TRUE(collector_.Record(post, day1 + 4, Totals(300, 13, 6, 1, 250)).ok());
  EXPECT_EQ(Day(post, day1 + 4)[0][0].as<int>(), 60);
  EXPECT_EQ(fixtures_.Query("SELECT count(*) FROM cf_metric_snapshots WHERE reset")[0][0].as<int>(),
            1);
  EXPECT_EQ(
      fixtures_.Query("SELECT views FROM cf_metric_snapshots ORDER BY date DESC")[0][0].as<int>(),
      300);
  EXPECT_EQ(fixtures_.Query("SELECT views FROM cf_metrics_content_rollup")[0][0].as<int>(),
            100 + 160 + 0 + 60);
  EXPECT_EQ(fixtures_.RollupMismatches(), 0);
}

// A figure the platform or the affiliate report could not give this time is unavailable: it
// keeps its last known value, so the lifetime totals never drop and no reset is recorded.
TEST_F(CollectorTest, AnUnavailableFigureKeepsItsLastKnownValue) {
  PostSpec spec;
  spec.published_at = "2025-06-01 09:00:00+00";
  const std::string post = fixtures_.AddPost(spec);
  const absl::CivilDay day1(2025, 6, 1);
  ASSERT_TRUE(collector_.Record(post, day1, Totals(100, 10, 4, 1, 150)).ok());
  // Day 2: the affiliate report did not answer (clicks, conversions, spend come as 0).
  PostTotals partial = Totals(180, 12, 0, 0, 0);
  auto day2 = collector_.Record(post, day1 + 1, partial, {"clicks", "conversions", "spend"});
  ASSERT_TRUE(day2.ok()) << day2.status();
  EXPECT_FALSE(day2->reset());
  EXPECT_EQ(day2->row().views(), 80);
  EXPECT_EQ(day2->row().clicks(), 0);
  EXPECT_EQ(day2->row().spend(), "0.00");
  EXPECT_EQ(fixtures_
                .Query("SELECT clicks, spend::text FROM cf_metric_snapshots ORDER BY date "
                       "DESC")[0][0]
                .as<int>(),
            4);
  // Day 3: it answers again; the clicks since day 1 land on day 3.
  auto day3 = collector_.Record(post, day1 + 2, Totals(200, 12, 7, 1, 200));
  ASSERT_TRUE(day3.ok()) << day3.status();
  EXPECT_FALSE(day3->reset());
  EXPECT_EQ(day3->row().clicks(), 3);
  EXPECT_EQ(day3->row().spend(), "0.50");
  EXPECT_EQ(fixtures_.Query("SELECT count(*) FROM cf_metric_snapshots WHERE reset")[0][0].as<int>(),
            0);
  EXPECT_EQ(fixtures_.RollupMismatches(), 0);
}

TEST_F(CollectorTest, AnOldPostsFirstReadingIsBookedOnItsPublishDay) {
  PostSpec spec;
  spec.published_at = "2025-02-10 23:30:00+00";
  const std::string post = fixtures_.AddPost(spec);
  auto first = collector_.Record(post, absl::CivilDay(2025, 6, 1), Totals(5000, 300, 40, 2));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->row().date().month(), 2);
  EXPECT_EQ(first->row().date().day(), 10);
  EXPECT_EQ(Day(post, absl::CivilDay(2025, 2, 10))[0][0].as<int>(), 5000);
  // The next day counts from that snapshot.
  auto next = collector_.Record(post, absl::CivilDay(2025, 6, 2), Totals(5100, 300, 40, 2));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(Day(post, absl::CivilDay(2025, 6, 2))[0][0].as<int>(), 100);
}

TEST_F(CollectorTest, ClicksCarriedLandOnALaterDay) {
  PostSpec spec;
  spec.published_at = "2025-06-01 00:00:00+00";
  const std::string post = fixtures_.AddPost(spec);
  const absl::CivilDay day1(2025, 6, 1);
  auto first = collector_.Record(post, day1, Totals(10, 0, 30, 0));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->row().clicks(), 10);
  EXPECT_NE(first->reason().find("20 clicks"), std::string::npos) << first->reason();
  ASSERT_TRUE(collector_.Record(post, day1 + 1, Totals(50, 0, 30, 0)).ok());
  EXPECT_EQ(Day(post, day1 + 1)[0][2].as<int>(), 20);
  EXPECT_EQ(fixtures_.Query("SELECT clicks FROM cf_metrics_content_rollup")[0][0].as<int>(), 30);
}

// Posts are read several at a time; each is collected once, and a caller out of time gets
// the rest counted as unfinished.
TEST_F(CollectorTest, ReadsPostsConcurrentlyAndStopsAtTheDeadline) {
  Collector concurrent(&pool_, &stats_, 4);
  std::vector<std::string> posts;
  for (int i = 0; i < 30; ++i) {
    posts.push_back(fixtures_.AddPost());
    publishing::v1::PostStats stats;
    stats.set_views(100 + i);
    stats_.answers[posts.back()] = stats;
  }
  auto response = concurrent.CollectMetrics({}, CallContext{});
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->collected(), 30);
  EXPECT_EQ(response->outcomes_size(), 30);
  EXPECT_EQ(fixtures_.Query("SELECT sum(views) FROM cf_performance_metrics")[0][0].as<int>(),
            30 * 100 + 29 * 30 / 2);
  CallContext late;
  late.deadline = absl::Now() - absl::Seconds(1);
  auto cut_short = concurrent.CollectMetrics({}, late);
  ASSERT_TRUE(cut_short.ok());
  EXPECT_EQ(cut_short->unfinished(), 30);
  EXPECT_EQ(cut_short->collected(), 0);
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
  for (const auto& outcome : response->outcomes())
    by_post[outcome.published_content_id()] = outcome;
  EXPECT_EQ(by_post[live].row().views(), 500);
  EXPECT_EQ(by_post[live].row().spend(), "2.50");
  EXPECT_NE(by_post[private_post].reason().find("no platform post id"), std::string::npos);
  EXPECT_NE(by_post[unreachable].reason().find("publishing is down"), std::string::npos);
  // Its first reading: booked on the day it was published.
  EXPECT_EQ(Day(live, absl::CivilDay(2025, 1, 1))[0][0].as<int>(), 500);
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
