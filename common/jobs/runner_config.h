// The job runner's settings as every service reads them from its configuration (flags or
// CF_* environment), so each service's workers are configured the same way:
//   job_lease_s (30), job_poll_ms (1000), job_rescue_s (5), job_backoff_ms (2000),
//   worker_id (host:pid), attempt_log ("": none).
#ifndef CF_COMMON_JOBS_RUNNER_CONFIG_H_
#define CF_COMMON_JOBS_RUNNER_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "common/config/config.h"
#include "common/jobs/runner.h"

namespace cf::jobs {

// "<host>:<pid>": unique per process.
std::string DefaultWorkerId();

// The options, with `conninfo` for the runner's own connections; INVALID_ARGUMENT naming the
// first setting out of range.
absl::StatusOr<RunnerOptions> RunnerOptionsFromConfig(const Config& config,
                                                      const std::string& conninfo);

}  // namespace cf::jobs

#endif  // CF_COMMON_JOBS_RUNNER_CONFIG_H_
