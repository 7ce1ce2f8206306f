#include "services/generation/job_watch.h"

namespace cf::generation {
namespace {

template <typename Message>
bool IsTerminal(const Message& job) {
  return job.state() == v1::JOB_STATE_COMPLETED || job.state() == v1::JOB_STATE_FAILED ||
         job.state() == v1::JOB_STATE_CANCELLED;
}

}  // namespace

JobWatcher::JobWatcher(JobStore* store, absl::Duration interval, int max_watches)
    : images_(
          "image", [store](const std::vector<std::string>& ids) { return store->GetImages(ids); },
          &IsTerminal<v1::Image>, interval, max_watches),
      videos_(
          "video", [store](const std::vector<std::string>& ids) { return store->GetVideos(ids); },
          &IsTerminal<v1::Video>, interval, max_watches) {}

}  // namespace cf::generation
