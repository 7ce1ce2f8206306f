// Each platform adapter against the sandbox (services/sandbox), which speaks the platforms'
// documented shapes and injects their failures: success, 429 with a retry hint, 5xx, a timeout,
// an expired token renewed once, a renewal refused, and the ambiguous failure (the post was
// made, the answer lost) after which the adapter finds the post instead of posting again.
#include <signal.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/http/http_client.h"
#include "common/status/status.h"
#include "common/testing/subprocess.h"
#include "gtest/gtest.h"
#include "services/publishing/meta.h"
#include "services/publishing/platform_api.h"
#include "services/publishing/tiktok.h"
#include "services/publishing/tiktok_ads.h"
#include "services/publishing/youtube.h"
#include "services/sandbox/sandbox_processes.h"

namespace cf::publishing {
namespace {

// The job runner's part, in memory: the handle survives between calls as the row keeps it.
class MemoryContext final : public PublishContext {
 public:
  bool RecordHandle(const std::string& handle) override {
    this->handle = handle;
    ++handles_recorded;
    return true;
  }
  void SetPhase(const std::string& phase) override { this->phase = phase; }
  void SetProgress(int) override {}
  const std::atomic<bool>* cancel() const override { return nullptr; }
  absl::StatusOr<std::set<std::string>> RecordedElsewhere(
      const std::vector<std::string>& post_ids) override {
    std::set<std::string> recorded;
    for (const std::string& id : post_ids) {
      if (recorded_elsewhere.count(id) > 0) recorded.insert(id);
    }
    return recorded;
  }
  bool lookup_only() const override { return lookup; }
  std::string handle;
  std::string phase;
  int handles_recorded = 0;
  std::set<std::string> recorded_elsewhere;  // posts other publishes recorded
  bool lookup = false;                       // ReconcilePublish's lookup
};

// Looks the post up by `handle`, as ReconcilePublish does, until the platform stops working on
// it: the post, or the lookup's error (NotPosted when no post came of the handle).
absl::StatusOr<PostResult> LookUp(PlatformApi& api, const PostRequest& post,
                                  const std::string& handle,
                                  std::set<std::string> recorded_elsewhere = {}) {
  MemoryContext lookup;
  lookup.lookup = true;
  lookup.recorded_elsewhere = std::move(recorded_elsewhere);
  absl::StatusOr<Advanced> step;
  const bool ended = testing::WaitUntil([&] {
    step = api.Advance(post, handle, lookup);
    return !step.ok() || step->done;
  });
  if (!ended) return absl::DeadlineExceededError("the platform still works on it after 30 s");
  if (!step.ok()) return step.status();
  return step->result;
}

// The sandbox's flags in these tests: quick processing, rate limits out of the way.
std::vector<std::string> SandboxFlags(std::vector<std::string> more = {}) {
  std::vector<std::string> flags = {"--processing_ms=200", "--post_id_delay_ms=100",
                                    "--rate_scale=1000"};
  flags.insert(flags.end(), more.begin(), more.end());
  return flags;
}

using sandbox::SandboxProcesses;

struct Case {
  std::string platform;
  std::string post_step;    // the operation that makes the post
  std::string token_owner;  // whose tokens ("tiktok", "meta", "youtube")
};

class PlatformsTest : public ::testing::TestWithParam<Case> {
 protected:
  // A sandbox of its own for each test: faults and token states never leak between tests.
  void SetUp() override {
    sandbox_ = std::make_unique<SandboxProcesses>("sandbox", SandboxFlags());
    ASSERT_TRUE(sandbox_->ready()) << "the sandbox did not start";
    api_ = MakeApi(/*timeout=*/absl::Seconds(5));
    post_ = MakePost();
  }

  std::unique_ptr<PlatformApi> MakeApi(absl::Duration timeout) {
    const std::string& url = sandbox_->url();
    const std::string platform = GetParam().platform;
    if (platform == "tiktok") {
      TikTokConfig config;
      config.base_url = url + "/tiktok";
      config.client_key = "sandbox-client";
      config.client_secret = "sandbox-secret";
      config.timeout = timeout;
      config.upload_timeout = timeout;
      config.poll_interval = absl::Milliseconds(50);
      config.audited = true;
      tokens_ = std::make_shared<TokenSource>("TikTok", "sandbox-access", "sandbox-refresh",
                                              TikTokRenewal(config));
      return std::make_unique<TikTokApi>(config, tokens_);
    }
    if (platform == "youtube") {
      YouTubeConfig config;
      config.base_url = url + "/youtube";
      config.token_url = url + "/google/token";
      config.client_id = "sandbox-client";
      config.client_secret = "sandbox-secret";
      config.timeout = timeout;
      config.upload_timeout = timeout;
      config.poll_interval = absl::Milliseconds(50);
      tokens_ = std::make_shared<TokenSource>("YouTube", "sandbox-access", "sandbox-refresh",
                                              GoogleRenewal(config));
      return std::make_unique<YouTubeApi>(config, tokens_);
    }
    MetaConfig config;
    config.graph_base_url = url + "/graph/v21.0";
    config.video_base_url = url + "/graph/v21.0";
    config.app_id = "sandbox-app";
    config.app_secret = "sandbox-secret";
    config.instagram_user_id = "17841400000000001";
    config.facebook_page_id = "100000000000001";
    config.timeout = timeout;
    config.upload_timeout = timeout;
    config.poll_interval = absl::Milliseconds(50);
    tokens_ = std::make_shared<TokenSource>("Meta", "sandbox-access", "", MetaExchange(config));
    auto graph = std::make_shared<GraphClient>(config, tokens_);
    if (platform == "instagram") return std::make_unique<InstagramApi>(graph);
    return std::make_unique<FacebookApi>(graph);
  }

  // A small real video, with a caption of its own (the sandbox counts duplicates by both).
  PostRequest MakePost() {
    static int count = 0;
    const std::string name = absl::StrCat(GetParam().platform, "-", ++count, ".mp4");
    PostRequest post;
    post.platform = GetParam().platform;
    post.video_path = sandbox_->media_dir() + "/" + name;
    testing::CommandOutput(absl::StrCat(
        "ffmpeg -nostdin -y -loglevel error -f lavfi -i testsrc=s=320x568:r=30:d=1 -f lavfi -i "
        "sine=d=1 -shortest -pix_fmt yuv420p -metadata comment=",
        count, " '", post.video_path, "'"));
    post.video_url = sandbox_->media_url() + "/" + name;
    post.video_bytes = std::ifstream(post.video_path, std::ios::ate | std::ios::binary).tellg();
    post.duration_s = 1;
    post.width = 320;
    post.height = 568;
    post.caption = absl::StrCat("#ad \xc2\xb7 Commission earned Glow ", count, "\n\n#skincare");
    post.title = absl::StrCat("Glow ", count);
    post.hashtags = {"skincare"};
    post.disclosure = true;
    post.ai_generated = true;
    return post;
  }

  // Runs the publish as the job runner would: again after each error (a retry) and each poll,
  // until the post is confirmed. The errors met on the way, in order.
  absl::StatusOr<PostResult> Drive(std::vector<absl::Status>* errors = nullptr) {
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (absl::Now() < deadline) {
      absl::StatusOr<Advanced> step = api_->Advance(post_, context_.handle, context_);
      if (!step.ok()) {
        if (errors != nullptr) errors->push_back(step.status());
        if (!jobs_retry(step.status())) return step.status();
        continue;
      }
      if (step->done) return step->result;
      absl::SleepFor(std::min(step->poll_after, absl::Milliseconds(50)));  // the poll interval
    }
    return absl::DeadlineExceededError("the publish did not finish in 60 s");
  }

  static bool jobs_retry(const absl::Status& status) {
    return status.code() == absl::StatusCode::kUnavailable ||
           status.code() == absl::StatusCode::kDeadlineExceeded ||
           status.code() == absl::StatusCode::kResourceExhausted;
  }

  int Posts() { return sandbox_->Posts(GetParam().platform); }
  int Duplicates() {
    nlohmann::json stats = sandbox_->Stats();
    return stats.contains("duplicates") ? stats["duplicates"].get<int>() : -1;
  }

  std::unique_ptr<SandboxProcesses> sandbox_;
  std::shared_ptr<TokenSource> tokens_;
  std::unique_ptr<PlatformApi> api_;
  PostRequest post_;
  MemoryContext context_;
};

TEST_P(PlatformsTest, PostsOnceAndReadsItsFigures) {
  const int before = Posts();
  absl::StatusOr<PostResult> result = Drive();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->post_id.empty());
  EXPECT_FALSE(result->url.empty());
  EXPECT_GE(context_.handles_recorded, 1);  // the handle was kept before the post was made
  EXPECT_EQ(Posts(), before + 1);
  EXPECT_EQ(Duplicates(), 0);
  absl::StatusOr<PostFigures> figures = api_->Figures(result->post_id);
  ASSERT_TRUE(figures.ok()) << figures.status();
  EXPECT_GE(figures->views, 0);
  // The sandbox keeps what it was sent: the caption and the disclosure and AI flags.
  nlohmann::json posts = nlohmann::json::parse(
      sandbox_->Get("/_sandbox/posts?platform=" + GetParam().platform).body, nullptr, false);
  bool found = false;
  for (const nlohmann::json& post : posts["posts"]) {
    if (post.value("post_id", "") != result->post_id) continue;
    found = true;
    EXPECT_EQ(post.value("caption", ""), post_.caption) << post.dump();
    // The AI label where the platform has one (Facebook's API has none; its paid disclosure
    // needs a sponsor id, which this test does not configure).
    if (GetParam().platform != "facebook") {
      EXPECT_NE(post["flags"].dump().find("true"), std::string::npos) << post.dump();
    }
  }
  EXPECT_TRUE(found) << posts.dump();
}

TEST_P(PlatformsTest, RateLimitsAndServerErrorsAreRetriedWithoutASecondPost) {
  ASSERT_TRUE(sandbox_->Fault(GetParam().platform, GetParam().post_step, "rate_limit"));
  ASSERT_TRUE(sandbox_->Fault(GetParam().platform, GetParam().post_step, "error_500"));
  const int before = Posts();
  std::vector<absl::Status> errors;
  absl::StatusOr<PostResult> result = Drive(&errors);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_GE(errors.size(), 2u);
  EXPECT_EQ(errors[0].code(), absl::StatusCode::kResourceExhausted) << errors[0];
  EXPECT_GT(RetryAfterOf(errors[0]), absl::ZeroDuration());
  EXPECT_EQ(errors[1].code(), absl::StatusCode::kUnavailable) << errors[1];
  EXPECT_EQ(Posts(), before + 1);
  EXPECT_EQ(Duplicates(), 0);
}

// The post is made but the answer is lost (a proxy's 502, or our timeout while the platform
// went on): the next attempt finds the post by its handle and posts nothing more.
TEST_P(PlatformsTest, ALostAnswerNeverPostsTwice) {
  ASSERT_TRUE(sandbox_->Fault(GetParam().platform, GetParam().post_step, "lost_answer"));
  const int before = Posts();
  std::vector<absl::Status> errors;
  absl::StatusOr<PostResult> result = Drive(&errors);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(Posts(), before + 1);
  EXPECT_EQ(Duplicates(), 0);

  api_ = MakeApi(/*timeout=*/absl::Seconds(1));
  post_ = MakePost();
  context_ = MemoryContext();
  ASSERT_TRUE(
      sandbox_->Fault(GetParam().platform, GetParam().post_step, "slow", /*delay_ms=*/2500));
  errors.clear();
  result = Drive(&errors);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors[0].code(), absl::StatusCode::kDeadlineExceeded) << errors[0];
  // The slow call went through after the client gave up; still one post.
  ASSERT_TRUE(testing::WaitUntil([&] { return Posts() >= before + 2; }, std::chrono::seconds(10)));
  EXPECT_EQ(Posts(), before + 2);
  EXPECT_EQ(Duplicates(), 0);
}

// Reconcile's lookup: a post whose answer was lost is found by its handle, and the lookup
// sends nothing that posts.
TEST_P(PlatformsTest, ALookupFindsAPostWhoseAnswerWasLostAndPostsNothing) {
  ASSERT_TRUE(sandbox_->Fault(GetParam().platform, GetParam().post_step, "lost_answer"));
  const int before = Posts();
  absl::StatusOr<Advanced> step;
  ASSERT_TRUE(testing::WaitUntil([&] {
    step = api_->Advance(post_, context_.handle, context_);
    return !step.ok();
  }));  // the lost answer, after the handle was recorded
  ASSERT_FALSE(context_.handle.empty());
  ASSERT_TRUE(testing::WaitUntil([&] { return Posts() == before + 1; }));
  absl::StatusOr<PostResult> found = LookUp(*api_, post_, context_.handle);
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_FALSE(found->post_id.empty());
  nlohmann::json posts = nlohmann::json::parse(
      sandbox_->Get("/_sandbox/posts?platform=" + GetParam().platform).body, nullptr, false);
  ASSERT_EQ(posts["posts"].size(), 1u) << posts.dump();
  EXPECT_EQ(posts["posts"][0].value("post_id", ""), found->post_id) << posts.dump();
  EXPECT_EQ(Posts(), before + 1);
  EXPECT_EQ(Duplicates(), 0);
}

// Reconcile's lookup of a publish whose post step failed: the platform holds no post of the
// handle, and the lookup says so (NotPosted) instead of finishing the post.
TEST_P(PlatformsTest, ALookupOfAPublishThatNeverPostedSaysSoAndPostsNothing) {
  ASSERT_TRUE(sandbox_->Fault(GetParam().platform, GetParam().post_step, "error_500"));
  const int before = Posts();
  absl::StatusOr<Advanced> step;
  ASSERT_TRUE(testing::WaitUntil([&] {
    step = api_->Advance(post_, context_.handle, context_);
    return !step.ok();
  }));
  ASSERT_EQ(step.status().code(), absl::StatusCode::kUnavailable) << step.status();
  ASSERT_FALSE(context_.handle.empty());
  absl::StatusOr<PostResult> found = LookUp(*api_, post_, context_.handle);
  EXPECT_TRUE(IsNotPosted(found.status())) << found.status();
  EXPECT_EQ(Posts(), before);
  // The publish itself would still go on from its handle, and post once.
  absl::StatusOr<PostResult> posted = Drive();
  ASSERT_TRUE(posted.ok()) << posted.status();
  EXPECT_EQ(Posts(), before + 1);
  EXPECT_EQ(Duplicates(), 0);
}

// An access token the platform calls expired is renewed once (TikTok and Google refresh;
// TikTok hands back a new refresh token each time, which the next renewal uses), and a refused
// renewal is a clear PERMISSION_DENIED that carries no token. Meta never exchanges a token that
// has expired: that is the same clear refusal (hence the renewal ahead of expiry, below).
TEST_P(PlatformsTest, AnExpiredTokenIsRenewedOnceAndARefusedRenewalIsClear) {
  const std::string owner = GetParam().token_owner;
  const std::string old_token = tokens_->Current();
  ASSERT_EQ(sandbox_->Call("POST", "/_sandbox/tokens/expire?platform=" + owner).status, 200);
  if (owner == "meta") {
    absl::StatusOr<Advanced> step = api_->Advance(post_, "", context_);
    ASSERT_FALSE(step.ok());
    EXPECT_EQ(step.status().code(), absl::StatusCode::kPermissionDenied) << step.status();
    EXPECT_TRUE(absl::StrContains(step.status().message(), "has expired")) << step.status();
    EXPECT_TRUE(absl::StrContains(step.status().message(), "sign in again")) << step.status();
    EXPECT_FALSE(absl::StrContains(step.status().message(), "sandbox-")) << step.status();
    EXPECT_EQ(Posts(), 0);
    return;
  }
  absl::StatusOr<PostResult> result = Drive();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_NE(tokens_->Current(), old_token);
  if (owner == "tiktok") {
    // Rotated: the grant holds the new refresh token, and a second expiry renews with it.
    EXPECT_NE(tokens_->CurrentGrant().refresh_token, "sandbox-refresh");
    const std::string second_token = tokens_->Current();
    ASSERT_EQ(sandbox_->Call("POST", "/_sandbox/tokens/expire?platform=tiktok").status, 200);
    post_ = MakePost();
    context_ = MemoryContext();
    ASSERT_TRUE(Drive().ok());
    EXPECT_NE(tokens_->Current(), second_token);
  }

  ASSERT_EQ(sandbox_->Call("POST", "/_sandbox/tokens/expire?platform=" + owner).status, 200);
  ASSERT_EQ(sandbox_->Call("POST", "/_sandbox/tokens/revoke_refresh?platform=" + owner).status,
            200);
  post_ = MakePost();
  context_ = MemoryContext();
  const int before = Posts();
  absl::StatusOr<Advanced> step = api_->Advance(post_, "", context_);
  ASSERT_FALSE(step.ok());
  EXPECT_EQ(step.status().code(), absl::StatusCode::kPermissionDenied) << step.status();
  EXPECT_TRUE(absl::StrContains(step.status().message(), "sign in again")) << step.status();
  EXPECT_FALSE(absl::StrContains(step.status().message(), "sandbox-")) << step.status();
  EXPECT_EQ(Posts(), before);
}

// YouTube's quota is charged before each request that opens an upload session: refused, it is
// a rate limit to wait out (until the quota day turns), and nothing is sent.
TEST(YouTubeTest, AnUploadOverTheDaysQuotaOpensNoSession) {
  SandboxProcesses sandbox("sandbox", SandboxFlags());
  ASSERT_TRUE(sandbox.ready());
  YouTubeConfig config;
  config.base_url = sandbox.url() + "/youtube";
  int charges = 0;
  YouTubeApi api(
      config, std::make_shared<TokenSource>("YouTube", "sandbox-access", "", nullptr), [&] {
        ++charges;
        return WithRetryAfter(absl::ResourceExhaustedError("quota used"), absl::Hours(3));
      });
  PostRequest post;
  post.platform = "youtube";
  post.video_bytes = 1000;
  post.caption = "Glow";
  MemoryContext context;
  absl::StatusOr<Advanced> step = api.Advance(post, "", context);
  EXPECT_EQ(step.status().code(), absl::StatusCode::kResourceExhausted) << step.status();
  EXPECT_EQ(RetryAfterOf(step.status()), absl::Hours(3));
  EXPECT_EQ(charges, 1);
  EXPECT_TRUE(context.handle.empty());
  EXPECT_TRUE(absl::StrContains(step.status().message(), "quota used")) << step.status();
  // The quota day turns at midnight Pacific time.
  const absl::Time noon_utc = absl::FromCivil(absl::CivilSecond(2026, 7, 1, 12, 0, 0),
                                              absl::UTCTimeZone());  // 05:00 in Los Angeles
  EXPECT_EQ(YouTubeQuotaDay(noon_utc), absl::CivilDay(2026, 7, 1));
  EXPECT_EQ(NextYouTubeQuotaDay(noon_utc) - noon_utc, absl::Hours(19));
}

// A vertical video is a Short; a 16:9 one is an ordinary video with a watch URL.
TEST(YouTubeTest, TheUrlFollowsTheFrame) {
  SandboxProcesses sandbox("sandbox", SandboxFlags());
  ASSERT_TRUE(sandbox.ready());
  YouTubeConfig config;
  config.base_url = sandbox.url() + "/youtube";
  config.poll_interval = absl::Milliseconds(50);
  YouTubeApi api(config, std::make_shared<TokenSource>("YouTube", "sandbox-access", "", nullptr));
  for (const auto& [width, height, expected] :
       {std::tuple{1080, 1920, "https://www.youtube.com/shorts/"},
        std::tuple{1920, 1080, "https://www.youtube.com/watch?v="}}) {
    PostRequest post;
    post.platform = "youtube";
    post.video_path = absl::StrCat(sandbox.media_dir(), "/yt-", width, ".mp4");
    testing::CommandOutput(absl::StrCat(
        "ffmpeg -nostdin -y -loglevel error -f lavfi -i testsrc=s=320x568:r=30:d=1 -pix_fmt "
        "yuv420p -metadata comment=",
        width, " '", post.video_path, "'"));
    post.video_bytes = std::ifstream(post.video_path, std::ios::ate | std::ios::binary).tellg();
    post.width = width;
    post.height = height;
    post.caption = absl::StrCat("Glow ", width);
    post.title = post.caption;
    MemoryContext context;
    absl::StatusOr<Advanced> step;
    ASSERT_TRUE(testing::WaitUntil([&] {
      step = api.Advance(post, context.handle, context);
      return !step.ok() || step->done;
    }));
    ASSERT_TRUE(step.ok()) << step.status();
    EXPECT_EQ(step->result.url, expected + step->result.post_id);
  }
}

// Meta's token is exchanged ahead of its expiry: at once while its expiry is unknown (the
// exchange says it), then only once less than a sixth of its life is left.
TEST(MetaTokenTest, TheTokenIsExchangedAheadOfItsExpiry) {
  SandboxProcesses sandbox("sandbox", SandboxFlags({"--day_seconds=60"}));
  ASSERT_TRUE(sandbox.ready());
  MetaConfig config;
  config.graph_base_url = sandbox.url() + "/graph/v21.0";
  config.app_id = "sandbox-app";
  config.app_secret = "sandbox-secret";
  TokenSource tokens("Meta", "sandbox-access", "", MetaExchange(config), 1.0 / 6);
  const absl::Time start = absl::Now();
  ASSERT_TRUE(tokens.RenewIfExpiring(start).ok());
  const Grant first = tokens.CurrentGrant();
  EXPECT_NE(first.access_token, "sandbox-access");
  // 60 sandbox days of 60 s: an hour.
  EXPECT_LT(absl::AbsDuration(first.expires_at - first.issued_at - absl::Hours(1)),
            absl::Seconds(2));
  ASSERT_TRUE(tokens.RenewIfExpiring(start + absl::Minutes(45)).ok());
  EXPECT_EQ(tokens.Current(), first.access_token);  // five sixths of its life is not yet used
  ASSERT_TRUE(tokens.RenewIfExpiring(first.issued_at + absl::Minutes(51)).ok());
  EXPECT_NE(tokens.Current(), first.access_token);
  EXPECT_GT(tokens.CurrentGrant().expires_at, first.expires_at);
}

// Instagram's adapter against `sandbox`, with a token that is never renewed.
InstagramApi InstagramOn(const SandboxProcesses& sandbox,
                         absl::Duration poll = absl::Milliseconds(50)) {
  MetaConfig config;
  config.graph_base_url = sandbox.url() + "/graph/v21.0";
  config.instagram_user_id = "17841400000000001";
  config.poll_interval = poll;
  return InstagramApi(std::make_shared<GraphClient>(
      config, std::make_shared<TokenSource>("Meta", "sandbox-access", "", nullptr)));
}

// A real one-second video `name` in the sandbox's media folder (bytes of its own), as a post
// to Instagram with `caption`.
PostRequest InstagramPost(const SandboxProcesses& sandbox, const std::string& name,
                          const std::string& caption) {
  PostRequest post;
  post.platform = "instagram";
  post.video_path = sandbox.media_dir() + "/" + name;
  testing::CommandOutput(absl::StrCat(
      "ffmpeg -nostdin -y -loglevel error -f lavfi -i testsrc=s=320x568:r=30:d=1 -pix_fmt "
      "yuv420p -metadata comment=",
      name, " '", post.video_path, "'"));
  post.video_url = sandbox.media_url() + "/" + name;
  post.video_bytes = std::ifstream(post.video_path, std::ios::ate | std::ios::binary).tellg();
  post.caption = caption;
  return post;
}

// Two publishes of one caption to one Instagram account (variants of one script): A's
// media_publish answer is lost, and B publishes meanwhile. Instagram's media do not say which
// container they came from, so A finds its post by caption: it skips B's once B has recorded
// it, and takes neither while both are unrecorded. A never ends with B's media.
TEST(InstagramTest, ARecoveryNeverTakesAnotherPublishsMedia) {
  SandboxProcesses sandbox("sandbox", SandboxFlags());
  ASSERT_TRUE(sandbox.ready());
  InstagramApi api = InstagramOn(sandbox);
  auto make_post = [&](const std::string& name) {
    return InstagramPost(sandbox, name, "#ad Glow serum, the same caption for every variant");
  };
  // Each runs until its media_publish has been sent (the container was FINISHED).
  auto until_published = [&](const PostRequest& post, MemoryContext& context) {
    const int before = sandbox.Posts("instagram");
    absl::StatusOr<Advanced> step;
    EXPECT_TRUE(testing::WaitUntil([&] {
      step = api.Advance(post, context.handle, context);
      return !step.ok() || step->done || sandbox.Posts("instagram") > before;
    }));
    return step;
  };
  const PostRequest a = make_post("a.mp4");
  const PostRequest b = make_post("b.mp4");
  MemoryContext context_a, context_b;
  ASSERT_TRUE(sandbox.Fault("instagram", "publish", "lost_answer"));
  EXPECT_FALSE(until_published(a, context_a).ok());  // A's answer is lost
  absl::StatusOr<Advanced> b_done = until_published(b, context_b);
  ASSERT_TRUE(b_done.ok() && b_done->done) << b_done.status();
  const std::string b_media = b_done->result.post_id;
  nlohmann::json posts =
      nlohmann::json::parse(sandbox.Get("/_sandbox/posts?platform=instagram").body, nullptr, false);
  std::string a_media;
  for (const nlohmann::json& post : posts["posts"]) {
    if (post.value("post_id", "") != b_media) a_media = post.value("post_id", "");
  }
  ASSERT_FALSE(a_media.empty()) << posts.dump();

  // B's media unrecorded too (its answer could have been lost as well): A cannot tell.
  absl::StatusOr<Advanced> unsure = api.Advance(a, context_a.handle, context_a);
  EXPECT_EQ(unsure.status().code(), absl::StatusCode::kFailedPrecondition) << unsure.status();
  EXPECT_TRUE(absl::StrContains(unsure.status().message(), "cannot be told")) << unsure.status();
  EXPECT_FALSE(context_a.handle.empty());
  // B recorded its media: A finds its own, by the handle, in a lookup as in its publish.
  context_a.recorded_elsewhere = {b_media};
  absl::StatusOr<PostResult> looked_up = LookUp(api, a, context_a.handle, {b_media});
  ASSERT_TRUE(looked_up.ok()) << looked_up.status();
  EXPECT_EQ(looked_up->post_id, a_media);
  absl::StatusOr<Advanced> found = api.Advance(a, context_a.handle, context_a);
  ASSERT_TRUE(found.ok() && found->done) << found.status();
  EXPECT_EQ(found->result.post_id, a_media);
  EXPECT_EQ(sandbox.Posts("instagram"), 2);
}

// A post whose answer was lost is found even when more than a page of media came after it:
// the account's media are read back, page after page, to the time the publish began.
TEST(InstagramTest, ALostPostIsFoundBehindMoreThanAPageOfNewerMedia) {
  SandboxProcesses sandbox("sandbox", SandboxFlags({"--processing_ms=20"}));
  ASSERT_TRUE(sandbox.ready());
  InstagramApi api = InstagramOn(sandbox, absl::Milliseconds(20));
  PostRequest post = InstagramPost(sandbox, "many.mp4", "");
  auto publish = [&](PostRequest& each, MemoryContext& context) {
    absl::StatusOr<Advanced> step;
    EXPECT_TRUE(testing::WaitUntil([&] {
      step = api.Advance(each, context.handle, context);
      return !step.ok() || step->done;
    }));
    return step;
  };
  post.caption = "Glow, the first";
  MemoryContext first;
  ASSERT_TRUE(sandbox.Fault("instagram", "publish", "lost_answer"));
  ASSERT_FALSE(publish(post, first).ok());
  for (int i = 0; i < 55; ++i) {
    PostRequest later = post;
    later.caption = absl::StrCat("Glow, later ", i);
    MemoryContext context;
    ASSERT_TRUE(publish(later, context).ok()) << i;
  }
  ASSERT_EQ(sandbox.Posts("instagram"), 56);
  absl::StatusOr<Advanced> found = publish(post, first);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_TRUE(found->done);
  nlohmann::json posts =
      nlohmann::json::parse(sandbox.Get("/_sandbox/posts?platform=instagram").body, nullptr, false);
  EXPECT_EQ(posts["posts"][0].value("post_id", ""), found->result.post_id) << posts.dump();
  EXPECT_EQ(sandbox.Posts("instagram"), 56);
}

// Meta's errors, read by code and subcode as Meta's error reference gives them, each sent by
// the sandbox's fault control on Instagram's publish step.
struct GraphCase {
  std::string name;
  int code;
  int subcode;
  bool transient;
  std::string operation;  // where the sandbox sends it
  // What the adapter must make of it: "retry" (UNAVAILABLE, then one post), "poll" (not ready:
  // polled again in 30 s or more, then one post), "new container" (the handle changes, then one
  // post), "refusal" (FAILED_PRECONDITION naming the reason, no post), "rate limit".
  std::string expected;
};

class GraphErrorTest : public ::testing::TestWithParam<GraphCase> {};

TEST_P(GraphErrorTest, IsHandledAsMetaDocumentsIt) {
  const GraphCase& error = GetParam();
  SandboxProcesses sandbox("sandbox", SandboxFlags());
  ASSERT_TRUE(sandbox.ready());
  InstagramApi api = InstagramOn(sandbox);
  const PostRequest post = InstagramPost(sandbox, "graph.mp4", "Glow, " + error.name);
  ASSERT_TRUE(sandbox.AddFaults(nlohmann::json::array({{{"platform", "instagram"},
                                                        {"operation", error.operation},
                                                        {"kind", "graph_error"},
                                                        {"code", error.code},
                                                        {"subcode", error.subcode},
                                                        {"is_transient", error.transient}}})));
  MemoryContext context;
  // Until the fault has been met: the first answer that is not a plain poll.
  absl::StatusOr<Advanced> step;
  std::string first_handle;
  ASSERT_TRUE(testing::WaitUntil([&] {
    if (first_handle.empty()) first_handle = context.handle;
    step = api.Advance(post, context.handle, context);
    return !step.ok() || step->done || step->poll_after >= absl::Seconds(30);
  }));
  if (error.expected == "refusal") {
    EXPECT_EQ(step.status().code(), absl::StatusCode::kFailedPrecondition) << step.status();
    EXPECT_TRUE(absl::StrContains(step.status().message(), "spam")) << step.status();
    EXPECT_EQ(sandbox.Posts("instagram"), 0);
    return;
  }
  if (error.expected == "rate limit") {
    EXPECT_EQ(step.status().code(), absl::StatusCode::kResourceExhausted) << step.status();
  } else if (error.expected == "retry") {
    EXPECT_EQ(step.status().code(), absl::StatusCode::kUnavailable) << step.status();
  } else if (error.expected == "poll") {
    ASSERT_TRUE(step.ok()) << step.status();
    EXPECT_FALSE(step->done);
    EXPECT_GE(step->poll_after, absl::Seconds(30));
  } else if (error.expected == "new container") {
    EXPECT_TRUE(step.ok()) << step.status();  // a new container made at once
    EXPECT_NE(context.handle, first_handle);
  }
  absl::StatusOr<Advanced> done;
  ASSERT_TRUE(testing::WaitUntil([&] {
    done = api.Advance(post, context.handle, context);
    return (!done.ok() && done.status().code() != absl::StatusCode::kResourceExhausted) ||
           (done.ok() && done->done);
  }));
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(sandbox.Posts("instagram"), 1);
}

INSTANTIATE_TEST_SUITE_P(
    MetaErrorReference, GraphErrorTest,
    ::testing::Values(
        GraphCase{"Transient", 2, 0, true, "publish", "retry"},
        GraphCase{"ServerErrorMinusOne", -1, 2207001, false, "publish", "retry"},
        GraphCase{"MediaNotReady", 9007, 2207027, false, "publish", "poll"},
        GraphCase{"MediaExpired", -2, 2207020, false, "container_status", "new container"},
        GraphCase{"UnknownUploadError", -1, 2207053, false, "publish", "new container"},
        GraphCase{"SpamRestricted", 4, 2207051, false, "publish", "refusal"},
        GraphCase{"RateLimit", 4, 0, false, "publish", "rate limit"}),
    [](const ::testing::TestParamInfo<GraphCase>& info) { return info.param.name; });

// An Instagram container answer without a status_code keeps the handle (nothing says the post
// was not made), and the next answer that has one goes on from it.
TEST(InstagramTest, AContainerAnswerWithoutAStatusKeepsTheHandle) {
  SandboxProcesses sandbox("sandbox", SandboxFlags());
  ASSERT_TRUE(sandbox.ready());
  InstagramApi api = InstagramOn(sandbox);
  const PostRequest post = InstagramPost(sandbox, "plain.mp4", "Glow, without a status");
  MemoryContext context;
  ASSERT_TRUE(api.Advance(post, "", context).ok());  // the container is made
  const std::string handle = context.handle;
  ASSERT_FALSE(handle.empty());
  ASSERT_TRUE(sandbox.Fault("instagram", "container_status", "empty_answer"));
  absl::StatusOr<Advanced> step = api.Advance(post, context.handle, context);
  EXPECT_EQ(step.status().code(), absl::StatusCode::kUnavailable) << step.status();
  EXPECT_EQ(context.handle, handle);
  absl::StatusOr<Advanced> done;
  ASSERT_TRUE(testing::WaitUntil([&] {
    done = api.Advance(post, context.handle, context);
    return !done.ok() || done->done;
  }));
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(sandbox.Posts("instagram"), 1);
}

// Posts one small video to the sandbox's TikTok and waits for its confirmation.
absl::StatusOr<Advanced> PostToTikTok(TikTokApi& api, const std::string& path,
                                      const std::string& privacy) {
  PostRequest post;
  post.platform = "tiktok";
  post.video_path = path;
  post.privacy = privacy;
  testing::CommandOutput(
      "ffmpeg -nostdin -y -loglevel error -f lavfi -i testsrc=s=320x568:r=30:d=1 -pix_fmt "
      "yuv420p '" +
      path + "'");
  post.video_bytes = std::ifstream(path, std::ios::ate | std::ios::binary).tellg();
  post.caption = "Glow, " + privacy;
  post.duration_s = 1;
  MemoryContext context;
  absl::StatusOr<Advanced> step;
  const bool ended = testing::WaitUntil([&] {
    step = api.Advance(post, context.handle, context);
    return !step.ok() || step->done;
  });
  if (!ended) return absl::DeadlineExceededError("the post was not confirmed in 30 s");
  return step;
}

// An unaudited TikTok app may post only privately: a public post is refused by TikTok (not
// retried); a private one is posted and confirmed without a public id, with a note.
TEST(TikTokTest, AnUnauditedAppPostsOnlyPrivately) {
  SandboxProcesses sandbox("sandbox", SandboxFlags({"--tiktok_audited=false"}));
  ASSERT_TRUE(sandbox.ready());
  TikTokConfig config;
  config.base_url = sandbox.url() + "/tiktok";
  config.poll_interval = absl::Milliseconds(50);
  TikTokApi api(config, std::make_shared<TokenSource>("TikTok", "sandbox-access", "", nullptr));
  absl::StatusOr<CreatorLimits> limits = api.Limits();
  ASSERT_TRUE(limits.ok()) << limits.status();
  EXPECT_EQ(limits->privacy_options, std::vector<std::string>{"private"});

  absl::StatusOr<Advanced> refused =
      PostToTikTok(api, sandbox.media_dir() + "/public.mp4", "public");
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "only privately"));

  absl::StatusOr<Advanced> hidden =
      PostToTikTok(api, sandbox.media_dir() + "/private.mp4", "private");
  ASSERT_TRUE(hidden.ok()) << hidden.status();
  EXPECT_TRUE(hidden->result.post_id.empty());
  EXPECT_TRUE(absl::StrContains(hidden->result.note, "private")) << hidden->result.note;

  // Configured as audited while TikTok says otherwise: creator_info, asked again as each post
  // starts, refuses it before any init.
  config.audited = true;
  TikTokApi misconfigured(config,
                          std::make_shared<TokenSource>("TikTok", "sandbox-access", "", nullptr));
  absl::StatusOr<Advanced> stale =
      PostToTikTok(misconfigured, sandbox.media_dir() + "/stale.mp4", "public");
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kFailedPrecondition) << stale.status();
  EXPECT_TRUE(absl::StrContains(stale.status().message(), "creator_info")) << stale.status();
  EXPECT_EQ(sandbox.Posts("tiktok"), 1);
}

// Branded content is never private on TikTok: refused before anything is sent.
TEST(TikTokTest, BrandedContentIsNeverPrivate) {
  SandboxProcesses sandbox("sandbox", SandboxFlags());
  ASSERT_TRUE(sandbox.ready());
  TikTokConfig config;
  config.base_url = sandbox.url() + "/tiktok";
  config.audited = true;
  TikTokApi api(config, std::make_shared<TokenSource>("TikTok", "sandbox-access", "", nullptr));
  PostRequest post;
  post.platform = "tiktok";
  post.privacy = "private";
  post.disclosure = true;
  MemoryContext context;
  absl::StatusOr<Advanced> refused = api.Advance(post, "", context);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition) << refused.status();
  EXPECT_TRUE(absl::StrContains(refused.status().message(), "cannot be posted privately"));
  EXPECT_TRUE(context.handle.empty());
  EXPECT_EQ(CheckTikTokRules(false, "private", true).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(CheckTikTokRules(false, "private", true).message(), "audited"));
  EXPECT_TRUE(CheckTikTokRules(false, "private", false).ok());
  EXPECT_TRUE(CheckTikTokRules(true, "public", true).ok());
}

// A posted TikTok video promoted as a Spark Ad in the sandbox: a budget under TikTok's
// minimum is refused by the platform, a lost answer to the ad group is found again (never a
// second ad group), the spend shows in the affiliate report, and Stop disables the ad group.
TEST(TikTokAdsTest, ASparkAdRunsOnceAndStops) {
  SandboxProcesses sandbox("sandbox", SandboxFlags({"--day_seconds=2"}));
  ASSERT_TRUE(sandbox.ready());
  auto tokens = std::make_shared<TokenSource>("TikTok", "sandbox-access", "", nullptr);
  TikTokConfig config;
  config.base_url = sandbox.url() + "/tiktok";
  config.poll_interval = absl::Milliseconds(50);
  config.audited = true;
  TikTokApi api(config, tokens);
  absl::StatusOr<Advanced> posted = PostToTikTok(api, sandbox.media_dir() + "/ad.mp4", "public");
  ASSERT_TRUE(posted.ok()) << posted.status();
  const std::string post_id = posted->result.post_id;
  ASSERT_FALSE(post_id.empty());

  TikTokAdsConfig ads_config;
  ads_config.base_url = sandbox.url() + "/tiktok-business/open_api/v1.3";
  ads_config.advertiser_id = "7000000000000000001";
  ads_config.identity_id = "creator";
  TikTokSparkAds ads(ads_config, tokens);
  std::string handle;
  auto record = [](const std::string&) { return absl::OkStatus(); };
  const absl::Time ends = absl::Now() + absl::Hours(24 * 7);
  absl::Status low = ads.Start(post_id, 1999, ends, &handle, record);
  EXPECT_EQ(low.code(), absl::StatusCode::kFailedPrecondition) << low;
  EXPECT_TRUE(absl::StrContains(low.message(), "40002")) << low;

  handle.clear();
  ASSERT_TRUE(sandbox.Fault("tiktok_ads", "adgroup", "lost_answer"));
  absl::Status lost = ads.Start(post_id, 2500, ends, &handle, record);
  EXPECT_EQ(lost.code(), absl::StatusCode::kUnavailable) << lost;
  absl::Status started = ads.Start(post_id, 2500, ends, &handle, record);
  ASSERT_TRUE(started.ok()) << started;
  const nlohmann::json made = nlohmann::json::parse(handle, nullptr, false);
  ASSERT_TRUE(made.is_object()) << handle;
  EXPECT_FALSE(made.value("ad_id", "").empty()) << handle;
  const std::string groups_path =
      "/tiktok-business/open_api/v1.3/adgroup/get/?advertiser_id=7000000000000000001&filtering=" +
      UrlEncode(nlohmann::json{{"campaign_ids", {made.value("campaign_id", "")}}}.dump());
  // One ad group for the campaign: the lost one was found, not made again.
  http::Request get;
  get.url = sandbox.url() + groups_path;
  get.headers = {{"Access-Token", "sandbox-access"}};
  nlohmann::json listed = nlohmann::json::parse(http::Send(get)->body, nullptr, false);
  ASSERT_TRUE(listed.contains("data")) << listed.dump();
  EXPECT_EQ(listed["data"]["list"].size(), 1u) << listed.dump();
  // It ends by itself: the schedule carries the promotion's end.
  EXPECT_EQ(listed["data"]["list"][0].value("schedule_type", ""), "SCHEDULE_START_END");
  EXPECT_EQ(listed["data"]["list"][0].value("schedule_end_time", ""),
            absl::FormatTime("%Y-%m-%d %H:%M:%S", ends, absl::UTCTimeZone()));

  auto spend = [&] {
    nlohmann::json report = nlohmann::json::parse(
        sandbox.Get("/affiliate/v1/report?platform=tiktok&post_id=" + post_id).body, nullptr,
        false);
    return report.is_object() ? report.value("spend", "") : "";
  };
  ASSERT_TRUE(testing::WaitUntil([&] { return !spend().empty() && spend() != "0.00"; })) << spend();
  ASSERT_TRUE(ads.Stop(handle).ok());
  listed = nlohmann::json::parse(http::Send(get)->body, nullptr, false);
  EXPECT_TRUE(absl::StrContains(listed.dump(), "DISABLE")) << listed.dump();
}

INSTANTIATE_TEST_SUITE_P(
    EveryPlatform, PlatformsTest,
    ::testing::Values(Case{"tiktok", "upload", "tiktok"}, Case{"instagram", "publish", "meta"},
                      Case{"facebook", "finish", "meta"}, Case{"youtube", "upload", "youtube"}),
    [](const ::testing::TestParamInfo<Case>& info) { return info.param.platform; });

}  // namespace
}  // namespace cf::publishing
