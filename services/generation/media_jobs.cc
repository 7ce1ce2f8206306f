#include "services/generation/media_jobs.h"

#include "absl/strings/str_cat.h"
#include "common/paging/page_token.h"
#include "common/status/status.h"
#include "common/validation/ids.h"
#include "services/generation/media_types.h"
#include "services/generation/prompts.h"

namespace cf::generation {
namespace {

// Checks the fields both create requests share; returns the count to create.
int CheckCommon(const std::string& dossier_id, const std::string& prompt, int count,
                const std::string& request_id, const MediaJobLimits& limits,
                FieldViolations* violations) {
  CheckUuidField(dossier_id, "dossier_id", violations);
  if (prompt.size() > limits.max_prompt_length) {
    violations->Add("prompt", absl::StrCat("must be at most ", limits.max_prompt_length, " bytes"));
  }
  if (count < 0 || count > limits.max_count) {
    violations->Add("count", absl::StrCat("must be from 1 to ", limits.max_count, " (0 means 1)"));
  }
  if (request_id.size() > 100) violations->Add("request_id", "must be at most 100 characters");
  return count == 0 ? 1 : count;
}

std::string AspectOrDefault(v1::AspectRatio ratio, FieldViolations* violations) {
  if (ratio == v1::ASPECT_RATIO_UNSPECIFIED) return "9:16";
  std::string name = AspectRatioToDb(ratio);
  if (name.empty()) violations->Add("aspect_ratio", "is not a known AspectRatio");
  return name;
}

// Checks the id, applies a state change, and reads the job back.
template <typename Read>
auto ChangeThenRead(const std::string& id, const std::function<absl::Status()>& change, Read read)
    -> decltype(read()) {
  absl::Status valid = RequireUuid(id, "id");
  if (!valid.ok()) return valid;
  absl::Status changed = change();
  if (!changed.ok()) return changed;
  return read();
}

// What both list methods share: filter checks, page size, the token's cursor.
struct ListQuery {
  JobFilter filter;
  std::string fingerprint;
  int page_size = 0;
  std::optional<JobCursor> after;
};

absl::StatusOr<ListQuery> ParseList(const std::string& dossier_id, int type,
                                    const std::string& type_name, v1::JobState state, int page_size,
                                    const std::string& token) {
  FieldViolations violations;
  if (!dossier_id.empty()) CheckUuidField(dossier_id, "dossier_id", &violations);
  if (type != 0 && type_name.empty()) violations.Add("type", "is not a known type");
  if (state != v1::JOB_STATE_UNSPECIFIED && JobStateToDb(state).empty()) {
    violations.Add("state", "is not a known JobState");
  }
  if (!violations.empty()) return violations.Build();
  ListQuery query;
  auto size = PageSize(page_size, 50, 500);
  if (!size.ok()) return size.status();
  query.page_size = *size;
  query.fingerprint = absl::StrCat(dossier_id, "/", type, "/", static_cast<int>(state));
  auto after = DecodeCreatedCursor(token, query.fingerprint, "this list method");
  if (!after.ok()) return after.status();
  query.after = *after;
  query.filter = {dossier_id, type_name, JobStateToDb(state)};
  return query;
}

}  // namespace

absl::StatusOr<v1::CreateImageResponse> MediaJobs::CreateImage(
    const v1::CreateImageRequest& request, const CallContext& call) {
  FieldViolations violations;
  int count = CheckCommon(request.dossier_id(), request.prompt(), request.count(),
                          request.request_id(), limits_, &violations);
  std::string type = ImageTypeToDb(request.type());
  if (type.empty()) {
    violations.Add("type", "must be one of IMAGE_TYPE_BEFORE, _AFTER, _PRODUCT, _LIFESTYLE");
  }
  std::string aspect = AspectOrDefault(request.aspect_ratio(), &violations);
  if (!violations.empty()) return violations.Build();
  absl::Status supported = images_->Supports(aspect);
  if (!supported.ok()) return supported;

  auto dossier = DossierToWorkOn(dossiers_, request.dossier_id(), call);
  if (!dossier.ok()) return dossier.status();
  NewJob job;
  job.dossier_id = request.dossier_id();
  job.type = type;
  job.aspect_ratio = aspect;
  job.model = images_->model();
  job.dossier = ScriptInputFrom(*dossier);
  job.prompt = request.prompt().empty() ? ImagePrompt(type, job.dossier, aspect) : request.prompt();
  job.max_attempts = limits_.max_attempts;
  auto ids = store_->Create(JobKind::kImage, job, count, request.request_id(),
                            limits_.max_unfinished_per_dossier);
  if (!ids.ok()) return ids.status();
  auto images = store_->GetImages(*ids);
  if (!images.ok()) return images.status();
  v1::CreateImageResponse response;
  for (auto& image : *images) *response.add_images() = std::move(image);
  return response;
}

absl::StatusOr<v1::CreateVideoResponse> MediaJobs::CreateVideo(
    const v1::CreateVideoRequest& request, const CallContext& call) {
  FieldViolations violations;
  int count = CheckCommon(request.dossier_id(), request.prompt(), request.count(),
                          request.request_id(), limits_, &violations);
  std::string type = VideoTypeToDb(request.type());
  if (type.empty()) {
    violations.Add("type", "must be one of VIDEO_TYPE_REVEAL, _DEMO, _TRANSITION, _TESTIMONIAL");
  }
  CheckUuidField(request.source_image_id(), "source_image_id", &violations);
  std::string aspect = AspectOrDefault(request.aspect_ratio(), &violations);
  int duration =
      request.duration_seconds() == 0 ? limits_.default_video_seconds : request.duration_seconds();
  if (duration < 0) violations.Add("duration_seconds", "must be positive");
  if (!violations.empty()) return violations.Build();
  absl::Status supported = videos_->Supports(aspect, duration);
  if (!supported.ok()) return supported;

  auto dossier = DossierToWorkOn(dossiers_, request.dossier_id(), call);
  if (!dossier.ok()) return dossier.status();
  NewJob job;
  job.dossier_id = request.dossier_id();
  job.type = type;
  job.aspect_ratio = aspect;
  job.duration_seconds = duration;
  job.source_image_id = request.source_image_id();
  job.model = videos_->model();
  job.dossier = ScriptInputFrom(*dossier);
  job.prompt = request.prompt().empty() ? VideoPrompt(type, job.dossier, aspect, duration)
                                        : request.prompt();
  job.max_attempts = limits_.max_attempts;
  auto ids = store_->Create(JobKind::kVideo, job, count, request.request_id(),
                            limits_.max_unfinished_per_dossier);
  if (!ids.ok()) return ids.status();
  auto videos = store_->GetVideos(*ids);
  if (!videos.ok()) return videos.status();
  v1::CreateVideoResponse response;
  for (auto& video : *videos) *response.add_videos() = std::move(video);
  return response;
}

absl::StatusOr<v1::Image> MediaJobs::GetImage(const v1::GetImageRequest& request) {
  absl::Status valid = RequireUuid(request.id(), "id");
  if (!valid.ok()) return valid;
  return store_->GetImage(request.id());
}

absl::StatusOr<v1::Video> MediaJobs::GetVideo(const v1::GetVideoRequest& request) {
  absl::Status valid = RequireUuid(request.id(), "id");
  if (!valid.ok()) return valid;
  return store_->GetVideo(request.id());
}

absl::StatusOr<v1::Image> MediaJobs::CancelImage(const v1::CancelImageRequest& request) {
  return ChangeThenRead(
      request.id(), [&] { return store_->Cancel(JobKind::kImage, request.id()); },
      [&] { return store_->GetImage(request.id()); });
}

absl::StatusOr<v1::Video> MediaJobs::CancelVideo(const v1::CancelVideoRequest& request) {
  return ChangeThenRead(
      request.id(), [&] { return store_->Cancel(JobKind::kVideo, request.id()); },
      [&] { return store_->GetVideo(request.id()); });
}

absl::StatusOr<v1::Image> MediaJobs::RetryImage(const v1::RetryImageRequest& request) {
  return ChangeThenRead(
      request.id(), [&] { return store_->Retry(JobKind::kImage, request.id()); },
      [&] { return store_->GetImage(request.id()); });
}

absl::StatusOr<v1::Video> MediaJobs::RetryVideo(const v1::RetryVideoRequest& request) {
  return ChangeThenRead(
      request.id(), [&] { return store_->Retry(JobKind::kVideo, request.id()); },
      [&] { return store_->GetVideo(request.id()); });
}

absl::StatusOr<v1::ListImagesResponse> MediaJobs::ListImages(const v1::ListImagesRequest& request) {
  auto query = ParseList(request.dossier_id(), static_cast<int>(request.type()),
                         ImageTypeToDb(request.type()), request.state(), request.page_size(),
                         request.page_token());
  if (!query.ok()) return query.status();
  std::optional<JobCursor> next;
  auto images = store_->ListImages(query->filter, query->after, query->page_size, &next);
  if (!images.ok()) return images.status();
  v1::ListImagesResponse response;
  for (auto& image : *images) *response.add_images() = std::move(image);
  if (next) {
    response.set_next_page_token(EncodeCreatedCursor(*next, query->fingerprint));
  }
  return response;
}

absl::StatusOr<v1::ListVideosResponse> MediaJobs::ListVideos(const v1::ListVideosRequest& request) {
  auto query = ParseList(request.dossier_id(), static_cast<int>(request.type()),
                         VideoTypeToDb(request.type()), request.state(), request.page_size(),
                         request.page_token());
  if (!query.ok()) return query.status();
  std::optional<JobCursor> next;
  auto videos = store_->ListVideos(query->filter, query->after, query->page_size, &next);
  if (!videos.ok()) return videos.status();
  v1::ListVideosResponse response;
  for (auto& video : *videos) *response.add_videos() = std::move(video);
  if (next) {
    response.set_next_page_token(EncodeCreatedCursor(*next, query->fingerprint));
  }
  return response;
}

}  // namespace cf::generation
