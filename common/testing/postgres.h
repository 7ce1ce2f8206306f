// Test fixture: a database of its own for each test, cloned from a migrated template in the
// throwaway PostgreSQL that tools/test starts (CF_TEST_PG_ADMIN_URL, a superuser conninfo).
// There is no fallback: without that server the test fails and says how to run it.
#ifndef CF_COMMON_TESTING_POSTGRES_H_
#define CF_COMMON_TESTING_POSTGRES_H_

#include <string>

namespace cf::testing {

// Debian 12's PostgreSQL programs (initdb, pg_ctl, pgbench).
constexpr char kPostgresBin[] = "/usr/lib/postgresql/15/bin";

// The migrations folder among the test's runfiles (data = ["//migrations:sql"]).
std::string MigrationsDir();

// The superuser conninfo of the test server; aborts the test binary with a clear message when
// CF_TEST_PG_ADMIN_URL is unset.
std::string AdminConninfo();

class TestDatabase {
 public:
  // Clones the migrated template (created once per server and migration set), or makes an
  // empty database when `migrated` is false.
  explicit TestDatabase(bool migrated = true);
  // Drops the database, closing whatever is still connected.
  ~TestDatabase();
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  const std::string& name() const { return name_; }
  // Connects as the table owner (superuser).
  std::string OwnerConninfo() const;
  // Connects as one of the service roles, e.g. "cf_catalog".
  std::string RoleConninfo(const std::string& role) const;

 private:
  std::string name_;
};

}  // namespace cf::testing

#endif  // CF_COMMON_TESTING_POSTGRES_H_
