// What makes images and videos. Each provider is selected by configuration: `local` (ffmpeg on
// this machine, the default) or the real model's HTTP API.
#ifndef CF_SERVICES_GENERATION_PROVIDER_H_
#define CF_SERVICES_GENERATION_PROVIDER_H_

#include <atomic>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/jobs/runner.h"
#include "common/media/ffmpeg.h"
#include "common/media/media_store.h"
#include "services/generation/job_store.h"

namespace cf::generation {

// A JobResult from what ffprobe read of the file written at `path` in `media`.
JobResult MediaResult(const media::MediaInfo& info, const media::MediaStore& media,
                      const std::string& path, const std::string& model, double generation_seconds,
                      bool video);

// What a running job may tell the worker.
struct ProviderCall {
  std::function<void(int percent)> progress = [](int) {};
  const std::atomic<bool>* cancel = nullptr;
  // Stores an external job's id before polling it (false: the job was lost to another attempt).
  std::function<bool(const std::string& provider_job_id)> record_provider_job =
      [](const std::string&) { return true; };
};

class ImageProvider {
 public:
  virtual ~ImageProvider() = default;
  virtual std::string model() const = 0;
  // INVALID_ARGUMENT naming the field for what this provider cannot make.
  virtual absl::Status Supports(const std::string& aspect_ratio) const = 0;
  virtual absl::StatusOr<JobResult> Generate(const ClaimedJob& job, const ProviderCall& call) = 0;
};

// For reveals: the dossier's newest completed before and after images ("" when missing).
struct RevealImages {
  std::string before_url;
  std::string after_url;
};

class VideoProvider {
 public:
  virtual ~VideoProvider() = default;
  virtual std::string model() const = 0;
  virtual absl::Status Supports(const std::string& aspect_ratio, int duration_seconds) const = 0;
  virtual absl::StatusOr<JobResult> Generate(const ClaimedJob& job, const RevealImages& reveal,
                                             const ProviderCall& call) = 0;
};

}  // namespace cf::generation

#endif  // CF_SERVICES_GENERATION_PROVIDER_H_
