// Applies migrations/NNNN_description.sql files in order, each in its own transaction, recording
// version and checksum in schema_migrations. An advisory lock makes concurrent runs safe; an
// applied file whose checksum changed stops the run before anything is applied.
#ifndef CF_COMMON_DB_MIGRATOR_H_
#define CF_COMMON_DB_MIGRATOR_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace cf::db {

struct Migration {
  int version = 0;
  std::string name;  // file name, e.g. "0001_core_schema.sql"
  std::string sql;
};

struct MigrationReport {
  std::vector<std::string> applied;  // names applied by this run
  int current_version = 0;
};

// The database roles the services connect as; created (LOGIN, no password) when missing.
const std::vector<std::string>& ServiceRoles();

// Reads NNNN_*.sql files from dir, sorted by version; duplicate or malformed names are errors.
absl::StatusOr<std::vector<Migration>> LoadMigrations(const std::string& dir);

// Bootstraps the service roles, then applies what is pending. `conninfo` must be an owner role
// allowed to create roles and tables.
absl::StatusOr<MigrationReport> ApplyMigrations(const std::string& conninfo,
                                                const std::vector<Migration>& migrations);

// The highest applied version (0 on an empty database).
absl::StatusOr<int> CurrentSchemaVersion(const std::string& conninfo);

// FAILED_PRECONDITION with a clear message when the schema is older than `required`.
absl::Status CheckSchemaVersion(const std::string& conninfo, int required);

}  // namespace cf::db

#endif  // CF_COMMON_DB_MIGRATOR_H_
