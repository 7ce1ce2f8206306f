// The Gemini and Veo adapters against a local fake that answers in the documented shapes,
// failures included (../shared/EXTERNAL_APIS.md).
#include "services/generation/google_providers.h"

#include <httplib.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <sstream>
#include <thread>

#include "absl/strings/escaping.h"
#include "common/media/ffmpeg.h"
#include "common/status/status.h"
#include "common/testing/postgres.h"
#include "gtest/gtest.h"
#include "services/generation/job_store.h"
#include "services/generation/media_handler.h"

namespace cf::generation {
namespace {

using nlohmann::json;

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir ? dir : "/tmp";
}

std::string Render(const std::vector<std::string>& args, const std::string& path) {
  std::vector<std::string> full = args;
  full.push_back(path);
  EXPECT_TRUE(media::RunFfmpeg(full, media::RenderOptions()).ok());
  std::ifstream file(path, std::ios::binary);
  std::stringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

// Answers like generativelanguage.googleapis.com, as scripted by the test.
class FakeGoogle {
 public:
  FakeGoogle() {
    png_ =
        Render({"-f", "lavfi", "-i", "color=c=orange:s=72x128", "-frames:v", "1", "-f", "image2"},
               TempDir() + "/fake.png");
    mp4_ = Render({"-f", "lavfi", "-i", "testsrc2=s=128x72:r=24:d=1", "-c:v", "libx264", "-pix_fmt",
                   "yuv420p", "-f", "mp4"},
                  TempDir() + "/fake.mp4");
    server_.Post(R"(/v1beta/models/gemini-2\.5-flash-image:generateContent)",
                 [this](const httplib::Request& request, httplib::Response& response) {
                   Record(request);
                   Gemini(response);
                 });
    server_.Post(R"(/v1beta/models/veo-3\.1-generate-preview:predictLongRunning)",
                 [this](const httplib::Request& request, httplib::Response& response) {
                   Record(request);
                   ++submits;
                   response.set_content(
                       R"({"name":"models/veo-3.1-generate-preview/operations/op123"})",
                       "application/json");
                 });
    server_.Get(R"(/v1beta/models/veo-3\.1-generate-preview/operations/op123)",
                [this](const httplib::Request& request, httplib::Response& response) {
                  Record(request);
                  Operation(response);
                });
    server_.Get("/files/video.mp4", [this](const httplib::Request&, httplib::Response& response) {
      response.set_redirect(base_url() + "/download/video.mp4");
    });
    server_.Get("/download/video.mp4",
                [this](const httplib::Request& request, httplib::Response& response) {
                  last_download_key = request.get_header_value("x-goog-api-key");
                  response.set_content(mp4_, "video/mp4");
                });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakeGoogle() {
    server_.stop();
    thread_.join();
  }

  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::atomic<int> submits{0};
  std::atomic<int> polls{0};
  std::string gemini_mode = "ok";
  std::string veo_mode = "ok";
  int polls_until_done = 2;
  std::string last_body, last_api_key, last_download_key;

 private:
  void Record(const httplib::Request& request) {
    std::lock_guard<std::mutex> lock(mutex_);
    last_body = request.body;
    last_api_key = request.get_header_value("x-goog-api-key");
  }

  void Gemini(httplib::Response& response) {
    std::string data = absl::Base64Escape(png_);
    if (gemini_mode == "ok") {
      response.set_content(
          json{{"candidates",
                {{{"content",
                   {{"parts",
                     {{{"text", "Here it is"}},
                      {{"inlineData", {{"mimeType", "image/png"}, {"data", data}}}}}}}}}}}}
              .dump(),
          "application/json");
    } else if (gemini_mode == "snake") {
      response.set_content(
          json{{"candidates",
                {{{"content",
                   {{"parts",
                     {{{"inline_data", {{"mime_type", "image/png"}, {"data", data}}}}}}}}}}}}
              .dump(),
          "application/json");
    } else if (gemini_mode == "429") {
      response.status = 429;
      response.set_header("Retry-After", "7");
      response.set_content(R"({"error":{"code":429,"status":"RESOURCE_EXHAUSTED"}})",
                           "application/json");
    } else if (gemini_mode == "500") {
      response.status = 503;
      response.set_content(R"({"error":{"code":503,"status":"UNAVAILABLE"}})", "application/json");
    } else if (gemini_mode == "400") {
      response.status = 400;
      response.set_content(R"({"error":{"code":400,"status":"INVALID_ARGUMENT"}})",
                           "application/json");
    } else if (gemini_mode == "slow") {
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));
      response.set_content("{}", "application/json");
    } else if (gemini_mode == "malformed") {  // every field of the wrong type
      response.set_content(
          R"({"candidates":[{"content":{"parts":[{"inlineData":{"data":5}}]},"finishReason":3}],"promptFeedback":{"blockReason":["x"]}})",
          "application/json");
    } else if (gemini_mode == "blocked") {
      response.set_content(
          R"({"promptFeedback":{"blockReason":"SAFETY"},"candidates":[{"finishReason":"SAFETY"}]})",
          "application/json");
    }
  }

  void Operation(httplib::Response& response) {
    ++polls;
    if (polls < polls_until_done) {
      response.set_content(R"({"name":"models/veo-3.1-generate-preview/operations/op123"})",
                           "application/json");
    } else if (veo_mode == "ok") {
      response.set_content(json{{"name", "op123"},
                                {"done", true},
                                {"response",
                                 {{"generateVideoResponse",
                                   {{"generatedSamples",
                                     {{{"video", {{"uri", base_url() + "/files/video.mp4"}}}}}}}}}}}
                               .dump(),
                           "application/json");
    } else if (veo_mode == "malformed-done") {
      response.set_content(R"({"done":"yes"})", "application/json");
    } else if (veo_mode == "malformed-error") {
      response.set_content(R"({"done":true,"error":{"code":"three","message":7}})",
                           "application/json");
    } else if (veo_mode == "malformed-video") {
      response.set_content(
          R"({"done":true,"response":{"generateVideoResponse":{"generatedSamples":[{"video":"x"}]}}})",
          "application/json");
    } else if (veo_mode == "foreign-uri") {
      response.set_content(
          R"({"done":true,"response":{"generateVideoResponse":{"generatedSamples":[{"video":{"uri":"http://example.com/v.mp4"}}]}}})",
          "application/json");
    } else if (veo_mode == "error") {
      response.set_content(R"({"done":true,"error":{"code":3,"message":"bad image"}})",
                           "application/json");
    } else {  // filtered
      response.set_content(
          R"({"done":true,"response":{"generateVideoResponse":{"raiMediaFilteredCount":1,"raiMediaFilteredReasons":["celebrity likeness"]}}})",
          "application/json");
    }
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mutex_;
  std::string png_, mp4_;
};

class GoogleProvidersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    media_ = std::make_unique<media::MediaStore>(
        media::MediaStore::Open(TempDir() + "/media", "").value());
    config_.base_url = fake_.base_url();
    config_.api_key = "test-key";
    config_.request_timeout = absl::Milliseconds(800);
    config_.poll_interval = absl::Milliseconds(50);
  }

  ClaimedJob ImageJob() {
    ClaimedJob job;
    job.kind = JobKind::kImage;
    job.id = "gemini-image";
    job.output_stem = job.id;
    job.prompt = "A studio photo";
    job.aspect_ratio = "9:16";
    return job;
  }

  FakeGoogle fake_;
  std::unique_ptr<media::MediaStore> media_;
  GoogleApiConfig config_;
};

TEST_F(GoogleProvidersTest, GeminiImageIsWrittenFromTheDocumentedShape) {
  GeminiImageProvider gemini(media_.get(), config_);
  auto result = gemini.Generate(ImageJob(), ProviderCall());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->model, "gemini-2.5-flash-image");
  EXPECT_EQ(result->width, 72);
  EXPECT_EQ(result->height, 128);
  auto info = media::Probe(media_->LocalPathOf(result->url).value());
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->codec, "png");
  json body = json::parse(fake_.last_body);
  EXPECT_EQ(body["contents"][0]["parts"][0]["text"], "A studio photo");
  EXPECT_EQ(body["generationConfig"]["imageConfig"]["aspectRatio"], "9:16");
  EXPECT_EQ(body["generationConfig"]["responseModalities"], json({"TEXT", "IMAGE"}));
  EXPECT_EQ(fake_.last_api_key, "test-key");

  fake_.gemini_mode = "snake";
  EXPECT_TRUE(gemini.Generate(ImageJob(), ProviderCall()).ok());
}

TEST_F(GoogleProvidersTest, GeminiFailuresAreClassified) {
  GeminiImageProvider gemini(media_.get(), config_);
  fake_.gemini_mode = "429";
  auto limited = gemini.Generate(ImageJob(), ProviderCall());
  EXPECT_EQ(limited.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_TRUE(jobs::IsRetryable(limited.status()));
  EXPECT_EQ(RetryAfterOf(limited.status()), absl::Seconds(7));

  fake_.gemini_mode = "500";
  auto down = gemini.Generate(ImageJob(), ProviderCall());
  EXPECT_EQ(down.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(jobs::IsRetryable(down.status()));

  fake_.gemini_mode = "slow";
  auto slow = gemini.Generate(ImageJob(), ProviderCall());
  EXPECT_EQ(slow.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(jobs::IsRetryable(slow.status()));

  fake_.gemini_mode = "blocked";
  auto blocked = gemini.Generate(ImageJob(), ProviderCall());
  EXPECT_FALSE(jobs::IsRetryable(blocked.status()));
  EXPECT_NE(blocked.status().message().find("SAFETY"), absl::string_view::npos);

  fake_.gemini_mode = "400";
  auto bad = gemini.Generate(ImageJob(), ProviderCall());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(jobs::IsRetryable(bad.status()));
}

TEST_F(GoogleProvidersTest, VeoSubmitsOnceRecordsTheOperationThenPollsAndDownloads) {
  GeminiImageProvider gemini(media_.get(), config_);
  std::string source = gemini.Generate(ImageJob(), ProviderCall())->url;
  VeoVideoProvider veo(media_.get(), config_);
  ClaimedJob job;
  job.kind = JobKind::kVideo;
  job.id = "veo-video";
  job.output_stem = job.id;
  job.prompt = "A slow push-in";
  job.aspect_ratio = "16:9";
  job.duration_seconds = 6;
  job.source_image_url = source;
  std::string recorded;
  ProviderCall call;
  call.record_provider_job = [&](const std::string& name) {
    recorded = name;
    return true;
  };
  auto first = veo.Generate(job, RevealImages(), call);
  EXPECT_TRUE(jobs::IsPollLater(first.status())) << first.status();
  EXPECT_EQ(recorded, "models/veo-3.1-generate-preview/operations/op123");
  json body = json::parse(fake_.last_body);
  EXPECT_EQ(body["instances"][0]["prompt"], "A slow push-in");
  EXPECT_EQ(body["instances"][0]["image"]["mimeType"], "image/png");
  EXPECT_FALSE(body["instances"][0]["image"]["bytesBase64Encoded"].get<std::string>().empty());
  EXPECT_EQ(body["parameters"]["aspectRatio"], "16:9");
  EXPECT_TRUE(body["parameters"]["durationSeconds"].is_number());
  EXPECT_EQ(body["parameters"]["durationSeconds"], 6);

  job.provider_job_id = recorded;  // as the next claim reads it back
  auto second = veo.Generate(job, RevealImages(), call);
  EXPECT_TRUE(jobs::IsPollLater(second.status()));  // not done yet
  auto third = veo.Generate(job, RevealImages(), call);
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(fake_.submits.load(), 1);
  EXPECT_EQ(third->codec, "h264");
  EXPECT_EQ(third->provider_job_id, recorded);
  EXPECT_EQ(fake_.last_download_key, "test-key");  // kept across the redirect
}

TEST_F(GoogleProvidersTest, VeoFailuresAndLimits) {
  VeoVideoProvider veo(media_.get(), config_);
  EXPECT_EQ(veo.Supports("4:5", 6).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(veo.Supports("9:16", 5).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(veo.Supports("9:16", 8).ok());
  ClaimedJob job;
  job.kind = JobKind::kVideo;
  job.id = "veo-failing";
  job.output_stem = job.id;
  job.provider_job_id = "models/veo-3.1-generate-preview/operations/op123";
  fake_.polls_until_done = 0;
  fake_.veo_mode = "error";
  auto failed = veo.Generate(job, RevealImages(), ProviderCall());
  EXPECT_FALSE(jobs::IsRetryable(failed.status()));
  EXPECT_NE(failed.status().message().find("bad image"), absl::string_view::npos);
  fake_.veo_mode = "filtered";
  auto filtered = veo.Generate(job, RevealImages(), ProviderCall());
  EXPECT_FALSE(jobs::IsRetryable(filtered.status()));
  EXPECT_NE(filtered.status().message().find("celebrity likeness"), absl::string_view::npos);
}

// Replies of the documented shape but with fields of the wrong type fail the attempt with a
// status; nothing throws (an exception on a worker thread would end the process).
TEST_F(GoogleProvidersTest, MalformedRepliesFailTheAttemptWithoutThrowing) {
  GeminiImageProvider gemini(media_.get(), config_);
  fake_.gemini_mode = "malformed";
  absl::StatusOr<JobResult> image;
  EXPECT_NO_THROW(image = gemini.Generate(ImageJob(), ProviderCall()));
  EXPECT_FALSE(image.ok());

  VeoVideoProvider veo(media_.get(), config_);
  ClaimedJob job;
  job.kind = JobKind::kVideo;
  job.id = "veo-malformed";
  job.output_stem = job.id;
  job.provider_job_id = "models/veo-3.1-generate-preview/operations/op123";
  fake_.polls_until_done = 0;
  for (const char* mode : {"malformed-done", "malformed-error", "malformed-video", "foreign-uri"}) {
    fake_.veo_mode = mode;
    absl::StatusOr<JobResult> video;
    EXPECT_NO_THROW(video = veo.Generate(job, RevealImages(), ProviderCall())) << mode;
    EXPECT_FALSE(video.ok()) << mode;
    EXPECT_FALSE(jobs::IsPollLater(video.status())) << mode;
  }
  fake_.veo_mode = "foreign-uri";
  EXPECT_NE(veo.Generate(job, RevealImages(), ProviderCall()).status().message().find("https"),
            absl::string_view::npos);
}

// Through the queue: the operation is polled on a schedule without using up attempts, and a
// worker that dies after submitting does not submit again.
TEST_F(GoogleProvidersTest, VeoJobsThroughTheQueueSubmitOnce) {
  cf::testing::TestDatabase database;
  db::ConnectionPool pool(database.RoleConninfo("cf_generation"), 4);
  JobStore store(&pool);
  GeminiImageProvider gemini(media_.get(), config_);
  VeoVideoProvider veo(media_.get(), config_);
  fake_.polls_until_done = 3;
  {
    pqxx::connection connection(database.OwnerConninfo());
    pqxx::work txn(connection);
    std::string dossier = txn.exec(
                                 "INSERT INTO cf_product_dossiers (slug, name) VALUES ('v', "
                                 "'V') RETURNING id")[0][0]
                              .as<std::string>();
    std::string image = gemini.Generate(ImageJob(), ProviderCall())->url;
    std::string image_id =
        txn.exec(
               "INSERT INTO cf_generated_images (dossier_id, type, prompt, "
               "status, image_url) VALUES ('" +
               dossier + "', 'product', 'p', 'completed', '" + image + "') RETURNING id")[0][0]
            .as<std::string>();
    txn.exec(
        "INSERT INTO cf_generated_videos (dossier_id, source_image_id, type, prompt, "
        "duration, aspect_ratio) VALUES ('" +
        dossier + "', '" + image_id + "', 'demo', 'push in', 6, '9:16')");
    txn.commit();
  }
  jobs::RunnerOptions options;
  options.worker_id = "veo-worker";
  options.poll_interval = absl::Milliseconds(20);
  options.conninfo = database.RoleConninfo("cf_generation");
  {
    MediaWorkers workers(&store, &gemini, &veo, 0, 1, options);
    workers.Start();
    pqxx::connection connection(database.OwnerConninfo());
    for (int i = 0; i < 300; ++i) {
      pqxx::nontransaction txn(connection);
      if (txn.exec("SELECT status FROM cf_generated_videos")[0][0].as<std::string>() ==
          "completed") {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  pqxx::connection connection(database.OwnerConninfo());
  pqxx::nontransaction txn(connection);
  auto row =
      txn.exec("SELECT status, attempts, remotion_job_id, model FROM cf_generated_videos")[0];
  EXPECT_EQ(row[0].as<std::string>(), "completed");
  EXPECT_EQ(row[1].as<int>(), 1);  // polling did not spend attempts
  EXPECT_EQ(row[2].as<std::string>(), "models/veo-3.1-generate-preview/operations/op123");
  EXPECT_EQ(fake_.submits.load(), 1);
  EXPECT_GE(fake_.polls.load(), 3);
}

}  // namespace
}  // namespace cf::generation
