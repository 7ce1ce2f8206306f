// The rules for image and video jobs: validation, what the configured provider can make,
// defaults and limits, and the dossier snapshot taken at creation. Plain C++ over the job store.
#ifndef CF_SERVICES_GENERATION_MEDIA_JOBS_H_
#define CF_SERVICES_GENERATION_MEDIA_JOBS_H_

#include "absl/status/statusor.h"
#include "cf/generation/v1/generation.pb.h"
#include "common/server/call_context.h"
#include "services/generation/dossier_source.h"
#include "services/generation/job_store.h"
#include "services/generation/provider.h"

namespace cf::generation {

struct MediaJobLimits {
  int max_count = 10;                   // jobs per create call
  int max_unfinished_per_dossier = 50;  // pending + generating, per kind
  int max_attempts = 5;
  size_t max_prompt_length = 4000;
  int default_video_seconds = 6;
};

class MediaJobs {
 public:
  MediaJobs(JobStore* store, DossierSource* dossiers, ImageProvider* images, VideoProvider* videos,
            MediaJobLimits limits = MediaJobLimits())
      : store_(store), dossiers_(dossiers), images_(images), videos_(videos), limits_(limits) {}

  absl::StatusOr<v1::CreateImageResponse> CreateImage(const v1::CreateImageRequest& request,
                                                      const CallContext& call);
  absl::StatusOr<v1::Image> GetImage(const v1::GetImageRequest& request);
  absl::StatusOr<v1::ListImagesResponse> ListImages(const v1::ListImagesRequest& request);
  absl::StatusOr<v1::Image> CancelImage(const v1::CancelImageRequest& request);
  absl::StatusOr<v1::Image> RetryImage(const v1::RetryImageRequest& request);

  absl::StatusOr<v1::CreateVideoResponse> CreateVideo(const v1::CreateVideoRequest& request,
                                                      const CallContext& call);
  absl::StatusOr<v1::Video> GetVideo(const v1::GetVideoRequest& request);
  absl::StatusOr<v1::ListVideosResponse> ListVideos(const v1::ListVideosRequest& request);
  absl::StatusOr<v1::Video> CancelVideo(const v1::CancelVideoRequest& request);
  absl::StatusOr<v1::Video> RetryVideo(const v1::RetryVideoRequest& request);

 private:
  JobStore* store_;
  DossierSource* dossiers_;
  ImageProvider* images_;
  VideoProvider* videos_;
  MediaJobLimits limits_;
};

}  // namespace cf::generation

#endif  // CF_SERVICES_GENERATION_MEDIA_JOBS_H_
