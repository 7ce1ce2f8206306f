#include "services/generation/media_handler.h"

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
      reveal.before_url = store_->LatestImageUrl(job.dossier_id, "before").value_or("");
      reveal.after_url = store_->LatestImageUrl(job.dossier_id, "after").value_or("");
    }
    result = videos_->Generate(job, reveal, call);
  }
  if (!result.ok()) return result.status();
  return CompletionFor(kind_, *result);
}

}  // namespace cf::generation
