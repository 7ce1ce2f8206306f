// Test helper: the sandbox and a media server over a folder of its own, as child processes on
// free loopback ports (what tests of publishing run against), with calls to its control API.
#ifndef CF_SERVICES_SANDBOX_SANDBOX_PROCESSES_H_
#define CF_SERVICES_SANDBOX_SANDBOX_PROCESSES_H_

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/http/http_client.h"
#include "common/testing/subprocess.h"

namespace cf::sandbox {

class SandboxProcesses {
 public:
  // `name` names its data and media folders under the test's temp folder (made afresh);
  // `flags` are sandbox_server's (e.g. --processing_ms=200).
  SandboxProcesses(const std::string& name, const std::vector<std::string>& flags);

  // Whether both answered within 30 s.
  bool ready() const { return ready_; }
  const std::string& url() const { return url_; }              // http://127.0.0.1:<port>
  const std::string& media_url() const { return media_url_; }  // serves media_dir()
  const std::string& media_dir() const { return media_dir_; }

  // A call to the sandbox (an empty Response when it does not answer).
  http::Response Call(const std::string& method, const std::string& path,
                      const std::string& body = "");
  http::Response Get(const std::string& path) { return Call("GET", path); }
  // Adds fault rules (POST /_sandbox/faults); whether the sandbox took them.
  bool AddFaults(const nlohmann::json& faults, int seed = 1);
  // One fault, once.
  bool Fault(const std::string& platform, const std::string& operation, const std::string& kind,
             int delay_ms = 0);
  nlohmann::json Stats();
  // Posts the sandbox holds on `platform` ("" for all platforms).
  int Posts(const std::string& platform = "");

 private:
  std::string url_, media_url_, media_dir_;
  bool ready_ = false;
  std::unique_ptr<testing::Subprocess> server_, media_;
};

}  // namespace cf::sandbox

#endif  // CF_SERVICES_SANDBOX_SANDBOX_PROCESSES_H_
