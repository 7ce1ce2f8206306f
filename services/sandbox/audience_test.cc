#include "services/sandbox/audience.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace cf::sandbox {
namespace {

const absl::Time kCreated = absl::FromUnixSeconds(1700000000);
const AudienceClock kClock;  // a real day, $10 CPM

TEST(AudienceTest, FiguresAreReproducible) {
  const absl::Time now = kCreated + absl::Hours(30);
  const Figures a = FiguresAt("tiktok", "7300000000000000001", kCreated, now, kClock);
  const Figures b = FiguresAt("tiktok", "7300000000000000001", kCreated, now, kClock);
  EXPECT_EQ(a.views, b.views);
  EXPECT_EQ(a.likes, b.likes);
  EXPECT_EQ(a.reach, b.reach);
  // Another platform or id is another post.
  EXPECT_NE(a.views, FiguresAt("youtube", "7300000000000000001", kCreated, now, kClock).views);
  EXPECT_NE(a.views, FiguresAt("tiktok", "7300000000000000002", kCreated, now, kClock).views);
}

TEST(AudienceTest, TotalsGrowThenLevelOffAndNeverFall) {
  Figures last;
  for (int hour = 0; hour <= 24 * 20; hour += 6) {
    const Figures now =
        FiguresAt("instagram", "17900000000000001", kCreated, kCreated + absl::Hours(hour), kClock);
    EXPECT_GE(now.views, last.views);
    EXPECT_GE(now.likes, last.likes);
    EXPECT_GE(now.comments, last.comments);
    EXPECT_GE(now.shares, last.shares);
    EXPECT_GE(now.saves, last.saves);
    EXPECT_GE(now.clicks, last.clicks);
    EXPECT_GE(now.conversions, last.conversions);
    last = now;
  }
  const AudienceTraits traits = TraitsOf("instagram", "17900000000000001");
  EXPECT_NEAR(static_cast<double>(last.views), traits.reach, traits.reach * 0.01 + 1);
  EXPECT_EQ(FiguresAt("instagram", "17900000000000001", kCreated, kCreated, kClock).views, 0);
  // Before the post existed: nothing (a clock that went back does not make figures negative).
  EXPECT_EQ(FiguresAt("instagram", "17900000000000001", kCreated, kCreated - absl::Hours(1), kClock)
                .views,
            0);
}

TEST(AudienceTest, ReachIsLogNormalAroundTwoThousandAndRatesAreAboutRight) {
  std::vector<double> reaches;
  double likes = 0, views = 0, comments = 0, shares = 0, saves = 0, clicks = 0, conversions = 0;
  for (int i = 0; i < 2000; ++i) {
    const std::string id = std::to_string(7300000000000000000 + i);
    reaches.push_back(TraitsOf("tiktok", id).reach);
    const Figures f = FiguresAt("tiktok", id, kCreated, kCreated + absl::Hours(24 * 30), kClock);
    views += f.views, likes += f.likes, comments += f.comments, shares += f.shares;
    saves += f.saves, clicks += f.clicks, conversions += f.conversions;
  }
  std::sort(reaches.begin(), reaches.end());
  const double median = reaches[reaches.size() / 2];
  EXPECT_GT(median, 1700);
  EXPECT_LT(median, 2300);
  // sigma 1.2: the 84th percentile is about e^1.2 = 3.3 times the median.
  EXPECT_NEAR(reaches[reaches.size() * 84 / 100] / median, 3.3, 0.5);
  EXPECT_NEAR(likes / views, 0.06, 0.006);
  EXPECT_NEAR(comments / views, 0.008, 0.001);
  EXPECT_NEAR(shares / views, 0.005, 0.0006);
  EXPECT_NEAR(saves / views, 0.007, 0.0008);
  EXPECT_NEAR(clicks / views, 0.015, 0.002);
  // Small counts are rounded down: a few conversions per post come out a little under 4%.
  EXPECT_GT(conversions / clicks, 0.03);
  EXPECT_LT(conversions / clicks, 0.045);
}

TEST(AudienceTest, TheSandboxDayIsTheClock) {
  AudienceClock fast;
  fast.day = absl::Seconds(10);
  const Figures day_two = FiguresAt("youtube", "abc", kCreated, kCreated + absl::Seconds(20), fast);
  const Figures real = FiguresAt("youtube", "abc", kCreated, kCreated + absl::Hours(48), kClock);
  EXPECT_EQ(day_two.views, real.views);
}

TEST(AudienceTest, PromotionSpendsItsDailyBudgetEvenlyOnPaidViews) {
  Promotion promotion;
  promotion.daily_budget_cents = 500;  // $5 a day
  promotion.started_at = kCreated + absl::Hours(24);
  const Figures before =
      FiguresAt("tiktok", "p", kCreated, kCreated + absl::Hours(12), kClock, promotion);
  EXPECT_EQ(before.spend_cents, 0);
  EXPECT_EQ(before.paid_views, 0);
  const Figures half_day =
      FiguresAt("tiktok", "p", kCreated, kCreated + absl::Hours(36), kClock, promotion);
  EXPECT_EQ(half_day.spend_cents, 250);
  EXPECT_EQ(half_day.paid_views, 250);  // $2.50 at $10 per thousand
  const Figures organic = FiguresAt("tiktok", "p", kCreated, kCreated + absl::Hours(36), kClock);
  EXPECT_EQ(half_day.views, organic.views + 250);
  EXPECT_GE(half_day.likes, organic.likes);
}

TEST(AudienceTest, AnEndedPromotionStopsSpendingAndEarlierSpendCounts) {
  Promotion promotion;
  promotion.daily_budget_cents = 2500;
  promotion.started_at = kCreated;
  promotion.ended_at = kCreated + absl::Hours(12);
  promotion.earlier_spend_cents = 100;
  const Figures ended =
      FiguresAt("tiktok", "q", kCreated, kCreated + absl::Hours(48), kClock, promotion);
  EXPECT_EQ(ended.spend_cents, 100 + 1250);
  EXPECT_EQ(ended.paid_views, 1350);
  const Figures during =
      FiguresAt("tiktok", "q", kCreated, kCreated + absl::Hours(6), kClock, promotion);
  EXPECT_EQ(during.spend_cents, 100 + 625);
  EXPECT_EQ(SpendCents(2500, absl::Hours(12), absl::Hours(24)), 1250);
  EXPECT_EQ(SpendCents(2001, absl::Hours(1), absl::Hours(24)), 83);
  EXPECT_EQ(SpendCents(2500, -absl::Hours(1), absl::Hours(24)), 0);
  // At a $12.50 CPM, paid views are spend * 1000 / 1250, rounded down.
  AudienceClock dear;
  dear.cpm_cents = 1250;
  EXPECT_EQ(
      FiguresAt("tiktok", "q", kCreated, kCreated + absl::Hours(48), dear, promotion).paid_views,
      1080);
}

}  // namespace
}  // namespace cf::sandbox

namespace cf::sandbox {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1800000000);

Truth TruthOf(double click_rate, double noise) {
  Truth truth;
  truth.rates.reach = 20000;
  truth.rates.like_rate = 0.05;
  truth.rates.comment_rate = 0.01;
  truth.rates.share_rate = 0.004;
  truth.rates.save_rate = 0.006;
  truth.rates.click_rate = click_rate;
  truth.rates.conversion_rate = 0.1;
  truth.since = kStart;
  truth.daily_noise = noise;
  return truth;
}

// Without noise, a post with a truth shows exactly its rates.
TEST(TruthTest, WithoutNoiseThePostShowsItsRates) {
  const Truth truth = TruthOf(0.02, 0);
  const Figures figures = FiguresAt("tiktok", "7301", kStart, kStart + absl::Hours(24 * 20),
                                    AudienceClock{}, {}, &truth);
  EXPECT_NEAR(static_cast<double>(figures.views), 20000, 1);
  EXPECT_NEAR(static_cast<double>(figures.clicks), figures.views * 0.02, 1);
  EXPECT_NEAR(static_cast<double>(figures.likes), figures.views * 0.05, 1);
  EXPECT_NEAR(static_cast<double>(figures.conversions), figures.views * 0.002, 1);
}

// With noise, each day's rate differs around the truth; totals never fall; over many days the
// clicks per view come back to the truth.
TEST(TruthTest, DailyRatesVaryAroundTheTruthAndTotalsNeverFall) {
  const Truth truth = TruthOf(0.02, 0.25);
  const AudienceClock clock;
  std::vector<double> daily_rates;
  Figures before;
  for (int day = 1; day <= 12; ++day) {
    const Figures now = FiguresAt("instagram", "17900000000000007", kStart,
                                  kStart + absl::Hours(24 * day), clock, {}, &truth);
    EXPECT_GE(now.views, before.views);
    EXPECT_GE(now.clicks, before.clicks);
    EXPECT_GE(now.likes, before.likes);
    EXPECT_GE(now.conversions, before.conversions);
    EXPECT_LE(now.clicks, now.views);
    if (now.views - before.views > 200) {
      daily_rates.push_back(static_cast<double>(now.clicks - before.clicks) /
                            static_cast<double>(now.views - before.views));
    }
    before = now;
  }
  ASSERT_GE(daily_rates.size(), 5u);
  const auto [low, high] = std::minmax_element(daily_rates.begin(), daily_rates.end());
  EXPECT_GT(*high / *low, 1.2) << "the days' rates do not vary";
  // Across many posts of one truth, the lifetime rate averages the truth (within 3%).
  double rate_sum = 0;
  for (int post = 0; post < 400; ++post) {
    const Figures figures = FiguresAt("tiktok", "post-" + std::to_string(post), kStart,
                                      kStart + absl::Hours(24 * 30), clock, {}, &truth);
    rate_sum += static_cast<double>(figures.clicks) / static_cast<double>(figures.views);
  }
  EXPECT_NEAR(rate_sum / 400, 0.02, 0.02 * 0.03);
  // Reproducible: the same read twice agrees.
  const Figures again = FiguresAt("instagram", "17900000000000007", kStart,
                                  kStart + absl::Hours(24 * 12), clock, {}, &truth);
  EXPECT_EQ(again.clicks, before.clicks);
}

// Very short sandbox days over a long life: bounded work, and still the truth's rates.
TEST(TruthTest, ManyShortDaysAreBounded) {
  const Truth truth = TruthOf(0.02, 0);
  AudienceClock clock;
  clock.day = absl::Milliseconds(10);
  const Figures figures =
      FiguresAt("tiktok", "7302", kStart, kStart + absl::Hours(2), clock, {}, &truth);
  EXPECT_NEAR(static_cast<double>(figures.views), 20000, 1);
  EXPECT_NEAR(static_cast<double>(figures.clicks), figures.views * 0.02, 1);
}

// Nothing before the audience starts.
TEST(TruthTest, NothingBeforeTheTruthsStart) {
  Truth truth = TruthOf(0.02, 0.25);
  truth.since = kStart + absl::Hours(48);
  const Figures early =
      FiguresAt("youtube", "yt-1", kStart, kStart + absl::Hours(24), AudienceClock{}, {}, &truth);
  EXPECT_EQ(early.views, 0);
  EXPECT_EQ(early.clicks, 0);
}

}  // namespace
}  // namespace cf::sandbox
