// sandbox_server: TikTok, Instagram, Facebook and YouTube on one local port, for running the
// factory offline (README.md in this folder is the contract it implements).
//
//   sandbox_server --listen 127.0.0.1:8090 --data_dir ./sandbox-data [--rate_scale 1]
//                  [--processing_ms 2000] [--post_id_delay_ms 1000] [--day_seconds 86400]
//                  [--cpm 10.00] [--tiktok_audited true] [--media_fetch_timeout_s 30]
//
// SIGTERM or SIGINT stops it (exit 0); everything it was told stays in --data_dir.
#include <iostream>

#include "absl/strings/str_cat.h"
#include "common/log/log.h"
#include "services/sandbox/options.h"
#include "services/sandbox/sandbox.h"
#include "services/sandbox/serve_until_signal.h"

int main(int argc, char** argv) {
  cf::SetLogService("sandbox");
  cf::sandbox::BlockStopSignals();
  absl::StatusOr<cf::sandbox::Options> options = cf::sandbox::ParseFlags(argc, argv);
  if (!options.ok()) {
    cf::Log(cf::LogLevel::kError, "bad flags",
            {{"error", std::string(options.status().message())}});
    return 2;
  }
  absl::StatusOr<std::unique_ptr<cf::sandbox::Sandbox>> sandbox =
      cf::sandbox::Sandbox::Create(*options);
  if (!sandbox.ok()) {
    cf::Log(cf::LogLevel::kError, "cannot start",
            {{"error", std::string(sandbox.status().message())}});
    return 1;
  }
  absl::StatusOr<int> port = (*sandbox)->Bind();
  if (!port.ok()) {
    cf::Log(cf::LogLevel::kError, "cannot start",
            {{"error", std::string(port.status().message())}});
    return 1;
  }
  const std::string address = absl::StrCat(options->host, ":", *port);
  cf::Log(
      cf::LogLevel::kInfo, "sandbox listening",
      {{"address", address}, {"feed", "http://" + address + "/"}, {"data_dir", options->data_dir}});
  const int signal_number =
      cf::sandbox::ServeUntilSignal([&] { (*sandbox)->Serve(); }, [&] { (*sandbox)->Stop(); });
  sandbox->reset();
  cf::Log(cf::LogLevel::kInfo, "sandbox stopped", {{"signal", signal_number}});
  return signal_number != 0 ? 0 : 1;
}
