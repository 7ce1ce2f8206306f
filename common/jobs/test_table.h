// Tests' own job table: the queue's columns (as a service's migration adds them) on a table
// with a status column of its own words, a result column and an external job id.
#ifndef CF_COMMON_JOBS_TEST_TABLE_H_
#define CF_COMMON_JOBS_TEST_TABLE_H_

#include <pqxx/pqxx>
#include <string>

#include "common/jobs/queue.h"
#include "common/testing/postgres.h"
#include "gtest/gtest.h"

namespace cf::jobs {

inline void CreateTestTable(const std::string& owner_conninfo) {
  pqxx::connection connection(owner_conninfo);
  pqxx::work txn(connection);
  txn.exec(
      "CREATE TABLE test_jobs (id UUID PRIMARY KEY DEFAULT gen_random_uuid(), "
      "status TEXT NOT NULL DEFAULT 'waiting', output TEXT, external_id TEXT, "
      "job_state TEXT NOT NULL DEFAULT 'queued', lease_token BIGINT NOT NULL DEFAULT 0, "
      "attempts INTEGER NOT NULL DEFAULT 0, max_attempts INTEGER NOT NULL DEFAULT 3, "
      "next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT NOW(), next_poll_at TIMESTAMPTZ, "
      "lease_owner TEXT, lease_expires_at TIMESTAMPTZ, progress INTEGER NOT NULL DEFAULT 0, "
      "phase TEXT, last_error TEXT)");
  txn.exec(
      "CREATE TRIGGER notify_test_job AFTER INSERT OR UPDATE OF job_state ON test_jobs "
      "FOR EACH ROW WHEN (NEW.job_state = 'queued') EXECUTE FUNCTION cf_jobs_notify('test_jobs')");
  txn.commit();
}

// A test against test_jobs in a database of its own, with a few reads of the table.
class JobTableTest : public ::testing::Test {
 protected:
  JobTableTest() { CreateTestTable(database_.OwnerConninfo()); }

  pqxx::result Sql(const std::string& sql) {
    pqxx::connection connection(database_.OwnerConninfo());
    pqxx::nontransaction txn(connection);
    return txn.exec(sql);
  }
  std::string Insert() {
    return Sql("INSERT INTO test_jobs DEFAULT VALUES RETURNING id::text")[0][0].as<std::string>();
  }
  // A column of the first row, as text ("" for NULL, "<no row>" while the table is empty).
  std::string Column(const std::string& column) {
    pqxx::result rows = Sql("SELECT COALESCE(" + column + "::text, '') FROM test_jobs");
    return rows.empty() ? "<no row>" : rows[0][0].as<std::string>();
  }

  cf::testing::TestDatabase database_;
};

inline QueueSpec TestSpec() {
  QueueSpec spec;
  spec.table = "test_jobs";
  spec.kind = "test job";
  spec.channel = "test_jobs";
  spec.status_column = "status";
  spec.status_of = {{JobState::kQueued, "waiting"},
                    {JobState::kRunning, "working"},
                    {JobState::kDone, "finished"},
                    {JobState::kFailed, "broken"},
                    {JobState::kCancelled, "dropped"}};
  spec.external_job_column = "external_id";
  spec.claim_columns = "j.output";
  return spec;
}

}  // namespace cf::jobs

#endif  // CF_COMMON_JOBS_TEST_TABLE_H_
