#include "services/sandbox/tiktok_ads_api.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/testing/subprocess.h"
#include "services/sandbox/sandbox_testing.h"
#include "services/sandbox/videos.h"

namespace cf::sandbox {
namespace {

using testing::JsonOf;
using testing::TestOptions;
using testing::TestSandbox;

const std::string kAds = "/tiktok-business/open_api/v1.3";
const std::string kAdvertiser = "7000000000000000001";

http::Response PostRaw(TestSandbox& sandbox, const std::string& path, const std::string& body,
                       const std::string& token = "sandbox-access") {
  std::vector<std::pair<std::string, std::string>> headers = {{"Content-Type", "application/json"}};
  if (!token.empty()) headers.push_back({"Access-Token", token});
  return sandbox.Call("POST", kAds + path, body, headers);
}

http::Response Ads(TestSandbox& sandbox, const std::string& path, const nlohmann::json& body,
                   const std::string& token = "sandbox-access") {
  return PostRaw(sandbox, path, body.dump(), token);
}

http::Response Get(TestSandbox& sandbox, const std::string& query,
                   const std::string& token = "sandbox-access") {
  return sandbox.Call("GET", kAds + "/adgroup/get/?" + query, "", {{"Access-Token", token}});
}

// The Marketing API's code (HTTP 200 always, but for the 5xx faults).
int64_t Code(const http::Response& response) {
  EXPECT_EQ(response.status, 200) << response.body;
  return JsonOf(response).value("code", int64_t{-1});
}

std::string Message(const http::Response& response) {
  return JsonOf(response).value("message", "");
}

// The data of a successful answer.
nlohmann::json Data(const http::Response& response) {
  EXPECT_EQ(response.status, 200) << response.body;
  const nlohmann::json json = JsonOf(response);
  EXPECT_EQ(json.value("code", int64_t{-1}), 0) << response.body;
  EXPECT_EQ(json.value("message", ""), "OK");
  EXPECT_FALSE(json.value("request_id", "").empty());
  return json.contains("data") ? json["data"] : nlohmann::json::object();
}

nlohmann::json CampaignBody(const std::string& name = "Spark") {
  return {{"advertiser_id", kAdvertiser},
          {"campaign_name", name},
          {"objective_type", "VIDEO_VIEWS"},
          {"budget_mode", "BUDGET_MODE_INFINITE"}};
}

// An ad group body whose budget is `budget` exactly as written (a JSON number's text).
std::string AdGroupBody(const std::string& campaign_id, const std::string& budget,
                        const std::string& name = "Group") {
  const nlohmann::json body = {{"advertiser_id", kAdvertiser},
                               {"campaign_id", campaign_id},
                               {"adgroup_name", name},
                               {"placement_type", "PLACEMENT_TYPE_NORMAL"},
                               {"placements", {"PLACEMENT_TIKTOK"}},
                               {"budget_mode", "BUDGET_MODE_DAY"},
                               {"budget", 0},
                               {"schedule_type", "SCHEDULE_FROM_NOW"},
                               {"schedule_start_time", "2026-01-02 03:04:05"},
                               {"optimization_goal", "REACH"},
                               {"billing_event", "CPM"},
                               {"bid_type", "BID_TYPE_NO_BID"}};
  return absl::StrReplaceAll(body.dump(), {{"\"budget\":0", "\"budget\":" + budget}});
}

std::string AdsTimeOf(absl::Time time) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", time, absl::UTCTimeZone());
}

nlohmann::json Creative(const std::string& item, const std::string& name = "Ad") {
  return {{"ad_name", name},
          {"identity_type", "TT_USER"},
          {"identity_id", "sandbox-open-id"},
          {"ad_format", "SINGLE_VIDEO"},
          {"tiktok_item_id", item}};
}

// A vector, not a json: {Creative(...)} as a json would be the one creative itself.
nlohmann::json AdBody(const std::string& adgroup_id, const std::vector<nlohmann::json>& creatives) {
  return {{"advertiser_id", kAdvertiser}, {"adgroup_id", adgroup_id}, {"creatives", creatives}};
}

class TikTokAdsApiTest : public ::testing::Test {
 protected:
  explicit TikTokAdsApiTest(Options options = TestOptions()) : sandbox_(std::move(options)) {}

  // A TikTok post made straight in the store (its public id shows 2 s later on the fake clock).
  void AddPost(const std::string& key, const std::string& privacy = "PUBLIC_TO_EVERYONE") {
    const std::string file = cf::testing::TestTempPath("ads-" + key + ".mp4");
    ASSERT_TRUE(WriteFileAtomically(file, "video " + key).ok());
    Env& env = sandbox_.env();
    auto lock = env.store->Lock();
    absl::StatusOr<Post*> post = CreatePost(env, env.store->state(), "tiktok", key, file);
    ASSERT_TRUE(post.ok()) << post.status();
    (*post)->privacy = privacy;
    (*post)->probed = true;
    ASSERT_TRUE(env.store->Save().ok());
  }
  // A public post whose id the client has seen.
  void AddPublicPost(const std::string& key) {
    AddPost(key);
    sandbox_.Advance(absl::Seconds(3));
  }

  std::string Campaign(const std::string& name = "Spark") {
    return Data(Ads(sandbox_, "/campaign/create/", CampaignBody(name))).value("campaign_id", "");
  }
  std::string AdGroup(const std::string& campaign_id, const std::string& budget,
                      const std::string& name = "Group") {
    return Data(PostRaw(sandbox_, "/adgroup/create/", AdGroupBody(campaign_id, budget, name)))
        .value("adgroup_id", "");
  }
  nlohmann::json Ad(const std::string& adgroup_id, const std::vector<nlohmann::json>& creatives) {
    return Data(Ads(sandbox_, "/ad/create/", AdBody(adgroup_id, creatives)))["ad_ids"];
  }
  http::Response SetStatus(const std::vector<std::string>& ids, const std::string& status) {
    return Ads(
        sandbox_, "/adgroup/status/update/",
        {{"advertiser_id", kAdvertiser}, {"adgroup_ids", ids}, {"operation_status", status}});
  }

  std::string Spend(const std::string& key) {
    http::Response report =
        sandbox_.Call("GET", "/affiliate/v1/report?platform=tiktok&post_id=" + key);
    EXPECT_EQ(report.status, 200) << report.body;
    return JsonOf(report).value("spend", "");
  }
  nlohmann::json PostJson(const std::string& key) {
    const nlohmann::json posts =
        JsonOf(sandbox_.Call("GET", "/_sandbox/posts?platform=tiktok"))["posts"];
    for (const nlohmann::json& post : posts) {
      if (post["key"] == key) return post;
    }
    ADD_FAILURE() << "no post " << key;
    return nlohmann::json::object();
  }
  int64_t Views(const std::string& key) {
    http::Response response = sandbox_.Call(
        "POST", "/tiktok/v2/video/query/?fields=id,view_count",
        nlohmann::json{{"filters", {{"video_ids", {key}}}}}.dump(),
        {{"Authorization", "Bearer sandbox-access"}, {"Content-Type", "application/json"}});
    const nlohmann::json videos = JsonOf(response)["data"]["videos"];
    return videos.size() == 1 ? videos[0].value("view_count", int64_t{-1}) : -1;
  }
  // The post's views without its promotion, now.
  int64_t OrganicViews(const std::string& key) {
    Env& env = sandbox_.env();
    auto lock = env.store->Lock();
    const Post* post = env.store->state().FindPost("tiktok", key);
    return FiguresAt("tiktok", key, absl::FromUnixMillis(post->created_ms), env.Now(),
                     env.audience())
        .views;
  }

  TestSandbox sandbox_;
};

TEST_F(TikTokAdsApiTest, TheAccessTokenHeaderTakesTikTokTokens) {
  auto create = [&](const std::string& token) {
    return Ads(sandbox_, "/campaign/create/", CampaignBody(), token);
  };
  // Errors keep HTTP 200 and set code.
  EXPECT_EQ(Code(create("")), 40105);
  EXPECT_EQ(Code(create("nope")), 40105);
  http::Response bearer = sandbox_.Call("POST", kAds + "/campaign/create/", CampaignBody().dump(),
                                        {{"Authorization", "Bearer sandbox-access"}});
  EXPECT_EQ(Code(bearer), 40105);
  const nlohmann::json refused = JsonOf(create("nope"));
  EXPECT_FALSE(refused.value("request_id", "").empty());
  EXPECT_TRUE(refused["data"].is_object());
  EXPECT_FALSE(Data(create("sandbox-access")).value("campaign_id", "").empty());

  // A renewed Content Posting token works too, until TikTok's tokens are expired.
  const std::string renewed = JsonOf(sandbox_.Form("/tiktok/v2/oauth/token/",
                                                   {{"client_key", "sandbox-client"},
                                                    {"client_secret", "sandbox-secret"},
                                                    {"grant_type", "refresh_token"},
                                                    {"refresh_token", "sandbox-refresh"}},
                                                   ""))
                                  .value("access_token", "");
  ASSERT_EQ(renewed, "sbx-tiktok-1");
  EXPECT_EQ(Code(create(renewed)), 0);
  ASSERT_EQ(sandbox_.Call("POST", "/_sandbox/tokens/expire?platform=tiktok_ads").status, 200);
  EXPECT_EQ(Code(create(renewed)), 40105);
  EXPECT_EQ(Code(create("sandbox-access")), 40105);
  // The token is checked first, whatever the body.
  EXPECT_EQ(Code(PostRaw(sandbox_, "/campaign/create/", "{oops", "nope")), 40105);
}

TEST_F(TikTokAdsApiTest, TheAdvertiserMustBeTheSandboxOne) {
  nlohmann::json body = CampaignBody();
  body["advertiser_id"] = "7000000000000000002";
  http::Response other = Ads(sandbox_, "/campaign/create/", body);
  EXPECT_EQ(Code(other), 40001);
  EXPECT_TRUE(absl::StrContains(Message(other), "7000000000000000002"));
  body.erase("advertiser_id");
  EXPECT_EQ(Code(Ads(sandbox_, "/campaign/create/", body)), 40002);
  body["advertiser_id"] = 7000000000000000001;  // a number is the same id
  EXPECT_EQ(Code(Ads(sandbox_, "/campaign/create/", body)), 0);
  EXPECT_EQ(Code(Get(sandbox_, "advertiser_id=1")), 40001);
}

TEST_F(TikTokAdsApiTest, CampaignCreateChecksItsFields) {
  auto refused = [&](const nlohmann::json& body, const std::string& named) {
    http::Response response = Ads(sandbox_, "/campaign/create/", body);
    EXPECT_EQ(Code(response), 40002) << body;
    EXPECT_TRUE(absl::StrContains(Message(response), named)) << Message(response);
  };
  EXPECT_EQ(Code(PostRaw(sandbox_, "/campaign/create/", "{oops")), 40002);
  nlohmann::json body = CampaignBody();
  body.erase("campaign_name");
  refused(body, "campaign_name");
  body = CampaignBody("");
  refused(body, "campaign_name");
  refused(CampaignBody(std::string(513, 'c')), "campaign_name");
  body = CampaignBody();
  body["objective_type"] = "TRAFFIC";
  refused(body, "objective_type");
  body = CampaignBody();
  body["budget_mode"] = "BUDGET_MODE_DAY";
  refused(body, "budget_mode");
  const std::string first = Campaign();
  const std::string second = Campaign();
  EXPECT_EQ(first.size(), 16u);
  EXPECT_NE(first, second);
}

TEST_F(TikTokAdsApiTest, TheDailyBudgetIsCheckedExactly) {
  const std::string campaign = Campaign();
  auto create = [&](const std::string& budget) {
    return PostRaw(sandbox_, "/adgroup/create/", AdGroupBody(campaign, budget));
  };
  http::Response under = create("19.99");
  EXPECT_EQ(Code(under), 40002);
  EXPECT_EQ(Message(under), "budget must be at least 20.00 per day");
  // A double would round this to 20.0; the text says it is under 20.
  EXPECT_EQ(Message(create("19.999999999999999")), "budget must have two decimals at most");
  EXPECT_EQ(Message(create("20.001")), "budget must have two decimals at most");
  EXPECT_EQ(Message(create("-25")), "budget must be at least 20.00 per day");
  EXPECT_EQ(Message(create("0")), "budget must be at least 20.00 per day");
  EXPECT_EQ(Message(create("\"25.00\"")), "budget must be a number such as 25.00");
  EXPECT_EQ(Code(create("1e300")), 40002);

  std::vector<std::string> made;
  for (const char* budget : {"20", "20.00", "2.5e1", "25.010", "100.5"}) {
    http::Response response = create(budget);
    EXPECT_EQ(Code(response), 0) << budget << ": " << response.body;
    made.push_back(JsonOf(response)["data"].value("adgroup_id", ""));
  }
  nlohmann::json list =
      Data(Get(sandbox_, "advertiser_id=" + kAdvertiser + "&page_size=10"))["list"];
  ASSERT_EQ(list.size(), 5u);
  std::vector<std::string> budgets;
  for (const nlohmann::json& group : list) budgets.push_back(group["budget"].dump());
  EXPECT_EQ(budgets, (std::vector<std::string>{"20.0", "20.0", "25.0", "25.01", "100.5"}));
  EXPECT_EQ(list[0]["adgroup_id"], made[0]);
  EXPECT_EQ(list[0]["campaign_id"], campaign);
  EXPECT_EQ(list[0]["operation_status"], "ENABLE");
}

TEST_F(TikTokAdsApiTest, AdGroupCreateChecksItsFields) {
  const std::string campaign = Campaign();
  auto refused = [&](const std::string& field, const nlohmann::json& value) {
    nlohmann::json body = nlohmann::json::parse(AdGroupBody(campaign, "25.00"));
    if (value.is_null()) {
      body.erase(field);
    } else {
      body[field] = value;
    }
    http::Response response = Ads(sandbox_, "/adgroup/create/", body);
    EXPECT_EQ(Code(response), 40002) << field;
    EXPECT_TRUE(absl::StrContains(Message(response), field)) << Message(response);
  };
  refused("campaign_id", "1800000000000999");
  refused("campaign_id", nullptr);
  refused("adgroup_name", nullptr);
  refused("placement_type", "PLACEMENT_TYPE_AUTOMATIC");
  refused("placements", nlohmann::json::array({"PLACEMENT_PANGLE"}));
  refused("budget_mode", "BUDGET_MODE_TOTAL");
  refused("budget", nullptr);
  refused("schedule_type", "SCHEDULE_DAILY");
  refused("schedule_start_time", "2026-01-02T03:04:05Z");
  refused("schedule_start_time", "2026-13-02 03:04:05");
  refused("optimization_goal", "CLICK");
  refused("billing_event", "CPC");
  refused("bid_type", "BID_TYPE_CUSTOM");
  EXPECT_EQ(Data(Get(sandbox_, "advertiser_id=" + kAdvertiser))["list"].size(), 0u);
}

TEST(ExactCentsTest, ReadsDecimalTextWithoutFloatingPoint) {
  EXPECT_EQ(*ExactCents("25"), 2500);
  EXPECT_EQ(*ExactCents("25.0"), 2500);
  EXPECT_EQ(*ExactCents("19.99"), 1999);
  EXPECT_EQ(*ExactCents("0.07"), 7);
  EXPECT_EQ(*ExactCents("2.5e1"), 2500);
  EXPECT_EQ(*ExactCents("2501E-2"), 2501);
  EXPECT_EQ(*ExactCents("100e-3"), 10);
  EXPECT_EQ(*ExactCents("1.2345e3"), 123450);
  EXPECT_EQ(*ExactCents("20.000"), 2000);
  EXPECT_EQ(*ExactCents("0"), 0);
  EXPECT_EQ(*ExactCents("-0.0"), 0);
  EXPECT_FALSE(ExactCents("0.001").ok());
  EXPECT_FALSE(ExactCents("19.999").ok());
  EXPECT_EQ(*ExactCents("2.5e-1"), 25);
  EXPECT_FALSE(ExactCents("2.55e-1").ok());
  EXPECT_FALSE(ExactCents("-1").ok());
  EXPECT_FALSE(ExactCents("1e20").ok());
  EXPECT_FALSE(ExactCents("12345678901234567890").ok());
  EXPECT_FALSE(ExactCents("").ok());
  EXPECT_FALSE(ExactCents("1.").ok());
  EXPECT_FALSE(ExactCents(".5").ok());
  EXPECT_FALSE(ExactCents("1e").ok());
  EXPECT_FALSE(ExactCents("25 ").ok());

  EXPECT_EQ(RawNumberMember(R"({"budget": 19.990, "x": 1})", "budget"), "19.990");
  EXPECT_EQ(RawNumberMember(R"({"budget": 25})", "budget"), "25");
  EXPECT_EQ(RawNumberMember(R"({"a": {"budget": 1}, "budget": 2.50e1})", "budget"), "2.50e1");
  EXPECT_EQ(RawNumberMember(R"({"a": {"budget": 1}})", "budget"), std::nullopt);
  EXPECT_EQ(RawNumberMember(R"({"budget": "25"})", "budget"), std::nullopt);
  EXPECT_EQ(RawNumberMember(R"([{"budget": 25}])", "budget"), std::nullopt);
  EXPECT_EQ(RawNumberMember(R"({"budget": 25)", "budget"), std::nullopt);
}

TEST_F(TikTokAdsApiTest, AnAdPromotesAPublicPostAtItsAdGroupsBudget) {
  const std::string key = "7300000000000000101";
  AddPost(key);
  AddPost("7300000000000000102", "SELF_ONLY");
  const std::string campaign = Campaign();
  const std::string group = AdGroup(campaign, "25.00");
  // Not public yet (the client has not seen its id), private, unknown: refused, nothing made.
  for (const std::string& item :
       {key, std::string("7300000000000000102"), std::string("7300000000000009999")}) {
    http::Response refused = Ads(sandbox_, "/ad/create/", AdBody(group, {Creative(item)}));
    EXPECT_EQ(Code(refused), 40002);
    EXPECT_EQ(Message(refused),
              absl::StrCat("creatives[0].tiktok_item_id ", item, " is not a public TikTok post"));
  }
  sandbox_.Advance(absl::Seconds(3));
  nlohmann::json bad = Creative(key);
  bad["identity_type"] = "BC_AUTH_TT";
  EXPECT_EQ(Code(Ads(sandbox_, "/ad/create/", AdBody(group, {bad}))), 40002);
  bad = Creative(key);
  bad.erase("ad_name");
  EXPECT_EQ(Code(Ads(sandbox_, "/ad/create/", AdBody(group, {bad}))), 40002);
  EXPECT_EQ(Code(Ads(sandbox_, "/ad/create/", AdBody(group, {}))), 40002);
  EXPECT_EQ(Code(Ads(sandbox_, "/ad/create/", AdBody("1800000000000999", {Creative(key)}))), 40002);
  EXPECT_FALSE(PostJson(key)["promoted"]);
  EXPECT_EQ(Spend(key), "0.00");

  // A number is accepted for the item id as for any id.
  nlohmann::json numeric = Creative(key);
  numeric["tiktok_item_id"] = 7300000000000000101;
  const nlohmann::json ad_ids = Ad(group, {numeric});
  ASSERT_EQ(ad_ids.size(), 1u);
  EXPECT_EQ(ad_ids[0].get<std::string>().size(), 16u);
  nlohmann::json post = PostJson(key);
  EXPECT_TRUE(post["promoted"]);
  EXPECT_EQ(post["promotion_daily_budget"], "25.00");
  EXPECT_EQ(post["promotion_ended_at"], "");

  // Half a day: half the budget, bought as paid views at the $10 CPM.
  sandbox_.Advance(absl::Hours(12));
  EXPECT_EQ(Spend(key), "12.50");
  EXPECT_EQ(Views(key), OrganicViews(key) + 1250);

  // DISABLE ends the promotion: the spend stops growing.
  http::Response disabled = SetStatus({group}, "DISABLE");
  EXPECT_EQ(Data(disabled)["adgroup_ids"], nlohmann::json::array({group}));
  post = PostJson(key);
  EXPECT_FALSE(post["promoted"]);
  EXPECT_NE(post["promotion_ended_at"], "");
  sandbox_.Advance(absl::Hours(24));
  EXPECT_EQ(Spend(key), "12.50");
  EXPECT_EQ(Views(key), OrganicViews(key) + 1250);
  EXPECT_EQ(Data(Get(sandbox_, "advertiser_id=" + kAdvertiser))["list"][0]["operation_status"],
            "DISABLE");
  EXPECT_EQ(Code(SetStatus({group}, "DISABLE")), 0);  // again: no change

  // ENABLE resumes it from now; what was spent stays.
  EXPECT_EQ(Code(SetStatus({group}, "ENABLE")), 0);
  EXPECT_TRUE(PostJson(key)["promoted"]);
  sandbox_.Advance(absl::Hours(6));
  EXPECT_EQ(Spend(key), "18.75");
  EXPECT_EQ(Views(key), OrganicViews(key) + 1875);

  // Bad status updates change nothing.
  EXPECT_EQ(Code(SetStatus({group, "1800000000000999"}, "DISABLE")), 40002);
  EXPECT_EQ(Code(SetStatus({group}, "DELETE")), 40002);
  EXPECT_EQ(Code(SetStatus({}, "DISABLE")), 40002);
  EXPECT_TRUE(PostJson(key)["promoted"]);

  // The feed says so.
  const std::string feed = sandbox_.Call("GET", "/").body;
  EXPECT_TRUE(absl::StrContains(feed, "promoted: 25.00 USD a day")) << feed;
}

// An ad group with an end (SCHEDULE_START_END) stops spending by itself at that end.
TEST_F(TikTokAdsApiTest, AnAdGroupsScheduledEndStopsItsSpend) {
  const std::string key = "7300000000000000111";
  AddPublicPost(key);
  const std::string campaign = Campaign();
  const std::string start = AdsTimeOf(sandbox_.env().Now());
  const std::string end = AdsTimeOf(sandbox_.env().Now() + absl::Hours(36));
  nlohmann::json body = nlohmann::json::parse(AdGroupBody(campaign, "20.00"));
  body["schedule_type"] = "SCHEDULE_START_END";
  body["schedule_start_time"] = start;
  // Refused: no end, an end before the start, an end with SCHEDULE_FROM_NOW.
  EXPECT_EQ(Code(Ads(sandbox_, "/adgroup/create/", body)), 40002);
  body["schedule_end_time"] = start;
  EXPECT_EQ(Code(Ads(sandbox_, "/adgroup/create/", body)), 40002);
  nlohmann::json from_now = nlohmann::json::parse(AdGroupBody(campaign, "20.00"));
  from_now["schedule_end_time"] = end;
  EXPECT_EQ(Code(Ads(sandbox_, "/adgroup/create/", from_now)), 40002);
  body["schedule_end_time"] = end;
  const std::string group = Data(Ads(sandbox_, "/adgroup/create/", body)).value("adgroup_id", "");
  ASSERT_FALSE(group.empty());
  Ad(group, {Creative(key)});
  sandbox_.Advance(absl::Hours(24));
  EXPECT_EQ(Spend(key), "20.00");
  // Past its end: a day and a half of budget (less a cent: the end is to the whole second), no
  // more however long it is left.
  sandbox_.Advance(absl::Hours(13));
  const std::string at_end = Spend(key);
  EXPECT_TRUE(at_end == "30.00" || at_end == "29.99") << at_end;
  sandbox_.Advance(absl::Hours(48));
  EXPECT_EQ(Spend(key), at_end);
  const nlohmann::json listed = Data(Get(sandbox_, "advertiser_id=" + kAdvertiser))["list"][0];
  EXPECT_EQ(listed["schedule_type"], "SCHEDULE_START_END");
  EXPECT_EQ(listed["schedule_end_time"], end);
}

TEST_F(TikTokAdsApiTest, AnAdGroupsBudgetIsSharedByItsPosts) {
  const std::string a = "7300000000000000201";
  const std::string b = "7300000000000000202";
  AddPost(a);
  AddPublicPost(b);
  const std::string campaign = Campaign();
  const std::string shared = AdGroup(campaign, "25.01");
  // Both creatives are checked before either ad is made.
  EXPECT_EQ(Code(Ads(sandbox_, "/ad/create/",
                     AdBody(shared, {Creative(a), Creative("7300000000000009999")}))),
            40002);
  EXPECT_FALSE(PostJson(a)["promoted"]);
  EXPECT_EQ(Ad(shared, {Creative(a, "A"), Creative(b, "B")}).size(), 2u);
  EXPECT_EQ(PostJson(a)["promotion_daily_budget"], "12.51");
  EXPECT_EQ(PostJson(b)["promotion_daily_budget"], "12.50");
  // A second ad group for one post adds its budget.
  const std::string own = AdGroup(campaign, "20.00");
  Ad(own, {Creative(a, "A again")});
  EXPECT_EQ(PostJson(a)["promotion_daily_budget"], "32.51");
  sandbox_.Advance(absl::Hours(24));
  EXPECT_EQ(Spend(a), "32.51");
  EXPECT_EQ(Spend(b), "12.50");
  // Disabling the shared group leaves the other.
  EXPECT_EQ(Code(SetStatus({shared}, "DISABLE")), 0);
  EXPECT_EQ(PostJson(a)["promotion_daily_budget"], "20.00");
  EXPECT_FALSE(PostJson(b)["promoted"]);
  sandbox_.Advance(absl::Hours(24));
  EXPECT_EQ(Spend(a), "52.51");
  EXPECT_EQ(Spend(b), "12.50");
}

TEST_F(TikTokAdsApiTest, AdGroupGetFindsWhatWasMade) {
  const std::string first = Campaign("First");
  const std::string second = Campaign("Second");
  const std::string g1 = AdGroup(first, "20.00", "One");
  const std::string g2 = AdGroup(first, "21.00", "Two");
  const std::string g3 = AdGroup(second, "22.00", "Three");
  auto get = [&](const std::string& query) {
    return Data(Get(sandbox_, "advertiser_id=" + kAdvertiser + query));
  };
  nlohmann::json data = get("&filtering=%7B%22adgroup_ids%22%3A%5B%22" + g2 + "%22%5D%7D");
  ASSERT_EQ(data["list"].size(), 1u);
  EXPECT_EQ(data["list"][0]["adgroup_id"], g2);
  EXPECT_EQ(data["list"][0]["campaign_id"], first);
  EXPECT_EQ(data["list"][0]["adgroup_name"], "Two");
  EXPECT_EQ(data["list"][0]["budget"], 21.0);
  EXPECT_EQ(data["page_info"]["total_number"], 1);
  // Without a filter: every ad group (a client that lost an answer finds it by its name).
  data = get("");
  EXPECT_EQ(data["list"].size(), 3u);
  EXPECT_EQ(data["page_info"]["total_number"], 3);
  EXPECT_EQ(data["page_info"]["page_size"], 10);
  data = get("&page=2&page_size=2");
  ASSERT_EQ(data["list"].size(), 1u);
  EXPECT_EQ(data["list"][0]["adgroup_id"], g3);
  EXPECT_EQ(data["page_info"]["total_page"], 2);
  data = get("&filtering=%7B%22campaign_ids%22%3A%5B%22" + first + "%22%5D%7D");
  ASSERT_EQ(data["list"].size(), 2u);
  EXPECT_EQ(data["list"][0]["adgroup_id"], g1);
  EXPECT_TRUE(get("&filtering=%7B%22adgroup_ids%22%3A%5B%221%22%5D%7D")["list"].empty());
  EXPECT_EQ(Code(Get(sandbox_, "advertiser_id=" + kAdvertiser + "&filtering=nope")), 40002);
  EXPECT_EQ(Code(Get(sandbox_, "advertiser_id=" + kAdvertiser + "&page_size=0")), 40002);
  EXPECT_EQ(Code(Get(sandbox_, "")), 40002);
  EXPECT_EQ(Code(Get(sandbox_, "advertiser_id=" + kAdvertiser, "nope")), 40105);
}

TEST_F(TikTokAdsApiTest, ARestartKeepsCampaignsAdGroupsAdsAndThePromotion) {
  const std::string key = "7300000000000000301";
  AddPublicPost(key);
  const std::string group = AdGroup(Campaign(), "30.00");
  Ad(group, {Creative(key)});
  sandbox_.Advance(absl::Hours(12));
  sandbox_.Restart();
  EXPECT_EQ(Spend(key), "15.00");
  nlohmann::json list = Data(Get(sandbox_, "advertiser_id=" + kAdvertiser))["list"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["adgroup_id"], group);
  EXPECT_EQ(list[0]["budget"], 30.0);
  EXPECT_EQ(Code(SetStatus({group}, "DISABLE")), 0);
  sandbox_.Restart();
  sandbox_.Advance(absl::Hours(12));
  EXPECT_EQ(Spend(key), "15.00");
  EXPECT_EQ(Data(Get(sandbox_, "advertiser_id=" + kAdvertiser))["list"][0]["operation_status"],
            "DISABLE");
  // New ids do not collide with the ones made before the restart.
  EXPECT_NE(AdGroup(list[0]["campaign_id"].get<std::string>(), "20.00"), group);
}

TEST_F(TikTokAdsApiTest, FaultsAnswerWithTheMarketingApisBodies) {
  const std::string key = "7300000000000000401";
  AddPublicPost(key);
  auto fault = [&](const std::string& operation, const std::string& kind) {
    http::Response added = sandbox_.Call("POST", "/_sandbox/faults",
                                         nlohmann::json{{"faults",
                                                         {{{"platform", "tiktok_ads"},
                                                           {"operation", operation},
                                                           {"kind", kind},
                                                           {"delay_ms", 2000}}}}}
                                             .dump());
    ASSERT_EQ(added.status, 200) << added.body;
  };
  EXPECT_EQ(sandbox_
                .Call("POST", "/_sandbox/faults",
                      R"({"faults": [{"platform": "tiktok_ads", "operation": "init"}]})")
                .status,
            400);

  fault("campaign", "error_500");
  http::Response error_500 = Ads(sandbox_, "/campaign/create/", CampaignBody());
  EXPECT_EQ(error_500.status, 500);
  EXPECT_EQ(JsonOf(error_500)["code"], 50000);
  fault("campaign", "error_503");
  http::Response error_503 = Ads(sandbox_, "/campaign/create/", CampaignBody());
  EXPECT_EQ(error_503.status, 503);
  EXPECT_EQ(JsonOf(error_503)["code"], 50000);
  EXPECT_EQ(error_503.headers["retry-after"], "2");
  fault("adgroup", "rate_limit");
  http::Response limited = PostRaw(sandbox_, "/adgroup/create/", AdGroupBody("1", "25"));
  EXPECT_EQ(Code(limited), 40100);
  EXPECT_EQ(limited.headers["retry-after"], "2");
  fault("get", "token_expired");
  EXPECT_EQ(Code(Get(sandbox_, "advertiser_id=" + kAdvertiser)), 40105);
  // Nothing was done by any of them.
  EXPECT_TRUE(Data(Get(sandbox_, "advertiser_id=" + kAdvertiser))["list"].empty());

  // lost_answer: the ad is made (the post promoted), the client sees a 502.
  const std::string group = AdGroup(Campaign(), "25.00", "Lost");
  fault("ad", "lost_answer");
  http::Response lost = Ads(sandbox_, "/ad/create/", AdBody(group, {Creative(key)}));
  EXPECT_EQ(lost.status, 502);
  EXPECT_TRUE(lost.body.empty());
  EXPECT_TRUE(PostJson(key)["promoted"]);
  nlohmann::json list = Data(Get(sandbox_, "advertiser_id=" + kAdvertiser))["list"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["adgroup_name"], "Lost");
  fault("status", "lost_answer");
  EXPECT_EQ(SetStatus({group}, "DISABLE").status, 502);
  EXPECT_FALSE(PostJson(key)["promoted"]);
}

class TikTokAdsRateTest : public TikTokAdsApiTest {
 protected:
  static Options Limited() {
    Options options = TestOptions();
    options.rate_scale = 1;
    return options;
  }
  TikTokAdsRateTest() : TikTokAdsApiTest(Limited()) {}
};

TEST_F(TikTokAdsRateTest, TenCallsASecondPerAdvertiser) {
  const std::string query = "advertiser_id=" + kAdvertiser;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Code(Get(sandbox_, query)), 0) << i;
  http::Response limited = Ads(sandbox_, "/campaign/create/", CampaignBody());
  EXPECT_EQ(Code(limited), 40100);
  EXPECT_EQ(limited.headers["retry-after"], "1");
  // A bad token or another advertiser is refused before it counts.
  EXPECT_EQ(Code(Get(sandbox_, query, "nope")), 40105);
  EXPECT_EQ(Code(Get(sandbox_, "advertiser_id=1")), 40001);
  sandbox_.Advance(absl::Seconds(1));
  EXPECT_EQ(Code(Ads(sandbox_, "/campaign/create/", CampaignBody())), 0);
}

}  // namespace
}  // namespace cf::sandbox
