// The image and video queue: cf_generated_images and cf_generated_videos rows are the jobs.
//
// pending -> generating (claimed: attempts + 1, a lease) -> completed | failed | back to pending
// (retry after backoff, an expired lease, or a lease given back at shutdown). The attempt
// number is the fencing token: heartbeats, completions and failures count only from the worker
// holding the row's current attempt, so a worker that paused past its lease changes nothing.
#ifndef CF_SERVICES_GENERATION_JOB_STORE_H_
#define CF_SERVICES_GENERATION_JOB_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cf/generation/v1/generation.pb.h"
#include "common/db/pool.h"
#include "services/generation/script_engine.h"

namespace cf::generation {

enum class JobKind { kImage, kVideo };

const char* TableOf(JobKind kind);
const char* KindName(JobKind kind);  // "image" / "video"

// What a new job is made from (validated before it gets here).
struct NewJob {
  std::string dossier_id;
  std::string type;
  std::string prompt;
  std::string aspect_ratio;
  int duration_seconds = 0;     // videos
  std::string source_image_id;  // videos
  std::string model;            // the configured provider's model name
  ScriptInput dossier;          // snapshot
  int max_attempts = 5;
};

// A job a worker holds.
struct ClaimedJob {
  JobKind kind = JobKind::kImage;
  std::string id;
  std::string dossier_id;
  int attempt = 0;
  std::string type;
  std::string prompt;
  std::string aspect_ratio;
  int duration_seconds = 0;
  std::string source_image_url;  // videos: the completed source image
  std::string provider_job_id;   // remotion_job_id: an external job already submitted
  ScriptInput dossier;
};

// What a worker reports on success; becomes the seed's metadata JSON.
struct JobResult {
  std::string url;
  std::string model;
  std::string provider_job_id;
  int width = 0;
  int height = 0;
  std::string format;  // "png", "mp4"
  int64_t file_size = 0;
  double generation_seconds = 0;
  // Videos.
  double fps = 0;
  std::string codec;
  std::string bitrate;
  double duration_seconds = 0;
};

struct JobFilter {
  std::string dossier_id;
  std::string type;
  std::string status;
};

struct JobCursor {
  std::string created_at;  // timestamptz text
  std::string id;
};

// The claim and completion statements, exposed so the queue benchmark can drive exactly the
// same SQL without the worker machinery around it.
// Claim: $1 worker, $2 lease in ms, $3 limit. Complete: see JobStore::Complete.
std::string ClaimStatement(JobKind kind);
std::string CompleteStatement(JobKind kind);

class JobStore {
 public:
  explicit JobStore(db::ConnectionPool* pool) : pool_(pool) {}

  // Inserts `count` pending jobs in one transaction. A request_id seen before returns the jobs
  // it created. FAILED_PRECONDITION when the dossier would exceed `max_pending` unfinished jobs.
  absl::StatusOr<std::vector<std::string>> Create(JobKind kind, const NewJob& job, int count,
                                                  const std::string& request_id, int max_pending);

  absl::StatusOr<v1::Image> GetImage(const std::string& id);
  absl::StatusOr<v1::Video> GetVideo(const std::string& id);
  absl::StatusOr<std::vector<v1::Image>> GetImages(const std::vector<std::string>& ids);
  absl::StatusOr<std::vector<v1::Video>> GetVideos(const std::vector<std::string>& ids);
  // Newest first; `next` set when more rows follow.
  absl::StatusOr<std::vector<v1::Image>> ListImages(const JobFilter& filter,
                                                    const std::optional<JobCursor>& after,
                                                    int page_size, std::optional<JobCursor>* next);
  absl::StatusOr<std::vector<v1::Video>> ListVideos(const JobFilter& filter,
                                                    const std::optional<JobCursor>& after,
                                                    int page_size, std::optional<JobCursor>* next);

  // pending -> cancelled; FAILED_PRECONDITION from any other state.
  absl::Status Cancel(JobKind kind, const std::string& id);
  // failed -> pending with a fresh set of attempts; FAILED_PRECONDITION otherwise.
  absl::Status Retry(JobKind kind, const std::string& id);

  // Claims up to `limit` due pending jobs for `worker`, each with a lease of `lease`.
  absl::StatusOr<std::vector<ClaimedJob>> Claim(JobKind kind, const std::string& worker, int limit,
                                                absl::Duration lease);
  // Extends the lease and records progress; false when the attempt no longer holds the job.
  absl::StatusOr<bool> Heartbeat(JobKind kind, const std::string& id, int attempt, int progress,
                                 absl::Duration lease);
  // Records an external job id before polling it, so a crash never submits (and pays) twice.
  absl::StatusOr<bool> RecordProviderJob(JobKind kind, const std::string& id, int attempt,
                                         const std::string& provider_job_id);
  // generating -> completed; false (nothing written) when the attempt lost the job.
  absl::StatusOr<bool> Complete(JobKind kind, const std::string& id, int attempt,
                                const JobResult& result);
  // generating -> pending after `retry_after` while attempts remain and `retryable`, else
  // failed with `error`; false when the attempt lost the job.
  absl::StatusOr<bool> Fail(JobKind kind, const std::string& id, int attempt,
                            const std::string& error, bool retryable, absl::Duration retry_after);
  // generating -> pending until `after` without using up the attempt, keeping the provider's
  // job id: an external job is still running and will be polled again then.
  absl::StatusOr<bool> Defer(JobKind kind, const std::string& id, int attempt,
                             absl::Duration after);
  // generating -> pending without using up the attempt (the worker is shutting down).
  absl::StatusOr<bool> Release(JobKind kind, const std::string& id, int attempt);
  // Expired leases: back to pending, or failed when the attempts are used up. Returns how many.
  absl::StatusOr<int> RescueExpired(JobKind kind);

  // The newest completed image of a type for a dossier ("" when none): reveals use before/after.
  absl::StatusOr<std::string> LatestImageUrl(const std::string& dossier_id,
                                             const std::string& type);

 private:
  db::ConnectionPool* pool_;
};

}  // namespace cf::generation

#endif  // CF_SERVICES_GENERATION_JOB_STORE_H_
