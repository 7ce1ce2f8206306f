#include "services/generation/job_store.h"

#include <algorithm>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/db/create_once.h"
#include "common/db/values.h"
#include "services/generation/media_types.h"

namespace cf::generation {
namespace {

std::string Micros(const char* column) {
  return absl::StrCat("COALESCE(", db::MicrosOf(column), ", 0)");
}

// Columns both tables return, in the order ReadCommon expects.
const std::string& CommonColumns() {
  static const std::string columns = absl::StrCat(
      "id::text, dossier_id::text, type, prompt, COALESCE(model, ''), "
      "COALESCE(remotion_job_id, ''), status, progress, COALESCE(last_error, ''), aspect_ratio, "
      "attempts, max_attempts, ",
      Micros("created_at"), ", ", Micros("updated_at"), ", ", Micros("completed_at"),
      ", COALESCE((metadata->>'width')::int, 0), COALESCE((metadata->>'height')::int, 0), "
      "COALESCE(metadata->>'format', ''), COALESCE((metadata->>'fileSize')::bigint, 0), "
      "COALESCE((metadata->>'generationTime')::float8, 0), "
      "COALESCE((metadata->>'fps')::float8, 0), COALESCE(metadata->>'codec', ''), "
      "COALESCE(metadata->>'bitrate', ''), COALESCE((metadata->>'duration')::float8, 0), "
      "created_at::text");
  return columns;
}
constexpr int kCommonCount = 25;

std::string ImageColumns() { return absl::StrCat(CommonColumns(), ", COALESCE(image_url, '')"); }
std::string VideoColumns() {
  return absl::StrCat(CommonColumns(),
                      ", COALESCE(video_url, ''), COALESCE(source_image_id::text, ''), "
                      "COALESCE(duration, 0)");
}
std::string ColumnsOf(JobKind kind) {
  return kind == JobKind::kImage ? ImageColumns() : VideoColumns();
}

// Fills the fields Image and Video share; both messages name them alike.
template <typename Message>
void ReadCommon(const pqxx::row& row, Message* out) {
  out->set_id(row[0].as<std::string>());
  out->set_dossier_id(row[1].as<std::string>());
  out->set_prompt(row[3].as<std::string>());
  out->set_model(row[4].as<std::string>());
  out->set_remotion_job_id(row[5].as<std::string>());
  out->set_state(JobStateFromDb(row[6].as<std::string>()));
  out->set_progress(row[7].as<int>());
  out->set_error(row[8].as<std::string>());
  out->set_aspect_ratio(AspectRatioFromDb(row[9].as<std::string>()));
  out->set_attempts(row[10].as<int>());
  out->set_max_attempts(row[11].as<int>());
  db::SetTimestamp(row[12].as<int64_t>(), out->mutable_created_at());
  db::SetTimestamp(row[13].as<int64_t>(), out->mutable_updated_at());
  if (row[14].as<int64_t>() != 0)
    db::SetTimestamp(row[14].as<int64_t>(), out->mutable_completed_at());
  v1::MediaMetadata* metadata = out->mutable_metadata();
  metadata->set_width(row[15].as<int>());
  metadata->set_height(row[16].as<int>());
  metadata->set_format(row[17].as<std::string>());
  metadata->set_file_size(row[18].as<int64_t>());
  metadata->set_generation_time(row[19].as<double>());
  metadata->set_fps(row[20].as<double>());
  metadata->set_codec(row[21].as<std::string>());
  metadata->set_bitrate(row[22].as<std::string>());
  metadata->set_duration(row[23].as<double>());
}

v1::Image RowToImage(const pqxx::row& row) {
  v1::Image image;
  ReadCommon(row, &image);
  image.set_type(ImageTypeFromDb(row[2].as<std::string>()));
  image.set_image_url(row[kCommonCount].as<std::string>());
  return image;
}

v1::Video RowToVideo(const pqxx::row& row) {
  v1::Video video;
  ReadCommon(row, &video);
  video.set_type(VideoTypeFromDb(row[2].as<std::string>()));
  video.set_video_url(row[kCommonCount].as<std::string>());
  video.set_source_image_id(row[kCommonCount + 1].as<std::string>());
  video.set_duration_seconds(row[kCommonCount + 2].as<int>());
  return video;
}

absl::Status NotFound(JobKind kind, const std::string& id) {
  return absl::NotFoundError(absl::StrCat(KindName(kind), " ", id, " not found"));
}

// The snapshot fields a worker needs, as SQL over dossier_snapshot.
constexpr char kSnapshotColumns[] =
    "dossier_snapshot->>'name', "
    "ARRAY(SELECT jsonb_array_elements_text(COALESCE(dossier_snapshot->'benefits', '[]'))), "
    "ARRAY(SELECT jsonb_array_elements_text(COALESCE(dossier_snapshot->'pain_points', '[]'))), "
    "ARRAY(SELECT jsonb_array_elements_text(COALESCE(dossier_snapshot->'proof_types', '[]'))), "
    "COALESCE(dossier_snapshot->>'target_audience', ''), "
    "COALESCE(dossier_snapshot->>'category', ''), COALESCE(dossier_snapshot->>'niche', ''), "
    "COALESCE(dossier_snapshot->>'price', ''), "
    "COALESCE(dossier_snapshot->>'tiktok_shop_url', ''), "
    "COALESCE(dossier_snapshot->>'affiliate_link', '')";

ScriptInput ReadSnapshot(const pqxx::row& row, int first) {
  ScriptInput input;
  input.name = row[first].is_null() ? "" : row[first].as<std::string>();
  input.benefits = db::ReadTextArray(row[first + 1]);
  input.pain_points = db::ReadTextArray(row[first + 2]);
  input.proof_types = db::ReadTextArray(row[first + 3]);
  input.target_audience = row[first + 4].as<std::string>();
  input.category = row[first + 5].as<std::string>();
  input.niche = row[first + 6].as<std::string>();
  input.price = row[first + 7].as<std::string>();
  input.tiktok_shop_url = row[first + 8].as<std::string>();
  input.affiliate_link = row[first + 9].as<std::string>();
  return input;
}

}  // namespace

const char* TableOf(JobKind kind) {
  return kind == JobKind::kImage ? "cf_generated_images" : "cf_generated_videos";
}

const char* KindName(JobKind kind) { return kind == JobKind::kImage ? "image" : "video"; }

absl::StatusOr<std::vector<std::string>> JobStore::Create(JobKind kind, const NewJob& job,
                                                          int count, const std::string& request_id,
                                                          int max_pending) {
  const std::string table = TableOf(kind);
  std::vector<std::string> ids;
  // The jobs an earlier call with this request_id made, if any.
  auto FindByRequest = [&](pqxx::work& txn) {
    ids.clear();
    for (const auto& row :
         txn.exec_params(absl::StrCat("SELECT id::text FROM ", table,
                                      " WHERE create_request_id = $1 ORDER BY batch_index"),
                         request_id)) {
      ids.push_back(row[0].as<std::string>());
    }
    return !ids.empty();
  };
  absl::Status status = db::CreateOnce(pool_, request_id, FindByRequest, [&](pqxx::work& txn) {
    // One creator per dossier at a time, so the cap holds under concurrent creates.
    txn.exec_params("SELECT pg_advisory_xact_lock(hashtext('cf_generation_jobs:' || $1))",
                    job.dossier_id);
    int unfinished = txn.exec_params1(absl::StrCat("SELECT count(*) FROM ", table,
                                                   " WHERE dossier_id = $1::uuid AND job_state IN "
                                                   "('queued', 'running')"),
                                      job.dossier_id)[0]
                         .as<int>();
    if (unfinished + count > max_pending) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the dossier has ", unfinished, " unfinished ", KindName(kind), " jobs; at most ",
          max_pending, " may wait at once: wait for some to finish or cancel them"));
    }
    if (kind == JobKind::kVideo) {
      pqxx::result source = txn.exec_params(
          "SELECT dossier_id::text, status FROM cf_generated_images WHERE id = $1::uuid FOR SHARE",
          job.source_image_id);
      if (source.empty()) {
        return absl::NotFoundError(
            absl::StrCat("source image ", job.source_image_id, " not found"));
      }
      if (source[0][0].as<std::string>() != job.dossier_id) {
        return absl::InvalidArgumentError(
            "invalid source_image_id: the image belongs to another dossier");
      }
      if (source[0][1].as<std::string>() != "completed") {
        return absl::FailedPreconditionError(absl::StrCat("the source image is ",
                                                          source[0][1].as<std::string>(),
                                                          "; a video needs a completed image"));
      }
    }
    const ScriptInput& d = job.dossier;
    const bool video = kind == JobKind::kVideo;
    // Images: $18 is the count. Videos: $18 source image, $19 duration, $20 count.
    const std::string sql = absl::StrCat(
        "INSERT INTO ", table,
        " (dossier_id, type, prompt, model, aspect_ratio, max_attempts, create_request_id, "
        "batch_index, dossier_snapshot",
        video ? ", source_image_id, duration" : "",
        ") SELECT $1::uuid, $2, $3, $4, $5, $6, $7, i, jsonb_build_object("
        "'name', $8::text, 'benefits', to_jsonb($9::text[]), 'pain_points', "
        "to_jsonb($10::text[]), 'proof_types', to_jsonb($11::text[]), 'target_audience', "
        "$12::text, 'category', $13::text, 'niche', $14::text, 'price', $15::text, "
        "'tiktok_shop_url', $16::text, 'affiliate_link', $17::text)",
        video ? ", $18::uuid, $19 FROM generate_series(0, $20 - 1) AS i"
              : " FROM generate_series(0, $18 - 1) AS i",
        " RETURNING id::text, batch_index");
    pqxx::result rows =
        video ? txn.exec_params(sql, job.dossier_id, job.type, job.prompt, job.model,
                                job.aspect_ratio, job.max_attempts, db::NullIfEmpty(request_id),
                                d.name, db::TextArrayLiteral(d.benefits),
                                db::TextArrayLiteral(d.pain_points),
                                db::TextArrayLiteral(d.proof_types), d.target_audience, d.category,
                                d.niche, d.price, d.tiktok_shop_url, d.affiliate_link,
                                job.source_image_id, job.duration_seconds, count)
              : txn.exec_params(sql, job.dossier_id, job.type, job.prompt, job.model,
                                job.aspect_ratio, job.max_attempts, db::NullIfEmpty(request_id),
                                d.name, db::TextArrayLiteral(d.benefits),
                                db::TextArrayLiteral(d.pain_points),
                                db::TextArrayLiteral(d.proof_types), d.target_audience, d.category,
                                d.niche, d.price, d.tiktok_shop_url, d.affiliate_link, count);
    std::vector<std::pair<int, std::string>> ordered;
    for (const auto& row : rows) {
      ordered.emplace_back(row[1].as<int>(), row[0].as<std::string>());
    }
    std::sort(ordered.begin(), ordered.end());
    for (auto& [index, id] : ordered) ids.push_back(std::move(id));
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return ids;
}

namespace {

// The by-ids read of one table: its prepared statement's name and SQL.
struct ByIdsStatement {
  std::string name;
  std::string sql;
};

ByIdsStatement MakeByIdsStatement(JobKind kind) {
  return {absl::StrCat("generation_", TableOf(kind), "_by_ids"),
          absl::StrCat("SELECT ", ColumnsOf(kind), " FROM ", TableOf(kind),
                       " WHERE id = ANY($1::uuid[]) ORDER BY array_position($1::uuid[], id)")};
}

// Rows by id in the order asked: one prepared statement, no transaction (the read path).
template <typename Message>
absl::StatusOr<std::vector<Message>> ReadByIds(db::ConnectionPool* pool,
                                               const ByIdsStatement& statement,
                                               const std::vector<std::string>& ids,
                                               Message (*convert)(const pqxx::row&)) {
  absl::StatusOr<pqxx::result> rows =
      pool->Read(statement.name, statement.sql, db::TextArrayLiteral(ids));
  if (!rows.ok()) return rows.status();
  std::vector<Message> out;
  for (const auto& row : *rows) out.push_back(convert(row));
  return out;
}

}  // namespace

absl::StatusOr<std::vector<v1::Image>> JobStore::GetImages(const std::vector<std::string>& ids) {
  static const ByIdsStatement statement = MakeByIdsStatement(JobKind::kImage);
  return ReadByIds(pool_, statement, ids, &RowToImage);
}

absl::StatusOr<std::vector<v1::Video>> JobStore::GetVideos(const std::vector<std::string>& ids) {
  static const ByIdsStatement statement = MakeByIdsStatement(JobKind::kVideo);
  return ReadByIds(pool_, statement, ids, &RowToVideo);
}

absl::StatusOr<v1::Image> JobStore::GetImage(const std::string& id) {
  auto images = GetImages({id});
  if (!images.ok()) return images.status();
  if (images->empty()) return NotFound(JobKind::kImage, id);
  return images->front();
}

absl::StatusOr<v1::Video> JobStore::GetVideo(const std::string& id) {
  auto videos = GetVideos({id});
  if (!videos.ok()) return videos.status();
  if (videos->empty()) return NotFound(JobKind::kVideo, id);
  return videos->front();
}

namespace {

// Newest-first keyset listing shared by both tables.
template <typename Message>
absl::Status ListJobs(db::ConnectionPool* pool, JobKind kind, const JobFilter& filter,
                      const std::optional<JobCursor>& after, int page_size,
                      Message (*convert)(const pqxx::row&), std::vector<Message>* out,
                      std::optional<JobCursor>* next) {
  return pool->Transact([&](pqxx::work& txn) {
    out->clear();
    next->reset();
    pqxx::result rows = txn.exec_params(
        absl::StrCat("SELECT ", ColumnsOf(kind), " FROM ", TableOf(kind),
                     " WHERE ($1::uuid IS NULL OR dossier_id = $1::uuid)"
                     " AND ($2::text IS NULL OR type = $2) AND ($3::text IS NULL OR status = $3)"
                     " AND ($4::timestamptz IS NULL OR (created_at, id) < ($4::timestamptz, "
                     "$5::uuid)) ORDER BY created_at DESC, id DESC LIMIT $6"),
        db::NullIfEmpty(filter.dossier_id), db::NullIfEmpty(filter.type),
        db::NullIfEmpty(filter.status), after ? after->created_at.c_str() : nullptr,
        after ? after->id.c_str() : nullptr, page_size + 1);
    for (int i = 0; i < static_cast<int>(rows.size()) && i < page_size; ++i) {
      out->push_back(convert(rows[i]));
    }
    if (static_cast<int>(rows.size()) > page_size) {
      const pqxx::row& last = rows[page_size - 1];
      *next = JobCursor{last[kCommonCount - 1].as<std::string>(), last[0].as<std::string>()};
    }
    return absl::OkStatus();
  });
}

}  // namespace

absl::StatusOr<std::vector<v1::Image>> JobStore::ListImages(const JobFilter& filter,
                                                            const std::optional<JobCursor>& after,
                                                            int page_size,
                                                            std::optional<JobCursor>* next) {
  std::vector<v1::Image> images;
  absl::Status status =
      ListJobs(pool_, JobKind::kImage, filter, after, page_size, &RowToImage, &images, next);
  if (!status.ok()) return status;
  return images;
}

absl::StatusOr<std::vector<v1::Video>> JobStore::ListVideos(const JobFilter& filter,
                                                            const std::optional<JobCursor>& after,
                                                            int page_size,
                                                            std::optional<JobCursor>* next) {
  std::vector<v1::Video> videos;
  absl::Status status =
      ListJobs(pool_, JobKind::kVideo, filter, after, page_size, &RowToVideo, &videos, next);
  if (!status.ok()) return status;
  return videos;
}

jobs::QueueSpec QueueSpecFor(JobKind kind) {
  jobs::QueueSpec spec;
  spec.table = TableOf(kind);
  spec.kind = KindName(kind);
  spec.channel = "cf_generation_jobs";
  spec.status_column = "status";
  spec.status_of = {{jobs::JobState::kQueued, "pending"},
                    {jobs::JobState::kRunning, "generating"},
                    {jobs::JobState::kDone, "completed"},
                    {jobs::JobState::kFailed, "failed"},
                    {jobs::JobState::kCancelled, "cancelled"}};
  spec.external_job_column = "remotion_job_id";
  if (kind == JobKind::kVideo) {
    // A worker that dies while a Veo operation runs spends no attempt: the paid operation goes
    // on, and the next claim polls it. Bounded by a day from its last scheduled poll (a crash
    // that recurs at every poll ends it then; a Retry starts a new operation with a new clock).
    spec.external_deadline_sql = "COALESCE(next_poll_at, created_at) + interval '1 day'";
    spec.external_deadline_error =
        "the video model's operation may have finished unread: the worker stopped at every poll "
        "for a day";
  }
  spec.claim_columns = absl::StrCat(
      "j.dossier_id::text, j.type, j.prompt, j.aspect_ratio, ",
      kind == JobKind::kVideo ? "COALESCE(j.duration, 0), COALESCE((SELECT image_url FROM "
                                "cf_generated_images i WHERE i.id = j.source_image_id), ''), "
                              : "0, '', ",
      kSnapshotColumns);
  return spec;
}

ClaimedJob DecodeClaim(JobKind kind, const jobs::Lease& lease) {
  const pqxx::row row = lease.row();
  const int first = jobs::Lease::kPayload;
  ClaimedJob job;
  job.kind = kind;
  job.id = lease.id;
  job.attempt = lease.attempt;
  job.output_stem = lease.OutputStem();
  job.provider_job_id = lease.external_job_id;
  job.dossier_id = row[first].as<std::string>();
  job.type = row[first + 1].as<std::string>();
  job.prompt = row[first + 2].as<std::string>();
  job.aspect_ratio = row[first + 3].as<std::string>();
  job.duration_seconds = row[first + 4].as<int>();
  job.source_image_url = row[first + 5].as<std::string>();
  job.dossier = ReadSnapshot(row, first + 6);
  return job;
}

jobs::Completion CompletionFor(JobKind kind, const JobResult& result) {
  const bool video = kind == JobKind::kVideo;
  auto set_sql = [](bool video) {
    return absl::StrCat(
        video ? "video_url" : "image_url",
        " = $3, model = $4, remotion_job_id = COALESCE(NULLIF($5, ''), remotion_job_id), "
        "metadata = jsonb_build_object('width', $6::int, 'height', $7::int, 'format', $8::text, "
        "'fileSize', $9::bigint, 'generationTime', round($10::numeric, 3))",
        video ? " || jsonb_build_object('fps', $11::float8, 'codec', $12::text, 'bitrate', "
                "$13::text, 'duration', round($14::numeric, 3))"
              : "",
        ", completed_at = NOW()");
  };
  static const std::string kImageSet = set_sql(false), kVideoSet = set_sql(true);
  jobs::Completion completion;
  completion.set_sql = video ? kVideoSet : kImageSet;
  completion.args = {result.url,
                     result.model,
                     result.provider_job_id,
                     std::to_string(result.width),
                     std::to_string(result.height),
                     result.format,
                     std::to_string(result.file_size),
                     std::to_string(result.generation_seconds)};
  if (video) {
    completion.args.push_back(std::to_string(result.fps));
    completion.args.push_back(result.codec);
    completion.args.push_back(result.bitrate);
    completion.args.push_back(std::to_string(result.duration_seconds));
  }
  if (!result.local_path.empty()) completion.files.push_back(result.local_path);
  return completion;
}

absl::Status JobStore::Cancel(JobKind kind, const std::string& id) {
  return queue(kind)->Cancel(id);
}

absl::Status JobStore::Retry(JobKind kind, const std::string& id) {
  return queue(kind)->Requeue(id, {jobs::JobState::kFailed}, "",
                              "only a failed job can be retried");
}

absl::StatusOr<std::string> JobStore::LatestImageUrl(const std::string& dossier_id,
                                                     const std::string& type) {
  static const std::string kName = "latest_image_url";
  static const std::string kSql =
      "SELECT image_url FROM cf_generated_images WHERE dossier_id = $1::uuid AND type = $2 "
      "AND status = 'completed' AND image_url IS NOT NULL ORDER BY completed_at DESC LIMIT 1";
  absl::StatusOr<pqxx::result> rows = pool_->Read(kName, kSql, dossier_id, type);
  if (!rows.ok()) return rows.status();
  return rows->empty() ? std::string() : (*rows)[0][0].as<std::string>();
}

}  // namespace cf::generation
