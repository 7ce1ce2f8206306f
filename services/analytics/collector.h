// The collector: reads each live post's lifetime totals from publishing (GetPostStats), keeps
// them as the day's snapshot, and writes the day's increase as that day's metrics row.
//
// The day's row is what the totals add to the days before it: now - (the sum of the post's
// earlier rows), clamped at 0, so collecting twice a day rewrites the same row and a missed day
// is caught up by the next. A total that went down since the previous snapshot (a platform
// recount, a deleted like) is recorded as a reset. Clicks above the day's views and
// conversions above its clicks are held back (the schema's conversions <= clicks <= views) and
// land on a later day once the views catch up.
#ifndef CF_SERVICES_ANALYTICS_COLLECTOR_H_
#define CF_SERVICES_ANALYTICS_COLLECTOR_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "cf/analytics/v1/analytics.pb.h"
#include "common/db/pool.h"
#include "common/server/call_context.h"
#include "services/publishing/publishing_client.h"

namespace cf::analytics {

// Lifetime totals, or the sum of a post's daily rows.
struct PostTotals {
  int64_t views = 0;
  int64_t likes = 0;
  int64_t comments = 0;
  int64_t shares = 0;
  int64_t saves = 0;
  int64_t clicks = 0;
  int64_t conversions = 0;
  int64_t spend_cents = 0;
};

struct DayIncrease {
  PostTotals figures;
  bool reset = false;
  // Figures held back for a later day ("clicks", "conversions").
  std::vector<std::string> held_back;
};

// The day's row from the totals now, what earlier days already hold, and the previous snapshot
// (none for a post's first reading).
DayIncrease DailyIncrease(const PostTotals& now, const PostTotals& earlier_days,
                          const std::optional<PostTotals>& previous_snapshot);

class Collector {
 public:
  Collector(db::ConnectionPool* pool, publishing::PostStatsSource* source)
      : pool_(pool), source_(source) {}

  // One post, every post published since a time, or (neither) every post.
  absl::StatusOr<v1::CollectMetricsResponse> CollectMetrics(const v1::CollectMetricsRequest& request,
                                                            const CallContext& call);

  // One reading of one post for `day`, in one transaction: the snapshot, the day's metrics row
  // and the collection status.
  absl::StatusOr<v1::CollectionOutcome> Record(const std::string& published_content_id,
                                               absl::CivilDay day, const PostTotals& now);

 private:
  v1::CollectionOutcome CollectOne(const std::string& published_content_id,
                                   const std::string& platform_post_id, const CallContext& call);
  void RecordStatus(const v1::CollectionOutcome& outcome);

  db::ConnectionPool* pool_;
  publishing::PostStatsSource* source_;
};

}  // namespace cf::analytics

#endif  // CF_SERVICES_ANALYTICS_COLLECTOR_H_
