#include "services/analytics/stats/distributions.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace cf::analytics::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInfinity = std::numeric_limits<double>::infinity();
constexpr double kEpsilon = std::numeric_limits<double>::epsilon();
// Lentz's method replaces a zero denominator by this, so the recurrence can go on.
constexpr double kTiny = 1e-300;
constexpr double kPi = 3.14159265358979323846;
constexpr double kSqrt2 = 1.41421356237309504880;
// Continued fractions converge in O(sqrt(max(a, b))) terms; this bounds pathological inputs.
constexpr int kMaxContinuedFractionTerms = 200000;

// Lentz keeps its running quotients away from zero.
double AwayFromZero(double value) { return std::fabs(value) < kTiny ? kTiny : value; }

// log Γ(z) - [(z - 1/2) log z - z + log(2π)/2]: the remainder of Stirling's series, for z >= 10
// (the first omitted term is below 1e-12 there).
double StirlingRemainder(double z) {
  const double inverse = 1.0 / z;
  const double inverse_squared = inverse * inverse;
  return inverse *
         (1.0 / 12 -
          inverse_squared * (1.0 / 360 - inverse_squared * (1.0 / 1260 - inverse_squared / 1680)));
}

// log Γ(large) - log Γ(large + small) for large >= 10. Both log-gammas are ~large·log(large) and
// their plain difference keeps only ~1e-16·large·log(large) absolute precision (1e-12 at 5,000,
// 1e-8 at millions); Stirling's form is the exact difference of the leading terms.
double LogGammaRatio(double small, double large) {
  return -(large - 0.5) * std::log1p(small / large) - small * std::log(large + small) + small +
         StirlingRemainder(large) - StirlingRemainder(large + small);
}

// log(x^a (1-x)^b / B(a, b)), the factor in front of the incomplete beta continued fraction.
// With millions of trials the plain form subtracts log-gammas of size ~1e7 and keeps only ~1e-8
// relative precision; the Stirling form below works with the deviation of x from a / (a + b)
// instead, which keeps the result accurate to ~1e-12.
double LogBetaFrontFactor(double a, double b, double x) {
  if (std::min(a, b) < 10) {
    return a * std::log(x) + b * std::log1p(-x) - LogBetaFunction(a, b);
  }
  const double c = a + b;
  const double excess = x * c - a;  // x·c - a = b - (1 - x)·c
  return a * std::log1p(excess / a) + b * std::log1p(-excess / b) +
         0.5 * std::log(a * b / (2 * kPi * c)) -
         (StirlingRemainder(a) + StirlingRemainder(b) - StirlingRemainder(c));
}

// The continued fraction of I_x(a, b) (x^a (1-x)^b / (a B(a, b)) times it), evaluated by the
// modified Lentz method. Converges fast for x < (a + 1) / (a + b + 2).
double BetaContinuedFraction(double a, double b, double x) {
  double numerator_ratio = 1.0;
  double denominator_ratio = 1.0 / AwayFromZero(1.0 - (a + b) * x / (a + 1));
  double fraction = denominator_ratio;
  for (int m = 1; m <= kMaxContinuedFractionTerms; ++m) {
    // Each step folds in an even term d_{2m} and an odd term d_{2m+1}.
    const double even = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
    denominator_ratio = 1.0 / AwayFromZero(1.0 + even * denominator_ratio);
    numerator_ratio = AwayFromZero(1.0 + even / numerator_ratio);
    fraction *= denominator_ratio * numerator_ratio;
    const double odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
    denominator_ratio = 1.0 / AwayFromZero(1.0 + odd * denominator_ratio);
    numerator_ratio = AwayFromZero(1.0 + odd / numerator_ratio);
    const double change = denominator_ratio * numerator_ratio;
    fraction *= change;
    if (std::fabs(change - 1.0) < kEpsilon) break;
  }
  return fraction;
}

// log(x^a e^-x / Γ(a)), the factor shared by the gamma series and continued fraction.
double LogGammaFrontFactor(double a, double x) { return a * std::log(x) - x - std::lgamma(a); }

// P(a, x) by its power series; converges quickly for x < a + 1.
double GammaPSeries(double a, double x) {
  double term = 1.0 / a;
  double sum = term;
  for (int n = 1; n <= kMaxContinuedFractionTerms; ++n) {
    term *= x / (a + n);
    sum += term;
    if (std::fabs(term) < std::fabs(sum) * kEpsilon) break;
  }
  return sum * std::exp(LogGammaFrontFactor(a, x));
}

// Q(a, x) by its continued fraction (modified Lentz); converges quickly for x >= a + 1.
double GammaQContinuedFraction(double a, double x) {
  double b = x + 1.0 - a;
  double numerator_ratio = 1.0 / kTiny;
  double denominator_ratio = 1.0 / AwayFromZero(b);
  double fraction = denominator_ratio;
  for (int i = 1; i <= kMaxContinuedFractionTerms; ++i) {
    const double coefficient = -i * (i - a);
    b += 2.0;
    denominator_ratio = 1.0 / AwayFromZero(coefficient * denominator_ratio + b);
    numerator_ratio = AwayFromZero(b + coefficient / numerator_ratio);
    const double change = denominator_ratio * numerator_ratio;
    fraction *= change;
    if (std::fabs(change - 1.0) < kEpsilon) break;
  }
  return fraction * std::exp(LogGammaFrontFactor(a, x));
}

bool ValidShape(double a) { return std::isfinite(a) && a > 0; }

// Peter Acklam's rational approximation of the normal quantile for p in (0, 0.5]; relative
// error below 1.2e-9, which one Halley step then brings to double precision.
double AcklamLowerHalf(double p) {
  static constexpr double kCentralNumerator[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double kCentralDenominator[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                                   -1.556989798598866e+02, 6.680131188771972e+01,
                                                   -1.328068155288572e+01};
  static constexpr double kTailNumerator[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                              -2.400758277161838e+00, -2.549732539343734e+00,
                                              4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double kTailDenominator[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                                2.445134137142996e+00, 3.754408661907416e+00};
  if (p < 0.02425) {
    const double q = std::sqrt(-2.0 * std::log(p));
    double numerator = kTailNumerator[0];
    for (int i = 1; i < 6; ++i) numerator = numerator * q + kTailNumerator[i];
    double denominator = kTailDenominator[0];
    for (int i = 1; i < 4; ++i) denominator = denominator * q + kTailDenominator[i];
    return numerator / (denominator * q + 1.0);
  }
  const double q = p - 0.5;
  const double r = q * q;
  double numerator = kCentralNumerator[0];
  for (int i = 1; i < 6; ++i) numerator = numerator * r + kCentralNumerator[i];
  double denominator = kCentralDenominator[0];
  for (int i = 1; i < 5; ++i) denominator = denominator * r + kCentralDenominator[i];
  return numerator * q / (denominator * r + 1.0);
}

}  // namespace

double NormalPdf(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2 * kPi); }

double NormalCdf(double x) { return 0.5 * std::erfc(-x / kSqrt2); }

double NormalSurvival(double x) { return 0.5 * std::erfc(x / kSqrt2); }

double NormalQuantile(double p) {
  if (std::isnan(p) || p < 0 || p > 1) return kNaN;
  if (p == 0) return -kInfinity;
  if (p == 1) return kInfinity;
  // Work in the lower half, where p keeps its relative precision; 1 - p is exact for p >= 0.5.
  if (p > 0.5) return -NormalQuantile(1.0 - p);
  double x = AcklamLowerHalf(p);
  const double density = NormalPdf(x);
  if (density > 0) {
    const double u = (NormalCdf(x) - p) / density;  // Newton step; Halley adds the x·u/2 term
    x -= u / (1.0 + 0.5 * x * u);
  }
  return x;
}

double LogBetaFunction(double a, double b) {
  const double small = std::min(a, b);
  const double large = std::max(a, b);
  if (large < 10) return std::lgamma(a) + std::lgamma(b) - std::lgamma(a + b);
  return std::lgamma(small) + LogGammaRatio(small, large);
}

double RegularizedBeta(double a, double b, double x) {
  if (!ValidShape(a) || !ValidShape(b) || std::isnan(x)) return kNaN;
  if (x <= 0) return 0.0;
  if (x >= 1) return 1.0;
  const double front = std::exp(LogBetaFrontFactor(a, b, x));
  // The continued fraction converges fast only left of the mean-ish point; right of it, use the
  // reflection I_x(a, b) = 1 - I_{1-x}(b, a).
  if (x < (a + 1) / (a + b + 2)) return front * BetaContinuedFraction(a, b, x) / a;
  return 1.0 - front * BetaContinuedFraction(b, a, 1.0 - x) / b;
}

double RegularizedGammaP(double a, double x) {
  if (!ValidShape(a) || std::isnan(x)) return kNaN;
  if (x <= 0) return 0.0;
  if (std::isinf(x)) return 1.0;
  if (x < a + 1) return GammaPSeries(a, x);
  return 1.0 - GammaQContinuedFraction(a, x);
}

double RegularizedGammaQ(double a, double x) {
  if (!ValidShape(a) || std::isnan(x)) return kNaN;
  if (x <= 0) return 1.0;
  if (std::isinf(x)) return 0.0;
  if (x < a + 1) return 1.0 - GammaPSeries(a, x);
  return GammaQContinuedFraction(a, x);
}

double BetaLogPdf(double x, double a, double b) {
  if (!ValidShape(a) || !ValidShape(b) || std::isnan(x)) return kNaN;
  if (x < 0 || x > 1) return -kInfinity;
  // At the ends the density is 0, finite (shape exactly 1) or unbounded (shape below 1).
  if (x == 0) return a < 1 ? kInfinity : (a == 1 ? -LogBetaFunction(1, b) : -kInfinity);
  if (x == 1) return b < 1 ? kInfinity : (b == 1 ? -LogBetaFunction(a, 1) : -kInfinity);
  return LogBetaFrontFactor(a, b, x) - std::log(x) - std::log1p(-x);
}

double BetaCdf(double x, double a, double b) { return RegularizedBeta(a, b, x); }

double BetaQuantile(double p, double a, double b) {
  if (!ValidShape(a) || !ValidShape(b) || std::isnan(p) || p < 0 || p > 1) return kNaN;
  if (p == 0) return 0.0;
  if (p == 1) return 1.0;
  double low = 0.0;
  double high = 1.0;
  // Stop at a relative width, so quantiles close to 0 come out with their leading digits right.
  for (int step = 0; step < 2000 && high - low > 1e-15 * high; ++step) {
    const double middle = low + 0.5 * (high - low);
    if (middle <= low || middle >= high) break;
    (RegularizedBeta(a, b, middle) < p ? low : high) = middle;
  }
  return low + 0.5 * (high - low);
}

double StudentTTwoSidedP(double t, double df) {
  if (std::isnan(t) || std::isnan(df) || df <= 0) return kNaN;
  if (std::isinf(df)) return 2.0 * NormalSurvival(std::fabs(t));
  if (std::isinf(t)) return 0.0;
  const double t_squared = t * t;
  const double tail_argument = df / (df + t_squared);
  // P(|T| >= |t|) = I_{df/(df+t²)}(df/2, 1/2); near t = 0 use the reflection with t²/(df+t²)
  // computed directly, which avoids forming 1 - tail_argument.
  if (tail_argument < 0.5) return RegularizedBeta(0.5 * df, 0.5, tail_argument);
  return 1.0 - RegularizedBeta(0.5, 0.5 * df, t_squared / (df + t_squared));
}

double StudentTCdf(double t, double df) {
  if (std::isnan(t) || std::isnan(df) || df <= 0) return kNaN;
  if (std::isinf(df)) return NormalCdf(t);
  const double one_tail = 0.5 * StudentTTwoSidedP(t, df);
  return t > 0 ? 1.0 - one_tail : one_tail;
}

double StudentTQuantile(double p, double df) {
  if (std::isnan(p) || std::isnan(df) || df <= 0 || p < 0 || p > 1) return kNaN;
  if (p == 0) return -kInfinity;
  if (p == 1) return kInfinity;
  if (p == 0.5) return 0.0;
  if (std::isinf(df)) return NormalQuantile(p);
  // Solve in the lower tail, where the CDF keeps relative precision; min(p, 1-p) is exact.
  const double tail = std::min(p, 1.0 - p);
  double low = -1.0;  // bracket [low, high] with CDF(low) <= tail < CDF(high)
  double high = 0.0;
  while (StudentTCdf(low, df) > tail && std::isfinite(low)) {
    high = low;
    low *= 2.0;
  }
  if (!std::isfinite(low)) return p < 0.5 ? -kInfinity : kInfinity;
  for (int step = 0; step < 200 && high - low > 1e-15 * std::fabs(low); ++step) {
    const double middle = low + 0.5 * (high - low);
    if (middle <= low || middle >= high) break;
    (StudentTCdf(middle, df) <= tail ? low : high) = middle;
  }
  const double lower_tail_t = low + 0.5 * (high - low);
  return p < 0.5 ? lower_tail_t : -lower_tail_t;
}

double ChiSquareSurvival(double x, double df) {
  if (std::isnan(x) || !ValidShape(df)) return kNaN;
  if (x <= 0) return 1.0;
  return RegularizedGammaQ(0.5 * df, 0.5 * x);
}

}  // namespace cf::analytics::stats
