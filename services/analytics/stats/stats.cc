#include "services/analytics/stats/stats.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>

#include "services/analytics/stats/distributions.h"

namespace cf::analytics::stats {
namespace {

constexpr double kPi = 3.14159265358979323846;

double TwoSidedNormalP(double z) { return 2.0 * NormalSurvival(std::fabs(z)); }

// The 97.5% normal quantile, for 95% two-sided intervals.
double Z975() {
  static const double z = NormalQuantile(0.975);
  return z;
}

// Invalid counts are clamped rather than rejected (see stats.h): never a crash, never NaN.
Proportion Clamped(Proportion proportion) {
  proportion.trials = std::max<int64_t>(proportion.trials, 0);
  proportion.successes = std::clamp<int64_t>(proportion.successes, 0, proportion.trials);
  return proportion;
}

double RateOf(Proportion proportion) {
  return proportion.trials > 0
             ? static_cast<double>(proportion.successes) / static_cast<double>(proportion.trials)
             : 0.0;
}

// Variance of the rate estimate, p̂(1-p̂)/n; 0 without trials.
double RateVariance(Proportion proportion) {
  if (proportion.trials <= 0) return 0.0;
  const double rate = RateOf(proportion);
  return rate * (1.0 - rate) / static_cast<double>(proportion.trials);
}

struct MeanAndVariance {
  double mean = 0;
  double variance = 0;  // divisor n - 1; 0 below two samples
};

// Two passes: the mean first, then squared deviations from it, which avoids the cancellation of
// Σx² - n·mean² when the values are large relative to their spread.
MeanAndVariance MeanAndVarianceOf(const std::vector<double>& values) {
  MeanAndVariance summary;
  if (values.empty()) return summary;
  const double n = static_cast<double>(values.size());
  summary.mean = std::accumulate(values.begin(), values.end(), 0.0) / n;
  if (values.size() < 2) return summary;
  double squared_deviations = 0;
  for (double value : values) squared_deviations += (value - summary.mean) * (value - summary.mean);
  summary.variance = squared_deviations / (n - 1);
  return summary;
}

// ---- ChanceToBeBest's integration ----

struct BetaPosterior {
  double alpha;
  double beta;
  double Mean() const { return alpha / (alpha + beta); }
  double StandardDeviation() const {
    const double total = alpha + beta;
    return std::sqrt(alpha * beta / (total * total * (total + 1)));
  }
};

double ValidPrior(double prior) { return std::isfinite(prior) && prior > 0 ? prior : 1.0; }

BetaPosterior PosteriorOf(Proportion arm, double prior_alpha, double prior_beta) {
  arm = Clamped(arm);
  return {prior_alpha + static_cast<double>(arm.successes),
          prior_beta + static_cast<double>(arm.trials - arm.successes)};
}

struct QuadratureRule {
  std::vector<double> nodes;    // on [-1, 1]
  std::vector<double> weights;  // sum to 2
};

// Gauss–Legendre nodes as the roots of P_n (Newton from the Chebyshev-like first guess),
// weights 2 / ((1 - x²) P_n'(x)²).
QuadratureRule MakeGaussLegendreRule(int n) {
  QuadratureRule rule;
  rule.nodes.resize(n);
  rule.weights.resize(n);
  for (int i = 0; i < (n + 1) / 2; ++i) {
    double x = std::cos(kPi * (i + 0.75) / (n + 0.5));
    double derivative = 1.0;
    for (int iteration = 0; iteration < 100; ++iteration) {
      double previous = 1.0;  // P_{k-1}(x), then P_k(x) by the three-term recurrence
      double current = x;
      for (int k = 2; k <= n; ++k) {
        const double next = ((2 * k - 1) * x * current - (k - 1) * previous) / k;
        previous = current;
        current = next;
      }
      derivative = n * (x * current - previous) / (x * x - 1.0);
      const double step = current / derivative;
      x -= step;
      if (std::fabs(step) < 1e-16) break;
    }
    const double weight = 2.0 / ((1.0 - x * x) * derivative * derivative);
    rule.nodes[i] = -x;
    rule.nodes[n - 1 - i] = x;
    rule.weights[i] = weight;
    rule.weights[n - 1 - i] = weight;
  }
  return rule;
}

const QuadratureRule& GaussLegendre32() {
  static const QuadratureRule rule = MakeGaussLegendreRule(32);
  return rule;
}

// Mass of each posterior left outside the integration range, per side.
constexpr double kNeglectedTail = 1e-15;

// Where one posterior's density changes shape: its outer quantiles, steps of its standard
// deviation around the mean (dense near the mean, where a posterior of millions of trials lives
// in a sliver of [0, 1]), and geometric steps toward 0 and 1, where a skewed posterior has a long
// tail or, with a prior below 1, an unbounded density. Every integration segment then spans only a
// few standard deviations of any posterior it overlaps, which a 32-point rule integrates to near
// double precision.
std::vector<double> BreakpointsOf(const BetaPosterior& posterior) {
  const double low = BetaQuantile(kNeglectedTail, posterior.alpha, posterior.beta);
  const double high = 1.0 - BetaQuantile(kNeglectedTail, posterior.beta, posterior.alpha);
  std::vector<double> points = {low, high};
  const double mean = posterior.Mean();
  const double deviation = posterior.StandardDeviation();
  for (double steps : {0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0}) {
    points.push_back(mean - steps * deviation);
    points.push_back(mean + steps * deviation);
  }
  for (double shrink = 0.1; shrink > 1e-30; shrink *= 0.1) {
    points.push_back(mean * shrink);
    points.push_back(1.0 - (1.0 - mean) * shrink);
  }
  points.erase(std::remove_if(points.begin(), points.end(),
                              [&](double x) { return !(x >= low && x <= high); }),
               points.end());
  return points;
}

// The union of all posteriors' breakpoints, sorted, covering [min low, max high].
std::vector<double> IntegrationBreakpoints(const std::vector<BetaPosterior>& posteriors) {
  std::vector<double> points;
  for (const BetaPosterior& posterior : posteriors) {
    const std::vector<double> own = BreakpointsOf(posterior);
    points.insert(points.end(), own.begin(), own.end());
  }
  std::sort(points.begin(), points.end());
  points.erase(std::unique(points.begin(), points.end()), points.end());
  return points;
}

// Adds the integrand of every arm at x, weighted, to `chances`:
// pdf_i(x) · Π_{j≠i} cdf_j(x), formed in log space since the factors under- and overflow apart.
void AddIntegrandAt(double x, double weight, const std::vector<BetaPosterior>& posteriors,
                    std::vector<double>& log_pdf, std::vector<double>& log_cdf,
                    std::vector<double>& chances) {
  const size_t arms = posteriors.size();
  for (size_t j = 0; j < arms; ++j) {
    log_pdf[j] = BetaLogPdf(x, posteriors[j].alpha, posteriors[j].beta);
    log_cdf[j] = std::log(BetaCdf(x, posteriors[j].alpha, posteriors[j].beta));
  }
  for (size_t i = 0; i < arms; ++i) {
    double log_integrand = log_pdf[i];
    for (size_t j = 0; j < arms; ++j) {
      if (j != i) log_integrand += log_cdf[j];
    }
    chances[i] += weight * std::exp(log_integrand);
  }
}

double LogMixtureLikelihoodRatio(double difference, double variance_of_difference,
                                 double mixing_variance) {
  if (!(variance_of_difference > 0) || !(mixing_variance > 0) || !std::isfinite(difference) ||
      !std::isfinite(variance_of_difference) || !std::isfinite(mixing_variance)) {
    return 0.0;  // no evidence either way
  }
  const double total = variance_of_difference + mixing_variance;
  return 0.5 * std::log(variance_of_difference / total) +
         difference * difference * mixing_variance / (2.0 * variance_of_difference * total);
}

// One look: the always-valid p-value is the running minimum of 1/Λ, capped at 1.
SequentialState FoldInLogRatio(SequentialState state, double log_ratio) {
  state.always_valid_p = std::min({state.always_valid_p, 1.0, std::exp(-log_ratio)});
  ++state.looks;
  return state;
}

SequentialState FoldInLook(SequentialState state, double difference, double variance_of_difference,
                           double mixing_variance) {
  return FoldInLogRatio(
      state, LogMixtureLikelihoodRatio(difference, variance_of_difference, mixing_variance));
}

// log Λ of the two-sample t mixture (stats.h, UpdateSequentialMeans). With SS the pooled sum of
// squared deviations from each arm's mean and A = n_δ θ̂², t²/ν = A/SS, so
//   (1 + t²/ν) / (1 + t²/(ν b)) = (SS + A) / (SS + A/b) = 1 + A (1 - 1/b) / (SS + A/b),
// which stays finite as SS → 0 (all days equal within each arm): Λ → b^(ν/2).
double LogMeansMixtureLikelihoodRatio(const std::vector<double>& control,
                                      const std::vector<double>& treatment,
                                      double standardized_mixing_variance) {
  if (control.size() < 2 || treatment.size() < 2 || !(standardized_mixing_variance > 0) ||
      !std::isfinite(standardized_mixing_variance)) {
    return 0.0;  // no evidence either way
  }
  const MeanAndVariance control_summary = MeanAndVarianceOf(control);
  const MeanAndVariance treatment_summary = MeanAndVarianceOf(treatment);
  const double control_n = static_cast<double>(control.size());
  const double treatment_n = static_cast<double>(treatment.size());
  const double sum_of_squares =
      control_summary.variance * (control_n - 1) + treatment_summary.variance * (treatment_n - 1);
  const double difference = treatment_summary.mean - control_summary.mean;
  const double effective_n = 1.0 / (1.0 / control_n + 1.0 / treatment_n);  // n_δ
  const double degrees_of_freedom = control_n + treatment_n - 2;           // ν
  const double b = 1.0 + effective_n * standardized_mixing_variance;
  const double a = effective_n * difference * difference;
  if (!std::isfinite(sum_of_squares) || !std::isfinite(a)) return 0.0;
  if (!(sum_of_squares + a > 0)) return 0.0;  // every sample equal: nothing to test
  return -0.5 * std::log(b) + 0.5 * (degrees_of_freedom + 1) *
                                  std::log1p(a * (1.0 - 1.0 / b) / (sum_of_squares + a / b));
}

}  // namespace

TwoProportionZTestResult TwoProportionZTest(Proportion control, Proportion treatment) {
  control = Clamped(control);
  treatment = Clamped(treatment);
  TwoProportionZTestResult result;
  result.control_rate = RateOf(control);
  result.treatment_rate = RateOf(treatment);
  result.difference = result.treatment_rate - result.control_rate;
  if (control.trials == 0 || treatment.trials == 0) return result;

  const double control_n = static_cast<double>(control.trials);
  const double treatment_n = static_cast<double>(treatment.trials);
  result.pooled_rate =
      static_cast<double>(control.successes + treatment.successes) / (control_n + treatment_n);
  result.pooled_standard_error = std::sqrt(result.pooled_rate * (1.0 - result.pooled_rate) *
                                           (1.0 / control_n + 1.0 / treatment_n));
  result.unpooled_standard_error = std::sqrt(RateVariance(control) + RateVariance(treatment));
  // Both rates 0 or both 1: nothing varies, so there is no test (and z would be 0/0).
  if (!(result.pooled_standard_error > 0)) return result;

  result.defined = true;
  result.z = result.difference / result.pooled_standard_error;
  result.p_value = TwoSidedNormalP(result.z);
  // The interval uses the unpooled SE: it describes the difference, not the null hypothesis.
  const double half_width = Z975() * result.unpooled_standard_error;
  result.difference_ci95_low = result.difference - half_width;
  result.difference_ci95_high = result.difference + half_width;
  return result;
}

std::vector<double> HolmAdjust(std::vector<double> p_values) {
  // NaN would break the sort's ordering; a missing p-value counts as "no evidence".
  for (double& p : p_values) p = std::isnan(p) ? 1.0 : std::clamp(p, 0.0, 1.0);
  std::vector<size_t> order(p_values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return p_values[a] < p_values[b]; });
  // The k-th smallest (0-based) is multiplied by m - k; the running maximum keeps the adjusted
  // values in the order of the raw ones, as the step-down procedure stops at its first failure.
  std::vector<double> adjusted(p_values.size());
  const size_t m = p_values.size();
  double running_max = 0.0;
  for (size_t k = 0; k < m; ++k) {
    const size_t index = order[k];
    running_max =
        std::max(running_max, std::min(1.0, static_cast<double>(m - k) * p_values[index]));
    adjusted[index] = running_max;
  }
  return adjusted;
}

WelchTTestResult WelchTTest(const std::vector<double>& control,
                            const std::vector<double>& treatment) {
  WelchTTestResult result;
  result.control_count = static_cast<int64_t>(control.size());
  result.treatment_count = static_cast<int64_t>(treatment.size());
  const MeanAndVariance control_summary = MeanAndVarianceOf(control);
  const MeanAndVariance treatment_summary = MeanAndVarianceOf(treatment);
  result.control_mean = control_summary.mean;
  result.treatment_mean = treatment_summary.mean;
  result.control_variance = control_summary.variance;
  result.treatment_variance = treatment_summary.variance;
  result.difference = result.treatment_mean - result.control_mean;
  if (control.size() < 2 || treatment.size() < 2) return result;

  const double control_n = static_cast<double>(control.size());
  const double treatment_n = static_cast<double>(treatment.size());
  const double control_share = result.control_variance / control_n;  // squared SE of each mean
  const double treatment_share = result.treatment_variance / treatment_n;
  const double variance_of_difference = control_share + treatment_share;
  if (!(variance_of_difference > 0)) return result;

  result.defined = true;
  result.standard_error = std::sqrt(variance_of_difference);
  // Welch–Satterthwaite, with each share taken relative to the total so tiny variances cannot
  // underflow when squared.
  const double control_fraction = control_share / variance_of_difference;
  const double treatment_fraction = treatment_share / variance_of_difference;
  result.degrees_of_freedom = 1.0 / (control_fraction * control_fraction / (control_n - 1) +
                                     treatment_fraction * treatment_fraction / (treatment_n - 1));
  result.t = result.difference / result.standard_error;
  result.p_value = StudentTTwoSidedP(result.t, result.degrees_of_freedom);
  const double half_width =
      StudentTQuantile(0.975, result.degrees_of_freedom) * result.standard_error;
  result.difference_ci95_low = result.difference - half_width;
  result.difference_ci95_high = result.difference + half_width;
  return result;
}

std::vector<double> ChanceToBeBest(const std::vector<Proportion>& arms, double prior_alpha,
                                   double prior_beta) {
  if (arms.empty()) return {};
  if (arms.size() == 1) return {1.0};
  prior_alpha = ValidPrior(prior_alpha);
  prior_beta = ValidPrior(prior_beta);
  std::vector<BetaPosterior> posteriors;
  for (const Proportion& arm : arms)
    posteriors.push_back(PosteriorOf(arm, prior_alpha, prior_beta));

  const std::vector<double> breakpoints = IntegrationBreakpoints(posteriors);
  const QuadratureRule& rule = GaussLegendre32();
  std::vector<double> chances(arms.size(), 0.0);
  std::vector<double> log_pdf(arms.size());
  std::vector<double> log_cdf(arms.size());
  for (size_t segment = 0; segment + 1 < breakpoints.size(); ++segment) {
    const double half_width = 0.5 * (breakpoints[segment + 1] - breakpoints[segment]);
    const double center = breakpoints[segment] + half_width;
    for (size_t node = 0; node < rule.nodes.size(); ++node) {
      AddIntegrandAt(center + half_width * rule.nodes[node], half_width * rule.weights[node],
                     posteriors, log_pdf, log_cdf, chances);
    }
  }
  return chances;
}

double ChanceToBeatControl(Proportion control, Proportion treatment, double prior_alpha,
                           double prior_beta) {
  return ChanceToBeBest({control, treatment}, prior_alpha, prior_beta)[1];
}

SampleRatioMismatchResult SampleRatioMismatch(const std::vector<int64_t>& observed,
                                              const std::vector<double>& planned_weights,
                                              double threshold) {
  SampleRatioMismatchResult result;
  if (observed.size() != planned_weights.size() || observed.size() < 2) return result;
  double total_weight = 0;
  double total_units = 0;
  for (size_t i = 0; i < observed.size(); ++i) {
    if (!std::isfinite(planned_weights[i]) || planned_weights[i] <= 0) return result;
    if (observed[i] < 0) return result;
    total_weight += planned_weights[i];
    total_units += static_cast<double>(observed[i]);
  }
  if (total_units <= 0) return result;

  result.defined = true;
  for (size_t i = 0; i < observed.size(); ++i) {
    const double expected = total_units * planned_weights[i] / total_weight;
    const double deviation = static_cast<double>(observed[i]) - expected;
    result.expected_counts.push_back(expected);
    result.chi_square += deviation * deviation / expected;
  }
  result.degrees_of_freedom = static_cast<int>(observed.size()) - 1;
  result.p_value = ChiSquareSurvival(result.chi_square, result.degrees_of_freedom);
  result.mismatch = result.p_value < threshold;
  return result;
}

double MixingVarianceForRelativeLift(double baseline_rate, double relative_lift) {
  const double expected_difference = baseline_rate * relative_lift;
  return expected_difference * expected_difference;
}

double MixtureLikelihoodRatio(double difference, double variance_of_difference,
                              double mixing_variance) {
  return std::exp(LogMixtureLikelihoodRatio(difference, variance_of_difference, mixing_variance));
}

SequentialState UpdateSequential(SequentialState state, Proportion control, Proportion treatment,
                                 double mixing_variance) {
  control = Clamped(control);
  treatment = Clamped(treatment);
  const double difference = RateOf(treatment) - RateOf(control);
  // Without trials in both arms there is no estimate yet: variance 0 means "no evidence".
  const double variance = control.trials > 0 && treatment.trials > 0
                              ? RateVariance(control) + RateVariance(treatment)
                              : 0.0;
  return FoldInLook(state, difference, variance, mixing_variance);
}

double MeansMixtureLikelihoodRatio(const std::vector<double>& control,
                                   const std::vector<double>& treatment,
                                   double standardized_mixing_variance) {
  return std::exp(LogMeansMixtureLikelihoodRatio(control, treatment, standardized_mixing_variance));
}

SequentialState UpdateSequentialMeans(SequentialState state, const std::vector<double>& control,
                                      const std::vector<double>& treatment,
                                      double standardized_mixing_variance) {
  return FoldInLogRatio(
      state, LogMeansMixtureLikelihoodRatio(control, treatment, standardized_mixing_variance));
}

}  // namespace cf::analytics::stats
