#include "services/analytics/metrics_store.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/db/binary_arrays.h"
#include "common/db/errors.h"
#include "common/money/money.h"
#include "common/paging/page_token.h"
#include "common/status/status.h"
#include "common/validation/ids.h"

namespace cf::analytics {
namespace {

std::string DayText(absl::CivilDay day) { return absl::FormatCivilTime(day); }

void AddError(std::vector<v1::RowError>* errors, int index, std::string field,
              std::string description) {
  v1::RowError error;
  error.set_index(index);
  error.set_field(std::move(field));
  error.set_description(std::move(description));
  errors->push_back(std::move(error));
}

// A row that passed its own checks, in the form the upsert sends.
struct ValidRow {
  int index;
  std::string post;
  absl::CivilDay day;
  const v1::MetricsRow* row;
};

int64_t Cents(const v1::MetricsRow& row) { return row.spend().empty() ? 0 : CentsOf(row.spend()); }

// One statement for the whole batch; rows arrive sorted by key so that concurrent batches lock
// rows in the same order. Unchanged rows are not rewritten, so a replay changes nothing (and
// the rollup triggers see no difference). The columns travel as binary arrays, spend in cents.
constexpr char kUpsertSql[] = R"sql(
  INSERT INTO cf_performance_metrics AS m (published_content_id, date, views, likes, comments,
                                           shares, saves, clicks, conversions, spend)
  SELECT post, day, views, likes, comments, shares, saves, clicks, conversions, cents * 0.01
    FROM unnest($1::uuid[], $2::date[], $3::int4[], $4::int4[], $5::int4[], $6::int4[],
                $7::int4[], $8::int4[], $9::int4[], $10::int8[])
      AS batch (post, day, views, likes, comments, shares, saves, clicks, conversions, cents)
  ON CONFLICT (published_content_id, date) DO UPDATE SET
    views = EXCLUDED.views, likes = EXCLUDED.likes, comments = EXCLUDED.comments,
    shares = EXCLUDED.shares, saves = EXCLUDED.saves, clicks = EXCLUDED.clicks,
    conversions = EXCLUDED.conversions, spend = EXCLUDED.spend
  WHERE (m.views, m.likes, m.comments, m.shares, m.saves, m.clicks, m.conversions, m.spend)
        IS DISTINCT FROM
        (EXCLUDED.views, EXCLUDED.likes, EXCLUDED.comments, EXCLUDED.shares, EXCLUDED.saves,
         EXCLUDED.clicks, EXCLUDED.conversions, EXCLUDED.spend))sql";

}  // namespace

absl::StatusOr<int64_t> UpsertRows(pqxx::work& txn,
                                   const std::vector<const v1::MetricsRow*>& rows) {
  std::vector<std::string> posts;
  std::vector<absl::CivilDay> days;
  std::vector<int32_t> views, likes, comments, shares, saves, clicks, conversions;
  std::vector<int64_t> cents;
  for (const v1::MetricsRow* checked : rows) {
    const v1::MetricsRow& row = *checked;
    absl::CivilDay day;
    CivilDayOf(row.date(), &day);
    posts.push_back(row.published_content_id());
    days.push_back(day);
    // CheckRow bounds every count to int32.
    views.push_back(static_cast<int32_t>(row.views()));
    likes.push_back(static_cast<int32_t>(row.likes()));
    comments.push_back(static_cast<int32_t>(row.comments()));
    shares.push_back(static_cast<int32_t>(row.shares()));
    saves.push_back(static_cast<int32_t>(row.saves()));
    clicks.push_back(static_cast<int32_t>(row.clicks()));
    conversions.push_back(static_cast<int32_t>(row.conversions()));
    cents.push_back(Cents(row));
  }
  absl::StatusOr<pqxx::binarystring> post_array = db::UuidArray(posts);
  if (!post_array.ok()) {  // unreachable: every caller checked each id with CheckRow
    return absl::InternalError(absl::StrCat("a checked row's id: ", post_array.status().message()));
  }
  pqxx::result result = txn.exec_params(
      kUpsertSql, *post_array, db::DateArray(days), db::Int4Array(views), db::Int4Array(likes),
      db::Int4Array(comments), db::Int4Array(shares), db::Int4Array(saves), db::Int4Array(clicks),
      db::Int4Array(conversions), db::Int8Array(cents));
  return static_cast<int64_t>(result.affected_rows());
}

void LockMetricsWriters(pqxx::work& txn) {
  txn.exec("SELECT pg_advisory_xact_lock(hashtext('cf_performance_metrics ingest'))");
}

namespace {

// The posts among `ids` that exist, with the UTC day each was published, locked against deletion
// until the transaction ends (so the insert's foreign key cannot fail on a post deleted after
// this check).
absl::StatusOr<std::map<std::string, absl::CivilDay>> PublishDays(
    pqxx::work& txn, const std::set<std::string>& ids) {
  absl::StatusOr<pqxx::binarystring> id_array =
      db::UuidArray(std::vector<std::string>(ids.begin(), ids.end()));
  if (!id_array.ok()) {  // unreachable: Ingest checked each id with CheckRow
    return absl::InternalError(absl::StrCat("a checked row's id: ", id_array.status().message()));
  }
  std::map<std::string, absl::CivilDay> found;
  pqxx::result rows = txn.exec_params(
      "SELECT id::text, to_char(published_day, 'YYYY-MM-DD') "
      "FROM cf_lock_published_content($1::uuid[])",
      *id_array);
  for (const auto& row : rows) {
    absl::CivilDay day;
    if (row[1].is_null() || !absl::ParseCivilTime(row[1].c_str(), &day)) {
      day = absl::CivilDay(1970, 1, 1);
    }
    found[row[0].c_str()] = day;
  }
  return found;
}

}  // namespace

bool CivilDayOf(const google::type::Date& date, absl::CivilDay* day) {
  if (date.year() < 1 || date.month() < 1 || date.day() < 1) return false;
  absl::CivilDay civil(date.year(), date.month(), date.day());
  if (civil.year() != date.year() || civil.month() != date.month() || civil.day() != date.day()) {
    return false;  // normalized: 2026-02-30 became March
  }
  *day = civil;
  return true;
}

google::type::Date DateOf(absl::CivilDay day) {
  google::type::Date date;
  date.set_year(static_cast<int32_t>(day.year()));
  date.set_month(day.month());
  date.set_day(day.day());
  return date;
}

absl::CivilDay TodayUtc() { return absl::ToCivilDay(absl::Now(), absl::UTCTimeZone()); }

void CheckRow(const v1::MetricsRow& row, absl::CivilDay today, const std::string& field, int index,
              std::vector<v1::RowError>* errors) {
  const size_t before = errors->size();
  if (row.published_content_id().empty()) {
    AddError(errors, index, field + ".published_content_id", "is required");
  } else if (!IsUuid(row.published_content_id())) {
    AddError(errors, index, field + ".published_content_id", "must be a UUID");
  }
  absl::CivilDay day;
  if (!row.has_date()) {
    AddError(errors, index, field + ".date", "is required");
  } else if (!CivilDayOf(row.date(), &day)) {
    AddError(errors, index, field + ".date", "is not a calendar day");
  } else if (day > today) {
    AddError(errors, index, field + ".date",
             absl::StrCat(DayText(day), " is in the future (today is ", DayText(today), " UTC)"));
  }
  const std::pair<const char*, int64_t> counts[] = {{"views", row.views()},
                                                    {"likes", row.likes()},
                                                    {"comments", row.comments()},
                                                    {"shares", row.shares()},
                                                    {"saves", row.saves()},
                                                    {"clicks", row.clicks()},
                                                    {"conversions", row.conversions()}};
  for (const auto& [name, value] : counts) {
    if (value < 0) {
      AddError(errors, index, absl::StrCat(field, ".", name), "must be >= 0");
    } else if (value > std::numeric_limits<int32_t>::max()) {
      AddError(errors, index, absl::StrCat(field, ".", name), "must be at most 2147483647");
    }
  }
  if (!row.spend().empty() && !IsMoney(row.spend())) {
    AddError(errors, index, field + ".spend",
             "must be a decimal >= 0 with at most two places and eight whole digits, e.g. "
             "\"12.50\"");
  }
  if (errors->size() != before) return;
  if (row.clicks() > row.views()) {
    AddError(errors, index, field + ".clicks",
             absl::StrCat("must be <= views (", row.clicks(), " > ", row.views(), ")"));
  }
  if (row.conversions() > row.clicks()) {
    AddError(errors, index, field + ".conversions",
             absl::StrCat("must be <= clicks (", row.conversions(), " > ", row.clicks(), ")"));
  }
}

void ReadTotals(const pqxx::row& row, int first, v1::MetricsTotals* totals) {
  totals->set_days(row[first].as<int64_t>());
  totals->set_views(row[first + 1].as<int64_t>());
  totals->set_likes(row[first + 2].as<int64_t>());
  totals->set_comments(row[first + 3].as<int64_t>());
  totals->set_shares(row[first + 4].as<int64_t>());
  totals->set_saves(row[first + 5].as<int64_t>());
  totals->set_clicks(row[first + 6].as<int64_t>());
  totals->set_conversions(row[first + 7].as<int64_t>());
  totals->set_spend(row[first + 8].c_str());
}

absl::StatusOr<v1::IngestMetricsResponse> MetricsStore::Ingest(
    const google::protobuf::RepeatedPtrField<v1::MetricsRow>& rows, int first_index) {
  if (rows.size() > kMaxRowsPerBatch) {
    return InvalidField(
        "rows", absl::StrCat("at most ", kMaxRowsPerBatch,
                             " rows a call (use StreamMetrics for more); got ", rows.size()));
  }
  const absl::CivilDay today = TodayUtc();
  v1::IngestMetricsResponse response;
  std::vector<v1::RowError> errors;
  std::vector<ValidRow> candidates;
  std::map<std::pair<std::string, absl::CivilDay>, int> first_of_key;
  for (int i = 0; i < rows.size(); ++i) {
    const int index = first_index + i;
    const std::string field = absl::StrCat("rows[", index, "]");
    const size_t before = errors.size();
    CheckRow(rows[i], today, field, index, &errors);
    if (errors.size() != before) continue;
    absl::CivilDay day;
    CivilDayOf(rows[i].date(), &day);
    // UUIDs compare without case (the database prints them in lower case).
    auto [it, inserted] = first_of_key.emplace(
        std::make_pair(absl::AsciiStrToLower(rows[i].published_content_id()), day), index);
    if (!inserted) {
      AddError(&errors, index, field + ".date",
               absl::StrCat("repeats rows[", it->second, "]'s published_content_id and date"));
      continue;
    }
    candidates.push_back(
        {index, absl::AsciiStrToLower(rows[i].published_content_id()), day, &rows[i]});
  }
  std::sort(candidates.begin(), candidates.end(), [](const ValidRow& a, const ValidRow& b) {
    return std::tie(a.post, a.day) < std::tie(b.post, b.day);
  });
  std::set<std::string> ids;
  for (const ValidRow& row : candidates) ids.insert(row.post);

  std::vector<v1::RowError> post_errors;
  int64_t changed = 0;
  int accepted = 0;
  absl::Status status = pool_->Transact([&](pqxx::work& txn) {
    // A retried attempt starts afresh.
    post_errors.clear();
    accepted = 0;
    changed = 0;
    LockMetricsWriters(txn);

    absl::StatusOr<std::map<std::string, absl::CivilDay>> published = PublishDays(txn, ids);
    if (!published.ok()) return published.status();
    std::vector<const v1::MetricsRow*> valid;
    for (const ValidRow& row : candidates) {
      const std::string field = absl::StrCat("rows[", row.index, "]");
      auto post = published->find(row.post);
      if (post == published->end()) {
        AddError(&post_errors, row.index, field + ".published_content_id",
                 absl::StrCat("published content ", row.post, " not found"));
      } else if (row.day < post->second) {
        AddError(&post_errors, row.index, field + ".date",
                 absl::StrCat(DayText(row.day), " is before the post was published (",
                              DayText(post->second), " UTC)"));
      } else {
        valid.push_back(row.row);
      }
    }
    accepted = static_cast<int>(valid.size());
    if (valid.empty()) return absl::OkStatus();
    absl::StatusOr<int64_t> upserted = UpsertRows(txn, valid);
    if (!upserted.ok()) return upserted.status();
    changed = *upserted;
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  errors.insert(errors.end(), post_errors.begin(), post_errors.end());
  std::sort(errors.begin(), errors.end(),
            [](const v1::RowError& a, const v1::RowError& b) { return a.index() < b.index(); });
  response.set_accepted(accepted);
  response.set_rejected(static_cast<int32_t>(errors.size()));
  response.set_changed(static_cast<int32_t>(changed));
  for (v1::RowError& error : errors) *response.add_errors() = std::move(error);
  return response;
}

absl::StatusOr<v1::ListMetricsResponse> MetricsStore::ListMetrics(
    const v1::ListMetricsRequest& request) {
  absl::Status id_ok = RequireUuid(request.published_content_id(), "published_content_id");
  if (!id_ok.ok()) return id_ok;
  absl::StatusOr<int> page_size = PageSize(request.page_size(), 100, 1000);
  if (!page_size.ok()) return page_size.status();
  const std::string filters = request.published_content_id();
  std::string after = "0001-01-01";
  if (!request.page_token().empty()) {
    absl::StatusOr<std::vector<std::string>> key =
        DecodePageToken(request.page_token(), 1, filters);
    if (!key.ok()) return key.status();
    after = (*key)[0];
  }
  absl::StatusOr<pqxx::result> post =
      reads_->Read("metrics_post_exists", "SELECT 1 FROM cf_published_content WHERE id = $1::uuid",
                   request.published_content_id());
  if (!post.ok()) return post.status();
  if (post->empty()) {
    return absl::NotFoundError(
        absl::StrCat("published content ", request.published_content_id(), " not found"));
  }
  absl::StatusOr<pqxx::result> days = reads_->Read(
      "metrics_days",
      "SELECT to_char(date, 'YYYY-MM-DD'), views, likes, comments, shares, saves, clicks, "
      "conversions, spend::text, engagement_rate::text, ctr::text FROM cf_performance_metrics "
      "WHERE published_content_id = $1::uuid AND date > $2::date ORDER BY date LIMIT $3",
      request.published_content_id(), after, *page_size + 1);
  if (!days.ok()) return days.status();
  v1::ListMetricsResponse response;
  for (int i = 0; i < static_cast<int>(days->size()) && i < *page_size; ++i) {
    const auto& row = (*days)[i];
    v1::MetricsDay* day = response.add_days();
    v1::MetricsRow* out = day->mutable_row();
    out->set_published_content_id(request.published_content_id());
    absl::CivilDay civil;
    absl::ParseCivilTime(row[0].c_str(), &civil);
    *out->mutable_date() = DateOf(civil);
    out->set_views(row[1].as<int64_t>());
    out->set_likes(row[2].as<int64_t>());
    out->set_comments(row[3].as<int64_t>());
    out->set_shares(row[4].as<int64_t>());
    out->set_saves(row[5].as<int64_t>());
    out->set_clicks(row[6].as<int64_t>());
    out->set_conversions(row[7].as<int64_t>());
    out->set_spend(row[8].c_str());
    day->set_engagement_rate(row[9].c_str());
    day->set_ctr(row[10].c_str());
  }
  if (static_cast<int>(days->size()) > *page_size) {
    response.set_next_page_token(EncodePageToken({(*days)[*page_size - 1][0].c_str()}, filters));
  }
  absl::StatusOr<pqxx::result> totals = reads_->Read(
      "metrics_totals",
      "SELECT days, views, likes, comments, shares, saves, clicks, conversions, spend::text "
      "FROM cf_metrics_content_rollup WHERE published_content_id = $1::uuid",
      request.published_content_id());
  if (!totals.ok()) return totals.status();
  v1::MetricsTotals* sums = response.mutable_totals();
  sums->set_spend("0.00");
  if (!totals->empty()) ReadTotals((*totals)[0], 0, sums);
  return response;
}

absl::StatusOr<int> MetricsStore::EnsurePartitions(int months_ahead) {
  int created = 0;
  absl::Status status = pool_->Transact([&](pqxx::work& txn) {
    pqxx::result result = txn.exec_params(
        "SELECT cf_create_metrics_partitions(date_trunc('month', current_date)::date, "
        "(date_trunc('month', current_date) + make_interval(months => $1))::date)",
        months_ahead);
    created = result[0][0].as<int>();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return created;
}

}  // namespace cf::analytics
