#include "common/jobs/runner_config.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace cf::jobs {

std::string DefaultWorkerId() {
  char host[256] = "host";
  gethostname(host, sizeof(host) - 1);
  return absl::StrCat(host, ":", getpid());
}

absl::StatusOr<RunnerOptions> RunnerOptionsFromConfig(const Config& config,
                                                      const std::string& conninfo) {
  RunnerOptions options;
  struct Item {
    const char* name;
    absl::Duration* out;
    int fallback, min, max;
    absl::Duration unit;
  } items[] = {{"job_lease_s", &options.lease, 30, 1, 3600, absl::Seconds(1)},
               {"job_poll_ms", &options.poll_interval, 1000, 10, 60000, absl::Milliseconds(1)},
               {"job_rescue_s", &options.rescue_interval, 5, 1, 3600, absl::Seconds(1)},
               {"job_backoff_ms", &options.backoff_base, 2000, 1, 3600000, absl::Milliseconds(1)}};
  for (const Item& item : items) {
    absl::StatusOr<int> value = config.GetInt(item.name, item.fallback, item.min, item.max);
    if (!value.ok()) return value.status();
    *item.out = *value * item.unit;
  }
  options.worker_id = config.GetOr("worker_id", DefaultWorkerId());
  options.attempt_log_path = config.GetOr("attempt_log", "");
  options.conninfo = conninfo;
  return options;
}

}  // namespace cf::jobs
