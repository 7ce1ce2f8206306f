// The migrated schema: the seed's tables and queries, the fixes DESIGN.md lists, and the
// per-service write permissions.
#include <map>
#include <pqxx/pqxx>
#include <string>

#include "common/db/errors.h"
#include "common/db/migrator.h"
#include "common/testing/postgres.h"
#include "gtest/gtest.h"

namespace cf {
namespace {

class SchemaTest : public ::testing::Test {
 protected:
  // Runs sql as `role` (empty: the owner) and returns the SQLSTATE it failed with, "" on success.
  std::string Try(const std::string& sql, const std::string& role = "") {
    try {
      pqxx::connection connection(role.empty() ? database_.OwnerConninfo()
                                               : database_.RoleConninfo(role));
      pqxx::work txn(connection);
      txn.exec(sql);
      txn.commit();
      return "";
    } catch (const pqxx::sql_error& error) {
      return db::SqlState(error);
    }
  }

  pqxx::result Query(const std::string& sql) {
    pqxx::connection connection(database_.OwnerConninfo());
    pqxx::nontransaction txn(connection);
    return txn.exec(sql);
  }

  std::string InsertDossier(const std::string& slug) {
    return Query("INSERT INTO cf_product_dossiers (slug, name, price) VALUES ('" + slug +
                 "', 'Acne Patch', 12.50) RETURNING id")[0][0]
        .as<std::string>();
  }

  cf::testing::TestDatabase database_;
};

constexpr char kInsufficientPrivilege[] = "42501";

TEST_F(SchemaTest, MigratingAgainChangesNothing) {
  auto migrations = db::LoadMigrations(cf::testing::MigrationsDir());
  ASSERT_TRUE(migrations.ok());
  auto report = db::ApplyMigrations(database_.OwnerConninfo(), *migrations);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->applied.empty());
  EXPECT_EQ(report->current_version, static_cast<int>(migrations->size()));
}

TEST_F(SchemaTest, EverySeedTableExists) {
  for (const char* table :
       {"cf_product_dossiers", "cf_generated_images", "cf_generated_videos", "cf_scripts",
        "cf_assembled_content", "cf_published_content", "cf_performance_metrics",
        "cf_scoring_config", "cf_ab_tests", "cf_audit_log"}) {
    EXPECT_FALSE(Query(std::string("SELECT to_regclass('") + table + "') IS NULL")[0][0].as<bool>())
        << table;
  }
}

TEST_F(SchemaTest, CatalogRoleWritesDossiersButNotGenerationTables) {
  EXPECT_EQ(Try("INSERT INTO cf_product_dossiers (slug, name) VALUES ('a', 'A')", "cf_catalog"),
            "");
  std::string id = Query("SELECT id FROM cf_product_dossiers")[0][0].as<std::string>();
  EXPECT_EQ(Try("INSERT INTO cf_generated_images (dossier_id, type, prompt) VALUES ('" + id +
                    "', 'before', 'p')",
                "cf_catalog"),
            kInsufficientPrivilege);
  EXPECT_EQ(Try("SELECT count(*) FROM cf_generated_images", "cf_catalog"), "");
  EXPECT_EQ(Try("INSERT INTO cf_generated_images (dossier_id, type, prompt) VALUES ('" + id +
                    "', 'before', 'p')",
                "cf_generation"),
            "");
  EXPECT_EQ(Try("UPDATE cf_product_dossiers SET name = 'x'", "cf_generation"),
            kInsufficientPrivilege);
  EXPECT_EQ(Try("DELETE FROM cf_performance_metrics", "cf_publishing"), kInsufficientPrivilege);
}

TEST_F(SchemaTest, AuditLogIsWrittenOnlyByItsTrigger) {
  EXPECT_EQ(Try("INSERT INTO cf_product_dossiers (slug, name) VALUES ('a', 'A')", "cf_catalog"),
            "");
  EXPECT_EQ(Try("UPDATE cf_product_dossiers SET name = 'B'", "cf_catalog"), "");
  // The seed's trigger read NEW.id and broke every DELETE.
  EXPECT_EQ(Try("DELETE FROM cf_product_dossiers", "cf_catalog"), "");
  auto rows = Query(
      "SELECT action, old_data->>'name', new_data->>'name', user_id IS NOT NULL "
      "FROM cf_audit_log ORDER BY created_at, action DESC");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0][0].as<std::string>(), "INSERT");
  EXPECT_TRUE(rows[0][1].is_null());
  EXPECT_EQ(rows[0][2].as<std::string>(), "A");
  EXPECT_EQ(rows[1][0].as<std::string>(), "UPDATE");
  EXPECT_EQ(rows[1][1].as<std::string>(), "A");
  EXPECT_EQ(rows[1][2].as<std::string>(), "B");
  EXPECT_EQ(rows[2][0].as<std::string>(), "DELETE");
  EXPECT_EQ(rows[2][1].as<std::string>(), "B");
  EXPECT_TRUE(rows[2][2].is_null());
  EXPECT_TRUE(rows[2][3].as<bool>());
  for (const char* role : {"cf_catalog", "cf_analytics"}) {
    EXPECT_EQ(Try("INSERT INTO cf_audit_log (table_name, record_id, action) VALUES "
                  "('x', gen_random_uuid(), 'INSERT')",
                  role),
              kInsufficientPrivilege);
    EXPECT_EQ(Try("DELETE FROM cf_audit_log", role), kInsufficientPrivilege);
    EXPECT_EQ(Try("UPDATE cf_audit_log SET action = 'x'", role), kInsufficientPrivilege);
  }
}

TEST_F(SchemaTest, UpdatedAtIsMaintainedByTrigger) {
  InsertDossier("a");
  Query(
      "UPDATE cf_product_dossiers SET created_at = NOW() - interval '1 day', "
      "updated_at = NOW() - interval '1 day'");
  Query("UPDATE cf_product_dossiers SET name = 'changed'");
  EXPECT_TRUE(Query("SELECT updated_at > created_at + interval '1 hour' FROM "
                    "cf_product_dossiers")[0][0]
                  .as<bool>());
}

TEST_F(SchemaTest, ChecksRejectBadValues) {
  EXPECT_EQ(Try("INSERT INTO cf_product_dossiers (slug, name, status) VALUES ('a','A','gone')"),
            "23514");
  std::string id = InsertDossier("a");
  EXPECT_EQ(Try("INSERT INTO cf_scripts (dossier_id, awareness_level, hook, body, cta) VALUES ('" +
                id + "', 6, 'h', 'b', 'c')"),
            "23514");
  EXPECT_EQ(Try("INSERT INTO cf_generated_videos (dossier_id, type, prompt, aspect_ratio) "
                "VALUES ('" +
                id + "', 'demo', 'p', '2:1')"),
            "23514");
}

TEST_F(SchemaTest, ScriptCellsAreUniqueEvenWithoutSophistication) {
  std::string id = InsertDossier("a");
  std::string insert =
      "INSERT INTO cf_scripts (dossier_id, awareness_level, hook, body, cta) VALUES ('" + id +
      "', 2, 'h', 'b', 'c')";
  EXPECT_EQ(Try(insert), "");
  EXPECT_EQ(Try(insert), "23505");
  EXPECT_EQ(Query("SELECT full_script FROM cf_scripts")[0][0].as<std::string>(), "h\n\nb\n\nc");
}

TEST_F(SchemaTest, OnlyOneScoringConfigIsActive) {
  auto active = Query("SELECT name FROM cf_scoring_config WHERE active");
  ASSERT_EQ(active.size(), 1u);
  EXPECT_EQ(active[0][0].as<std::string>(), "Default");
  EXPECT_EQ(Query("SELECT count(*) FROM cf_scoring_config")[0][0].as<int>(), 3);
  EXPECT_EQ(Try("INSERT INTO cf_scoring_config (name, weights) VALUES ('x', '{}')"), "23505");
}

TEST_F(SchemaTest, EngagementAboveTenPerViewIsStored) {
  std::string id = InsertDossier("a");
  std::string published =
      Query("WITH ac AS (INSERT INTO cf_assembled_content (dossier_id, platform) VALUES ('" + id +
            "', 'tiktok') RETURNING id) INSERT INTO cf_published_content (assembled_content_id, "
            "platform) SELECT id, 'tiktok' FROM ac RETURNING id")[0][0]
          .as<std::string>();
  EXPECT_EQ(Try("INSERT INTO cf_performance_metrics (published_content_id, date, views, likes, "
                "comments, shares, saves, clicks) VALUES ('" +
                published + "', '2026-01-01', 10, 200, 50, 30, 20, 150)"),
            "");
  auto row = Query("SELECT engagement_rate::TEXT, ctr::TEXT FROM cf_performance_metrics");
  EXPECT_EQ(row[0][0].as<std::string>(), "30.0000");
  EXPECT_EQ(row[0][1].as<std::string>(), "15.0000");
}

TEST_F(SchemaTest, DeletingADossierCascadesAsTheSeedDefines) {
  std::string id = InsertDossier("a");
  Query(
      "INSERT INTO cf_scripts (dossier_id, awareness_level, market_sophistication, hook, body, "
      "cta) VALUES ('" +
      id + "', 1, 1, 'h', 'b', 'c')");
  Query("INSERT INTO cf_generated_images (dossier_id, type, prompt) VALUES ('" + id +
        "', 'after', 'p')");
  EXPECT_EQ(Try("DELETE FROM cf_product_dossiers", "cf_catalog"), "");
  EXPECT_EQ(Query("SELECT count(*) FROM cf_scripts")[0][0].as<int>(), 0);
  EXPECT_EQ(Query("SELECT count(*) FROM cf_generated_images")[0][0].as<int>(), 0);
}

// The seed's "Common Queries", verbatim, against the migrated schema.
TEST_F(SchemaTest, SeedCommonQueriesRunUnchanged) {
  std::string id = InsertDossier("a");
  pqxx::connection connection(database_.OwnerConninfo());
  pqxx::nontransaction txn(connection);
  auto overview = txn.exec_params(R"sql(
SELECT
  d.*,
  (SELECT COUNT(*) FROM cf_generated_images WHERE dossier_id = d.id) AS image_count,
  (SELECT COUNT(*) FROM cf_generated_videos WHERE dossier_id = d.id) AS video_count,
  (SELECT COUNT(*) FROM cf_scripts WHERE dossier_id = d.id) AS script_count,
  (SELECT COUNT(*) FROM cf_assembled_content WHERE dossier_id = d.id) AS assembled_count
FROM cf_product_dossiers d
WHERE d.id = $1;
)sql",
                                  id);
  ASSERT_EQ(overview.size(), 1u);
  EXPECT_EQ(overview[0]["image_count"].as<int>(), 0);

  EXPECT_NO_THROW(txn.exec(R"sql(
SELECT
  pc.id,
  pc.platform_url,
  s.awareness_level,
  SUM(pm.views) AS total_views,
  AVG(pm.engagement_rate) AS avg_engagement,
  AVG(pm.ctr) AS avg_ctr,
  SUM(pm.conversions) AS total_conversions
FROM cf_published_content pc
JOIN cf_performance_metrics pm ON pm.published_content_id = pc.id
JOIN cf_assembled_content ac ON ac.id = pc.assembled_content_id
JOIN cf_scripts s ON s.id = ac.script_id
GROUP BY pc.id, pc.platform_url, s.awareness_level
HAVING SUM(pm.views) > 1000
ORDER BY avg_engagement DESC
LIMIT 10;
)sql"));
  EXPECT_NO_THROW(txn.exec(R"sql(
SELECT id, dossier_id, type, created_at
FROM cf_generated_images
WHERE status = 'pending'
ORDER BY created_at ASC;
)sql"));
  EXPECT_NO_THROW(txn.exec(R"sql(
SELECT id, dossier_id, type, created_at
FROM cf_generated_videos
WHERE status = 'pending'
ORDER BY created_at ASC;
)sql"));
  EXPECT_NO_THROW(txn.exec(R"sql(
SELECT
  ac.id,
  d.name AS product_name,
  s.awareness_level,
  ac.platform,
  ac.final_video_url
FROM cf_assembled_content ac
JOIN cf_product_dossiers d ON d.id = ac.dossier_id
LEFT JOIN cf_scripts s ON s.id = ac.script_id
WHERE ac.status = 'ready'
  AND NOT EXISTS (
    SELECT 1 FROM cf_published_content pc
    WHERE pc.assembled_content_id = ac.id
  )
ORDER BY ac.created_at ASC;
)sql"));
}

// Applies the migrations before `version` to a fresh database.
void MigrateBefore(const cf::testing::TestDatabase& database, int version) {
  auto migrations = db::LoadMigrations(cf::testing::MigrationsDir());
  ASSERT_TRUE(migrations.ok()) << migrations.status();
  std::vector<db::Migration> before;
  for (const auto& migration : *migrations) {
    if (migration.version < version) before.push_back(migration);
  }
  ASSERT_TRUE(db::ApplyMigrations(database.OwnerConninfo(), before).ok());
}

void MigrateAll(const cf::testing::TestDatabase& database) {
  auto migrations = db::LoadMigrations(cf::testing::MigrationsDir());
  ASSERT_TRUE(migrations.ok()) << migrations.status();
  ASSERT_TRUE(db::ApplyMigrations(database.OwnerConninfo(), *migrations).ok());
}

// Migration 0005 on a database with jobs in every state: job_state follows status, and running
// jobs get a lease token of their own.
TEST(JobQueueMigrationTest, BackfillsTheQueueColumnsOfExistingJobs) {
  cf::testing::TestDatabase database(/*migrated=*/false);
  MigrateBefore(database, 5);
  {
    pqxx::connection connection(database.OwnerConninfo());
    pqxx::work txn(connection);
    std::string dossier = txn.exec(
                                 "INSERT INTO cf_product_dossiers (slug, name) VALUES ('m', "
                                 "'M') RETURNING id")[0][0]
                              .as<std::string>();
    txn.exec(
        "INSERT INTO cf_generated_images (dossier_id, type, prompt, status, attempts) "
        "SELECT '" +
        dossier +
        "', 'product', s, s, 1 FROM unnest(ARRAY['pending', "
        "'generating', 'completed', 'failed', 'cancelled']) AS s");
    txn.commit();
  }
  MigrateAll(database);
  pqxx::connection connection(database.OwnerConninfo());
  pqxx::nontransaction txn(connection);
  std::map<std::string, std::pair<std::string, int64_t>> by_status;
  for (const auto& row :
       txn.exec("SELECT status, job_state, lease_token FROM cf_generated_images")) {
    by_status[row[0].as<std::string>()] = {row[1].as<std::string>(), row[2].as<int64_t>()};
  }
  EXPECT_EQ(by_status["pending"].first, "queued");
  EXPECT_EQ(by_status["generating"].first, "running");
  EXPECT_EQ(by_status["completed"].first, "done");
  EXPECT_EQ(by_status["failed"].first, "failed");
  EXPECT_EQ(by_status["cancelled"].first, "cancelled");
  EXPECT_GT(by_status["generating"].second, 0);  // a token as if claimed now
  EXPECT_EQ(by_status["pending"].second, 0);
}

// Migration 0006 on assemblies in every status: a draft has no job; ready and published ones
// are done; one rendering (with no render snapshot to go on with) fails, saying why.
TEST(AssemblyJobsMigrationTest, BackfillsTheQueueColumnsOfExistingAssemblies) {
  cf::testing::TestDatabase database(/*migrated=*/false);
  MigrateBefore(database, 6);
  {
    pqxx::connection connection(database.OwnerConninfo());
    pqxx::work txn(connection);
    std::string dossier = txn.exec(
                                 "INSERT INTO cf_product_dossiers (slug, name) VALUES ('a', "
                                 "'A') RETURNING id")[0][0]
                              .as<std::string>();
    // The caption remembers the status each row had.
    txn.exec("INSERT INTO cf_assembled_content (dossier_id, platform, status, caption) SELECT '" +
             dossier +
             "', 'tiktok', s, s FROM unnest(ARRAY['draft', 'rendering', 'ready', 'published', "
             "'failed']) AS s");
    txn.commit();
  }
  MigrateAll(database);
  pqxx::connection connection(database.OwnerConninfo());
  pqxx::nontransaction txn(connection);
  std::map<std::string, std::vector<std::string>> was;
  for (const auto& row :
       txn.exec("SELECT caption, status, COALESCE(job_state, 'none'), COALESCE(last_error, '') "
                "FROM cf_assembled_content")) {
    was[row[0].as<std::string>()] = {row[1].as<std::string>(), row[2].as<std::string>(),
                                     row[3].as<std::string>()};
  }
  EXPECT_EQ(was["draft"][1], "none");
  EXPECT_EQ(was["ready"][1], "done");
  EXPECT_EQ(was["published"][0], "published");
  EXPECT_EQ(was["published"][1], "done");
  EXPECT_EQ(was["failed"][1], "failed");
  EXPECT_EQ(was["rendering"][0], "failed");
  EXPECT_EQ(was["rendering"][1], "failed");
  EXPECT_NE(was["rendering"][2].find("migration 0006"), std::string::npos);
  // The assembly service may take lease tokens and write its table.
  EXPECT_EQ(txn.exec("SELECT has_sequence_privilege('cf_assembly', 'cf_job_lease_tokens', "
                     "'USAGE') AND has_table_privilege('cf_assembly', 'cf_assembled_content', "
                     "'UPDATE')")[0][0]
                .as<bool>(),
            true);
}

}  // namespace
}  // namespace cf
