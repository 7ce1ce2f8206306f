#include "services/sandbox/tiktok_api.h"

#include <gtest/gtest.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/sandbox/sandbox_testing.h"
#include "services/sandbox/videos.h"

namespace cf::sandbox {
namespace {

using testing::JsonOf;
using testing::TestOptions;
using testing::TestSandbox;

const std::vector<std::pair<std::string, std::string>> kAuth = {
    {"Authorization", "Bearer sandbox-access"}, {"Content-Type", "application/json"}};

http::Response Post(TestSandbox& sandbox, const std::string& path, const nlohmann::json& body,
                    const std::string& token = "sandbox-access") {
  return sandbox.Call("POST", "/tiktok" + path, body.dump(),
                      {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}});
}

// Branded (brand_content_toggle) unless private: TikTok takes no private branded content.
nlohmann::json InitBody(int64_t size, int64_t chunk, int64_t count,
                        const std::string& privacy = "PUBLIC_TO_EVERYONE",
                        const std::string& title = "A caption #ad") {
  return {{"post_info",
           {{"title", title},
            {"privacy_level", privacy},
            {"disable_duet", false},
            {"disable_comment", false},
            {"disable_stitch", false},
            {"is_aigc", true},
            {"brand_content_toggle", privacy != "SELF_ONLY"},
            {"brand_organic_toggle", false}}},
          {"source_info",
           {{"source", "FILE_UPLOAD"},
            {"video_size", size},
            {"chunk_size", chunk},
            {"total_chunk_count", count}}}};
}

http::Response Put(TestSandbox& sandbox, const std::string& url, const std::string& bytes,
                   int64_t first, int64_t total) {
  return sandbox.Call("PUT", url, bytes,
                      {{"Content-Type", "video/mp4"},
                       {"Content-Range",
                        absl::StrCat("bytes ", first, "-", first + bytes.size() - 1, "/", total)}});
}

nlohmann::json Status(TestSandbox& sandbox, const std::string& publish_id) {
  http::Response response =
      Post(sandbox, "/v2/post/publish/status/fetch/", {{"publish_id", publish_id}});
  EXPECT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(JsonOf(response)["error"]["code"], "ok");
  return JsonOf(response)["data"];
}

struct Started {
  std::string publish_id;
  std::string upload_url;
};

Started Init(TestSandbox& sandbox, const nlohmann::json& body) {
  http::Response response = Post(sandbox, "/v2/post/publish/video/init/", body);
  EXPECT_EQ(response.status, 200) << response.body;
  nlohmann::json json = JsonOf(response);
  EXPECT_EQ(json["error"]["code"], "ok");
  return {json["data"].value("publish_id", ""), json["data"].value("upload_url", "")};
}

TEST(TikTokApiTest, CreatorInfoOffersEveryPrivacyToAnAuditedApp) {
  TestSandbox sandbox;
  http::Response response = Post(sandbox, "/v2/post/publish/creator_info/query/", {});
  ASSERT_EQ(response.status, 200) << response.body;
  nlohmann::json data = JsonOf(response)["data"];
  EXPECT_EQ(data["privacy_level_options"].size(), 4u);
  EXPECT_EQ(data["max_video_post_duration_sec"], 600);
  EXPECT_EQ(Post(sandbox, "/v2/post/publish/creator_info/query/", {}, "nope").status, 401);
  EXPECT_EQ(
      JsonOf(Post(sandbox, "/v2/post/publish/creator_info/query/", {}, "nope"))["error"]["code"],
      "access_token_invalid");
}

TEST(TikTokApiTest, AnUnauditedAppPostsPrivatelyOnly) {
  Options options = TestOptions();
  options.tiktok_audited = false;
  TestSandbox sandbox(options);
  nlohmann::json data = JsonOf(Post(sandbox, "/v2/post/publish/creator_info/query/", {}))["data"];
  EXPECT_EQ(data["privacy_level_options"], nlohmann::json::array({"SELF_ONLY"}));
  http::Response refused = Post(sandbox, "/v2/post/publish/video/init/", InitBody(1000, 1000, 1));
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(JsonOf(refused)["error"]["code"], "unaudited_client_can_only_post_to_private_accounts");
  EXPECT_EQ(
      Post(sandbox, "/v2/post/publish/video/init/", InitBody(1000, 1000, 1, "SELF_ONLY")).status,
      200);
}

TEST(TikTokApiTest, InitRefusesBadRequests) {
  TestSandbox sandbox;
  auto code = [&](const nlohmann::json& body) {
    http::Response response = Post(sandbox, "/v2/post/publish/video/init/", body);
    if (response.status == 400) {
      EXPECT_EQ(JsonOf(response)["error"]["code"], "invalid_params");
    }
    return response.status;
  };
  EXPECT_EQ(sandbox.Call("POST", "/tiktok/v2/post/publish/video/init/", "{oops", kAuth).status,
            400);
  EXPECT_EQ(code(nlohmann::json::array()), 400);
  EXPECT_EQ(code({{"post_info", {{"privacy_level", "SELF_ONLY"}}}}), 400);
  EXPECT_EQ(code(InitBody(1000, 1000, 1, "EVERYONE")), 400);
  EXPECT_EQ(code(InitBody(1000, 1000, 1, "SELF_ONLY", std::string(2201, 'a'))), 400);
  EXPECT_EQ(code(InitBody(1000, 1000, 1, "SELF_ONLY", std::string(2200, 'a'))), 200);
  nlohmann::json branded_private = InitBody(1000, 1000, 1, "SELF_ONLY");
  branded_private["post_info"]["brand_content_toggle"] = true;
  EXPECT_EQ(code(branded_private), 400);
  // Under 5 MB: one chunk of the whole size.
  EXPECT_EQ(code(InitBody(3000000, 1000000, 3)), 400);
  EXPECT_EQ(code(InitBody(3000000, 3000000, 2)), 400);
  nlohmann::json pull = InitBody(1000, 1000, 1);
  pull["source_info"] = {{"source", "PULL_FROM_URL"}, {"video_url", "https://x/y.mp4"}};
  EXPECT_EQ(code(pull), 400);
  nlohmann::json typed = InitBody(1000, 1000, 1);
  typed["post_info"]["is_aigc"] = "yes";
  EXPECT_EQ(code(typed), 400);
  typed = InitBody(1000, 1000, 1);
  typed["source_info"]["video_size"] = "1000";
  EXPECT_EQ(code(typed), 400);
}

TEST(TikTokApiTest, ChunkRulesFollowTheMediaTransferGuide) {
  const int64_t mb = 1024 * 1024;
  EXPECT_TRUE(CheckChunks(4 * mb, 4 * mb, 1).ok());
  EXPECT_FALSE(CheckChunks(4 * mb, 2 * mb, 2).ok());
  EXPECT_TRUE(CheckChunks(20 * mb, 20 * mb, 1).ok());
  EXPECT_TRUE(CheckChunks(20 * mb, 5 * mb, 4).ok());
  EXPECT_TRUE(CheckChunks(23 * mb, 5 * mb, 4).ok());  // the last chunk takes the rest
  EXPECT_FALSE(CheckChunks(23 * mb, 5 * mb, 5).ok());
  EXPECT_FALSE(CheckChunks(100 * mb, 100 * mb, 1).ok());  // over 64 MB: several chunks
  EXPECT_FALSE(CheckChunks(20 * mb, 4 * mb, 5).ok());
  EXPECT_FALSE(CheckChunks(0, 0, 1).ok());
  EXPECT_FALSE(CheckChunks(6000 * mb, 5 * mb, 1200).ok());  // over 1000 chunks
}

TEST(TikTokApiTest, OneChunkUploadPublishesThenShowsThePostId) {
  TestSandbox sandbox;
  const std::string video = testing::ReadFile(testing::MakeVideo("tiktok-one.mp4"));
  const int64_t size = static_cast<int64_t>(video.size());
  Started started = Init(sandbox, InitBody(size, size, 1));
  EXPECT_EQ(started.publish_id.rfind("v_pub_file~v2-1.", 0), 0u);
  EXPECT_EQ(started.upload_url.rfind(sandbox.Url("/tiktok/upload/"), 0), 0u);
  EXPECT_EQ(Status(sandbox, started.publish_id)["status"], "PROCESSING_UPLOAD");

  // A chunk that does not start where the received bytes end: 416.
  http::Response wrong = Put(sandbox, started.upload_url, video.substr(10), 10, size);
  EXPECT_EQ(wrong.status, 416);
  EXPECT_EQ(wrong.headers["content-range"], absl::StrCat("bytes */", size));
  EXPECT_EQ(Put(sandbox, started.upload_url, video, 0, size).status, 201);
  // Sent again (its answer was lost): the same answer, stored once.
  EXPECT_EQ(Put(sandbox, started.upload_url, video, 0, size).status, 201);
  nlohmann::json posts = JsonOf(sandbox.Call("GET", "/_sandbox/posts?platform=tiktok"))["posts"];
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0]["video_sha256"], Sha256Hex(video));
  EXPECT_EQ(posts[0]["caption"], "A caption #ad");
  EXPECT_EQ(posts[0]["flags"]["is_aigc"], true);
  EXPECT_EQ(posts[0]["flags"]["brand_content_toggle"], true);

  nlohmann::json status = Status(sandbox, started.publish_id);
  EXPECT_EQ(status["status"], "PROCESSING_DOWNLOAD");
  EXPECT_EQ(status["uploaded_bytes"], size);
  sandbox.Advance(absl::Milliseconds(1100));
  status = Status(sandbox, started.publish_id);
  EXPECT_EQ(status["status"], "PUBLISH_COMPLETE");
  EXPECT_TRUE(status["publicaly_available_post_id"].empty());
  sandbox.Advance(absl::Milliseconds(1000));
  status = Status(sandbox, started.publish_id);
  ASSERT_EQ(status["publicaly_available_post_id"].size(), 1u);
  const nlohmann::json id = status["publicaly_available_post_id"][0];
  ASSERT_TRUE(id.is_number_integer());
  const std::string post_id = std::to_string(id.get<int64_t>());
  EXPECT_EQ(post_id.size(), 19u);

  // Metrics grow with the sandbox's days.
  auto query = [&]() {
    http::Response response =
        Post(sandbox, "/v2/video/query/?fields=id,view_count,like_count,comment_count,share_count",
             {{"filters", {{"video_ids", {post_id, "7399999999999999999"}}}}});
    EXPECT_EQ(response.status, 200) << response.body;
    nlohmann::json videos = JsonOf(response)["data"]["videos"];
    EXPECT_EQ(videos.size(), 1u);
    return videos.empty() ? nlohmann::json::object() : videos[0];
  };
  nlohmann::json early = query();
  EXPECT_EQ(early["id"], post_id);
  sandbox.Advance(absl::Hours(48));
  nlohmann::json later = query();
  EXPECT_GT(later["view_count"].get<int64_t>(), early["view_count"].get<int64_t>());
  EXPECT_GE(later["like_count"].get<int64_t>(), early["like_count"].get<int64_t>());
  EXPECT_TRUE(later.contains("share_count"));
  EXPECT_FALSE(later.contains("title"));
}

TEST(TikTokApiTest, ChunkedUploadTakesChunksInOrder) {
  TestSandbox sandbox;
  const std::string video = testing::ReadFile(testing::MakeNoisyVideo("tiktok-big.mp4", 2));
  const int64_t size = static_cast<int64_t>(video.size());
  const int64_t chunk = 5 * 1024 * 1024;
  const int64_t count = size / chunk;
  ASSERT_GE(count, 2) << "the test video is too small: " << size;
  Started started = Init(sandbox, InitBody(size, chunk, count));
  EXPECT_EQ(Put(sandbox, started.upload_url, video.substr(0, chunk), 0, size).status, 206);
  nlohmann::json status = Status(sandbox, started.publish_id);
  EXPECT_EQ(status["status"], "PROCESSING_UPLOAD");
  EXPECT_EQ(status["uploaded_bytes"], chunk);
  // Skipping a chunk: 416; a chunk of the wrong size: 400.
  if (count > 2) {
    EXPECT_EQ(
        Put(sandbox, started.upload_url, video.substr(2 * chunk, chunk), 2 * chunk, size).status,
        416);
  }
  EXPECT_EQ(Put(sandbox, started.upload_url, video.substr(chunk, 1000), chunk, size).status, 400);
  // The first chunk again: answered, not stored twice.
  EXPECT_EQ(Put(sandbox, started.upload_url, video.substr(0, chunk), 0, size).status, 206);
  for (int64_t i = 1; i < count; ++i) {
    const int64_t first = i * chunk;
    const int64_t length = i == count - 1 ? size - first : chunk;
    EXPECT_EQ(Put(sandbox, started.upload_url, video.substr(first, length), first, size).status,
              i == count - 1 ? 201 : 206);
  }
  nlohmann::json posts = JsonOf(sandbox.Call("GET", "/_sandbox/posts?platform=tiktok"))["posts"];
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0]["video_bytes"], size);
  EXPECT_EQ(posts[0]["video_sha256"], Sha256Hex(video));
  sandbox.Advance(absl::Seconds(3));
  EXPECT_EQ(Status(sandbox, started.publish_id)["status"], "PUBLISH_COMPLETE");
}

TEST(TikTokApiTest, PrivatePostsNeverGetAPublicId) {
  TestSandbox sandbox;
  const std::string video = testing::ReadFile(testing::MakeVideo("tiktok-private.mp4"));
  const int64_t size = static_cast<int64_t>(video.size());
  Started started = Init(sandbox, InitBody(size, size, 1, "SELF_ONLY"));
  ASSERT_EQ(Put(sandbox, started.upload_url, video, 0, size).status, 201);
  sandbox.Advance(absl::Hours(1));
  nlohmann::json status = Status(sandbox, started.publish_id);
  EXPECT_EQ(status["status"], "PUBLISH_COMPLETE");
  EXPECT_TRUE(status["publicaly_available_post_id"].empty());
}

TEST(TikTokApiTest, UnreadableFilesFailTheFormatCheck) {
  TestSandbox sandbox;
  const std::string junk(4000, 'j');
  Started started = Init(sandbox, InitBody(4000, 4000, 1));
  ASSERT_EQ(Put(sandbox, started.upload_url, junk, 0, 4000).status, 201);
  sandbox.Advance(absl::Seconds(2));
  nlohmann::json status = Status(sandbox, started.publish_id);
  EXPECT_EQ(status["status"], "FAILED");
  EXPECT_EQ(status["fail_reason"], "file_format_check_failed");
  // The post existed from its last byte: it is counted.
  EXPECT_EQ(JsonOf(sandbox.Call("GET", "/_sandbox/stats"))["posts"]["tiktok"], 1);
}

TEST(TikTokApiTest, AnInitNeverUploadedExpiresAfterAnHour) {
  TestSandbox sandbox;
  Started started = Init(sandbox, InitBody(1000, 1000, 1));
  sandbox.Advance(absl::Minutes(61));
  nlohmann::json status = Status(sandbox, started.publish_id);
  EXPECT_EQ(status["status"], "FAILED");
  EXPECT_EQ(status["fail_reason"], "upload_expired");
  EXPECT_EQ(Put(sandbox, started.upload_url, std::string(1000, 'x'), 0, 1000).status, 404);
  EXPECT_EQ(
      Post(sandbox, "/v2/post/publish/status/fetch/", {{"publish_id", "v_pub_file~nope"}}).status,
      400);
}

TEST(TikTokApiTest, UploadRefusesMismatchedRanges) {
  TestSandbox sandbox;
  Started started = Init(sandbox, InitBody(1000, 1000, 1));
  EXPECT_EQ(Put(sandbox, started.upload_url, std::string(1000, 'x'), 0, 2000).status, 400);
  EXPECT_EQ(sandbox
                .Call("PUT", started.upload_url, std::string(10, 'x'),
                      {{"Content-Range", "bytes 0-999/1000"}})
                .status,
            400);
  EXPECT_EQ(sandbox.Call("PUT", started.upload_url, "x", {{"Content-Range", "nonsense"}}).status,
            400);
}

// As TikTok: each refresh hands back a new refresh token. The one used stays good until the
// new one has been used once (a client whose answer was lost can ask again), then is refused.
TEST(TikTokApiTest, RefreshTokensRotateAndTheOldOneLastsUntilTheNewIsUsed) {
  TestSandbox sandbox;
  auto refresh = [&](const std::string& refresh_token,
                     const std::string& secret = "sandbox-secret") {
    return sandbox.Form("/tiktok/v2/oauth/token/",
                        {{"client_key", "sandbox-client"},
                         {"client_secret", secret},
                         {"grant_type", "refresh_token"},
                         {"refresh_token", refresh_token}},
                        "");
  };
  http::Response refreshed = refresh("sandbox-refresh");
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  nlohmann::json token = JsonOf(refreshed);
  EXPECT_EQ(token["access_token"], "sbx-tiktok-1");
  EXPECT_EQ(token["expires_in"], 86400);
  EXPECT_EQ(token["token_type"], "Bearer");
  const std::string first = token["refresh_token"];
  EXPECT_NE(first, "sandbox-refresh");
  EXPECT_EQ(Post(sandbox, "/v2/post/publish/creator_info/query/", {}, "sbx-tiktok-1").status, 200);
  EXPECT_EQ(refresh("wrong").status, 400);
  EXPECT_EQ(JsonOf(refresh("wrong"))["error"], "invalid_grant");
  EXPECT_EQ(refresh("sandbox-refresh", "bad").status, 401);

  // The answer was lost: the old one is asked again, and works, with yet another new one.
  http::Response again = refresh("sandbox-refresh");
  ASSERT_EQ(again.status, 200) << again.body;
  const std::string second = JsonOf(again)["refresh_token"];
  EXPECT_NE(second, first);
  // The newest is used: from then on the old one is refused.
  http::Response used = refresh(second);
  ASSERT_EQ(used.status, 200) << used.body;
  EXPECT_EQ(JsonOf(refresh("sandbox-refresh"))["error"], "invalid_grant");
  const std::string third = JsonOf(used)["refresh_token"];

  ASSERT_EQ(sandbox.Call("POST", "/_sandbox/tokens/expire?platform=tiktok").status, 200);
  EXPECT_EQ(Post(sandbox, "/v2/post/publish/creator_info/query/", {}, "sbx-tiktok-1").status, 401);
  EXPECT_EQ(Post(sandbox, "/v2/post/publish/creator_info/query/", {}).status, 401);
  EXPECT_EQ(refresh(third).status, 200);
  ASSERT_EQ(sandbox.Call("POST", "/_sandbox/tokens/revoke_refresh?platform=tiktok").status, 200);
  EXPECT_EQ(JsonOf(refresh(third))["error"], "invalid_grant");
}

TEST(TikTokApiTest, RateLimitsAnswer429WithRetryAfter) {
  Options options = TestOptions();
  options.rate_scale = 1;
  TestSandbox sandbox(options);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(Post(sandbox, "/v2/post/publish/video/init/", InitBody(1000, 1000, 1)).status, 200);
  }
  http::Response limited = Post(sandbox, "/v2/post/publish/video/init/", InitBody(1000, 1000, 1));
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(JsonOf(limited)["error"]["code"], "rate_limit_exceeded");
  int retry_after = 0;
  EXPECT_TRUE(absl::SimpleAtoi(limited.headers["retry-after"], &retry_after));
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 60);
  sandbox.Advance(absl::Seconds(61));
  EXPECT_EQ(Post(sandbox, "/v2/post/publish/video/init/", InitBody(1000, 1000, 1)).status, 200);
}

TEST(TikTokApiTest, VideoQueryChecksItsInput) {
  TestSandbox sandbox;
  std::vector<std::string> ids(21, "1");
  EXPECT_EQ(Post(sandbox, "/v2/video/query/?fields=id", {{"filters", {{"video_ids", ids}}}}).status,
            400);
  EXPECT_EQ(Post(sandbox, "/v2/video/query/", {{"filters", {{"video_ids", {"1"}}}}}).status, 400);
  EXPECT_EQ(
      Post(sandbox, "/v2/video/query/?fields=id,secret", {{"filters", {{"video_ids", {"1"}}}}})
          .status,
      400);
  http::Response none =
      Post(sandbox, "/v2/video/query/?fields=id", {{"filters", {{"video_ids", {"1"}}}}});
  EXPECT_EQ(none.status, 200);
  EXPECT_TRUE(JsonOf(none)["data"]["videos"].empty());
}

}  // namespace
}  // namespace cf::sandbox
