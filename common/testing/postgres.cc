#include "common/testing/postgres.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <pqxx/pqxx>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/db/migrator.h"

namespace cf::testing {
namespace {

constexpr int64_t kTemplateLockKey = 0x63667465737400;  // "cftest"

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "postgres test fixture: %s\n", message.c_str());
  std::abort();
}

// Replaces (or adds) one keyword of a key=value conninfo. libpq keeps the first of repeated
// keywords, so appending is not enough. Values here never contain spaces.
std::string WithKeyword(const std::string& conninfo, const std::string& key,
                        const std::string& value) {
  std::string out;
  for (absl::string_view token : absl::StrSplit(conninfo, ' ', absl::SkipEmpty())) {
    if (absl::StartsWith(token, key + "=")) continue;
    absl::StrAppend(&out, token, " ");
  }
  return absl::StrCat(out, key, "=", value);
}

std::string WithDatabase(const std::string& conninfo, const std::string& db) {
  return WithKeyword(conninfo, "dbname", db);
}

// The template's name depends on the migrations' content, so a changed migration set never
// reuses a stale template within one server's life.
std::string TemplateName(const std::vector<db::Migration>& migrations) {
  size_t hash = 0;
  for (const auto& migration : migrations) {
    hash = hash * 31 + std::hash<std::string>()(migration.name + migration.sql);
  }
  return absl::StrCat("cf_template_", hash % 1000000007);
}

std::string EnsureTemplate() {
  static std::once_flag once;
  static std::string name;
  std::call_once(once, [] {
    auto migrations = db::LoadMigrations(MigrationsDir());
    if (!migrations.ok()) Die(std::string(migrations.status().message()));
    name = TemplateName(*migrations);
    pqxx::connection admin(WithDatabase(AdminConninfo(), "postgres"));
    pqxx::nontransaction txn(admin);
    // Test binaries run in parallel; one builds the template, the others wait for it.
    txn.exec_params("SELECT pg_advisory_lock($1)", kTemplateLockKey);
    bool exists = !txn.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", name).empty();
    if (!exists) {
      std::string building = name + "_building";
      txn.exec("DROP DATABASE IF EXISTS " + txn.quote_name(building));
      txn.exec("CREATE DATABASE " + txn.quote_name(building));
      auto report = db::ApplyMigrations(WithDatabase(AdminConninfo(), building), *migrations);
      if (!report.ok()) Die(std::string(report.status().message()));
      txn.exec("ALTER DATABASE " + txn.quote_name(building) + " RENAME TO " + txn.quote_name(name));
    }
    txn.exec_params("SELECT pg_advisory_unlock($1)", kTemplateLockKey);
  });
  return name;
}

}  // namespace

std::string MigrationsDir() {
  if (const char* dir = std::getenv("CF_MIGRATIONS_DIR")) return dir;
  const char* runfiles = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  if (runfiles == nullptr) Die("TEST_SRCDIR is unset: run tests with bazel test (tools/test)");
  return absl::StrCat(runfiles, "/", workspace ? workspace : "content_factory", "/migrations");
}

std::string AdminConninfo() {
  const char* admin = std::getenv("CF_TEST_PG_ADMIN_URL");
  if (admin == nullptr || *admin == '\0') {
    Die("CF_TEST_PG_ADMIN_URL is unset: run the tests with tools/test, which starts a "
        "throwaway PostgreSQL and passes its address");
  }
  return admin;
}

TestDatabase::TestDatabase(bool migrated) {
  std::string template_name = migrated ? EnsureTemplate() : "template0";
  static std::atomic<int> counter{0};
  std::random_device random;
  name_ = absl::StrCat("cf_test_", getpid(), "_", counter++, "_", random() % 100000);
  pqxx::connection admin(WithDatabase(AdminConninfo(), "postgres"));
  pqxx::nontransaction txn(admin);
  txn.exec("CREATE DATABASE " + txn.quote_name(name_) + " TEMPLATE " +
           txn.quote_name(template_name));
}

TestDatabase::~TestDatabase() {
  try {
    pqxx::connection admin(WithDatabase(AdminConninfo(), "postgres"));
    pqxx::nontransaction txn(admin);
    txn.exec("DROP DATABASE IF EXISTS " + txn.quote_name(name_) + " WITH (FORCE)");
  } catch (const std::exception& error) {
    std::fprintf(stderr, "could not drop test database %s: %s\n", name_.c_str(), error.what());
  }
}

std::string TestDatabase::OwnerConninfo() const { return WithDatabase(AdminConninfo(), name_); }

std::string TestDatabase::RoleConninfo(const std::string& role) const {
  return WithKeyword(OwnerConninfo(), "user", role);
}

}  // namespace cf::testing
