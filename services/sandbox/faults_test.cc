#include "services/sandbox/faults.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace cf::sandbox {
namespace {

TEST(FaultsTest, TimesRulesAreUsedUp) {
  Faults faults;
  ASSERT_TRUE(faults
                  .Add({{"faults",
                         {{{"platform", "tiktok"},
                           {"operation", "init"},
                           {"kind", "error_500"},
                           {"times", 2}}}}})
                  .ok());
  EXPECT_FALSE(faults.Take("tiktok", "status").has_value());
  EXPECT_FALSE(faults.Take("instagram", "init").has_value());
  ASSERT_TRUE(faults.Take("tiktok", "init").has_value());
  EXPECT_EQ(faults.Take("tiktok", "init")->kind, FaultKind::kError500);
  EXPECT_FALSE(faults.Take("tiktok", "init").has_value());
  EXPECT_EQ(faults.ToJson()["faults"].size(), 0u);
}

TEST(FaultsTest, RulesApplyInOrderAndDefaultToOnce) {
  Faults faults;
  ASSERT_TRUE(
      faults
          .Add({{"faults",
                 {{{"platform", "youtube"},
                   {"operation", "upload"},
                   {"kind", "slow"},
                   {"delay_ms", 250}},
                  {{"platform", "youtube"}, {"operation", "upload"}, {"kind", "lost_answer"}}}}})
          .ok());
  std::optional<Fault> first = faults.Take("youtube", "upload");
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->kind, FaultKind::kSlow);
  EXPECT_EQ(first->delay, absl::Milliseconds(250));
  EXPECT_EQ(faults.Take("youtube", "upload")->kind, FaultKind::kLostAnswer);
  EXPECT_FALSE(faults.Take("youtube", "upload").has_value());
}

TEST(FaultsTest, ProbabilityRulesReplayWithTheSameSeed) {
  auto draw = [](int seed) {
    Faults faults;
    EXPECT_TRUE(faults
                    .Add({{"faults",
                           {{{"platform", "instagram"},
                             {"operation", "publish"},
                             {"kind", "error_503"},
                             {"probability", 0.3}}}},
                          {"seed", seed}})
                    .ok());
    std::string pattern;
    for (int i = 0; i < 200; ++i) pattern += faults.Take("instagram", "publish") ? '1' : '0';
    return pattern;
  };
  const std::string a = draw(7);
  EXPECT_EQ(a, draw(7));
  EXPECT_NE(a, draw(8));
  const int hits = static_cast<int>(std::count(a.begin(), a.end(), '1'));
  EXPECT_GT(hits, 30);
  EXPECT_LT(hits, 90);
}

TEST(FaultsTest, RefusesBadRulesAndAddsNothing) {
  Faults faults;
  auto rule = [](nlohmann::json r) { return nlohmann::json{{"faults", {r}}}; };
  EXPECT_FALSE(faults.Add(nlohmann::json::array()).ok());
  EXPECT_FALSE(faults.Add({{"faults", 3}}).ok());
  EXPECT_FALSE(
      faults.Add(rule({{"platform", "myspace"}, {"operation", "init"}, {"kind", "error_500"}}))
          .ok());
  EXPECT_FALSE(
      faults.Add(rule({{"platform", "tiktok"}, {"operation", "publish"}, {"kind", "error_500"}}))
          .ok());
  EXPECT_FALSE(
      faults.Add(rule({{"platform", "tiktok"}, {"operation", "init"}, {"kind", "explode"}})).ok());
  EXPECT_FALSE(faults
                   .Add(rule({{"platform", "tiktok"},
                              {"operation", "init"},
                              {"kind", "error_500"},
                              {"probability", 2}}))
                   .ok());
  EXPECT_FALSE(
      faults
          .Add(rule(
              {{"platform", "tiktok"}, {"operation", "init"}, {"kind", "error_500"}, {"times", 0}}))
          .ok());
  EXPECT_FALSE(
      faults.Add(rule({{"platform", "tiktok"}, {"operation", "init"}, {"kind", "slow"}})).ok());
  // One bad rule among good ones: none is added.
  EXPECT_FALSE(faults
                   .Add({{"faults",
                          {{{"platform", "meta"}, {"operation", "token"}, {"kind", "error_500"}},
                           {{"platform", "meta"}, {"operation", "nope"}, {"kind", "error_500"}}}}})
                   .ok());
  EXPECT_EQ(faults.ToJson()["faults"].size(), 0u);
  EXPECT_TRUE(CheckOperation("google", "token").ok());
  EXPECT_TRUE(CheckOperation("facebook", "transfer").ok());
  for (const char* operation : {"campaign", "adgroup", "ad", "status", "get"}) {
    EXPECT_TRUE(CheckOperation("tiktok_ads", operation).ok()) << operation;
  }
  EXPECT_FALSE(CheckOperation("tiktok_ads", "init").ok());
}

TEST(FaultsTest, ClearRemovesEveryRule) {
  Faults faults;
  ASSERT_TRUE(faults
                  .Add({{"faults",
                         {{{"platform", "facebook"},
                           {"operation", "finish"},
                           {"kind", "token_expired"},
                           {"probability", 1.0}}}}})
                  .ok());
  EXPECT_EQ(faults.ToJson()["faults"][0]["kind"], "token_expired");
  EXPECT_TRUE(faults.Take("facebook", "finish").has_value());
  EXPECT_TRUE(faults.Take("facebook", "finish").has_value());
  faults.Clear();
  EXPECT_FALSE(faults.Take("facebook", "finish").has_value());
}

}  // namespace
}  // namespace cf::sandbox
