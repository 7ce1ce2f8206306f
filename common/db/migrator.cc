#include "common/db/migrator.h"

#include <dirent.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <pqxx/pqxx>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/db/errors.h"

namespace cf::db {
namespace {

// Any constant shared by all runs; "cfmigr" in ASCII.
constexpr int64_t kMigrationLockKey = 0x63666d696772;

absl::StatusOr<int> VersionFromName(const std::string& name) {
  // NNNN_description.sql
  if (name.size() < 10 || name[4] != '_' || !absl::EndsWith(name, ".sql")) {
    return absl::InvalidArgumentError(
        absl::StrCat("migration file '", name, "' is not named NNNN_description.sql"));
  }
  int version = 0;
  if (!absl::SimpleAtoi(name.substr(0, 4), &version) || version <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("migration file '", name, "' does not start with a positive version"));
  }
  return version;
}

void CreateMissingRoles(pqxx::connection& connection) {
  for (const std::string& role : ServiceRoles()) {
    pqxx::work txn(connection);
    if (!txn.exec_params("SELECT 1 FROM pg_roles WHERE rolname = $1", role).empty()) continue;
    try {
      txn.exec("CREATE ROLE " + txn.quote_name(role) + " LOGIN");
      txn.commit();
    } catch (const pqxx::sql_error& error) {
      // Roles are cluster-wide: a migration of another database may have just created it.
      std::string state = SqlState(error);
      if (state != "42710" && state != "23505") throw;
    }
  }
}

void EnsureMigrationsTable(pqxx::connection& connection) {
  pqxx::work txn(connection);
  txn.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version INTEGER PRIMARY KEY,"
      " name TEXT NOT NULL,"
      " checksum TEXT NOT NULL,"
      " applied_at TIMESTAMPTZ NOT NULL DEFAULT NOW())");
  txn.commit();
}

std::string Checksum(pqxx::connection& connection, const std::string& sql) {
  pqxx::nontransaction txn(connection);
  return txn.exec_params1("SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex')", sql)[0]
      .as<std::string>();
}

}  // namespace

const std::vector<std::string>& ServiceRoles() {
  static const std::vector<std::string> roles = {"cf_catalog", "cf_generation", "cf_assembly",
                                                 "cf_publishing", "cf_analytics"};
  return roles;
}

absl::StatusOr<std::vector<Migration>> LoadMigrations(const std::string& dir) {
  DIR* handle = opendir(dir.c_str());
  if (handle == nullptr) {
    return absl::NotFoundError(absl::StrCat("cannot open migrations folder '", dir, "'"));
  }
  std::vector<Migration> migrations;
  while (dirent* entry = readdir(handle)) {
    std::string name = entry->d_name;
    if (!absl::EndsWith(name, ".sql")) continue;
    absl::StatusOr<int> version = VersionFromName(name);
    if (!version.ok()) {
      closedir(handle);
      return version.status();
    }
    std::ifstream file(dir + "/" + name, std::ios::binary);
    std::stringstream content;
    content << file.rdbuf();
    migrations.push_back({*version, name, content.str()});
  }
  closedir(handle);
  std::sort(migrations.begin(), migrations.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  for (size_t i = 1; i < migrations.size(); ++i) {
    if (migrations[i].version == migrations[i - 1].version) {
      return absl::InvalidArgumentError(
          absl::StrCat("two migrations share version ", migrations[i].version, ": ",
                       migrations[i - 1].name, " and ", migrations[i].name));
    }
  }
  return migrations;
}

absl::StatusOr<MigrationReport> ApplyMigrations(const std::string& conninfo,
                                                const std::vector<Migration>& migrations) {
  try {
    pqxx::connection connection(conninfo);
    {
      pqxx::nontransaction lock(connection);
      lock.exec_params("SELECT pg_advisory_lock($1)", kMigrationLockKey);
    }
    CreateMissingRoles(connection);
    EnsureMigrationsTable(connection);

    std::map<int, std::pair<std::string, std::string>> applied;  // version -> (name, checksum)
    {
      pqxx::work txn(connection);
      for (const auto& row : txn.exec("SELECT version, name, checksum FROM schema_migrations")) {
        applied[row[0].as<int>()] = {row[1].as<std::string>(), row[2].as<std::string>()};
      }
    }
    // Verify every applied file before applying anything new.
    for (const Migration& migration : migrations) {
      auto it = applied.find(migration.version);
      if (it == applied.end()) continue;
      if (it->second.second != Checksum(connection, migration.sql)) {
        return absl::FailedPreconditionError(
            absl::StrCat("migration ", migration.name,
                         " was changed after it was applied (checksum "
                         "differs); migrations are forward-only: add a new file instead"));
      }
    }
    MigrationReport report;
    for (const Migration& migration : migrations) {
      if (applied.count(migration.version) > 0) continue;
      std::string checksum = Checksum(connection, migration.sql);
      pqxx::work txn(connection);
      txn.exec(migration.sql);
      txn.exec_params("INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                      migration.version, migration.name, checksum);
      txn.commit();
      report.applied.push_back(migration.name);
    }
    {
      pqxx::nontransaction txn(connection);
      report.current_version =
          txn.exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")[0][0].as<int>();
      txn.exec_params("SELECT pg_advisory_unlock($1)", kMigrationLockKey);
    }
    return report;
  } catch (const pqxx::sql_error& error) {
    // Migration failures are for the operator: the server's message is the useful part.
    return absl::Status(absl::StatusCode::kFailedPrecondition,
                        absl::StrCat("migration failed: ", error.what()));
  } catch (const std::exception& error) {
    return absl::UnavailableError(absl::StrCat("cannot migrate: ", error.what()));
  }
}

absl::StatusOr<int> CurrentSchemaVersion(const std::string& conninfo) {
  try {
    pqxx::connection connection(conninfo);
    pqxx::nontransaction txn(connection);
    if (txn.exec("SELECT to_regclass('schema_migrations') IS NULL")[0][0].as<bool>()) return 0;
    return txn.exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")[0][0].as<int>();
  } catch (const std::exception& error) {
    return StatusFromException(error);
  }
}

absl::Status CheckSchemaVersion(const std::string& conninfo, int required) {
  absl::StatusOr<int> current = CurrentSchemaVersion(conninfo);
  if (!current.ok()) return current.status();
  if (*current < required) {
    return absl::FailedPreconditionError(absl::StrCat("database schema is at version ", *current,
                                                      " but this build needs ", required,
                                                      ": run the migrate tool first"));
  }
  return absl::OkStatus();
}

}  // namespace cf::db
