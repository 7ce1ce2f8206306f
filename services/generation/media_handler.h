// What generation supplies to common/jobs for its two queues: decode a claimed image or video
// row and make the media with the configured provider.
#ifndef CF_SERVICES_GENERATION_MEDIA_HANDLER_H_
#define CF_SERVICES_GENERATION_MEDIA_HANDLER_H_

#include "common/jobs/runner.h"
#include "services/generation/job_store.h"
#include "services/generation/provider.h"

namespace cf::generation {

class MediaJobHandler final : public jobs::JobHandler {
 public:
  MediaJobHandler(JobKind kind, JobStore* store, ImageProvider* images, VideoProvider* videos)
      : kind_(kind), store_(store), images_(images), videos_(videos) {}

  absl::StatusOr<jobs::Completion> Run(jobs::JobContext& context) override;

 private:
  JobKind kind_;
  JobStore* store_;
  ImageProvider* images_;
  VideoProvider* videos_;
};

// The image and video handlers and the runner over both queues: what main() and the tests'
// in-process stack start.
class MediaWorkers {
 public:
  MediaWorkers(JobStore* store, ImageProvider* images, VideoProvider* videos, int image_threads,
               int video_threads, jobs::RunnerOptions options)
      : image_handler_(JobKind::kImage, store, images, videos),
        video_handler_(JobKind::kVideo, store, images, videos),
        runner_({{store->queue(JobKind::kImage), &image_handler_, image_threads},
                 {store->queue(JobKind::kVideo), &video_handler_, video_threads}},
                std::move(options)) {}

  void Start() { runner_.Start(); }
  void Stop(absl::Duration grace = absl::Seconds(10)) { runner_.Stop(grace); }

 private:
  MediaJobHandler image_handler_;
  MediaJobHandler video_handler_;
  jobs::JobRunner runner_;
};

}  // namespace cf::generation

#endif  // CF_SERVICES_GENERATION_MEDIA_HANDLER_H_
