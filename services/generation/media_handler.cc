#include "services/generation/media_handler.h"

#include <utility>

namespace cf::generation {

absl::StatusOr<jobs::Completion> MediaJobHandler::Run(jobs::JobContext& context) {
  ClaimedJob job = DecodeClaim(kind_, context.lease());
  ProviderCall call;
  call.progress = [&context](int percent) { context.SetProgress(percent); };
  call.cancel = context.cancel();
  call.record_provider_job = [&context](const std::string& provider_job_id) {
    return context.RecordExternalJob(provider_job_id);
  };
  absl::StatusOr<JobResult> result;
  if (kind_ == JobKind::kImage) {
    result = images_->Generate(job, call);
  } else {
    RevealImages reveal;
    if (job.type == "reveal") {
      // A database error fails the attempt (and is retried); a reveal is never rendered
      // without images that exist.
      for (auto [type, url] :
           {std::pair{"before", &reveal.before_url}, {"after", &reveal.after_url}}) {
        absl::StatusOr<std::string> latest = store_->LatestImageUrl(job.dossier_id, type);
        if (!latest.ok()) return latest.status();
        *url = *latest;
      }
    }
    result = videos_->Generate(job, reveal, call);
  }
  if (!result.ok()) return result.status();
  return CompletionFor(kind_, *result);
}

}  // namespace cf::generation
