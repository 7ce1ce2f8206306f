// The audience model behind every metric the sandbox reports (README.md, "Audience model").
// Reproducible: a post's figures depend only on its platform, id, age and promotion, drawn from
// a generator seeded by a hash of (platform, post id), so two reads at the same moment agree
// and totals never go down.
#ifndef CF_SERVICES_SANDBOX_AUDIENCE_H_
#define CF_SERVICES_SANDBOX_AUDIENCE_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"

namespace cf::sandbox {

// What is fixed per post, drawn once from its seed.
struct AudienceTraits {
  double reach = 0;  // organic views the post levels off at (log-normal, median 2,000)
  double like_rate = 0;
  double comment_rate = 0;
  double share_rate = 0;
  double save_rate = 0;
  double reach_rate = 0;  // unique accounts per view
  double click_rate = 0;
  double conversion_rate = 0;  // of clicks
};

AudienceTraits TraitsOf(const std::string& platform, const std::string& post_id);

// A post's paid promotion: the running (or last) period at `daily_budget_cents` from
// `started_at` until `ended_at` (InfiniteFuture while it runs), plus what earlier periods spent.
struct Promotion {
  int64_t daily_budget_cents = 0;  // 0: not promoted
  absl::Time started_at = absl::InfinitePast();
  absl::Time ended_at = absl::InfiniteFuture();
  int64_t earlier_spend_cents = 0;
};

struct AudienceClock {
  absl::Duration day = absl::Hours(24);  // --day_seconds
  int64_t cpm_cents = 1000;              // --cpm
};

// A post's true rates, set through the control API: the hidden truth a learning loop is judged
// against. Its daily figures vary around them (Truth::daily_noise), as a real post's do.
struct TrueRates {
  double reach = 0;  // the organic views it levels off at
  double like_rate = 0;
  double comment_rate = 0;
  double share_rate = 0;
  double save_rate = 0;
  double click_rate = 0;       // of views
  double conversion_rate = 0;  // of clicks
};

struct Truth {
  TrueRates rates;
  absl::Time since;  // when the post's audience starts (see --truth_required)
  // Each sandbox day, each rate is the true one times a log-normal factor of mean 1 with this
  // standard deviation of its log, drawn per post, metric and day.
  double daily_noise = 0.25;
};

// Lifetime totals at `now` of a post that came to exist at `created_at`.
struct Figures {
  int64_t organic_views = 0;
  int64_t paid_views = 0;
  int64_t views = 0;
  int64_t likes = 0;
  int64_t comments = 0;
  int64_t shares = 0;
  int64_t saves = 0;
  int64_t reach = 0;
  int64_t clicks = 0;
  int64_t conversions = 0;
  int64_t spend_cents = 0;
};

// What a daily budget spends over `elapsed`, spread evenly over each sandbox `day`: whole cents,
// rounded down, never a float. Nothing for a period that has not begun.
int64_t SpendCents(int64_t daily_budget_cents, absl::Duration elapsed, absl::Duration day);

// Without a truth, from the post's drawn traits (TraitsOf), the same rates every day; with one,
// from its rates, each sandbox day's figures drawn around them, its audience starting at
// truth->since.
Figures FiguresAt(const std::string& platform, const std::string& post_id, absl::Time created_at,
                  absl::Time now, const AudienceClock& clock, const Promotion& promotion = {},
                  const Truth* truth = nullptr);

}  // namespace cf::sandbox

#endif  // CF_SERVICES_SANDBOX_AUDIENCE_H_
