// The sandbox's settings, from its command line (README.md: `sandbox_server --listen ...`).
#ifndef CF_SERVICES_SANDBOX_OPTIONS_H_
#define CF_SERVICES_SANDBOX_OPTIONS_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace cf::sandbox {

struct Options {
  std::string host = "127.0.0.1";
  int port = 8090;  // 0: any free port (the bound one is logged)
  std::string data_dir = "./sandbox-data";
  // Multiplies every rate limit (0 turns them off).
  double rate_scale = 1;
  int64_t processing_ms = 2000;
  int64_t post_id_delay_ms = 1000;
  // Wall-clock seconds in one sandbox day (the audience model's clock).
  double day_seconds = 86400;
  int64_t cpm_cents = 1000;  // --cpm 10.00
  bool tiktok_audited = true;
  // --truth_required: a post reports nothing until its true rates are set through the control
  // API, and its audience starts then. --truth_noise: the daily spread around them.
  bool truth_required = false;
  double truth_noise = 0.25;
  int media_fetch_timeout_s = 30;
};

// `--name value` and `--name=value` pairs, by name.
absl::StatusOr<std::map<std::string, std::string>> ParseFlagMap(int argc, char** argv);

// "127.0.0.1:8090" -> host and port (0-65535).
absl::Status ParseListen(const std::string& value, std::string* host, int* port);

// Accepts `--name value` and `--name=value`. Unknown flags and bad values are errors, so a typo
// does not pass silently.
absl::StatusOr<Options> ParseFlags(int argc, char** argv);

// "12.50" -> 1250. Negative amounts and more than two decimals are errors.
absl::StatusOr<int64_t> ParseCents(const std::string& amount);
// 1250 -> "12.50".
std::string FormatCents(int64_t cents);

}  // namespace cf::sandbox

#endif  // CF_SERVICES_SANDBOX_OPTIONS_H_
