// The collector: reads each live post's lifetime totals from publishing (GetPostStats), keeps
// them as the day's snapshot, and writes the day's difference as that day's metrics row.
//
// The day's row is the difference between the day's snapshot and the previous day's one (the
// latest before it), clamped at 0; a total that went down is recorded as a reset. Collecting
// twice a day replaces the day's snapshot and rewrites the same row; a missed day is caught up
// by the next reading. A post's first reading holds its whole life so far and is booked on the
// day it was published (short videos gather most of their views in their first days). Clicks
// above the day's views, and conversions above its clicks, are carried (kept in the snapshot)
// and land on a later day once the views catch up, because a row must hold
// conversions <= clicks <= views. The collector owns the rows of the days it books: a row
// IngestMetrics wrote for such a day is replaced.
#ifndef CF_SERVICES_ANALYTICS_COLLECTOR_H_
#define CF_SERVICES_ANALYTICS_COLLECTOR_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <set>
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

// `now`, with each figure named in `unavailable` taken from `before` (its last known value).
PostTotals WithLastKnown(PostTotals now, const PostTotals& before,
                         const std::set<std::string>& unavailable);

// A snapshot: the totals read, and the clicks and conversions carried to a later day.
struct Snapshot {
  PostTotals totals;
  int64_t carried_clicks = 0;
  int64_t carried_conversions = 0;
};

struct DayIncrease {
  PostTotals figures;
  bool reset = false;
  int64_t carried_clicks = 0;  // what this day could not hold, for the next
  int64_t carried_conversions = 0;
};

// The day's row from the totals now and the previous snapshot (none for a first reading).
DayIncrease DailyIncrease(const PostTotals& now, const std::optional<Snapshot>& previous);

class Collector {
 public:
  // `concurrency`: how many posts are read at once.
  Collector(db::ConnectionPool* pool, publishing::PostStatsSource* source, int concurrency = 8)
      : pool_(pool), source_(source), concurrency_(concurrency) {}

  // One post, every post published since a time, or (neither) every post.
  absl::StatusOr<v1::CollectMetricsResponse> CollectMetrics(
      const v1::CollectMetricsRequest& request, const CallContext& call);

  // Ends a run in progress between two posts (the service is stopping).
  void Stop() { stopping_ = true; }

  // One reading of one post for `day`, in one transaction: the snapshot, the day's metrics row
  // and the collection status. Figures named in `unavailable` ("views", ..., "clicks",
  // "conversions", "spend") were not reported this time: they keep their last known value, so
  // lifetime totals never drop.
  absl::StatusOr<v1::CollectionOutcome> Record(const std::string& published_content_id,
                                               absl::CivilDay day, const PostTotals& now,
                                               const std::set<std::string>& unavailable = {});

 private:
  v1::CollectionOutcome CollectOne(const std::string& published_content_id,
                                   const std::string& platform_post_id, const CallContext& call);
  void RecordStatus(const v1::CollectionOutcome& outcome);

  db::ConnectionPool* pool_;
  publishing::PostStatsSource* source_;
  const int concurrency_;
  std::atomic<bool> stopping_{false};
};

}  // namespace cf::analytics

#endif  // CF_SERVICES_ANALYTICS_COLLECTOR_H_
