#include "services/sandbox/sandbox_processes.h"

#include <map>

#include "absl/strings/str_cat.h"

namespace cf::sandbox {

SandboxProcesses::SandboxProcesses(const std::string& name, const std::vector<std::string>& flags) {
  const std::string data = testing::TestTempPath(name + "-data");
  media_dir_ = testing::TestTempPath(name + "-media");
  testing::CommandOutput("rm -rf '" + data + "' '" + media_dir_ + "' && mkdir -p '" + data + "' '" +
                         media_dir_ + "'");
  const int port = testing::FreePort();
  url_ = absl::StrCat("http://127.0.0.1:", port);
  std::vector<std::string> argv = {testing::RunfilePath("services/sandbox/sandbox_server"),
                                   absl::StrCat("--listen=127.0.0.1:", port), "--data_dir=" + data};
  argv.insert(argv.end(), flags.begin(), flags.end());
  server_ = std::make_unique<testing::Subprocess>(argv, std::map<std::string, std::string>{},
                                                  testing::TestTempPath(name + ".log"));
  const int media_port = testing::FreePort();
  media_url_ = absl::StrCat("http://127.0.0.1:", media_port);
  media_ = std::make_unique<testing::Subprocess>(
      std::vector<std::string>{testing::RunfilePath("services/sandbox/media_server"),
                               absl::StrCat("--listen=127.0.0.1:", media_port),
                               "--dir=" + media_dir_},
      std::map<std::string, std::string>{}, testing::TestTempPath(name + "-media.log"));
  ready_ = testing::WaitUntil([&] { return Get("/_sandbox/stats").status == 200; },
                              std::chrono::seconds(30)) &&
           testing::WaitUntil(
               [&] {
                 http::Request request;
                 request.url = media_url_ + "/";
                 return http::Send(request).ok();
               },
               std::chrono::seconds(30));
}

http::Response SandboxProcesses::Call(const std::string& method, const std::string& path,
                                      const std::string& body) {
  http::Request request;
  request.method = method;
  request.url = url_ + path;
  request.body = body;
  request.headers = {{"Content-Type", "application/json"}, {"X-Sandbox-Control", "1"}};
  absl::StatusOr<http::Response> response = http::Send(request);
  return response.ok() ? *response : http::Response{};
}

bool SandboxProcesses::AddFaults(const nlohmann::json& faults, int seed) {
  return Call("POST", "/_sandbox/faults", nlohmann::json{{"faults", faults}, {"seed", seed}}.dump())
             .status == 200;
}

bool SandboxProcesses::Fault(const std::string& platform, const std::string& operation,
                             const std::string& kind, int delay_ms) {
  nlohmann::json rule = {
      {"platform", platform}, {"operation", operation}, {"kind", kind}, {"times", 1}};
  if (delay_ms > 0) rule["delay_ms"] = delay_ms;
  return AddFaults(nlohmann::json::array({rule}));
}

nlohmann::json SandboxProcesses::Stats() {
  return nlohmann::json::parse(Get("/_sandbox/stats").body, nullptr, false);
}

int SandboxProcesses::Posts(const std::string& platform) {
  const nlohmann::json stats = Stats();
  auto posts = stats.find("posts");
  if (posts == stats.end() || !posts->is_object()) return 0;
  int total = 0;
  for (const auto& [name, count] : posts->items()) {
    if ((platform.empty() || name == platform) && count.is_number_integer()) {
      total += count.get<int>();
    }
  }
  return total;
}

}  // namespace cf::sandbox
