#include "services/analytics/ab_tests/ab_tests.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/db/values.h"
#include "common/money/money.h"
#include "common/paging/page_token.h"
#include "common/status/status.h"
#include "common/validation/ids.h"
#include "services/analytics/metrics_store.h"
#include "services/analytics/stats/stats.h"

namespace cf::analytics {
namespace {

// ---------------------------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------------------------

// A variant's figures over the range, summed and per day.
struct Arm {
  int64_t views = 0;
  int64_t clicks = 0;
  int64_t conversions = 0;
  int64_t days = 0;  // days with a metrics row
  std::map<absl::CivilDay, AbDayCounts> by_day;
  stats::Proportion proportion;     // the metric's successes / trials (proportions)
  std::vector<double> daily_rates;  // engagement: one per day with views, in day order
  int64_t trials = 0;               // what min_sample counts
  double rate = 0;
};

bool IsMeans(v1::AbMetric metric) { return metric == v1::AB_METRIC_ENGAGEMENT_RATE; }

stats::Proportion ProportionOf(v1::AbMetric metric, const AbDayCounts& counts) {
  if (metric == v1::AB_METRIC_CONVERSION_RATE) return {counts.conversions, counts.clicks};
  return {counts.clicks, counts.views};
}

const char* TrialsName(v1::AbMetric metric) {
  return metric == v1::AB_METRIC_CONVERSION_RATE ? "clicks" : "views";
}

Arm ArmOf(const AbVariantFigures& figures, v1::AbMetric metric) {
  Arm arm;
  for (const AbDayCounts& day : figures.days) {
    AbDayCounts& merged = arm.by_day[day.day];  // a repeated day adds up
    merged.day = day.day;
    merged.views += day.views;
    merged.clicks += day.clicks;
    merged.conversions += day.conversions;
    merged.interactions += day.interactions;
  }
  arm.days = static_cast<int64_t>(arm.by_day.size());
  for (const auto& [day, counts] : arm.by_day) {
    arm.views += counts.views;
    arm.clicks += counts.clicks;
    arm.conversions += counts.conversions;
    if (counts.views > 0) {
      arm.daily_rates.push_back(static_cast<double>(counts.interactions) /
                                static_cast<double>(counts.views));
    }
  }
  AbDayCounts totals;
  totals.views = arm.views;
  totals.clicks = arm.clicks;
  totals.conversions = arm.conversions;
  arm.proportion = ProportionOf(metric, totals);
  arm.trials = arm.proportion.trials;  // views for CTR and engagement, clicks for conversions
  if (IsMeans(metric)) {
    double sum = 0;
    for (double rate : arm.daily_rates) sum += rate;
    arm.rate = arm.daily_rates.empty() ? 0 : sum / static_cast<double>(arm.daily_rates.size());
  } else {
    arm.rate = arm.proportion.trials > 0 ? static_cast<double>(arm.proportion.successes) /
                                               static_cast<double>(arm.proportion.trials)
                                         : 0;
  }
  return arm;
}

// The always-valid p of treatment vs control, one look per day of `days` (ascending) on the
// cumulative counts (proportions) or the daily rates so far (engagement).
//
// Engagement used to plug V = s_c²/n_c + s_t²/n_t, estimated from the daily rates, into the
// normal mixture with the proportions' fixed τ² = 2.5e-5. With two or three days s² is often tiny
// by chance, Λ explodes, and the running minimum keeps that early dip: simulated A/A tests looked
// at daily for 30 days declared 7–14% false winners at alpha 0.05. The t mixture of
// stats::UpdateSequentialMeans replaces it: it integrates the unknown day-to-day variance out
// instead of plugging an estimate in, so it is a test martingale under H0 from the first look and
// needs no burn-in (its evidence is capped at b^(ν/2) while days are few: no look can decide at
// alpha 0.05 before 4 daily rates per arm), and its mixture is on the standardized difference, so
// it does not depend on whether the rates sit at 0.05 or at 2 (a fixed τ² tuned for CTR-sized
// differences does). ab_tests/decision_aa_simulation_test checks both through DecideAbTest.
double AlwaysValidP(const Arm& control, const Arm& treatment, const std::set<absl::CivilDay>& days,
                    const AbEvaluationOptions& options) {
  stats::SequentialState state;
  if (IsMeans(options.metric)) {
    std::vector<double> control_rates, treatment_rates;
    for (absl::CivilDay day : days) {
      for (auto [arm, rates] : {std::make_pair(&control, &control_rates),
                                std::make_pair(&treatment, &treatment_rates)}) {
        auto it = arm->by_day.find(day);
        if (it != arm->by_day.end() && it->second.views > 0) {
          rates->push_back(static_cast<double>(it->second.interactions) /
                           static_cast<double>(it->second.views));
        }
      }
      if (control_rates.size() < 2 || treatment_rates.size() < 2) continue;
      state = stats::UpdateSequentialMeans(state, control_rates, treatment_rates,
                                           options.standardized_mixing_variance);
    }
    return state.always_valid_p;
  }
  stats::Proportion control_so_far, treatment_so_far;
  for (absl::CivilDay day : days) {
    for (auto [arm, so_far] : {std::make_pair(&control, &control_so_far),
                               std::make_pair(&treatment, &treatment_so_far)}) {
      auto it = arm->by_day.find(day);
      if (it == arm->by_day.end()) continue;
      const stats::Proportion today = ProportionOf(options.metric, it->second);
      so_far->successes += today.successes;
      so_far->trials += today.trials;
    }
    state =
        stats::UpdateSequential(state, control_so_far, treatment_so_far, options.mixing_variance);
  }
  return state.always_valid_p;
}

std::string P(double p) { return absl::StrFormat("%.3g", p); }

std::string Quoted(const std::string& label) { return absl::StrCat("\"", label, "\""); }

// ---------------------------------------------------------------------------------------------
// Storage
// ---------------------------------------------------------------------------------------------

// Every read of a test selects these, in this order.
std::string TestColumns() {
  return absl::StrCat(
      "id::text, name, array_to_json(variants)::text, status, winner_id::text, confidence::text, ",
      db::MicrosOf("created_at"), ", ", db::MicrosOf("started_at"), ", ",
      db::MicrosOf("completed_at"),
      ", created_at::text, to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), "
      "to_char(completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')");
}
std::string TestByIdSql() {
  return absl::StrCat("SELECT ", TestColumns(), " FROM cf_ab_tests WHERE id = $1::uuid");
}

enum Column {
  kId = 0,
  kName,
  kVariants,
  kStatus,
  kWinner,
  kConfidence,
  kCreatedMicros,
  kStartedMicros,
  kCompletedMicros,
  kCreatedText,
  kStartDay,
  kCompleteDay,
};

v1::AbTestState StateOf(const std::string& status) {
  if (status == "draft") return v1::AB_TEST_STATE_DRAFT;
  if (status == "running") return v1::AB_TEST_STATE_RUNNING;
  if (status == "completed") return v1::AB_TEST_STATE_COMPLETED;
  if (status == "cancelled") return v1::AB_TEST_STATE_CANCELLED;
  return v1::AB_TEST_STATE_UNSPECIFIED;
}

const char* StatusOf(v1::AbTestState state) {
  switch (state) {
    case v1::AB_TEST_STATE_DRAFT:
      return "draft";
    case v1::AB_TEST_STATE_RUNNING:
      return "running";
    case v1::AB_TEST_STATE_COMPLETED:
      return "completed";
    case v1::AB_TEST_STATE_CANCELLED:
      return "cancelled";
    default:
      return "";
  }
}

std::string Text(const pqxx::field& field) { return field.is_null() ? "" : field.c_str(); }

std::string JsonString(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

v1::AbTest TestOf(const pqxx::row& row) {
  v1::AbTest test;
  test.set_id(row[kId].c_str());
  test.set_name(Text(row[kName]));
  const nlohmann::json variants = nlohmann::json::parse(Text(row[kVariants]), nullptr, false);
  if (variants.is_array()) {
    for (const nlohmann::json& element : variants) {
      if (!element.is_object()) continue;
      v1::AbVariant* variant = test.add_variants();
      variant->set_label(JsonString(element, "label"));
      variant->set_published_content_id(JsonString(element, "published_content_id"));
      variant->set_assembled_content_id(JsonString(element, "assembled_content_id"));
      variant->set_budget(JsonString(element, "budget"));
    }
  }
  test.set_state(StateOf(Text(row[kStatus])));
  test.set_winner_published_content_id(Text(row[kWinner]));
  test.set_confidence(Text(row[kConfidence]));
  if (!row[kCreatedMicros].is_null()) {
    db::SetTimestamp(row[kCreatedMicros].as<int64_t>(), test.mutable_create_time());
  }
  if (!row[kStartedMicros].is_null()) {
    db::SetTimestamp(row[kStartedMicros].as<int64_t>(), test.mutable_start_time());
  }
  if (!row[kCompletedMicros].is_null()) {
    db::SetTimestamp(row[kCompletedMicros].as<int64_t>(), test.mutable_complete_time());
  }
  return test;
}

// Characters of UTF-8 text (bytes that do not continue a sequence).
size_t CharactersOf(const std::string& text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

// FAILED_PRECONDITION (or NOT_FOUND) after a fenced UPDATE matched no row.
absl::Status WhyNotUpdated(pqxx::work& txn, const std::string& id, const std::string& needs) {
  pqxx::result rows = txn.exec_params("SELECT status FROM cf_ab_tests WHERE id = $1::uuid", id);
  if (rows.empty()) return absl::NotFoundError(absl::StrCat("A/B test ", id, " not found"));
  return absl::FailedPreconditionError(
      absl::StrCat("A/B test ", id, " is ", Text(rows[0][0]), "; ", needs));
}

// One UPDATE fenced on the state it leaves (its WHERE), returning the test's columns.
template <typename... Args>
absl::StatusOr<v1::AbTest> FencedUpdate(db::ConnectionPool* pool, const std::string& sql,
                                        const std::string& id, const std::string& needs,
                                        Args&&... args) {
  std::optional<v1::AbTest> updated;
  absl::Status status = pool->Transact([&](pqxx::work& txn) {
    pqxx::result rows = txn.exec_params(sql, id, std::forward<Args>(args)...);
    if (rows.empty()) return WhyNotUpdated(txn, id, needs);
    updated = TestOf(rows[0]);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return *updated;
}

constexpr char kMetricsSql[] = R"sql(
  SELECT published_content_id::text, to_char(date, 'YYYY-MM-DD'), COALESCE(views, 0)::bigint,
         COALESCE(clicks, 0)::bigint, COALESCE(conversions, 0)::bigint,
         COALESCE(likes, 0)::bigint + COALESCE(comments, 0) + COALESCE(shares, 0) +
           COALESCE(saves, 0)
    FROM cf_performance_metrics
   WHERE published_content_id = ANY($1::uuid[]) AND date >= $2::date AND date <= $3::date)sql";

}  // namespace

// ---------------------------------------------------------------------------------------------
// Pure parts
// ---------------------------------------------------------------------------------------------

absl::StatusOr<AbEvaluationOptions> AbEvaluationOptionsOf(v1::AbMetric metric, v1::AbMode mode,
                                                          double alpha, int64_t min_sample) {
  FieldViolations violations;
  AbEvaluationOptions options;
  if (!v1::AbMetric_IsValid(metric)) {
    violations.Add("metric", "unknown metric");
  } else if (metric != v1::AB_METRIC_UNSPECIFIED) {
    options.metric = metric;
  }
  if (!v1::AbMode_IsValid(mode)) {
    violations.Add("mode", "unknown mode");
  } else if (mode != v1::AB_MODE_UNSPECIFIED) {
    options.mode = mode;
  }
  if (alpha != 0) {
    if (!(alpha > 0 && alpha <= 0.5)) {
      violations.Add("alpha", "must be in (0, 0.5], or 0 for the default 0.05");
    } else {
      options.alpha = alpha;
    }
  }
  if (min_sample < 0) {
    violations.Add("min_sample", "must be >= 0 (0 for the default)");
  } else {
    options.min_sample =
        min_sample > 0 ? min_sample
                       : (options.metric == v1::AB_METRIC_CONVERSION_RATE ? kDefaultAbMinClicks
                                                                          : kDefaultAbMinViews);
  }
  absl::Status invalid = violations.Build();
  if (!invalid.ok()) return invalid;
  return options;
}

std::string TruncatedConfidence(double confidence) {
  if (std::isnan(confidence)) return "";
  confidence = std::clamp(confidence, 0.0, 1.0);
  if (confidence == 1.0) return "1.00";
  char digits[32];
  std::snprintf(digits, sizeof digits, "%.15f", confidence);  // "0.949999999999999"
  // "d.dd": keep the integer digit, the point and two decimals; drop the rest.
  const std::string truncated(digits, 4);
  // %.15f rounds to nearest, so a confidence within 5e-16 of 1 (1 - p for 0 < p < 5e-16) prints
  // as "1.000000000000000". Below 1 it must stay below 1.00.
  return truncated == "1.00" ? "0.99" : truncated;
}

std::string TruncatedConfidenceOfP(double deciding_p) {
  if (std::isnan(deciding_p)) return "";
  if (deciding_p <= 0) return "1.00";
  // 1 - p is exactly 1 in a double for p < ~1.1e-16: the largest double below 1 stands for it.
  return TruncatedConfidence(std::min(1.0 - deciding_p, std::nextafter(1.0, 0.0)));
}

namespace {

// DecideAbTest, also giving the winner's deciding p (1 without a winner) in `winner_p_out`, which
// the evaluation only holds as 1 - p.
v1::AbTestEvaluation Decide(const std::vector<AbVariantFigures>& variants,
                            const AbEvaluationOptions& options, double* winner_p_out) {
  *winner_p_out = 1.0;
  v1::AbTestEvaluation evaluation;
  evaluation.set_metric(options.metric);
  evaluation.set_mode(options.mode);
  const bool means = IsMeans(options.metric);
  evaluation.set_test_name(means ? "Welch's t-test" : "two-proportion z-test");
  if (variants.size() < 2) {
    evaluation.set_reason("a test needs a control and at least one treatment");
    return evaluation;
  }

  std::vector<Arm> arms;
  std::set<absl::CivilDay> all_days;
  for (const AbVariantFigures& figures : variants) {
    arms.push_back(ArmOf(figures, options.metric));
    for (const auto& [day, counts] : arms.back().by_day) all_days.insert(day);
  }
  std::vector<double> best(arms.size(), 0.0);
  if (!means) {
    std::vector<stats::Proportion> proportions;
    for (const Arm& arm : arms) proportions.push_back(arm.proportion);
    best = stats::ChanceToBeBest(proportions);
  }
  for (size_t i = 0; i < arms.size(); ++i) {
    v1::VariantResult* result = evaluation.add_variants();
    result->set_label(variants[i].label);
    result->set_published_content_id(variants[i].published_content_id);
    result->set_views(arms[i].views);
    result->set_clicks(arms[i].clicks);
    result->set_conversions(arms[i].conversions);
    result->set_days(arms[i].days);
    result->set_rate(arms[i].rate);
    result->set_chance_to_be_best(best[i]);
  }

  // Each treatment against the control.
  const Arm& control = arms[0];
  std::vector<double> fixed_p, always_valid_p;
  for (size_t i = 1; i < arms.size(); ++i) {
    v1::Comparison* comparison = evaluation.add_comparisons();
    comparison->set_label(variants[i].label);
    if (means) {
      const stats::WelchTTestResult welch =
          stats::WelchTTest(control.daily_rates, arms[i].daily_rates);
      comparison->set_difference(welch.difference);
      comparison->set_difference_ci_low(welch.difference_ci95_low);
      comparison->set_difference_ci_high(welch.difference_ci95_high);
      comparison->set_statistic(welch.t);
      comparison->set_degrees_of_freedom(welch.degrees_of_freedom);
      comparison->set_p_value(welch.p_value);
    } else {
      const stats::TwoProportionZTestResult z =
          stats::TwoProportionZTest(control.proportion, arms[i].proportion);
      comparison->set_difference(z.difference);
      comparison->set_difference_ci_low(z.difference_ci95_low);
      comparison->set_difference_ci_high(z.difference_ci95_high);
      comparison->set_statistic(z.z);
      comparison->set_degrees_of_freedom(0);
      comparison->set_p_value(z.p_value);
    }
    comparison->set_p_value_always_valid(AlwaysValidP(control, arms[i], all_days, options));
    fixed_p.push_back(comparison->p_value());
    always_valid_p.push_back(comparison->p_value_always_valid());
  }
  const std::vector<double> deciding =
      stats::HolmAdjust(options.mode == v1::AB_MODE_FIXED_HORIZON ? fixed_p : always_valid_p);
  for (int i = 0; i < evaluation.comparisons_size(); ++i) {
    v1::Comparison* comparison = evaluation.mutable_comparisons(i);
    comparison->set_p_value_holm(deciding[i]);
    comparison->set_significant(deciding[i] < options.alpha);
  }

  // Sample ratio, when every variant has a budget.
  const bool budgeted = std::all_of(variants.begin(), variants.end(),
                                    [](const AbVariantFigures& v) { return !v.budget.empty(); });
  v1::SampleRatioCheck* ratio = evaluation.mutable_sample_ratio();
  if (budgeted) {
    std::vector<int64_t> observed;
    std::vector<double> weights;
    for (size_t i = 0; i < arms.size(); ++i) {
      observed.push_back(arms[i].views);
      weights.push_back(static_cast<double>(CentsOf(variants[i].budget)));
    }
    const stats::SampleRatioMismatchResult srm = stats::SampleRatioMismatch(observed, weights);
    ratio->set_checked(true);
    ratio->set_chi_square(srm.chi_square);
    ratio->set_p_value(srm.p_value);
    ratio->set_mismatch(srm.defined && srm.mismatch);
    if (ratio->mismatch()) {
      std::vector<std::string> views;
      for (const Arm& arm : arms) views.push_back(absl::StrCat(arm.views));
      std::vector<std::string> budgets;
      for (const AbVariantFigures& v : variants) budgets.push_back(v.budget);
      evaluation.set_reason(absl::StrCat(
          "sample ratio mismatch: the views per variant (", absl::StrJoin(views, " : "),
          ") do not follow the split the budgets plan (", absl::StrJoin(budgets, " : "),
          "); chi-square = ", absl::StrFormat("%.4g", srm.chi_square), ", p = ", P(srm.p_value),
          " < ", P(stats::kSampleRatioMismatchThreshold),
          "; no winner while the traffic split is broken"));
      return evaluation;
    }
  }

  // Enough data in every variant.
  std::vector<std::string> short_ones;
  for (size_t i = 0; i < arms.size(); ++i) {
    if (arms[i].trials < options.min_sample) {
      short_ones.push_back(absl::StrCat(
          Quoted(variants[i].label), " has ", arms[i].trials, " ", TrialsName(options.metric), ", ",
          options.min_sample - arms[i].trials, " short of ", options.min_sample));
    }
  }
  if (!short_ones.empty()) {
    evaluation.set_reason(absl::StrCat("not enough data yet: ", absl::StrJoin(short_ones, "; "),
                                       " (min_sample); no winner before every variant has ",
                                       options.min_sample, " ", TrialsName(options.metric)));
    return evaluation;
  }

  // The winner rule.
  const auto& comparisons = evaluation.comparisons();
  int winner = -1;  // index into variants
  double winner_p = 1;
  for (int i = 0; i < comparisons.size(); ++i) {
    const v1::Comparison& comparison = comparisons[i];
    if (!comparison.significant() || !(comparison.difference() > 0)) continue;
    if (winner < 0 || arms[i + 1].rate > arms[winner].rate) {
      winner = i + 1;
      winner_p = comparison.p_value_holm();
    }
  }
  const bool all_worse =
      std::all_of(comparisons.begin(), comparisons.end(), [](const v1::Comparison& comparison) {
        return comparison.significant() && comparison.difference() < 0;
      });
  if (winner > 0) {
    evaluation.set_reason(
        absl::StrCat(Quoted(variants[winner].label), " is significantly better than the control ",
                     Quoted(variants[0].label), " (deciding p = ", P(winner_p), " < alpha ",
                     P(options.alpha), ") and has the highest rate of the treatments that are"));
  } else if (all_worse) {
    winner = 0;
    winner_p = 0;
    for (const v1::Comparison& comparison : comparisons) {
      winner_p = std::max(winner_p, comparison.p_value_holm());
    }
    evaluation.set_reason(absl::StrCat(
        "every treatment is significantly worse than the control ", Quoted(variants[0].label),
        " (largest deciding p = ", P(winner_p), " < alpha ", P(options.alpha), ")"));
  } else {
    bool any_significant = false;
    double smallest = 1;
    std::vector<std::string> undecided;
    for (const v1::Comparison& comparison : comparisons) {
      any_significant = any_significant || comparison.significant();
      smallest = std::min(smallest, comparison.p_value_holm());
      if (!comparison.significant()) {
        undecided.push_back(absl::StrCat(Quoted(comparison.label()),
                                         " deciding p = ", P(comparison.p_value_holm())));
      }
    }
    if (!any_significant) {
      evaluation.set_reason(absl::StrCat(
          "no variant differs significantly from the control (smallest deciding p = ", P(smallest),
          ", alpha ", P(options.alpha), ")"));
    } else {
      evaluation.set_reason(absl::StrCat(
          "no treatment is significantly better than the control, and not every treatment is "
          "significantly worse (",
          absl::StrJoin(undecided, ", "), "; alpha ", P(options.alpha), ")"));
    }
    return evaluation;
  }
  evaluation.set_winner_label(variants[winner].label);
  evaluation.set_winner_published_content_id(variants[winner].published_content_id);
  evaluation.set_confidence(1.0 - winner_p);
  *winner_p_out = winner_p;
  return evaluation;
}

}  // namespace

v1::AbTestEvaluation DecideAbTest(const std::vector<AbVariantFigures>& variants,
                                  const AbEvaluationOptions& options) {
  double winner_p = 1.0;
  return Decide(variants, options, &winner_p);
}

// ---------------------------------------------------------------------------------------------
// The service
// ---------------------------------------------------------------------------------------------

absl::StatusOr<v1::AbTest> AbTests::CreateAbTest(const v1::CreateAbTestRequest& request) {
  FieldViolations violations;
  if (request.name().empty()) {
    violations.Add("name", "is required");
  } else if (CharactersOf(request.name()) > kMaxAbTestNameLength) {
    violations.Add("name", absl::StrCat("must be at most ", kMaxAbTestNameLength, " characters"));
  }
  const int count = request.variants_size();
  if (count < kMinAbVariants) {
    violations.Add("variants", absl::StrCat("needs at least ", kMinAbVariants,
                                            " variants (the first is the control); got ", count));
  } else if (count > kMaxAbVariants) {
    violations.Add("variants",
                   absl::StrCat("takes at most ", kMaxAbVariants, " variants; got ", count));
  }
  std::map<std::string, int> label_at, post_at;
  std::set<std::string> posts;  // well-formed, distinct: looked up below
  for (int i = 0; i < count; ++i) {
    const v1::AbVariant& variant = request.variants(i);
    const std::string field = absl::StrCat("variants[", i, "]");
    if (variant.label().empty()) {
      violations.Add(field + ".label", "is required");
    } else if (CharactersOf(variant.label()) > kMaxAbVariantLabelLength) {
      violations.Add(field + ".label",
                     absl::StrCat("must be at most ", kMaxAbVariantLabelLength, " characters"));
    } else if (auto [it, inserted] = label_at.emplace(variant.label(), i); !inserted) {
      violations.Add(field + ".label",
                     absl::StrCat("repeats variants[", it->second, "]'s label \"", variant.label(),
                                  "\"; labels must be unique within a test"));
    }
    const std::string post_field = field + ".published_content_id";
    if (!IsUuid(variant.published_content_id())) {
      CheckUuidField(variant.published_content_id(), post_field, &violations);
    } else if (auto [it, inserted] = post_at.emplace(variant.published_content_id(), i);
               !inserted) {
      violations.Add(post_field, absl::StrCat("repeats variants[", it->second,
                                              "]'s post; each variant must be a different post"));
    } else {
      posts.insert(variant.published_content_id());
    }
    if (!variant.budget().empty()) {
      if (!IsMoney(variant.budget())) {
        violations.Add(field + ".budget",
                       "must be a decimal with at most two places and eight whole digits, e.g. "
                       "\"12.50\"");
      } else if (CentsOf(variant.budget()) == 0) {
        violations.Add(field + ".budget",
                       "must be more than 0: budgets give the planned traffic split");
      }
    }
  }

  std::optional<v1::AbTest> created;
  absl::Status status = pool_->Transact([&](pqxx::work& txn) {
    // The posts, with the assembled content each was made from (analytics may read them).
    std::map<std::string, std::string> assembled_of;
    if (!posts.empty()) {
      pqxx::result rows = txn.exec_params(
          "SELECT id::text, assembled_content_id::text FROM cf_published_content "
          "WHERE id = ANY($1::uuid[])",
          db::TextArrayLiteralOf(posts));
      for (const auto& row : rows) assembled_of[row[0].c_str()] = Text(row[1]);
    }
    FieldViolations all = violations;
    for (int i = 0; i < count; ++i) {
      const std::string& post = request.variants(i).published_content_id();
      auto at = post_at.find(post);
      if (at == post_at.end() || at->second != i) continue;  // malformed or a repeat
      if (assembled_of.count(post) == 0) {
        all.Add(absl::StrCat("variants[", i, "].published_content_id"),
                absl::StrCat("post ", post, " does not exist"));
      }
    }
    absl::Status invalid = all.Build();
    if (!invalid.ok()) return invalid;  // nothing written

    std::vector<std::string> elements;
    for (const v1::AbVariant& variant : request.variants()) {
      nlohmann::json element = {
          {"label", variant.label()},
          {"published_content_id", variant.published_content_id()},
          {"assembled_content_id", assembled_of[variant.published_content_id()]},
      };
      if (!variant.budget().empty()) element["budget"] = MoneyText(CentsOf(variant.budget()));
      elements.push_back(element.dump());
    }
    pqxx::result rows =
        txn.exec_params(absl::StrCat("INSERT INTO cf_ab_tests (name, variants, status) "
                                     "VALUES ($1, $2::jsonb[], 'draft') RETURNING ",
                                     TestColumns()),
                        request.name(), db::TextArrayLiteral(elements));
    created = TestOf(rows[0]);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return *created;
}

absl::StatusOr<v1::AbTest> AbTests::GetAbTest(const v1::GetAbTestRequest& request) {
  absl::Status id_ok = RequireUuid(request.id(), "id");
  if (!id_ok.ok()) return id_ok;
  absl::StatusOr<pqxx::result> rows = pool_->Read("ab_test_by_id", TestByIdSql(), request.id());
  if (!rows.ok()) return rows.status();
  if (rows->empty())
    return absl::NotFoundError(absl::StrCat("A/B test ", request.id(), " not found"));
  return TestOf((*rows)[0]);
}

absl::StatusOr<v1::ListAbTestsResponse> AbTests::ListAbTests(
    const v1::ListAbTestsRequest& request) {
  FieldViolations violations;
  if (!v1::AbTestState_IsValid(request.state())) violations.Add("state", "unknown state");
  absl::StatusOr<int> page_size = PageSize(request.page_size(), 50, 500);
  if (!page_size.ok()) violations.Add("page_size", "must be >= 0");
  absl::Status invalid = violations.Build();
  if (!invalid.ok()) return invalid;
  const std::string filters = absl::StrCat("state=", request.state());
  absl::StatusOr<std::optional<CreatedCursor>> cursor =
      DecodeCreatedCursor(request.page_token(), filters, "ListAbTests");
  if (!cursor.ok()) return cursor.status();
  const std::string after_time = cursor->has_value() ? (*cursor)->created_at : "";
  const std::string after_id = cursor->has_value() ? (*cursor)->id : "";
  const std::string status = StatusOf(request.state());
  absl::StatusOr<pqxx::result> rows = pool_->Read(
      "ab_tests_newest_first",
      absl::StrCat("SELECT ", TestColumns(),
                   " FROM cf_ab_tests WHERE ($1::text IS NULL OR status = $1::text) AND "
                   "($2::timestamptz IS NULL OR (created_at, id) < ($2::timestamptz, $3::uuid)) "
                   "ORDER BY created_at DESC, id DESC LIMIT $4"),
      db::NullIfEmpty(status), db::NullIfEmpty(after_time), db::NullIfEmpty(after_id),
      *page_size + 1);
  if (!rows.ok()) return rows.status();
  v1::ListAbTestsResponse response;
  for (int i = 0; i < static_cast<int>(rows->size()) && i < *page_size; ++i) {
    *response.add_tests() = TestOf((*rows)[i]);
  }
  if (static_cast<int>(rows->size()) > *page_size) {
    const auto& last = (*rows)[*page_size - 1];
    response.set_next_page_token(
        EncodeCreatedCursor({Text(last[kCreatedText]), last[kId].c_str()}, filters));
  }
  return response;
}

absl::StatusOr<v1::AbTest> AbTests::StartAbTest(const v1::StartAbTestRequest& request) {
  absl::Status id_ok = RequireUuid(request.id(), "id");
  if (!id_ok.ok()) return id_ok;
  return FencedUpdate(pool_,
                      absl::StrCat("UPDATE cf_ab_tests SET status = 'running', started_at = now() "
                                   "WHERE id = $1::uuid AND status = 'draft' RETURNING ",
                                   TestColumns()),
                      request.id(), "only a draft test can be started");
}

absl::StatusOr<v1::AbTest> AbTests::CancelAbTest(const v1::CancelAbTestRequest& request) {
  absl::Status id_ok = RequireUuid(request.id(), "id");
  if (!id_ok.ok()) return id_ok;
  return FencedUpdate(
      pool_,
      absl::StrCat("UPDATE cf_ab_tests SET status = 'cancelled' WHERE id = $1::uuid "
                   "AND status IN ('draft', 'running') RETURNING ",
                   TestColumns()),
      request.id(), "only a draft or running test can be cancelled");
}

absl::StatusOr<v1::AbTestEvaluation> AbTests::LoadAndEvaluate(
    const std::string& id, const AbEvaluationOptions& options,
    const std::vector<std::string>& states, const std::string& action, double* winner_p) {
  absl::StatusOr<pqxx::result> rows = pool_->Read("ab_test_by_id", TestByIdSql(), id);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return absl::NotFoundError(absl::StrCat("A/B test ", id, " not found"));
  const pqxx::row row = (*rows)[0];
  const std::string status = Text(row[kStatus]);
  if (std::find(states.begin(), states.end(), status) == states.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("A/B test ", id, " is ", status.empty() ? "in no state" : status, "; only ",
                     absl::StrJoin(states, " or "), " tests can be ", action));
  }
  const v1::AbTest test = TestOf(row);

  // The days: from the UTC day it started to today, or to the UTC day it completed.
  absl::CivilDay first_day = TodayUtc(), last_day = TodayUtc();
  if (!row[kStartDay].is_null()) absl::ParseCivilTime(row[kStartDay].c_str(), &first_day);
  if (!row[kCompleteDay].is_null()) absl::ParseCivilTime(row[kCompleteDay].c_str(), &last_day);
  if (last_day < first_day) last_day = first_day;

  std::vector<AbVariantFigures> figures;
  std::map<std::string, size_t> index_of;
  std::vector<std::string> posts;
  for (const v1::AbVariant& variant : test.variants()) {
    index_of.emplace(variant.published_content_id(), figures.size());
    figures.push_back({variant.label(), variant.published_content_id(), variant.budget(), {}});
    if (IsUuid(variant.published_content_id())) posts.push_back(variant.published_content_id());
  }
  absl::StatusOr<pqxx::result> metrics =
      pool_->Read("ab_test_metrics", kMetricsSql, db::TextArrayLiteral(posts),
                  absl::FormatCivilTime(first_day), absl::FormatCivilTime(last_day));
  if (!metrics.ok()) return metrics.status();
  for (const auto& metric : *metrics) {
    auto it = index_of.find(metric[0].c_str());
    absl::CivilDay day;
    if (it == index_of.end() || !absl::ParseCivilTime(metric[1].c_str(), &day)) continue;
    AbDayCounts counts;
    counts.day = day;
    counts.views = metric[2].as<int64_t>();
    counts.clicks = metric[3].as<int64_t>();
    counts.conversions = metric[4].as<int64_t>();
    counts.interactions = metric[5].as<int64_t>();
    figures[it->second].days.push_back(counts);
  }
  double deciding_p = 1.0;
  v1::AbTestEvaluation evaluation = Decide(figures, options, &deciding_p);
  if (winner_p != nullptr) *winner_p = deciding_p;
  evaluation.set_ab_test_id(test.id());
  *evaluation.mutable_first_day() = DateOf(first_day);
  *evaluation.mutable_last_day() = DateOf(last_day);
  return evaluation;
}

namespace {

// The id and the evaluation settings of an Evaluate or Complete request, every bad field named.
template <typename Request>
absl::StatusOr<AbEvaluationOptions> CheckedOptions(const Request& request) {
  FieldViolations violations;
  CheckUuidField(request.id(), "id", &violations);
  absl::StatusOr<AbEvaluationOptions> options = AbEvaluationOptionsOf(
      request.metric(), request.mode(), request.alpha(), request.min_sample());
  violations.AddAll(options.status());
  absl::Status invalid = violations.Build();
  if (!invalid.ok()) return invalid;
  return options;
}

}  // namespace

absl::StatusOr<v1::AbTestEvaluation> AbTests::EvaluateAbTest(
    const v1::EvaluateAbTestRequest& request) {
  absl::StatusOr<AbEvaluationOptions> options = CheckedOptions(request);
  if (!options.ok()) return options.status();
  return LoadAndEvaluate(request.id(), *options, {"running", "completed"}, "evaluated");
}

absl::StatusOr<v1::AbTest> AbTests::CompleteAbTest(const v1::CompleteAbTestRequest& request) {
  absl::StatusOr<AbEvaluationOptions> options = CheckedOptions(request);
  if (!options.ok()) return options.status();
  double winner_p = 1.0;
  absl::StatusOr<v1::AbTestEvaluation> evaluation =
      LoadAndEvaluate(request.id(), *options, {"running"}, "completed", &winner_p);
  if (!evaluation.ok()) return evaluation.status();
  const bool has_winner = !evaluation->winner_published_content_id().empty();
  // From the p-value itself: "1.00" only for p = 0, whereas 1 - p may already have rounded to 1.
  const std::string confidence = has_winner ? TruncatedConfidenceOfP(winner_p) : "";
  // Fenced on 'running': of two concurrent calls only one completes the test. The confidence is
  // already two decimals; trunc() keeps it from ever being rounded by the cast.
  return FencedUpdate(
      pool_,
      absl::StrCat("UPDATE cf_ab_tests SET status = 'completed', completed_at = now(), "
                   "winner_id = $2::uuid, confidence = trunc($3::numeric, 2) "
                   "WHERE id = $1::uuid AND status = 'running' RETURNING ",
                   TestColumns()),
      request.id(), "only a running test can be completed",
      db::NullIfEmpty(evaluation->winner_published_content_id()), db::NullIfEmpty(confidence));
}

}  // namespace cf::analytics
