// The real model APIs (../shared/EXTERNAL_APIS.md), selected with CF_IMAGE_PROVIDER=gemini and
// CF_VIDEO_PROVIDER=veo. Base URLs are configurable so tests point them at a local fake.
//
// Gemini 2.5 Flash Image answers synchronously with the image inline. Veo 3.1 is a long-running
// operation: the operation name is stored (remotion_job_id) before the first poll, and the job
// is then polled on a schedule rather than holding a worker thread, so a crash never submits
// (and pays for) the same video twice.
#ifndef CF_SERVICES_GENERATION_GOOGLE_PROVIDERS_H_
#define CF_SERVICES_GENERATION_GOOGLE_PROVIDERS_H_

#include "common/media/media_store.h"
#include "services/generation/provider.h"

namespace cf::generation {

struct GoogleApiConfig {
  std::string base_url = "https://generativelanguage.googleapis.com";
  std::string api_key;
  absl::Duration request_timeout = absl::Seconds(120);
  absl::Duration poll_interval = absl::Seconds(10);  // Veo operations
  absl::Duration download_timeout = absl::Seconds(300);
};

class GeminiImageProvider final : public ImageProvider {
 public:
  GeminiImageProvider(const media::MediaStore* media, GoogleApiConfig config)
      : media_(media), config_(std::move(config)) {}
  std::string model() const override { return "gemini-2.5-flash-image"; }
  absl::Status Supports(const std::string& aspect_ratio) const override;
  absl::StatusOr<JobResult> Generate(const ClaimedJob& job, const ProviderCall& call) override;

 private:
  const media::MediaStore* media_;
  GoogleApiConfig config_;
};

class VeoVideoProvider final : public VideoProvider {
 public:
  VeoVideoProvider(const media::MediaStore* media, GoogleApiConfig config)
      : media_(media), config_(std::move(config)) {}
  std::string model() const override { return "veo-3.1-generate-preview"; }
  // Veo takes 9:16 and 16:9, and 4, 6 or 8 seconds.
  absl::Status Supports(const std::string& aspect_ratio, int duration_seconds) const override;
  absl::StatusOr<JobResult> Generate(const ClaimedJob& job, const RevealImages& reveal,
                                     const ProviderCall& call) override;

 private:
  // Not cancellable: a submit cut short might still have started (and be billed for) a video
  // whose operation name was never stored.
  absl::StatusOr<std::string> Submit(const ClaimedJob& job);
  absl::StatusOr<JobResult> Download(const ClaimedJob& job, const std::string& uri,
                                     const std::atomic<bool>* cancel);

  const media::MediaStore* media_;
  GoogleApiConfig config_;
};

}  // namespace cf::generation

#endif  // CF_SERVICES_GENERATION_GOOGLE_PROVIDERS_H_
