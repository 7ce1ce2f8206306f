// Scoring configs and FindWinners against a real PostgreSQL, including the seed's raw "Find
// winners" query as the reference ranking.
#include "services/analytics/scoring.h"

#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/db/pool.h"
#include "common/status/status.h"
#include "common/testing/postgres.h"
#include "gtest/gtest.h"
#include "services/analytics/analytics_fixtures.h"
#include "services/analytics/metrics_store.h"

namespace cf::analytics {
namespace {

google::protobuf::Map<std::string, double> Weights(
    std::initializer_list<std::pair<const std::string, double>> entries) {
  google::protobuf::Map<std::string, double> weights;
  for (const auto& [key, value] : entries) weights[key] = value;
  return weights;
}

std::vector<std::string> FieldsOf(const absl::Status& status) {
  std::vector<std::string> fields;
  for (const auto& [field, description] : GetFieldViolations(status)) fields.push_back(field);
  return fields;
}

TEST(CheckWeightsTest, NamesTheOffendingKey) {
  EXPECT_TRUE(
      CheckWeights(Weights({{"engagement", 0.4}, {"ctr", 0.3}, {"conversions", 0.3}})).ok());
  EXPECT_TRUE(CheckWeights(Weights({{"engagement", 1}})).ok());
  EXPECT_TRUE(
      CheckWeights(
          Weights({{"engagement", 0.3333333}, {"ctr", 0.3333333}, {"conversions", 0.3333334}}))
          .ok());
  EXPECT_EQ(FieldsOf(CheckWeights(Weights({{"engagement", 0.5}, {"reach", 0.5}}))),
            std::vector<std::string>{"weights[reach]"});
  EXPECT_EQ(FieldsOf(CheckWeights(Weights({{"engagement", 1.5}, {"ctr", -0.5}}))),
            std::vector<std::string>{"weights[ctr]"});
  EXPECT_EQ(FieldsOf(CheckWeights(Weights({{"engagement", 0.5}, {"ctr", 0.4}}))),
            std::vector<std::string>{"weights"});
  EXPECT_EQ(FieldsOf(CheckWeights(Weights({{"engagement", 0.5}, {"ctr", 0.500002}}))),
            std::vector<std::string>{"weights"});
  EXPECT_EQ(FieldsOf(CheckWeights(Weights({}))), std::vector<std::string>{"weights"});
}

TEST(PercentRanksTest, TiesShareTheLowerRank) {
  EXPECT_EQ(PercentRanks({}), std::vector<double>{});
  EXPECT_EQ(PercentRanks({7}), std::vector<double>{0});
  // sorted: 1 (rank 1), 3 3 (rank 2), 9 (rank 4) over n - 1 = 3
  EXPECT_EQ(PercentRanks({3, 9, 1, 3}), (std::vector<double>{1.0 / 3, 1.0, 0.0, 1.0 / 3}));
}

class ScoringTest : public ::testing::Test {
 protected:
  ScoringTest()
      : pool_(database_.RoleConninfo("cf_analytics"), 4),
        scoring_(&pool_),
        store_(&pool_),
        fixtures_(database_.OwnerConninfo()) {}

  std::string CreateConfig(google::protobuf::Map<std::string, double> weights, int threshold) {
    v1::CreateScoringConfigRequest request;
    request.set_name("test config");
    *request.mutable_weights() = std::move(weights);
    request.set_min_views_threshold(threshold);
    auto config = scoring_.CreateScoringConfig(request);
    EXPECT_TRUE(config.ok()) << config.status();
    return config.ok() ? config->id() : "";
  }

  // Each day: views, interactions (all as likes), clicks, conversions.
  void AddDays(const std::string& post, const std::vector<std::array<int64_t, 4>>& days,
               absl::CivilDay first = absl::CivilDay(2025, 3, 1)) {
    google::protobuf::RepeatedPtrField<v1::MetricsRow> rows;
    for (size_t i = 0; i < days.size(); ++i) {
      v1::MetricsRow* row = rows.Add();
      row->set_published_content_id(post);
      *row->mutable_date() = DateOf(first + static_cast<int>(i));
      row->set_views(days[i][0]);
      row->set_likes(days[i][1]);
      row->set_clicks(days[i][2]);
      row->set_conversions(days[i][3]);
    }
    auto response = store_.Ingest(rows);
    ASSERT_TRUE(response.ok()) << response.status();
    ASSERT_EQ(response->errors_size(), 0) << response->errors(0).DebugString();
  }

  std::vector<std::string> Keys(const v1::FindWinnersResponse& response) {
    std::vector<std::string> keys;
    for (const auto& winner : response.winners()) keys.push_back(winner.key());
    return keys;
  }

  cf::testing::TestDatabase database_;
  db::ConnectionPool pool_;
  Scoring scoring_;
  MetricsStore store_;
  AnalyticsFixtures fixtures_;
};

// The ranks match PostgreSQL's own percent_rank() on the same values, ties included.
TEST_F(ScoringTest, PercentRanksAgreeWithPostgres) {
  std::mt19937 random(11);
  std::vector<double> values;
  std::vector<std::string> literals;
  for (int i = 0; i < 500; ++i) {
    values.push_back(static_cast<double>(random() % 97) / 8);  // many ties
    literals.push_back(absl::StrCat(values.back()));
  }
  pqxx::result expected = fixtures_.Query(absl::StrCat(
      "SELECT percent_rank() OVER (ORDER BY v) FROM unnest('{", absl::StrJoin(literals, ","),
      "}'::float8[]) WITH ORDINALITY AS t(v, i) ORDER BY i"));
  const std::vector<double> ranks = PercentRanks(values);
  ASSERT_EQ(expected.size(), ranks.size());
  for (size_t i = 0; i < ranks.size(); ++i) EXPECT_DOUBLE_EQ(ranks[i], expected[i][0].as<double>());
}

TEST_F(ScoringTest, TheSeedConfigsExistWithDefaultActive) {
  auto configs = scoring_.ListScoringConfigs({});
  ASSERT_TRUE(configs.ok()) << configs.status();
  ASSERT_EQ(configs->configs_size(), 3);
  int active = 0;
  for (const auto& config : configs->configs()) {
    if (config.active()) {
      ++active;
      EXPECT_EQ(config.name(), "Default");
      EXPECT_DOUBLE_EQ(config.weights().engagement(), 0.4);
      EXPECT_EQ(config.min_views_threshold(), 1000);
    }
  }
  EXPECT_EQ(active, 1);
}

TEST_F(ScoringTest, CreateRefusesBadConfigsAndWritesNothing) {
  v1::CreateScoringConfigRequest request;
  (*request.mutable_weights())["engagment"] = 1.0;
  request.set_min_views_threshold(-5);
  auto created = scoring_.CreateScoringConfig(request);
  ASSERT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(FieldsOf(created.status()),
            (std::vector<std::string>{"name", "weights[engagment]", "min_views_threshold"}));
  EXPECT_EQ(fixtures_.Query("SELECT count(*) FROM cf_scoring_config")[0][0].as<int>(), 3);
}

TEST_F(ScoringTest, ActivationSwitchesTheOneActiveConfigEvenUnderConcurrency) {
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(CreateConfig(Weights({{"ctr", 1}}), 10));
  std::vector<std::thread> threads;
  std::atomic<int> succeeded{0};
  for (int round = 0; round < 3; ++round) {
    for (const std::string& id : ids) {
      threads.emplace_back([&, id] {
        v1::ActivateScoringConfigRequest request;
        request.set_id(id);
        if (scoring_.ActivateScoringConfig(request).ok()) ++succeeded;
      });
    }
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(succeeded.load(), 18);
  EXPECT_EQ(fixtures_.Query("SELECT count(*) FROM cf_scoring_config WHERE active")[0][0].as<int>(),
            1);
  v1::ActivateScoringConfigRequest missing;
  missing.set_id("00000000-0000-0000-0000-000000000000");
  EXPECT_EQ(scoring_.ActivateScoringConfig(missing).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(fixtures_.Query("SELECT count(*) FROM cf_scoring_config WHERE active")[0][0].as<int>(),
            1);
}

// Rates are ratios of the period's sums; the components are percentile ranks in the cohort.
TEST_F(ScoringTest, ScoresAreWeightedPercentileRanksOfRatiosOfSums) {
  const std::string a = fixtures_.AddPost();
  const std::string b = fixtures_.AddPost();
  const std::string c = fixtures_.AddPost();
  const std::string small = fixtures_.AddPost();
  // a: engagement 140/1000 = 0.14 (the mean of its daily rates would be (0.5 + 0.1) / 2 = 0.3),
  //    ctr 20/1000 = 0.02, conversion 10/20 = 0.5
  AddDays(a, {{100, 50, 10, 5}, {900, 90, 10, 5}});
  // b: engagement 0.20, ctr 0.01, conversion 0.1
  AddDays(b, {{2000, 400, 20, 2}});
  // c: engagement 0.05, ctr 0.03, conversion 0.2
  AddDays(c, {{3000, 150, 90, 18}});
  AddDays(small, {{50, 50, 50, 50}});  // under the threshold
  const std::string config =
      CreateConfig(Weights({{"engagement", 0.5}, {"ctr", 0.3}, {"conversions", 0.2}}), 500);
  v1::FindWinnersRequest request;
  request.set_scoring_config_id(config);
  auto winners = scoring_.FindWinners(request);
  ASSERT_TRUE(winners.ok()) << winners.status();
  EXPECT_EQ(winners->cohort_size(), 3);
  // Percentile ranks (rank - 1) / (3 - 1):
  //   engagement c 0.05 -> 0, a 0.14 -> 0.5, b 0.20 -> 1
  //   ctr        b 0.01 -> 0, a 0.02 -> 0.5, c 0.03 -> 1
  //   conversion b 0.1  -> 0, c 0.2  -> 0.5, a 0.5  -> 1
  // scores: a = 0.25 + 0.15 + 0.2 = 0.6; b = 0.5; c = 0.3 + 0.1 = 0.4
  ASSERT_EQ(Keys(*winners), (std::vector<std::string>{a, b, c}));
  const v1::Winner& top = winners->winners(0);
  EXPECT_NEAR(top.score(), 0.6, 1e-12);
  EXPECT_NEAR(top.engagement_rate(), 0.14, 1e-12);
  EXPECT_NEAR(top.ctr(), 0.02, 1e-12);
  EXPECT_NEAR(top.conversion_rate(), 0.5, 1e-12);
  EXPECT_DOUBLE_EQ(top.engagement_component(), 0.5);
  EXPECT_DOUBLE_EQ(top.ctr_component(), 0.5);
  EXPECT_DOUBLE_EQ(top.conversion_component(), 1.0);
  EXPECT_EQ(top.rank(), 1);
  EXPECT_EQ(top.totals().views(), 1000);
  EXPECT_EQ(top.awareness_level(), 3);
  EXPECT_NEAR(winners->winners(1).score(), 0.5, 1e-12);
  EXPECT_NEAR(winners->winners(2).score(), 0.4, 1e-12);

  // The seed's basis: the mean of daily rates puts a (0.3) above b (0.2) on engagement alone.
  const std::string engagement_only = CreateConfig(Weights({{"engagement", 1}}), 500);
  request.set_scoring_config_id(engagement_only);
  request.set_rate_basis(v1::RATE_BASIS_MEAN_OF_DAILY_RATES);
  winners = scoring_.FindWinners(request);
  ASSERT_TRUE(winners.ok());
  EXPECT_EQ(Keys(*winners), (std::vector<std::string>{a, b, c}));
  EXPECT_NEAR(winners->winners(0).engagement_rate(), 0.3, 1e-12);
  request.set_rate_basis(v1::RATE_BASIS_RATIO_OF_SUMS);
  winners = scoring_.FindWinners(request);
  ASSERT_TRUE(winners.ok());
  EXPECT_EQ(Keys(*winners), (std::vector<std::string>{b, a, c}));
}

// A ranking is reused while no metrics row changes and computed again once one does: after an
// ingest, and after a delete cascading from a post. (The rollup row edited behind the metrics'
// back shows which answer came from a kept ranking: only a fresh one sees the edit.)
TEST_F(ScoringTest, ARankingIsReusedOnlyWhileTheMetricsStayTheSame) {
  const std::string a = fixtures_.AddPost();
  const std::string b = fixtures_.AddPost();
  const std::string c = fixtures_.AddPost();
  AddDays(a, {{1000, 300, 0, 0}});
  AddDays(b, {{1000, 200, 0, 0}});
  AddDays(c, {{1000, 100, 0, 0}});
  v1::FindWinnersRequest request;
  request.set_scoring_config_id(CreateConfig(Weights({{"engagement", 1}}), 0));
  auto winners = scoring_.FindWinners(request);
  ASSERT_TRUE(winners.ok()) << winners.status();
  ASSERT_EQ(Keys(*winners), (std::vector<std::string>{a, b, c}));

  const auto version = [&] {
    return fixtures_.Query("SELECT version FROM cf_metrics_version")[0][0].as<int64_t>();
  };
  const int64_t before = version();
  fixtures_.Query(
      "UPDATE cf_metrics_content_rollup SET likes = 900 WHERE published_content_id = '" + c + "'");
  EXPECT_EQ(version(), before);  // the rollups alone are no metrics change
  winners = scoring_.FindWinners(request);
  ASSERT_TRUE(winners.ok());
  EXPECT_EQ(Keys(*winners), (std::vector<std::string>{a, b, c})) << "kept ranking";
  // Another request's ranking is its own, computed now: it sees the edited rollup.
  request.set_page_size(2);
  winners = scoring_.FindWinners(request);
  ASSERT_TRUE(winners.ok());
  EXPECT_EQ(Keys(*winners), (std::vector<std::string>{a, b})) << "same filters, same ranking";
  request.set_platform(assembly::v1::PLATFORM_TIKTOK);
  winners = scoring_.FindWinners(request);
  ASSERT_TRUE(winners.ok());
  EXPECT_EQ(Keys(*winners), (std::vector<std::string>{c, a})) << "other filters";
  request.clear_platform();
  request.clear_page_size();

  // A day more for b: the version moves, and the ranking is computed again (with c's edit).
  AddDays(b, {{1000, 800, 0, 0}}, absl::CivilDay(2025, 3, 2));
  EXPECT_GT(version(), before);
  winners = scoring_.FindWinners(request);
  ASSERT_TRUE(winners.ok());
  EXPECT_EQ(Keys(*winners), (std::vector<std::string>{c, b, a}));

  // The post deleted (its metrics go with it, by cascade): computed again without it.
  const int64_t before_delete = version();
  fixtures_.Query("DELETE FROM cf_published_content WHERE id = '" + c + "'");
  EXPECT_GT(version(), before_delete);
  winners = scoring_.FindWinners(request);
  ASSERT_TRUE(winners.ok());
  EXPECT_EQ(Keys(*winners), (std::vector<std::string>{b, a}));
  EXPECT_EQ(winners->cohort_size(), 2);
}

// With weights {engagement: 1}, the seed's strict threshold and the seed's basis, the ranking is
// the seed's raw query's, run over the raw metrics.
TEST_F(ScoringTest, RankingEqualsTheSeedsFindWinnersQuery) {
  std::mt19937 random(7);
  std::vector<std::string> posts;
  for (int i = 0; i < 40; ++i) {
    PostSpec spec;
    spec.awareness_level = 1 + i % 5;
    posts.push_back(fixtures_.AddPost(spec));
  }
  for (const std::string& post : posts) {
    std::vector<std::array<int64_t, 4>> days;
    const int count = 3 + random() % 20;
    for (int d = 0; d < count; ++d) {
      const int64_t views = random() % 200;  // totals straddle the 1000 threshold
      const int64_t clicks = views == 0 ? 0 : random() % (views + 1);
      days.push_back({views, static_cast<int64_t>(random() % 300), clicks, clicks / 3});
    }
    AddDays(post, days);
  }
  // One post at exactly 1000 views: the seed's "> 1000" leaves it out.
  const std::string boundary = fixtures_.AddPost();
  AddDays(boundary, {{600, 500, 1, 0}, {400, 500, 1, 0}});

  pqxx::result seed = fixtures_.Query(R"sql(
      SELECT pc.id::text, AVG(pm.engagement_rate) AS avg_engagement
      FROM cf_published_content pc
      JOIN cf_performance_metrics pm ON pm.published_content_id = pc.id
      JOIN cf_assembled_content ac ON ac.id = pc.assembled_content_id
      JOIN cf_scripts s ON s.id = ac.script_id
      GROUP BY pc.id, pc.platform_url, s.awareness_level
      HAVING SUM(pm.views) > 1000
      ORDER BY avg_engagement DESC, pc.id)sql");
  ASSERT_GT(seed.size(), 5u);
  ASSERT_LT(seed.size(), posts.size());  // the threshold cut some
  std::vector<std::string> expected;
  for (const auto& row : seed) expected.push_back(row[0].c_str());

  v1::FindWinnersRequest request;
  request.set_scoring_config_id(CreateConfig(Weights({{"engagement", 1}}), 1000));
  request.set_rate_basis(v1::RATE_BASIS_MEAN_OF_DAILY_RATES);
  request.set_page_size(1000);
  auto winners = scoring_.FindWinners(request);
  ASSERT_TRUE(winners.ok()) << winners.status();
  EXPECT_EQ(Keys(*winners), expected);
  for (int i = 0; i < winners->winners_size(); ++i) {
    EXPECT_NEAR(winners->winners(i).engagement_rate(), seed[i][1].as<double>(), 1e-12);
  }
  // The seed's LIMIT 10 is the first page.
  request.set_page_size(10);
  winners = scoring_.FindWinners(request);
  ASSERT_TRUE(winners.ok());
  EXPECT_EQ(Keys(*winners), std::vector<std::string>(expected.begin(), expected.begin() + 10));
}

TEST_F(ScoringTest, GroupsByCellPlatformAndVideoTypeWithFilters) {
  const std::string dossier = fixtures_.AddDossier();
  PostSpec tiktok_demo;
  tiktok_demo.dossier_id = dossier;
  tiktok_demo.awareness_level = 2;
  tiktok_demo.market_sophistication = 4;
  tiktok_demo.video_types = {"demo", "reveal"};
  const std::string p1 = fixtures_.AddPost(tiktok_demo);
  const std::string p2 = fixtures_.AddPost(tiktok_demo);
  PostSpec youtube;
  youtube.awareness_level = 5;
  youtube.market_sophistication = 0;
  youtube.platform = "youtube";
  youtube.video_types = {"demo"};
  const std::string p3 = fixtures_.AddPost(youtube);
  AddDays(p1, {{1000, 100, 10, 1}}, absl::CivilDay(2025, 3, 5));
  AddDays(p2, {{3000, 100, 30, 3}}, absl::CivilDay(2025, 4, 5));
  AddDays(p3, {{2000, 300, 40, 4}}, absl::CivilDay(2025, 4, 9));
  const std::string config = CreateConfig(Weights({{"engagement", 1}}), 0);

  v1::FindWinnersRequest request;
  request.set_scoring_config_id(config);
  request.set_group_by(v1::WINNER_GROUPING_SCRIPT_CELL);
  auto cells = scoring_.FindWinners(request);
  ASSERT_TRUE(cells.ok()) << cells.status();
  ASSERT_EQ(cells->winners_size(), 2);
  // youtube 300/2000 = 0.15 beats the tiktok cell's 200/4000 = 0.05
  EXPECT_EQ(cells->winners(0).key(), "awareness=5 sophistication=0 platform=youtube");
  EXPECT_EQ(cells->winners(1).key(), "awareness=2 sophistication=4 platform=tiktok");
  EXPECT_EQ(cells->winners(1).totals().views(), 4000);

  request.set_group_by(v1::WINNER_GROUPING_VIDEO_TYPE);
  auto types = scoring_.FindWinners(request);
  ASSERT_TRUE(types.ok());
  ASSERT_EQ(types->winners_size(), 2);
  // demo: all three posts (500/6000); reveal: p1 and p2 (200/4000). A post counts under each.
  EXPECT_EQ(types->winners(0).key(), "demo");
  EXPECT_EQ(types->winners(0).totals().views(), 6000);
  EXPECT_EQ(types->winners(1).key(), "reveal");
  EXPECT_EQ(types->winners(1).totals().views(), 4000);

  // April only, one dossier, by platform: p2 alone (from the monthly rollup).
  request.set_group_by(v1::WINNER_GROUPING_PLATFORM);
  request.set_dossier_id(dossier);
  request.mutable_first_month()->set_year(2025);
  request.mutable_first_month()->set_month(4);
  *request.mutable_last_month() = request.first_month();
  auto april = scoring_.FindWinners(request);
  ASSERT_TRUE(april.ok()) << april.status();
  ASSERT_EQ(april->winners_size(), 1);
  EXPECT_EQ(april->winners(0).key(), "tiktok");
  EXPECT_EQ(april->winners(0).totals().views(), 3000);

  // The same months without the dossier: the cell rollup answers, youtube included.
  request.clear_dossier_id();
  auto april_all = scoring_.FindWinners(request);
  ASSERT_TRUE(april_all.ok());
  EXPECT_EQ(Keys(*april_all), (std::vector<std::string>{"youtube", "tiktok"}));

  request.set_group_by(v1::WINNER_GROUPING_CONTENT);
  request.set_platform(assembly::v1::PLATFORM_TIKTOK);
  request.set_awareness_level(2);
  auto content = scoring_.FindWinners(request);
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(Keys(*content), std::vector<std::string>{p2});
  EXPECT_EQ(content->winners(0).dossier_id(), dossier);
  EXPECT_EQ(content->winners(0).video_types_size(), 2);
}

TEST_F(ScoringTest, PagesWalkTheRankingAndBadRequestsNameTheField) {
  std::vector<std::string> posts;
  for (int i = 0; i < 5; ++i) {
    posts.push_back(fixtures_.AddPost());
    AddDays(posts.back(), {{1000, 10 * (i + 1), 1, 0}});
  }
  v1::FindWinnersRequest request;
  request.set_scoring_config_id(CreateConfig(Weights({{"engagement", 1}}), 0));
  request.set_page_size(2);
  std::vector<std::string> seen;
  for (int page = 0; page < 5; ++page) {
    auto winners = scoring_.FindWinners(request);
    ASSERT_TRUE(winners.ok()) << winners.status();
    for (const auto& winner : winners->winners()) seen.push_back(winner.key());
    if (winners->next_page_token().empty()) break;
    request.set_page_token(winners->next_page_token());
  }
  EXPECT_EQ(seen, (std::vector<std::string>{posts[4], posts[3], posts[2], posts[1], posts[0]}));

  // A token from another filter is refused.
  request.set_page_token(request.page_token());
  request.set_awareness_level(3);
  EXPECT_EQ(FieldsOf(scoring_.FindWinners(request).status()),
            std::vector<std::string>{"page_token"});

  v1::FindWinnersRequest bad;
  bad.set_awareness_level(7);
  bad.set_dossier_id("nope");
  bad.mutable_first_month()->set_year(2025);
  bad.mutable_first_month()->set_month(4);
  bad.mutable_first_month()->set_day(3);
  EXPECT_EQ(
      FieldsOf(scoring_.FindWinners(bad).status()),
      (std::vector<std::string>{"dossier_id", "awareness_level", "first_month", "last_month"}));
  v1::FindWinnersRequest bad_platform;
  bad_platform.set_platform(static_cast<assembly::v1::Platform>(42));
  EXPECT_EQ(FieldsOf(scoring_.FindWinners(bad_platform).status()),
            std::vector<std::string>{"platform"});
  v1::FindWinnersRequest unknown;
  unknown.set_scoring_config_id("00000000-0000-0000-0000-000000000000");
  EXPECT_EQ(scoring_.FindWinners(unknown).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace cf::analytics
