#include "services/analytics/collector.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/money/money.h"
#include "common/validation/ids.h"
#include "google/protobuf/util/time_util.h"
#include "services/analytics/metrics_store.h"

namespace cf::analytics {
namespace {

// At most this many collected posts are listed one by one in an answer (the counts are whole).
constexpr int kMaxListedOutcomes = 1000;

PostTotals TotalsOf(const pqxx::row& row) {
  PostTotals totals;
  totals.views = row[0].as<int64_t>();
  totals.likes = row[1].as<int64_t>();
  totals.comments = row[2].as<int64_t>();
  totals.shares = row[3].as<int64_t>();
  totals.saves = row[4].as<int64_t>();
  totals.clicks = row[5].as<int64_t>();
  totals.conversions = row[6].as<int64_t>();
  totals.spend_cents = row[7].as<int64_t>();
  return totals;
}

v1::CollectionOutcome Outcome(const std::string& post, v1::CollectionOutcome::Outcome kind,
                              std::string reason) {
  v1::CollectionOutcome outcome;
  outcome.set_published_content_id(post);
  outcome.set_outcome(kind);
  outcome.set_reason(std::move(reason));
  return outcome;
}

const char* OutcomeText(v1::CollectionOutcome::Outcome outcome) {
  switch (outcome) {
    case v1::CollectionOutcome::OUTCOME_COLLECTED:
      return "collected";
    case v1::CollectionOutcome::OUTCOME_SKIPPED:
      return "skipped";
    default:
      return "failed";
  }
}

}  // namespace

DayIncrease DailyIncrease(const PostTotals& now, const std::optional<Snapshot>& previous) {
  const PostTotals before = previous.has_value() ? previous->totals : PostTotals{};
  auto increase = [](int64_t total, int64_t earlier) {
    return std::max<int64_t>(0, total - earlier);
  };
  DayIncrease day;
  day.figures.views = increase(now.views, before.views);
  day.figures.likes = increase(now.likes, before.likes);
  day.figures.comments = increase(now.comments, before.comments);
  day.figures.shares = increase(now.shares, before.shares);
  day.figures.saves = increase(now.saves, before.saves);
  day.figures.spend_cents = increase(now.spend_cents, before.spend_cents);
  day.figures.clicks =
      increase(now.clicks, before.clicks) + (previous.has_value() ? previous->carried_clicks : 0);
  day.figures.conversions = increase(now.conversions, before.conversions) +
                            (previous.has_value() ? previous->carried_conversions : 0);
  if (day.figures.clicks > day.figures.views) {
    day.carried_clicks = day.figures.clicks - day.figures.views;
    day.figures.clicks = day.figures.views;
  }
  if (day.figures.conversions > day.figures.clicks) {
    day.carried_conversions = day.figures.conversions - day.figures.clicks;
    day.figures.conversions = day.figures.clicks;
  }
  day.reset = now.views < before.views || now.likes < before.likes ||
              now.comments < before.comments || now.shares < before.shares ||
              now.saves < before.saves || now.clicks < before.clicks ||
              now.conversions < before.conversions || now.spend_cents < before.spend_cents;
  return day;
}

PostTotals WithLastKnown(PostTotals now, const PostTotals& before,
                         const std::set<std::string>& unavailable) {
  const std::pair<const char*, int64_t PostTotals::*> fields[] = {
      {"views", &PostTotals::views},
      {"likes", &PostTotals::likes},
      {"comments", &PostTotals::comments},
      {"shares", &PostTotals::shares},
      {"saves", &PostTotals::saves},
      {"clicks", &PostTotals::clicks},
      {"conversions", &PostTotals::conversions},
      {"spend", &PostTotals::spend_cents}};
  for (const auto& [name, field] : fields) {
    if (unavailable.count(name) > 0) now.*field = before.*field;
  }
  return now;
}

absl::StatusOr<v1::CollectionOutcome> Collector::Record(const std::string& published_content_id,
                                                        absl::CivilDay day,
                                                        const PostTotals& reported,
                                                        const std::set<std::string>& unavailable) {
  const std::string day_text = absl::FormatCivilTime(day);
  v1::CollectionOutcome outcome =
      Outcome(published_content_id, v1::CollectionOutcome::OUTCOME_COLLECTED, "");
  absl::Status status = pool_->Transact([&](pqxx::work& txn) {
    LockMetricsWriters(txn);
    pqxx::result previous = txn.exec_params(
        "SELECT views, likes, comments, shares, saves, clicks, conversions, "
        "(spend * 100)::bigint, carried_clicks, carried_conversions FROM cf_metric_snapshots "
        "WHERE published_content_id = $1::uuid AND date < $2::date ORDER BY date DESC LIMIT 1",
        published_content_id, day_text);
    std::optional<Snapshot> previous_snapshot;
    absl::CivilDay booked = day;
    if (!previous.empty()) {
      previous_snapshot = Snapshot{TotalsOf(previous[0]), previous[0][8].as<int64_t>(),
                                   previous[0][9].as<int64_t>()};
    } else {
      // A first reading holds the post's life so far: it goes on the day it was published.
      pqxx::result published = txn.exec_params(
          "SELECT to_char(published_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM "
          "cf_published_content WHERE id = $1::uuid",
          published_content_id);
      absl::CivilDay published_day;
      if (!published.empty() && absl::ParseCivilTime(published[0][0].c_str(), &published_day) &&
          published_day < day) {
        booked = published_day;
      }
    }
    const PostTotals now = WithLastKnown(
        reported, previous_snapshot.has_value() ? previous_snapshot->totals : PostTotals{},
        unavailable);
    const DayIncrease increase = DailyIncrease(now, previous_snapshot);

    v1::MetricsRow* row = outcome.mutable_row();
    row->set_published_content_id(published_content_id);
    *row->mutable_date() = DateOf(booked);
    row->set_views(increase.figures.views);
    row->set_likes(increase.figures.likes);
    row->set_comments(increase.figures.comments);
    row->set_shares(increase.figures.shares);
    row->set_saves(increase.figures.saves);
    row->set_clicks(increase.figures.clicks);
    row->set_conversions(increase.figures.conversions);
    row->set_spend(MoneyText(increase.figures.spend_cents));
    outcome.set_reset(increase.reset);
    std::vector<v1::RowError> errors;
    CheckRow(*row, TodayUtc(), "row", 0, &errors);
    if (!errors.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("the day's figures do not fit a metrics row: ", errors[0].field(), " ",
                       errors[0].description()));
    }
    if (increase.carried_clicks > 0 || increase.carried_conversions > 0) {
      outcome.set_reason(absl::StrCat(increase.carried_clicks, " clicks and ",
                                      increase.carried_conversions,
                                      " conversions above the day's views or clicks carried to a "
                                      "later day"));
    }
    absl::StatusOr<int64_t> upserted = UpsertRows(txn, {row});
    if (!upserted.ok()) return upserted.status();
    txn.exec_params(
        "INSERT INTO cf_metric_snapshots (published_content_id, date, views, likes, comments, "
        "shares, saves, clicks, conversions, spend, reset, carried_clicks, carried_conversions) "
        "VALUES ($1::uuid, $2::date, $3, $4, $5, $6, $7, $8, $9, $10::int8 * 0.01, $11, $12, "
        "$13) "
        "ON CONFLICT (published_content_id, date) DO UPDATE SET views = EXCLUDED.views, "
        "likes = EXCLUDED.likes, comments = EXCLUDED.comments, shares = EXCLUDED.shares, "
        "saves = EXCLUDED.saves, clicks = EXCLUDED.clicks, conversions = EXCLUDED.conversions, "
        "spend = EXCLUDED.spend, reset = EXCLUDED.reset, carried_clicks = "
        "EXCLUDED.carried_clicks, carried_conversions = EXCLUDED.carried_conversions, "
        "collected_at = now()",
        published_content_id, day_text, now.views, now.likes, now.comments, now.shares, now.saves,
        now.clicks, now.conversions, now.spend_cents, increase.reset, increase.carried_clicks,
        increase.carried_conversions);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  RecordStatus(outcome);
  return outcome;
}

void Collector::RecordStatus(const v1::CollectionOutcome& outcome) {
  // Best effort: the status only explains; a failure to note it must not undo a collection.
  (void)pool_->Transact([&](pqxx::work& txn) {
    txn.exec_params(
        "INSERT INTO cf_metric_collection_status (published_content_id, outcome, reason) "
        "SELECT $1::uuid, $2, $3 WHERE EXISTS (SELECT 1 FROM cf_published_content WHERE id = "
        "$1::uuid) ON CONFLICT (published_content_id) DO UPDATE SET outcome = EXCLUDED.outcome, "
        "reason = EXCLUDED.reason, attempted_at = now()",
        outcome.published_content_id(), OutcomeText(outcome.outcome()), outcome.reason());
    return absl::OkStatus();
  });
}

v1::CollectionOutcome Collector::CollectOne(const std::string& published_content_id,
                                            const std::string& platform_post_id,
                                            const CallContext& call) {
  if (platform_post_id.empty()) {
    v1::CollectionOutcome skipped = Outcome(
        published_content_id, v1::CollectionOutcome::OUTCOME_SKIPPED,
        "the post has no platform post id (a private post from an unaudited TikTok app), so the "
        "platform reports no stats for it");
    RecordStatus(skipped);
    return skipped;
  }
  absl::StatusOr<publishing::v1::PostStats> stats =
      source_->GetPostStats(published_content_id, call);
  absl::StatusOr<v1::CollectionOutcome> recorded;
  if (!stats.ok()) {
    recorded = stats.status();
  } else if (!IsMoney(stats->spend()) && !stats->spend().empty()) {
    recorded = absl::UnavailableError(
        absl::StrCat("publishing answered a spend that is not a decimal: ", stats->spend()));
  } else {
    PostTotals now;
    now.views = stats->views();
    now.likes = stats->likes();
    now.comments = stats->comments();
    now.shares = stats->shares();
    now.saves = stats->saves();
    now.clicks = stats->clicks();
    now.conversions = stats->conversions();
    now.spend_cents = stats->spend().empty() ? 0 : CentsOf(stats->spend());
    const std::set<std::string> unavailable(stats->unavailable().begin(),
                                            stats->unavailable().end());
    recorded = Record(published_content_id, TodayUtc(), now, unavailable);
  }
  if (recorded.ok()) return *recorded;
  v1::CollectionOutcome failed =
      Outcome(published_content_id, v1::CollectionOutcome::OUTCOME_FAILED,
              std::string(recorded.status().message()));
  RecordStatus(failed);
  return failed;
}

absl::StatusOr<v1::CollectMetricsResponse> Collector::CollectMetrics(
    const v1::CollectMetricsRequest& request, const CallContext& call) {
  absl::StatusOr<pqxx::result> posts;
  if (request.target_case() == v1::CollectMetricsRequest::kPublishedContentId) {
    absl::Status id_ok = RequireUuid(request.published_content_id(), "published_content_id");
    if (!id_ok.ok()) return id_ok;
    posts = pool_->Read("collect_one",
                        "SELECT id::text, COALESCE(platform_post_id, '') FROM cf_published_content "
                        "WHERE id = $1::uuid",
                        request.published_content_id());
    if (posts.ok() && posts->empty()) {
      return absl::NotFoundError(
          absl::StrCat("published content ", request.published_content_id(), " not found"));
    }
  } else {
    const int64_t since_micros =
        request.has_since()
            ? google::protobuf::util::TimeUtil::TimestampToMicroseconds(request.since())
            : 0;
    posts = pool_->Read("collect_since",
                        "SELECT id::text, COALESCE(platform_post_id, '') FROM cf_published_content "
                        "WHERE published_at >= to_timestamp($1::bigint / 1e6) "
                        "ORDER BY published_at, id",
                        since_micros);
  }
  if (!posts.ok()) return posts.status();
  // Posts are read `concurrency_` at a time: the calls to publishing (and the platforms behind
  // it) wait on the network, while the writes are serialized by the writers' lock anyway.
  const size_t count = posts->size();
  std::vector<std::optional<v1::CollectionOutcome>> outcomes(count);
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < count; i = next++) {
      // A stopping service or a caller out of time ends the run between posts; the next run
      // takes up the rest (readings are idempotent for the day).
      if (stopping_.load() || absl::Now() >= call.deadline) return;
      outcomes[i] = CollectOne((*posts)[i][0].c_str(), (*posts)[i][1].c_str(), call);
    }
  };
  std::vector<std::thread> workers;
  const size_t threads = std::min<size_t>(std::max(1, concurrency_), count);
  for (size_t t = 1; t < threads; ++t) workers.emplace_back(work);
  work();
  for (std::thread& worker : workers) worker.join();

  v1::CollectMetricsResponse response;
  for (std::optional<v1::CollectionOutcome>& outcome : outcomes) {
    if (!outcome.has_value()) {
      response.set_unfinished(response.unfinished() + 1);
      continue;
    }
    switch (outcome->outcome()) {
      case v1::CollectionOutcome::OUTCOME_COLLECTED:
        response.set_collected(response.collected() + 1);
        break;
      case v1::CollectionOutcome::OUTCOME_SKIPPED:
        response.set_skipped(response.skipped() + 1);
        break;
      default:
        response.set_failed(response.failed() + 1);
    }
    if (outcome->outcome() != v1::CollectionOutcome::OUTCOME_COLLECTED ||
        response.collected() <= kMaxListedOutcomes) {
      *response.add_outcomes() = std::move(*outcome);
    }
  }
  return response;
}

}  // namespace cf::analytics
