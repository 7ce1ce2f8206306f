// Daily metrics: validated batch upserts keyed by (published_content_id, date), whose rollups
// the database keeps in the same transaction (migration 0009's triggers), and the month
// partitions they land in.
#ifndef CF_SERVICES_ANALYTICS_METRICS_STORE_H_
#define CF_SERVICES_ANALYTICS_METRICS_STORE_H_

#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "cf/analytics/v1/analytics.pb.h"
#include "common/db/pool.h"

namespace cf::analytics {

// The most rows one IngestMetrics call (or one message of a stream) may carry.
constexpr int kMaxRowsPerBatch = 10000;

// google.type.Date <-> civil day; false when the date is unset or not a real day.
bool CivilDayOf(const google::type::Date& date, absl::CivilDay* day);
google::type::Date DateOf(absl::CivilDay day);
// Today in UTC, the calendar metrics dates are in.
absl::CivilDay TodayUtc();

// The checks a row passes on its own (everything but the post's existence and publish date).
// Violations are appended with `field` prefixed, e.g. "rows[3]".
void CheckRow(const v1::MetricsRow& row, absl::CivilDay today, const std::string& field, int index,
              std::vector<v1::RowError>* errors);

// Takes the metrics writers' lock for the rest of the transaction. Batches are written one at
// a time: an upsert's inserted and updated rows reach the rollups through two triggers, each in
// key order, so two batches running at once could lock rollup rows in crossing orders and
// deadlock.
void LockMetricsWriters(pqxx::work& txn);

// Upserts rows that passed every check, sorted by (published_content_id, date) (so concurrent
// writers lock rows in one order), under LockMetricsWriters. Rows whose figures are unchanged
// are not rewritten. Returns how many rows were inserted or changed.
absl::StatusOr<int64_t> UpsertRows(pqxx::work& txn, const std::vector<const v1::MetricsRow*>& rows);

// The columns days, views, likes, comments, shares, saves, clicks, conversions and spend (text),
// in that order from `first`, as a rollup or a sum of one reads them.
void ReadTotals(const pqxx::row& row, int first, v1::MetricsTotals* totals);

class MetricsStore {
 public:
  // `read_pool`: a replica for ListMetrics (null: the primary).
  explicit MetricsStore(db::ConnectionPool* pool, db::ConnectionPool* read_pool = nullptr)
      : pool_(pool), reads_(read_pool != nullptr ? read_pool : pool) {}

  absl::StatusOr<v1::IngestMetricsResponse> IngestMetrics(const v1::IngestMetricsRequest& request) {
    return Ingest(request.rows());
  }

  // Validates every row, then upserts the valid ones in one transaction. `first_index` numbers
  // the rows (a stream's earlier messages count). INVALID_ARGUMENT only for a batch that is too
  // big; bad rows are answered in the response's errors.
  absl::StatusOr<v1::IngestMetricsResponse> Ingest(
      const google::protobuf::RepeatedPtrField<v1::MetricsRow>& rows, int first_index = 0);

  // A post's days, oldest first, with its totals.
  absl::StatusOr<v1::ListMetricsResponse> ListMetrics(const v1::ListMetricsRequest& request);

  // Creates the month partitions from this month to `months_ahead` months on (the service role
  // calls the SECURITY DEFINER function; it may not run DDL itself). Returns how many it made.
  absl::StatusOr<int> EnsurePartitions(int months_ahead);

 private:
  db::ConnectionPool* pool_;
  db::ConnectionPool* reads_;
};

}  // namespace cf::analytics

#endif  // CF_SERVICES_ANALYTICS_METRICS_STORE_H_
