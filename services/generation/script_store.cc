#include "services/generation/script_store.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "common/db/create_once.h"
#include "common/db/values.h"

namespace cf::generation {
namespace {

constexpr char kColumns[] =
    "id::text, dossier_id::text, awareness_level, COALESCE(market_sophistication, 0), hook, "
    "body, cta, full_script, COALESCE(estimated_duration, 0), "
    "(extract(epoch FROM created_at) * 1000000)::bigint";

v1::Script RowToScript(const pqxx::row& row) {
  v1::Script script;
  script.set_id(row[0].as<std::string>());
  script.set_dossier_id(row[1].as<std::string>());
  script.set_awareness_level(static_cast<v1::AwarenessLevel>(row[2].as<int>()));
  script.set_market_sophistication(static_cast<v1::MarketSophistication>(row[3].as<int>()));
  script.set_hook(row[4].as<std::string>());
  script.set_body(row[5].as<std::string>());
  script.set_cta(row[6].as<std::string>());
  script.set_full_script(row[7].as<std::string>());
  script.set_estimated_duration(row[8].as<int>());
  db::SetTimestamp(row[9].as<int64_t>(), script.mutable_created_at());
  return script;
}

absl::Status NotFound(const std::string& id) {
  return absl::NotFoundError(absl::StrCat("script ", id, " not found"));
}

}  // namespace

absl::StatusOr<SaveResult> ScriptStore::SaveGenerated(const std::string& dossier_id,
                                                      const std::vector<ScriptCell>& cells,
                                                      bool overwrite) {
  SaveResult result;
  absl::Status status = pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    result = SaveResult();
    const std::string conflict =
        overwrite ? "DO UPDATE SET hook = EXCLUDED.hook, body = EXCLUDED.body, cta = EXCLUDED.cta, "
                    "estimated_duration = EXCLUDED.estimated_duration"
                  : "DO NOTHING";
    const std::string insert = absl::StrCat(
        "INSERT INTO cf_scripts (dossier_id, awareness_level, market_sophistication, hook, body, "
        "cta, estimated_duration) VALUES ($1::uuid, $2, $3, $4, $5, $6, $7) "
        "ON CONFLICT (dossier_id, awareness_level, market_sophistication) ",
        conflict, " RETURNING ", kColumns, ", (xmax = 0)");
    for (const ScriptCell& cell : cells) {
      pqxx::result rows =
          txn.exec_params(insert, dossier_id, cell.awareness, cell.sophistication, cell.text.hook,
                          cell.text.body, cell.text.cta, cell.text.estimated_duration);
      if (!rows.empty()) {
        result.scripts.push_back(RowToScript(rows[0]));
        ++(rows[0][10].as<bool>() ? result.created : result.replaced);
        continue;
      }
      pqxx::result existing = txn.exec_params(
          absl::StrCat("SELECT ", kColumns,
                       " FROM cf_scripts WHERE dossier_id = $1::uuid AND awareness_level = $2 "
                       "AND market_sophistication = $3"),
          dossier_id, cell.awareness, cell.sophistication);
      if (existing.empty()) return absl::AbortedError("script cell changed concurrently; retry");
      result.scripts.push_back(RowToScript(existing[0]));
      ++result.kept;
    }
    return absl::OkStatus();
  });
  if (status.code() == absl::StatusCode::kFailedPrecondition) {
    return absl::NotFoundError(absl::StrCat("dossier ", dossier_id, " not found"));
  }
  if (!status.ok()) return status;
  return result;
}

absl::StatusOr<v1::Script> ScriptStore::Create(const v1::Script& script,
                                               const std::string& request_id) {
  v1::Script created;
  auto find_by_request = [&](pqxx::work& txn) -> bool {
    pqxx::result rows = txn.exec_params(
        absl::StrCat("SELECT ", kColumns, " FROM cf_scripts WHERE create_request_id = $1"),
        request_id);
    if (rows.empty()) return false;
    created = RowToScript(rows[0]);
    return true;
  };
  absl::Status status = db::CreateOnce(pool_, request_id, find_by_request, [&](pqxx::work& txn) {
    int sophistication = script.market_sophistication();
    pqxx::result rows = txn.exec_params(
        absl::StrCat("INSERT INTO cf_scripts (dossier_id, awareness_level, market_sophistication, "
                     "hook, body, cta, estimated_duration, create_request_id) VALUES ($1::uuid, "
                     "$2, $3, $4, $5, $6, $7, $8) RETURNING ",
                     kColumns),
        script.dossier_id(), static_cast<int>(script.awareness_level()),
        sophistication == 0 ? nullptr : std::to_string(sophistication).c_str(), script.hook(),
        script.body(), script.cta(), script.estimated_duration(),
        request_id.empty() ? nullptr : request_id.c_str());
    created = RowToScript(rows[0]);
    return absl::OkStatus();
  });
  if (status.code() == absl::StatusCode::kAlreadyExists) {
    return absl::AlreadyExistsError(
        "the dossier already has a script for this awareness level and sophistication; update "
        "or delete it first");
  }
  if (status.code() == absl::StatusCode::kFailedPrecondition) {
    return absl::NotFoundError(absl::StrCat("dossier ", script.dossier_id(), " not found"));
  }
  if (!status.ok()) return status;
  return created;
}

absl::StatusOr<v1::Script> ScriptStore::Get(const std::string& id) {
  std::optional<v1::Script> found;
  absl::Status status = pool_->Transact([&](pqxx::work& txn) {
    pqxx::result rows = txn.exec_params(
        absl::StrCat("SELECT ", kColumns, " FROM cf_scripts WHERE id = $1::uuid"), id);
    if (!rows.empty()) found = RowToScript(rows[0]);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  if (!found) return NotFound(id);
  return *found;
}

absl::StatusOr<ScriptPage> ScriptStore::List(const ScriptFilter& filter,
                                             const std::optional<ScriptCursor>& after,
                                             int page_size) {
  ScriptPage page;
  absl::Status status = pool_->Transact([&](pqxx::work& txn) {
    pqxx::result rows = txn.exec_params(
        absl::StrCat(
            "SELECT ", kColumns,
            " FROM cf_scripts"
            " WHERE ($1::uuid IS NULL OR dossier_id = $1::uuid)"
            " AND ($2::int IS NULL OR awareness_level = $2::int)"
            " AND ($3::uuid IS NULL OR (dossier_id, awareness_level,"
            " COALESCE(market_sophistication, 0), id) > ($3::uuid, $4::int, $5::int, $6::uuid))"
            " ORDER BY dossier_id, awareness_level, COALESCE(market_sophistication, 0), id"
            " LIMIT $7"),
        filter.dossier_id.empty() ? nullptr : filter.dossier_id.c_str(),
        filter.awareness == 0 ? nullptr : std::to_string(filter.awareness).c_str(),
        after ? after->dossier_id.c_str() : nullptr,
        after ? std::to_string(after->awareness).c_str() : nullptr,
        after ? std::to_string(after->sophistication).c_str() : nullptr,
        after ? after->id.c_str() : nullptr, page_size + 1);
    for (int i = 0; i < static_cast<int>(rows.size()) && i < page_size; ++i) {
      page.scripts.push_back(RowToScript(rows[i]));
    }
    if (static_cast<int>(rows.size()) > page_size) {
      const v1::Script& last = page.scripts.back();
      page.next = ScriptCursor{last.dossier_id(), static_cast<int>(last.awareness_level()),
                               static_cast<int>(last.market_sophistication()), last.id()};
    }
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return page;
}

absl::Status ScriptStore::Delete(const std::string& id) {
  return pool_->Transact([&](pqxx::work& txn) -> absl::Status {
    pqxx::result rows =
        txn.exec_params("DELETE FROM cf_scripts WHERE id = $1::uuid RETURNING id", id);
    return rows.empty() ? NotFound(id) : absl::OkStatus();
  });
}

}  // namespace cf::generation
