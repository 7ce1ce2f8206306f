// cf_publish_jobs (publishes, as jobs of common/jobs) and cf_published_content (confirmed
// posts): writes and reads.
#ifndef CF_SERVICES_PUBLISHING_PUBLISH_STORE_H_
#define CF_SERVICES_PUBLISHING_PUBLISH_STORE_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "cf/publishing/v1/publishing.pb.h"
#include "common/db/pool.h"
#include "common/jobs/queue.h"
#include "common/jobs/runner.h"
#include "common/paging/page_token.h"

namespace cf::publishing {

struct NewPublish {
  std::string assembled_content_id;
  std::string platform;
  std::string request_id;
  std::string privacy;  // public, friends, private, unlisted
  std::optional<absl::Time> scheduled_time;
  // {"video_url", "video_bytes", "duration", "width", "height", "caption", "title",
  //  "hashtags", "disclosure", "ai_generated"}
  nlohmann::json snapshot;
};

struct PublishFilter {
  std::string assembled_content_id;  // "" for any
  std::string platform;
  std::string job_state;  // queued, running, done, failed, cancelled; "" for any
};

struct PublishedFilter {
  std::string assembled_content_id;
  std::string platform;
  std::string promotion_status;
};

struct PromotionLease {
  std::string handle;  // what the start made so far ("" at first)
  int64_t token = 0;
  absl::Time ends_at;  // when the promotion ends by itself
};

// A promotion the sweeper starts.
struct RequestedPromotion {
  std::string published_content_id;
  int64_t cents = 0;  // a day
  int days = 0;       // from now, for one not yet begun
};

// Promotion days when none are asked for, and the most that may be.
inline constexpr int kDefaultPromotionDays = 7;
inline constexpr int kMaxPromotionDays = 30;

template <typename T>
struct Page {
  std::vector<T> items;
  std::optional<CreatedCursor> next;
};

// How a publish ends that may have made a post nobody recorded: failed, keeping the platform's
// handle, with an error that starts so. Its assembly takes no new publish while it keeps the
// handle (Create); ReconcilePublish looks the post up by that handle.
inline constexpr char kLiveNotRecorded[] = "live on the platform, not recorded";

// The queue of publishes: job_state onto status (done is published). A worker that dies while
// its publish holds a platform handle spends no attempt; past `give_up_after` from when the
// publish was due, such a publish fails as kLiveNotRecorded (common/jobs' rescue policy).
jobs::QueueSpec PublishQueueSpec(absl::Duration give_up_after);

// What ReconcilePublish needs of a failed publish.
struct ReconcileTarget {
  v1::Publish publish;
  std::string snapshot;  // publish_snapshot as JSON text
  std::string handle;    // platform_handle ("" when none)
};

class PublishStore {
 public:
  // `give_up_after`: see PublishQueueSpec.
  explicit PublishStore(db::ConnectionPool* pool, absl::Duration give_up_after = absl::Hours(24));

  // Queues `publish` (due at its scheduled time). A repeated request id answers the first
  // publish; an assembly with an unfinished publish is ALREADY_EXISTS naming it.
  absl::StatusOr<v1::Publish> Create(const NewPublish& publish);
  absl::StatusOr<v1::Publish> Get(const std::string& id);
  std::optional<v1::Publish> FindByRequestId(const std::string& request_id);
  absl::StatusOr<std::vector<v1::Publish>> GetMany(const std::vector<std::string>& ids);
  absl::StatusOr<Page<v1::Publish>> List(const PublishFilter& filter,
                                         const std::optional<CreatedCursor>& after, int page_size);
  // Cancels a publish no worker has started (FAILED_PRECONDITION once one has: the platform
  // may already have the video).
  absl::StatusOr<v1::Publish> Cancel(const std::string& id);

  absl::StatusOr<v1::PublishedContent> GetPublished(const std::string& id);
  absl::StatusOr<Page<v1::PublishedContent>> ListPublished(
      const PublishedFilter& filter, const std::optional<CreatedCursor>& after, int page_size);

  // Promotion (cf_published_content's promotion_* columns), started by one caller at a time
  // under a lease. BeginPromotion: none, failed or completed -> pending at `budget_cents` a day
  // (handle ""); an interrupted start (pending at the same budget, its lease run out) is taken
  // over with the handle it recorded so far. ABORTED while another caller holds the lease;
  // FAILED_PRECONDITION when active, or pending at another budget, or the post has no public id.
  // A new promotion runs `days` from now; an interrupted start keeps the end it began with.
  absl::StatusOr<PromotionLease> BeginPromotion(const std::string& id, int64_t budget_cents,
                                                int days);
  // ABORTED once the lease is gone (the promotion was stopped, or taken over).
  absl::Status RecordPromotionHandle(const std::string& id, int64_t token,
                                     const std::string& handle);
  // pending -> `state` ("active", "failed", or "pending" with a note), giving the lease back.
  absl::StatusOr<v1::PublishedContent> EndStart(const std::string& id, int64_t token,
                                                const std::string& state, const std::string& note);
  // Any promotion that began -> completed (failed stays failed), ending any start's lease.
  // What it made is kept as unstopped until ConfirmStopped.
  absl::StatusOr<v1::PublishedContent> MarkPromotionStopped(const std::string& id,
                                                            const std::string& note);
  // What an ended promotion made that the platform has not confirmed stopped ("" when none).
  std::string UnstoppedHandle(const std::string& id);
  // The platform confirmed `handle` stopped (a no-op when another handle is unstopped now).
  absl::Status ConfirmStopped(const std::string& id, const std::string& handle);
  // Ended promotions whose stop is not confirmed, due for another try: (id, handle); each is
  // not offered again for a minute.
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> UnstoppedDue(int limit);
  // none -> failed with `note` (a promotion asked for with the publish that cannot start).
  absl::Status RefusePromotion(const std::string& id, const std::string& note);
  std::string PromotionHandle(const std::string& id);
  // What the sweeper starts: posts whose publish asked for a promotion not yet begun, and
  // interrupted starts idle for half a minute.
  absl::StatusOr<std::vector<RequestedPromotion>> RequestedPromotions(int limit);

  // YouTube's quota on `day` (its quota day): the units spent, plus `upload_cost` for each
  // YouTube publish due that day that has not started an upload yet.
  absl::StatusOr<int> YouTubeUnitsPlanned(absl::CivilDay day, int upload_cost);
  // Spends `units` of `day`'s quota, unless that would pass `quota` (false, nothing spent).
  // One statement: two at once cannot both take the last units.
  absl::StatusOr<bool> SpendYouTubeQuota(absl::CivilDay day, int units, int quota);

  // Published, but the assembly not yet marked so: (publish id, assembly id), oldest first.
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> Unmarked(int limit);
  absl::Status SetMarked(const std::string& publish_id);

  // Takes `lease`'s publish's turn among the publishes sharing `turn_key`: true when no other
  // of them is queued or running with its turn taken, nor failed holding its handle (its post
  // may be live and unrecorded until it is reconciled); then this one holds the turn until it
  // ends. False when one is. Fenced on the lease (false when it was lost).
  absl::StatusOr<bool> TakeTurn(const jobs::Lease& lease, const std::string& turn_key);
  // Whether a publish other than `id` sharing `turn_key` is queued or running with its turn.
  absl::StatusOr<bool> TurnHeldByOther(const std::string& id, const std::string& turn_key);
  // Which of `post_ids` on `platform` a publish other than `publish_id` has recorded.
  absl::StatusOr<std::set<std::string>> RecordedByOthers(const std::string& platform,
                                                         const std::vector<std::string>& post_ids,
                                                         const std::string& publish_id);

  // For ReconcilePublish: the publish, its snapshot and handle.
  absl::StatusOr<ReconcileTarget> GetReconcileTarget(const std::string& id);
  // A failed publish still holding `handle`: -> published, with its post (the same statement
  // as a worker's completion, PublishedCompletion). ABORTED when it no longer holds `handle`
  // or is no longer failed.
  absl::Status RecordReconciled(const std::string& id, const std::string& handle,
                                const jobs::Completion& completion);
  // A failed publish still holding `handle` holds `new_handle` instead (what a lookup learned);
  // "" lets it go (the platform says no post came of it: its assembly may be published again).
  // `why`, when not "", becomes its error. ABORTED as above.
  absl::Status ReplaceHandle(const std::string& id, const std::string& handle,
                             const std::string& new_handle, const std::string& why);

  jobs::JobQueue* queue() { return &queue_; }

 private:
  db::ConnectionPool* pool_;
  jobs::JobQueue queue_;
};

// A publish's completion: done, and the confirmed post inserted in the same statement (only
// when the lease still holds), under the publish's own id. `posted_at` InfinitePast: the
// platform did not say, so now.
jobs::Completion PublishedCompletion(const std::string& post_id, const std::string& url,
                                     absl::Time posted_at, const std::string& note);

}  // namespace cf::publishing

#endif  // CF_SERVICES_PUBLISHING_PUBLISH_STORE_H_
