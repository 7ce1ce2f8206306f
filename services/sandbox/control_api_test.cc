#include "services/sandbox/control_api.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "common/testing/subprocess.h"
#include "services/sandbox/audience.h"
#include "services/sandbox/sandbox_testing.h"
#include "services/sandbox/videos.h"

namespace cf::sandbox {
namespace {

using testing::JsonOf;
using testing::TestSandbox;

class ControlApiTest : public ::testing::Test {
 protected:
  // A post made straight in the store, with a copy of `video` as its file.
  std::string AddPost(const std::string& platform, const std::string& key,
                      const std::string& caption, const std::string& video) {
    const std::string copy = cf::testing::TestTempPath("copy-" + key + ".mp4");
    EXPECT_TRUE(WriteFileAtomically(copy, testing::ReadFile(video)).ok());
    Env& env = sandbox_.env();
    auto lock = env.store->Lock();
    absl::StatusOr<Post*> post = CreatePost(env, env.store->state(), platform, key, copy);
    EXPECT_TRUE(post.ok()) << post.status();
    (*post)->caption = caption;
    (*post)->privacy = "PUBLIC_TO_EVERYONE";
    (*post)->flags = {{"is_aigc", true}, {"brand_content_toggle", false}};
    (*post)->probed = true;
    EXPECT_TRUE(env.store->Save().ok());
    return key;
  }

  TestSandbox sandbox_;
};

TEST_F(ControlApiTest, StatsCountPostsAndDuplicates) {
  const std::string a = testing::MakeVideo("a.mp4", 1);
  const std::string b = testing::MakeVideo("b.mp4", 2);
  AddPost("tiktok", "1", "same", a);
  AddPost("tiktok", "2", "same", a);     // duplicate
  AddPost("tiktok", "3", "other", a);    // another caption
  AddPost("tiktok", "4", "same", b);     // another video
  AddPost("instagram", "5", "same", a);  // another platform
  AddPost("tiktok", "6", "same", a);     // duplicate again
  nlohmann::json stats = JsonOf(sandbox_.Call("GET", "/_sandbox/stats"));
  EXPECT_EQ(stats["posts"]["tiktok"], 5);
  EXPECT_EQ(stats["posts"]["instagram"], 1);
  EXPECT_EQ(stats["posts"]["facebook"], 0);
  EXPECT_EQ(stats["posts"]["youtube"], 0);
  EXPECT_EQ(stats["duplicates"], 2);
  EXPECT_EQ(stats["duplicate_keys"], nlohmann::json::array({"tiktok/2", "tiktok/6"}));

  nlohmann::json posts =
      JsonOf(sandbox_.Call("GET", "/_sandbox/posts?platform=instagram"))["posts"];
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0]["key"], "5");
  EXPECT_EQ(posts[0]["post_id"], "5");
  EXPECT_EQ(posts[0]["video_sha256"], Sha256Hex(testing::ReadFile(a)));
  EXPECT_EQ(posts[0]["status"], "PUBLISHED");
  EXPECT_EQ(JsonOf(sandbox_.Call("GET", "/_sandbox/posts"))["posts"].size(), 6u);
}

TEST_F(ControlApiTest, TheFeedShowsPostsNewestFirstWithPlayableVideos) {
  const std::string video = testing::MakeVideo("feed.mp4");
  AddPost("youtube", "old", "first post", video);
  AddPost("youtube", "new", "<script>alert('x')</script> & more", video);
  sandbox_.Advance(absl::Seconds(5));  // processed
  http::Response page = sandbox_.Call("GET", "/");
  ASSERT_EQ(page.status, 200);
  EXPECT_TRUE(absl::StartsWith(page.headers["content-type"], "text/html"));
  const std::string& html = page.body;
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more"),
            std::string::npos);
  const size_t newer = html.find("/_sandbox/videos/youtube/new.mp4");
  const size_t older = html.find("/_sandbox/videos/youtube/old.mp4");
  ASSERT_NE(newer, std::string::npos);
  ASSERT_NE(older, std::string::npos);
  EXPECT_LT(newer, older);
  EXPECT_NE(html.find("<video controls"), std::string::npos);
  EXPECT_NE(html.find("is_aigc"), std::string::npos);
  // Each video shows its picture before it is played, and each post its figures and its state
  // in plain words (not the API's "processed").
  EXPECT_NE(html.find("poster=\"/_sandbox/posters/youtube/new.jpg\""), std::string::npos) << html;
  EXPECT_NE(html.find(" views &middot; "), std::string::npos) << html;
  EXPECT_NE(html.find(" clicks</p>"), std::string::npos) << html;
  EXPECT_NE(html.find(">live &middot; id new"), std::string::npos) << html;
  EXPECT_EQ(html.find("processed"), std::string::npos) << html;
  http::Response poster = sandbox_.Call("GET", "/_sandbox/posters/youtube/new.jpg");
  EXPECT_EQ(poster.status, 200);
  EXPECT_EQ(poster.headers["content-type"], "image/jpeg");
  EXPECT_EQ(poster.body.substr(0, 2), std::string("\xff\xd8"));  // a JPEG
  EXPECT_EQ(sandbox_.Call("GET", "/_sandbox/posters/youtube/none.jpg").status, 404);

  http::Response served = sandbox_.Call("GET", "/_sandbox/videos/youtube/new.mp4");
  EXPECT_EQ(served.status, 200);
  EXPECT_EQ(served.body, testing::ReadFile(video));
  http::Response range =
      sandbox_.Call("GET", "/_sandbox/videos/youtube/new.mp4", "", {{"Range", "bytes=0-99"}});
  EXPECT_EQ(range.status, 206);
  EXPECT_EQ(range.body, testing::ReadFile(video).substr(0, 100));
}

TEST_F(ControlApiTest, FaultRulesAreAddedListedAndCleared) {
  EXPECT_EQ(sandbox_.Call("POST", "/_sandbox/faults", "not json").status, 400);
  http::Response bad = sandbox_.Call("POST", "/_sandbox/faults",
                                     R"({"faults": [{"platform": "tiktok", "operation": "nope",
                                                     "kind": "error_500"}]})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(JsonOf(bad)["error"].get<std::string>().find("nope"), std::string::npos);
  http::Response added = sandbox_.Call(
      "POST", "/_sandbox/faults",
      R"({"faults": [{"platform": "youtube", "operation": "insert", "kind": "error_503",
                      "times": 2}], "seed": 3})");
  ASSERT_EQ(added.status, 200) << added.body;
  nlohmann::json listed = JsonOf(sandbox_.Call("GET", "/_sandbox/faults"));
  ASSERT_EQ(listed["faults"].size(), 1u);
  EXPECT_EQ(listed["faults"][0]["times"], 2);
  EXPECT_EQ(sandbox_.Call("DELETE", "/_sandbox/faults").status, 200);
  EXPECT_TRUE(JsonOf(sandbox_.Call("GET", "/_sandbox/faults"))["faults"].empty());
}

TEST_F(ControlApiTest, TokenControlsNameAPlatform) {
  EXPECT_EQ(sandbox_.Call("POST", "/_sandbox/tokens/expire?platform=myspace").status, 400);
  EXPECT_EQ(sandbox_.Call("POST", "/_sandbox/tokens/expire").status, 400);
  nlohmann::json expired =
      JsonOf(sandbox_.Call("POST", "/_sandbox/tokens/expire?platform=facebook"));
  EXPECT_EQ(expired["account"], "meta");
  EXPECT_EQ(expired["expired"], 1);
  EXPECT_EQ(TokenAccountOf("youtube"), "google");
  EXPECT_EQ(TokenAccountOf("tiktok"), "tiktok");
}

// A page on another site cannot drive the sandbox through someone's browser: a control call
// that changes it needs a header no cross-origin request carries without consent.
TEST_F(ControlApiTest, ChangesNeedTheControlHeader) {
  auto send = [&](const std::string& method, const std::string& path, const std::string& body,
                  std::vector<std::pair<std::string, std::string>> headers) {
    http::Request request;
    request.method = method;
    request.url = sandbox_.Url(path);
    request.body = body;
    request.headers = std::move(headers);
    return http::Send(request).value();
  };
  const std::string rule =
      R"({"faults": [{"platform": "tiktok", "operation": "init", "kind": "error_500"}]})";
  // What a cross-site form post looks like: a simple content type, an Origin, no header.
  const std::vector<std::pair<std::string, std::string>> browser = {
      {"Content-Type", "text/plain"}, {"Origin", "https://evil.example"}};
  EXPECT_EQ(send("POST", "/_sandbox/faults", rule, browser).status, 403);
  EXPECT_EQ(send("POST", "/_sandbox/tokens/expire?platform=tiktok", "", browser).status, 403);
  EXPECT_EQ(send("POST", "/_sandbox/tokens/revoke_refresh?platform=tiktok", "", browser).status,
            403);
  EXPECT_EQ(send("DELETE", "/_sandbox/faults", "", browser).status, 403);
  EXPECT_TRUE(JsonOf(sandbox_.Call("GET", "/_sandbox/faults"))["faults"].empty());
  EXPECT_EQ(send("POST", "/_sandbox/faults", rule,
                 {{"Content-Type", "application/json"}, {kControlHeader, "1"}})
                .status,
            200);
  EXPECT_EQ(JsonOf(sandbox_.Call("GET", "/_sandbox/faults"))["faults"].size(), 1u);
}

// An API call's body is kilobytes; only the routes that carry a video take more.
TEST_F(ControlApiTest, BodiesAreCappedPerRoute) {
  const std::string big(300 << 10, 'a');
  http::Response init = sandbox_.Call(
      "POST", "/tiktok/v2/post/publish/video/init/", big,
      {{"Authorization", "Bearer sandbox-access"}, {"Content-Type", "application/json"}});
  EXPECT_EQ(init.status, 413) << init.body;
  http::Response control =
      sandbox_.Call("POST", "/_sandbox/faults", big, {{"Content-Type", "application/json"}});
  EXPECT_EQ(control.status, 413) << control.body;
  // A video chunk of the same size reaches its handler (which answers for the unknown upload).
  http::Response chunk =
      sandbox_.Call("PUT", "/tiktok/upload/unknown", big,
                    {{"Content-Type", "video/mp4"}, {"Content-Range", "bytes 0-307199/307200"}});
  EXPECT_EQ(chunk.status, 404) << chunk.body;
}

// The hidden truth: with --truth_required a post reports nothing until the harness sets its
// true rates, and its audience starts then; its figures follow them from there. A truth is set
// once, with every rate checked.
TEST(TruthControlTest, APostFollowsTheTruthSetForIt) {
  Options options = testing::TestOptions();
  options.truth_required = true;
  options.truth_noise = 0;
  TestSandbox sandbox(options);
  const std::string video = testing::MakeVideo("truth.mp4");
  const std::string copy = cf::testing::TestTempPath("truth-copy.mp4");
  ASSERT_TRUE(WriteFileAtomically(copy, testing::ReadFile(video)).ok());
  Env& env = sandbox.env();
  {
    auto lock = env.store->Lock();
    absl::StatusOr<Post*> post = CreatePost(env, env.store->state(), "youtube", "truth-1", copy);
    ASSERT_TRUE(post.ok()) << post.status();
    (*post)->probed = true;
    ASSERT_TRUE(env.store->Save().ok());
  }
  auto figures = [&] {
    auto lock = env.store->Lock();
    return FiguresOf(env, *env.store->state().FindPost("youtube", "truth-1"));
  };
  sandbox.Advance(absl::Hours(48));
  EXPECT_EQ(figures().views, 0);  // no truth yet: nothing, however long it has been up

  nlohmann::json truth = {
      {"platform", "youtube"}, {"post_id", "truth-1"}, {"reach", 10000},
      {"like_rate", 0.05},     {"comment_rate", 0.01}, {"share_rate", 0.0},
      {"save_rate", 0.0},      {"click_rate", 0.03},   {"conversion_rate", 0.2}};
  nlohmann::json bad = truth;
  bad["click_rate"] = 1.5;
  EXPECT_EQ(sandbox.Call("POST", "/_sandbox/truth", bad.dump()).status, 400);
  bad = truth;
  bad.erase("reach");
  EXPECT_EQ(sandbox.Call("POST", "/_sandbox/truth", bad.dump()).status, 400);
  bad = truth;
  bad["post_id"] = "nobody";
  EXPECT_EQ(sandbox.Call("POST", "/_sandbox/truth", bad.dump()).status, 404);
  ASSERT_EQ(sandbox.Call("POST", "/_sandbox/truth", truth.dump()).status, 200);
  EXPECT_EQ(sandbox.Call("POST", "/_sandbox/truth", truth.dump()).status, 409);
  EXPECT_EQ(figures().views, 0);  // its audience starts now

  sandbox.Advance(absl::Hours(24 * 30));
  const Figures now = figures();
  EXPECT_NEAR(static_cast<double>(now.views), 10000, 2);
  EXPECT_NEAR(static_cast<double>(now.clicks), now.views * 0.03, 2);
  EXPECT_NEAR(static_cast<double>(now.likes), now.views * 0.05, 2);
  EXPECT_NEAR(static_cast<double>(now.conversions), now.views * 0.006, 2);
  // It survives a restart.
  sandbox.Restart();
  EXPECT_EQ(figures().clicks, now.clicks);
}

TEST_F(ControlApiTest, AffiliateReportCountsClicksAndPromotionSpend) {
  AddPost("tiktok", "7300000000000000009", "promo", testing::MakeVideo("aff.mp4"));
  EXPECT_EQ(sandbox_.Call("GET", "/affiliate/v1/report?platform=tiktok&post_id=1").status, 404);
  sandbox_.Advance(absl::Hours(24 * 10));
  nlohmann::json report = JsonOf(
      sandbox_.Call("GET", "/affiliate/v1/report?platform=tiktok&post_id=7300000000000000009"));
  EXPECT_EQ(report["platform"], "tiktok");
  EXPECT_EQ(report["spend"], "0.00");
  EXPECT_EQ(report["currency"], "USD");
  EXPECT_GE(report["clicks"].get<int64_t>(), report["conversions"].get<int64_t>());
  {
    Env& env = sandbox_.env();
    auto lock = env.store->Lock();
    Post* post = env.store->state().FindPost("tiktok", "7300000000000000009");
    post->promotion_daily_budget = "5.00";
    post->promotion_started_ms = absl::ToUnixMillis(sandbox_.Now());
  }
  sandbox_.Advance(absl::Hours(48));
  report = JsonOf(
      sandbox_.Call("GET", "/affiliate/v1/report?platform=tiktok&post_id=7300000000000000009"));
  EXPECT_EQ(report["spend"], "10.00");
}

TEST_F(ControlApiTest, PostsAndTheFeedShowThePromotion) {
  const std::string key =
      AddPost("tiktok", "7300000000000000011", "promo", testing::MakeVideo("p.mp4"));
  AddPost("tiktok", "7300000000000000012", "plain", testing::MakeVideo("q.mp4"));
  auto post_json = [&] {
    return JsonOf(sandbox_.Call("GET", "/_sandbox/posts?platform=tiktok"))["posts"][0];
  };
  EXPECT_FALSE(post_json()["promoted"]);
  EXPECT_EQ(post_json()["promotion_daily_budget"], "");
  std::string feed = sandbox_.Call("GET", "/").body;
  EXPECT_FALSE(absl::StrContains(feed, "promoted:"));
  EXPECT_FALSE(absl::StrContains(feed, "promotion ended"));
  {
    Env& env = sandbox_.env();
    auto lock = env.store->Lock();
    SetPromotionBudget(*env.store->state().FindPost("tiktok", key), 2500, env.NowMs(),
                       env.audience().day);
  }
  EXPECT_TRUE(post_json()["promoted"]);
  EXPECT_EQ(post_json()["promotion_daily_budget"], "25.00");
  EXPECT_NE(post_json()["promotion_started_at"], "");
  EXPECT_EQ(post_json()["promotion_ended_at"], "");
  feed = sandbox_.Call("GET", "/").body;
  EXPECT_TRUE(absl::StrContains(feed, "promoted: 25.00 USD a day since ")) << feed;
  EXPECT_EQ(feed.find("promoted:"), feed.rfind("promoted:"));  // the one post only
  {
    Env& env = sandbox_.env();
    auto lock = env.store->Lock();
    SetPromotionBudget(*env.store->state().FindPost("tiktok", key), 0, env.NowMs(),
                       env.audience().day);
  }
  EXPECT_FALSE(post_json()["promoted"]);
  EXPECT_NE(post_json()["promotion_ended_at"], "");
  feed = sandbox_.Call("GET", "/").body;
  EXPECT_FALSE(absl::StrContains(feed, "promoted:"));
  EXPECT_TRUE(absl::StrContains(feed, "promotion ended ")) << feed;
  EXPECT_TRUE(absl::StrContains(feed, "(was 25.00 USD a day)")) << feed;
  EXPECT_EQ(TokenAccountOf("tiktok_ads"), "tiktok");
}

TEST(PostStatusTest, TikTokIdsAppearAfterProcessingAndTheDelay) {
  TestSandbox sandbox;
  Post post;
  post.platform = "tiktok";
  post.key = "7300000000000000001";
  post.privacy = "PUBLIC_TO_EVERYONE";
  post.probed = true;
  post.created_ms = absl::ToUnixMillis(sandbox.Now());
  EXPECT_EQ(PostStatus(sandbox.env(), post), "PROCESSING_DOWNLOAD");
  EXPECT_EQ(VisiblePostId(sandbox.env(), post), "");
  sandbox.Advance(absl::Milliseconds(1500));
  EXPECT_EQ(PostStatus(sandbox.env(), post), "PUBLISH_COMPLETE");
  EXPECT_EQ(VisiblePostId(sandbox.env(), post), "");
  sandbox.Advance(absl::Milliseconds(600));
  EXPECT_EQ(VisiblePostId(sandbox.env(), post), post.key);
  post.privacy = "SELF_ONLY";
  EXPECT_EQ(VisiblePostId(sandbox.env(), post), "");
  post.fail_reason = "file_format_check_failed";
  EXPECT_EQ(PostStatus(sandbox.env(), post), "FAILED");
  EXPECT_EQ(HtmlEscape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
}

}  // namespace
}  // namespace cf::sandbox
