// Distribution functions the A/B statistics need, in double precision, from the C++ standard
// library alone. Accuracy goal: ~1e-10 relative or better over the ranges A/B tests reach
// (counts up to tens of millions, degrees of freedom from ~1 up), and full double precision for the
// normal distribution, which rests on std::erfc.
//
// Parameters outside a function's domain (a <= 0, df <= 0, p outside [0, 1], NaN) give NaN: these
// are mathematical building blocks; the tests in stats.h guard their inputs before calling them.
#ifndef CF_SERVICES_ANALYTICS_STATS_DISTRIBUTIONS_H_
#define CF_SERVICES_ANALYTICS_STATS_DISTRIBUTIONS_H_

namespace cf::analytics::stats {

// Standard normal density, P(Z <= x), and P(Z > x) (accurate far in the upper tail, where
// 1 - NormalCdf(x) would round to 0).
double NormalPdf(double x);
double NormalCdf(double x);
double NormalSurvival(double x);
// x with NormalCdf(x) = p: Acklam's rational approximation polished by one Halley step.
// Returns -inf for p = 0 and +inf for p = 1.
double NormalQuantile(double p);

// log B(a, b) = log Γ(a) + log Γ(b) - log Γ(a + b).
double LogBetaFunction(double a, double b);
// I_x(a, b), the regularized incomplete beta function: the Beta(a, b) CDF at x.
double RegularizedBeta(double a, double b, double x);

// P(a, x) and Q(a, x) = 1 - P(a, x), the regularized incomplete gamma functions. Q is computed
// directly (not as 1 - P) so small upper tails keep their relative precision.
double RegularizedGammaP(double a, double x);
double RegularizedGammaQ(double a, double x);

// Beta(a, b) distribution: log density, CDF, and quantile (bisection; absolute precision ~1e-15
// and relative precision for quantiles near 0).
double BetaLogPdf(double x, double a, double b);
double BetaCdf(double x, double a, double b);
double BetaQuantile(double p, double a, double b);

// Student's t with df > 0 degrees of freedom; df may be fractional (Welch). df = +inf is normal.
double StudentTCdf(double t, double df);
// P(|T| >= |t|), computed without subtracting from 1.
double StudentTTwoSidedP(double t, double df);
// t with StudentTCdf(t, df) = p (bisection on the CDF); -inf / +inf for p = 0 / 1.
double StudentTQuantile(double p, double df);

// P(X >= x) for X ~ chi-square with df degrees of freedom.
double ChiSquareSurvival(double x, double df);

}  // namespace cf::analytics::stats

#endif  // CF_SERVICES_ANALYTICS_STATS_DISTRIBUTIONS_H_
