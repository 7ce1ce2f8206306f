#include "services/sandbox/audience.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace cf::sandbox {
namespace {

// FNV-1a: a hash that is the same in every build (std::hash is not).
uint64_t StableHash(const std::string& text) {
  uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

// Draws built on mt19937_64's raw output only, whose sequence the standard fixes (the
// standard distributions' algorithms differ between libraries).
class Draws {
 public:
  explicit Draws(uint64_t seed) : random_(seed) {}
  double Uniform() {  // (0, 1)
    return (static_cast<double>(random_() >> 11) + 0.5) * 0x1.0p-53;
  }
  double Normal() {  // Box-Muller
    return std::sqrt(-2 * std::log(Uniform())) * std::cos(2 * M_PI * Uniform());
  }
  // `mean` give or take a quarter.
  double Around(double mean) { return mean * (0.75 + 0.5 * Uniform()); }

 private:
  std::mt19937_64 random_;
};

int64_t Floor(double value) { return static_cast<int64_t>(std::floor(std::max(0.0, value))); }

}  // namespace

AudienceTraits TraitsOf(const std::string& platform, const std::string& post_id) {
  Draws draws(StableHash(platform + "\n" + post_id));
  AudienceTraits traits;
  traits.reach = std::exp(std::log(2000.0) + 1.2 * draws.Normal());
  traits.like_rate = draws.Around(0.06);
  traits.comment_rate = draws.Around(0.008);
  traits.share_rate = draws.Around(0.005);
  traits.save_rate = draws.Around(0.007);
  traits.reach_rate = 0.7 + 0.25 * draws.Uniform();
  traits.click_rate = draws.Around(0.015);
  traits.conversion_rate = draws.Around(0.04);
  return traits;
}

int64_t SpendCents(int64_t daily_budget_cents, absl::Duration elapsed, absl::Duration day) {
  if (daily_budget_cents <= 0 || elapsed <= absl::ZeroDuration()) return 0;
  const int64_t elapsed_ms = absl::ToInt64Milliseconds(elapsed);
  const int64_t day_ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(day));
  return static_cast<int64_t>(static_cast<__int128>(daily_budget_cents) * elapsed_ms / day_ms);
}

namespace {

// What a promotion has spent by `at`.
int64_t SpentBy(const Promotion& promotion, absl::Time at, absl::Duration day) {
  int64_t spent = promotion.earlier_spend_cents;
  if (promotion.daily_budget_cents > 0) {
    const absl::Time end = std::min(at, promotion.ended_at);
    if (end > promotion.started_at) {
      spent += SpendCents(promotion.daily_budget_cents, end - promotion.started_at, day);
    }
  }
  return spent;
}

int64_t PaidViews(int64_t spend_cents, const AudienceClock& clock) {
  return static_cast<int64_t>(static_cast<__int128>(spend_cents) * 1000 /
                              std::max<int64_t>(1, clock.cpm_cents));
}

double OrganicViews(double reach, absl::Time start, absl::Time at, absl::Duration day) {
  const double days = std::max(0.0, absl::FDivDuration(at - start, day));
  return reach * (1 - std::exp(-days / 2));
}

// The day's factor on one rate: log-normal with mean 1.
double DailyFactor(const std::string& platform, const std::string& post_id, const char* metric,
                   int64_t day, double noise) {
  if (noise <= 0) return 1;
  Draws draws(StableHash(platform + "\n" + post_id + "\n" + metric + "\n" + std::to_string(day)));
  return std::exp(noise * draws.Normal() - noise * noise / 2);
}

// Lifetime figures of a post with a truth: each day's new views at that day's rates.
void FollowTheTruth(const std::string& platform, const std::string& post_id, const Truth& truth,
                    absl::Time now, const AudienceClock& clock, const Promotion& promotion,
                    Figures* figures) {
  const TrueRates& rates = truth.rates;
  auto views_at = [&](absl::Time at) {
    return OrganicViews(rates.reach, truth.since, at, clock.day) +
           static_cast<double>(PaidViews(SpentBy(promotion, at, clock.day), clock));
  };
  double likes = 0, comments = 0, shares = 0, saves = 0, clicks = 0, conversions = 0;
  // Day by day; past kMaxDays (short sandbox days, a long-lived post) the rest is one step.
  constexpr int64_t kMaxDays = 10000;
  for (int64_t day = 0; day < kMaxDays && truth.since + day * clock.day < now; ++day) {
    const absl::Time from = truth.since + day * clock.day;
    const absl::Time to = day + 1 == kMaxDays ? now : std::min(now, from + clock.day);
    const double views = std::max(0.0, views_at(to) - views_at(from));
    auto at_rate = [&](double rate, const char* metric) {
      return views * rate * DailyFactor(platform, post_id, metric, day, truth.daily_noise);
    };
    likes += at_rate(rates.like_rate, "likes");
    comments += at_rate(rates.comment_rate, "comments");
    shares += at_rate(rates.share_rate, "shares");
    saves += at_rate(rates.save_rate, "saves");
    const double day_clicks = at_rate(rates.click_rate, "clicks");
    clicks += day_clicks;
    conversions += day_clicks * std::min(1.0, rates.conversion_rate *
                                                  DailyFactor(platform, post_id, "conversions", day,
                                                              truth.daily_noise));
  }
  figures->likes = Floor(likes);
  figures->comments = Floor(comments);
  figures->shares = Floor(shares);
  figures->saves = Floor(saves);
  figures->clicks = std::min(Floor(clicks), figures->views);
  figures->conversions = std::min(Floor(conversions), figures->clicks);
}

}  // namespace

Figures FiguresAt(const std::string& platform, const std::string& post_id, absl::Time created_at,
                  absl::Time now, const AudienceClock& clock, const Promotion& promotion,
                  const Truth* truth) {
  const AudienceTraits traits = TraitsOf(platform, post_id);
  Figures figures;
  figures.organic_views =
      truth == nullptr ? Floor(OrganicViews(traits.reach, created_at, now, clock.day))
                       : Floor(OrganicViews(truth->rates.reach, truth->since, now, clock.day));
  // Paid views are what the promotion has spent so far, bought at the CPM.
  figures.spend_cents = SpentBy(promotion, now, clock.day);
  figures.paid_views = PaidViews(figures.spend_cents, clock);
  figures.views = figures.organic_views + figures.paid_views;
  const double views = static_cast<double>(figures.views);
  figures.reach = Floor(views * traits.reach_rate);
  if (truth != nullptr) {
    FollowTheTruth(platform, post_id, *truth, now, clock, promotion, &figures);
    return figures;
  }
  figures.likes = Floor(views * traits.like_rate);
  figures.comments = Floor(views * traits.comment_rate);
  figures.shares = Floor(views * traits.share_rate);
  figures.saves = Floor(views * traits.save_rate);
  figures.clicks = Floor(views * traits.click_rate);
  // From views, not from the rounded clicks, so rounding down happens once.
  figures.conversions = Floor(views * traits.click_rate * traits.conversion_rate);
  return figures;
}

}  // namespace cf::sandbox
