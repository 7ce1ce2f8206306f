// Every expected value below comes from a hand computation written next to it, a published table,
// a closed form, or an independent method implemented in this file (Simpson integration of the t
// density, a binomial sum, Evan Miller's closed form, Monte Carlo) — never from this library's own
// output.
#include "services/analytics/stats/stats.h"

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "services/analytics/stats/distributions.h"

namespace cf::analytics::stats {
namespace {

constexpr double kPi = 3.14159265358979323846;

// ---- Independent implementations used as references ----

// Composite Simpson's rule with `intervals` (even) subintervals.
double SimpsonIntegral(const std::function<double(double)>& f, double from, double to,
                       int intervals) {
  const double h = (to - from) / intervals;
  double sum = f(from) + f(to);
  for (int i = 1; i < intervals; ++i) sum += f(from + i * h) * (i % 2 == 1 ? 4.0 : 2.0);
  return sum * h / 3.0;
}

// Student t density straight from its formula.
double StudentTPdfByFormula(double t, double df) {
  const double log_norm =
      std::lgamma(0.5 * (df + 1)) - std::lgamma(0.5 * df) - 0.5 * std::log(df * kPi);
  return std::exp(log_norm - 0.5 * (df + 1) * std::log1p(t * t / df));
}

// P(T <= t) = 1/2 + ∫_0^t pdf, by Simpson (the density is smooth, so 4000 intervals give ~1e-13).
double StudentTCdfBySimpson(double t, double df) {
  return 0.5 +
         SimpsonIntegral([df](double x) { return StudentTPdfByFormula(x, df); }, 0.0, t, 4000);
}

// The t quantile by bisection on the Simpson CDF: an independent check of StudentTQuantile.
double StudentTQuantileBySimpson(double p, double df) {
  double low = 0.0;
  double high = 100.0;
  for (int i = 0; i < 60; ++i) {
    const double middle = 0.5 * (low + high);
    (StudentTCdfBySimpson(middle, df) < p ? low : high) = middle;
  }
  return 0.5 * (low + high);
}

// P(Binomial(n, p) >= k) by summing the pmf (log-gamma coefficients); equals I_p(k, n - k + 1).
double BinomialUpperTail(int64_t n, int64_t k, double p) {
  const double log_n_factorial = std::lgamma(n + 1.0);
  double sum = 0;
  for (int64_t j = k; j <= n; ++j) {
    const double log_term = log_n_factorial - std::lgamma(j + 1.0) - std::lgamma(n - j + 1.0) +
                            j * std::log(p) + (n - j) * std::log1p(-p);
    const double term = std::exp(log_term);
    sum += term;
    if (j > n * p && term < 1e-20 * sum) break;  // past the mode the terms only shrink
  }
  return sum;
}

double LogBetaByLgamma(double a, double b) {
  return std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b);
}

// Evan Miller's closed form for P(B > A), A ~ Beta(a_a, b_a), B ~ Beta(a_b, b_b), integer a_b:
// Σ_{i=0}^{a_b-1} B(a_a+i, b_a+b_b) / ((b_b+i) B(1+i, b_b) B(a_a, b_a)).
double ProbabilityBBeatsAClosedForm(double a_a, double b_a, int a_b, double b_b) {
  double sum = 0;
  for (int i = 0; i < a_b; ++i) {
    sum += std::exp(LogBetaByLgamma(a_a + i, b_a + b_b) - std::log(b_b + i) -
                    LogBetaByLgamma(1.0 + i, b_b) - LogBetaByLgamma(a_a, b_a));
  }
  return sum;
}

// Monte Carlo chance to be best: Beta(a, b) = X / (X + Y), X ~ Gamma(a), Y ~ Gamma(b).
std::vector<double> ChanceToBeBestByMonteCarlo(const std::vector<Proportion>& arms,
                                               double prior_alpha, double prior_beta, int draws) {
  std::mt19937_64 generator(20240611);
  std::vector<std::gamma_distribution<double>> successes_gamma;
  std::vector<std::gamma_distribution<double>> failures_gamma;
  for (const Proportion& arm : arms) {
    successes_gamma.emplace_back(prior_alpha + arm.successes, 1.0);
    failures_gamma.emplace_back(prior_beta + arm.trials - arm.successes, 1.0);
  }
  std::vector<double> wins(arms.size(), 0.0);
  for (int draw = 0; draw < draws; ++draw) {
    size_t best = 0;
    double best_rate = -1;
    for (size_t i = 0; i < arms.size(); ++i) {
      const double x = successes_gamma[i](generator);
      const double y = failures_gamma[i](generator);
      const double rate = x / (x + y);
      if (rate > best_rate) {
        best_rate = rate;
        best = i;
      }
    }
    wins[best] += 1;
  }
  for (double& win : wins) win /= draws;
  return wins;
}

double Sum(const std::vector<double>& values) {
  double total = 0;
  for (double value : values) total += value;
  return total;
}

// ---- Normal ----

TEST(NormalTest, TextbookValues) {
  EXPECT_NEAR(NormalCdf(1.959963984540054), 0.975, 1e-15);
  EXPECT_NEAR(NormalQuantile(0.975), 1.959963984540054, 1e-14);
  // Φ(-3) = 0.0013498980316301 (standard tables, e.g. Abramowitz & Stegun 26.2).
  EXPECT_NEAR(NormalCdf(-3) / 0.0013498980316301, 1.0, 1e-12);
  EXPECT_EQ(NormalCdf(0), 0.5);
  EXPECT_EQ(NormalQuantile(0.5), 0.0);
  EXPECT_EQ(NormalQuantile(0.0), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(NormalQuantile(1.0), std::numeric_limits<double>::infinity());
}

TEST(NormalTest, QuantileInvertsErfcBasedCdfAcrossTheRange) {
  // NormalCdf is std::erfc, an implementation independent of the quantile's Acklam polynomial.
  for (double p : {1e-300, 1e-100, 1e-20, 1e-10, 1e-5, 0.001, 0.02, 0.02425, 0.1, 0.3, 0.5}) {
    const double x = NormalQuantile(p);
    EXPECT_NEAR(NormalCdf(x) / p, 1.0, 1e-12) << p;
    // Symmetry: q = 1 - p rounds, but 1 - q is exact (q is in [0.5, 1]), so the upper quantile
    // at q mirrors the lower quantile at 1 - q.
    const double q = 1 - p;
    if (q == 1) continue;  // p below the spacing of doubles near 1
    EXPECT_NEAR(NormalQuantile(q), -NormalQuantile(1 - q), 1e-14 * std::fabs(x) + 1e-15) << p;
  }
}

// ---- Student t ----

TEST(StudentTTest, TableCriticalValuesGiveFivePercent) {
  // Two-sided 5% critical values from the standard t table: 2.228 (df 10), 2.086 (df 20). The
  // table rounds to 3 decimals, which moves p by < 2e-4.
  EXPECT_NEAR(StudentTTwoSidedP(2.228, 10), 0.05, 2e-4);
  EXPECT_NEAR(StudentTTwoSidedP(2.086, 20), 0.05, 2e-4);
  EXPECT_NEAR(StudentTQuantile(0.975, 10), 2.228, 5e-4);
  EXPECT_NEAR(StudentTQuantile(0.975, 20), 2.086, 5e-4);
  EXPECT_NEAR(StudentTQuantile(0.975, 2), 4.303, 5e-4);
}

TEST(StudentTTest, ClosedFormsForOneAndTwoDegreesOfFreedom) {
  for (double t : {-50.0, -3.0, -0.7, 0.0, 0.2, 1.0, 4.5, 1e4}) {
    // df = 1 is the Cauchy distribution: 1/2 + atan(t)/π.
    EXPECT_NEAR(StudentTCdf(t, 1), 0.5 + std::atan(t) / kPi, 1e-14) << t;
    // df = 2: 1/2 + t / (2 sqrt(2 + t²)).
    EXPECT_NEAR(StudentTCdf(t, 2), 0.5 + t / (2 * std::sqrt(2 + t * t)), 1e-14) << t;
  }
  for (double p : {0.001, 0.05, 0.3, 0.6, 0.975, 0.9999}) {
    EXPECT_NEAR(StudentTQuantile(p, 1), std::tan(kPi * (p - 0.5)),
                1e-12 * std::fabs(std::tan(kPi * (p - 0.5))) + 1e-14)
        << p;
    // df = 2 inverts to (2p - 1) / sqrt(2 p (1 - p)).
    EXPECT_NEAR(StudentTQuantile(p, 2), (2 * p - 1) / std::sqrt(2 * p * (1 - p)), 1e-12) << p;
  }
}

TEST(StudentTTest, FractionalDegreesOfFreedomMatchSimpsonIntegration) {
  for (double df : {1.5, 2.5, 4.749, 7.3, 31.7, 200.2}) {
    for (double t : {-3.2, -0.4, 0.3, 1.7, 2.9}) {
      EXPECT_NEAR(StudentTCdf(t, df), StudentTCdfBySimpson(t, df), 1e-11)
          << "df " << df << " t " << t;
    }
    EXPECT_NEAR(StudentTQuantile(0.975, df), StudentTQuantileBySimpson(0.975, df), 1e-9) << df;
  }
}

TEST(StudentTTest, TailsAndLimits) {
  // Far tails keep relative precision: P(T > t) for df = 1 is atan(1/t)/π.
  EXPECT_NEAR(StudentTCdf(-1e6, 1) / (std::atan(1e-6) / kPi), 1.0, 1e-10);
  EXPECT_NEAR(StudentTTwoSidedP(1e6, 1) / (2 * std::atan(1e-6) / kPi), 1.0, 1e-10);
  // Many degrees of freedom approach the normal.
  EXPECT_NEAR(StudentTCdf(1.96, 1e8), NormalCdf(1.96), 1e-8);
  EXPECT_EQ(StudentTCdf(1.5, std::numeric_limits<double>::infinity()), NormalCdf(1.5));
  for (double p : {1e-12, 0.01, 0.4, 0.8}) {
    EXPECT_NEAR(StudentTCdf(StudentTQuantile(p, 3.3), 3.3) / p, 1.0, 1e-11) << p;
  }
}

// ---- Chi-square and incomplete gamma ----

TEST(ChiSquareTest, CriticalValuesAndClosedForms) {
  // 95% critical values: 3.841458820694124 (df 1) and 5.991464547107979 (df 2). For df 2 the
  // survival is exp(-x/2) exactly: exp(-2.9957322735539895) = 0.05.
  EXPECT_NEAR(ChiSquareSurvival(3.841458820694124, 1), 0.05, 1e-13);
  EXPECT_NEAR(ChiSquareSurvival(5.991464547107979, 2), 0.05, 1e-13);
  // Table: χ²(0.05, 10) = 18.307 (3 decimals; the density there is 0.012, so p moves < 1e-5).
  EXPECT_NEAR(ChiSquareSurvival(18.307, 10), 0.05, 1e-5);
  for (double x : {0.01, 0.5, 3.0, 10.0, 40.0, 200.0}) {
    // df 1: P(Z² > x) = erfc(sqrt(x/2)); df 2: exp(-x/2); df 4: exp(-x/2)(1 + x/2).
    EXPECT_NEAR(ChiSquareSurvival(x, 1) / std::erfc(std::sqrt(x / 2)), 1.0, 1e-12) << x;
    EXPECT_NEAR(ChiSquareSurvival(x, 2) / std::exp(-x / 2), 1.0, 1e-12) << x;
    EXPECT_NEAR(ChiSquareSurvival(x, 4) / (std::exp(-x / 2) * (1 + x / 2)), 1.0, 1e-12) << x;
  }
  EXPECT_EQ(ChiSquareSurvival(0, 3), 1.0);
}

TEST(IncompleteGammaTest, ClosedForms) {
  // Both the series (x < a + 1) and the continued fraction (x >= a + 1) are reached.
  for (double x : {0.001, 0.3, 1.0, 2.5, 7.0, 30.0}) {
    EXPECT_NEAR(RegularizedGammaP(1, x), -std::expm1(-x), 1e-14) << x;  // 1 - e^-x
    EXPECT_NEAR(RegularizedGammaQ(1, x) / std::exp(-x), 1.0, 1e-12) << x;
    EXPECT_NEAR(RegularizedGammaP(0.5, x), std::erf(std::sqrt(x)), 1e-14) << x;
    EXPECT_NEAR(RegularizedGammaP(3.7, x) + RegularizedGammaQ(3.7, x), 1.0, 1e-14) << x;
  }
}

// ---- Incomplete beta ----

TEST(IncompleteBetaTest, ClosedFormsWithAShapeOfOne) {
  for (double x : {1e-6, 0.01, 0.2, 0.5, 0.77, 0.999}) {
    for (double shape : {0.5, 1.0, 2.0, 7.5, 40.0, 5000.0}) {
      const double one_minus_power = -std::expm1(shape * std::log1p(-x));  // 1 - (1-x)^b
      EXPECT_NEAR(RegularizedBeta(1, shape, x), one_minus_power, 1e-13 * one_minus_power + 1e-300)
          << "b " << shape << " x " << x;
      const double power = std::pow(x, shape);  // x^a
      EXPECT_NEAR(RegularizedBeta(shape, 1, x), power, 1e-13 * power + 1e-300)
          << "a " << shape << " x " << x;
    }
  }
  EXPECT_EQ(RegularizedBeta(2, 3, 0), 0.0);
  EXPECT_EQ(RegularizedBeta(2, 3, 1), 1.0);
}

TEST(IncompleteBetaTest, SymmetryAndReflection) {
  for (double a : {0.3, 3.7, 120.0, 1e6}) {
    EXPECT_NEAR(RegularizedBeta(a, a, 0.5), 0.5, 1e-12) << a;  // symmetric about 1/2
    for (double x : {0.1, 0.45, 0.9}) {
      EXPECT_NEAR(RegularizedBeta(a, 2.2, x) + RegularizedBeta(2.2, a, 1 - x), 1.0, 1e-12);
    }
  }
}

TEST(IncompleteBetaTest, MatchesBinomialTailSums) {
  // I_p(k, n - k + 1) = P(Binomial(n, p) >= k), summed term by term with log-gamma coefficients.
  struct Case {
    int64_t n;
    int64_t k;
    double p;
    double tolerance;  // the binomial sum's own log-gamma rounding grows with n
  };
  for (const Case& c : {Case{20, 3, 0.1, 1e-12}, Case{200, 37, 0.2, 1e-11},
                        Case{2000, 80, 0.05, 1e-10}, Case{2000, 130, 0.05, 1e-10},
                        Case{1000000, 50200, 0.05, 1e-8}, Case{1000000, 49500, 0.05, 1e-8}}) {
    const double expected = BinomialUpperTail(c.n, c.k, c.p);
    EXPECT_NEAR(RegularizedBeta(c.k, c.n - c.k + 1, c.p) / expected, 1.0, c.tolerance)
        << c.n << " " << c.k;
  }
}

TEST(BetaDistributionTest, DensityAndQuantile) {
  for (double x : {0.001, 0.3, 0.8}) {
    const double expected = 2.0 * std::log(x) + 6.0 * std::log1p(-x) - LogBetaByLgamma(3, 7);
    EXPECT_NEAR(BetaLogPdf(x, 3, 7), expected, 1e-12) << x;
  }
  // Large shapes (50,000 successes in 1,000,000 trials) take the Stirling path. The plain formula
  // agrees to its own log-gamma rounding (~1e-16 · 1.3e7 per term), and the density integrates to
  // 1 over mean ± 10 sd (sd = sqrt(0.05·0.95/1e6) = 2.18e-4; Simpson's rule).
  for (double x : {0.0495, 0.05, 0.0504}) {
    const double plain =
        49999.0 * std::log(x) + 949999.0 * std::log1p(-x) - LogBetaByLgamma(50000, 950000);
    EXPECT_NEAR(BetaLogPdf(x, 50000, 950000), plain, 1e-7) << x;
  }
  const double mass =
      SimpsonIntegral([](double x) { return std::exp(BetaLogPdf(x, 50000, 950000)); },
                      0.05 - 10 * 2.18e-4, 0.05 + 10 * 2.18e-4, 4000);
  EXPECT_NEAR(mass, 1.0, 1e-10);
  EXPECT_NEAR(BetaLogPdf(0.25, 1, 1), 0.0, 1e-15);  // uniform
  for (double p : {1e-15, 0.01, 0.5, 0.99}) {
    EXPECT_NEAR(BetaCdf(BetaQuantile(p, 11, 91), 11, 91), p, 1e-14 + 1e-10 * p) << p;
  }
  EXPECT_NEAR(BetaQuantile(0.3, 1, 1), 0.3, 1e-15);
}

// ---- Two-proportion z-test ----

TEST(TwoProportionZTest, WorkedExample) {
  // 200/1000 vs 250/1000:
  //   pooled p = 450/2000 = 0.225
  //   pooled SE = sqrt(0.225·0.775·(1/1000 + 1/1000)) = sqrt(0.00034875) = 0.0186748494
  //   z = 0.05 / 0.0186748494 = 2.6773978
  //   p = 2·(1 - Φ(2.6773978)) = erfc(2.6773978/√2) = 0.0074196493
  //   unpooled SE = sqrt(0.2·0.8/1000 + 0.25·0.75/1000) = sqrt(0.0003475) = 0.0186413519
  //   95% CI = 0.05 ± 1.959964·0.0186413519 = [0.0134636, 0.0865364]
  const TwoProportionZTestResult result = TwoProportionZTest({200, 1000}, {250, 1000});
  EXPECT_TRUE(result.defined);
  EXPECT_DOUBLE_EQ(result.control_rate, 0.2);
  EXPECT_DOUBLE_EQ(result.treatment_rate, 0.25);
  EXPECT_NEAR(result.difference, 0.05, 1e-15);
  EXPECT_NEAR(result.pooled_rate, 0.225, 1e-15);
  EXPECT_NEAR(result.pooled_standard_error, 0.0186748494, 1e-10);
  EXPECT_NEAR(result.z, 2.6773978, 1e-7);
  EXPECT_NEAR(result.p_value, 0.0074196493, 1e-10);
  EXPECT_NEAR(result.unpooled_standard_error, 0.0186413519, 1e-10);
  EXPECT_NEAR(result.difference_ci95_low, 0.0134636, 1e-7);
  EXPECT_NEAR(result.difference_ci95_high, 0.0865364, 1e-7);
}

TEST(TwoProportionZTest, SwappingArmsFlipsTheSign) {
  const TwoProportionZTestResult forward = TwoProportionZTest({120, 2400}, {150, 2500});
  const TwoProportionZTestResult backward = TwoProportionZTest({150, 2500}, {120, 2400});
  EXPECT_DOUBLE_EQ(forward.z, -backward.z);
  EXPECT_DOUBLE_EQ(forward.p_value, backward.p_value);
  EXPECT_DOUBLE_EQ(forward.difference_ci95_low, -backward.difference_ci95_high);
}

void ExpectNotDefined(const TwoProportionZTestResult& result) {
  EXPECT_FALSE(result.defined);
  EXPECT_EQ(result.z, 0.0);
  EXPECT_EQ(result.p_value, 1.0);
  EXPECT_EQ(result.difference_ci95_low, -1.0);
  EXPECT_EQ(result.difference_ci95_high, 1.0);
  for (double figure :
       {result.control_rate, result.treatment_rate, result.difference, result.pooled_rate,
        result.pooled_standard_error, result.unpooled_standard_error}) {
    EXPECT_TRUE(std::isfinite(figure));
  }
}

TEST(TwoProportionZTest, DegenerateInputIsNotDefinedAndHasNoNaN) {
  ExpectNotDefined(TwoProportionZTest({0, 0}, {5, 100}));
  ExpectNotDefined(TwoProportionZTest({5, 100}, {0, 0}));
  ExpectNotDefined(TwoProportionZTest({0, 0}, {0, 0}));
  ExpectNotDefined(TwoProportionZTest({0, 1000}, {0, 1000}));      // pooled rate 0
  ExpectNotDefined(TwoProportionZTest({1000, 1000}, {500, 500}));  // pooled rate 1
}

TEST(TwoProportionZTest, ExtremeButDefined) {
  // 0/100 vs 100/100: pooled 0.5, SE = sqrt(0.25·0.02) = 0.0707107, z = 1/0.0707107 = 14.142136.
  const TwoProportionZTestResult result = TwoProportionZTest({0, 100}, {100, 100});
  EXPECT_TRUE(result.defined);
  EXPECT_NEAR(result.z, 14.142136, 1e-6);
  EXPECT_GE(result.p_value, 0.0);
  EXPECT_LT(result.p_value, 1e-40);
  EXPECT_EQ(result.unpooled_standard_error, 0.0);  // Wald interval collapses to the point
  EXPECT_DOUBLE_EQ(result.difference_ci95_low, 1.0);
}

TEST(TwoProportionZTest, InvalidCountsAreClampedNotCrashing) {
  // Callers validate; these only must not crash or yield NaN.
  for (const auto& result :
       {TwoProportionZTest({150, 100}, {20, 100}), TwoProportionZTest({-5, 100}, {20, 100}),
        TwoProportionZTest({5, -100}, {20, 100})}) {
    for (double figure : {result.z, result.p_value, result.difference, result.difference_ci95_low,
                          result.difference_ci95_high}) {
      EXPECT_FALSE(std::isnan(figure));
    }
    EXPECT_GE(result.p_value, 0.0);
    EXPECT_LE(result.p_value, 1.0);
  }
}

// ---- Holm ----

TEST(HolmTest, TextbookExample) {
  // Sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → max(0.06, 0.04) = 0.06.
  const std::vector<double> adjusted = HolmAdjust({0.01, 0.04, 0.03, 0.005});
  ASSERT_EQ(adjusted.size(), 4u);
  EXPECT_NEAR(adjusted[0], 0.03, 1e-15);
  EXPECT_NEAR(adjusted[1], 0.06, 1e-15);
  EXPECT_NEAR(adjusted[2], 0.06, 1e-15);
  EXPECT_NEAR(adjusted[3], 0.02, 1e-15);
}

TEST(HolmTest, CappedAtOneAndMonotone) {
  // 0.5·2 = 1.0, then max(1.0, 0.6·1) = 1.0.
  EXPECT_EQ(HolmAdjust({0.5, 0.6}), (std::vector<double>{1.0, 1.0}));
  // 0.7·3 = 2.1 is capped at 1.
  EXPECT_EQ(HolmAdjust({0.7, 0.8, 0.9}), (std::vector<double>{1.0, 1.0, 1.0}));
  std::mt19937_64 generator(7);
  std::uniform_real_distribution<double> uniform(0.0, 0.2);
  std::vector<double> raw(25);
  for (double& p : raw) p = uniform(generator);
  const std::vector<double> adjusted = HolmAdjust(raw);
  for (size_t i = 0; i < raw.size(); ++i) {
    EXPECT_GE(adjusted[i], raw[i]);
    EXPECT_LE(adjusted[i], 1.0);
    for (size_t j = 0; j < raw.size(); ++j) {
      if (raw[i] < raw[j]) {
        EXPECT_LE(adjusted[i], adjusted[j]);
      }
    }
  }
}

TEST(HolmTest, EdgeCases) {
  EXPECT_TRUE(HolmAdjust({}).empty());
  EXPECT_EQ(HolmAdjust({0.03}), (std::vector<double>{0.03}));
  // Ties: both 0.02·2 = 0.04.
  EXPECT_EQ(HolmAdjust({0.02, 0.02}), (std::vector<double>{0.04, 0.04}));
  const std::vector<double> with_nan = HolmAdjust({std::nan(""), 0.01});
  EXPECT_EQ(with_nan[0], 1.0);
  EXPECT_NEAR(with_nan[1], 0.02, 1e-15);
}

// ---- Chance to be best ----

TEST(ChanceToBeBestTest, SymmetricArmsShareEqually) {
  const std::vector<double> two = ChanceToBeBest({{30, 600}, {30, 600}});
  EXPECT_NEAR(two[0], 0.5, 1e-9);
  EXPECT_NEAR(two[1], 0.5, 1e-9);
  const std::vector<double> three = ChanceToBeBest({{7, 90}, {7, 90}, {7, 90}});
  for (double chance : three) EXPECT_NEAR(chance, 1.0 / 3, 1e-9);
  const std::vector<double> no_data = ChanceToBeBest({{0, 0}, {0, 0}});
  EXPECT_NEAR(no_data[0], 0.5, 1e-9);
}

TEST(ChanceToBeBestTest, MatchesEvanMillersClosedForm) {
  // 10/100 and 15/100 with a uniform prior: A = Beta(11, 91), B = Beta(16, 86).
  const double expected = ProbabilityBBeatsAClosedForm(11, 91, 16, 86);
  EXPECT_NEAR(expected, 0.8532837899, 1e-9);  // the same sum evaluated in 30-digit arithmetic
  const std::vector<double> chances = ChanceToBeBest({{10, 100}, {15, 100}});
  EXPECT_NEAR(chances[1], expected, 1e-10);
  EXPECT_NEAR(Sum(chances), 1.0, 1e-10);
  EXPECT_NEAR(ChanceToBeatControl({10, 100}, {15, 100}), expected, 1e-10);
  // Another prior: Beta(2, 2) prior gives A = Beta(42, 462), B = Beta(57, 447) for 40/500, 55/500.
  EXPECT_NEAR(ChanceToBeatControl({40, 500}, {55, 500}, 2, 2),
              ProbabilityBBeatsAClosedForm(42, 462, 57, 447), 1e-10);
}

TEST(ChanceToBeBestTest, MatchesMonteCarlo) {
  constexpr int kDraws = 300000;
  struct Case {
    std::vector<Proportion> arms;
    double prior_alpha;
    double prior_beta;
  };
  // Three close arms; and a Jeffreys prior with zero successes, whose density is unbounded at 0.
  for (const Case& c : {Case{{{40, 1000}, {50, 1000}, {55, 1000}}, 1, 1},
                        Case{{{0, 1000}, {1, 1000}, {2, 1500}}, 0.5, 0.5}}) {
    const std::vector<double> integrated = ChanceToBeBest(c.arms, c.prior_alpha, c.prior_beta);
    const std::vector<double> simulated =
        ChanceToBeBestByMonteCarlo(c.arms, c.prior_alpha, c.prior_beta, kDraws);
    ASSERT_EQ(integrated.size(), c.arms.size());
    EXPECT_NEAR(Sum(integrated), 1.0, 1e-9);
    for (size_t i = 0; i < c.arms.size(); ++i) {
      const double standard_error = std::sqrt(simulated[i] * (1 - simulated[i]) / kDraws);
      EXPECT_NEAR(integrated[i], simulated[i], 4 * standard_error + 1e-6) << i;
    }
  }
}

TEST(ChanceToBeBestTest, MillionsOfTrialsStayFiniteAndMatchTheNormalLimit) {
  // 250,000/5,000,000 vs 250,500/5,000,000: the posteriors are ~N(rate, rate(1-rate)/n), so
  // P(B > A) ≈ Φ(0.0001 / sqrt(2·0.05·0.95/5e6)) = Φ(0.0001/0.000137840) = Φ(0.725476) = 0.76592.
  const std::vector<double> chances = ChanceToBeBest({{250000, 5000000}, {250500, 5000000}});
  for (double chance : chances) EXPECT_TRUE(std::isfinite(chance));
  EXPECT_NEAR(Sum(chances), 1.0, 1e-9);
  EXPECT_NEAR(chances[1], 0.76592, 1e-3);
  // Very different widths in one call: a uniform arm, a 5M-trial arm near 0, and Beta(2, 10).
  // P(uniform beats Beta(2, 10)) = 1 - E[Beta(2, 10)] = 1 - 2/12; the 5M-trial arm never wins.
  const std::vector<double> mixed = ChanceToBeBest({{0, 0}, {3, 5000000}, {1, 10}});
  EXPECT_NEAR(mixed[0], 1 - 2.0 / 12, 1e-9);
  EXPECT_NEAR(mixed[1], 0.0, 1e-12);
  EXPECT_NEAR(mixed[2], 2.0 / 12, 1e-9);
}

TEST(ChanceToBeBestTest, EdgeCases) {
  EXPECT_TRUE(ChanceToBeBest({}).empty());
  EXPECT_EQ(ChanceToBeBest({{3, 10}}), (std::vector<double>{1.0}));
  // Invalid priors fall back to 1: same as the default.
  EXPECT_NEAR(ChanceToBeatControl({10, 100}, {15, 100}, -1, 0),
              ChanceToBeatControl({10, 100}, {15, 100}), 1e-15);
}

// ---- Welch ----

TEST(WelchTTest, WorkedExample) {
  // control {1,2,3,4,5}: mean 3, variance (4+1+0+1+4)/4 = 2.5
  // treatment {3,5,7,9}: mean 6, variance (9+1+1+9)/3 = 20/3
  // SE² = 2.5/5 + (20/3)/4 = 0.5 + 1.6667 = 2.1667; SE = 1.4719601
  // t = 3 / 1.4719601 = 2.0380987
  // df = 2.1667² / (0.5²/4 + 1.6667²/3) = 4.6944 / (0.0625 + 0.9259) = 4.7494145
  // p: between the df 4 and df 5 table rows, t = 2.038 sits near the two-sided 10% column (2.132
  // and 2.015), so p ≈ 0.10; precisely 0.1000838 (Simpson integration of the density below).
  const WelchTTestResult result = WelchTTest({1, 2, 3, 4, 5}, {3, 5, 7, 9});
  EXPECT_TRUE(result.defined);
  EXPECT_EQ(result.control_count, 5);
  EXPECT_EQ(result.treatment_count, 4);
  EXPECT_DOUBLE_EQ(result.control_mean, 3);
  EXPECT_DOUBLE_EQ(result.treatment_mean, 6);
  EXPECT_DOUBLE_EQ(result.control_variance, 2.5);
  EXPECT_DOUBLE_EQ(result.treatment_variance, 20.0 / 3);
  EXPECT_DOUBLE_EQ(result.difference, 3);
  EXPECT_NEAR(result.standard_error, 1.4719601, 1e-7);
  EXPECT_NEAR(result.t, 2.0380987, 1e-7);
  EXPECT_NEAR(result.degrees_of_freedom, 4.7494145, 1e-7);
  EXPECT_NEAR(result.p_value, 0.1000838, 1e-7);
  const double df = result.degrees_of_freedom;
  EXPECT_NEAR(result.p_value, 2 * (1 - StudentTCdfBySimpson(result.t, df)), 1e-11);
  // CI = 3 ± t(0.975, 4.7494)·SE = 3 ± 2.6119161·1.4719601 = [-0.8446364, 6.8446364].
  const double half_width = StudentTQuantileBySimpson(0.975, df) * result.standard_error;
  EXPECT_NEAR(result.difference_ci95_low, 3 - half_width, 1e-8);
  EXPECT_NEAR(result.difference_ci95_high, 3 + half_width, 1e-8);
  EXPECT_NEAR(result.difference_ci95_low, -0.8446364, 1e-7);
}

TEST(WelchTTest, OneConstantGroupLeavesTheOthersDegreesOfFreedom) {
  // control variance 0 → df = n_t - 1 = 2; t = (2 - 2)/… = 0 → p = 1.
  const WelchTTestResult result = WelchTTest({2, 2, 2}, {1, 2, 3});
  EXPECT_TRUE(result.defined);
  EXPECT_NEAR(result.degrees_of_freedom, 2.0, 1e-12);
  EXPECT_NEAR(result.p_value, 1.0, 1e-14);
}

void ExpectNotDefined(const WelchTTestResult& result) {
  EXPECT_FALSE(result.defined);
  EXPECT_EQ(result.t, 0.0);
  EXPECT_EQ(result.p_value, 1.0);
  for (double figure :
       {result.control_mean, result.treatment_mean, result.control_variance,
        result.treatment_variance, result.difference, result.standard_error,
        result.degrees_of_freedom, result.difference_ci95_low, result.difference_ci95_high}) {
    EXPECT_FALSE(std::isnan(figure));
  }
}

TEST(WelchTTest, DegenerateInputIsNotDefinedAndHasNoNaN) {
  ExpectNotDefined(WelchTTest({}, {}));
  ExpectNotDefined(WelchTTest({1.0}, {1.0, 2.0, 3.0}));
  ExpectNotDefined(WelchTTest({1.0, 2.0}, {4.0}));
  const WelchTTestResult constant = WelchTTest({2, 2, 2}, {5, 5});  // both variances 0
  ExpectNotDefined(constant);
  EXPECT_EQ(constant.difference, 3.0);  // the means are still reported
}

// ---- Sample ratio mismatch ----

TEST(SampleRatioMismatchTest, EvenSplitExample) {
  // {50000, 49000}, 1:1: expected 49500 each; χ² = 2·500²/49500 = 10.1010101;
  // df 1: p = erfc(sqrt(10.1010101/2)) = 0.0014818808 > 0.001 → no alarm at the default level.
  const SampleRatioMismatchResult result = SampleRatioMismatch({50000, 49000}, {1, 1});
  EXPECT_TRUE(result.defined);
  EXPECT_EQ(result.expected_counts, (std::vector<double>{49500, 49500}));
  EXPECT_NEAR(result.chi_square, 10.1010101, 1e-7);
  EXPECT_EQ(result.degrees_of_freedom, 1);
  EXPECT_NEAR(result.p_value, 0.0014818808, 1e-10);
  EXPECT_FALSE(result.mismatch);
  EXPECT_TRUE(SampleRatioMismatch({50000, 49000}, {1, 1}, 0.01).mismatch);

  const SampleRatioMismatchResult exact = SampleRatioMismatch({5000, 5000}, {1, 1});
  EXPECT_EQ(exact.chi_square, 0.0);
  EXPECT_EQ(exact.p_value, 1.0);
  EXPECT_FALSE(exact.mismatch);
}

TEST(SampleRatioMismatchTest, UnevenWeightsAreNormalized) {
  // {6700, 3300} planned 2:1: expected {6666.67, 3333.33}, deviations ±100/3;
  // χ² = (100/3)²·(3/20000 + 3/10000) = (10000/9)·(9/20000) = 0.5; p = erfc(sqrt(0.25)) = 0.4795.
  for (const std::vector<double>& weights :
       {std::vector<double>{2, 1}, std::vector<double>{0.5, 0.25}}) {
    const SampleRatioMismatchResult result = SampleRatioMismatch({6700, 3300}, weights);
    EXPECT_TRUE(result.defined);
    EXPECT_NEAR(result.expected_counts[0], 20000.0 / 3, 1e-9);
    EXPECT_NEAR(result.chi_square, 0.5, 1e-12);
    EXPECT_NEAR(result.p_value, 0.4795001221869535, 1e-12);
    EXPECT_FALSE(result.mismatch);
  }
}

TEST(SampleRatioMismatchTest, ThreeGroups) {
  // {1000, 1100, 900}, equal thirds: χ² = (0 + 100² + 100²)/1000 = 20; df 2: p = exp(-10).
  const SampleRatioMismatchResult result = SampleRatioMismatch({1000, 1100, 900}, {1, 1, 1});
  EXPECT_NEAR(result.chi_square, 20.0, 1e-12);
  EXPECT_EQ(result.degrees_of_freedom, 2);
  EXPECT_NEAR(result.p_value / std::exp(-10.0), 1.0, 1e-12);
  EXPECT_TRUE(result.mismatch);
}

TEST(SampleRatioMismatchTest, InvalidInputIsNotDefined) {
  for (const SampleRatioMismatchResult& result :
       {SampleRatioMismatch({10, 10}, {1, 0}), SampleRatioMismatch({10, 10}, {1, -2}),
        SampleRatioMismatch({10, 10}, {1}), SampleRatioMismatch({10}, {1}),
        SampleRatioMismatch({0, 0}, {1, 1}), SampleRatioMismatch({-3, 10}, {1, 1}),
        SampleRatioMismatch({10, 10}, {1, std::nan("")})}) {
    EXPECT_FALSE(result.defined);
    EXPECT_EQ(result.p_value, 1.0);
    EXPECT_FALSE(result.mismatch);
  }
}

// ---- Sequential (mSPRT) ----

TEST(SequentialTest, LikelihoodRatioByHand) {
  // 100/1000 vs 130/1000, τ² = 1e-4:
  //   θ̂ = 0.03; V = 0.1·0.9/1000 + 0.13·0.87/1000 = 0.00009 + 0.0001131 = 0.0002031
  //   sqrt(V/(V+τ²)) = sqrt(0.0002031/0.0003031) = 0.8185816285
  //   exponent = 0.03²·1e-4 / (2·0.0002031·0.0003031) = 9e-8 / 1.2312122e-7 = 0.7309987831
  //   Λ = 0.8185816285·e^0.7309987831 = 1.7003202665; 1/Λ = 0.5881244961
  EXPECT_NEAR(MixtureLikelihoodRatio(0.03, 0.0002031, 1e-4), 1.7003202665, 1e-10);
  const SequentialState state = UpdateSequential({}, {100, 1000}, {130, 1000}, 1e-4);
  EXPECT_EQ(state.looks, 1);
  EXPECT_NEAR(state.always_valid_p, 0.5881244961, 1e-10);
}

TEST(SequentialTest, MeansLikelihoodRatioByHand) {
  // Was the normal mixture with the estimated V plugged in (1/Λ = 0.6274284524 here), which is
  // not valid under daily peeking with few samples; now the two-sample t mixture (stats.h).
  // The Welch example with g = 1: means 3 and 6, θ̂ = 3; SS = 10 + 20 = 30; n_δ = 1/(1/5 + 1/4)
  // = 20/9, ν = 7, b = 1 + 20/9 = 29/9; t² = n_δ θ̂² / (SS/ν) = 20 / (30/7) = 14/3;
  //   1 + t²/ν = 5/3, 1 + t²/(ν b) = 1 + (2/3)(9/29) = 35/29, ratio (5/3)/(35/29) = 29/21
  //   Λ = (29/9)^(-1/2) · (29/21)^4 = 0.5570860145 · 3.6367614317 = 2.0259889318
  //   1/Λ = 0.4935861121
  EXPECT_NEAR(MeansMixtureLikelihoodRatio({1, 2, 3, 4, 5}, {3, 5, 7, 9}, 1.0), 2.0259889318, 1e-9);
  const SequentialState state = UpdateSequentialMeans({}, {1, 2, 3, 4, 5}, {3, 5, 7, 9}, 1.0);
  EXPECT_EQ(state.looks, 1);
  EXPECT_NEAR(state.always_valid_p, 0.4935861121, 1e-10);
  // The default g is 1.
  EXPECT_EQ(UpdateSequentialMeans({}, {1, 2, 3, 4, 5}, {3, 5, 7, 9}).always_valid_p,
            state.always_valid_p);
}

TEST(SequentialTest, MeansLikelihoodRatioIsScaleFree) {
  // The same days at another scale and offset (rates of ~0.05 or ~2) give the same evidence.
  const std::vector<double> control = {0.051, 0.048, 0.055, 0.047, 0.05, 0.052};
  const std::vector<double> treatment = {0.056, 0.058, 0.054, 0.061, 0.057, 0.059};
  std::vector<double> control_scaled, treatment_scaled;
  for (double x : control) control_scaled.push_back(40 * x + 0.3);
  for (double x : treatment) treatment_scaled.push_back(40 * x + 0.3);
  const double ratio = MeansMixtureLikelihoodRatio(control, treatment);
  EXPECT_GT(ratio, 20);
  EXPECT_NEAR(MeansMixtureLikelihoodRatio(control_scaled, treatment_scaled) / ratio, 1, 1e-9);
  // Swapping the arms only flips the sign of the difference.
  EXPECT_NEAR(MeansMixtureLikelihoodRatio(treatment, control) / ratio, 1, 1e-12);
}

TEST(SequentialTest, FewMeansCannotGiveMuchEvidence) {
  // However far apart, n daily values per arm give Λ < b^(ν/2) with b = 1 + n g/2, ν = 2n - 2:
  // n = 2: 2, n = 3: 2.5² = 6.25 (both < 1/0.05), n = 4: 3³ = 27. With all days equal within
  // each arm (SS = 0) the limit itself is reached.
  EXPECT_NEAR(MeansMixtureLikelihoodRatio({0.05, 0.0500001}, {0.09, 0.0900001}), 2.0, 1e-6);
  EXPECT_NEAR(MeansMixtureLikelihoodRatio({0.05, 0.05}, {0.09, 0.09}), 2.0, 1e-12);
  EXPECT_NEAR(MeansMixtureLikelihoodRatio({1, 1, 1}, {2, 2, 2}), 6.25, 1e-12);
  EXPECT_NEAR(MeansMixtureLikelihoodRatio({1, 1, 1, 1}, {2, 2, 2, 2}), 27, 1e-12);
  EXPECT_GT(UpdateSequentialMeans({}, {0.05, 0.051, 0.049}, {0.5, 0.51, 0.49}).always_valid_p,
            0.05);
  // Nothing varies at all: no evidence, not NaN.
  EXPECT_EQ(MeansMixtureLikelihoodRatio({1, 1, 1}, {1, 1}), 1.0);
  EXPECT_EQ(MeansMixtureLikelihoodRatio({1, std::nan("")}, {1, 2}), 1.0);
}

TEST(SequentialTest, NoDifferenceMeansNoEvidence) {
  // θ̂ = 0 gives Λ = sqrt(V/(V+τ²)) < 1, so p stays 1 on every look.
  SequentialState state;
  for (int day = 1; day <= 30; ++day) {
    state = UpdateSequential(state, {50 * day, 1000 * day}, {50 * day, 1000 * day});
    EXPECT_EQ(state.always_valid_p, 1.0) << day;
    EXPECT_EQ(state.looks, day);
  }
  EXPECT_LT(MixtureLikelihoodRatio(0, 1e-5, 1e-5), 1.0);
}

TEST(SequentialTest, AlwaysValidPNeverIncreases) {
  // Daily cumulative counts whose observed difference first grows, then shrinks back.
  const std::vector<int64_t> control_clicks = {50, 98, 150, 197, 251, 300, 352, 400, 455, 500};
  const std::vector<int64_t> treatment_clicks = {58, 120, 181, 240, 290, 335, 380, 425, 470, 510};
  SequentialState state;
  double previous = 1.0;
  bool decreased = false;
  for (size_t day = 0; day < control_clicks.size(); ++day) {
    const int64_t views = 1000 * static_cast<int64_t>(day + 1);
    state =
        UpdateSequential(state, {control_clicks[day], views}, {treatment_clicks[day], views}, 1e-4);
    EXPECT_LE(state.always_valid_p, previous) << day;
    decreased = decreased || state.always_valid_p < previous;
    previous = state.always_valid_p;
  }
  EXPECT_TRUE(decreased);
  EXPECT_EQ(state.looks, 10);
}

TEST(SequentialTest, DefaultMixingVarianceAndDegenerateLooks) {
  // (0.10 relative lift × 0.05 click rate)² = 0.005² = 2.5e-5; (0.05 × 0.05)² = 6.25e-6.
  EXPECT_NEAR(MixingVarianceForRelativeLift(0.05), 2.5e-5, 1e-18);
  EXPECT_NEAR(MixingVarianceForRelativeLift(0.05, 0.05), 6.25e-6, 1e-18);
  EXPECT_NEAR(kDefaultMixingVariance, 2.5e-5, 1e-18);
  SequentialState state = UpdateSequential({}, {0, 0}, {10, 100});
  EXPECT_EQ(state.looks, 1);
  EXPECT_EQ(state.always_valid_p, 1.0);
  state = UpdateSequential(state, {0, 100}, {0, 100});           // V = 0
  state = UpdateSequential(state, {10, 100}, {90, 100}, 0.0);    // τ² = 0: no mixture
  state = UpdateSequentialMeans(state, {1.0}, {2.0, 3.0}, 1.0);  // too few samples
  EXPECT_EQ(state.looks, 4);
  EXPECT_EQ(state.always_valid_p, 1.0);
  // Overwhelming evidence gives p = 0, not NaN.
  state = UpdateSequential(state, {0, 1000000}, {500000, 1000000});
  EXPECT_EQ(state.always_valid_p, 0.0);
}

}  // namespace
}  // namespace cf::analytics::stats
