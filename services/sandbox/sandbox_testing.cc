#include "services/sandbox/sandbox_testing.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/media/ffmpeg.h"
#include "common/testing/subprocess.h"
#include "services/sandbox/control_api.h"

namespace cf::sandbox::testing {

Options TestOptions() {
  static std::atomic<int> counter{0};
  Options options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.data_dir = cf::testing::TestTempPath(
      absl::StrCat("sandbox-", getpid(), "-", counter++, "-", absl::ToUnixNanos(absl::Now())));
  options.rate_scale = 0;
  options.processing_ms = 1000;
  options.post_id_delay_ms = 1000;
  options.day_seconds = 86400;
  options.media_fetch_timeout_s = 20;
  return options;
}

TestSandbox::TestSandbox(Options options)
    : options_(std::move(options)), now_us_(absl::ToUnixMicros(absl::Now())) {
  Start();
}

TestSandbox::~TestSandbox() { Stop(); }

void TestSandbox::Start() {
  absl::StatusOr<std::unique_ptr<Sandbox>> sandbox =
      Sandbox::Create(options_, [this] { return Now(); });
  if (!sandbox.ok()) {
    ADD_FAILURE() << sandbox.status();
    std::abort();
  }
  sandbox_ = std::move(*sandbox);
  absl::StatusOr<int> port = sandbox_->Bind();
  if (!port.ok()) {
    ADD_FAILURE() << port.status();
    std::abort();
  }
  port_ = *port;
  // The socket listens from Bind on: calls made before Serve begins wait in its backlog.
  served_ = false;
  serving_ = std::thread([this] {
    sandbox_->Serve();
    served_ = true;
  });
}

void TestSandbox::Stop() {
  if (!sandbox_) return;
  // A stop before Serve has begun listening is lost: repeat until it returned.
  while (!served_) {
    sandbox_->Stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  serving_.join();
  sandbox_.reset();
}

void TestSandbox::Restart() {
  Stop();
  options_.port = 0;
  Start();
}

std::string TestSandbox::Url(const std::string& path) const {
  return absl::StrCat("http://127.0.0.1:", port_, path);
}

http::Response TestSandbox::Call(const std::string& method, const std::string& path,
                                 const std::string& body,
                                 const std::vector<std::pair<std::string, std::string>>& headers) {
  http::Request request;
  request.method = method;
  request.url = path.rfind("http", 0) == 0 ? path : Url(path);
  request.body = body;
  request.headers = headers;
  // Control calls carry the sandbox's control header (a test of its absence calls http::Send).
  if (path.rfind("/_sandbox/", 0) == 0) request.headers.push_back({kControlHeader, "1"});
  request.timeout = absl::Seconds(60);
  absl::StatusOr<http::Response> response = http::Send(request);
  if (!response.ok()) {
    ADD_FAILURE() << method << " " << path << ": " << response.status();
    return http::Response{};
  }
  return *response;
}

http::Response TestSandbox::Form(const std::string& path,
                                 const std::vector<std::pair<std::string, std::string>>& fields,
                                 const std::string& token) {
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Type", "application/x-www-form-urlencoded"}};
  if (!token.empty()) headers.push_back({"Authorization", "Bearer " + token});
  return Call("POST", path, FormEncode(fields), headers);
}

nlohmann::json JsonOf(const http::Response& response) {
  nlohmann::json json = nlohmann::json::parse(response.body, nullptr, false);
  return json.is_discarded() ? nlohmann::json() : json;
}

std::string MakeVideo(const std::string& name, double seconds, int width, int height) {
  const std::string path = cf::testing::TestTempPath(name);
  absl::Status made = media::RunFfmpeg(
      {"-f", "lavfi", "-i", absl::StrCat("testsrc=s=", width, "x", height, ":d=", seconds), "-c:v",
       "libx264", "-pix_fmt", "yuv420p", "-preset", "ultrafast", "-movflags", "+faststart", path},
      media::RenderOptions{});
  EXPECT_TRUE(made.ok()) << made;
  return path;
}

std::string MakeNoisyVideo(const std::string& name, double seconds) {
  const std::string path = cf::testing::TestTempPath(name);
  absl::Status made = media::RunFfmpeg(
      {"-f", "lavfi", "-i", absl::StrCat("testsrc=s=640x360:d=", seconds, ",noise=alls=100:allf=t"),
       "-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p", path},
      media::RenderOptions{});
  EXPECT_TRUE(made.ok()) << made;
  return path;
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

namespace {

std::string UrlEncode(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += absl::StrCat("%", absl::BytesToHexString(std::string(1, static_cast<char>(c))));
    }
  }
  return out;
}

}  // namespace

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string body;
  for (const auto& [name, value] : fields) {
    absl::StrAppend(&body, body.empty() ? "" : "&", UrlEncode(name), "=", UrlEncode(value));
  }
  return body;
}

std::pair<std::string, std::string> Multipart(
    const std::vector<std::pair<std::string, std::string>>& fields, const std::string& file_field,
    const std::string& file_bytes) {
  const std::string boundary = "sandbox-test-boundary-7d1f";
  std::string body;
  for (const auto& [name, value] : fields) {
    absl::StrAppend(&body, "--", boundary, "\r\nContent-Disposition: form-data; name=\"", name,
                    "\"\r\n\r\n", value, "\r\n");
  }
  absl::StrAppend(&body, "--", boundary, "\r\nContent-Disposition: form-data; name=\"", file_field,
                  "\"; filename=\"chunk.mp4\"\r\nContent-Type: video/mp4\r\n\r\n", file_bytes,
                  "\r\n--", boundary, "--\r\n");
  return {body, "multipart/form-data; boundary=" + boundary};
}

}  // namespace cf::sandbox::testing
