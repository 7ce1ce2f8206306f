// The ElevenLabs adapter against a local fake in the documented shape (no test reaches the
// network): success, 401, 422, 429, 5xx, and bodies that are not the documented JSON.
#include "services/assembly/elevenlabs_voice.h"

#include <httplib.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "absl/strings/match.h"
#include "common/http/http_client.h"
#include "common/media/ffmpeg.h"
#include "common/status/status.h"
#include "common/testing/subprocess.h"
#include "gtest/gtest.h"

namespace cf::assembly {
namespace {

// UTF-8 code points of `text`, one string each.
std::vector<std::string> CodePoints(const std::string& text) {
  std::vector<std::string> points;
  for (size_t i = 0; i < text.size();) {
    size_t length = 1;
    while (i + length < text.size() &&
           (static_cast<unsigned char>(text[i + length]) & 0xc0) == 0x80) {
      ++length;
    }
    points.push_back(text.substr(i, length));
    i += length;
  }
  return points;
}

class FakeElevenLabs {
 public:
  explicit FakeElevenLabs(std::string mp3) : mp3_(std::move(mp3)) {
    server_.Post(R"(/v1/text-to-speech/([^/]+)/with-timestamps)",
                 [this](const httplib::Request& request, httplib::Response& response) {
                   Answer(request, response);
                 });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakeElevenLabs() {
    server_.stop();
    thread_.join();
  }
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  std::string mode = "ok";
  std::atomic<int> calls{0};
  std::string last_key, last_voice_id, last_text, last_format;

 private:
  void Answer(const httplib::Request& request, httplib::Response& response) {
    ++calls;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      last_key = request.get_header_value("xi-api-key");
      last_voice_id = request.matches[1];
      last_format = request.get_param_value("output_format");
      last_text = nlohmann::json::parse(request.body).value("text", "");
    }
    if (mode == "401") {
      response.status = 401;
      response.set_content(R"({"detail":{"status":"invalid_api_key"}})", "application/json");
    } else if (mode == "422") {
      response.status = 422;
      response.set_content(R"({"detail":[{"loc":["body","text"],"msg":"text too long"}]})",
                           "application/json");
    } else if (mode == "429") {
      response.status = 429;
      response.set_header("Retry-After", "7");
      response.set_content(R"({"detail":{"status":"too_many_concurrent_requests"}})",
                           "application/json");
    } else if (mode == "500") {
      response.status = 503;
      response.set_content("upstream unavailable", "text/plain");
    } else if (mode == "html") {
      response.set_content("<html>maintenance</html>", "text/html");
    } else {
      // Every character takes the same share of two seconds.
      std::vector<std::string> characters = CodePoints(last_text);
      std::vector<double> starts, ends;
      for (size_t i = 0; i < characters.size(); ++i) {
        starts.push_back(2.0 * i / characters.size());
        ends.push_back(2.0 * (i + 1) / characters.size());
      }
      if (mode == "short_alignment") ends.pop_back();
      nlohmann::json alignment = {{"characters", characters},
                                  {"character_start_times_seconds", starts},
                                  {"character_end_times_seconds", ends}};
      response.set_content(nlohmann::json{{"audio_base64", http::Base64Encode(mp3_)},
                                          {"alignment", alignment},
                                          {"normalized_alignment", alignment}}
                               .dump(),
                           "application/json");
    }
  }

  std::string mp3_;
  std::mutex mutex_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

class ElevenLabsVoiceTest : public ::testing::Test {
 protected:
  ElevenLabsVoiceTest() {
    const std::string mp3 = testing::TestTempPath("tone.mp3");
    testing::CommandOutput(
        "ffmpeg -nostdin -y -loglevel error -f lavfi -i "
        "sine=frequency=440:duration=2 -c:a libmp3lame '" +
        mp3 + "'");
    std::ifstream file(mp3, std::ios::binary);
    fake_ = std::make_unique<FakeElevenLabs>(
        std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()));
    ElevenLabsConfig config;
    config.api_key = "el-test-key";
    config.base_url = fake_->base_url();
    voice_ = std::make_unique<ElevenLabsVoice>(config);
  }

  absl::StatusOr<Speech> Speak(const std::string& text) {
    return voice_->Speak(text, "rachel", testing::TestTempPath("el.wav"));
  }

  std::unique_ptr<FakeElevenLabs> fake_;
  std::unique_ptr<ElevenLabsVoice> voice_;
};

TEST_F(ElevenLabsVoiceTest, SpeaksWithWordTimesFromTheAlignment) {
  absl::StatusOr<Speech> speech = Speak("Glow  today \xe4\xbd\xa0\xe5\xa5\xbd!");
  ASSERT_TRUE(speech.ok()) << speech.status();
  EXPECT_EQ(fake_->last_key, "el-test-key");
  EXPECT_EQ(fake_->last_voice_id, "21m00Tcm4TlvDq8ikWAM");
  EXPECT_EQ(fake_->last_format, "mp3_44100_128");
  EXPECT_EQ(fake_->last_text, "Glow today \xe4\xbd\xa0\xe5\xa5\xbd!");  // single spaces
  ASSERT_EQ(speech->words.size(), 3u);
  EXPECT_EQ(speech->words[2].text, "\xe4\xbd\xa0\xe5\xa5\xbd!");
  EXPECT_TRUE(speech->words[2].spoken);
  // "Glow" is characters 0-3 of 17: from 0 to 4/17 of two seconds.
  const int characters = static_cast<int>(CodePoints(fake_->last_text).size());
  EXPECT_NEAR(speech->words[0].start_s, 0, 1e-9);
  EXPECT_NEAR(speech->words[0].end_s, 2.0 * 4 / characters, 1e-9);
  EXPECT_NEAR(speech->words[1].start_s, 2.0 * 5 / characters, 1e-9);
  EXPECT_NEAR(speech->duration_s, 2.0, 0.1);
  auto info = media::Probe(speech->audio_path);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_NEAR(info->duration, 2.0, 0.1);
}

TEST_F(ElevenLabsVoiceTest, FailuresSayWhatToDoAndWhetherToRetry) {
  fake_->mode = "401";
  absl::Status key = Speak("Glow").status();
  EXPECT_EQ(key.code(), absl::StatusCode::kFailedPrecondition);  // not retried
  EXPECT_TRUE(absl::StrContains(key.message(), "CF_ELEVENLABS_API_KEY")) << key;

  fake_->mode = "422";
  absl::Status invalid = Speak("Glow").status();
  EXPECT_EQ(invalid.code(), absl::StatusCode::kInvalidArgument);  // not retried
  EXPECT_TRUE(absl::StrContains(invalid.message(), "text too long")) << invalid;

  fake_->mode = "429";
  absl::Status busy = Speak("Glow").status();
  EXPECT_EQ(busy.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(RetryAfterOf(busy), absl::Seconds(7));

  fake_->mode = "500";
  EXPECT_EQ(Speak("Glow").status().code(), absl::StatusCode::kUnavailable);
  fake_->mode = "html";
  absl::Status html = Speak("Glow").status();
  EXPECT_EQ(html.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(absl::StrContains(html.message(), "not the documented JSON")) << html;
  fake_->mode = "short_alignment";
  EXPECT_EQ(Speak("Glow").status().code(), absl::StatusCode::kUnavailable);

  EXPECT_EQ(voice_->Speak("Glow", "morgan", "x.wav").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ElevenLabsConfigTest, VoiceListsAreNameEqualsId) {
  auto voices = ParseVoiceList("rachel=21m00Tcm4TlvDq8ikWAM, adam = pNInz6obpgDQGcFmaJgB");
  ASSERT_TRUE(voices.ok()) << voices.status();
  EXPECT_EQ(voices->at("adam"), "pNInz6obpgDQGcFmaJgB");
  EXPECT_FALSE(ParseVoiceList("rachel").ok());
  EXPECT_FALSE(ParseVoiceList("").ok());
}

}  // namespace
}  // namespace cf::assembly
