// The real sandbox_server and media_server binaries as child processes, driven over HTTP the way
// the publishing adapters drive the real platforms. Waits poll with a deadline; nothing sleeps
// for a fixed time.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/http/http_client.h"
#include "common/media/ffmpeg.h"
#include "common/testing/subprocess.h"
#include "nlohmann/json.hpp"

namespace cf::sandbox {
namespace {

using cf::testing::FreePort;
using cf::testing::RunfilePath;
using cf::testing::Subprocess;
using cf::testing::TestTempPath;
using cf::testing::WaitUntil;

constexpr std::chrono::seconds kDeadline(20);
const std::string kIgUser = "17841400000000001";
const std::string kPage = "100000000000001";
using Headers = std::vector<std::pair<std::string, std::string>>;

http::Response Call(const std::string& method, const std::string& url, const std::string& body = "",
                    const Headers& headers = {}) {
  http::Request request;
  request.method = method;
  request.url = url;
  request.body = body;
  request.headers = headers;
  request.headers.push_back({"X-Sandbox-Control", "1"});
  request.timeout = absl::Seconds(30);
  absl::StatusOr<http::Response> response = http::Send(request);
  if (!response.ok()) return http::Response{};  // status 0: nothing answered
  return *response;
}

nlohmann::json JsonOf(const http::Response& response) {
  nlohmann::json json = nlohmann::json::parse(response.body, nullptr, false);
  return json.is_discarded() ? nlohmann::json() : json;
}

std::string Encode(const Headers& fields) {
  std::string body;
  for (const auto& [name, value] : fields) {
    absl::StrAppend(&body, body.empty() ? "" : "&", name, "=");
    for (unsigned char c : value) {
      if (isalnum(c) || c == '-' || c == '_' || c == '.') {
        body.push_back(static_cast<char>(c));
      } else {
        absl::StrAppend(&body, "%", absl::Hex(c, absl::kZeroPad2));
      }
    }
  }
  return body;
}

std::string ReadAll(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

std::string MakeVideo(const std::string& name, double seconds = 1) {
  const std::string path = TestTempPath(name);
  absl::Status made =
      media::RunFfmpeg({"-f", "lavfi", "-i", absl::StrCat("testsrc=s=320x240:d=", seconds), "-c:v",
                        "libx264", "-pix_fmt", "yuv420p", "-preset", "ultrafast", path},
                       media::RenderOptions{});
  EXPECT_TRUE(made.ok()) << made;
  return path;
}

// One sandbox_server child process over a data folder that outlives it.
class SandboxProcess {
 public:
  explicit SandboxProcess(std::vector<std::string> flags)
      : flags_(std::move(flags)), data_dir_(TestTempPath(absl::StrCat("data-", ++count_))) {
    Start();
  }
  ~SandboxProcess() {
    if (process_) {
      EXPECT_EQ(Stop(), 0);
    }
  }

  void Start() {
    port_ = FreePort();
    std::vector<std::string> argv = {RunfilePath("services/sandbox/sandbox_server"), "--listen",
                                     absl::StrCat("127.0.0.1:", port_), "--data_dir=" + data_dir_};
    argv.insert(argv.end(), flags_.begin(), flags_.end());
    process_ = std::make_unique<Subprocess>(argv, std::map<std::string, std::string>{},
                                            TestTempPath(absl::StrCat("sandbox-", count_, ".log")));
    ASSERT_TRUE(
        WaitUntil([&] { return Call("GET", Url("/_sandbox/stats")).status == 200; }, kDeadline))
        << "the sandbox did not start; see its log";
  }
  // SIGTERM: the exit code (0 is a clean stop).
  int Stop() {
    process_->Signal(SIGTERM);
    const int status = process_->Wait(std::chrono::seconds(20));
    process_.reset();
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  void Restart() {
    ASSERT_EQ(Stop(), 0);
    Start();
  }

  std::string Url(const std::string& path) const {
    return absl::StrCat("http://127.0.0.1:", port_, path);
  }
  http::Response Json(const std::string& path, const nlohmann::json& body,
                      const std::string& token = "sandbox-access") {
    return Call("POST", Url(path), body.dump(),
                {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}});
  }
  http::Response Form(const std::string& path, const Headers& fields,
                      const std::string& token = "sandbox-access") {
    Headers headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    if (!token.empty()) headers.push_back({"Authorization", "Bearer " + token});
    return Call("POST", Url(path), Encode(fields), headers);
  }
  http::Response Get(const std::string& path, const std::string& token = "sandbox-access") {
    return Call("GET", Url(path), "", {{"Authorization", "Bearer " + token}});
  }
  nlohmann::json Stats() { return JsonOf(Get("/_sandbox/stats")); }
  void AddFault(const nlohmann::json& rule) {
    http::Response added =
        Call("POST", Url("/_sandbox/faults"), nlohmann::json{{"faults", {rule}}}.dump());
    ASSERT_EQ(added.status, 200) << added.body;
  }

 private:
  static inline int count_ = 0;
  std::vector<std::string> flags_;
  std::string data_dir_;
  int port_ = 0;
  std::unique_ptr<Subprocess> process_;
};

// The media_server binary over a folder: Instagram's video_url points here.
class MediaProcess {
 public:
  MediaProcess() : dir_(TestTempPath("media")) {
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ + "/ready.txt") << "ok";
    port_ = FreePort();
    process_ = std::make_unique<Subprocess>(
        std::vector<std::string>{RunfilePath("services/sandbox/media_server"), "--listen",
                                 absl::StrCat("127.0.0.1:", port_), "--dir", dir_},
        std::map<std::string, std::string>{}, TestTempPath("media.log"));
    EXPECT_TRUE(WaitUntil([&] { return Call("GET", Url("ready.txt")).status == 200; }, kDeadline));
  }
  ~MediaProcess() {
    process_->Signal(SIGTERM);
    const int status = process_->Wait(std::chrono::seconds(20));
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  std::string Serve(const std::string& path, const std::string& name) {
    std::filesystem::copy_file(path, dir_ + "/" + name,
                               std::filesystem::copy_options::overwrite_existing);
    return Url(name);
  }
  std::string Url(const std::string& name) const {
    return absl::StrCat("http://127.0.0.1:", port_, "/", name);
  }

 private:
  std::string dir_;
  int port_ = 0;
  std::unique_ptr<Subprocess> process_;
};

// Fast settings: short processing, a sandbox day of 2 s, rate limits far away.
std::vector<std::string> FastFlags() {
  return {"--processing_ms", "300",  "--post_id_delay_ms",      "300", "--day_seconds", "2",
          "--rate_scale",    "1000", "--media_fetch_timeout_s", "10"};
}

// --- TikTok ---

nlohmann::json TikTokInit(int64_t size, const std::string& title = "TikTok #ad",
                          const std::string& privacy = "PUBLIC_TO_EVERYONE") {
  return {{"post_info",
           {{"title", title},
            {"privacy_level", privacy},
            {"is_aigc", true},
            {"brand_content_toggle", true},
            {"brand_organic_toggle", false}}},
          {"source_info",
           {{"source", "FILE_UPLOAD"},
            {"video_size", size},
            {"chunk_size", size},
            {"total_chunk_count", 1}}}};
}

http::Response TikTokPut(const std::string& url, const std::string& bytes, int64_t first,
                         int64_t total) {
  return Call("PUT", url, bytes,
              {{"Content-Type", "video/mp4"},
               {"Content-Range",
                absl::StrCat("bytes ", first, "-", first + bytes.size() - 1, "/", total)}});
}

// A whole TikTok post: init, the one chunk, the publish id.
std::string TikTokPublish(SandboxProcess& sandbox, const std::string& video,
                          const std::string& title = "TikTok #ad") {
  const int64_t size = static_cast<int64_t>(video.size());
  http::Response init =
      sandbox.Json("/tiktok/v2/post/publish/video/init/", TikTokInit(size, title));
  EXPECT_EQ(init.status, 200) << init.body;
  nlohmann::json data = JsonOf(init)["data"];
  EXPECT_EQ(TikTokPut(data.value("upload_url", ""), video, 0, size).status, 201);
  return data.value("publish_id", "");
}

// Polls the publish until PUBLISH_COMPLETE with a public id: the id.
std::string TikTokPostId(SandboxProcess& sandbox, const std::string& publish_id) {
  std::string id;
  EXPECT_TRUE(WaitUntil(
      [&] {
        nlohmann::json data = JsonOf(sandbox.Json("/tiktok/v2/post/publish/status/fetch/",
                                                  {{"publish_id", publish_id}}))["data"];
        if (data.value("status", "") != "PUBLISH_COMPLETE") return false;
        if (data["publicaly_available_post_id"].empty()) return false;
        id = std::to_string(data["publicaly_available_post_id"][0].get<int64_t>());
        return true;
      },
      kDeadline));
  return id;
}

int64_t TikTokViews(SandboxProcess& sandbox, const std::string& id) {
  nlohmann::json videos =
      JsonOf(sandbox.Json("/tiktok/v2/video/query/?fields=id,view_count,like_count,comment_count,"
                          "share_count",
                          {{"filters", {{"video_ids", {id}}}}}))["data"]["videos"];
  return videos.size() == 1 ? videos[0].value("view_count", int64_t{-1}) : -1;
}

TEST(SandboxServerTest, TikTokPublishFlow) {
  SandboxProcess sandbox(FastFlags());
  nlohmann::json creator =
      JsonOf(sandbox.Json("/tiktok/v2/post/publish/creator_info/query/", nlohmann::json::object()));
  EXPECT_EQ(creator["data"]["privacy_level_options"].size(), 4u);
  const std::string video = ReadAll(MakeVideo("tiktok.mp4"));
  const int64_t size = static_cast<int64_t>(video.size());
  http::Response init = sandbox.Json("/tiktok/v2/post/publish/video/init/", TikTokInit(size));
  ASSERT_EQ(init.status, 200) << init.body;
  const std::string url = JsonOf(init)["data"]["upload_url"];
  const std::string publish_id = JsonOf(init)["data"]["publish_id"];
  // Under 5 MB: one chunk. A wrong offset is 416; the chunk sent again is answered again.
  EXPECT_EQ(TikTokPut(url, video.substr(100), 100, size).status, 416);
  EXPECT_EQ(TikTokPut(url, video, 0, size).status, 201);
  EXPECT_EQ(TikTokPut(url, video, 0, size).status, 201);
  EXPECT_EQ(sandbox.Stats()["posts"]["tiktok"], 1);
  const std::string id = TikTokPostId(sandbox, publish_id);
  ASSERT_EQ(id.size(), 19u);
  const int64_t first = TikTokViews(sandbox, id);
  ASSERT_GE(first, 0);
  EXPECT_TRUE(WaitUntil([&] { return TikTokViews(sandbox, id) > first; }, kDeadline));
}

// --- TikTok Marketing API (Spark Ads) ---

const std::string kAds = "/tiktok-business/open_api/v1.3";
const std::string kAdvertiser = "7000000000000000001";

http::Response AdsPost(SandboxProcess& sandbox, const std::string& path, const std::string& body,
                       const std::string& token = "sandbox-access") {
  return Call("POST", sandbox.Url(kAds + path), body,
              {{"Access-Token", token}, {"Content-Type", "application/json"}});
}

// The data of a successful Marketing API answer (HTTP 200, code 0).
nlohmann::json AdsData(const http::Response& response) {
  EXPECT_EQ(response.status, 200) << response.body;
  const nlohmann::json json = JsonOf(response);
  EXPECT_EQ(json.value("code", int64_t{-1}), 0) << response.body;
  return json.contains("data") ? json["data"] : nlohmann::json::object();
}

// An ad group body; `budget` is the JSON number's text as sent.
std::string AdGroupBody(const std::string& campaign_id, const std::string& budget,
                        const std::string& name) {
  nlohmann::json body = {{"advertiser_id", kAdvertiser},
                         {"campaign_id", campaign_id},
                         {"adgroup_name", name},
                         {"placement_type", "PLACEMENT_TYPE_NORMAL"},
                         {"placements", {"PLACEMENT_TIKTOK"}},
                         {"budget_mode", "BUDGET_MODE_DAY"},
                         {"budget", 0},
                         {"schedule_type", "SCHEDULE_FROM_NOW"},
                         {"schedule_start_time", "2026-01-01 00:00:00"},
                         {"optimization_goal", "REACH"},
                         {"billing_event", "CPM"},
                         {"bid_type", "BID_TYPE_NO_BID"}};
  std::string text = body.dump();
  const std::string zero = "\"budget\":0";
  text.replace(text.find(zero), zero.size(), "\"budget\":" + budget);
  return text;
}

std::string AdBody(const std::string& adgroup_id, const std::string& post_id) {
  return nlohmann::json{{"advertiser_id", kAdvertiser},
                        {"adgroup_id", adgroup_id},
                        {"creatives",
                         {{{"ad_name", "Spark " + post_id},
                           {"identity_type", "TT_USER"},
                           {"identity_id", "sandbox-open-id"},
                           {"ad_format", "SINGLE_VIDEO"},
                           {"tiktok_item_id", post_id}}}}}
      .dump();
}

// The affiliate report's spend in cents (-1 when unreadable).
int64_t SpendCents(SandboxProcess& sandbox, const std::string& post_id) {
  std::string spend = JsonOf(sandbox.Get("/affiliate/v1/report?platform=tiktok&post_id=" + post_id))
                          .value("spend", "");
  const size_t dot = spend.find('.');
  int64_t cents = -1;
  if (dot == std::string::npos || spend.size() != dot + 3) return -1;
  spend.erase(dot, 1);
  return absl::SimpleAtoi(spend, &cents) ? cents : -1;
}

// adgroup/get filtered to one ad group: its entry (null when not found).
nlohmann::json FindAdGroup(SandboxProcess& sandbox, const std::string& adgroup_id) {
  const std::string query =
      Encode({{"advertiser_id", kAdvertiser},
              {"filtering", nlohmann::json{{"adgroup_ids", {adgroup_id}}}.dump()}});
  nlohmann::json list = AdsData(Call("GET", sandbox.Url(kAds + "/adgroup/get/?" + query), "",
                                     {{"Access-Token", "sandbox-access"}}))["list"];
  return list.is_array() && list.size() == 1 ? list[0] : nlohmann::json();
}

bool Promoted(SandboxProcess& sandbox, const std::string& post_id) {
  const nlohmann::json posts = JsonOf(sandbox.Get("/_sandbox/posts?platform=tiktok"))["posts"];
  for (const nlohmann::json& post : posts) {
    if (post.value("key", "") == post_id) return post.value("promoted", false);
  }
  return false;
}

TEST(SandboxServerTest, TikTokSparkAdsPromoteAPostUntilDisabled) {
  SandboxProcess sandbox(FastFlags());  // a sandbox day is 2 s
  const std::string video = ReadAll(MakeVideo("spark.mp4"));
  const std::string post_id = TikTokPostId(sandbox, TikTokPublish(sandbox, video, "Spark #ad"));
  ASSERT_EQ(post_id.size(), 19u);

  // An invalid token: HTTP 200 with code 40105.
  const std::string campaign_body = nlohmann::json{
      {"advertiser_id", kAdvertiser},
      {"campaign_name", "Spark"},
      {"objective_type", "VIDEO_VIEWS"},
      {"budget_mode",
       "BUDGET_MODE_INFINITE"}}.dump();
  http::Response invalid = AdsPost(sandbox, "/campaign/create/", campaign_body, "not-a-token");
  EXPECT_EQ(invalid.status, 200);
  EXPECT_EQ(JsonOf(invalid)["code"], 40105);

  const std::string campaign =
      AdsData(AdsPost(sandbox, "/campaign/create/", campaign_body)).value("campaign_id", "");
  ASSERT_FALSE(campaign.empty());
  http::Response under =
      AdsPost(sandbox, "/adgroup/create/", AdGroupBody(campaign, "19.99", "Low"));
  EXPECT_EQ(under.status, 200);
  EXPECT_EQ(JsonOf(under)["code"], 40002);
  EXPECT_EQ(JsonOf(under)["message"], "budget must be at least 20.00 per day");
  const std::string group =
      AdsData(AdsPost(sandbox, "/adgroup/create/", AdGroupBody(campaign, "25.00", "Daily")))
          .value("adgroup_id", "");
  ASSERT_FALSE(group.empty());
  EXPECT_EQ(SpendCents(sandbox, post_id), 0);
  const nlohmann::json ad_ids =
      AdsData(AdsPost(sandbox, "/ad/create/", AdBody(group, post_id)))["ad_ids"];
  ASSERT_EQ(ad_ids.size(), 1u);
  EXPECT_TRUE(Promoted(sandbox, post_id));

  // The spend grows with the sandbox's days.
  int64_t spend = 0;
  ASSERT_TRUE(WaitUntil([&] { return (spend = SpendCents(sandbox, post_id)) > 0; }, kDeadline));
  const int64_t first = spend;
  ASSERT_TRUE(WaitUntil([&] { return SpendCents(sandbox, post_id) > first; }, kDeadline));

  // DISABLE: the spend stops growing. Watched for most of a sandbox day ($18 of budget).
  const nlohmann::json disabled = AdsData(AdsPost(
      sandbox, "/adgroup/status/update/",
      nlohmann::json{
          {"advertiser_id", kAdvertiser}, {"adgroup_ids", {group}}, {"operation_status", "DISABLE"}}
          .dump()));
  EXPECT_EQ(disabled["adgroup_ids"], nlohmann::json::array({group}));
  EXPECT_FALSE(Promoted(sandbox, post_id));
  const int64_t stopped = SpendCents(sandbox, post_id);
  EXPECT_GT(stopped, first);
  const absl::Time until = absl::Now() + absl::Milliseconds(1500);
  int checks = 0;
  EXPECT_TRUE(WaitUntil(
      [&] {
        EXPECT_EQ(SpendCents(sandbox, post_id), stopped);
        ++checks;
        return absl::Now() >= until;
      },
      kDeadline));
  EXPECT_GE(checks, 2);
  EXPECT_EQ(FindAdGroup(sandbox, group).value("operation_status", ""), "DISABLE");

  // lost_answer on ad: the client sees a 502, yet the ad exists and the post is promoted; the
  // ad group is found.
  const std::string second =
      TikTokPostId(sandbox, TikTokPublish(sandbox, ReadAll(MakeVideo("spark2.mp4", 2)), "Two"));
  const std::string group2 =
      AdsData(AdsPost(sandbox, "/adgroup/create/", AdGroupBody(campaign, "20.00", "Second")))
          .value("adgroup_id", "");
  sandbox.AddFault({{"platform", "tiktok_ads"}, {"operation", "ad"}, {"kind", "lost_answer"}});
  http::Response lost = AdsPost(sandbox, "/ad/create/", AdBody(group2, second));
  EXPECT_EQ(lost.status, 502);
  EXPECT_TRUE(lost.body.empty());
  const nlohmann::json found = FindAdGroup(sandbox, group2);
  EXPECT_EQ(found.value("adgroup_id", ""), group2);
  EXPECT_EQ(found.value("campaign_id", ""), campaign);
  EXPECT_EQ(found.value("operation_status", ""), "ENABLE");
  EXPECT_EQ(found["budget"], 20.0);
  EXPECT_TRUE(Promoted(sandbox, second));
  EXPECT_TRUE(WaitUntil([&] { return SpendCents(sandbox, second) > 0; }, kDeadline));

  // A restart keeps the campaign, both ad groups, the ads and the promotions.
  sandbox.Restart();
  EXPECT_EQ(FindAdGroup(sandbox, group).value("operation_status", ""), "DISABLE");
  EXPECT_EQ(FindAdGroup(sandbox, group2).value("operation_status", ""), "ENABLE");
  EXPECT_EQ(SpendCents(sandbox, post_id), stopped);
  EXPECT_TRUE(Promoted(sandbox, second));
  const std::string feed = Call("GET", sandbox.Url("/")).body;
  EXPECT_NE(feed.find("promoted: 20.00 USD a day"), std::string::npos);
  EXPECT_NE(feed.find("(was 25.00 USD a day)"), std::string::npos);
}

// --- Instagram ---

TEST(SandboxServerTest, InstagramPublishFlow) {
  MediaProcess media;
  SandboxProcess sandbox(FastFlags());
  const std::string video_path = MakeVideo("reel.mp4");
  const std::string url = media.Serve(video_path, "reel.mp4");
  // The media server answers ranges, as a CDN does.
  http::Response range = Call("GET", url, "", {{"Range", "bytes=0-9"}});
  EXPECT_EQ(range.status, 206);
  EXPECT_EQ(range.body, ReadAll(video_path).substr(0, 10));

  http::Response made =
      sandbox.Form("/graph/v21.0/" + kIgUser + "/media", {{"media_type", "REELS"},
                                                          {"video_url", url},
                                                          {"caption", "Reel #ad"},
                                                          {"share_to_feed", "true"},
                                                          {"is_ai_generated", "true"}});
  ASSERT_EQ(made.status, 200) << made.body;
  const std::string container = JsonOf(made)["id"];
  std::string code;
  ASSERT_TRUE(WaitUntil(
      [&] {
        code = JsonOf(sandbox.Get("/graph/v21.0/" + container + "?fields=status_code,status"))
                   .value("status_code", "");
        return code != "IN_PROGRESS";
      },
      kDeadline));
  ASSERT_EQ(code, "FINISHED");
  http::Response published =
      sandbox.Form("/graph/v21.0/" + kIgUser + "/media_publish", {{"creation_id", container}});
  ASSERT_EQ(published.status, 200) << published.body;
  const std::string media_id = JsonOf(published)["id"];
  http::Response again =
      sandbox.Form("/graph/v21.0/" + kIgUser + "/media_publish", {{"creation_id", container}});
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(JsonOf(again)["error"]["code"], 9007);
  nlohmann::json list = JsonOf(sandbox.Get(
      "/graph/v21.0/" + kIgUser + "/media?fields=id,caption,timestamp,permalink&limit=10"));
  ASSERT_EQ(list["data"].size(), 1u);
  EXPECT_EQ(list["data"][0]["id"], media_id);
  EXPECT_EQ(list["data"][0]["caption"], "Reel #ad");
  auto views = [&] {
    nlohmann::json data = JsonOf(sandbox.Get("/graph/v21.0/" + media_id +
                                             "/insights?metric=views,likes,comments,shares,saved,"
                                             "reach"))["data"];
    return data.is_array() && !data.empty() ? data[0]["values"][0].value("value", int64_t{-1})
                                            : int64_t{-1};
  };
  const int64_t first = views();
  ASSERT_GE(first, 0);
  EXPECT_TRUE(WaitUntil([&] { return views() > first; }, kDeadline));
}

// --- Facebook ---

http::Response FacebookTransfer(SandboxProcess& sandbox, const std::string& session, int64_t offset,
                                const std::string& bytes) {
  const std::string boundary = "e2e-boundary";
  std::string body;
  for (const auto& [name, value] : Headers{{"upload_phase", "transfer"},
                                           {"upload_session_id", session},
                                           {"start_offset", std::to_string(offset)}}) {
    absl::StrAppend(&body, "--", boundary, "\r\nContent-Disposition: form-data; name=\"", name,
                    "\"\r\n\r\n", value, "\r\n");
  }
  absl::StrAppend(&body, "--", boundary,
                  "\r\nContent-Disposition: form-data; name=\"video_file_chunk\"; "
                  "filename=\"c.mp4\"\r\nContent-Type: video/mp4\r\n\r\n",
                  bytes, "\r\n--", boundary, "--\r\n");
  return Call("POST", sandbox.Url("/graph/v21.0/" + kPage + "/videos"), body,
              {{"Authorization", "Bearer sandbox-access"},
               {"Content-Type", "multipart/form-data; boundary=" + boundary}});
}

TEST(SandboxServerTest, FacebookPublishFlow) {
  SandboxProcess sandbox(FastFlags());
  const std::string video = ReadAll(MakeVideo("fb.mp4"));
  const int64_t size = static_cast<int64_t>(video.size());
  http::Response started =
      sandbox.Form("/graph/v21.0/" + kPage + "/videos",
                   {{"upload_phase", "start"}, {"file_size", std::to_string(size)}});
  ASSERT_EQ(started.status, 200) << started.body;
  const std::string video_id = JsonOf(started)["video_id"];
  const std::string session = JsonOf(started)["upload_session_id"];
  const int64_t half = size / 2;
  EXPECT_EQ(JsonOf(FacebookTransfer(sandbox, session, 0, video.substr(0, half)))["start_offset"],
            std::to_string(half));
  EXPECT_EQ(
      JsonOf(FacebookTransfer(sandbox, session, half + 3, video.substr(half + 3)))["error"]["code"],
      6001);
  EXPECT_EQ(JsonOf(FacebookTransfer(sandbox, session, half, video.substr(half)))["end_offset"],
            std::to_string(size));
  http::Response finished =
      sandbox.Form("/graph/v21.0/" + kPage + "/videos", {{"upload_phase", "finish"},
                                                         {"upload_session_id", session},
                                                         {"description", "Facebook #ad"},
                                                         {"title", "FB"}});
  ASSERT_EQ(finished.status, 200) << finished.body;
  EXPECT_EQ(JsonOf(finished)["success"], true);
  EXPECT_TRUE(WaitUntil(
      [&] {
        return JsonOf(sandbox.Get("/graph/v21.0/" + video_id +
                                  "?fields=status,permalink_url,published,description"))["status"]
                   .value("video_status", "") == "ready";
      },
      kDeadline));
  auto views = [&] {
    nlohmann::json data = JsonOf(sandbox.Get("/graph/v21.0/" + video_id +
                                             "/video_insights?metric=total_video_views"))["data"];
    return data.is_array() && !data.empty() ? data[0]["values"][0].value("value", int64_t{-1})
                                            : int64_t{-1};
  };
  const int64_t first = views();
  ASSERT_GE(first, 0);
  EXPECT_TRUE(WaitUntil([&] { return views() > first; }, kDeadline));
}

// --- YouTube ---

http::Response YouTubeInsert(SandboxProcess& sandbox, int64_t size,
                             const std::string& token = "sandbox-access") {
  nlohmann::json resource = {
      {"snippet", {{"title", "Short"}, {"description", "YouTube #ad"}, {"categoryId", "22"}}},
      {"status", {{"privacyStatus", "public"}, {"selfDeclaredMadeForKids", false}}},
      {"paidProductPlacementDetails", {{"hasPaidProductPlacement", true}}}};
  return Call(
      "POST",
      sandbox.Url("/youtube/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status"),
      resource.dump(),
      {{"Authorization", "Bearer " + token},
       {"Content-Type", "application/json"},
       {"X-Upload-Content-Length", std::to_string(size)},
       {"X-Upload-Content-Type", "video/mp4"}});
}

TEST(SandboxServerTest, YouTubePublishFlow) {
  SandboxProcess sandbox(FastFlags());
  const std::string video = ReadAll(MakeVideo("yt.mp4"));
  const int64_t size = static_cast<int64_t>(video.size());
  http::Response inserted = YouTubeInsert(sandbox, size);
  ASSERT_EQ(inserted.status, 200) << inserted.body;
  const std::string session = inserted.headers["location"];
  const int64_t half = size / 2;
  http::Response first = Call("PUT", session, video.substr(0, half),
                              {{"Content-Range", absl::StrCat("bytes 0-", half - 1, "/", size)}});
  EXPECT_EQ(first.status, 308);
  EXPECT_EQ(first.headers["range"], absl::StrCat("bytes=0-", half - 1));
  http::Response asked =
      Call("PUT", session, "", {{"Content-Range", absl::StrCat("bytes */", size)}});
  EXPECT_EQ(asked.status, 308);
  EXPECT_EQ(asked.headers["range"], absl::StrCat("bytes=0-", half - 1));
  http::Response last =
      Call("PUT", session, video.substr(half),
           {{"Content-Range", absl::StrCat("bytes ", half, "-", size - 1, "/", size)}});
  ASSERT_EQ(last.status, 200) << last.body;
  const std::string id = JsonOf(last)["id"];
  EXPECT_EQ(JsonOf(last)["status"]["uploadStatus"], "uploaded");
  http::Response done =
      Call("PUT", session, "", {{"Content-Range", absl::StrCat("bytes */", size)}});
  EXPECT_EQ(done.status, 200);
  auto item = [&] {
    nlohmann::json items = JsonOf(sandbox.Get(
        "/youtube/youtube/v3/videos?part=status,processingDetails,statistics&id=" + id))["items"];
    return items.is_array() && items.size() == 1 ? items[0] : nlohmann::json::object();
  };
  EXPECT_TRUE(WaitUntil(
      [&] { return item()["processingDetails"].value("processingStatus", "") == "succeeded"; },
      kDeadline));
  auto views = [&] {
    int64_t count = -1;
    return absl::SimpleAtoi(item()["statistics"].value("viewCount", ""), &count) ? count : -1;
  };
  const int64_t first_views = views();
  ASSERT_GE(first_views, 0);
  EXPECT_TRUE(WaitUntil([&] { return views() > first_views; }, kDeadline));
}

// --- Tokens ---

TEST(SandboxServerTest, ExpiredTokensAreRefreshedUntilTheRefreshIsRevoked) {
  SandboxProcess sandbox(FastFlags());
  for (const char* platform : {"tiktok", "instagram", "youtube"}) {
    ASSERT_EQ(Call("POST", sandbox.Url(absl::StrCat("/_sandbox/tokens/expire?platform=", platform)))
                  .status,
              200);
  }
  // Each platform's own 401.
  http::Response tiktok = sandbox.Json("/tiktok/v2/post/publish/creator_info/query/", {});
  EXPECT_EQ(tiktok.status, 401);
  EXPECT_EQ(JsonOf(tiktok)["error"]["code"], "access_token_invalid");
  http::Response graph = sandbox.Get("/graph/v21.0/" + kIgUser + "/media?fields=id");
  EXPECT_EQ(graph.status, 401);
  EXPECT_EQ(JsonOf(graph)["error"]["code"], 190);
  EXPECT_EQ(JsonOf(graph)["error"]["error_subcode"], 463);
  http::Response google = YouTubeInsert(sandbox, 100);
  EXPECT_EQ(google.status, 401);
  EXPECT_EQ(JsonOf(google)["error"]["status"], "UNAUTHENTICATED");

  auto tiktok_refresh = [&] {
    return sandbox.Form("/tiktok/v2/oauth/token/",
                        {{"client_key", "sandbox-client"},
                         {"client_secret", "sandbox-secret"},
                         {"grant_type", "refresh_token"},
                         {"refresh_token", "sandbox-refresh"}},
                        "");
  };
  auto meta_exchange = [&](const std::string& token) {
    return Call("GET", sandbox.Url("/graph/v21.0/oauth/access_token?grant_type=fb_exchange_token&"
                                   "client_id=sandbox-app&client_secret=sandbox-secret&"
                                   "fb_exchange_token=" +
                                   token));
  };
  auto google_refresh = [&] {
    return sandbox.Form("/google/token",
                        {{"client_id", "sandbox-client"},
                         {"client_secret", "sandbox-secret"},
                         {"grant_type", "refresh_token"},
                         {"refresh_token", "sandbox-refresh"}},
                        "");
  };
  const std::string tiktok_token = JsonOf(tiktok_refresh()).value("access_token", "");
  // Meta does not exchange a token that has expired: it takes signing in again.
  http::Response too_late = meta_exchange("sandbox-access");
  EXPECT_EQ(too_late.status, 400);
  EXPECT_EQ(JsonOf(too_late)["error"]["code"], 190);
  EXPECT_EQ(JsonOf(too_late)["error"]["error_subcode"], 463);
  const std::string google_token = JsonOf(google_refresh()).value("access_token", "");
  EXPECT_EQ(sandbox.Json("/tiktok/v2/post/publish/creator_info/query/", {}, tiktok_token).status,
            200);
  EXPECT_EQ(YouTubeInsert(sandbox, 100, google_token).status, 200);

  for (const char* platform : {"tiktok", "facebook", "google"}) {
    ASSERT_EQ(Call("POST",
                   sandbox.Url(absl::StrCat("/_sandbox/tokens/revoke_refresh?platform=", platform)))
                  .status,
              200);
  }
  EXPECT_EQ(JsonOf(tiktok_refresh())["error"], "invalid_grant");
  http::Response refused = google_refresh();
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(JsonOf(refused)["error"], "invalid_grant");
}

// --- Rate limits ---

TEST(SandboxServerTest, RateLimitsAnswer429WithRetryAfter) {
  SandboxProcess sandbox({"--rate_scale", "0.01"});  // TikTok: 1 init a minute
  const int64_t size = 1000;
  EXPECT_EQ(sandbox.Json("/tiktok/v2/post/publish/video/init/", TikTokInit(size)).status, 200);
  http::Response limited = sandbox.Json("/tiktok/v2/post/publish/video/init/", TikTokInit(size));
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(JsonOf(limited)["error"]["code"], "rate_limit_exceeded");
  int seconds = 0;
  EXPECT_TRUE(absl::SimpleAtoi(limited.headers["retry-after"], &seconds));
  EXPECT_GE(seconds, 1);
  EXPECT_LE(seconds, 60);
}

// --- Faults ---

TEST(SandboxServerTest, EveryFaultKind) {
  SandboxProcess sandbox(FastFlags());
  sandbox.AddFault({{"platform", "tiktok"}, {"operation", "creator_info"}, {"kind", "error_500"}});
  http::Response error_500 = sandbox.Json("/tiktok/v2/post/publish/creator_info/query/", {});
  EXPECT_EQ(error_500.status, 500);
  EXPECT_EQ(JsonOf(error_500)["error"]["code"], "internal_error");
  EXPECT_EQ(sandbox.Json("/tiktok/v2/post/publish/creator_info/query/", {}).status, 200);

  sandbox.AddFault({{"platform", "youtube"}, {"operation", "videos_list"}, {"kind", "error_503"}});
  http::Response error_503 = sandbox.Get("/youtube/youtube/v3/videos?part=status&id=x");
  EXPECT_EQ(error_503.status, 503);
  EXPECT_EQ(JsonOf(error_503)["error"]["errors"][0]["reason"], "backendError");

  sandbox.AddFault({{"platform", "instagram"},
                    {"operation", "list_media"},
                    {"kind", "rate_limit"},
                    {"delay_ms", 5000}});
  http::Response rate_limit = sandbox.Get("/graph/v21.0/" + kIgUser + "/media?fields=id");
  EXPECT_EQ(rate_limit.status, 429);
  EXPECT_EQ(JsonOf(rate_limit)["error"]["code"], 4);
  EXPECT_EQ(rate_limit.headers["retry-after"], "5");

  sandbox.AddFault({{"platform", "facebook"}, {"operation", "start"}, {"kind", "token_expired"}});
  http::Response expired = sandbox.Form("/graph/v21.0/" + kPage + "/videos",
                                        {{"upload_phase", "start"}, {"file_size", "100"}});
  EXPECT_EQ(expired.status, 401);
  EXPECT_EQ(JsonOf(expired)["error"]["code"], 190);
  // Nothing was done, and the token still works.
  EXPECT_EQ(sandbox
                .Form("/graph/v21.0/" + kPage + "/videos",
                      {{"upload_phase", "start"}, {"file_size", "100"}})
                .status,
            200);

  sandbox.AddFault(
      {{"platform", "google"}, {"operation", "token"}, {"kind", "slow"}, {"delay_ms", 700}});
  const absl::Time start = absl::Now();
  http::Response slow = sandbox.Form("/google/token",
                                     {{"client_id", "sandbox-client"},
                                      {"client_secret", "sandbox-secret"},
                                      {"grant_type", "refresh_token"},
                                      {"refresh_token", "sandbox-refresh"}},
                                     "");
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(700));
  EXPECT_EQ(slow.status, 200);

  // lost_answer on TikTok's last chunk: the post exists though the client saw a 502. A client
  // that posts again makes a second post, and stats count the duplicate.
  const std::string video = ReadAll(MakeVideo("lost.mp4"));
  const int64_t size = static_cast<int64_t>(video.size());
  sandbox.AddFault({{"platform", "tiktok"}, {"operation", "upload"}, {"kind", "lost_answer"}});
  http::Response init =
      sandbox.Json("/tiktok/v2/post/publish/video/init/", TikTokInit(size, "Lost"));
  http::Response lost = TikTokPut(JsonOf(init)["data"]["upload_url"], video, 0, size);
  EXPECT_EQ(lost.status, 502);
  EXPECT_TRUE(lost.body.empty());
  EXPECT_EQ(sandbox.Stats()["posts"]["tiktok"], 1);
  TikTokPublish(sandbox, video, "Lost");
  nlohmann::json stats = sandbox.Stats();
  EXPECT_EQ(stats["posts"]["tiktok"], 2);
  EXPECT_EQ(stats["duplicates"], 1);
  EXPECT_EQ(stats["duplicate_keys"].size(), 1u);
}

TEST(SandboxServerTest, StopsPromptlyWhileASlowCallWaits) {
  auto sandbox = std::make_unique<SandboxProcess>(FastFlags());
  sandbox->AddFault({{"platform", "tiktok"},
                     {"operation", "creator_info"},
                     {"kind", "slow"},
                     {"delay_ms", 600000}});
  std::atomic<bool> answered{false};
  std::thread client([&] {
    sandbox->Json("/tiktok/v2/post/publish/creator_info/query/", {});
    answered = true;
  });
  // The call is waiting inside the sandbox once the fault rule is used up.
  ASSERT_TRUE(WaitUntil(
      [&] { return JsonOf(Call("GET", sandbox->Url("/_sandbox/faults")))["faults"].empty(); },
      kDeadline));
  const absl::Time start = absl::Now();
  EXPECT_EQ(sandbox->Stop(), 0);
  EXPECT_LT(absl::Now() - start, absl::Seconds(15));
  client.join();
  EXPECT_TRUE(answered);
}

// --- Restart, feed ---

TEST(SandboxServerTest, ARestartKeepsPostsVideosAndTokens) {
  SandboxProcess sandbox(FastFlags());
  const std::string video = ReadAll(MakeVideo("keep.mp4"));
  const std::string publish_id = TikTokPublish(sandbox, video, "Kept <b>&</b>");
  const std::string id = TikTokPostId(sandbox, publish_id);
  const std::string token = JsonOf(sandbox.Form("/google/token",
                                                {{"client_id", "sandbox-client"},
                                                 {"client_secret", "sandbox-secret"},
                                                 {"grant_type", "refresh_token"},
                                                 {"refresh_token", "sandbox-refresh"}},
                                                ""))
                                .value("access_token", "");
  ASSERT_FALSE(token.empty());
  // An upload left halfway resumes after the restart.
  http::Response inserted = YouTubeInsert(sandbox, static_cast<int64_t>(video.size()));
  const std::string session = inserted.headers["location"];
  const int64_t half = static_cast<int64_t>(video.size()) / 2;
  ASSERT_EQ(Call("PUT", session, video.substr(0, half),
                 {{"Content-Range", absl::StrCat("bytes 0-", half - 1, "/", video.size())}})
                .status,
            308);

  sandbox.Restart();

  nlohmann::json posts = JsonOf(sandbox.Get("/_sandbox/posts?platform=tiktok"))["posts"];
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0]["post_id"], id);
  EXPECT_EQ(JsonOf(sandbox.Json("/tiktok/v2/post/publish/status/fetch/",
                                {{"publish_id", publish_id}}))["data"]["status"],
            "PUBLISH_COMPLETE");
  EXPECT_EQ(YouTubeInsert(sandbox, 100, token).status, 200);  // the refreshed token survived

  // The feed lists the post, caption escaped, and its video plays from the sandbox.
  http::Response feed = Call("GET", sandbox.Url("/"));
  ASSERT_EQ(feed.status, 200);
  EXPECT_NE(feed.body.find("Kept &lt;b&gt;&amp;&lt;/b&gt;"), std::string::npos);
  const std::string src = "/_sandbox/videos/tiktok/" + id + ".mp4";
  EXPECT_NE(feed.body.find(" src=\"" + src + "\"></video>"), std::string::npos);
  EXPECT_EQ(Call("GET", sandbox.Url(src)).body, video);

  // The YouTube session knows what it had; the rest completes the video.
  // The session URL names the old port: the same path on the new one.
  const std::string new_session = sandbox.Url(session.substr(session.find("/youtube/")));
  http::Response asked =
      Call("PUT", new_session, "", {{"Content-Range", absl::StrCat("bytes */", video.size())}});
  EXPECT_EQ(asked.status, 308);
  EXPECT_EQ(asked.headers["range"], absl::StrCat("bytes=0-", half - 1));
  EXPECT_EQ(Call("PUT", new_session, video.substr(half),
                 {{"Content-Range",
                   absl::StrCat("bytes ", half, "-", video.size() - 1, "/", video.size())}})
                .status,
            200);
  EXPECT_EQ(sandbox.Stats()["posts"]["youtube"], 1);
}

}  // namespace
}  // namespace cf::sandbox
