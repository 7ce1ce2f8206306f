// A/B tests against a real PostgreSQL: validation that writes nothing, the state machine and a
// race to complete, and evaluations whose figures are worked out here from their formulas (the
// z-test, Holm, Welch, the mSPRT likelihood ratio, chi-square), not copied from the code's output.
#include "services/analytics/ab_tests/ab_tests.h"

#include <atomic>
#include <cmath>
#include <limits>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/db/pool.h"
#include "common/status/status.h"
#include "common/testing/postgres.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/analytics/analytics_fixtures.h"
#include "services/analytics/metrics_store.h"
#include "services/analytics/stats/stats.h"

namespace cf::analytics {
namespace {

using ::testing::HasSubstr;

constexpr double kZ975 = 1.959963984540054;  // the 97.5% normal quantile (95% two-sided)
constexpr double kTau2 = 2.5e-5;             // stats::kDefaultMixingVariance, restated

// Two-sided normal p-value for z: 2 (1 - Φ(|z|)) = erfc(|z| / √2).
double NormalTwoSidedP(double z) { return std::erfc(std::fabs(z) / std::sqrt(2.0)); }

// The pooled two-proportion z statistic, written out.
double ZOf(double control_successes, double control_trials, double treatment_successes,
           double treatment_trials) {
  const double pc = control_successes / control_trials;
  const double pt = treatment_successes / treatment_trials;
  const double pooled =
      (control_successes + treatment_successes) / (control_trials + treatment_trials);
  return (pt - pc) / std::sqrt(pooled * (1 - pooled) * (1 / control_trials + 1 / treatment_trials));
}

// 1 / Λ for the mixture SPRT: Λ = sqrt(V / (V + τ²)) · exp(θ² τ² / (2 V (V + τ²))).
double InverseLikelihoodRatio(double theta, double variance, double tau2) {
  const double lambda = std::sqrt(variance / (variance + tau2)) *
                        std::exp(theta * theta * tau2 / (2 * variance * (variance + tau2)));
  return 1 / lambda;
}

double Mean(const std::vector<double>& x) {
  double sum = 0;
  for (double v : x) sum += v;
  return sum / x.size();
}

double SampleVariance(const std::vector<double>& x) {
  const double mean = Mean(x);
  double sum = 0;
  for (double v : x) sum += (v - mean) * (v - mean);
  return sum / (x.size() - 1);
}

// 1 / Λ for the two-sample t mixture (Gönen et al. 2005) with δ ~ N(0, g) in units of σ:
// Λ = b^(-1/2) · ((1 + t²/ν) / (1 + t²/(ν b)))^((ν+1)/2), n_δ = 1/(1/n_c + 1/n_t),
// ν = n_c + n_t - 2, b = 1 + n_δ g, t the pooled-variance two-sample t statistic.
double InverseTMixtureLikelihoodRatio(const std::vector<double>& control,
                                      const std::vector<double>& treatment, double g) {
  const double nc = control.size(), nt = treatment.size();
  const double nu = nc + nt - 2, n_delta = 1 / (1 / nc + 1 / nt), b = 1 + n_delta * g;
  const double pooled =
      ((nc - 1) * SampleVariance(control) + (nt - 1) * SampleVariance(treatment)) / nu;
  const double t2 = n_delta * std::pow(Mean(treatment) - Mean(control), 2) / pooled;
  const double lambda =
      std::pow(b, -0.5) * std::pow((1 + t2 / nu) / (1 + t2 / (nu * b)), (nu + 1) / 2);
  return 1 / lambda;
}

std::set<std::string> FieldsOf(const absl::Status& status) {
  std::set<std::string> fields;
  for (const auto& [field, description] : GetFieldViolations(status)) fields.insert(field);
  return fields;
}

std::string DescriptionOf(const absl::Status& status, const std::string& field) {
  for (const auto& [name, description] : GetFieldViolations(status)) {
    if (name == field) return description;
  }
  return "";
}

v1::AbVariant Variant(std::string label, std::string post, std::string budget = "") {
  v1::AbVariant variant;
  variant.set_label(std::move(label));
  variant.set_published_content_id(std::move(post));
  variant.set_budget(std::move(budget));
  return variant;
}

class AbTestsTest : public ::testing::Test {
 protected:
  AbTestsTest()
      : pool_(database_.RoleConninfo("cf_analytics"), 4),
        tests_(&pool_),
        fixtures_(database_.OwnerConninfo()) {}

  std::string One(const std::string& sql) {
    pqxx::result rows = fixtures_.Query(sql);
    return rows.empty() || rows[0][0].is_null() ? "<null>" : rows[0][0].as<std::string>();
  }
  long Tests() { return std::stol(One("SELECT count(*) FROM cf_ab_tests")); }

  // A draft test of the given variants; fails the test when creation fails.
  std::string Create(const std::vector<v1::AbVariant>& variants, const std::string& name = "t") {
    v1::CreateAbTestRequest request;
    request.set_name(name);
    for (const auto& variant : variants) *request.add_variants() = variant;
    auto created = tests_.CreateAbTest(request);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? created->id() : "";
  }

  // Starts the test, then moves its start `days_ago` days back so that the range holds
  // today - days_ago ... today.
  void StartDaysAgo(const std::string& id, int days_ago) {
    v1::StartAbTestRequest start;
    start.set_id(id);
    auto started = tests_.StartAbTest(start);
    ASSERT_TRUE(started.ok()) << started.status();
    fixtures_.Query(absl::StrCat("UPDATE cf_ab_tests SET started_at = now() - interval '", days_ago,
                                 " days' WHERE id = '", id, "'"));
  }

  // One metrics row for `post` on today - days_ago.
  void AddDay(const std::string& post, int days_ago, int views, int clicks, int conversions = 0,
              int likes = 0, int comments = 0, int shares = 0, int saves = 0) {
    fixtures_.Query(absl::StrCat(
        "INSERT INTO cf_performance_metrics (published_content_id, date, views, clicks, "
        "conversions, likes, comments, shares, saves) VALUES ('",
        post, "', '", absl::FormatCivilTime(TodayUtc() - days_ago), "', ", views, ", ", clicks,
        ", ", conversions, ", ", likes, ", ", comments, ", ", shares, ", ", saves, ")"));
  }

  // The same figures on each of the last `days` days (today - days + 1 ... today).
  void AddDays(const std::string& post, int days, int views, int clicks, int conversions = 0) {
    fixtures_.Query(absl::StrCat(
        "INSERT INTO cf_performance_metrics (published_content_id, date, views, clicks, "
        "conversions) SELECT '",
        post, "', '", absl::FormatCivilTime(TodayUtc()), "'::date - g, ", views, ", ", clicks, ", ",
        conversions, " FROM generate_series(0, ", days - 1, ") AS g"));
  }

  absl::StatusOr<v1::AbTestEvaluation> Evaluate(const std::string& id, v1::AbMode mode,
                                                v1::AbMetric metric = v1::AB_METRIC_UNSPECIFIED,
                                                double alpha = 0, int64_t min_sample = 0) {
    v1::EvaluateAbTestRequest request;
    request.set_id(id);
    request.set_mode(mode);
    request.set_metric(metric);
    request.set_alpha(alpha);
    request.set_min_sample(min_sample);
    return tests_.EvaluateAbTest(request);
  }

  absl::StatusOr<v1::AbTest> Complete(const std::string& id,
                                      v1::AbMode mode = v1::AB_MODE_UNSPECIFIED, double alpha = 0) {
    v1::CompleteAbTestRequest request;
    request.set_id(id);
    request.set_mode(mode);
    request.set_alpha(alpha);
    return tests_.CompleteAbTest(request);
  }

  std::string Stored(const std::string& id, const std::string& column) {
    return One(absl::StrCat("SELECT ", column, "::text FROM cf_ab_tests WHERE id = '", id, "'"));
  }

  cf::testing::TestDatabase database_;
  db::ConnectionPool pool_;
  AbTests tests_;
  AnalyticsFixtures fixtures_;
};

// ---------------------------------------------------------------------------------------------
// Create, Get, List
// ---------------------------------------------------------------------------------------------

TEST_F(AbTestsTest, CreateNamesEveryBadFieldAndWritesNothing) {
  const std::string a = fixtures_.AddPost(), b = fixtures_.AddPost(), c = fixtures_.AddPost();
  const std::string unknown = "00000000-0000-4000-8000-000000000000";

  v1::CreateAbTestRequest empty;  // no name, no variants
  empty.add_variants()->CopyFrom(Variant("A", a));
  auto status = tests_.CreateAbTest(empty).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldsOf(status), (std::set<std::string>{"name", "variants"}));

  v1::CreateAbTestRequest bad;
  bad.set_name("checkout copy");
  *bad.add_variants() = Variant("A", a);
  *bad.add_variants() = Variant("A", b);            // 1: repeats A's label
  *bad.add_variants() = Variant("", "not-a-uuid");  // 2: no label, malformed post
  *bad.add_variants() = Variant("D", unknown);      // 3: no such post
  *bad.add_variants() = Variant("E", a);            // 4: repeats variant 0's post
  *bad.add_variants() = Variant("F", c, "1.234");   // 5: three decimals
  *bad.add_variants() = Variant("G", "", "0");      // 6: no post; a zero budget
  status = tests_.CreateAbTest(bad).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldsOf(status), (std::set<std::string>{
                                  "variants[1].label",
                                  "variants[2].label",
                                  "variants[2].published_content_id",
                                  "variants[3].published_content_id",
                                  "variants[4].published_content_id",
                                  "variants[5].budget",
                                  "variants[6].published_content_id",
                                  "variants[6].budget",
                              }));
  EXPECT_THAT(DescriptionOf(status, "variants[3].published_content_id"),
              HasSubstr("does not exist"));
  EXPECT_THAT(DescriptionOf(status, "variants[4].published_content_id"), HasSubstr("variants[0]"));
  EXPECT_THAT(std::string(status.message()), ::testing::Not(HasSubstr("SELECT")));

  // An unknown post alone (everything else fine) is still INVALID_ARGUMENT on its field.
  v1::CreateAbTestRequest only_unknown;
  only_unknown.set_name("n");
  *only_unknown.add_variants() = Variant("A", a);
  *only_unknown.add_variants() = Variant("B", unknown);
  status = tests_.CreateAbTest(only_unknown).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldsOf(status), (std::set<std::string>{"variants[1].published_content_id"}));

  v1::CreateAbTestRequest too_long;
  too_long.set_name(std::string(201, 'x'));
  *too_long.add_variants() = Variant("A", a);
  *too_long.add_variants() = Variant("B", b);
  EXPECT_EQ(FieldsOf(tests_.CreateAbTest(too_long).status()), (std::set<std::string>{"name"}));
  too_long.set_name(std::string(200, 'x'));  // the limit itself is fine...
  v1::CreateAbTestRequest eleven = too_long;
  for (int i = 0; i < 9; ++i)
    *eleven.add_variants() = Variant(absl::StrCat("V", i), fixtures_.AddPost());
  EXPECT_EQ(FieldsOf(tests_.CreateAbTest(eleven).status()), (std::set<std::string>{"variants"}));

  EXPECT_EQ(Tests(), 0);
  EXPECT_TRUE(tests_.CreateAbTest(too_long).ok());  // ...and writes one test
  EXPECT_EQ(Tests(), 1);
}

TEST_F(AbTestsTest, CreateStoresTheVariantsAsJsonbAndGetReadsThemBack) {
  const std::string a = fixtures_.AddPost(), b = fixtures_.AddPost(), c = fixtures_.AddPost();
  v1::CreateAbTestRequest request;
  request.set_name("hook test");
  *request.add_variants() = Variant("control", a, "5");
  *request.add_variants() = Variant("shorter hook", b, "7.5");
  *request.add_variants() = Variant("question hook", c);
  auto created = tests_.CreateAbTest(request);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_EQ(created->state(), v1::AB_TEST_STATE_DRAFT);
  EXPECT_EQ(created->name(), "hook test");
  EXPECT_TRUE(created->has_create_time());
  EXPECT_FALSE(created->has_start_time());
  ASSERT_EQ(created->variants_size(), 3);
  const std::string posts[] = {a, b, c};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(created->variants(i).published_content_id(), posts[i]);
    EXPECT_EQ(created->variants(i).assembled_content_id(),
              One(absl::StrCat("SELECT assembled_content_id FROM cf_published_content WHERE id = '",
                               posts[i], "'")));
  }
  EXPECT_EQ(created->variants(0).budget(), "5.00");
  EXPECT_EQ(created->variants(1).budget(), "7.50");
  EXPECT_EQ(created->variants(2).budget(), "");

  // The column is a JSONB[] of the seed's shape; the budget is left out when not given.
  const std::string where = absl::StrCat(" FROM cf_ab_tests WHERE id = '", created->id(), "'");
  EXPECT_EQ(One("SELECT array_length(variants, 1)" + where), "3");
  EXPECT_EQ(One("SELECT variants[1]->>'label'" + where), "control");
  EXPECT_EQ(One("SELECT variants[1]->>'budget'" + where), "5.00");
  EXPECT_EQ(One("SELECT variants[2]->>'published_content_id'" + where), b);
  EXPECT_EQ(One("SELECT variants[3] ? 'budget'" + where), "f");
  EXPECT_EQ(One("SELECT variants[3]->>'assembled_content_id'" + where),
            created->variants(2).assembled_content_id());
  EXPECT_EQ(One("SELECT status" + where), "draft");

  v1::GetAbTestRequest get;
  get.set_id(created->id());
  auto got = tests_.GetAbTest(get);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->SerializeAsString(), created->SerializeAsString());

  get.set_id("00000000-0000-4000-8000-000000000000");
  EXPECT_EQ(tests_.GetAbTest(get).status().code(), absl::StatusCode::kNotFound);
  get.set_id("nope");
  EXPECT_EQ(FieldsOf(tests_.GetAbTest(get).status()), (std::set<std::string>{"id"}));
}

TEST_F(AbTestsTest, ListIsNewestFirstFilteredByStateAndPaged) {
  const std::string a = fixtures_.AddPost(), b = fixtures_.AddPost();
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(Create({Variant("A", a), Variant("B", b)}));
  for (int i : {1, 3}) {
    v1::StartAbTestRequest start;
    start.set_id(ids[i]);
    ASSERT_TRUE(tests_.StartAbTest(start).ok());
  }

  v1::ListAbTestsRequest request;
  request.set_page_size(2);
  std::vector<std::string> listed;
  int pages = 0;
  do {
    auto page = tests_.ListAbTests(request);
    ASSERT_TRUE(page.ok()) << page.status();
    ++pages;
    for (const auto& test : page->tests()) listed.push_back(test.id());
    request.set_page_token(page->next_page_token());
  } while (!request.page_token().empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(listed, (std::vector<std::string>{ids[4], ids[3], ids[2], ids[1], ids[0]}));

  v1::ListAbTestsRequest running;
  running.set_state(v1::AB_TEST_STATE_RUNNING);
  running.set_page_size(1);
  auto first = tests_.ListAbTests(running);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->tests_size(), 1);
  EXPECT_EQ(first->tests(0).id(), ids[3]);
  EXPECT_EQ(first->tests(0).state(), v1::AB_TEST_STATE_RUNNING);
  running.set_page_token(first->next_page_token());
  auto second = tests_.ListAbTests(running);
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->tests_size(), 1);
  EXPECT_EQ(second->tests(0).id(), ids[1]);
  EXPECT_EQ(second->next_page_token(), "");

  // A token is tied to its filter.
  v1::ListAbTestsRequest drafts;
  drafts.set_state(v1::AB_TEST_STATE_DRAFT);
  drafts.set_page_token(first->next_page_token());
  EXPECT_EQ(FieldsOf(tests_.ListAbTests(drafts).status()), (std::set<std::string>{"page_token"}));
  drafts.clear_page_token();
  drafts.set_state(static_cast<v1::AbTestState>(42));
  EXPECT_EQ(FieldsOf(tests_.ListAbTests(drafts).status()), (std::set<std::string>{"state"}));
}

// ---------------------------------------------------------------------------------------------
// The state machine
// ---------------------------------------------------------------------------------------------

TEST_F(AbTestsTest, StatesMoveOnlyAlongTheirEdges) {
  const std::string a = fixtures_.AddPost(), b = fixtures_.AddPost();
  const std::string id = Create({Variant("A", a), Variant("B", b)});
  v1::StartAbTestRequest start;
  start.set_id(id);
  v1::CancelAbTestRequest cancel;
  cancel.set_id(id);

  // draft: no evaluation, no completion.
  auto status = Evaluate(id, v1::AB_MODE_UNSPECIFIED).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()), HasSubstr("draft"));
  status = Complete(id).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()), HasSubstr("draft"));

  auto started = tests_.StartAbTest(start);
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_EQ(started->state(), v1::AB_TEST_STATE_RUNNING);
  EXPECT_TRUE(started->has_start_time());
  EXPECT_EQ(Stored(id, "status"), "running");
  EXPECT_EQ(Stored(id, "started_at IS NOT NULL"), "true");
  status = tests_.StartAbTest(start).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()), HasSubstr("running"));
  EXPECT_TRUE(Evaluate(id, v1::AB_MODE_UNSPECIFIED).ok());

  auto completed = Complete(id);
  ASSERT_TRUE(completed.ok()) << completed.status();
  EXPECT_EQ(completed->state(), v1::AB_TEST_STATE_COMPLETED);
  EXPECT_TRUE(completed->has_complete_time());
  EXPECT_EQ(Stored(id, "status"), "completed");
  // A second completion, a cancel or a start of a completed test fail; evaluating it works.
  status = Complete(id).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()), HasSubstr("completed"));
  status = tests_.CancelAbTest(cancel).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()), HasSubstr("completed"));
  EXPECT_EQ(tests_.StartAbTest(start).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Evaluate(id, v1::AB_MODE_UNSPECIFIED).ok());
  EXPECT_EQ(Stored(id, "status"), "completed");

  // draft -> cancelled, and nothing after.
  const std::string draft = Create({Variant("A", a), Variant("B", b)});
  cancel.set_id(draft);
  auto cancelled = tests_.CancelAbTest(cancel);
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->state(), v1::AB_TEST_STATE_CANCELLED);
  status = tests_.CancelAbTest(cancel).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(status.message()), HasSubstr("cancelled"));
  start.set_id(draft);
  EXPECT_EQ(tests_.StartAbTest(start).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Evaluate(draft, v1::AB_MODE_UNSPECIFIED).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Complete(draft).status().code(), absl::StatusCode::kFailedPrecondition);

  // running -> cancelled.
  const std::string running = Create({Variant("A", a), Variant("B", b)});
  start.set_id(running);
  ASSERT_TRUE(tests_.StartAbTest(start).ok());
  cancel.set_id(running);
  ASSERT_TRUE(tests_.CancelAbTest(cancel).ok());
  EXPECT_EQ(Stored(running, "status"), "cancelled");
  EXPECT_EQ(Complete(running).status().code(), absl::StatusCode::kFailedPrecondition);

  // Unknown and malformed ids.
  const std::string unknown = "00000000-0000-4000-8000-000000000000";
  start.set_id(unknown);
  cancel.set_id(unknown);
  EXPECT_EQ(tests_.StartAbTest(start).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(tests_.CancelAbTest(cancel).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Evaluate(unknown, v1::AB_MODE_UNSPECIFIED).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Complete(unknown).status().code(), absl::StatusCode::kNotFound);
  start.set_id("x");
  EXPECT_EQ(FieldsOf(tests_.StartAbTest(start).status()), (std::set<std::string>{"id"}));
  EXPECT_EQ(FieldsOf(Complete("").status()), (std::set<std::string>{"id"}));
}

TEST_F(AbTestsTest, BadEvaluationSettingsAreNamedAndCompleteWritesNothing) {
  const std::string a = fixtures_.AddPost(), b = fixtures_.AddPost();
  const std::string id = Create({Variant("A", a), Variant("B", b)});
  ASSERT_NO_FATAL_FAILURE(StartDaysAgo(id, 0));
  for (double alpha : {0.6, -0.05, std::numeric_limits<double>::quiet_NaN()}) {
    EXPECT_EQ(
        FieldsOf(Evaluate(id, v1::AB_MODE_UNSPECIFIED, v1::AB_METRIC_UNSPECIFIED, alpha).status()),
        (std::set<std::string>{"alpha"}))
        << alpha;
  }
  EXPECT_TRUE(Evaluate(id, v1::AB_MODE_UNSPECIFIED, v1::AB_METRIC_UNSPECIFIED, 0.5).ok());
  EXPECT_EQ(
      FieldsOf(
          Evaluate(id, static_cast<v1::AbMode>(9), static_cast<v1::AbMetric>(9), 0, -1).status()),
      (std::set<std::string>{"mode", "metric", "min_sample"}));

  v1::CompleteAbTestRequest complete;
  complete.set_id(id);
  complete.set_min_sample(-5);
  EXPECT_EQ(FieldsOf(tests_.CompleteAbTest(complete).status()),
            (std::set<std::string>{"min_sample"}));
  EXPECT_EQ(Stored(id, "status"), "running");
  EXPECT_EQ(Stored(id, "completed_at"), "<null>");
}

TEST_F(AbTestsTest, OfTwoConcurrentCompletionsExactlyOneSucceeds) {
  const std::string a = fixtures_.AddPost(), b = fixtures_.AddPost();
  AddDays(a, 5, 1000, 50);
  AddDays(b, 5, 1000, 70);
  for (int round = 0; round < 5; ++round) {
    const std::string id = Create({Variant("A", a), Variant("B", b)});
    ASSERT_NO_FATAL_FAILURE(StartDaysAgo(id, 4));
    std::atomic<int> ready{0};
    absl::Status results[2];
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back([&, t] {
        ++ready;
        while (ready.load() < 2) {
        }
        results[t] = Complete(id).status();
      });
    }
    for (auto& thread : threads) thread.join();
    const int ok = results[0].ok() + results[1].ok();
    EXPECT_EQ(ok, 1) << results[0] << " / " << results[1];
    for (const absl::Status& result : results) {
      if (!result.ok()) {
        EXPECT_EQ(result.code(), absl::StatusCode::kFailedPrecondition) << result;
      }
    }
    EXPECT_EQ(Stored(id, "status"), "completed");
  }
}

// ---------------------------------------------------------------------------------------------
// Evaluations
// ---------------------------------------------------------------------------------------------

// Control 50 clicks / 1,000 views a day, treatment 70 / 1,000, for 10 days: 500 / 10,000 against
// 700 / 10,000.
class ClearWinnerTest : public AbTestsTest {
 protected:
  void SetUp() override {
    control_ = fixtures_.AddPost();
    treatment_ = fixtures_.AddPost();
    id_ = Create({Variant("A", control_), Variant("B", treatment_)});
    ASSERT_NO_FATAL_FAILURE(StartDaysAgo(id_, 9));
    AddDays(control_, 10, 1000, 50);
    AddDays(treatment_, 10, 1000, 70);
    AddDay(control_, 10, 1000, 0);  // the day before the start: not counted
    AddDay(treatment_, 10, 1000, 1000);
  }
  std::string control_, treatment_, id_;
};

TEST_F(ClearWinnerTest, FixedHorizonMatchesTheHandComputedZTest) {
  auto evaluation = Evaluate(id_, v1::AB_MODE_FIXED_HORIZON);
  ASSERT_TRUE(evaluation.ok()) << evaluation.status();
  EXPECT_EQ(evaluation->ab_test_id(), id_);
  EXPECT_EQ(evaluation->metric(), v1::AB_METRIC_CTR);
  EXPECT_EQ(evaluation->mode(), v1::AB_MODE_FIXED_HORIZON);
  EXPECT_EQ(evaluation->test_name(), "two-proportion z-test");
  EXPECT_EQ(evaluation->first_day().day(), (TodayUtc() - 9).day());
  EXPECT_EQ(evaluation->last_day().day(), TodayUtc().day());
  ASSERT_EQ(evaluation->variants_size(), 2);
  EXPECT_EQ(evaluation->variants(0).views(), 10000);
  EXPECT_EQ(evaluation->variants(0).clicks(), 500);
  EXPECT_EQ(evaluation->variants(1).clicks(), 700);
  EXPECT_EQ(evaluation->variants(1).days(), 10);
  EXPECT_DOUBLE_EQ(evaluation->variants(0).rate(), 0.05);
  EXPECT_DOUBLE_EQ(evaluation->variants(1).rate(), 0.07);

  // pooled p = 1200 / 20000 = 0.06; z = 0.02 / sqrt(0.06 · 0.94 · 2 / 10000) = 5.9549...
  const double z = (0.07 - 0.05) / std::sqrt(0.06 * 0.94 * (2.0 / 10000));
  EXPECT_NEAR(z, 5.9549, 1e-4);
  const double p = NormalTwoSidedP(z);  // ≈ 2.6e-9
  const double se = std::sqrt(0.05 * 0.95 / 10000 + 0.07 * 0.93 / 10000);
  ASSERT_EQ(evaluation->comparisons_size(), 1);
  const v1::Comparison& comparison = evaluation->comparisons(0);
  EXPECT_EQ(comparison.label(), "B");
  EXPECT_NEAR(comparison.difference(), 0.02, 1e-15);
  EXPECT_NEAR(comparison.statistic(), z, 1e-9);
  EXPECT_EQ(comparison.degrees_of_freedom(), 0);
  EXPECT_NEAR(comparison.p_value(), p, p * 1e-6);
  EXPECT_NEAR(comparison.p_value_holm(), p, p * 1e-6);  // one comparison: Holm changes nothing
  EXPECT_NEAR(comparison.difference_ci_low(), 0.02 - kZ975 * se, 1e-12);
  EXPECT_NEAR(comparison.difference_ci_high(), 0.02 + kZ975 * se, 1e-12);
  EXPECT_TRUE(comparison.significant());
  EXPECT_GT(comparison.p_value_always_valid(), 0);
  EXPECT_NEAR(
      evaluation->variants(0).chance_to_be_best() + evaluation->variants(1).chance_to_be_best(), 1,
      1e-8);
  EXPECT_GT(evaluation->variants(1).chance_to_be_best(), 0.9999);
  EXPECT_FALSE(evaluation->sample_ratio().checked());

  EXPECT_EQ(evaluation->winner_label(), "B");
  EXPECT_EQ(evaluation->winner_published_content_id(), treatment_);
  EXPECT_NEAR(evaluation->confidence(), 1 - p, 1e-15);

  auto completed = Complete(id_, v1::AB_MODE_FIXED_HORIZON);
  ASSERT_TRUE(completed.ok()) << completed.status();
  EXPECT_EQ(completed->winner_published_content_id(), treatment_);
  // 1 - 2.6e-9 would round to 1.00; truncated it is 0.99.
  EXPECT_EQ(completed->confidence(), "0.99");
  EXPECT_EQ(Stored(id_, "confidence"), "0.99");
  EXPECT_EQ(Stored(id_, "winner_id"), treatment_);
}

TEST_F(ClearWinnerTest, SequentialReplaysOneLookADay) {
  // Day k (1..10): cumulative 50k / 1000k against 70k / 1000k; V = Σ p(1-p)/n, θ = 0.02.
  double expected = 1;
  for (int k = 1; k <= 10; ++k) {
    const double n = 1000.0 * k;
    const double variance = 0.05 * 0.95 / n + 0.07 * 0.93 / n;
    expected = std::min(expected, InverseLikelihoodRatio(0.02, variance, kTau2));
  }
  // At k = 10: V = 1.126e-5, Λ = sqrt(0.3105) · e^12.25 ≈ 1.2e5, so p ≈ 8.6e-6.
  EXPECT_LT(expected, 1e-5);

  auto evaluation = Evaluate(id_, v1::AB_MODE_UNSPECIFIED);  // sequential is the default
  ASSERT_TRUE(evaluation.ok()) << evaluation.status();
  EXPECT_EQ(evaluation->mode(), v1::AB_MODE_SEQUENTIAL);
  const v1::Comparison& comparison = evaluation->comparisons(0);
  EXPECT_NEAR(comparison.p_value_always_valid(), expected, expected * 1e-9);
  EXPECT_NEAR(comparison.p_value_holm(), expected, expected * 1e-9);
  // The fixed-horizon figures are there too.
  const double z = (0.07 - 0.05) / std::sqrt(0.06 * 0.94 * (2.0 / 10000));
  EXPECT_NEAR(comparison.p_value(), NormalTwoSidedP(z), NormalTwoSidedP(z) * 1e-6);
  EXPECT_TRUE(comparison.significant());
  EXPECT_EQ(evaluation->winner_published_content_id(), treatment_);
  EXPECT_NEAR(evaluation->confidence(), 1 - expected, 1e-15);

  auto completed = Complete(id_);
  ASSERT_TRUE(completed.ok()) << completed.status();
  EXPECT_EQ(completed->state(), v1::AB_TEST_STATE_COMPLETED);
  EXPECT_EQ(completed->confidence(), "0.99");  // 0.99999..., never rounded up to 1.00
  EXPECT_EQ(Stored(id_, "confidence"), "0.99");
  EXPECT_EQ(Stored(id_, "winner_id"), treatment_);

  // A completed test evaluates over the days up to the day it completed.
  fixtures_.Query(absl::StrCat(
      "UPDATE cf_ab_tests SET completed_at = now() - interval '2 days' WHERE id = '", id_, "'"));
  auto later = Evaluate(id_, v1::AB_MODE_FIXED_HORIZON);
  ASSERT_TRUE(later.ok()) << later.status();
  EXPECT_EQ(later->last_day().day(), (TodayUtc() - 2).day());
  EXPECT_EQ(later->variants(0).views(), 8000);
  EXPECT_EQ(later->variants(1).clicks(), 560);
}

TEST_F(AbTestsTest, EqualRatesGiveNoWinnerAndStoreNulls) {
  const std::string a = fixtures_.AddPost(), b = fixtures_.AddPost();
  const std::string id = Create({Variant("A", a), Variant("B", b)});
  ASSERT_NO_FATAL_FAILURE(StartDaysAgo(id, 9));
  AddDays(a, 10, 1000, 50);  // 500 / 10,000
  AddDays(b, 10, 1000, 51);  // 510 / 10,000

  auto fixed = Evaluate(id, v1::AB_MODE_FIXED_HORIZON);
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  // pooled 0.0505: z = 0.001 / sqrt(0.0505 · 0.9495 · 2e-4) = 0.323, p = 0.747.
  const double p = NormalTwoSidedP(ZOf(500, 10000, 510, 10000));
  EXPECT_NEAR(p, 0.747, 1e-3);
  EXPECT_NEAR(fixed->comparisons(0).p_value(), p, 1e-9);
  EXPECT_FALSE(fixed->comparisons(0).significant());
  EXPECT_EQ(fixed->winner_label(), "");
  EXPECT_EQ(fixed->confidence(), 0);
  EXPECT_THAT(fixed->reason(),
              HasSubstr(absl::StrCat("no variant differs significantly from the control "
                                     "(smallest deciding p = ",
                                     absl::StrFormat("%.3g", p))));

  auto completed = Complete(id);
  ASSERT_TRUE(completed.ok()) << completed.status();
  EXPECT_EQ(completed->winner_published_content_id(), "");
  EXPECT_EQ(completed->confidence(), "");
  EXPECT_EQ(Stored(id, "winner_id"), "<null>");
  EXPECT_EQ(Stored(id, "confidence"), "<null>");
  EXPECT_EQ(Stored(id, "status"), "completed");
}

TEST_F(AbTestsTest, NoWinnerBeforeEveryVariantHasTheMinimumSample) {
  const std::string a = fixtures_.AddPost(), b = fixtures_.AddPost();
  const std::string id = Create({Variant("A", a), Variant("B", b)});
  ASSERT_NO_FATAL_FAILURE(StartDaysAgo(id, 2));
  AddDays(a, 3, 400, 20, 15);  // 1,200 views, 60 clicks, 45 conversions
  AddDays(b, 3, 200, 40, 40);  // 600 views, 120 clicks, 120 conversions

  auto ctr = Evaluate(id, v1::AB_MODE_FIXED_HORIZON);
  ASSERT_TRUE(ctr.ok()) << ctr.status();
  EXPECT_TRUE(ctr->comparisons(0).significant());  // 20% against 5%: only the sample is short
  EXPECT_EQ(ctr->winner_label(), "");
  EXPECT_THAT(ctr->reason(), HasSubstr("\"B\" has 600 views, 400 short of 1000"));
  EXPECT_THAT(ctr->reason(), ::testing::Not(HasSubstr("\"A\"")));

  auto enough = Evaluate(id, v1::AB_MODE_FIXED_HORIZON, v1::AB_METRIC_CTR, 0, 600);
  ASSERT_TRUE(enough.ok()) << enough.status();
  EXPECT_EQ(enough->winner_label(), "B");

  // Conversion rate counts clicks, 100 by default: A's 60 clicks are 40 short.
  auto conversion = Evaluate(id, v1::AB_MODE_FIXED_HORIZON, v1::AB_METRIC_CONVERSION_RATE);
  ASSERT_TRUE(conversion.ok()) << conversion.status();
  EXPECT_EQ(conversion->winner_label(), "");
  EXPECT_THAT(conversion->reason(), HasSubstr("\"A\" has 60 clicks, 40 short of 100"));
  EXPECT_DOUBLE_EQ(conversion->variants(0).rate(), 45.0 / 60);
  EXPECT_DOUBLE_EQ(conversion->variants(1).rate(), 1.0);
}

TEST_F(AbTestsTest, ThreeVariantsAreHolmAdjusted) {
  const std::string a = fixtures_.AddPost(), b = fixtures_.AddPost(), c = fixtures_.AddPost();
  const std::string id = Create({Variant("A", a), Variant("B", b), Variant("C", c)});
  ASSERT_NO_FATAL_FAILURE(StartDaysAgo(id, 9));
  AddDays(a, 10, 1000, 50);  // 500 / 10,000
  AddDays(b, 10, 1000, 60);  // 600 / 10,000
  AddDays(c, 10, 1000, 56);  // 560 / 10,000

  // B: pooled 0.055, z = 0.01 / 0.003224 = 3.10, p = 0.0019.
  // C: pooled 0.053, z = 0.006 / 0.003168 = 1.89, p = 0.058.
  const double p_b = NormalTwoSidedP(ZOf(500, 10000, 600, 10000));
  const double p_c = NormalTwoSidedP(ZOf(500, 10000, 560, 10000));
  EXPECT_NEAR(p_b, 0.0019, 1e-4);
  EXPECT_NEAR(p_c, 0.058, 1e-3);
  // Holm by hand: the smaller p times 2, the larger times 1 (never below the first).
  const double holm_b = std::min(1.0, 2 * p_b);
  const double holm_c = std::max(holm_b, p_c);
  EXPECT_EQ(stats::HolmAdjust({p_b, p_c}), (std::vector<double>{holm_b, holm_c}));

  auto evaluation = Evaluate(id, v1::AB_MODE_FIXED_HORIZON);
  ASSERT_TRUE(evaluation.ok()) << evaluation.status();
  ASSERT_EQ(evaluation->comparisons_size(), 2);
  EXPECT_EQ(evaluation->comparisons(0).label(), "B");
  EXPECT_NEAR(evaluation->comparisons(0).p_value(), p_b, p_b * 1e-6);
  EXPECT_NEAR(evaluation->comparisons(1).p_value(), p_c, p_c * 1e-6);
  EXPECT_NEAR(evaluation->comparisons(0).p_value_holm(), holm_b, holm_b * 1e-6);
  EXPECT_NEAR(evaluation->comparisons(1).p_value_holm(), holm_c, holm_c * 1e-6);
  EXPECT_TRUE(evaluation->comparisons(0).significant());
  EXPECT_FALSE(evaluation->comparisons(1).significant());
  EXPECT_EQ(evaluation->winner_label(), "B");
  EXPECT_NEAR(evaluation->confidence(), 1 - holm_b, 1e-12);
  double chance = 0;
  for (const auto& variant : evaluation->variants()) chance += variant.chance_to_be_best();
  EXPECT_NEAR(chance, 1, 1e-8);
  EXPECT_GT(evaluation->variants(1).chance_to_be_best(),
            evaluation->variants(2).chance_to_be_best());

  // Sequential: Holm over the raw always-valid p-values.
  auto sequential = Evaluate(id, v1::AB_MODE_SEQUENTIAL);
  ASSERT_TRUE(sequential.ok()) << sequential.status();
  const double av_b = sequential->comparisons(0).p_value_always_valid();
  const double av_c = sequential->comparisons(1).p_value_always_valid();
  const std::vector<double> holm = stats::HolmAdjust({av_b, av_c});
  EXPECT_DOUBLE_EQ(sequential->comparisons(0).p_value_holm(), holm[0]);
  EXPECT_DOUBLE_EQ(sequential->comparisons(1).p_value_holm(), holm[1]);

  auto completed = Complete(id, v1::AB_MODE_FIXED_HORIZON);
  ASSERT_TRUE(completed.ok()) << completed.status();
  EXPECT_EQ(completed->winner_published_content_id(), b);
  // 1 - holm_b = 0.996: truncated, 0.99.
  EXPECT_EQ(Stored(id, "confidence"), "0.99");
}

TEST_F(AbTestsTest, EngagementUsesWelchOnTheDailyRates) {
  const std::string a = fixtures_.AddPost(), b = fixtures_.AddPost();
  const std::string id = Create({Variant("A", a), Variant("B", b)});
  ASSERT_NO_FATAL_FAILURE(StartDaysAgo(id, 10));
  // Interactions per day (likes + comments + shares + saves), 1,000 views a day; day 0 is today.
  const int control[] = {50, 52, 48, 55, 45, 51, 49, 53, 47, 50};
  const int treatment[] = {60, 58, 63, 57, 62, 61, 59, 64, 56, 60};
  std::vector<double> control_rates, treatment_rates;  // oldest day first
  for (int d = 9; d >= 0; --d) {
    const int c = control[d], t = treatment[d];
    AddDay(a, d, 1000, 10, 0, c - 6, 3, 2, 1);
    AddDay(b, d, 1000, 10, 0, t - 10, 5, 3, 2);
    control_rates.push_back(c / 1000.0);
    treatment_rates.push_back(t / 1000.0);
  }
  AddDay(a, 10, 0, 0);  // a day without views: skipped

  const double mc = Mean(control_rates), mt = Mean(treatment_rates);
  const double vc = SampleVariance(control_rates) / 10, vt = SampleVariance(treatment_rates) / 10;
  const double t = (mt - mc) / std::sqrt(vc + vt);
  const double df = (vc + vt) * (vc + vt) / (vc * vc / 9 + vt * vt / 9);
  // Control mean 0.05, treatment 0.06: t ≈ 7.9 on ≈ 18 degrees of freedom.
  EXPECT_NEAR(mc, 0.05, 1e-12);
  EXPECT_NEAR(mt, 0.06, 1e-12);

  auto evaluation = Evaluate(id, v1::AB_MODE_FIXED_HORIZON, v1::AB_METRIC_ENGAGEMENT_RATE);
  ASSERT_TRUE(evaluation.ok()) << evaluation.status();
  EXPECT_EQ(evaluation->test_name(), "Welch's t-test");
  EXPECT_EQ(evaluation->variants(0).days(), 11);
  EXPECT_NEAR(evaluation->variants(0).rate(), mc, 1e-12);
  EXPECT_NEAR(evaluation->variants(1).rate(), mt, 1e-12);
  EXPECT_EQ(evaluation->variants(0).chance_to_be_best(), 0);
  EXPECT_EQ(evaluation->variants(1).chance_to_be_best(), 0);
  const v1::Comparison& comparison = evaluation->comparisons(0);
  EXPECT_NEAR(comparison.difference(), mt - mc, 1e-12);
  EXPECT_NEAR(comparison.statistic(), t, 1e-9);
  EXPECT_NEAR(comparison.degrees_of_freedom(), df, 1e-9);
  EXPECT_LT(comparison.p_value(), 1e-5);
  EXPECT_LT(comparison.difference_ci_low(), mt - mc);
  EXPECT_GT(comparison.difference_ci_high(), mt - mc);
  EXPECT_EQ(evaluation->winner_label(), "B");

  // Sequential: a look a day once both arms have two daily rates, each the two-sample t mixture
  // with g = 1 on the rates so far. (It was the normal mixture with τ² = 2.5e-5 and the estimated
  // V = s_c²/n_c + s_t²/n_t plugged in, which declared far more than 5% false winners in A/A
  // tests looked at daily; see decision_aa_simulation_test.) The first looks cannot decide: at
  // n = 2 and 3 days Λ < b^(ν/2) = 2 and 6.25.
  double expected = 1;
  for (int n = 2; n <= 10; ++n) {
    std::vector<double> c(control_rates.begin(), control_rates.begin() + n);
    std::vector<double> tr(treatment_rates.begin(), treatment_rates.begin() + n);
    const double inverse = InverseTMixtureLikelihoodRatio(c, tr, 1.0);
    if (n <= 3) {
      EXPECT_GT(inverse, 1 / 6.25) << n;
    }
    expected = std::min(expected, inverse);
  }
  // 0.05 against 0.06 with a daily SD of ~0.003: decided well within the 10 days.
  EXPECT_LT(expected, 1e-3);
  auto sequential = Evaluate(id, v1::AB_MODE_SEQUENTIAL, v1::AB_METRIC_ENGAGEMENT_RATE);
  ASSERT_TRUE(sequential.ok()) << sequential.status();
  EXPECT_NEAR(sequential->comparisons(0).p_value_always_valid(), expected, expected * 1e-9);
  EXPECT_NEAR(sequential->comparisons(0).p_value_holm(), expected, expected * 1e-9);
  EXPECT_EQ(sequential->winner_label(), "B");
}

TEST_F(AbTestsTest, ASampleRatioMismatchMeansNoWinner) {
  const std::string a = fixtures_.AddPost(), b = fixtures_.AddPost();
  const std::string id = Create({Variant("A", a, "5.00"), Variant("B", b, "5")});
  ASSERT_NO_FATAL_FAILURE(StartDaysAgo(id, 9));
  AddDays(a, 10, 6000, 300);  // 60,000 views at 5%
  AddDays(b, 10, 4000, 400);  // 40,000 views at 10%

  // Planned 1:1 of 100,000 views: 50,000 each; chi-square = 2 · 10,000² / 50,000 = 4,000.
  auto evaluation = Evaluate(id, v1::AB_MODE_FIXED_HORIZON);
  ASSERT_TRUE(evaluation.ok()) << evaluation.status();
  EXPECT_TRUE(evaluation->sample_ratio().checked());
  EXPECT_NEAR(evaluation->sample_ratio().chi_square(), 4000, 1e-9);
  EXPECT_LT(evaluation->sample_ratio().p_value(), 1e-100);
  EXPECT_TRUE(evaluation->sample_ratio().mismatch());
  EXPECT_TRUE(evaluation->comparisons(0).significant());  // B would otherwise win
  EXPECT_EQ(evaluation->winner_label(), "");
  EXPECT_THAT(evaluation->reason(), HasSubstr("sample ratio mismatch"));
  auto completed = Complete(id, v1::AB_MODE_FIXED_HORIZON);
  ASSERT_TRUE(completed.ok()) << completed.status();
  EXPECT_EQ(Stored(id, "winner_id"), "<null>");

  // Budgets of 3:2 plan exactly that split: chi-square 0, and B wins.
  const std::string planned = Create({Variant("A", a, "30"), Variant("B", b, "20.00")});
  ASSERT_NO_FATAL_FAILURE(StartDaysAgo(planned, 9));
  auto fine = Evaluate(planned, v1::AB_MODE_FIXED_HORIZON);
  ASSERT_TRUE(fine.ok()) << fine.status();
  EXPECT_TRUE(fine->sample_ratio().checked());
  EXPECT_NEAR(fine->sample_ratio().chi_square(), 0, 1e-9);
  EXPECT_FALSE(fine->sample_ratio().mismatch());
  EXPECT_EQ(fine->winner_label(), "B");
}

TEST(TruncatedConfidenceTest, TruncatesNeverRoundsUp) {
  EXPECT_EQ(TruncatedConfidence(0.949), "0.94");
  EXPECT_EQ(TruncatedConfidence(0.9499999), "0.94");
  EXPECT_EQ(TruncatedConfidence(0.9457), "0.94");
  EXPECT_EQ(TruncatedConfidence(1 - 2.6e-9), "0.99");
  EXPECT_EQ(TruncatedConfidence(0.999999999999), "0.99");
  EXPECT_EQ(TruncatedConfidence(1.0), "1.00");
  EXPECT_EQ(TruncatedConfidence(0.95), "0.95");      // held as 0.94999999999999996
  EXPECT_EQ(TruncatedConfidence(1 - 0.05), "0.95");  // the same double
  EXPECT_EQ(TruncatedConfidence(0.07), "0.07");
  EXPECT_EQ(TruncatedConfidence(0.0), "0.00");
  EXPECT_EQ(TruncatedConfidence(1.5), "1.00");
  EXPECT_EQ(TruncatedConfidence(-0.2), "0.00");
  EXPECT_EQ(TruncatedConfidence(std::nan("")), "");
  // Within 5e-16 of 1, %.15f rounds up to 1.000000000000000: below 1 is still at most 0.99.
  EXPECT_EQ(TruncatedConfidence(1 - 2.2e-16), "0.99");
  EXPECT_EQ(TruncatedConfidence(1 - 4.4e-16), "0.99");
  EXPECT_EQ(TruncatedConfidence(std::nextafter(1.0, 0.0)), "0.99");
  EXPECT_EQ(TruncatedConfidence(1 - 5e-16), "0.99");
  EXPECT_EQ(TruncatedConfidence(1 - 1e-15), "0.99");
}

TEST(TruncatedConfidenceTest, FromThePValueOnlyPZeroGivesOne) {
  EXPECT_EQ(TruncatedConfidenceOfP(0.0), "1.00");
  // 1 - p is exactly 1.0 in a double for these, yet p > 0.
  ASSERT_EQ(1.0 - 1e-17, 1.0);
  EXPECT_EQ(TruncatedConfidenceOfP(1e-17), "0.99");
  EXPECT_EQ(TruncatedConfidenceOfP(5e-324), "0.99");  // the smallest positive double
  EXPECT_EQ(TruncatedConfidenceOfP(1e-16), "0.99");
  EXPECT_EQ(TruncatedConfidenceOfP(3e-16), "0.99");
  EXPECT_EQ(TruncatedConfidenceOfP(4.9e-16), "0.99");
  EXPECT_EQ(TruncatedConfidenceOfP(2.6e-9), "0.99");
  EXPECT_EQ(TruncatedConfidenceOfP(0.0543), "0.94");
  EXPECT_EQ(TruncatedConfidenceOfP(0.05), "0.95");
  EXPECT_EQ(TruncatedConfidenceOfP(1.0), "0.00");
  EXPECT_EQ(TruncatedConfidenceOfP(std::nan("")), "");
}

TEST_F(AbTestsTest, ATinyButPositivePIsStoredAs0Point99) {
  const std::string a = fixtures_.AddPost(), b = fixtures_.AddPost();
  const std::string id = Create({Variant("A", a), Variant("B", b)});
  ASSERT_NO_FATAL_FAILURE(StartDaysAgo(id, 9));
  AddDays(a, 10, 1000, 50);  // 500 / 10,000
  AddDays(b, 10, 1000, 90);  // 900 / 10,000
  // pooled 0.07: z = 0.04 / sqrt(0.07 · 0.93 · 2e-4) = 11.1, p ≈ 1e-28: 1 - p is exactly 1.0 as
  // a double, yet p > 0, so the stored confidence is 0.99, not 1.00.
  const double p = NormalTwoSidedP(ZOf(500, 10000, 900, 10000));
  ASSERT_GT(p, 0);
  ASSERT_EQ(1 - p, 1.0);
  auto evaluation = Evaluate(id, v1::AB_MODE_FIXED_HORIZON);
  ASSERT_TRUE(evaluation.ok()) << evaluation.status();
  EXPECT_EQ(evaluation->winner_label(), "B");
  EXPECT_GT(evaluation->comparisons(0).p_value_holm(), 0);
  auto completed = Complete(id, v1::AB_MODE_FIXED_HORIZON);
  ASSERT_TRUE(completed.ok()) << completed.status();
  EXPECT_EQ(completed->confidence(), "0.99");
  EXPECT_EQ(Stored(id, "confidence"), "0.99");
}

TEST_F(AbTestsTest, AConfidenceOf0Point945To0Point95IsStoredAs0Point94) {
  const std::string a = fixtures_.AddPost(), b = fixtures_.AddPost();
  const std::string id = Create({Variant("A", a), Variant("B", b)});
  ASSERT_NO_FATAL_FAILURE(StartDaysAgo(id, 9));
  AddDays(a, 10, 1000, 50);  // 500 / 10,000
  AddDays(b, 9, 1000, 56);   // 504 ...
  AddDay(b, 9, 1000, 57);    // ... + 57 = 561 / 10,000
  // pooled 0.05305: z = 0.0061 / sqrt(0.05305 · 0.94695 · 2e-4) = 1.924, p = 0.0543.
  const double p = NormalTwoSidedP(ZOf(500, 10000, 561, 10000));
  ASSERT_GT(1 - p, 0.945);  // rounding to two places would give 0.95
  ASSERT_LT(1 - p, 0.95);

  // Significant at alpha 0.1.
  auto evaluation = Evaluate(id, v1::AB_MODE_FIXED_HORIZON, v1::AB_METRIC_CTR, 0.1);
  ASSERT_TRUE(evaluation.ok()) << evaluation.status();
  EXPECT_EQ(evaluation->winner_label(), "B");
  EXPECT_NEAR(evaluation->confidence(), 1 - p, 1e-9);
  auto completed = Complete(id, v1::AB_MODE_FIXED_HORIZON, 0.1);
  ASSERT_TRUE(completed.ok()) << completed.status();
  EXPECT_EQ(completed->confidence(), "0.94");
  EXPECT_EQ(Stored(id, "confidence"), "0.94");
  EXPECT_EQ(Stored(id, "winner_id"), b);
}

// ---------------------------------------------------------------------------------------------
// The decision alone, without a database
// ---------------------------------------------------------------------------------------------

AbVariantFigures Figures(std::string label, int days, int views, int clicks,
                         std::string budget = "") {
  AbVariantFigures figures;
  figures.label = label;
  figures.published_content_id = "post-" + label;
  figures.budget = std::move(budget);
  for (int d = 0; d < days; ++d) {
    AbDayCounts counts;
    counts.day = absl::CivilDay(2025, 3, 1) + d;
    counts.views = views;
    counts.clicks = clicks;
    figures.days.push_back(counts);
  }
  return figures;
}

TEST(DecideAbTestTest, TheControlWinsWhenEveryTreatmentIsSignificantlyWorse) {
  AbEvaluationOptions options;
  options.mode = v1::AB_MODE_FIXED_HORIZON;
  const auto evaluation = DecideAbTest(
      {Figures("A", 10, 1000, 70), Figures("B", 10, 1000, 50), Figures("C", 10, 1000, 52)},
      options);
  // B: 500 vs 700 of 10,000, C: 520 vs 700; both significantly below the control.
  const std::vector<double> holm = stats::HolmAdjust(
      {NormalTwoSidedP(ZOf(700, 10000, 500, 10000)), NormalTwoSidedP(ZOf(700, 10000, 520, 10000))});
  const double deciding = std::max(holm[0], holm[1]);
  ASSERT_LT(deciding, 0.05);
  EXPECT_EQ(evaluation.winner_label(), "A");
  EXPECT_EQ(evaluation.winner_published_content_id(), "post-A");
  EXPECT_NEAR(evaluation.confidence(), 1 - deciding, 1e-12);
  EXPECT_THAT(evaluation.reason(), HasSubstr("every treatment is significantly worse"));
}

TEST(DecideAbTestTest, OneWorseAndOneUndecidedTreatmentGiveNoWinner) {
  AbEvaluationOptions options;
  options.mode = v1::AB_MODE_FIXED_HORIZON;
  const auto evaluation = DecideAbTest(
      {Figures("A", 10, 1000, 70), Figures("B", 10, 1000, 50), Figures("C", 10, 1000, 69)},
      options);
  EXPECT_TRUE(evaluation.comparisons(0).significant());
  EXPECT_FALSE(evaluation.comparisons(1).significant());
  EXPECT_EQ(evaluation.winner_label(), "");
  EXPECT_EQ(evaluation.confidence(), 0);
  EXPECT_THAT(evaluation.reason(), HasSubstr("not every treatment is significantly worse"));
}

TEST(DecideAbTestTest, TheHighestRateAmongTheSignificantlyBetterWins) {
  AbEvaluationOptions options;
  options.mode = v1::AB_MODE_FIXED_HORIZON;
  const auto evaluation = DecideAbTest(
      {Figures("A", 10, 1000, 50), Figures("B", 10, 1000, 75), Figures("C", 10, 1000, 80)},
      options);
  EXPECT_TRUE(evaluation.comparisons(0).significant());
  EXPECT_TRUE(evaluation.comparisons(1).significant());
  EXPECT_EQ(evaluation.winner_label(), "C");
  EXPECT_NEAR(evaluation.confidence(), 1 - evaluation.comparisons(1).p_value_holm(), 1e-15);
}

TEST(DecideAbTestTest, EngagementRatesAboveOneAreMeans) {
  AbEvaluationOptions options;
  options.metric = v1::AB_METRIC_ENGAGEMENT_RATE;
  AbVariantFigures a = Figures("A", 3, 10, 0), b = Figures("B", 3, 10, 0);
  const int interactions_a[] = {15, 20, 25}, interactions_b[] = {30, 32, 34};
  for (int d = 0; d < 3; ++d) {
    a.days[d].interactions = interactions_a[d];
    b.days[d].interactions = interactions_b[d];
  }
  options.min_sample = 1;
  const auto evaluation = DecideAbTest({a, b}, options);
  EXPECT_NEAR(evaluation.variants(0).rate(), 2.0, 1e-12);  // (1.5 + 2 + 2.5) / 3
  EXPECT_NEAR(evaluation.variants(1).rate(), 3.2, 1e-12);  // (3 + 3.2 + 3.4) / 3
  EXPECT_NEAR(evaluation.comparisons(0).difference(), 1.2, 1e-12);
}

TEST(AbEvaluationOptionsTest, DefaultsDependOnTheMetric) {
  auto ctr = AbEvaluationOptionsOf(v1::AB_METRIC_UNSPECIFIED, v1::AB_MODE_UNSPECIFIED, 0, 0);
  ASSERT_TRUE(ctr.ok());
  EXPECT_EQ(ctr->metric, v1::AB_METRIC_CTR);
  EXPECT_EQ(ctr->mode, v1::AB_MODE_SEQUENTIAL);
  EXPECT_EQ(ctr->alpha, 0.05);
  EXPECT_EQ(ctr->min_sample, 1000);
  auto conversion =
      AbEvaluationOptionsOf(v1::AB_METRIC_CONVERSION_RATE, v1::AB_MODE_FIXED_HORIZON, 0.01, 0);
  ASSERT_TRUE(conversion.ok());
  EXPECT_EQ(conversion->min_sample, 100);
  EXPECT_EQ(conversion->alpha, 0.01);
  auto engagement =
      AbEvaluationOptionsOf(v1::AB_METRIC_ENGAGEMENT_RATE, v1::AB_MODE_UNSPECIFIED, 0, 250);
  ASSERT_TRUE(engagement.ok());
  EXPECT_EQ(engagement->min_sample, 250);
}

}  // namespace
}  // namespace cf::analytics
