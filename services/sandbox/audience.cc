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

Figures FiguresAt(const std::string& platform, const std::string& post_id, absl::Time created_at,
                  absl::Time now, const AudienceClock& clock, const Promotion& promotion) {
  const AudienceTraits traits = TraitsOf(platform, post_id);
  Figures figures;
  const double days = std::max(0.0, absl::FDivDuration(now - created_at, clock.day));
  figures.organic_views = Floor(traits.reach * (1 - std::exp(-days / 2)));
  // Paid views are what the promotion has spent so far, bought at the CPM.
  figures.spend_cents = promotion.earlier_spend_cents;
  if (promotion.daily_budget_cents > 0) {
    const absl::Time end = std::min(now, promotion.ended_at);
    if (end > promotion.started_at) {
      figures.spend_cents +=
          SpendCents(promotion.daily_budget_cents, end - promotion.started_at, clock.day);
    }
  }
  figures.paid_views = static_cast<int64_t>(static_cast<__int128>(figures.spend_cents) * 1000 /
                                            std::max<int64_t>(1, clock.cpm_cents));
  figures.views = figures.organic_views + figures.paid_views;
  const double views = static_cast<double>(figures.views);
  figures.likes = Floor(views * traits.like_rate);
  figures.comments = Floor(views * traits.comment_rate);
  figures.shares = Floor(views * traits.share_rate);
  figures.saves = Floor(views * traits.save_rate);
  figures.reach = Floor(views * traits.reach_rate);
  figures.clicks = Floor(views * traits.click_rate);
  // From views, not from the rounded clicks, so rounding down happens once.
  figures.conversions = Floor(views * traits.click_rate * traits.conversion_rate);
  return figures;
}

}  // namespace cf::sandbox
