#include "common/db/migrator.h"

#include <pqxx/pqxx>
#include <thread>

#include "common/testing/postgres.h"
#include "gtest/gtest.h"

namespace cf::db {
namespace {

std::vector<Migration> TwoMigrations() {
  return {{1, "0001_a.sql", "CREATE TABLE a (x INT);"},
          {2, "0002_b.sql", "CREATE TABLE b (y INT); INSERT INTO a VALUES (1);"}};
}

int Count(const std::string& conninfo, const std::string& sql) {
  pqxx::connection connection(conninfo);
  pqxx::nontransaction txn(connection);
  return txn.exec(sql)[0][0].as<int>();
}

TEST(MigratorTest, AppliesInOrderThenIsANoOp) {
  cf::testing::TestDatabase database(/*migrated=*/false);
  auto first = ApplyMigrations(database.OwnerConninfo(), TwoMigrations());
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->applied.size(), 2u);
  EXPECT_EQ(first->current_version, 2);
  auto second = ApplyMigrations(database.OwnerConninfo(), TwoMigrations());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->applied.empty());
  EXPECT_EQ(Count(database.OwnerConninfo(), "SELECT count(*) FROM a"), 1);
  EXPECT_EQ(CurrentSchemaVersion(database.OwnerConninfo()).value(), 2);
}

TEST(MigratorTest, RefusesAChangedAppliedFile) {
  cf::testing::TestDatabase database(false);
  ASSERT_TRUE(ApplyMigrations(database.OwnerConninfo(), {TwoMigrations()[0]}).ok());
  auto changed = TwoMigrations();
  changed[0].sql = "CREATE TABLE a (x BIGINT);";
  auto report = ApplyMigrations(database.OwnerConninfo(), changed);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(report.status().message().find("0001_a.sql"), absl::string_view::npos);
  // Nothing after the changed file was applied.
  EXPECT_EQ(CurrentSchemaVersion(database.OwnerConninfo()).value(), 1);
}

TEST(MigratorTest, AFailingFileLeavesNoTrace) {
  cf::testing::TestDatabase database(false);
  std::vector<Migration> migrations = {
      {1, "0001_a.sql", "CREATE TABLE a (x INT);"},
      {2, "0002_bad.sql", "CREATE TABLE c (z INT); SELECT no_such_function();"}};
  EXPECT_FALSE(ApplyMigrations(database.OwnerConninfo(), migrations).ok());
  EXPECT_EQ(CurrentSchemaVersion(database.OwnerConninfo()).value(), 1);
  EXPECT_EQ(Count(database.OwnerConninfo(), "SELECT count(*) FROM pg_tables WHERE tablename='c'"),
            0);
}

TEST(MigratorTest, ConcurrentRunsApplyEachFileOnce) {
  cf::testing::TestDatabase database(false);
  std::vector<absl::StatusOr<MigrationReport>> reports(4, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back(
        [&, i] { reports[i] = ApplyMigrations(database.OwnerConninfo(), TwoMigrations()); });
  }
  for (auto& thread : threads) thread.join();
  size_t applied = 0;
  for (const auto& report : reports) {
    ASSERT_TRUE(report.ok()) << report.status();
    applied += report->applied.size();
  }
  EXPECT_EQ(applied, 2u);
  EXPECT_EQ(Count(database.OwnerConninfo(), "SELECT count(*) FROM a"), 1);
}

TEST(MigratorTest, CreatesServiceRoles) {
  cf::testing::TestDatabase database(false);
  ASSERT_TRUE(ApplyMigrations(database.OwnerConninfo(), TwoMigrations()).ok());
  for (const std::string& role : ServiceRoles()) {
    EXPECT_EQ(Count(database.OwnerConninfo(),
                    "SELECT count(*) FROM pg_roles WHERE rolname = '" + role + "'"),
              1)
        << role;
  }
}

TEST(MigratorTest, SchemaCheckNamesBothVersions) {
  cf::testing::TestDatabase database(false);
  ASSERT_TRUE(ApplyMigrations(database.OwnerConninfo(), {TwoMigrations()[0]}).ok());
  EXPECT_TRUE(CheckSchemaVersion(database.OwnerConninfo(), 1).ok());
  absl::Status old = CheckSchemaVersion(database.OwnerConninfo(), 2);
  EXPECT_EQ(old.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(old.message().find("version 1"), absl::string_view::npos);
}

TEST(LoadMigrationsTest, ReadsTheProjectsFilesInOrder) {
  auto migrations = LoadMigrations(cf::testing::MigrationsDir());
  ASSERT_TRUE(migrations.ok()) << migrations.status();
  ASSERT_GE(migrations->size(), 2u);
  for (size_t i = 0; i < migrations->size(); ++i) {
    EXPECT_EQ((*migrations)[i].version, static_cast<int>(i) + 1);
  }
}

}  // namespace
}  // namespace cf::db
