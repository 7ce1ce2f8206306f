// Test helpers: a sandbox in-process on a free port whose clock the test moves by hand (so
// processing, post-id delays and audience growth need no waiting), plus test videos.
#ifndef CF_SERVICES_SANDBOX_SANDBOX_TESTING_H_
#define CF_SERVICES_SANDBOX_SANDBOX_TESTING_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "common/http/http_client.h"
#include "nlohmann/json.hpp"
#include "services/sandbox/sandbox.h"

namespace cf::sandbox::testing {

// Options for a test: a fresh data folder under TEST_TMPDIR, any free port, rate limits off,
// 1 s processing and a 1 s post-id delay (on the fake clock).
Options TestOptions();

class TestSandbox {
 public:
  explicit TestSandbox(Options options = TestOptions());
  ~TestSandbox();

  // Stops and starts again over the same data folder (and the same clock).
  void Restart();

  std::string Url(const std::string& path) const;
  // One call; a transport failure fails the test and returns status 0.
  http::Response Call(const std::string& method, const std::string& path,
                      const std::string& body = "",
                      const std::vector<std::pair<std::string, std::string>>& headers = {});
  // A form POST (application/x-www-form-urlencoded).
  http::Response Form(const std::string& path,
                      const std::vector<std::pair<std::string, std::string>>& fields,
                      const std::string& token = "sandbox-access");

  void Advance(absl::Duration by) { now_us_ += absl::ToInt64Microseconds(by); }
  absl::Time Now() const { return absl::FromUnixMicros(now_us_.load()); }
  Env& env() { return sandbox_->env(); }
  const Options& options() const { return options_; }

 private:
  void Start();
  void Stop();

  Options options_;
  std::atomic<int64_t> now_us_;
  std::unique_ptr<Sandbox> sandbox_;
  std::thread serving_;
  std::atomic<bool> served_{false};
  int port_ = 0;
};

// The body parsed (null when it is not JSON).
nlohmann::json JsonOf(const http::Response& response);

// A short MP4 (ffmpeg's test pattern, H.264) at <TEST_TMPDIR>/<name>.
std::string MakeVideo(const std::string& name, double seconds = 1, int width = 320,
                      int height = 240);
// A large MP4 (lossless noise, about 8 MB a second at 640x360) for multi-chunk uploads.
std::string MakeNoisyVideo(const std::string& name, double seconds);
std::string ReadFile(const std::string& path);
std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields);
// A multipart/form-data body with `fields` and a file part; the Content-Type to send with it.
std::pair<std::string, std::string> Multipart(
    const std::vector<std::pair<std::string, std::string>>& fields, const std::string& file_field,
    const std::string& file_bytes);

}  // namespace cf::sandbox::testing

#endif  // CF_SERVICES_SANDBOX_SANDBOX_TESTING_H_
