#include "services/sandbox/api_support.h"

#include <gtest/gtest.h>

#include <tuple>
#include <vector>

#include "absl/time/clock.h"
#include "services/sandbox/sandbox_testing.h"

namespace cf::sandbox {
namespace {

using testing::TestSandbox;

nlohmann::json Body(const httplib::Response& res) { return nlohmann::json::parse(res.body); }

TEST(ApiSupportTest, ParsesContentRange) {
  std::optional<ContentRange> range = ParseContentRange("bytes 0-99/100");
  ASSERT_TRUE(range.has_value());
  EXPECT_TRUE(range->has_range);
  EXPECT_EQ(range->first, 0);
  EXPECT_EQ(range->last, 99);
  EXPECT_EQ(range->total, 100);
  range = ParseContentRange("bytes */5000");
  ASSERT_TRUE(range.has_value());
  EXPECT_FALSE(range->has_range);
  EXPECT_EQ(range->total, 5000);
  range = ParseContentRange("bytes 10-19/*");
  ASSERT_TRUE(range.has_value());
  EXPECT_EQ(range->total, -1);
  for (const char* bad : {"", "bytes", "bytes 5-4/10", "bytes 0-10/10", "bytes */*", "items 0-1/2",
                          "bytes a-b/c", "bytes -1-3/10"}) {
    EXPECT_FALSE(ParseContentRange(bad).has_value()) << bad;
  }
}

TEST(ApiSupportTest, EachPlatformHasItsOwnErrorBody) {
  httplib::Response tiktok;
  SendStandardError(tiktok, Flavor::kTikTok, 429, "slow down", absl::Seconds(7));
  EXPECT_EQ(tiktok.status, 429);
  EXPECT_EQ(Body(tiktok)["error"]["code"], "rate_limit_exceeded");
  EXPECT_TRUE(Body(tiktok)["error"]["log_id"].is_string());
  EXPECT_EQ(tiktok.get_header_value("Retry-After"), "7");

  httplib::Response graph;
  SendStandardError(graph, Flavor::kGraph, 401, "expired");
  EXPECT_EQ(graph.status, 401);
  EXPECT_EQ(Body(graph)["error"]["code"], 190);
  EXPECT_EQ(Body(graph)["error"]["error_subcode"], 463);
  EXPECT_EQ(Body(graph)["error"]["type"], "OAuthException");
  EXPECT_TRUE(Body(graph)["error"]["fbtrace_id"].is_string());

  httplib::Response google;
  SendStandardError(google, Flavor::kGoogle, 500, "oops");
  EXPECT_EQ(Body(google)["error"]["code"], 500);
  EXPECT_EQ(Body(google)["error"]["errors"][0]["reason"], "backendError");
  EXPECT_EQ(Body(google)["error"]["status"], "INTERNAL");

  httplib::Response bad;
  SendStandardError(bad, Flavor::kGraph, 400, "bad");
  EXPECT_EQ(Body(bad)["error"]["code"], 100);
  EXPECT_FALSE(Body(bad)["error"].contains("error_subcode"));

  // TikTok's Marketing API: HTTP 200 with a code, but for the 5xx faults.
  for (const auto& [status, code, http_status] :
       std::vector<std::tuple<int, int, int>>{{400, 40002, 200},
                                              {401, 40105, 200},
                                              {403, 40001, 200},
                                              {429, 40100, 200},
                                              {500, 50000, 500},
                                              {503, 50000, 503}}) {
    httplib::Response ads;
    SendStandardError(ads, Flavor::kTikTokAds, status, "m", absl::Seconds(4));
    EXPECT_EQ(ads.status, http_status) << status;
    EXPECT_EQ(Body(ads)["code"], code) << status;
    EXPECT_EQ(Body(ads)["message"], "m");
    EXPECT_TRUE(Body(ads)["request_id"].is_string());
    EXPECT_TRUE(Body(ads)["data"].is_object());
    EXPECT_EQ(ads.get_header_value("Retry-After"), status == 429 || status == 503 ? "4" : "");
  }
  httplib::Response data;
  SendTikTokAdsData(data, {{"campaign_id", "1"}});
  EXPECT_EQ(data.status, 200);
  EXPECT_EQ(Body(data)["code"], 0);
  EXPECT_EQ(Body(data)["message"], "OK");
  EXPECT_EQ(Body(data)["data"]["campaign_id"], "1");
}

class RunCallTest : public ::testing::Test {
 protected:
  void AddFault(const std::string& kind, int delay_ms = 0) {
    nlohmann::json rule = {{"platform", "tiktok"}, {"operation", "init"}, {"kind", kind}};
    if (delay_ms > 0) rule["delay_ms"] = delay_ms;
    ASSERT_TRUE(sandbox_.env().faults->Add({{"faults", {rule}}}).ok());
  }
  // Runs a call whose handler answers 200 and counts itself.
  httplib::Response Run(Flavor flavor = Flavor::kTikTok) {
    httplib::Request req;
    httplib::Response res;
    RunCall(sandbox_.env(), flavor, "tiktok", "init", req, res,
            [&](const httplib::Request&, httplib::Response& r) {
              ++handled_;
              SendJson(r, 200, {{"ok", true}});
            });
    return res;
  }
  TestSandbox sandbox_;
  int handled_ = 0;
};

TEST_F(RunCallTest, ErrorFaultsAnswerThePlatformsBodyAndDoNothing) {
  AddFault("error_503");
  httplib::Response res = Run();
  EXPECT_EQ(res.status, 503);
  EXPECT_EQ(Body(res)["error"]["code"], "internal_error");
  EXPECT_EQ(handled_, 0);
  AddFault("rate_limit", 3000);
  res = Run();
  EXPECT_EQ(res.status, 429);
  EXPECT_EQ(res.get_header_value("Retry-After"), "3");
  AddFault("token_expired");
  res = Run(Flavor::kGoogle);
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(Body(res)["error"]["errors"][0]["reason"], "authError");
  EXPECT_EQ(handled_, 0);
  EXPECT_EQ(Run().status, 200);
  EXPECT_EQ(handled_, 1);
}

TEST_F(RunCallTest, LostAnswerDoesTheCallAndAnswers502Empty) {
  AddFault("lost_answer");
  httplib::Response res = Run();
  EXPECT_EQ(handled_, 1);
  EXPECT_EQ(res.status, 502);
  EXPECT_TRUE(res.body.empty());
}

TEST_F(RunCallTest, SlowWaitsThenDoesTheCall) {
  AddFault("slow", 300);
  const absl::Time start = absl::Now();
  httplib::Response res = Run();
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(300));
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(handled_, 1);
}

TEST_F(RunCallTest, AnExceptionBecomesThePlatforms500) {
  httplib::Request req;
  httplib::Response res;
  RunCall(sandbox_.env(), Flavor::kGraph, "instagram", "publish", req, res,
          [](const httplib::Request&, httplib::Response&) { throw std::runtime_error("bug"); });
  EXPECT_EQ(res.status, 500);
  EXPECT_EQ(Body(res)["error"]["code"], 2);
}

TEST_F(RunCallTest, AnExceptionIsTheMarketingApis50000WithHttp200) {
  httplib::Request req;
  httplib::Response res;
  RunCall(sandbox_.env(), Flavor::kTikTokAds, "tiktok_ads", "ad", req, res,
          [](const httplib::Request&, httplib::Response&) { throw std::runtime_error("bug"); });
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(Body(res)["code"], 50000);
}

TEST(PromotionTest, PeriodsStartStopAndResumeWithoutTheSpendGoingBack) {
  const absl::Duration day = absl::Hours(24);
  const int64_t hour = 3600 * 1000;
  const int64_t start = 1700000000000;
  Post post;
  EXPECT_FALSE(post.promoted());
  SetPromotionBudget(post, 0, start, day);  // nothing to stop
  EXPECT_EQ(post.promotion_daily_budget, "");
  SetPromotionBudget(post, 2400, start, day);
  EXPECT_TRUE(post.promoted());
  EXPECT_EQ(post.promotion_daily_budget, "24.00");
  EXPECT_EQ(post.promotion_started_ms, start);
  auto spend = [&](int64_t now_ms) {
    const Promotion promotion = PromotionOf(post);
    const Figures figures = FiguresAt("tiktok", "p", absl::FromUnixMillis(start),
                                      absl::FromUnixMillis(now_ms), AudienceClock{}, promotion);
    return figures.spend_cents;
  };
  EXPECT_EQ(spend(start + 6 * hour), 600);
  SetPromotionBudget(post, 2400, start + 6 * hour, day);  // the same budget: no new period
  EXPECT_EQ(post.promotion_started_ms, start);
  SetPromotionBudget(post, 0, start + 6 * hour, day);  // stop
  EXPECT_FALSE(post.promoted());
  EXPECT_EQ(post.promotion_ended_ms, start + 6 * hour);
  EXPECT_EQ(post.promotion_daily_budget, "24.00");  // the last period's, for the feed
  EXPECT_EQ(spend(start + 30 * hour), 600);
  SetPromotionBudget(post, 0, start + 30 * hour, day);  // stopped already: the end stays
  EXPECT_EQ(post.promotion_ended_ms, start + 6 * hour);
  SetPromotionBudget(post, 4800, start + 30 * hour, day);  // resume at another budget
  EXPECT_TRUE(post.promoted());
  EXPECT_EQ(post.promotion_earlier_spend_cents, 600);
  EXPECT_EQ(spend(start + 30 * hour), 600);
  EXPECT_EQ(spend(start + 33 * hour), 1200);
  SetPromotionBudget(post, 2400, start + 33 * hour, day);  // a change while running
  EXPECT_EQ(post.promotion_earlier_spend_cents, 1200);
  EXPECT_EQ(spend(start + 39 * hour), 1800);
  // Odd amounts round down once per period, never up.
  Post odd;
  SetPromotionBudget(odd, 2001, 0, day);
  SetPromotionBudget(odd, 0, hour, day);
  EXPECT_EQ(PromotionOf(odd).daily_budget_cents, 2001);
  SetPromotionBudget(odd, 2001, 2 * hour, day);
  EXPECT_EQ(odd.promotion_earlier_spend_cents, 83);  // 2001 / 24 = 83.375
}

TEST(AuthorizeTest, AcceptsLiveTokensOnly) {
  TestSandbox sandbox;
  Env& env = sandbox.env();
  auto check = [&](const std::string& account, const std::string& header) {
    httplib::Request req;
    if (!header.empty()) req.headers.emplace("Authorization", header);
    httplib::Response res;
    return Authorize(env, Flavor::kTikTok, account, req, res) ? 200 : res.status;
  };
  EXPECT_EQ(check("tiktok", "Bearer sandbox-access"), 200);
  EXPECT_EQ(check("tiktok", "bearer sandbox-access"), 200);
  EXPECT_EQ(check("tiktok", "Bearer wrong"), 401);
  EXPECT_EQ(check("tiktok", ""), 401);
  std::string issued;
  {
    auto lock = env.store->Lock();
    issued = IssueToken(env.store->state(), "tiktok");
  }
  EXPECT_EQ(issued, "sbx-tiktok-1");
  EXPECT_EQ(check("tiktok", "Bearer " + issued), 200);
  EXPECT_EQ(check("google", "Bearer " + issued), 401);  // another account's token
  httplib::Request query;
  query.params.emplace("access_token", "sandbox-access");
  httplib::Response res;
  EXPECT_TRUE(Authorize(env, Flavor::kGraph, "meta", query, res));
}

TEST(FormatTimeTest, GraphAndGoogleFormats) {
  EXPECT_EQ(FormatTime(0), "1970-01-01T00:00:00+0000");
  EXPECT_EQ(FormatTime(1500, true), "1970-01-01T00:00:01Z");
}

}  // namespace
}  // namespace cf::sandbox
