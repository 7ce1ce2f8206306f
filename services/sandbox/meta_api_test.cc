#include "services/sandbox/meta_api.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/testing/subprocess.h"
#include "services/sandbox/sandbox_testing.h"
#include "services/sandbox/videos.h"

namespace cf::sandbox {
namespace {

using testing::JsonOf;
using testing::TestOptions;
using testing::TestSandbox;

const std::string kGraph = "/graph/v21.0";
const std::string kUser = kInstagramUser;
const std::string kPage = kFacebookPage;

// A folder served over loopback HTTP, where Instagram fetches video_url from.
class MediaServer {
 public:
  MediaServer() : dir_(cf::testing::TestTempPath("media")) {
    MakeDirs(dir_).IgnoreError();
    server_.set_mount_point("/", dir_);
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~MediaServer() {
    while (thread_.joinable()) {
      server_.stop();
      if (!server_.is_running()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        if (!server_.is_running()) {
          server_.stop();
          thread_.join();
        }
      }
    }
  }
  // Copies `path` into the folder: its URL.
  std::string Serve(const std::string& path, const std::string& name) {
    WriteFileAtomically(dir_ + "/" + name, testing::ReadFile(path)).IgnoreError();
    return Url(name);
  }
  std::string Url(const std::string& name) const {
    return absl::StrCat("http://127.0.0.1:", port_, "/", name);
  }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

class MetaApiTest : public ::testing::Test {
 protected:
  http::Response Get(const std::string& path, const std::string& token = "sandbox-access") {
    return sandbox_.Call("GET", kGraph + path, "", {{"Authorization", "Bearer " + token}});
  }
  http::Response Form(const std::string& path,
                      const std::vector<std::pair<std::string, std::string>>& fields,
                      const std::string& token = "sandbox-access") {
    return sandbox_.Form(kGraph + path, fields, token);
  }
  std::string CreateContainer(const std::string& url, const std::string& caption = "Reel #ad") {
    http::Response made = Form("/" + kUser + "/media", {{"media_type", "REELS"},
                                                        {"video_url", url},
                                                        {"caption", caption},
                                                        {"share_to_feed", "true"},
                                                        {"is_ai_generated", "true"}});
    EXPECT_EQ(made.status, 200) << made.body;
    return JsonOf(made).value("id", "");
  }
  std::string ContainerCode(const std::string& id) {
    return JsonOf(Get("/" + id + "?fields=status_code,status")).value("status_code", "");
  }
  // Waits (the fetch is real work on a real thread) until the container leaves IN_PROGRESS.
  std::string SettledCode(const std::string& id) {
    std::string code;
    cf::testing::WaitUntil(
        [&] {
          code = ContainerCode(id);
          return code != "IN_PROGRESS";
        },
        std::chrono::seconds(20));
    return code;
  }

  TestSandbox sandbox_;
  MediaServer media_;
};

TEST_F(MetaApiTest, InstagramReelFromContainerToInsights) {
  const std::string url = media_.Serve(testing::MakeVideo("ig.mp4"), "ig.mp4");
  const std::string container = CreateContainer(url);
  ASSERT_FALSE(container.empty());
  ASSERT_EQ(SettledCode(container), "FINISHED");
  EXPECT_EQ(JsonOf(Get("/" + container + "?fields=status_code,status"))["status"]
                .get<std::string>()
                .rfind("Finished", 0),
            0u);

  http::Response published = Form("/" + kUser + "/media_publish", {{"creation_id", container}});
  ASSERT_EQ(published.status, 200) << published.body;
  const std::string media = JsonOf(published)["id"];
  EXPECT_EQ(ContainerCode(container), "PUBLISHED");
  // A container publishes once.
  http::Response again = Form("/" + kUser + "/media_publish", {{"creation_id", container}});
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(JsonOf(again)["error"]["code"], 9007);
  EXPECT_EQ(JsonOf(again)["error"]["type"], "OAuthException");

  // A second post of the same video and caption is a second post (and a duplicate).
  const std::string second_container = CreateContainer(url);
  ASSERT_EQ(SettledCode(second_container), "FINISHED");
  http::Response second = Form("/" + kUser + "/media_publish", {{"creation_id", second_container}});
  ASSERT_EQ(second.status, 200);
  const std::string second_media = JsonOf(second)["id"];
  nlohmann::json stats = JsonOf(sandbox_.Call("GET", "/_sandbox/stats"));
  EXPECT_EQ(stats["posts"]["instagram"], 2);
  EXPECT_EQ(stats["duplicates"], 1);

  http::Response listed = Get("/" + kUser + "/media?fields=id,caption,timestamp,permalink&limit=1");
  ASSERT_EQ(listed.status, 200) << listed.body;
  nlohmann::json list = JsonOf(listed);
  ASSERT_EQ(list["data"].size(), 1u);
  EXPECT_EQ(list["data"][0]["id"], second_media);  // newest first
  EXPECT_EQ(list["data"][0]["caption"], "Reel #ad");
  EXPECT_TRUE(list["paging"].contains("next"));
  nlohmann::json rest =
      JsonOf(Get("/" + kUser + "/media?fields=id,caption&limit=5&after=" + second_media));
  ASSERT_EQ(rest["data"].size(), 1u);
  EXPECT_EQ(rest["data"][0]["id"], media);

  nlohmann::json one = JsonOf(Get("/" + media + "?fields=id,permalink,timestamp"));
  EXPECT_EQ(one["id"], media);
  const std::string permalink = one["permalink"];
  EXPECT_EQ(sandbox_.Call("GET", permalink).body, testing::ReadFile(media_.dir() + "/ig.mp4"));
  absl::Time at;
  std::string error;
  EXPECT_TRUE(absl::ParseTime("%Y-%m-%dT%H:%M:%S%z", one["timestamp"], &at, &error)) << error;

  auto insights = [&]() {
    http::Response response =
        Get("/" + media + "/insights?metric=views,likes,comments,shares,saved,reach");
    EXPECT_EQ(response.status, 200) << response.body;
    std::map<std::string, int64_t> values;
    const nlohmann::json body = JsonOf(response);
    for (const nlohmann::json& metric : body["data"]) {
      values[metric["name"]] = metric["values"][0]["value"];
      EXPECT_EQ(metric["period"], "lifetime");
    }
    EXPECT_EQ(values.size(), 6u);
    return values;
  };
  std::map<std::string, int64_t> early = insights();
  sandbox_.Advance(absl::Hours(72));
  std::map<std::string, int64_t> later = insights();
  EXPECT_GT(later["views"], early["views"]);
  EXPECT_GE(later["reach"], early["reach"]);
  EXPECT_LE(later["reach"], later["views"]);
  EXPECT_EQ(Get("/" + media + "/insights?metric=plays").status, 400);
}

TEST_F(MetaApiTest, ContainersThatCannotBeFetchedOrReadEndInError) {
  const std::string missing = CreateContainer(media_.Url("missing.mp4"));
  const std::string junk_path = cf::testing::TestTempPath("junk.mp4");
  WriteFileAtomically(junk_path, std::string(3000, 'j')).IgnoreError();
  const std::string junk = CreateContainer(media_.Serve(junk_path, "junk.mp4"));
  EXPECT_EQ(SettledCode(missing), "ERROR");
  EXPECT_NE(
      JsonOf(Get("/" + missing + "?fields=status_code,status"))["status"].get<std::string>().find(
          "404"),
      std::string::npos);
  EXPECT_EQ(SettledCode(junk), "ERROR");
  http::Response refused = Form("/" + kUser + "/media_publish", {{"creation_id", junk}});
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(JsonOf(refused)["error"]["code"], 9007);
  EXPECT_EQ(JsonOf(refused)["error"]["error_subcode"], 2207027);
  EXPECT_EQ(Form("/" + kUser + "/media_publish", {{"creation_id", "123"}}).status, 400);
  EXPECT_EQ(JsonOf(sandbox_.Call("GET", "/_sandbox/stats"))["posts"]["instagram"], 0);
}

TEST_F(MetaApiTest, UnpublishedContainersExpireAfterADay) {
  const std::string container =
      CreateContainer(media_.Serve(testing::MakeVideo("exp.mp4"), "exp.mp4"));
  ASSERT_EQ(SettledCode(container), "FINISHED");
  sandbox_.Advance(absl::Hours(25));
  EXPECT_EQ(ContainerCode(container), "EXPIRED");
  EXPECT_EQ(
      JsonOf(Form("/" + kUser + "/media_publish", {{"creation_id", container}}))["error"]["code"],
      9007);
}

TEST_F(MetaApiTest, ContainerCreationChecksItsParameters) {
  const std::string url = media_.Url("x.mp4");
  auto create = [&](std::vector<std::pair<std::string, std::string>> fields,
                    const std::string& user = kUser) {
    http::Response response = Form("/" + user + "/media", fields);
    if (response.status != 200) {
      EXPECT_EQ(JsonOf(response)["error"]["code"], 100) << response.body;
    }
    return response.status;
  };
  EXPECT_EQ(create({{"media_type", "IMAGE"}, {"video_url", url}}), 400);
  EXPECT_EQ(create({{"media_type", "REELS"}, {"video_url", "ftp://x/y.mp4"}}), 400);
  EXPECT_EQ(create({{"media_type", "REELS"}}), 400);
  EXPECT_EQ(
      create({{"media_type", "REELS"}, {"video_url", url}, {"caption", std::string(2201, 'c')}}),
      400);
  std::string tags;
  for (int i = 0; i < 31; ++i) tags += absl::StrCat("#tag", i, " ");
  EXPECT_EQ(create({{"media_type", "REELS"}, {"video_url", url}, {"caption", tags}}), 400);
  EXPECT_EQ(create({{"media_type", "REELS"}, {"video_url", url}}, "42"), 400);
  EXPECT_EQ(create({{"media_type", "REELS"}, {"video_url", url}, {"share_to_feed", "maybe"}}), 400);
  // A caption of 2,200 characters far beyond httplib's 8 KB form limit once encoded.
  std::string long_caption;
  for (int i = 0; i < 1100; ++i) long_caption += "\xF0\x9F\x98\x80";  // 2 UTF-16 units each
  EXPECT_EQ(create({{"media_type", "REELS"}, {"video_url", url}, {"caption", long_caption}}), 200);
  EXPECT_EQ(Get("/999").status, 400);
  EXPECT_EQ(JsonOf(Get("/999"))["error"]["error_subcode"], 33);
}

TEST_F(MetaApiTest, FacebookResumableUploadThenProcessing) {
  const std::string video = testing::ReadFile(testing::MakeVideo("fb.mp4"));
  const int64_t size = static_cast<int64_t>(video.size());
  http::Response started = Form("/" + kPage + "/videos",
                                {{"upload_phase", "start"}, {"file_size", std::to_string(size)}});
  ASSERT_EQ(started.status, 200) << started.body;
  nlohmann::json start = JsonOf(started);
  const std::string video_id = start["video_id"];
  const std::string session = start["upload_session_id"];
  EXPECT_EQ(start["start_offset"], "0");
  EXPECT_EQ(start["end_offset"], std::to_string(size));

  auto transfer = [&](int64_t offset, const std::string& bytes) {
    auto [body, type] = testing::Multipart({{"upload_phase", "transfer"},
                                            {"upload_session_id", session},
                                            {"start_offset", std::to_string(offset)}},
                                           "video_file_chunk", bytes);
    return sandbox_.Call("POST", kGraph + "/" + kPage + "/videos", body,
                         {{"Authorization", "Bearer sandbox-access"}, {"Content-Type", type}});
  };
  const int64_t half = size / 2;
  http::Response first = transfer(0, video.substr(0, half));
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(JsonOf(first)["start_offset"], std::to_string(half));
  nlohmann::json status = JsonOf(Get("/" + video_id + "?fields=status"))["status"];
  EXPECT_EQ(status["video_status"], "upload_incomplete");
  EXPECT_EQ(status["uploading_phase"]["bytes_transferred"], half);
  // Wrong offset: 6001 naming the offsets wanted. The first chunk again: answered, not stored.
  http::Response wrong = transfer(half + 1, video.substr(half + 1));
  EXPECT_EQ(wrong.status, 400);
  EXPECT_EQ(JsonOf(wrong)["error"]["code"], 6001);
  EXPECT_NE(JsonOf(wrong)["error"]["message"].get<std::string>().find(std::to_string(half)),
            std::string::npos);
  EXPECT_EQ(JsonOf(transfer(0, video.substr(0, half)))["start_offset"], std::to_string(half));
  // Finishing before every byte is in fails.
  EXPECT_EQ(
      Form("/" + kPage + "/videos", {{"upload_phase", "finish"}, {"upload_session_id", session}})
          .status,
      400);
  nlohmann::json done = JsonOf(transfer(half, video.substr(half)));
  EXPECT_EQ(done["start_offset"], std::to_string(size));
  EXPECT_EQ(done["end_offset"], std::to_string(size));

  http::Response finished = Form("/" + kPage + "/videos", {{"upload_phase", "finish"},
                                                           {"upload_session_id", session},
                                                           {"description", "FB video #ad"},
                                                           {"title", "Title"},
                                                           {"sponsor_id", "555"}});
  ASSERT_EQ(finished.status, 200) << finished.body;
  EXPECT_EQ(JsonOf(finished)["success"], true);
  http::Response twice =
      Form("/" + kPage + "/videos", {{"upload_phase", "finish"}, {"upload_session_id", session}});
  EXPECT_EQ(twice.status, 400);
  EXPECT_EQ(JsonOf(twice)["error"]["code"], 6000);

  nlohmann::json processing = JsonOf(Get("/" + video_id + "?fields=status,published"));
  EXPECT_EQ(processing["status"]["video_status"], "processing");
  EXPECT_EQ(processing["published"], false);
  sandbox_.Advance(absl::Seconds(2));
  nlohmann::json ready = JsonOf(
      Get("/" + video_id + "?fields=status,permalink_url,published,description,created_time"));
  EXPECT_EQ(ready["status"]["video_status"], "ready");
  EXPECT_EQ(ready["status"]["publishing_phase"]["publish_status"], "published");
  EXPECT_EQ(ready["published"], true);
  EXPECT_EQ(ready["description"], "FB video #ad");
  EXPECT_EQ(sandbox_.Call("GET", ready["permalink_url"]).body, video);

  auto views = [&]() {
    http::Response response = Get("/" + video_id +
                                  "/video_insights?metric=total_video_views,"
                                  "total_video_reactions_by_type_total,"
                                  "total_video_stories_by_action_type");
    EXPECT_EQ(response.status, 200) << response.body;
    nlohmann::json data = JsonOf(response)["data"];
    EXPECT_EQ(data.size(), 3u);
    EXPECT_TRUE(data[2]["values"][0]["value"].contains("share"));
    return data[0]["values"][0]["value"].get<int64_t>();
  };
  const int64_t early = views();
  sandbox_.Advance(absl::Hours(50));
  EXPECT_GT(views(), early);
  nlohmann::json posts = JsonOf(sandbox_.Call("GET", "/_sandbox/posts?platform=facebook"))["posts"];
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0]["flags"]["sponsor_id"], "555");
  EXPECT_EQ(posts[0]["video_sha256"], Sha256Hex(video));
}

// As Meta: a live token is exchanged for a long-lived one (60 sandbox days, said in
// expires_in), which stops working by itself when those days are over; a token that has
// expired is never exchanged (the user must sign in again).
TEST_F(MetaApiTest, OnlyLiveTokensAreExchangedAndTheirSuccessorsExpire) {
  auto exchange = [&](const std::string& token, const std::string& secret = "sandbox-secret") {
    return sandbox_.Call("GET", kGraph +
                                    "/oauth/access_token?grant_type=fb_exchange_token&"
                                    "client_id=sandbox-app&client_secret=" +
                                    secret + "&fb_exchange_token=" + token);
  };
  http::Response exchanged = exchange("sandbox-access");
  ASSERT_EQ(exchanged.status, 200) << exchanged.body;
  EXPECT_EQ(JsonOf(exchanged)["token_type"], "bearer");
  const int64_t lifetime_s = static_cast<int64_t>(60 * TestOptions().day_seconds);
  EXPECT_EQ(JsonOf(exchanged)["expires_in"], lifetime_s);
  const std::string token = JsonOf(exchanged)["access_token"];
  EXPECT_EQ(token, "sbx-meta-1");
  EXPECT_EQ(Get("/" + kUser + "/media?fields=id", token).status, 200);
  EXPECT_EQ(Get("/" + kUser + "/media?fields=id&access_token=" + token, "").status, 200);
  EXPECT_EQ(JsonOf(exchange("sandbox-access", "bad"))["error"]["code"], 101);
  EXPECT_EQ(JsonOf(exchange("never-issued"))["error"]["code"], 190);

  // Exchanged a day before it ends: a new long-lived token.
  sandbox_.Advance(absl::Seconds(lifetime_s) - absl::Seconds(TestOptions().day_seconds));
  http::Response early = exchange(token);
  ASSERT_EQ(early.status, 200) << early.body;
  const std::string next = JsonOf(early)["access_token"];
  // Past its end, the first stops working and cannot be exchanged; the second still works.
  sandbox_.Advance(absl::Seconds(TestOptions().day_seconds) + absl::Seconds(1));
  http::Response expired = Get("/" + kUser + "/media?fields=id", token);
  EXPECT_EQ(expired.status, 401);
  EXPECT_EQ(JsonOf(expired)["error"]["code"], 190);
  EXPECT_EQ(JsonOf(expired)["error"]["error_subcode"], 463);
  http::Response too_late = exchange(token);
  EXPECT_EQ(too_late.status, 400);
  EXPECT_EQ(JsonOf(too_late)["error"]["code"], 190);
  EXPECT_EQ(JsonOf(too_late)["error"]["error_subcode"], 463);
  EXPECT_EQ(Get("/" + kUser + "/media?fields=id", next).status, 200);

  // Expired through the control API: refused, and not exchanged either.
  ASSERT_EQ(sandbox_.Call("POST", "/_sandbox/tokens/expire?platform=instagram").status, 200);
  EXPECT_EQ(Get("/" + kUser + "/media?fields=id", next).status, 401);
  // Facebook shares the token.
  EXPECT_EQ(
      Form("/" + kPage + "/videos", {{"upload_phase", "start"}, {"file_size", "10"}}, next).status,
      401);
  EXPECT_EQ(JsonOf(exchange(next))["error"]["error_subcode"], 463);
  EXPECT_EQ(JsonOf(exchange("sandbox-access"))["error"]["error_subcode"], 463);
}

TEST_F(MetaApiTest, AnExchangeIsRefusedOnceAuthorizationIsRevoked) {
  ASSERT_EQ(sandbox_.Call("POST", "/_sandbox/tokens/revoke_refresh?platform=facebook").status, 200);
  http::Response revoked =
      sandbox_.Call("GET", kGraph +
                               "/oauth/access_token?grant_type=fb_exchange_token&client_id="
                               "sandbox-app&client_secret=sandbox-secret&fb_exchange_token="
                               "sandbox-access");
  EXPECT_EQ(revoked.status, 400);
  EXPECT_EQ(JsonOf(revoked)["error"]["code"], 190);
  EXPECT_EQ(JsonOf(revoked)["error"]["error_subcode"], 458);
}

TEST_F(MetaApiTest, LostAnswerOnPublishStillPublishes) {
  const std::string container =
      CreateContainer(media_.Serve(testing::MakeVideo("lost.mp4"), "lost.mp4"));
  ASSERT_EQ(SettledCode(container), "FINISHED");
  ASSERT_EQ(sandbox_
                .Call("POST", "/_sandbox/faults",
                      R"({"faults": [{"platform": "instagram", "operation": "publish",
                                      "kind": "lost_answer"}]})")
                .status,
            200);
  http::Response lost = Form("/" + kUser + "/media_publish", {{"creation_id", container}});
  EXPECT_EQ(lost.status, 502);
  EXPECT_TRUE(lost.body.empty());
  EXPECT_EQ(
      JsonOf(Form("/" + kUser + "/media_publish", {{"creation_id", container}}))["error"]["code"],
      9007);
  EXPECT_EQ(JsonOf(Get("/" + kUser + "/media?fields=id,caption"))["data"].size(), 1u);
}

TEST(MetaRateTest, GraphCallsAndPublishesAreLimited) {
  Options options = TestOptions();
  options.rate_scale = 0.01;  // 2 Graph calls an hour, 1 publish a day
  TestSandbox sandbox(options);
  auto get = [&]() {
    return sandbox.Call("GET", kGraph + "/" + kUser + "/media?fields=id", "",
                        {{"Authorization", "Bearer sandbox-access"}});
  };
  EXPECT_EQ(get().status, 200);
  EXPECT_EQ(get().status, 200);
  http::Response limited = get();
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(JsonOf(limited)["error"]["code"], 4);
  int retry_after = 0;
  EXPECT_TRUE(absl::SimpleAtoi(limited.headers["retry-after"], &retry_after));
  EXPECT_GT(retry_after, 0);
  // Facebook's page has a budget of its own.
  EXPECT_EQ(
      sandbox
          .Form(kGraph + "/" + kPage + "/videos", {{"upload_phase", "start"}, {"file_size", "10"}})
          .status,
      200);
  sandbox.Advance(absl::Hours(1));
  EXPECT_EQ(get().status, 200);
}

}  // namespace
}  // namespace cf::sandbox
