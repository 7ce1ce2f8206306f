// Image and video jobs: cf_generated_images and cf_generated_videos rows are the jobs, run by
// common/jobs. The queue's job_state maps onto the seed's status: queued -> pending, running ->
// generating, done -> completed, failed, cancelled. What is generation's own lives here: the
// rows' creation, reads and listing, what a claim returns (the dossier snapshot) and what a
// completion writes (the URL and the seed's metadata JSON).
#ifndef CF_SERVICES_GENERATION_JOB_STORE_H_
#define CF_SERVICES_GENERATION_JOB_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cf/generation/v1/generation.pb.h"
#include "common/db/pool.h"
#include "common/jobs/queue.h"
#include "common/jobs/runner.h"
#include "common/paging/page_token.h"
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
  std::string output_stem;  // "<id>-<lease token>": this attempt's own file name
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
  std::string local_path;  // the file this attempt wrote (removed if its completion is refused)
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

using JobCursor = CreatedCursor;

// The queue over each table, with the status hook and what a claim returns.
jobs::QueueSpec QueueSpecFor(JobKind kind);
// A claimed row as a job for the providers.
ClaimedJob DecodeClaim(JobKind kind, const jobs::Lease& lease);
// What the fenced completion writes: the URL, model, external job id and metadata JSON.
jobs::Completion CompletionFor(JobKind kind, const JobResult& result);

class JobStore {
 public:
  explicit JobStore(db::ConnectionPool* pool)
      : pool_(pool),
        images_(pool, QueueSpecFor(JobKind::kImage)),
        videos_(pool, QueueSpecFor(JobKind::kVideo)) {}

  jobs::JobQueue* queue(JobKind kind) { return kind == JobKind::kImage ? &images_ : &videos_; }

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

  // pending or generating -> cancelled (a running render stops at its next heartbeat).
  absl::Status Cancel(JobKind kind, const std::string& id);
  // failed -> pending with a fresh set of attempts; FAILED_PRECONDITION otherwise.
  absl::Status Retry(JobKind kind, const std::string& id);

  // The newest completed image of a type for a dossier ("" when none): reveals use before/after.
  absl::StatusOr<std::string> LatestImageUrl(const std::string& dossier_id,
                                             const std::string& type);

 private:
  db::ConnectionPool* pool_;
  jobs::JobQueue images_;
  jobs::JobQueue videos_;
};

}  // namespace cf::generation

#endif  // CF_SERVICES_GENERATION_JOB_STORE_H_
