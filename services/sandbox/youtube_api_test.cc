#include "services/sandbox/youtube_api.h"

#include <gtest/gtest.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "services/sandbox/sandbox_testing.h"
#include "services/sandbox/videos.h"

namespace cf::sandbox {
namespace {

using testing::JsonOf;
using testing::TestOptions;
using testing::TestSandbox;

nlohmann::json Resource(const std::string& title = "A Short") {
  return {{"snippet",
           {{"title", title},
            {"description", "Description #ad"},
            {"tags", {"a", "b"}},
            {"categoryId", "22"}}},
          {"status",
           {{"privacyStatus", "unlisted"},
            {"selfDeclaredMadeForKids", false},
            {"containsSyntheticMedia", true}}},
          {"paidProductPlacementDetails", {{"hasPaidProductPlacement", true}}}};
}

http::Response Insert(TestSandbox& sandbox, const nlohmann::json& resource, int64_t length,
                      const std::string& token = "sandbox-access",
                      const std::string& upload_type = "resumable") {
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Authorization", "Bearer " + token},
      {"Content-Type", "application/json; charset=UTF-8"},
      {"X-Upload-Content-Type", "video/mp4"}};
  if (length > 0) headers.push_back({"X-Upload-Content-Length", std::to_string(length)});
  return sandbox.Call(
      "POST",
      "/youtube/upload/youtube/v3/videos?uploadType=" + upload_type + "&part=snippet,status",
      resource.dump(), headers);
}

http::Response PutRange(TestSandbox& sandbox, const std::string& session, const std::string& bytes,
                        int64_t first, int64_t total) {
  return sandbox.Call("PUT", session, bytes,
                      {{"Content-Range",
                        absl::StrCat("bytes ", first, "-", first + bytes.size() - 1, "/", total)}});
}

http::Response Query(TestSandbox& sandbox, const std::string& session, int64_t total) {
  return sandbox.Call("PUT", session, "", {{"Content-Range", absl::StrCat("bytes */", total)}});
}

nlohmann::json List(TestSandbox& sandbox, const std::string& id) {
  http::Response response = sandbox.Call(
      "GET", "/youtube/youtube/v3/videos?part=status,processingDetails,statistics&id=" + id, "",
      {{"Authorization", "Bearer sandbox-access"}});
  EXPECT_EQ(response.status, 200) << response.body;
  nlohmann::json items = JsonOf(response)["items"];
  EXPECT_EQ(items.size(), 1u);
  return items.empty() ? nlohmann::json::object() : items[0];
}

TEST(YouTubeApiTest, ResumableUploadThenProcessing) {
  TestSandbox sandbox;
  const std::string video = testing::ReadFile(testing::MakeVideo("yt.mp4"));
  const int64_t size = static_cast<int64_t>(video.size());
  http::Response inserted = Insert(sandbox, Resource(), size);
  ASSERT_EQ(inserted.status, 200) << inserted.body;
  const std::string session = inserted.headers["location"];
  EXPECT_EQ(
      session.rfind(
          sandbox.Url("/youtube/upload/youtube/v3/videos?uploadType=resumable&upload_id="), 0),
      0u)
      << session;

  http::Response nothing = Query(sandbox, session, size);
  EXPECT_EQ(nothing.status, 308);
  EXPECT_EQ(nothing.headers.count("range"), 0u);
  const int64_t half = size / 2;
  http::Response first = PutRange(sandbox, session, video.substr(0, half), 0, size);
  EXPECT_EQ(first.status, 308);
  EXPECT_EQ(first.headers["range"], absl::StrCat("bytes=0-", half - 1));
  http::Response asked = Query(sandbox, session, size);
  EXPECT_EQ(asked.status, 308);
  EXPECT_EQ(asked.headers["range"], absl::StrCat("bytes=0-", half - 1));
  // A chunk past what is in is not kept; the Range says where to resume.
  http::Response gap = PutRange(sandbox, session, video.substr(half + 10), half + 10, size);
  EXPECT_EQ(gap.status, 308);
  EXPECT_EQ(gap.headers["range"], absl::StrCat("bytes=0-", half - 1));
  // Resending from a little before the end of what is in keeps only the new bytes.
  http::Response last = PutRange(sandbox, session, video.substr(half - 5), half - 5, size);
  ASSERT_EQ(last.status, 200) << last.body;
  nlohmann::json resource = JsonOf(last);
  const std::string id = resource["id"];
  EXPECT_EQ(id.size(), 11u);
  EXPECT_EQ(resource["status"]["uploadStatus"], "uploaded");
  EXPECT_EQ(resource["status"]["privacyStatus"], "unlisted");
  EXPECT_EQ(resource["snippet"]["title"], "A Short");
  // Asking after completion answers the resource again.
  http::Response done = Query(sandbox, session, size);
  EXPECT_EQ(done.status, 200);
  EXPECT_EQ(JsonOf(done)["id"], id);

  nlohmann::json posts = JsonOf(sandbox.Call("GET", "/_sandbox/posts?platform=youtube"))["posts"];
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0]["video_sha256"], Sha256Hex(video));
  EXPECT_EQ(posts[0]["title"], "A Short");
  EXPECT_EQ(posts[0]["caption"], "Description #ad");
  EXPECT_EQ(posts[0]["flags"]["hasPaidProductPlacement"], true);

  nlohmann::json item = List(sandbox, id);
  EXPECT_EQ(item["processingDetails"]["processingStatus"], "processing");
  EXPECT_EQ(item["status"]["uploadStatus"], "uploaded");
  sandbox.Advance(absl::Seconds(2));
  item = List(sandbox, id);
  EXPECT_EQ(item["processingDetails"]["processingStatus"], "succeeded");
  EXPECT_EQ(item["status"]["uploadStatus"], "processed");
  ASSERT_TRUE(item["statistics"]["viewCount"].is_string());
  const int64_t early = std::stoll(item["statistics"]["viewCount"].get<std::string>());
  sandbox.Advance(absl::Hours(60));
  item = List(sandbox, id);
  EXPECT_GT(std::stoll(item["statistics"]["viewCount"].get<std::string>()), early);
  EXPECT_TRUE(item["statistics"]["likeCount"].is_string());
  EXPECT_TRUE(item["statistics"]["commentCount"].is_string());
}

TEST(YouTubeApiTest, InsertChecksTheResource) {
  TestSandbox sandbox;
  auto reason = [&](const nlohmann::json& resource) {
    http::Response response = Insert(sandbox, resource, 100);
    EXPECT_EQ(response.status, 400) << response.body;
    return JsonOf(response)["error"]["errors"][0].value("reason", "");
  };
  nlohmann::json no_kids = Resource();
  no_kids["status"].erase("selfDeclaredMadeForKids");
  EXPECT_EQ(reason(no_kids), "invalidVideoMetadata");
  EXPECT_EQ(reason(Resource(std::string(101, 't'))), "invalidTitle");
  EXPECT_EQ(reason(Resource("a <b> title")), "invalidTitle");
  EXPECT_EQ(reason(Resource("")), "invalidTitle");
  nlohmann::json privacy = Resource();
  privacy["status"]["privacyStatus"] = "secret";
  EXPECT_EQ(reason(privacy), "invalidVideoMetadata");
  EXPECT_EQ(Insert(sandbox, Resource(), 100, "sandbox-access", "media").status, 400);
  http::Response unauthorized = Insert(sandbox, Resource(), 100, "nope");
  EXPECT_EQ(unauthorized.status, 401);
  EXPECT_EQ(JsonOf(unauthorized)["error"]["status"], "UNAUTHENTICATED");
  EXPECT_EQ(JsonOf(unauthorized)["error"]["errors"][0]["reason"], "authError");
}

TEST(YouTubeApiTest, UploadsRefuseWhatDoesNotFit) {
  TestSandbox sandbox;
  http::Response inserted = Insert(sandbox, Resource(), 1000);
  const std::string session = inserted.headers["location"];
  EXPECT_EQ(PutRange(sandbox, session, std::string(100, 'x'), 0, 2000).status, 400);
  EXPECT_EQ(sandbox.Call("PUT", session, "xx", {{"Content-Range", "bytes 0-9/1000"}}).status, 400);
  EXPECT_EQ(sandbox.Call("PUT", session + "x", "", {{"Content-Range", "bytes */1000"}}).status,
            404);
  // Junk bytes make a video that fails processing.
  ASSERT_EQ(PutRange(sandbox, session, std::string(1000, 'j'), 0, 1000).status, 200);
  const std::string id = JsonOf(Query(sandbox, session, 1000))["id"];
  sandbox.Advance(absl::Seconds(2));
  nlohmann::json item = List(sandbox, id);
  EXPECT_EQ(item["processingDetails"]["processingStatus"], "failed");
  EXPECT_EQ(item["status"]["uploadStatus"], "failed");
}

TEST(YouTubeApiTest, OnePutWithTheWholeVideoWorksToo) {
  TestSandbox sandbox;
  http::Response inserted = Insert(sandbox, Resource(), 0);  // no X-Upload-Content-Length
  const std::string video = testing::ReadFile(testing::MakeVideo("yt-whole.mp4"));
  http::Response put =
      sandbox.Call("PUT", inserted.headers["location"], video, {{"Content-Type", "video/mp4"}});
  ASSERT_EQ(put.status, 200) << put.body;
}

TEST(YouTubeApiTest, QuotaRunsOutAfterUploads) {
  Options options = TestOptions();
  options.rate_scale = 0.2;  // 2,000 units a day: one upload (1,600)
  TestSandbox sandbox(options);
  EXPECT_EQ(Insert(sandbox, Resource(), 100).status, 200);
  http::Response exceeded = Insert(sandbox, Resource(), 100);
  EXPECT_EQ(exceeded.status, 403);
  EXPECT_EQ(JsonOf(exceeded)["error"]["errors"][0]["reason"], "quotaExceeded");
  sandbox.Advance(absl::Hours(25));
  EXPECT_EQ(Insert(sandbox, Resource(), 100).status, 200);
}

TEST(YouTubeApiTest, GoogleRefreshIssuesTokensUntilRevoked) {
  TestSandbox sandbox;
  auto refresh = [&](const std::string& refresh_token) {
    return sandbox.Form("/google/token",
                        {{"client_id", "sandbox-client"},
                         {"client_secret", "sandbox-secret"},
                         {"grant_type", "refresh_token"},
                         {"refresh_token", refresh_token}},
                        "");
  };
  ASSERT_EQ(sandbox.Call("POST", "/_sandbox/tokens/expire?platform=youtube").status, 200);
  EXPECT_EQ(Insert(sandbox, Resource(), 100).status, 401);
  http::Response refreshed = refresh("sandbox-refresh");
  ASSERT_EQ(refreshed.status, 200) << refreshed.body;
  EXPECT_EQ(JsonOf(refreshed)["expires_in"], 3599);
  EXPECT_EQ(JsonOf(refreshed)["token_type"], "Bearer");
  const std::string token = JsonOf(refreshed)["access_token"];
  EXPECT_EQ(Insert(sandbox, Resource(), 100, token).status, 200);
  http::Response bad = refresh("other");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(JsonOf(bad)["error"], "invalid_grant");
  EXPECT_EQ(JsonOf(bad)["error_description"], "Token has been expired or revoked.");
  ASSERT_EQ(sandbox.Call("POST", "/_sandbox/tokens/revoke_refresh?platform=google").status, 200);
  EXPECT_EQ(JsonOf(refresh("sandbox-refresh"))["error"], "invalid_grant");
}

TEST(YouTubeApiTest, VideoIdsAreDistinct) {
  std::set<std::string> ids;
  for (int64_t n = 1; n <= 10000; ++n) ids.insert(YouTubeVideoId(n));
  EXPECT_EQ(ids.size(), 10000u);
}

}  // namespace
}  // namespace cf::sandbox
