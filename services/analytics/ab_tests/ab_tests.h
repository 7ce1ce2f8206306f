// A/B tests of published posts: each variant is a post, the first variant is the control, and a
// test goes draft -> running -> completed (or draft / running -> cancelled). Every state change
// is one UPDATE fenced on the state it leaves, so of two concurrent calls only one succeeds.
//
// Evaluation (EvaluateAbTest, and CompleteAbTest before it stores the result) reads each
// variant's daily cf_performance_metrics rows from the UTC day the test started to today (for a
// completed test, to the UTC day it completed) and compares every treatment with the control:
//  - CTR (clicks / views) and conversion rate (conversions / clicks) are proportions: a
//    two-proportion z-test per treatment, and the mSPRT always-valid p-value replayed over the
//    days (one look per day with data, on the cumulative counts); chance to be best from
//    Beta(1, 1) posteriors for every variant.
//  - Engagement rate is each day's (likes + comments + shares + saves) / views (days without
//    views are skipped), so it may exceed 1 and is not a proportion: Welch's t-test on the daily
//    rates, and the always-valid p of the difference of means replayed day by day: one look per
//    day with data once both arms have at least two daily rates, each look the two-sample t
//    mixture likelihood ratio of stats::UpdateSequentialMeans on all the daily rates so far. That
//    ratio is exact for the small samples of the first days (no variance is estimated and plugged
//    in) and scale-free (the mixture is over the difference in units of the day-to-day standard
//    deviation, so it suits rates of 0.05 and of 2 alike); it cannot reach 1/alpha at alpha 0.05
//    before both arms have 4 daily rates, and stays valid however often it is looked at.
//    chance_to_be_best stays 0 for it.
//
// The deciding p-value of a comparison is Comparison.p_value_holm: Holm's adjustment, over the
// treatments, of the mode's raw p-values (fixed horizon: the z / Welch p_value; sequential: the
// always-valid p_value_always_valid). `significant` is p_value_holm < alpha. Both raw p-values
// are always filled; difference_ci_low/high is the fixed-horizon 95% interval in both modes.
//
// The winner: among treatments significantly better than the control (deciding p < alpha and a
// positive difference), the one with the highest rate; if no treatment is better but every one is
// significantly worse, the control, whose deciding p is then the largest of the treatments'. No
// winner when a sample-ratio mismatch is found (only checked when every variant has a budget:
// observed views against the split the budgets plan), or before every variant has min_sample
// trials (views for CTR and engagement, clicks for conversion rate), or when neither rule applies.
//
// CONFIDENCE = 1 - the winner's deciding p-value (p_value_holm above: Holm-adjusted z / Welch p in
// fixed-horizon mode, Holm-adjusted always-valid p in sequential mode; for a winning control, the
// largest deciding p of the treatments). AbTestEvaluation.confidence holds it as a double;
// cf_ab_tests.confidence (DECIMAL(3,2)) and AbTest.confidence hold it truncated to two decimals,
// never rounded up, and "1.00" only when the deciding p is exactly 0 (see TruncatedConfidenceOfP).
// Without a winner both are empty / NULL.
#ifndef CF_SERVICES_ANALYTICS_AB_TESTS_AB_TESTS_H_
#define CF_SERVICES_ANALYTICS_AB_TESTS_AB_TESTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "cf/analytics/v1/analytics.pb.h"
#include "common/db/pool.h"
#include "services/analytics/stats/stats.h"

namespace cf::analytics {

constexpr int kMinAbVariants = 2;
constexpr int kMaxAbVariants = 10;
constexpr int kMaxAbTestNameLength = 200;      // characters (UTF-8 code points)
constexpr int kMaxAbVariantLabelLength = 100;  // characters (UTF-8 code points)
constexpr double kDefaultAbAlpha = 0.05;
constexpr int64_t kDefaultAbMinViews = 1000;  // CTR and engagement rate
constexpr int64_t kDefaultAbMinClicks = 100;  // conversion rate

// One day of a variant's metrics.
struct AbDayCounts {
  absl::CivilDay day;
  int64_t views = 0;
  int64_t clicks = 0;
  int64_t conversions = 0;
  int64_t interactions = 0;  // likes + comments + shares + saves
};

// A variant with its days in the evaluated range (at most one entry per day, any order).
struct AbVariantFigures {
  std::string label;
  std::string published_content_id;
  std::string budget;  // "" when none
  std::vector<AbDayCounts> days;
};

// Evaluation settings with the defaults applied.
struct AbEvaluationOptions {
  v1::AbMetric metric = v1::AB_METRIC_CTR;
  v1::AbMode mode = v1::AB_MODE_SEQUENTIAL;
  double alpha = kDefaultAbAlpha;
  int64_t min_sample = kDefaultAbMinViews;
  // τ² of the always-valid p of CTR and conversion rate (stats.h), fixed before any data is
  // seen; not settable from the API. The default, (0.005)² = (10% of a 5% rate)², suits both:
  // click-through and conversion rates of short videos sit at a few percent.
  double mixing_variance = stats::kDefaultMixingVariance;
  // g of the engagement rate's always-valid p (stats::UpdateSequentialMeans): the mixture's
  // variance of the difference of mean daily rates in units of the daily rates' own variance, so
  // it needs no knowledge of the rates' scale. Not settable from the API.
  double standardized_mixing_variance = stats::kDefaultStandardizedMixingVariance;
};

// The request's metric, mode, alpha and min_sample with defaults applied (0 / unspecified ->
// default), or INVALID_ARGUMENT naming each bad one: an unknown enum, alpha outside (0, 0.5],
// a negative min_sample.
absl::StatusOr<AbEvaluationOptions> AbEvaluationOptionsOf(v1::AbMetric metric, v1::AbMode mode,
                                                          double alpha, int64_t min_sample);

// The statistics decision, a pure function of the figures: `variants[0]` is the control. Fills
// everything of the evaluation but ab_test_id, first_day and last_day.
v1::AbTestEvaluation DecideAbTest(const std::vector<AbVariantFigures>& variants,
                                  const AbEvaluationOptions& options);

// The confidence as stored: `confidence` (clamped into [0, 1]) truncated to two decimals, e.g.
// 0.949 -> "0.94", 0.9999999 -> "0.99", 1 -> "1.00". The double is first rounded to 15 decimal
// places, about the precision a double carries in [0, 1], so that a value the double cannot hold
// exactly keeps its hundredths (0.95 is held as 0.94999999999999996 and stays "0.95"); the
// truncation itself is on decimal digits, exact. That rounding never reaches 1: any confidence
// below 1 (e.g. 1 - 2e-16, which prints as 1.000000000000000) gives at most "0.99"; only exactly 1
// (or more) gives "1.00". "" for NaN.
std::string TruncatedConfidence(double confidence);
// The same for the confidence 1 - `deciding_p`, from the p-value itself, since 1 - p rounds to
// exactly 1 in a double for p below ~1.1e-16: "1.00" only when p <= 0, at most "0.99" for any
// p > 0. "" for NaN. CompleteAbTest stores this.
std::string TruncatedConfidenceOfP(double deciding_p);

class AbTests {
 public:
  explicit AbTests(db::ConnectionPool* pool) : pool_(pool) {}

  // INVALID_ARGUMENT naming each bad field ("name", "variants", "variants[1].label",
  // "variants[2].published_content_id", "variants[0].budget"); nothing is written then.
  absl::StatusOr<v1::AbTest> CreateAbTest(const v1::CreateAbTestRequest& request);
  absl::StatusOr<v1::AbTest> GetAbTest(const v1::GetAbTestRequest& request);
  // Newest first, optionally one state; keyset pages.
  absl::StatusOr<v1::ListAbTestsResponse> ListAbTests(const v1::ListAbTestsRequest& request);
  // draft -> running; FAILED_PRECONDITION naming the state otherwise.
  absl::StatusOr<v1::AbTest> StartAbTest(const v1::StartAbTestRequest& request);
  // Running or completed tests; FAILED_PRECONDITION for drafts and cancelled tests.
  absl::StatusOr<v1::AbTestEvaluation> EvaluateAbTest(const v1::EvaluateAbTestRequest& request);
  // running -> completed with the evaluation's winner and truncated confidence.
  absl::StatusOr<v1::AbTest> CompleteAbTest(const v1::CompleteAbTestRequest& request);
  // draft or running -> cancelled.
  absl::StatusOr<v1::AbTest> CancelAbTest(const v1::CancelAbTestRequest& request);

 private:
  // Reads the test (NOT_FOUND when there is none), checks it is in one of `states` (else
  // FAILED_PRECONDITION saying what `action` needs) and evaluates it on its metrics.
  // `winner_p`, when given, receives the winner's deciding p (1 without a winner).
  absl::StatusOr<v1::AbTestEvaluation> LoadAndEvaluate(const std::string& id,
                                                       const AbEvaluationOptions& options,
                                                       const std::vector<std::string>& states,
                                                       const std::string& action,
                                                       double* winner_p = nullptr);

  db::ConnectionPool* pool_;
};

}  // namespace cf::analytics

#endif  // CF_SERVICES_ANALYTICS_AB_TESTS_AB_TESTS_H_
