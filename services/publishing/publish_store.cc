#include "services/publishing/publish_store.h"

#include <random>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/db/create_once.h"
#include "common/db/values.h"
#include "services/assembly/assembly_client.h"
#include "services/publishing/affiliate.h"

namespace cf::publishing {
namespace {

constexpr int kPublishCreatedAtText = 19;
constexpr int kPublishedCreatedAtText = 12;

const std::string& PublishColumns() {
  static const std::string* columns = new std::string(absl::StrCat(
      "j.id::text, j.assembled_content_id::text, j.platform, j.request_id, j.job_state, "
      "COALESCE(j.phase, ''), j.progress, COALESCE(j.last_error, ''), j.attempts, j.privacy, "
      "COALESCE(",
      db::MicrosOf("j.scheduled_time"),
      ", 0), COALESCE(j.published_content_id::text, ''), COALESCE(p.platform_post_id, ''), "
      "COALESCE(p.platform_url, ''), COALESCE(j.note, ''), ",
      db::MicrosOf("j.created_at"), ", ", db::MicrosOf("j.updated_at"), ", COALESCE(",
      db::MicrosOf("p.published_at"),
      ", 0), (j.job_state = 'queued' AND j.attempts = 0 AND j.next_attempt_at > NOW()), "
      "j.created_at::text, (j.job_state <> 'done' AND COALESCE(j.platform_handle, '') <> '')"));
  return *columns;
}

const char kPublishFrom[] =
    " FROM cf_publish_jobs j LEFT JOIN cf_published_content p ON p.id = j.published_content_id";

const std::string& PublishedColumns() {
  static const std::string* columns = new std::string(absl::StrCat(
      "id::text, assembled_content_id::text, platform, COALESCE(platform_post_id, ''), "
      "COALESCE(platform_url, ''), COALESCE(promotion_budget::text, ''), "
      "COALESCE(promotion_status, 'none'), COALESCE(",
      db::MicrosOf("promotion_started_at"), ", 0), COALESCE(", db::MicrosOf("promotion_ended_at"),
      ", 0), COALESCE(", db::MicrosOf("published_at"),
      ", 0), COALESCE(publish_job_id::text, ''), COALESCE(promotion_note, ''), "
      "COALESCE(published_at, 'epoch')::text, COALESCE(",
      db::MicrosOf("promotion_ends_at"), ", 0)"));
  return *columns;
}

v1::Privacy PrivacyFromDb(const std::string& privacy) {
  if (privacy == "friends") return v1::PRIVACY_FRIENDS;
  if (privacy == "private") return v1::PRIVACY_PRIVATE;
  if (privacy == "unlisted") return v1::PRIVACY_UNLISTED;
  return v1::PRIVACY_PUBLIC;
}

v1::PublishState StateOf(const std::string& job_state, const std::string& phase, bool scheduled) {
  if (job_state == "done") return v1::PUBLISH_STATE_PUBLISHED;
  if (job_state == "failed") return v1::PUBLISH_STATE_FAILED;
  if (job_state == "cancelled") return v1::PUBLISH_STATE_CANCELLED;
  // A publish waiting between polls stays in the phase it reached.
  if (phase == "processing") return v1::PUBLISH_STATE_PROCESSING;
  if (job_state == "running" || phase == "uploading") return v1::PUBLISH_STATE_UPLOADING;
  return scheduled ? v1::PUBLISH_STATE_SCHEDULED : v1::PUBLISH_STATE_QUEUED;
}

v1::Publish RowToPublish(const pqxx::row& row) {
  v1::Publish publish;
  publish.set_id(row[0].as<std::string>());
  publish.set_assembled_content_id(row[1].as<std::string>());
  publish.set_platform(assembly::PlatformOf(row[2].as<std::string>()));
  publish.set_request_id(row[3].as<std::string>());
  publish.set_state(
      StateOf(row[4].as<std::string>(), row[5].as<std::string>(), row[18].as<bool>()));
  publish.set_progress(row[6].as<int>());
  publish.set_error(row[7].as<std::string>());
  publish.set_attempts(row[8].as<int>());
  publish.set_privacy(PrivacyFromDb(row[9].as<std::string>()));
  if (row[10].as<int64_t>() != 0) {
    db::SetTimestamp(row[10].as<int64_t>(), publish.mutable_scheduled_time());
  }
  publish.set_published_content_id(row[11].as<std::string>());
  publish.set_platform_post_id(row[12].as<std::string>());
  publish.set_platform_url(row[13].as<std::string>());
  publish.set_note(row[14].as<std::string>());
  db::SetTimestamp(row[15].as<int64_t>(), publish.mutable_created_at());
  db::SetTimestamp(row[16].as<int64_t>(), publish.mutable_updated_at());
  if (row[17].as<int64_t>() != 0) {
    db::SetTimestamp(row[17].as<int64_t>(), publish.mutable_published_at());
  }
  publish.set_holds_platform_handle(row[20].as<bool>());
  return publish;
}

v1::PromotionStatus PromotionFromDb(const std::string& status) {
  if (status == "pending") return v1::PROMOTION_STATUS_PENDING;
  if (status == "active") return v1::PROMOTION_STATUS_ACTIVE;
  if (status == "completed") return v1::PROMOTION_STATUS_COMPLETED;
  if (status == "failed") return v1::PROMOTION_STATUS_FAILED;
  return v1::PROMOTION_STATUS_NONE;
}

v1::PublishedContent RowToPublished(const pqxx::row& row) {
  v1::PublishedContent content;
  content.set_id(row[0].as<std::string>());
  content.set_assembled_content_id(row[1].as<std::string>());
  content.set_platform(assembly::PlatformOf(row[2].as<std::string>()));
  content.set_platform_post_id(row[3].as<std::string>());
  content.set_platform_url(row[4].as<std::string>());
  content.set_promotion_budget(row[5].as<std::string>());
  content.set_promotion_status(PromotionFromDb(row[6].as<std::string>()));
  if (row[7].as<int64_t>() != 0) {
    db::SetTimestamp(row[7].as<int64_t>(), content.mutable_promotion_started_at());
  }
  if (row[8].as<int64_t>() != 0) {
    db::SetTimestamp(row[8].as<int64_t>(), content.mutable_promotion_ended_at());
  }
  db::SetTimestamp(row[9].as<int64_t>(), content.mutable_published_at());
  content.set_publish_id(row[10].as<std::string>());
  content.set_promotion_note(row[11].as<std::string>());
  if (row[13].as<int64_t>() != 0) {
    db::SetTimestamp(row[13].as<int64_t>(), content.mutable_promotion_ends_at());
  }
  return content;
}

// The first two columns of each row, as text.
std::vector<std::pair<std::string, std::string>> TextPairs(const pqxx::result& rows) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const pqxx::row& row : rows) {
    pairs.emplace_back(row[0].as<std::string>(), row[1].as<std::string>());
  }
  return pairs;
}

std::string JsonText(const nlohmann::json& json) {
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

jobs::QueueSpec PublishQueueSpec(absl::Duration give_up_after) {
  jobs::QueueSpec spec;
  spec.table = "cf_publish_jobs";
  spec.kind = "publish";
  spec.channel = "cf_publish_jobs";
  spec.status_column = "status";
  spec.status_of = {{jobs::JobState::kQueued, "queued"},
                    {jobs::JobState::kRunning, "running"},
                    {jobs::JobState::kDone, "published"},
                    {jobs::JobState::kFailed, "failed"},
                    {jobs::JobState::kCancelled, "cancelled"}};
  spec.external_job_column = "platform_handle";
  spec.external_deadline_sql =
      absl::StrCat("GREATEST(created_at, COALESCE(scheduled_time, created_at)) + ",
                   absl::ToInt64Milliseconds(give_up_after), " * interval '1 millisecond'");
  spec.external_failure_prefix = kLiveNotRecorded;
  spec.external_deadline_error = absl::StrCat(
      kLiveNotRecorded, ": the worker stopped while the platform held this publish's handle, ",
      "and the publish's deadline (", absl::FormatDuration(give_up_after),
      " after it was due) has passed; ReconcilePublish looks the post up by its handle");
  spec.claim_columns =
      "j.publish_snapshot::text, j.platform, j.privacy, extract(epoch FROM GREATEST(j.created_at, "
      "COALESCE(j.scheduled_time, j.created_at)))::bigint";
  return spec;
}

jobs::Completion PublishedCompletion(const std::string& post_id, const std::string& url,
                                     absl::Time posted_at, const std::string& note) {
  jobs::Completion completion;
  completion.set_sql = "published_content_id = id, note = NULLIF($6::text, '')";
  completion.then_sql =
      "INSERT INTO cf_published_content (id, assembled_content_id, platform, platform_post_id, "
      "platform_url, promotion_status, published_at, publish_job_id) SELECT id, "
      "assembled_content_id, platform, NULLIF($3::text, ''), NULLIF($4::text, ''), 'none', "
      "CASE WHEN $5::bigint = 0 THEN NOW() ELSE to_timestamp($5::bigint / 1e6) END, id FROM done "
      "ON CONFLICT (id) DO NOTHING RETURNING 1";
  completion.args = {
      post_id, url,
      std::to_string(posted_at == absl::InfinitePast() ? 0 : absl::ToUnixMicros(posted_at)), note};
  return completion;
}

PublishStore::PublishStore(db::ConnectionPool* pool, absl::Duration give_up_after)
    : pool_(pool), queue_(pool, PublishQueueSpec(give_up_after)) {}

absl::StatusOr<v1::Publish> PublishStore::Create(const NewPublish& publish) {
  v1::Publish created;
  auto find = [&](pqxx::work& txn) {
    pqxx::result rows = txn.exec_params(
        absl::StrCat("SELECT ", PublishColumns(), kPublishFrom, " WHERE j.request_id = $1"),
        publish.request_id);
    if (rows.empty()) return false;
    created = RowToPublish(rows[0]);
    return true;
  };
  absl::Status status = db::CreateOnce(pool_, publish.request_id, find, [&](pqxx::work& txn) {
    // What this assembly's publishes say: an unfinished one is named in the refusal; a
    // published one, or a failed one that still holds the platform's handle (the platform may
    // have made the post: adapters clear the handle only when the platform says no post was
    // made), means it may not be posted again (the assembly may not be marked published yet).
    pqxx::result earlier = txn.exec_params(
        "SELECT id::text, job_state FROM cf_publish_jobs WHERE assembled_content_id = $1::uuid "
        "AND (job_state IN ('queued', 'running', 'done') OR (job_state = 'failed' AND "
        "COALESCE(platform_handle, '') <> '')) ORDER BY job_state = 'done' DESC LIMIT 1",
        publish.assembled_content_id);
    if (!earlier.empty()) {
      const std::string id = earlier[0][0].as<std::string>();
      const std::string state = earlier[0][1].as<std::string>();
      if (state == "queued" || state == "running") {
        return absl::AlreadyExistsError(absl::StrCat("assembly ", publish.assembled_content_id,
                                                     " already has an unfinished publish: ", id));
      }
      return absl::FailedPreconditionError(absl::StrCat(
          "assembly ", publish.assembled_content_id,
          state == "done" ? " is already published (publish " : " may already be posted (publish ",
          id,
          state == "done" ? ")"
                          : " failed holding the platform's handle: live on the platform, not "
                            "recorded; ReconcilePublish settles it)"));
    }
    const std::string scheduled =
        publish.scheduled_time ? std::to_string(absl::ToUnixMicros(*publish.scheduled_time)) : "";
    pqxx::result rows = txn.exec_params(
        absl::StrCat(
            "WITH j AS (INSERT INTO cf_publish_jobs (assembled_content_id, platform, request_id, "
            "privacy, scheduled_time, next_attempt_at, publish_snapshot) VALUES ($1::uuid, $2, "
            "$3, $4, to_timestamp($5::bigint / 1e6), COALESCE(to_timestamp($5::bigint / 1e6), "
            "NOW()), $6::jsonb) RETURNING *) SELECT ",
            PublishColumns(),
            " FROM j LEFT JOIN cf_published_content p ON p.id = j.published_content_id"),
        publish.assembled_content_id, publish.platform, publish.request_id, publish.privacy,
        db::NullIfEmpty(scheduled), JsonText(publish.snapshot));
    created = RowToPublish(rows[0]);
    return absl::OkStatus();
  });
  if (status.code() == absl::StatusCode::kAlreadyExists &&
      !absl::StartsWith(status.message(), "assembly ")) {
    // Lost a race with another publish of the same assembly (its partial unique index).
    absl::StatusOr<pqxx::result> open = pool_->Read(
        "publish_open_of_assembly",
        "SELECT id::text FROM cf_publish_jobs WHERE assembled_content_id = $1::uuid AND "
        "job_state IN ('queued', 'running')",
        publish.assembled_content_id);
    return absl::AlreadyExistsError(absl::StrCat(
        "assembly ", publish.assembled_content_id, " already has an unfinished publish",
        open.ok() && !open->empty() ? ": " + (*open)[0][0].as<std::string>() : ""));
  }
  if (!status.ok()) return status;
  return created;
}

absl::StatusOr<v1::Publish> PublishStore::Get(const std::string& id) {
  static const std::string sql =
      absl::StrCat("SELECT ", PublishColumns(), kPublishFrom, " WHERE j.id = $1::uuid");
  absl::StatusOr<pqxx::result> rows = pool_->Read("publish_by_id", sql, id);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return absl::NotFoundError(absl::StrCat("publish ", id, " not found"));
  return RowToPublish((*rows)[0]);
}

std::optional<v1::Publish> PublishStore::FindByRequestId(const std::string& request_id) {
  static const std::string sql =
      absl::StrCat("SELECT ", PublishColumns(), kPublishFrom, " WHERE j.request_id = $1");
  absl::StatusOr<pqxx::result> rows = pool_->Read("publish_by_request_id", sql, request_id);
  if (!rows.ok() || rows->empty()) return std::nullopt;
  return RowToPublish((*rows)[0]);
}

absl::StatusOr<std::vector<v1::Publish>> PublishStore::GetMany(
    const std::vector<std::string>& ids) {
  static const std::string sql = absl::StrCat(
      "SELECT ", PublishColumns(), kPublishFrom,
      " JOIN unnest($1::uuid[]) WITH ORDINALITY AS wanted(id, position) ON wanted.id = j.id "
      "ORDER BY wanted.position");
  absl::StatusOr<pqxx::result> rows =
      pool_->Read("publishes_by_ids", sql, db::TextArrayLiteral(ids));
  if (!rows.ok()) return rows.status();
  std::vector<v1::Publish> publishes;
  for (const pqxx::row& row : *rows) publishes.push_back(RowToPublish(row));
  return publishes;
}

absl::StatusOr<Page<v1::Publish>> PublishStore::List(const PublishFilter& filter,
                                                     const std::optional<CreatedCursor>& after,
                                                     int page_size) {
  static const std::string sql = absl::StrCat(
      "SELECT ", PublishColumns(), kPublishFrom,
      " WHERE ($1::uuid IS NULL OR j.assembled_content_id = $1::uuid) AND ($2::text IS NULL OR "
      "j.platform = $2) AND ($3::text IS NULL OR j.job_state = $3) AND ($4::timestamptz IS NULL "
      "OR (j.created_at, j.id) < ($4::timestamptz, $5::uuid)) ORDER BY j.created_at DESC, j.id "
      "DESC LIMIT $6");
  absl::StatusOr<pqxx::result> rows =
      pool_->Read("publishes_newest_first", sql, db::NullIfEmpty(filter.assembled_content_id),
                  db::NullIfEmpty(filter.platform), db::NullIfEmpty(filter.job_state),
                  after ? after->created_at.c_str() : nullptr, after ? after->id.c_str() : nullptr,
                  page_size + 1);
  if (!rows.ok()) return rows.status();
  Page<v1::Publish> page;
  for (int i = 0; i < static_cast<int>(rows->size()) && i < page_size; ++i) {
    page.items.push_back(RowToPublish((*rows)[i]));
  }
  if (static_cast<int>(rows->size()) > page_size) {
    const pqxx::row last = (*rows)[page_size - 1];
    page.next =
        CreatedCursor{last[kPublishCreatedAtText].as<std::string>(), last[0].as<std::string>()};
  }
  return page;
}

absl::StatusOr<v1::Publish> PublishStore::Cancel(const std::string& id) {
  absl::StatusOr<pqxx::result> rows =
      pool_->Read("publish_cancel",
                  "UPDATE cf_publish_jobs SET job_state = 'cancelled', status = 'cancelled', "
                  "last_error = 'cancelled' WHERE id = $1::uuid AND job_state = 'queued' AND "
                  "platform_handle IS NULL AND attempts = 0 RETURNING id",
                  id);
  if (!rows.ok()) return rows.status();
  absl::StatusOr<v1::Publish> publish = Get(id);
  if (!publish.ok() || !rows->empty()) return publish;
  return absl::FailedPreconditionError(absl::StrCat(
      "publish ", id, " is ", v1::PublishState_Name(publish->state()),
      "; only a publish that has not started (a scheduled or queued one) can be cancelled"));
}

absl::StatusOr<v1::PublishedContent> PublishStore::GetPublished(const std::string& id) {
  static const std::string sql =
      absl::StrCat("SELECT ", PublishedColumns(), " FROM cf_published_content WHERE id = $1::uuid");
  absl::StatusOr<pqxx::result> rows = pool_->Read("published_by_id", sql, id);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) {
    return absl::NotFoundError(absl::StrCat("published content ", id, " not found"));
  }
  return RowToPublished((*rows)[0]);
}

absl::StatusOr<Page<v1::PublishedContent>> PublishStore::ListPublished(
    const PublishedFilter& filter, const std::optional<CreatedCursor>& after, int page_size) {
  // Ordered by the post's time (the seed's idx_published_date), newest first.
  static const std::string sql = absl::StrCat(
      "SELECT ", PublishedColumns(),
      " FROM cf_published_content WHERE ($1::uuid IS NULL OR assembled_content_id = $1::uuid) "
      "AND ($2::text IS NULL OR platform = $2) AND ($3::text IS NULL OR "
      "COALESCE(promotion_status, 'none') = $3) AND ($4::timestamptz IS NULL OR "
      "(COALESCE(published_at, 'epoch'), id) < ($4::timestamptz, $5::uuid)) ORDER BY "
      "COALESCE(published_at, 'epoch') DESC, id DESC LIMIT $6");
  absl::StatusOr<pqxx::result> rows =
      pool_->Read("published_newest_first", sql, db::NullIfEmpty(filter.assembled_content_id),
                  db::NullIfEmpty(filter.platform), db::NullIfEmpty(filter.promotion_status),
                  after ? after->created_at.c_str() : nullptr, after ? after->id.c_str() : nullptr,
                  page_size + 1);
  if (!rows.ok()) return rows.status();
  Page<v1::PublishedContent> page;
  for (int i = 0; i < static_cast<int>(rows->size()) && i < page_size; ++i) {
    page.items.push_back(RowToPublished((*rows)[i]));
  }
  if (static_cast<int>(rows->size()) > page_size) {
    const pqxx::row last = (*rows)[page_size - 1];
    page.next =
        CreatedCursor{last[kPublishedCreatedAtText].as<std::string>(), last[0].as<std::string>()};
  }
  return page;
}

absl::StatusOr<PromotionLease> PublishStore::BeginPromotion(const std::string& id,
                                                            int64_t budget_cents, int days) {
  thread_local std::mt19937_64 random(std::random_device{}());
  PromotionLease lease{"", static_cast<int64_t>(random() >> 1), absl::InfiniteFuture()};
  absl::Status status = pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    pqxx::result rows = txn.exec_params(
        "SELECT COALESCE(promotion_status, 'none'), COALESCE(promotion_handle, ''), "
        "COALESCE((promotion_budget * 100)::bigint, -1), COALESCE(platform_post_id, ''), "
        "COALESCE(promotion_lease_until > NOW(), false), COALESCE(extract(epoch FROM "
        "promotion_ends_at) * 1e6, 0)::bigint, COALESCE(promotion_unstopped_handle, '') <> '' "
        "FROM cf_published_content WHERE id = $1::uuid FOR UPDATE",
        id);
    if (rows.empty()) {
      return absl::NotFoundError(absl::StrCat("published content ", id, " not found"));
    }
    const std::string state = rows[0][0].as<std::string>();
    if (rows[0][6].as<bool>()) {
      // Checked under the row's lock: a stop that failed since the caller looked.
      return absl::UnavailableError(absl::StrCat(
          "an earlier promotion of ", id,
          " may still be spending and is not confirmed stopped; no new one starts until it is: "
          "try again"));
    }
    if (rows[0][3].as<std::string>().empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "published content ", id, " has no public post id (a private post): nothing to promote"));
    }
    if (state == "active") {
      return absl::FailedPreconditionError(
          absl::StrCat("published content ", id, " is already promoted: stop it first"));
    }
    if (state == "pending") {
      if (rows[0][4].as<bool>()) {
        return absl::AbortedError(
            absl::StrCat("a start of ", id, "'s promotion is in progress; ask again in a minute"));
      }
      // A start that was interrupted: continued, at the budget it began with.
      if (rows[0][2].as<int64_t>() != budget_cents) {
        return absl::FailedPreconditionError(
            absl::StrCat("a promotion of ", id, " at ", MoneyText(rows[0][2].as<int64_t>()),
                         " a day is being started: call again with that budget, or stop it"));
      }
      lease.handle = rows[0][1].as<std::string>();
      const int64_t ends_micros = rows[0][5].as<int64_t>();
      lease.ends_at = ends_micros != 0 ? absl::FromUnixMicros(ends_micros)
                                       : absl::Now() + absl::Hours(24 * kDefaultPromotionDays);
      txn.exec_params(
          "UPDATE cf_published_content SET promotion_lease_token = $2::bigint, "
          "promotion_lease_until = NOW() + interval '5 minutes' WHERE id = $1::uuid",
          id, lease.token);
      return absl::OkStatus();
    }
    // A new promotion (what an earlier one made was stopped before it ended).
    pqxx::result ends = txn.exec_params(
        "UPDATE cf_published_content SET promotion_status = 'pending', promotion_budget = "
        "$2::bigint / 100.0, promotion_handle = NULL, promotion_note = NULL, "
        "promotion_started_at = NULL, promotion_ended_at = NULL, promotion_lease_token = "
        "$3::bigint, promotion_lease_until = NOW() + interval '5 minutes', promotion_ends_at = "
        "NOW() + $4::int * interval '1 day' WHERE id = $1::uuid RETURNING "
        "(extract(epoch FROM promotion_ends_at) * 1e6)::bigint",
        id, budget_cents, lease.token, days);
    lease.ends_at = absl::FromUnixMicros(ends[0][0].as<int64_t>());
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return lease;
}

absl::Status PublishStore::RecordPromotionHandle(const std::string& id, int64_t token,
                                                 const std::string& handle) {
  absl::StatusOr<pqxx::result> rows =
      pool_->Read("promotion_handle",
                  "UPDATE cf_published_content SET promotion_handle = $3 WHERE id = $1::uuid AND "
                  "promotion_status = 'pending' AND promotion_lease_token = $2::bigint RETURNING 1",
                  id, token, handle);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) {
    return absl::AbortedError("the promotion was stopped (or taken over) while it was starting");
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::PublishedContent> PublishStore::EndStart(const std::string& id, int64_t token,
                                                            const std::string& state,
                                                            const std::string& note) {
  // The lease is given back: active (started now), failed (ended now), or still pending with
  // a note (continued by the next caller).
  absl::StatusOr<pqxx::result> rows = pool_->Read(
      "promotion_end_start",
      "UPDATE cf_published_content SET promotion_status = $3, promotion_note = NULLIF($4, ''), "
      "promotion_started_at = CASE WHEN $3 = 'active' THEN NOW() ELSE promotion_started_at END, "
      "promotion_ended_at = CASE WHEN $3 = 'failed' THEN NOW() ELSE promotion_ended_at END, "
      "promotion_lease_token = NULL, promotion_lease_until = NOW() WHERE id = $1::uuid AND "
      "promotion_status = 'pending' AND promotion_lease_token = $2::bigint RETURNING 1",
      id, token, state, note);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) {
    return absl::AbortedError("the promotion was stopped (or taken over) while it was starting");
  }
  return GetPublished(id);
}

absl::StatusOr<v1::PublishedContent> PublishStore::MarkPromotionStopped(const std::string& id,
                                                                        const std::string& note) {
  // Any promotion that began ends completed (a start in progress finds its lease gone).
  absl::StatusOr<pqxx::result> rows = pool_->Read(
      "promotion_stopped",
      "UPDATE cf_published_content SET promotion_status = CASE WHEN promotion_status = 'failed' "
      "THEN 'failed' ELSE 'completed' END, promotion_note = NULLIF($2, ''), promotion_ended_at = "
      "COALESCE(promotion_ended_at, NOW()), promotion_lease_token = NULL, "
      "promotion_unstopped_handle = COALESCE(NULLIF(promotion_unstopped_handle, ''), "
      "NULLIF(promotion_handle, '')), promotion_stop_retry_at = NOW() + interval '1 minute' "
      "WHERE id = $1::uuid AND COALESCE(promotion_status, 'none') <> 'none' RETURNING 1",
      id, note);
  if (!rows.ok()) return rows.status();
  absl::StatusOr<v1::PublishedContent> content = GetPublished(id);
  if (!content.ok() || !rows->empty()) return content;
  return absl::FailedPreconditionError(
      absl::StrCat("published content ", id, " has never been promoted"));
}

absl::Status PublishStore::RefusePromotion(const std::string& id, const std::string& note) {
  return pool_
      ->Read("promotion_refused",
             "UPDATE cf_published_content SET promotion_status = 'failed', promotion_note = $2, "
             "promotion_ended_at = NOW() WHERE id = $1::uuid AND COALESCE(promotion_status, "
             "'none') = 'none'",
             id, note)
      .status();
}

std::string PublishStore::UnstoppedHandle(const std::string& id) {
  absl::StatusOr<pqxx::result> rows = pool_->Read(
      "promotion_unstopped_of",
      "SELECT COALESCE(promotion_unstopped_handle, '') FROM cf_published_content WHERE id = "
      "$1::uuid",
      id);
  return rows.ok() && !rows->empty() ? (*rows)[0][0].as<std::string>() : "";
}

absl::Status PublishStore::ConfirmStopped(const std::string& id, const std::string& handle) {
  return pool_
      ->Read("promotion_confirm_stopped",
             "UPDATE cf_published_content SET promotion_unstopped_handle = NULL, "
             "promotion_stop_retry_at = NULL, promotion_note = CASE WHEN promotion_status = "
             "'completed' THEN NULL ELSE promotion_note END WHERE id = $1::uuid AND "
             "promotion_unstopped_handle = $2",
             id, handle)
      .status();
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> PublishStore::UnstoppedDue(
    int limit) {
  absl::StatusOr<pqxx::result> rows = pool_->Read(
      "promotions_unstopped_due",
      "UPDATE cf_published_content SET promotion_stop_retry_at = NOW() + interval '1 minute' "
      "WHERE id IN (SELECT id FROM cf_published_content WHERE promotion_unstopped_handle IS NOT "
      "NULL AND COALESCE(promotion_stop_retry_at, 'epoch') <= NOW() ORDER BY "
      "promotion_stop_retry_at LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING id::text, "
      "promotion_unstopped_handle",
      limit);
  if (!rows.ok()) return rows.status();
  return TextPairs(*rows);
}

std::string PublishStore::PromotionHandle(const std::string& id) {
  absl::StatusOr<pqxx::result> rows = pool_->Read(
      "promotion_handle_of",
      "SELECT COALESCE(promotion_handle, '') FROM cf_published_content WHERE id = $1::uuid", id);
  return rows.ok() && !rows->empty() ? (*rows)[0][0].as<std::string>() : "";
}

absl::StatusOr<std::vector<RequestedPromotion>> PublishStore::RequestedPromotions(int limit) {
  // Asked for with the publish and not begun; or begun, interrupted, and idle for half a
  // minute (a backoff) with no live lease.
  absl::StatusOr<pqxx::result> rows = pool_->Read(
      "promotions_requested",
      "SELECT p.id::text, CASE WHEN p.promotion_status = 'pending' THEN (p.promotion_budget * "
      "100)::bigint::text ELSE j.publish_snapshot->>'promotion_cents' END, "
      "COALESCE(j.publish_snapshot->>'promotion_days', '0') FROM "
      "cf_published_content p LEFT JOIN cf_publish_jobs j ON j.id = p.publish_job_id WHERE "
      "p.platform_post_id IS NOT NULL AND ((COALESCE(p.promotion_status, 'none') = 'none' AND "
      "j.publish_snapshot ? 'promotion_cents') OR (p.promotion_status = 'pending' AND "
      "COALESCE(p.promotion_lease_until, 'epoch') < NOW() - interval '30 seconds')) ORDER BY "
      "p.published_at LIMIT $1",
      limit);
  if (!rows.ok()) return rows.status();
  std::vector<RequestedPromotion> requested;
  for (const pqxx::row& row : *rows) {
    RequestedPromotion promotion;
    promotion.published_content_id = row[0].as<std::string>();
    if (!absl::SimpleAtoi(row[1].c_str(), &promotion.cents) || promotion.cents <= 0) continue;
    if (!absl::SimpleAtoi(row[2].c_str(), &promotion.days) || promotion.days <= 0) {
      promotion.days = kDefaultPromotionDays;
    }
    requested.push_back(promotion);
  }
  return requested;
}

absl::StatusOr<int> PublishStore::YouTubeUnitsPlanned(absl::CivilDay day, int upload_cost) {
  absl::StatusOr<pqxx::result> rows = pool_->Read(
      "youtube_units_planned",
      "SELECT COALESCE((SELECT units FROM cf_youtube_quota WHERE quota_day = $1::date), 0) + "
      "$2::int * (SELECT count(*) FROM cf_publish_jobs WHERE platform = 'youtube' AND job_state "
      "= 'queued' AND platform_handle IS NULL AND (GREATEST(created_at, COALESCE(scheduled_time, "
      "created_at), next_attempt_at) AT TIME ZONE 'America/Los_Angeles')::date = $1::date)::int",
      absl::FormatCivilTime(day), upload_cost);
  if (!rows.ok()) return rows.status();
  return (*rows)[0][0].as<int>();
}

absl::StatusOr<bool> PublishStore::SpendYouTubeQuota(absl::CivilDay day, int units, int quota) {
  absl::StatusOr<pqxx::result> rows = pool_->Read(
      "youtube_quota_spend",
      "INSERT INTO cf_youtube_quota AS q (quota_day, units) SELECT $1::date, $2::int WHERE "
      "$2::int <= $3::int ON CONFLICT (quota_day) DO UPDATE SET units = q.units + $2::int WHERE "
      "q.units + $2::int <= $3::int RETURNING units",
      absl::FormatCivilTime(day), units, quota);
  if (!rows.ok()) return rows.status();
  return !rows->empty();
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> PublishStore::Unmarked(int limit) {
  absl::StatusOr<pqxx::result> rows = pool_->Read(
      "publishes_unmarked",
      "SELECT id::text, assembled_content_id::text FROM cf_publish_jobs WHERE job_state = 'done' "
      "AND assembly_marked_at IS NULL ORDER BY updated_at LIMIT $1",
      limit);
  if (!rows.ok()) return rows.status();
  return TextPairs(*rows);
}

absl::Status PublishStore::SetMarked(const std::string& publish_id) {
  return pool_
      ->Read("publish_marked",
             "UPDATE cf_publish_jobs SET assembly_marked_at = NOW() WHERE id = $1::uuid",
             publish_id)
      .status();
}

absl::StatusOr<bool> PublishStore::TurnHeldByOther(const std::string& id,
                                                   const std::string& turn_key) {
  absl::StatusOr<pqxx::result> rows = pool_->Read(
      "publish_turn_held",
      "SELECT 1 FROM cf_publish_jobs WHERE turn_key = $1 AND id <> $2::uuid AND job_state IN "
      "('queued', 'running') LIMIT 1",
      turn_key, id);
  if (!rows.ok()) return rows.status();
  return !rows->empty();
}

absl::StatusOr<bool> PublishStore::TakeTurn(const jobs::Lease& lease, const std::string& turn_key) {
  bool taken = false;
  absl::Status status = pool_->Transact([&](pqxx::work& txn) {
    // One transaction at a time per key looks and takes, so two cannot both see the turn free.
    txn.exec_params("SELECT pg_advisory_xact_lock(hashtextextended($1, 7311))", turn_key);
    pqxx::result holder = txn.exec_params(
        "SELECT 1 FROM cf_publish_jobs WHERE turn_key = $1 AND id <> $2::uuid AND (job_state "
        "IN ('queued', 'running') OR (job_state = 'failed' AND COALESCE(platform_handle, '') "
        "<> '')) LIMIT 1",
        turn_key, lease.id);
    if (!holder.empty()) {
      taken = false;
      return absl::OkStatus();
    }
    taken = !txn.exec_params(
                    "UPDATE cf_publish_jobs SET turn_key = $3 WHERE id = $1::uuid AND "
                    "lease_token = $2 AND job_state = 'running' RETURNING 1",
                    lease.id, lease.token, turn_key)
                 .empty();
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return taken;
}

absl::StatusOr<std::set<std::string>> PublishStore::RecordedByOthers(
    const std::string& platform, const std::vector<std::string>& post_ids,
    const std::string& publish_id) {
  absl::StatusOr<pqxx::result> rows =
      pool_->Read("posts_recorded_by_others",
                  "SELECT platform_post_id FROM cf_published_content WHERE platform = $1 AND "
                  "platform_post_id = ANY($2::text[]) AND id <> $3::uuid",
                  platform, db::TextArrayLiteral(post_ids), publish_id);
  if (!rows.ok()) return rows.status();
  std::set<std::string> recorded;
  for (const pqxx::row& row : *rows) recorded.insert(row[0].as<std::string>());
  return recorded;
}

absl::StatusOr<ReconcileTarget> PublishStore::GetReconcileTarget(const std::string& id) {
  static const std::string sql = absl::StrCat(
      "SELECT ", PublishColumns(), ", j.publish_snapshot::text, COALESCE(j.platform_handle, '')",
      kPublishFrom, " WHERE j.id = $1::uuid");
  absl::StatusOr<pqxx::result> rows = pool_->Read("publish_reconcile_target", sql, id);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return absl::NotFoundError(absl::StrCat("publish ", id, " not found"));
  const pqxx::row row = (*rows)[0];
  const int extra = static_cast<int>(row.size()) - 2;
  return ReconcileTarget{RowToPublish(row), row[extra].as<std::string>(),
                         row[extra + 1].as<std::string>()};
}

absl::Status PublishStore::RecordReconciled(const std::string& id, const std::string& handle,
                                            const jobs::Completion& completion) {
  absl::StatusOr<bool> recorded =
      queue_.CompleteFailed(id, handle, completion.set_sql, completion.args, completion.then_sql);
  if (!recorded.ok()) return recorded.status();
  if (!*recorded) return absl::AbortedError("the publish changed while it was being reconciled");
  return absl::OkStatus();
}

absl::Status PublishStore::ReplaceHandle(const std::string& id, const std::string& handle,
                                         const std::string& new_handle, const std::string& why) {
  absl::StatusOr<bool> replaced = queue_.ReplaceExternalJob(id, handle, new_handle, why);
  if (!replaced.ok()) return replaced.status();
  if (!*replaced) return absl::AbortedError("the publish changed while it was being reconciled");
  return absl::OkStatus();
}

}  // namespace cf::publishing
