// migrate: applies pending schema migrations (see common/db/migrator.h).
//
//   migrate --database_url="host=... user=<owner> dbname=..." [--migrations_dir=DIR]
//
// Exits 0 when the schema is up to date (also when nothing was pending), 1 otherwise.
#include <sys/stat.h>

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/config/config.h"
#include "common/db/migrator.h"

namespace {

bool IsDirectory(const std::string& path) {
  struct stat info;
  return stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

// Beside the binary in Bazel's runfiles, else ./migrations.
std::string DefaultMigrationsDir(const char* argv0) {
  std::string runfiles = absl::StrCat(argv0, ".runfiles/content_factory/migrations");
  if (IsDirectory(runfiles)) return runfiles;
  return "migrations";
}

}  // namespace

int main(int argc, char** argv) {
  auto config = cf::Config::FromArgs(argc, argv);
  if (!config.ok()) {
    std::fprintf(stderr, "migrate: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  auto database_url = config->RequireDatabaseUrl();
  if (!database_url.ok()) {
    std::fprintf(stderr, "migrate: %s\n", std::string(database_url.status().message()).c_str());
    return 2;
  }
  std::string dir = config->GetOr("migrations_dir", DefaultMigrationsDir(argv[0]));
  auto migrations = cf::db::LoadMigrations(dir);
  if (!migrations.ok()) {
    std::fprintf(stderr, "migrate: %s\n", std::string(migrations.status().message()).c_str());
    return 1;
  }
  auto report = cf::db::ApplyMigrations(*database_url, *migrations);
  if (!report.ok()) {
    std::fprintf(stderr, "migrate: %s\n", std::string(report.status().message()).c_str());
    return 1;
  }
  for (const std::string& name : report->applied)
    std::printf("migrate: applied %s\n", name.c_str());
  std::printf("migrate: schema at version %d (%zu applied now)\n", report->current_version,
              report->applied.size());
  return 0;
}
