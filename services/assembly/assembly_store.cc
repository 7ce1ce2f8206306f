#include "services/assembly/assembly_store.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "common/db/create_once.h"
#include "common/db/values.h"
#include "services/assembly/assembly_client.h"

namespace cf::assembly {
namespace {

// The created_at text a page cursor carries (the last column of Columns()).
constexpr int kCreatedAtTextColumn = 19;

const std::string& Columns() {
  static const std::string* columns = new std::string(absl::StrCat(
      "id::text, dossier_id::text, COALESCE(script_id::text, ''), "
      "ARRAY(SELECT unnest(video_ids)::text), ARRAY(SELECT unnest(image_ids)::text), platform, "
      "COALESCE(caption, ''), hashtags, COALESCE(compliance_disclosure, ''), "
      "COALESCE(metadata, '{}')::text, COALESCE(status, 'draft'), progress, COALESCE(phase, ''), "
      "COALESCE(last_error, ''), COALESCE(final_video_url, ''), attempts, COALESCE(",
      db::MicrosOf("created_at"), ", 0), ", db::MicrosOf("updated_at"), ", COALESCE(",
      db::MicrosOf("rendered_at"), ", 0), COALESCE(created_at::text, '')"));
  return *columns;
}

// Typed reads of the metadata JSON (written by this service, but a row may predate it): a
// missing or mistyped key reads as the fallback instead of throwing.
std::string TextIn(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}
double NumberIn(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<double>() : 0;
}
bool BoolIn(const nlohmann::json& object, const char* key, bool fallback) {
  auto it = object.find(key);
  return it != object.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

v1::AssemblyState StateFromDb(const std::string& status) {
  if (status == "draft") return v1::ASSEMBLY_STATE_DRAFT;
  if (status == "rendering") return v1::ASSEMBLY_STATE_RENDERING;
  if (status == "ready") return v1::ASSEMBLY_STATE_READY;
  if (status == "published") return v1::ASSEMBLY_STATE_PUBLISHED;
  if (status == "failed") return v1::ASSEMBLY_STATE_FAILED;
  return v1::ASSEMBLY_STATE_UNSPECIFIED;
}

v1::Assembly RowToAssembly(const pqxx::row& row) {
  v1::Assembly assembly;
  assembly.set_id(row[0].as<std::string>());
  assembly.set_dossier_id(row[1].as<std::string>());
  assembly.set_script_id(row[2].as<std::string>());
  for (const std::string& id : db::ReadTextArray(row[3])) assembly.add_video_ids(id);
  for (const std::string& id : db::ReadTextArray(row[4])) assembly.add_image_ids(id);
  assembly.set_platform(PlatformOf(row[5].as<std::string>()));
  assembly.set_caption(row[6].as<std::string>());
  for (const std::string& tag : db::ReadTextArray(row[7])) assembly.add_hashtags(tag);
  assembly.set_compliance_disclosure(row[8].as<std::string>());
  const nlohmann::json metadata =
      nlohmann::json::parse(row[9].as<std::string>(), nullptr, /*allow_exceptions=*/false);
  if (metadata.is_object()) {
    *assembly.mutable_options() = OptionsFromMetadata(metadata);
    assembly.set_title(TextIn(metadata, "title"));
    assembly.set_ai_generated(BoolIn(metadata, "aiGenerated", true));
    assembly.set_cover_url(TextIn(metadata, "coverUrl"));
    v1::RenderMetadata* rendered = assembly.mutable_metadata();
    rendered->set_width(static_cast<int>(NumberIn(metadata, "width")));
    rendered->set_height(static_cast<int>(NumberIn(metadata, "height")));
    rendered->set_duration_seconds(NumberIn(metadata, "duration"));
    rendered->set_file_size(static_cast<int64_t>(NumberIn(metadata, "fileSize")));
    rendered->set_voice(TextIn(metadata, "voice"));
    rendered->set_caption_timing(TextIn(metadata, "captionTiming"));
  }
  assembly.set_state(StateFromDb(row[10].as<std::string>()));
  assembly.set_progress(row[11].as<int>());
  assembly.set_phase(row[12].as<std::string>());
  assembly.set_error(row[13].as<std::string>());
  assembly.set_final_video_url(row[14].as<std::string>());
  assembly.set_attempts(row[15].as<int>());
  db::SetTimestamp(row[16].as<int64_t>(), assembly.mutable_created_at());
  db::SetTimestamp(row[17].as<int64_t>(), assembly.mutable_updated_at());
  if (row[18].as<int64_t>() != 0) {
    db::SetTimestamp(row[18].as<int64_t>(), assembly.mutable_rendered_at());
  }
  return assembly;
}

std::string JsonText(const nlohmann::json& json) {
  // Replaced, not thrown on: a caption cut mid-character must not stop the write.
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

nlohmann::json OptionsToMetadata(const v1::AssemblyOptions& options) {
  return {{"template", options.template_()},
          {"captionStyle", options.caption_style()},
          {"fontFamily", options.font()},
          {"musicTrack", options.music_track()},
          {"renderSettings",
           {{"aspectRatio", options.aspect_ratio()},
            {"voice", options.voice()},
            {"voiceover", !options.has_voiceover() || options.voiceover()}}}};
}

v1::AssemblyOptions OptionsFromMetadata(const nlohmann::json& metadata) {
  v1::AssemblyOptions options;
  if (!metadata.is_object()) return options;
  options.set_template_(TextIn(metadata, "template"));
  options.set_caption_style(TextIn(metadata, "captionStyle"));
  options.set_font(TextIn(metadata, "fontFamily"));
  options.set_music_track(TextIn(metadata, "musicTrack"));
  auto settings = metadata.find("renderSettings");
  if (settings != metadata.end() && settings->is_object()) {
    options.set_aspect_ratio(TextIn(*settings, "aspectRatio"));
    options.set_voice(TextIn(*settings, "voice"));
    options.set_voiceover(BoolIn(*settings, "voiceover", true));
  }
  return options;
}

jobs::QueueSpec RenderQueueSpec() {
  jobs::QueueSpec spec;
  spec.table = "cf_assembled_content";
  spec.kind = "assembly";
  spec.channel = "cf_assembly_jobs";
  spec.status_column = "status";
  spec.status_of = {{jobs::JobState::kQueued, "rendering"},
                    {jobs::JobState::kRunning, "rendering"},
                    {jobs::JobState::kDone, "ready"},
                    {jobs::JobState::kFailed, "failed"},
                    {jobs::JobState::kCancelled, "draft"}};
  spec.external_job_column = "remotion_render_id";
  // What a render reads: the snapshot, the platform, the options and the disclosure.
  spec.claim_columns =
      "j.render_snapshot::text, j.platform, COALESCE(j.metadata, '{}')::text, "
      "COALESCE(j.compliance_disclosure, '')";
  return spec;
}

AssemblyStore::AssemblyStore(db::ConnectionPool* pool)
    : pool_(pool), queue_(pool, RenderQueueSpec()) {}

absl::StatusOr<v1::Assembly> AssemblyStore::Create(const Draft& draft,
                                                   const std::string& request_id) {
  v1::Assembly created;
  auto find = [&](pqxx::work& txn) {
    pqxx::result rows =
        txn.exec_params(absl::StrCat("SELECT ", Columns(),
                                     " FROM cf_assembled_content WHERE create_request_id = $1"),
                        request_id);
    if (rows.empty()) return false;
    created = RowToAssembly(rows[0]);
    return true;
  };
  nlohmann::json metadata = OptionsToMetadata(draft.options);
  metadata["title"] = draft.post.title;
  metadata["aiGenerated"] = draft.post.ai_generated;
  absl::Status status = db::CreateOnce(pool_, request_id, find, [&](pqxx::work& txn) {
    pqxx::result rows = txn.exec_params(
        absl::StrCat("INSERT INTO cf_assembled_content (dossier_id, script_id, video_ids, "
                     "image_ids, platform, caption, hashtags, compliance_disclosure, status, "
                     "metadata, render_snapshot, create_request_id) VALUES ($1::uuid, "
                     "$2::uuid, $3::uuid[], $4::uuid[], $5, $6, $7::text[], $8, 'draft', "
                     "$9::jsonb, $10::jsonb, $11) RETURNING ",
                     Columns()),
        draft.dossier_id, db::NullIfEmpty(draft.script_id), db::TextArrayLiteral(draft.video_ids),
        db::TextArrayLiteral(draft.image_ids), draft.platform, draft.post.caption,
        db::TextArrayLiteral(draft.post.hashtags),
        db::NullIfEmpty(draft.post.compliance_disclosure), JsonText(metadata),
        JsonText(draft.snapshot), db::NullIfEmpty(request_id));
    created = RowToAssembly(rows[0]);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return created;
}

absl::StatusOr<v1::Assembly> AssemblyStore::Get(const std::string& id) {
  static const std::string name = "assembly_by_id";
  static const std::string sql =
      absl::StrCat("SELECT ", Columns(), " FROM cf_assembled_content WHERE id = $1::uuid");
  absl::StatusOr<pqxx::result> rows = pool_->Read(name, sql, id);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return absl::NotFoundError(absl::StrCat("assembly ", id, " not found"));
  return RowToAssembly((*rows)[0]);
}

absl::StatusOr<std::vector<v1::Assembly>> AssemblyStore::GetMany(
    const std::vector<std::string>& ids) {
  static const std::string name = "assemblies_by_ids";
  static const std::string sql =
      absl::StrCat("SELECT ", Columns(),
                   " FROM cf_assembled_content WHERE id = ANY($1::uuid[]) "
                   "ORDER BY array_position($1::uuid[], id)");
  absl::StatusOr<pqxx::result> rows = pool_->Read(name, sql, db::TextArrayLiteral(ids));
  if (!rows.ok()) return rows.status();
  std::vector<v1::Assembly> assemblies;
  for (const auto& row : *rows) assemblies.push_back(RowToAssembly(row));
  return assemblies;
}

absl::StatusOr<v1::Assembly> AssemblyStore::Render(const std::string& id, bool force) {
  std::set<jobs::JobState> from = {jobs::JobState::kNone, jobs::JobState::kCancelled};
  if (force) from.insert({jobs::JobState::kDone, jobs::JobState::kFailed});
  // A published assembly is done too, but it is out there: it is never rendered again. The
  // condition is part of the UPDATE, so a MarkPublished racing this call cannot be undone.
  absl::Status queued = queue_.Requeue(
      id, from, "",
      force ? "a draft, ready or failed assembly can be rendered (a published one never)"
            : "a draft can be rendered; a ready or failed one needs force",
      "status IS DISTINCT FROM 'published'");
  if (!queued.ok()) return queued;
  return Get(id);
}

std::optional<v1::Assembly> AssemblyStore::FindByRequestId(const std::string& request_id) {
  if (request_id.empty()) return std::nullopt;
  static const std::string name = "assembly_by_request_id";
  static const std::string sql =
      absl::StrCat("SELECT ", Columns(), " FROM cf_assembled_content WHERE create_request_id = $1");
  absl::StatusOr<pqxx::result> rows = pool_->Read(name, sql, request_id);
  if (!rows.ok() || rows->empty()) return std::nullopt;
  return RowToAssembly((*rows)[0]);
}

absl::StatusOr<AssemblyPage> AssemblyStore::List(const AssemblyFilter& filter,
                                                 const std::optional<CreatedCursor>& after,
                                                 int page_size, bool oldest_first) {
  const std::string sql =
      absl::StrCat("SELECT ", Columns(),
                   " FROM cf_assembled_content WHERE ($1::uuid IS NULL OR dossier_id = $1::uuid)"
                   " AND ($2::text IS NULL OR platform = $2) AND ($3::text IS NULL OR status = $3)"
                   " AND ($4::timestamptz IS NULL OR (created_at, id) ",
                   oldest_first ? ">" : "<", " ($4::timestamptz, $5::uuid)) ORDER BY created_at ",
                   oldest_first ? "ASC, id ASC" : "DESC, id DESC", " LIMIT $6");
  absl::StatusOr<pqxx::result> rows =
      pool_->Read(oldest_first ? "assemblies_oldest_first" : "assemblies_newest_first", sql,
                  db::NullIfEmpty(filter.dossier_id), db::NullIfEmpty(filter.platform),
                  db::NullIfEmpty(filter.status), after ? after->created_at.c_str() : nullptr,
                  after ? after->id.c_str() : nullptr, page_size + 1);
  if (!rows.ok()) return rows.status();
  AssemblyPage page;
  for (int i = 0; i < static_cast<int>(rows->size()) && i < page_size; ++i) {
    page.assemblies.push_back(RowToAssembly((*rows)[i]));
  }
  if (static_cast<int>(rows->size()) > page_size) {
    const pqxx::row last = (*rows)[page_size - 1];
    page.next =
        CreatedCursor{last[kCreatedAtTextColumn].as<std::string>(), last[0].as<std::string>()};
  }
  return page;
}

absl::StatusOr<v1::Assembly> AssemblyStore::UpdateDraft(
    const std::string& id, const std::function<absl::Status(v1::Assembly*)>& change) {
  v1::Assembly updated;
  absl::Status status = pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    pqxx::result rows =
        txn.exec_params(absl::StrCat("SELECT ", Columns(),
                                     " FROM cf_assembled_content WHERE id = $1::uuid FOR UPDATE"),
                        id);
    if (rows.empty()) return absl::NotFoundError(absl::StrCat("assembly ", id, " not found"));
    v1::Assembly next = RowToAssembly(rows[0]);
    if (next.state() != v1::ASSEMBLY_STATE_DRAFT) {
      return absl::FailedPreconditionError(absl::StrCat("assembly ", id, " is ",
                                                        v1::AssemblyState_Name(next.state()),
                                                        "; only a draft can be edited"));
    }
    absl::Status changed = change(&next);
    if (!changed.ok()) return changed;
    std::vector<std::string> hashtags(next.hashtags().begin(), next.hashtags().end());
    nlohmann::json metadata = OptionsToMetadata(next.options());
    metadata["title"] = next.title();
    // The options live in the seed's metadata; its other keys (title, rendered figures) stay.
    pqxx::result written = txn.exec_params(
        absl::StrCat("UPDATE cf_assembled_content SET caption = $2, hashtags = $3::text[], "
                     "metadata = COALESCE(metadata, '{}') || $4::jsonb WHERE id = $1::uuid "
                     "RETURNING ",
                     Columns()),
        id, next.caption(), db::TextArrayLiteral(hashtags), JsonText(metadata));
    updated = RowToAssembly(written[0]);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return updated;
}

absl::StatusOr<v1::Assembly> AssemblyStore::MarkPublished(const std::string& id) {
  absl::Status status = pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    pqxx::result rows = txn.exec_params(
        "UPDATE cf_assembled_content SET status = 'published' WHERE id = $1::uuid AND "
        "status IN ('ready', 'published') AND job_state = 'done' RETURNING 1",
        id);
    if (!rows.empty()) return absl::OkStatus();
    pqxx::result current =
        txn.exec_params("SELECT status FROM cf_assembled_content WHERE id = $1::uuid", id);
    if (current.empty()) return absl::NotFoundError(absl::StrCat("assembly ", id, " not found"));
    return absl::FailedPreconditionError(absl::StrCat("assembly ", id, " is ",
                                                      current[0][0].as<std::string>(),
                                                      "; only a ready one is published"));
  });
  if (!status.ok()) return status;
  return Get(id);
}

}  // namespace cf::assembly
